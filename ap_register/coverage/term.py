"""Coverage over the term: each school week's count of pupils below full time, kept by the daily
checks, beside the coverage alerts raised and met that week.

A week's coverage is worked out whole (every pupil's bookings against the LA's school days), so
the page does not work it out again for each week of a term: the daily checks count the week of
the day they run (`keep_week`) and the last count of a week stands. The term is the two half
terms of the LA's term dates that hold today (autumn: those starting August to December; spring:
January to March; summer: April to July).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ap_register.clock import ENGLAND
from ap_register.coverage.alerts import COVERAGE_KINDS
from ap_register.coverage.rules import monday_of, week_coverage
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import calendar_for
from ap_register.domain.errors import CalendarUnknown
from ap_register.models import Alert, CoverageWeek, LocalAuthority, TermDate

TERMS = {"autumn": range(8, 13), "spring": range(1, 4), "summer": range(4, 8)}


def term_name(day: date) -> str:
    return next(name for name, months in TERMS.items() if day.month in months)


def keep_week(session: Session, la: LocalAuthority, on: date) -> CoverageWeek | None:
    """Count the week of `on` for the LA and keep the count (in place of an earlier one of the
    same week). None when the week has no school days or the LA's calendar does not reach it."""
    monday = monday_of(on)
    try:
        if not calendar_for(session, la).school_days(monday, monday + timedelta(days=4)):
            return None
        coverage = week_coverage(session, Actor.system(via="coverage-weeks"), la, monday, today=on)
    except CalendarUnknown:
        return None
    kept = session.scalar(select(CoverageWeek).where(CoverageWeek.la_id == la.id, CoverageWeek.week == monday))
    if kept is None:
        kept = CoverageWeek(la_id=la.id, week=monday)
        session.add(kept)
    kept.pupils = len(coverage.pupils)
    kept.below_full_time = sum("below_full_time" in p.flags for p in coverage.pupils)
    kept.no_provision = sum("no_provision" in p.flags for p in coverage.pupils)
    kept.overlapping = sum("overlap" in p.flags for p in coverage.pupils)
    kept.counted_on = on
    session.flush()
    return kept


@dataclass(frozen=True)
class TermWeek:
    monday: date
    counted: CoverageWeek | None  # None: not counted (before the register counted weeks)
    raised: int  # coverage alerts raised that week
    met: int  # coverage alerts resolved that week (by a person or the register)


@dataclass(frozen=True)
class Term:
    name: str
    first: date
    last: date
    weeks: list[TermWeek]

    @property
    def most_below(self) -> int:
        return max((w.counted.below_full_time for w in self.weeks if w.counted), default=0)


def term_of(session: Session, la: LocalAuthority, today: date) -> tuple[date, date] | None:
    """The first and last school day of the term (two half terms) that holds `today`, or the
    last term before it in a holiday; None when the LA keeps no term dates up to today."""
    halves = session.execute(
        select(TermDate.start_date, TermDate.end_date).where(TermDate.la_id == la.id).order_by(TermDate.start_date)
    ).all()
    begun = [h for h in halves if h.start_date <= today]
    if not begun:
        return None
    name, year = term_name(begun[-1].start_date), begun[-1].start_date.year
    same = [h for h in halves if term_name(h.start_date) == name and h.start_date.year == year]
    return min(h.start_date for h in same), max(h.end_date for h in same)


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ENGLAND)


def term_picture(session: Session, la: LocalAuthority, today: date) -> Term | None:
    """The weeks of the term so far (to this week), each with its kept count and the coverage
    alerts raised and met in it."""
    found = term_of(session, la, today)
    if found is None:
        return None
    first, last = found
    calendar = calendar_for(session, la)
    mondays = []
    monday = monday_of(first)
    while monday <= min(monday_of(last), monday_of(today)):
        if calendar.school_days(max(monday, first), min(monday + timedelta(days=4), last)):
            mondays.append(monday)
        monday += timedelta(days=7)
    if not mondays:
        return None
    counted = {
        w.week: w
        for w in session.scalars(
            select(CoverageWeek).where(CoverageWeek.la_id == la.id, CoverageWeek.week.between(mondays[0], mondays[-1]))
        )
    }

    def per_week(column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None]) -> dict[date, int]:
        rows = session.execute(
            select(column, func.count())
            .where(Alert.la_id == la.id, Alert.kind.in_(COVERAGE_KINDS), column.is_not(None))
            .where(column >= _instant(mondays[0]), column < _instant(mondays[-1] + timedelta(days=7)))
            .group_by(column)
        ).all()
        weeks: dict[date, int] = {}
        for at, n in rows:
            if at is None:
                continue
            local = at.astimezone(ENGLAND).date() if at.tzinfo else at.date()
            weeks[monday_of(local)] = weeks.get(monday_of(local), 0) + n
        return weeks

    raised, met = per_week(Alert.raised_at), per_week(Alert.resolved_at)
    return Term(
        term_name(first),
        first,
        last,
        [TermWeek(m, counted.get(m), raised.get(m, 0), met.get(m, 0)) for m in mondays],
    )
