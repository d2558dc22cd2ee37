"""Weekly coverage: sessions counted per date across every setting that shares a pupil."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from ap_register.coverage.rules import week_coverage
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import Destination, MovementKind, Registration, Route, SettingKind, Tier
from ap_register.placements.roll import read_roll, roll_movements, settings_on_roll
from ap_register.placements.rules import end_placement, record_roll_movement
from tests import factories
from tests.factories import SYSTEM

FULL_WEEK = date(2025, 11, 10)  # Monday: five school days
HALF_TERM = date(2025, 10, 27)  # Monday of the October half term
MAY_BANK_HOLIDAY_WEEK = date(2026, 5, 4)


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    return {
        "la": la,
        "school": factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High"),
        "pru": factories.setting(db, la, SettingKind.PRU, name="Riverside PRU"),
        "ap": factories.setting(db, la, SettingKind.INDEPENDENT_AP, name="Horizon School"),
        "farm": factories.setting(
            db, la, SettingKind.UNREGISTERED_AP, name="Hillside Farm", safeguarding_checks_confirmed=True
        ),
        "music": factories.setting(db, la, SettingKind.UNREGISTERED_AP, name="Beats Mentoring"),
    }


def excluded(db: Session, area: dict, on: date = date(2025, 10, 1)):  # type: ignore[no-untyped-def,type-arg]
    pupil = factories.pupil(db, area["la"], area["school"], on=date(2025, 9, 3))
    record_roll_movement(
        db, SYSTEM, pupil, MovementKind.PERMANENT_EXCLUSION, on, area["school"], reason="Assault", today=on
    )
    return pupil


def la_place(db: Session, pupil, where, sessions: str, route=Route.LA_EXCLUSION, start=date(2025, 10, 8), **kw):  # type: ignore[no-untyped-def]
    registration = (
        Registration.NONE if where.kind == SettingKind.UNREGISTERED_AP else kw.pop("registration", Registration.DUAL)
    )
    return factories.placement(
        db,
        pupil,
        where,
        route=route,
        registration=registration,
        sessions=sessions,
        start=start,
        tier=kw.pop("tier", Tier.TRANSITIONAL),
        **kw,
    )


def entry(db: Session, area: dict, pupil, week: date = FULL_WEEK):  # type: ignore[no-untyped-def,type-arg]
    coverage = week_coverage(db, SYSTEM, area["la"], week)
    found = [p for p in coverage.pupils if p.pupil.id == pupil.id]
    return coverage, (found[0] if found else None)


def test_six_sessions_in_a_full_week_are_below_full_time_with_the_four_gaps_named(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = excluded(db, area)
    la_place(db, pupil, area["ap"], "1111000000")
    la_place(db, pupil, area["farm"], "0000001100", route=Route.LA_OTHER)
    coverage, week = entry(db, area, pupil)
    assert coverage.required_sessions == 10
    assert week is not None
    assert week.as_json() == {
        "upn": pupil.upn,
        "planned_sessions": 6,
        "unregistered_sessions": 2,
        "flags": ["below_full_time"],
        "gaps": ["Wed AM", "Wed PM", "Fri AM", "Fri PM"],
        "overlaps": [],
    }


def test_in_a_half_term_week_nobody_is_flagged(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = excluded(db, area)
    la_place(db, pupil, area["ap"], "1111000000", start=date(2025, 10, 8))
    coverage, week = entry(db, area, pupil, HALF_TERM)
    assert coverage.required_sessions == 0
    assert all(p.flags == [] for p in coverage.pupils)
    assert week is not None and week.gaps == []


def test_a_bank_holiday_week_requires_fewer_sessions(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    coverage = week_coverage(db, SYSTEM, area["la"], MAY_BANK_HOLIDAY_WEEK)
    assert coverage.required_sessions == 8


def test_two_providers_in_the_same_session_overlap(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = factories.pupil(db, area["la"], area["school"])
    factories.placement(db, pupil, area["pru"], sessions="1111111111", start=date(2025, 10, 6))
    factories.placement(
        db,
        pupil,
        area["music"],
        route=Route.SCHOOL_ARRANGED,
        registration=Registration.NONE,
        sessions="0001000000",
        start=date(2025, 10, 6),
    )
    _, week = entry(db, area, pupil)
    assert week is not None
    assert week.flags == ["overlap"] and week.overlaps == ["Tue PM"]
    assert week.planned_sessions == 11 and week.gaps == []


def test_five_sessions_at_unregistered_providers_are_over_the_limit(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = excluded(db, area)
    la_place(db, pupil, area["farm"], "1111000000", route=Route.LA_OTHER)
    la_place(db, pupil, area["music"], "0000100000", route=Route.LA_OTHER)
    la_place(db, pupil, area["pru"], "0000011111", registration=Registration.DUAL)
    _, week = entry(db, area, pupil)
    assert week is not None
    assert week.unregistered_sessions == 5
    assert week.flags == ["unregistered_over_limit"]


def test_only_unregistered_provision(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = excluded(db, area)
    la_place(db, pupil, area["farm"], "1100110000", route=Route.LA_OTHER)
    _, week = entry(db, area, pupil)
    assert week is not None
    assert week.flags == ["below_full_time", "unregistered_only"]


def test_an_excluded_pupil_with_nothing_arranged_has_no_provision(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = excluded(db, area)
    _, week = entry(db, area, pupil)
    assert week is not None
    assert week.flags == ["no_provision", "below_full_time"] and len(week.gaps) == 10


def test_on_a_roll_with_no_arrangement_that_day_a_pupil_is_in_school(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = factories.pupil(db, area["la"], area["school"])
    # A direction that starts on the Wednesday of the week: Monday and Tuesday are at school.
    factories.placement(
        db, pupil, area["pru"], sessions="1111111111", start=date(2025, 11, 12), notice_date=date(2025, 11, 7)
    )
    _, week = entry(db, area, pupil)
    assert week is not None and week.flags == [] and week.planned_sessions == 10
    assert [c.providers for c in week.cells[:2]] == [["Meadow High"], ["Meadow High"]]
    assert [c.providers for c in week.cells[4:6]] == [["Riverside PRU"], ["Riverside PRU"]]


def test_a_part_time_timetable_is_flagged(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = factories.pupil(db, area["la"], area["school"])
    factories.placement(
        db,
        pupil,
        area["school"],
        route=Route.PART_TIME_TIMETABLE,
        registration=Registration.SOLE,
        sessions="1010101010",
        tier=None,
        start=date(2025, 11, 3),
        planned_end_date=date(2025, 12, 12),
    )
    _, week = entry(db, area, pupil)
    assert week is not None
    assert week.flags == ["below_full_time", "part_time_timetable"]
    assert week.gaps == ["Mon PM", "Tue PM", "Wed PM", "Thu PM", "Fri PM"]


def test_who_is_in_scope(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    at_school = factories.pupil(db, area["la"], area["school"])
    moved_away = excluded(db, area)
    placement = la_place(db, moved_away, area["pru"], "1111111111", start=date(2025, 10, 8))
    end_placement(db, SYSTEM, placement, end_date=date(2025, 10, 24), destination=Destination.MOVED_OUT_OF_AREA)
    too_old = excluded(db, area)
    too_old.date_of_birth = date(2008, 1, 1)
    reinstated = excluded(db, area)
    record_roll_movement(
        db, SYSTEM, reinstated, MovementKind.REINSTATED, date(2025, 10, 20), area["school"], today=date(2025, 11, 3)
    )
    still_out = excluded(db, area)
    coverage = week_coverage(db, SYSTEM, area["la"], FULL_WEEK)
    assert [p.pupil.id for p in coverage.pupils] == [still_out.id]
    assert at_school.id not in [p.pupil.id for p in coverage.pupils]


def test_a_week_must_start_on_a_monday(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(DomainError, match="is not a Monday"):
        week_coverage(db, SYSTEM, area["la"], date(2025, 11, 11))


def test_the_roll_on_a_day_read_in_bulk_is_the_ledgers(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    # Admitted to Meadow High on 3 September, permanently excluded on 1 October (and so still on
    # its roll while the exclusion is in process), admitted to a second school on 3 November; a
    # second pupil excluded and admitted elsewhere on the same day (the later movement stands).
    other = factories.setting(db, area["la"], SettingKind.MAINSTREAM, name="Brook Academy")
    moved = excluded(db, area)
    record_roll_movement(db, SYSTEM, moved, MovementKind.ADMITTED, date(2025, 11, 3), other, today=date(2025, 11, 3))
    same_day = excluded(db, area, on=date(2025, 10, 6))
    record_roll_movement(db, SYSTEM, same_day, MovementKind.ADMITTED, date(2025, 10, 6), other, today=date(2025, 10, 6))
    db.flush()
    days = [
        date(2025, 9, 1),
        date(2025, 9, 3),
        date(2025, 9, 30),
        date(2025, 10, 6),
        date(2025, 11, 3),
        date(2026, 6, 1),
    ]
    asked = [(pupil.id, day) for pupil in (moved, same_day) for day in days]
    school, brook = area["school"].id, other.id
    expected = [None, school, school, school, brook, brook] + [None, school, school, brook, brook, brook]
    histories = roll_movements(db, [moved.id, same_day.id, *range(10**6, 10**6 + 4_000)])
    assert [read_roll(histories[pupil_id]).on(day, None) for pupil_id, day in asked] == expected
    assert settings_on_roll(db, asked) == expected
