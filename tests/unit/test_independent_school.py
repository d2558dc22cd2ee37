"""The independent-school test at unregistered providers (Education Act 1996 s463(1)): counted
across every LA in the register, refused at every save with no override, alerted daily."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.coverage.alerts import findings, raise_alerts
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import Destination, Registration, Route, SenStatus, SettingKind, Tier
from ap_register.models import Alert, Placement
from ap_register.placements.independent_school import Attendance, first_met, reading_on
from ap_register.placements.rules import (
    PlacementDraft,
    assess_placement,
    correct_placement,
    end_placement,
    start_placement,
)
from ap_register.placements.settings import independent_school_reading
from tests import factories
from tests.factories import SYSTEM

THREE_DAYS = "1111110000"  # six sessions: full time by the register's reading of 18 hours a week
TWO_DAYS = "1111000000"
REASON = "Agreed at panel: a phased return after hospital, reviewed fortnightly"
BORN = date(2011, 6, 1)  # of compulsory school age throughout 2025/26


def attending(pupil_id: int, sessions: str = THREE_DAYS, start: date = date(2025, 9, 8), **fields) -> Attendance:  # type: ignore[no-untyped-def]
    return Attendance(pupil_id, fields.pop("born", BORN), start, fields.pop("end", None), sessions, **fields)


def test_five_full_time_pupils_of_compulsory_school_age_meet_the_test() -> None:
    four = [attending(n) for n in range(4)]
    assert not reading_on(four, date(2025, 9, 8)).met
    five = reading_on([*four, attending(4)], date(2025, 9, 8))
    assert five.met
    assert five.describe() == "5 pupils of compulsory school age full time (5 or more makes it an independent school)"


def test_part_time_pupils_those_over_compulsory_age_and_ended_placements_do_not_count() -> None:
    day = date(2025, 11, 3)
    others = [
        attending(0),
        attending(1),
        attending(2),
        attending(3, sessions=TWO_DAYS),  # part time
        attending(4, born=date(2009, 6, 1)),  # 16 and past the school leaving date
        attending(5, end=date(2025, 10, 24)),  # ended at half term
        attending(6, start=date(2025, 11, 10)),  # not yet started
    ]
    reading = reading_on(others, day)
    assert len(reading.full_time) == 3 and not reading.met


def test_two_part_time_placements_at_one_provider_add_up_for_one_pupil() -> None:
    halves = [attending(n, sessions="1111000000") for n in range(5)] + [
        attending(n, sessions="0000110000") for n in range(5)
    ]
    assert reading_on(halves, date(2025, 9, 8)).met


def test_one_looked_after_or_ehc_plan_pupil_full_time_is_enough() -> None:
    day = date(2025, 9, 8)
    assert reading_on([attending(1, looked_after=True)], day).met
    assert reading_on([attending(1, ehc_plan=True)], day).met
    assert not reading_on([attending(1, ehc_plan=True, sessions=TWO_DAYS)], day).met
    # SEN support counts only once CWSA 2026 s43 is in force, which it is not.
    assert not reading_on([attending(1, sen_support=True)], day).met


def test_the_first_day_the_test_is_met_is_when_a_later_placement_starts() -> None:
    found = [attending(n) for n in range(4)] + [attending(9, start=date(2026, 1, 5))]
    assert first_met(found, date(2025, 9, 8), date(2025, 12, 19)) is None
    met = first_met(found, date(2025, 9, 8), None)
    assert met is not None and met.day == date(2026, 1, 5)


@pytest.fixture()
def farm(db: Session):  # type: ignore[no-untyped-def]
    la = factories.la(db, "855")
    other_la = factories.la(db, "856")
    farm = factories.setting(
        db, la, SettingKind.UNREGISTERED_AP, name="Hillside Farm Project", safeguarding_checks_confirmed=True
    )
    schools = {la.id: factories.setting(db, la), other_la.id: factories.setting(db, other_la)}
    return {"la": la, "other_la": other_la, "farm": farm, "schools": schools}


def child(db: Session, area, authority=None, **fields):  # type: ignore[no-untyped-def]
    authority = authority or area["la"]
    return factories.pupil(db, authority, area["schools"][authority.id], date_of_birth=BORN, **fields)


def at_farm(area, sessions: str = THREE_DAYS, start: date = date(2025, 11, 3), **fields) -> PlacementDraft:  # type: ignore[no-untyped-def]
    return PlacementDraft(
        setting_id=area["farm"].id,
        route=Route.SCHOOL_ARRANGED,
        registration=Registration.NONE,
        sessions=sessions,
        start_date=start,
        tier=Tier.TIME_LIMITED,
        reintegration_plan="Back to the home school a day a week more each half term",
        unregistered_override_reason=REASON,
        **{"planned_end_date": date(2026, 2, 13), **fields},
    )


def test_the_fifth_full_time_pupil_is_refused_counting_another_las_pupils(db: Session, farm) -> None:  # type: ignore[no-untyped-def]
    first, _ = start_placement(db, SYSTEM, child(db, farm), at_farm(farm))
    for _ in range(2):
        start_placement(db, SYSTEM, child(db, farm), at_farm(farm))
    # The fourth is placed by another LA: the test counts every pupil the provider teaches.
    start_placement(db, SYSTEM, child(db, farm, farm["other_la"]), at_farm(farm))
    reading = independent_school_reading(db, farm["farm"], date(2025, 11, 3))
    assert reading is not None and len(reading.full_time) == 4 and not reading.met

    fifth = child(db, farm, first_name="Jordan", last_name="Fifth")
    refused = assess_placement(db, fifth, at_farm(farm))
    assert [e.message for e in refused.errors] == [
        "Hillside Farm Project is not a registered school. With Jordan Fifth there full time it would teach 5 pupils "
        "of compulsory school age full time (5 or more makes it an independent school) from 3 November 2025, and an "
        "institution that does must be registered as an independent school (Education Act 1996 s463(1)). Arrange "
        "fewer than 6 sessions a week there, or a place at a registered school"
    ]
    # Part time, the fifth is no part of the test.
    assert assess_placement(db, fifth, at_farm(farm, sessions=TWO_DAYS)).errors == []
    # Once one of the four has left, the fifth can start full time.
    end_placement(db, SYSTEM, first, end_date=date(2025, 12, 19), destination=Destination.RETURNED_HOME_SCHOOL)
    later = at_farm(farm, start=date(2026, 1, 5), planned_end_date=date(2026, 3, 27))
    assert assess_placement(db, fifth, later).errors == []


def test_a_looked_after_child_full_time_at_an_unregistered_provider_is_refused(db: Session, farm) -> None:  # type: ignore[no-untyped-def]
    looked_after = child(db, farm, looked_after=True, first_name="Casey", last_name="Care")
    errors = [e.message for e in assess_placement(db, looked_after, at_farm(farm)).errors]
    assert len(errors) == 1 and "1 of them looked after or with an EHC plan" in errors[0]
    with_plan = child(db, farm, sen_status=SenStatus.EHCP)
    assert assess_placement(db, with_plan, at_farm(farm)).errors
    assert assess_placement(db, with_plan, at_farm(farm, sessions=TWO_DAYS)).errors == []


def test_the_daily_checks_alert_each_la_whose_pupils_are_there_without_naming_them(db: Session, farm) -> None:  # type: ignore[no-untyped-def]
    placed = child(db, farm, first_name="Riley", last_name="Later")
    start_placement(db, SYSTEM, placed, at_farm(farm))
    # Another LA's pupil, part time: that LA is told too.
    start_placement(db, SYSTEM, child(db, farm, farm["other_la"]), at_farm(farm, sessions=TWO_DAYS))
    assert not [f for f in findings(db, farm["la"], date(2025, 11, 10)) if f.kind == "independent_school_threshold"]
    placed.looked_after = True  # taken into care after the placement began
    db.flush()
    for authority in (farm["la"], farm["other_la"]):
        found = [f for f in findings(db, authority, date(2025, 11, 10)) if f.kind == "independent_school_threshold"]
        assert [f.message for f in found] == [
            "Hillside Farm Project is not a registered school but teaches 1 pupil of compulsory school age full time, "
            "1 of them looked after or with an EHC plan (one such pupil is enough to make it an independent school) "
            "(Education Act 1996 s463(1)): it must register, or the pupils' provision must change."
        ]
    # Each LA keeps its own alert of the provider: the daily job raises both.
    for authority in (farm["la"], farm["other_la"]):
        raise_alerts(db, authority, date(2025, 11, 10))
    db.flush()
    stored = db.scalars(select(Alert).where(Alert.kind == "independent_school_threshold")).all()
    assert sorted(a.la_id for a in stored) == sorted([farm["la"].id, farm["other_la"].id])
    # An LA with no pupils there and whose area it is not in hears nothing.
    elsewhere = factories.la(db, "857")
    assert not [f for f in findings(db, elsewhere, date(2025, 11, 10)) if f.kind == "independent_school_threshold"]


def test_a_correction_of_sessions_is_no_way_round_the_test(db: Session, farm) -> None:  # type: ignore[no-untyped-def]
    looked_after = child(db, farm, looked_after=True)
    placement, _ = start_placement(db, SYSTEM, looked_after, at_farm(farm, sessions=TWO_DAYS))
    db.commit()
    with pytest.raises(DomainError) as refused:
        correct_placement(db, SYSTEM, placement, {"sessions": THREE_DAYS}, "Recorded as two days; it is three")
    assert "must be registered as an independent school" in refused.value.errors[0].message
    db.rollback()
    assert db.get(Placement, placement.id).sessions == TWO_DAYS  # type: ignore[union-attr]


def test_a_placement_that_meets_the_test_since_can_still_have_its_dates_corrected(db: Session, farm) -> None:  # type: ignore[no-untyped-def]
    placed = child(db, farm)
    placement, _ = start_placement(db, SYSTEM, placed, at_farm(farm))
    placed.looked_after = True  # taken into care after the placement began: the daily checks alert
    db.flush()
    correct_placement(db, SYSTEM, placement, {"start_date": date(2025, 11, 4)}, "It began a day later")
    assert placement.start_date == date(2025, 11, 4)
