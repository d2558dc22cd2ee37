"""Alerts on the statutory clocks, counted in school days, and their life as stored alerts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.coverage.alerts import acknowledge, findings, raise_alerts, resolve
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import MovementKind, Registration, Role, Route, SettingKind, Tier
from ap_register.models import Alert
from ap_register.placements.rules import record_roll_movement, request_review, review_placement
from tests import factories
from tests.factories import SYSTEM


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    return {
        "la": la,
        "school": factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High"),
        "pru": factories.setting(db, la, SettingKind.PRU, name="Riverside PRU"),
        "farm": factories.setting(db, la, SettingKind.UNREGISTERED_AP, name="Hillside Farm"),
    }


def kinds(db: Session, area: dict, on: date) -> list[tuple[str, str, str | None]]:  # type: ignore[type-arg]
    return [(f.kind, f.due.isoformat(), f.pupil.upn if f.pupil else None) for f in findings(db, area["la"], on)]


def exclude(db: Session, area: dict, on: date):  # type: ignore[no-untyped-def,type-arg]
    pupil = factories.pupil(db, area["la"], area["school"], on=date(2025, 9, 3))
    record_roll_movement(
        db, SYSTEM, pupil, MovementKind.PERMANENT_EXCLUSION, on, area["school"], reason="Assault", today=on
    )
    return pupil


def test_sixth_day_after_an_exclusion_on_the_thursday_before_half_term(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = exclude(db, area, date(2025, 10, 23))
    # Thursday 23 October is day 1, Friday day 2; half term; Monday 3 to Thursday 6 November.
    assert kinds(db, area, date(2025, 10, 24)) == [
        ("below_full_time", "2025-10-23", pupil.upn),  # Thursday and Friday with nothing arranged
        ("sixth_day_provision", "2025-11-06", pupil.upn),
    ]
    before = next(f for f in findings(db, area["la"], date(2025, 11, 5)) if f.kind == "sixth_day_provision")
    assert before.message.endswith(
        "The LA must provide full-time education from the sixth school day, 6 November 2025: nothing full-time is "
        "arranged for that day yet."
    )
    found = next(f for f in findings(db, area["la"], date(2025, 11, 7)) if f.kind == "sixth_day_provision")
    assert found.message.endswith(
        "2 school days of the duty in the last four school weeks had no full-time education (from 6 November "
        "2025). One session a day does not meet it."
    )
    assert found.setting is not None and found.setting.ref == area["school"].ref


def la_place(db: Session, area: dict, pupil, start: date, sessions: str = "1" * 10):  # type: ignore[no-untyped-def,type-arg]
    return factories.placement(
        db,
        pupil,
        area["pru"],
        route=Route.LA_EXCLUSION,
        registration=Registration.DUAL,
        tier=Tier.TRANSITIONAL,
        start=start,
        sessions=sessions,
    )


def sixth_days(db: Session, area: dict, on: date, kind: str = "sixth_day_provision") -> list[str]:  # type: ignore[type-arg]
    return [f.message for f in findings(db, area["la"], on) if f.kind == kind]


def test_full_time_provision_from_the_sixth_day_meets_the_duty(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = exclude(db, area, date(2025, 10, 23))
    la_place(db, area, pupil, date(2025, 11, 6))
    assert sixth_days(db, area, date(2025, 11, 5)) == []  # arranged for the sixth day: nothing to warn of
    assert sixth_days(db, area, date(2025, 11, 10)) == []


def test_mornings_only_do_not_meet_the_duty(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = exclude(db, area, date(2025, 10, 23))
    la_place(db, area, pupil, date(2025, 11, 6), sessions="1010101010")
    (message,) = sixth_days(db, area, date(2025, 11, 10))
    assert "3 school days of the duty" in message and "from 6 November 2025" in message


def test_provision_that_starts_late_keeps_the_alert_for_four_school_weeks(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = exclude(db, area, date(2025, 10, 23))
    la_place(db, area, pupil, date(2025, 11, 10))
    (message,) = sixth_days(db, area, date(2025, 11, 12))
    assert "2 school days of the duty" in message  # Thursday 6 and Friday 7 November
    # Twenty school days on from the last day missed, the alert stands no more.
    assert sixth_days(db, area, date(2025, 12, 5)) != [] and sixth_days(db, area, date(2025, 12, 8)) == []


def test_the_duty_ends_on_reinstatement(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = exclude(db, area, date(2025, 10, 23))
    record_roll_movement(
        db, SYSTEM, pupil, MovementKind.REINSTATED, date(2025, 11, 6), area["school"], today=date(2025, 11, 6)
    )
    assert sixth_days(db, area, date(2025, 11, 12)) == []


def test_year_11_after_their_exams_is_excepted(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """SI 2007/1870 reg 5(2)(a): in Year 11, all public examinations taken or missed."""
    pupil = factories.pupil(db, area["la"], area["school"], on=date(2025, 9, 3))
    pupil.date_of_birth = date(2010, 1, 15)  # Year 11 in 2025/26
    pupil.exams_over_on = date(2026, 6, 19)
    record_roll_movement(
        db,
        SYSTEM,
        pupil,
        MovementKind.PERMANENT_EXCLUSION,
        date(2026, 6, 15),
        area["school"],
        reason="x",
        today=date(2026, 6, 15),
    )
    # Day 6 is Monday 22 June, after the last exam: no duty at all.
    assert sixth_days(db, area, date(2026, 6, 23)) == []
    pupil.exams_over_on = date(2026, 6, 24)
    (message,) = sixth_days(db, area, date(2026, 6, 26))
    assert "3 school days of the duty" in message  # 22 to 24 June, the day of the last exam; not 25 June


def suspend(db: Session, area: dict, pupil, first: date, days: int) -> None:  # type: ignore[no-untyped-def,type-arg]
    record_roll_movement(
        db, SYSTEM, pupil, MovementKind.SUSPENSION, first, area["school"], days=days, reason="Fighting", today=first
    )


def test_a_suspension_past_its_fifth_day_is_the_schools_duty(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = factories.pupil(db, area["la"], area["school"], on=date(2025, 9, 3))
    suspend(db, area, pupil, date(2025, 11, 10), 5)  # Monday to Friday: no sixth day
    assert sixth_days(db, area, date(2025, 11, 14), "suspension_sixth_day") == []
    other = factories.pupil(db, area["la"], area["school"], on=date(2025, 9, 3))
    suspend(db, area, other, date(2025, 11, 10), 8)  # Monday 10 to Wednesday 19 November
    (message,) = sixth_days(db, area, date(2025, 11, 18), "suspension_sixth_day")
    assert message == (
        "Suspended from Meadow High from 10 November 2025 for 8 consecutive school days. The school must provide "
        "full-time education from the sixth school day, 17 November 2025: 2 school days of the duty in the last "
        "four school weeks had no full-time education (from 17 November 2025). One session a day does not meet it."
    )


def test_back_to_back_suspensions_count_as_one_period(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """SI 2007/1870 reg 3(3) as amended: the sixth consecutive school day of exclusion, "regardless
    of whether the pupil has been excluded for a single fixed period or more than one"."""
    pupil = factories.pupil(db, area["la"], area["school"], on=date(2025, 9, 3))
    suspend(db, area, pupil, date(2025, 11, 12), 3)  # Wednesday to Friday
    suspend(db, area, pupil, date(2025, 11, 17), 3)  # Monday to Wednesday: days 4 to 6
    (message,) = sixth_days(db, area, date(2025, 11, 20), "suspension_sixth_day")
    assert "for 6 consecutive school days" in message and "sixth school day, 19 November 2025" in message
    # The school's provision for the sixth day meets it.
    factories.placement(
        db,
        pupil,
        area["pru"],
        route=Route.SUSPENSION_PROVISION,
        registration=Registration.DUAL,
        tier=Tier.TIME_LIMITED,
        start=date(2025, 11, 19),
        planned_end_date=date(2025, 11, 19),
    )
    assert sixth_days(db, area, date(2025, 11, 20), "suspension_sixth_day") == []
    # A gap of a school day between two suspensions makes two periods, neither reaching a sixth day.
    apart = factories.pupil(db, area["la"], area["school"], on=date(2025, 9, 3))
    suspend(db, area, apart, date(2025, 11, 10), 3)
    suspend(db, area, apart, date(2025, 11, 14), 3)
    assert [m for m in sixth_days(db, area, date(2025, 11, 20), "suspension_sixth_day")] == []


def part_time(db: Session, area: dict, pupil, planned_end_date: date):  # type: ignore[no-untyped-def,type-arg]
    """Mornings only at the home school from Monday 8 September 2025."""
    return factories.placement(
        db,
        pupil,
        area["school"],
        route=Route.PART_TIME_TIMETABLE,
        registration=Registration.SOLE,
        tier=None,
        sessions="1111100000",
        start=date(2025, 9, 8),
        planned_end_date=planned_end_date,
    )


def test_late_notice_planned_end_review_and_part_time_timetable(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    late = factories.pupil(db, area["la"], area["school"])
    factories.placement(
        db,
        late,
        area["pru"],
        start=date(2025, 11, 5),
        notice_date=date(2025, 11, 4),
        planned_end_date=date(2025, 11, 28),
    )
    part = factories.pupil(db, area["la"], area["school"])
    part_time(db, area, part, planned_end_date=date(2026, 3, 1))
    found = kinds(db, area, date(2025, 12, 1))
    assert ("off_site_notice_late", "2025-11-05", late.upn) in found
    assert ("planned_end_passed", "2025-11-28", late.upn) in found
    # 30 school days after a part-time timetable began on 8 September: the 31st school day.
    assert ("part_time_timetable_open", "2025-10-20", part.upn) in found
    # Reviews: 30 school days from the start on 8 September, the review was due on 17 October.
    assert ("review_overdue", "2025-10-20", part.upn) in found


def test_a_part_time_timetable_s_limit_counts_from_its_last_agreed_end(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    part = factories.pupil(db, area["la"], area["school"])
    timetable = part_time(db, area, part, planned_end_date=date(2025, 10, 17))
    # Reviewed with the pupil and parents on its agreed end, and extended to 5 December: an
    # extension is a recorded review, and the LA's 30 school days count again from the old end.
    review_placement(
        db,
        factories.SYSTEM,
        timetable,
        review_date=date(2025, 10, 17),
        notes="Mornings going well; add two afternoons after half term",
        planned_end_date=date(2025, 12, 5),
        pupil_took_part=True,
        parents_took_part=True,
        today=date(2025, 10, 17),
    )
    assert timetable.reviews[-1].extended_from == date(2025, 10, 17)
    assert [k for k in kinds(db, area, date(2025, 11, 3)) if k[0] == "part_time_timetable_open"] == []
    # From Monday 20 October (after the old end), the 31st school day is 8 December.
    found = [k for k in kinds(db, area, date(2025, 12, 8)) if k[0] == "part_time_timetable_open"]
    assert found == [("part_time_timetable_open", "2025-12-08", part.upn)]


def test_a_review_clears_the_overdue_alert(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = factories.pupil(db, area["la"], area["school"])
    placement = factories.placement(db, pupil, area["pru"], start=date(2025, 9, 8), notice_date=date(2025, 9, 3))
    assert any(k[0] == "review_overdue" for k in kinds(db, area, date(2025, 11, 3)))
    review_placement(db, SYSTEM, placement, review_date=date(2025, 11, 3), notes="Going well", today=date(2025, 11, 3))
    assert not any(k[0] == "review_overdue" for k in kinds(db, area, date(2025, 11, 4)))


def test_an_unregistered_provider_in_use_without_its_checks(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = factories.pupil(db, area["la"], area["school"])
    factories.placement(
        db,
        pupil,
        area["farm"],
        route=Route.SCHOOL_ARRANGED,
        registration=Registration.NONE,
        sessions="1100000000",
        start=date(2025, 11, 3),
    )
    found = [f for f in findings(db, area["la"], date(2025, 11, 4)) if f.kind == "unregistered_checks_overdue"]
    assert len(found) == 1 and found[0].pupil is None and found[0].setting is not None
    assert "No written confirmation of staff safeguarding checks" in found[0].message


def test_stored_alerts_are_raised_once_resolved_when_they_go_and_kept_when_a_person_resolves_them(
    db: Session,
    area: dict,  # type: ignore[type-arg]
) -> None:
    pupil = exclude(db, area, date(2025, 10, 23))
    first = raise_alerts(db, area["la"], date(2025, 11, 3))
    again = raise_alerts(db, area["la"], date(2025, 11, 4))
    stored = db.scalars(select(Alert).where(Alert.kind == "sixth_day_provision")).all()
    assert (first.raised, again.raised, len(stored)) == (2, 0, 1)  # sixth day, and below full time
    officer = factories.user(db, Role.ATTENDANCE_OFFICER, area["la"])
    actor = Actor(user=officer, via="test")
    acknowledge(db, actor, stored[0], "Tuition being arranged by phone")
    assert (stored[0].status, stored[0].acknowledgement_note) == ("acknowledged", "Tuition being arranged by phone")
    with pytest.raises(DomainError, match="The alert was not resolved"):
        resolve(db, actor, stored[0], "done", today=date(2025, 11, 4))
    # Not while the register still finds no provision: it says so, and changes nothing.
    with pytest.raises(DomainError) as refused:
        resolve(db, actor, stored[0], "Tuition arranged by phone from 5 November", today=date(2025, 11, 4))
    assert refused.value.errors[0].message.startswith("The register still finds this on 4 November 2025: ")
    assert refused.value.errors[0].message.endswith(
        "It resolves the alert itself once that changes; acknowledge it meanwhile"
    )
    assert stored[0].status == "acknowledged"
    # Provision arranged: the below-full-time finding goes, and a person may resolve it at once
    # (the register keeps their resolution); the sixth-day shortfall stays in its four weeks.
    factories.placement(
        db,
        pupil,
        area["pru"],
        route=Route.LA_EXCLUSION,
        registration=Registration.DUAL,
        tier=Tier.TRANSITIONAL,
        start=date(2025, 11, 10),
    )
    below = db.scalars(select(Alert).where(Alert.kind == "below_full_time")).one()
    resolve(db, actor, below, "Full-time place at the PRU from 10 November", today=date(2025, 11, 11))
    result = raise_alerts(db, area["la"], date(2025, 11, 11))
    assert result.resolved == 0 and below.status == "resolved" and below.resolved_by_id == officer.id
    assert stored[0].status == "acknowledged"


def test_alerts_are_given_to_a_person_and_acknowledged_together(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    from ap_register.coverage.alerts import acknowledge_many, assign

    exclude(db, area, date(2025, 10, 23))
    raise_alerts(db, area["la"], date(2025, 11, 3))
    alerts = db.scalars(select(Alert).order_by(Alert.id)).all()
    officer = factories.user(db, Role.ATTENDANCE_OFFICER, area["la"])
    actor = Actor(user=officer, via="test")
    assign(db, actor, alerts[0], officer)
    assert alerts[0].assigned_to_id == officer.id
    # Nobody outside the LA's people can be given it.
    elsewhere = factories.user(db, Role.ATTENDANCE_OFFICER, factories.la(db, "856"))
    with pytest.raises(DomainError, match="The alert was not given"):
        assign(db, actor, alerts[0], elsewhere)
    with pytest.raises(DomainError, match="No alert was acknowledged"):
        acknowledge_many(db, actor, [])
    assert acknowledge_many(db, actor, list(alerts), "Both being handled") == len(alerts) == 2
    assert {a.status for a in alerts} == {"acknowledged"}
    # Sent again, none is open: nothing changes.
    with pytest.raises(DomainError, match="No alert was acknowledged"):
        acknowledge_many(db, actor, list(alerts))


def test_coverage_alerts_stay_through_a_half_term(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    exclude(db, area, date(2025, 10, 1))
    raise_alerts(db, area["la"], date(2025, 10, 20))
    raise_alerts(db, area["la"], date(2025, 10, 28))  # half term: no week to judge
    below = db.scalars(select(Alert).where(Alert.kind == "below_full_time")).one()
    assert below.status == "open"


def test_a_place_on_a_pru_s_roll_meets_the_duty_and_does_not_end_it(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """s19(3A)(a) Education Act 1996: the LA's duty lasts until the pupil is admitted to a school
    other than a pupil referral unit; a pupil on a PRU's roll is taught there full time."""
    pupil = exclude(db, area, date(2025, 10, 23))
    record_roll_movement(
        db, SYSTEM, pupil, MovementKind.ADMITTED, date(2025, 11, 6), area["pru"], today=date(2025, 11, 6)
    )
    assert sixth_days(db, area, date(2025, 11, 12)) == []
    late = exclude(db, area, date(2025, 10, 23))
    record_roll_movement(
        db, SYSTEM, late, MovementKind.ADMITTED, date(2025, 11, 10), area["pru"], today=date(2025, 11, 10)
    )
    (message,) = sixth_days(db, area, date(2025, 11, 12))
    assert "2 school days of the duty" in message  # 6 and 7 November, before the PRU took them


def test_no_alert_counts_days_past_the_recorded_term_dates(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """In the summer after the last recorded term, the alert stands as it did on the last school day."""
    pupil = exclude(db, area, date(2027, 7, 12))
    assert [
        f.pupil.id for f in findings(db, area["la"], date(2027, 8, 20)) if f.kind == "sixth_day_provision" and f.pupil
    ] == [pupil.id]


def test_a_requested_review_of_an_off_site_direction_is_alerted_until_held(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = factories.pupil(db, area["la"], area["school"], first_name="Ruby", last_name="Asks")
    direction = factories.placement(db, pupil, area["pru"], start=date(2025, 10, 6))

    def requested(on: date) -> list:  # type: ignore[type-arg]
        return [f for f in findings(db, area["la"], on) if f.kind == "review_requested"]

    # Only the LA that maintains an EHC plan may ask, besides the parent.
    with pytest.raises(DomainError) as refused:
        request_review(
            db, SYSTEM, direction, requested_on=date(2025, 11, 3), requested_by="la", today=date(2025, 11, 3)
        )
    assert "has no EHC plan recorded" in refused.value.errors[0].message
    asked = request_review(
        db, SYSTEM, direction, requested_on=date(2025, 11, 3), requested_by="parent", today=date(2025, 11, 3)
    )
    assert asked.required
    (found,) = requested(date(2025, 11, 5))
    assert found.due == date(2025, 11, 3) and found.message.startswith(
        "The parent (or the pupil, at 18) asked in writing on 3 November 2025 for a review meeting"
    )
    review_placement(
        db,
        SYSTEM,
        direction,
        review_date=date(2025, 11, 10),
        notes="Reviewed with the family at their request",
        parents_took_part=True,
        today=date(2025, 11, 10),
    )
    assert requested(date(2025, 11, 12)) == []
    # Asked again within 10 weeks of that meeting: no review is required, and nothing is alerted.
    again = request_review(
        db, SYSTEM, direction, requested_on=date(2026, 1, 12), requested_by="parent", today=date(2026, 1, 12)
    )
    assert not again.required and requested(date(2026, 1, 14)) == []
    # Ten weeks on from the meeting, a request requires one again.
    later = request_review(
        db, SYSTEM, direction, requested_on=date(2026, 1, 26), requested_by="parent", today=date(2026, 1, 26)
    )
    assert later.required and [f.due for f in requested(date(2026, 1, 27))] == [date(2026, 1, 26)]
