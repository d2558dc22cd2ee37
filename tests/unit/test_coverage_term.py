"""Coverage over the term: each week's count kept by the daily checks, the same as the week's
coverage page says, once per week; the term's weeks with the coverage alerts raised and met."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.coverage.rules import week_coverage
from ap_register.coverage.term import keep_week, term_of, term_picture
from ap_register.domain.actors import Actor
from ap_register.models import Alert, CoverageWeek


def test_a_week_is_kept_as_its_coverage_counts_it_and_counted_again_in_place(
    db: Session, world: dict[str, Any]
) -> None:
    la = world["home"]["la"]
    kept = keep_week(db, la, date(2025, 11, 12))
    assert kept is not None and kept.week == date(2025, 11, 10)
    coverage = week_coverage(db, Actor.system(via="test"), la, date(2025, 11, 10), today=date(2025, 11, 12))
    assert kept.pupils == len(coverage.pupils) > 0
    assert kept.below_full_time == sum("below_full_time" in p.flags for p in coverage.pupils)
    assert kept.no_provision == sum("no_provision" in p.flags for p in coverage.pupils)
    # The next day's count of the same week replaces it.
    again = keep_week(db, la, date(2025, 11, 14))
    assert again is not None and again.id == kept.id and again.counted_on == date(2025, 11, 14)
    assert db.scalar(select(func.count()).select_from(CoverageWeek)) == 1
    # Half term has no school days: nothing to count.
    assert keep_week(db, la, date(2025, 10, 29)) is None


def test_the_term_is_its_two_half_terms_and_a_holiday_shows_the_term_before(db: Session, world: dict[str, Any]) -> None:
    la = world["home"]["la"]
    assert term_of(db, la, date(2025, 11, 20)) == (date(2025, 9, 3), date(2025, 12, 19))
    assert term_of(db, la, date(2025, 10, 29)) == (date(2025, 9, 3), date(2025, 12, 19))
    assert term_of(db, la, date(2026, 3, 2)) == (date(2026, 1, 5), date(2026, 3, 27))
    assert term_of(db, la, date(2025, 8, 10)) == (date(2025, 4, 22), date(2025, 7, 22))  # the summer holiday


def test_the_term_s_weeks_hold_their_counts_and_the_coverage_alerts_raised_and_met(
    db: Session, world: dict[str, Any]
) -> None:
    la = world["home"]["la"]
    keep_week(db, la, date(2025, 11, 14))

    def alert(kind: str, raised: datetime, resolved: datetime | None) -> None:
        db.add(
            Alert(
                la_id=la.id,
                kind=kind.split(":")[0],
                key=f"{kind}:{raised.isoformat()}",
                due=raised.date(),
                message="m",
                last_found_on=raised.date(),
                raised_at=raised,
                resolved_at=resolved,
                status="resolved" if resolved else "open",
            )
        )

    alert("below_full_time", datetime(2025, 11, 10, 6, tzinfo=UTC), datetime(2025, 11, 17, 6, tzinfo=UTC))
    alert("below_full_time:again", datetime(2025, 11, 11, 6, tzinfo=UTC), None)
    alert("budget_over_plan", datetime(2025, 11, 11, 6, tzinfo=UTC), None)  # not coverage: not counted
    # Sunday night in England is still Sunday: the week before.
    alert("below_full_time", datetime(2025, 11, 9, 23, 30, tzinfo=UTC), None)
    # In summer time 23:30 UTC on a Sunday is already Monday in England: that Monday's week.
    alert("below_full_time:summer", datetime(2025, 9, 7, 23, 30, tzinfo=UTC), None)
    db.flush()

    term = term_picture(db, la, date(2025, 11, 20))
    assert term is not None and term.name == "autumn"
    mondays = [w.monday for w in term.weeks]
    # From the term's first week to this one, half term left out (no school days).
    assert mondays[0] == date(2025, 9, 1) and mondays[-1] == date(2025, 11, 17)
    assert date(2025, 10, 27) not in mondays and len(mondays) == 11
    by = {w.monday: w for w in term.weeks}
    assert by[date(2025, 11, 10)].counted is not None
    assert by[date(2025, 11, 3)].counted is None  # before the checks counted weeks
    assert (by[date(2025, 11, 10)].raised, by[date(2025, 11, 10)].met) == (2, 0)
    assert (by[date(2025, 11, 3)].raised, by[date(2025, 11, 17)].met) == (1, 1)
    assert by[date(2025, 9, 8)].raised == 1
    assert sum(w.raised for w in term.weeks) == 4
    assert term.weeks[-1].monday + timedelta(days=7) > date(2025, 11, 20)
