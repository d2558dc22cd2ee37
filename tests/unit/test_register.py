"""Placements and the movement ledger: coherence, derived codes, lifecycle, roll changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden
from ap_register.domain.vocab import (
    Destination,
    HomeSchoolCode,
    MovementKind,
    Registration,
    Role,
    Route,
    SenStatus,
    SettingKind,
    Tier,
)
from ap_register.models import Movement
from ap_register.placements.roll import reading_of, refresh_rolls
from ap_register.placements.rules import (
    PlacementDraft,
    arrangements_on,
    assess_placement,
    correct_placement,
    end_placement,
    home_school_code,
    ledger_mismatches,
    record_roll_movement,
    review_placement,
    start_placement,
)
from tests import factories
from tests.factories import SYSTEM


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High School")
    pru = factories.setting(db, la, SettingKind.PRU, name="Riverside PRU")
    farm = factories.setting(
        db, la, SettingKind.UNREGISTERED_AP, name="Hillside Farm Project", safeguarding_checks_confirmed=True
    )
    child = factories.pupil(db, la, school, first_name="Sam", last_name="Taylor")
    return {"la": la, "school": school, "pru": pru, "farm": farm, "pupil": child}


def draft(where, **fields) -> PlacementDraft:  # type: ignore[no-untyped-def]
    values = dict(
        route=Route.OFF_SITE_DIRECTION,
        registration=Registration.DUAL,
        sessions="1111111111",
        start_date=date(2025, 11, 5),
        tier=Tier.TIME_LIMITED,
        notice_date=date(2025, 11, 3),
        planned_end_date=date(2026, 2, 13),
        reintegration_plan="Back to the home school half-termly, full time by February",
        **factories.NOTICE,
    )
    values.update(fields)
    return PlacementDraft(setting_id=where.id, **values)  # type: ignore[arg-type]


def messages(db: Session, area: dict, d: PlacementDraft) -> list[str]:  # type: ignore[type-arg]
    return [e.message for e in assess_placement(db, area["pupil"], d).errors]


@pytest.mark.parametrize(
    ("route", "registration", "on_roll", "code"),
    [
        (Route.OFF_SITE_DIRECTION, Registration.DUAL, True, HomeSchoolCode.D),
        (Route.SCHOOL_ARRANGED, Registration.NONE, True, HomeSchoolCode.B),
        (Route.EHCP_NAMED, Registration.NONE, True, HomeSchoolCode.K),
        (Route.LA_HEALTH, Registration.NONE, True, HomeSchoolCode.K),
        (Route.LA_HEALTH, Registration.DUAL, True, HomeSchoolCode.D),
        (Route.PART_TIME_TIMETABLE, Registration.SOLE, True, HomeSchoolCode.C2),
        (Route.HOME_SCHOOL, Registration.SOLE, True, None),
        (Route.LA_EXCLUSION, Registration.SOLE, False, None),
    ],
)
def test_the_home_school_code_follows_route_and_registration(route, registration, on_roll, code) -> None:  # type: ignore[no-untyped-def]
    assert home_school_code(route, registration, on_roll) == code


def test_an_off_site_direction_is_recorded_with_its_movement(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement, assessment = start_placement(db, SYSTEM, area["pupil"], draft(area["pru"]))
    assert assessment.errors == [] and assessment.warnings == []
    assert placement.home_school_code == HomeSchoolCode.D
    assert placement.home_school_id == area["school"].id
    # The next review is 30 school days on from the start (the LA's default interval).
    assert placement.next_review_date == date(2025, 12, 17)
    movement = db.scalars(select(Movement).where(Movement.placement_id == placement.id)).one()
    assert movement.kind == MovementKind.PLACEMENT_STARTED
    assert movement.details["route"] == "off_site_direction" and movement.details["sessions"] == "1111111111"
    assert ledger_mismatches(db) == []


def test_short_notice_for_an_off_site_direction_warns_but_records(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    _, assessment = start_placement(db, SYSTEM, area["pupil"], draft(area["pru"], notice_date=date(2025, 11, 4)))
    assert assessment.warnings == ["Notice was given 1 school day before the start: the law asks for at least 2"]


def test_an_off_site_direction_needs_a_notice_date(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    assert messages(db, area, draft(area["pru"], notice_date=None)) == [
        "Enter the date written notice was given to the parents"
    ]


def test_dual_registration_only_at_a_registered_school(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    errors = messages(db, area, draft(area["farm"], route=Route.SCHOOL_ARRANGED, sessions="1100000000"))
    assert errors == [
        "Hillside Farm Project is not a registered school, so a pupil cannot be on its roll: choose not registered"
    ]


def test_registration_and_code_follow_the_route(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """The regulations' combinations only: an off-site direction is always dual registration at a
    school (code D); code B is off-site activity that is not at another school; C2 is for a pupil
    of compulsory school age (SI 2024/208 reg 10(3) Table 2, reg 11(6)(a))."""
    assert messages(db, area, draft(area["farm"], registration=Registration.NONE, sessions="1100000000")) == [
        "An off-site direction is to a school where the pupil is dual registered: Hillside Farm Project is not a "
        "registered school (for provision there, the school arranges it: other school-arranged AP, code B)"
    ]
    assert messages(db, area, draft(area["pru"], registration=Registration.NONE)) == [
        "An off-site direction is always dual registration at the receiving setting (code D at the home school): "
        "choose dual registration"
    ]
    assert messages(db, area, draft(area["pru"], route=Route.SCHOOL_ARRANGED, registration=Registration.NONE)) == [
        "Riverside PRU is a school: a pupil educated at another school is dual registered there (code D at the home "
        "school); not registered (code B) is for off-site activity that is not at a school"
    ]
    # The LA's provision at a school where the pupil is not registered is code K: allowed.
    assert messages(db, area, draft(area["pru"], route=Route.LA_HEALTH, registration=Registration.NONE)) == []
    # A part-time timetable for a child in Reception who is not yet five.
    young = factories.pupil(db, area["la"], area["school"], on=date(2025, 9, 3))
    young.date_of_birth = date(2021, 6, 1)
    ptt = draft(
        area["school"],
        route=Route.PART_TIME_TIMETABLE,
        registration=Registration.SOLE,
        tier=None,
        notice_date=None,
        sessions="1111100000",
        planned_end_date=date(2025, 12, 12),
        reintegration_plan=None,
        parent_agreed_on=date(2025, 11, 3),
        part_time_purpose="medical",
    )
    assert [e.message for e in assess_placement(db, young, ptt).errors] == [
        "A part-time timetable (code C2) is for a pupil of compulsory school age: Alex "
        + young.last_name
        + " is not, on 5 November 2025"
    ]


def test_an_unregistered_provider_is_part_time_unless_a_reason_is_recorded(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    five = "1111100000"
    errors = messages(
        db, area, draft(area["farm"], route=Route.SCHOOL_ARRANGED, registration=Registration.NONE, sessions=five)
    )
    assert len(errors) == 1 and errors[0].startswith("An unregistered provider is part-time only (no more than 4")
    placement, assessment = start_placement(
        db,
        SYSTEM,
        area["pupil"],
        draft(
            area["farm"],
            route=Route.SCHOOL_ARRANGED,
            registration=Registration.NONE,
            sessions=five,
            unregistered_override_reason="Agreed at panel: transition from hospital, reviewed in 2 weeks",
        ),
    )
    assert placement.home_school_code == HomeSchoolCode.B
    assert "Over the unregistered provider cap of 4 sessions, with a recorded reason" in assessment.warnings


def test_two_sessions_on_three_days_is_over_the_two_day_limit(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    errors = messages(
        db,
        area,
        draft(area["farm"], route=Route.SCHOOL_ARRANGED, registration=Registration.NONE, sessions="1010100000"),
    )
    assert errors and errors[0].startswith("An unregistered provider is part-time only")


def test_tiers_belong_to_ap_placements_only(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    assert messages(db, area, draft(area["pru"], tier=None)) == ["Choose the tier: time-limited or transitional"]
    other = factories.setting(db, area["la"], SettingKind.MAINSTREAM)
    assert messages(db, area, draft(other, route=Route.SCHOOL_ARRANGED)) == [
        "Only placements in alternative provision have a tier: leave it blank"
    ]
    assert messages(db, area, draft(area["pru"], tier=Tier.TRANSITIONAL)) == [
        "This route is time-limited: the pupil returns to the home school"
    ]


def test_an_off_site_direction_keeps_the_pupil_on_the_home_roll(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    assert messages(db, area, draft(area["pru"], registration=Registration.SOLE)) == [
        "An off-site direction is always dual registration at the receiving setting (code D at the home school): "
        "choose dual registration"
    ]
    assert messages(db, area, draft(area["pru"], route=Route.SCHOOL_ARRANGED, registration=Registration.SOLE)) == [
        "Under this route the pupil stays on the home school's roll: choose dual registration or not registered"
    ]


def test_a_part_time_timetable_is_at_the_home_school_with_an_end(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    ptt = dict(
        route=Route.PART_TIME_TIMETABLE,
        registration=Registration.SOLE,
        tier=None,
        notice_date=None,
        sessions="1111100000",
        reintegration_plan=None,
        parent_agreed_on=date(2025, 11, 3),
        part_time_purpose="reintegration",
    )
    assert messages(db, area, draft(area["school"], planned_end_date=None, **ptt)) == [
        "A part-time timetable is time-limited: enter its planned end"
    ]
    # Agreed with the parent before it starts, for a purpose that is never behaviour.
    unagreed = {**ptt, "parent_agreed_on": None, "part_time_purpose": "behaviour"}
    assert messages(db, area, draft(area["school"], planned_end_date=date(2025, 12, 12), **unagreed)) == [
        "A part-time timetable needs the parent's agreement: enter the day the parent agreed",
        "Choose what the part-time timetable is for: it is never a way to manage a pupil's behaviour",
    ]
    late = {**ptt, "parent_agreed_on": date(2025, 11, 6)}
    assert messages(db, area, draft(area["school"], planned_end_date=date(2025, 12, 12), **late)) == [
        "The parent must agree before the part-time timetable starts"
    ]
    placement, _ = start_placement(
        db, SYSTEM, area["pupil"], draft(area["school"], planned_end_date=date(2025, 12, 12), **ptt)
    )
    assert placement.home_school_code == HomeSchoolCode.C2
    assert (placement.parent_agreed_on, placement.part_time_purpose) == (date(2025, 11, 3), "reintegration")
    # Its review is with the pupil and parents, and one that moves the end later is an extension.
    with pytest.raises(DomainError) as refused:
        review_placement(
            db, SYSTEM, placement, review_date=date(2025, 11, 20), notes="Going well", today=date(2025, 11, 20)
        )
    assert refused.value.errors[0].message == (
        "A part-time timetable is reviewed with the pupil and their parents: record who took part"
    )
    review = review_placement(
        db,
        SYSTEM,
        placement,
        review_date=date(2025, 11, 20),
        notes="Going well: full days from January",
        planned_end_date=date(2026, 1, 16),
        parents_took_part=True,
        today=date(2025, 11, 20),
    )
    assert (review.extended_from, review.pupil_took_part, placement.planned_end_date) == (
        date(2025, 12, 12),
        False,
        date(2026, 1, 16),
    )
    assert messages(db, area, draft(area["pru"], planned_end_date=date(2025, 12, 12), **ptt))[0] == (
        "Part-time timetable at the home school is at the home school, Meadow High School"
    )


def test_a_placement_named_in_an_ehc_plan_needs_one(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    special = factories.setting(db, area["la"], SettingKind.SPECIAL)
    d = draft(special, route=Route.EHCP_NAMED, registration=Registration.DUAL, tier=None, notice_date=None)
    assert messages(db, area, d) == ["Sam Taylor has no EHC plan recorded, so no placement can be named in one"]
    area["pupil"].sen_status = SenStatus.EHCP
    assert messages(db, area, d) == []


def test_overlapping_sessions_are_warned(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    factories.placement(
        db, area["pupil"], area["pru"], sessions="1111000000", start=date(2025, 11, 5), notice_date=date(2025, 11, 3)
    )
    result = assess_placement(
        db,
        area["pupil"],
        draft(area["farm"], route=Route.SCHOOL_ARRANGED, registration=Registration.NONE, sessions="0011000000"),
    )
    assert result.warnings == ["Overlaps Riverside PRU on Tue AM, Tue PM"]


def test_after_a_permanent_exclusion_the_la_places_the_pupil_on_a_pru_roll(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """Excluded on Thursday 6 November 2025, the pupil stays on the school's roll while the
    exclusion is in process: the LA's place at the PRU from the sixth school day (13 November) is a
    second registration until then. The board will not reinstate (parents told 13 November); with
    no review asked for, the name comes off after 15 school days (4 December): from 5 December
    the PRU is the pupil's only school."""
    pupil, pru, school = area["pupil"], area["pru"], area["school"]
    record_roll_movement(
        db,
        SYSTEM,
        pupil,
        MovementKind.PERMANENT_EXCLUSION,
        date(2025, 11, 6),
        school,
        reason="Persistent disruptive behaviour",
        today=date(2025, 11, 6),
    )
    assert pupil.home_school_id == school.id
    la_place = draft(
        pru,
        route=Route.LA_EXCLUSION,
        registration=Registration.SOLE,
        tier=Tier.TRANSITIONAL,
        notice_date=None,
        start_date=date(2025, 11, 13),
    )
    assert messages(db, area, la_place) == [
        "Sam Taylor stays on Meadow High School's roll until the permanent exclusion is over: "
        "choose dual registration until then"
    ]
    placement, _ = start_placement(db, SYSTEM, pupil, replace(la_place, registration=Registration.DUAL))
    record_roll_movement(
        db, SYSTEM, pupil, MovementKind.EXCLUSION_UPHELD, date(2025, 11, 13), school, today=date(2025, 11, 13)
    )
    assert pupil.home_school_id == school.id
    reading = reading_of(db, pupil)
    assert reading.exclusions[0].review_closes == date(2025, 12, 4)
    assert [reading.on(day, None) for day in (date(2025, 12, 4), date(2025, 12, 5))] == [school.id, None]
    assert refresh_rolls(db, date(2025, 12, 4)) == 0
    assert refresh_rolls(db, date(2025, 12, 5)) == 1
    assert pupil.home_school_id is None
    assert ledger_mismatches(db) == []


def test_reviews_move_the_next_review_on(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement = factories.placement(db, area["pupil"], area["pru"], start=date(2025, 11, 5))
    review_placement(
        db,
        SYSTEM,
        placement,
        review_date=date(2025, 12, 10),
        notes="Settling well; maths improving",
        today=date(2025, 12, 10),
    )
    assert placement.last_review_date == date(2025, 12, 10)
    assert placement.next_review_date == date(2026, 2, 4)  # 30 school days on, across Christmas
    kinds = [m.kind for m in db.scalars(select(Movement).where(Movement.placement_id == placement.id))]
    assert kinds == [MovementKind.PLACEMENT_STARTED, MovementKind.PLACEMENT_REVIEWED]
    assert ledger_mismatches(db) == []


def test_a_review_is_never_due_after_the_planned_end(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """Planned to end on 19 December: the 30 school days would fall in February, after the
    placement's end, so the next review is due on the planned end, when what comes next is
    decided; a next review typed for after it is refused."""
    placement = factories.placement(
        db, area["pupil"], area["pru"], start=date(2025, 11, 5), planned_end_date=date(2025, 12, 19)
    )
    assert placement.next_review_date == date(2025, 12, 17)  # 30 school days from 5 November
    review_placement(db, SYSTEM, placement, review_date=date(2025, 12, 10), notes="On track", today=date(2025, 12, 10))
    assert placement.next_review_date == date(2025, 12, 19)
    with pytest.raises(DomainError) as refused:
        review_placement(
            db,
            SYSTEM,
            placement,
            review_date=date(2025, 12, 11),
            notes="Again",
            next_review_date=date(2026, 1, 14),
            today=date(2025, 12, 11),
        )
    assert [e.message for e in refused.value.errors] == [
        "The next review must be on or before the planned end, 19 December 2025: the placement is reviewed for what "
        "comes next by then"
    ]


def test_a_review_cannot_be_in_the_future_or_before_the_start(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement = factories.placement(db, area["pupil"], area["pru"], start=date(2025, 11, 5))
    with pytest.raises(DomainError) as refused:
        review_placement(db, SYSTEM, placement, review_date=date(2025, 11, 1), notes="", today=date(2025, 11, 10))
    assert [e.message for e in refused.value.errors] == [
        "Enter what the review found and agreed",
        "A review cannot be before the placement starts",
    ]
    with pytest.raises(DomainError, match="The review cannot be recorded"):
        review_placement(db, SYSTEM, placement, review_date=date(2025, 11, 20), notes="x", today=date(2025, 11, 10))


def test_ending_records_the_destination_once(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement = factories.placement(db, area["pupil"], area["pru"], start=date(2025, 11, 5))
    end_placement(
        db,
        SYSTEM,
        placement,
        end_date=date(2026, 2, 13),
        destination=Destination.RETURNED_HOME_SCHOOL,
        reason="Reintegrated",
    )
    assert placement.status_on(date(2026, 2, 13)) == "active"
    assert placement.status_on(date(2026, 2, 16)) == "ended"
    with pytest.raises(DomainError) as refused:
        end_placement(db, SYSTEM, placement, end_date=date(2026, 3, 1), destination=Destination.NOT_KNOWN)
    assert refused.value.errors[0].message == "This placement already ended on 13 February 2026"


def test_arrangements_on_a_day_are_the_active_placements(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    first = factories.placement(db, area["pupil"], area["pru"], sessions="1111100000", start=date(2025, 11, 5))
    second = factories.placement(
        db,
        area["pupil"],
        area["farm"],
        registration=Registration.NONE,
        sessions="0000011000",
        start=date(2025, 11, 12),
        notice_date=date(2025, 11, 5),
    )
    end_placement(db, SYSTEM, first, end_date=date(2025, 12, 19), destination=Destination.RETURNED_HOME_SCHOOL)
    assert arrangements_on(db, area["pupil"], date(2025, 11, 4)) == []
    assert arrangements_on(db, area["pupil"], date(2025, 11, 5)) == [first]
    assert arrangements_on(db, area["pupil"], date(2025, 12, 1)) == [first, second]
    assert arrangements_on(db, area["pupil"], date(2026, 1, 5)) == [second]


def test_a_correction_keeps_the_old_movement_and_names_it(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement = factories.placement(db, area["pupil"], area["pru"], start=date(2025, 11, 5))
    original = db.scalars(select(Movement).where(Movement.placement_id == placement.id)).one()
    correction = correct_placement(db, SYSTEM, placement, {"sessions": "1111111100"}, "Friday was never agreed")
    assert correction.corrects_id == original.id
    assert original.details["sessions"] == "1111111111"
    assert correction.details["sessions"] == "1111111100"
    assert ledger_mismatches(db) == []


def test_a_placement_changed_behind_the_ledgers_back_is_found(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement = factories.placement(db, area["pupil"], area["pru"], start=date(2025, 11, 5))
    placement.sessions = "1000000000"
    db.flush()
    assert ledger_mismatches(db) == [placement.id]


@pytest.mark.parametrize("statement", ["UPDATE movement SET reason = 'edited'", "DELETE FROM movement"])
def test_the_database_refuses_to_change_the_ledger(db: Session, area: dict, statement: str) -> None:  # type: ignore[type-arg]
    factories.placement(db, area["pupil"], area["pru"])
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement))


def test_a_school_lead_cannot_place_a_pupil_of_another_school(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    other_school = factories.setting(db, area["la"], SettingKind.MAINSTREAM)
    lead = factories.user(db, Role.SCHOOL_LEAD, other_school)
    with pytest.raises(Exception) as refused:
        start_placement(db, Actor(user=lead, via="test"), area["pupil"], draft(area["pru"]))
    # The other school cannot see the pupil at all: the refusal does not confirm they exist.
    assert type(refused.value).__name__ == "NotFound"
    own_lead = factories.user(db, Role.SCHOOL_LEAD, area["school"])
    with pytest.raises(Forbidden, match="arranged by the local authority"):
        start_placement(
            db,
            Actor(user=own_lead, via="test"),
            area["pupil"],
            draft(area["pru"], route=Route.LA_HEALTH, registration=Registration.NONE, notice_date=None),
        )


class TestRollMovements:
    def test_admission_elsewhere_takes_the_pupil_off_the_old_roll(self, db: Session, area: dict) -> None:  # type: ignore[type-arg]
        new_school = factories.setting(db, area["la"], SettingKind.MAINSTREAM, name="Castle Academy")
        record_roll_movement(
            db, SYSTEM, area["pupil"], MovementKind.ADMITTED, date(2026, 1, 5), new_school, today=date(2026, 1, 5)
        )
        assert area["pupil"].home_school_id == new_school.id
        removal = db.scalars(select(Movement).where(Movement.kind == MovementKind.REMOVED_FROM_ROLL)).one()
        assert removal.setting_id == area["school"].id and removal.reason == "Admitted to Castle Academy"

    def test_refusals_name_each_problem(self, db: Session, area: dict) -> None:  # type: ignore[type-arg]
        with pytest.raises(DomainError) as refused:
            record_roll_movement(
                db,
                SYSTEM,
                area["pupil"],
                MovementKind.SUSPENSION,
                date(2026, 1, 5),
                area["pru"],
                today=date(2026, 1, 1),
            )
        assert [e.message for e in refused.value.errors] == [
            "A movement is recorded once it has happened: the date is in the future",
            "Sam Taylor is not on Riverside PRU's roll",
            "Enter the length of the suspension in school days (1 to 45)",
        ]

    def test_a_suspension_leaves_the_pupil_on_roll(self, db: Session, area: dict) -> None:  # type: ignore[type-arg]
        record_roll_movement(
            db,
            SYSTEM,
            area["pupil"],
            MovementKind.SUSPENSION,
            date(2026, 1, 5),
            area["school"],
            days=3,
            today=date(2026, 1, 5),
        )
        assert area["pupil"].home_school_id == area["school"].id


def test_a_time_limited_placement_converts_to_a_transitional_one(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    from ap_register.placements.rules import convert_to_transitional, tier_history

    record_roll_movement(
        db,
        SYSTEM,
        area["pupil"],
        MovementKind.PERMANENT_EXCLUSION,
        date(2025, 10, 1),
        area["school"],
        reason="Assault",
        today=date(2025, 10, 1),
    )
    first = factories.placement(
        db,
        area["pupil"],
        area["pru"],
        route=Route.LA_EXCLUSION,
        registration=Registration.DUAL,
        start=date(2025, 10, 8),
    )
    with pytest.raises(DomainError) as refused:
        convert_to_transitional(db, SYSTEM, first, on=date(2025, 12, 1), reason="short")
    assert refused.value.errors[0].message == "Record why the pupil will not return to the home school"
    second = convert_to_transitional(
        db,
        SYSTEM,
        first,
        on=date(2025, 12, 1),
        reason="Return not possible: the school's roll is full and the family agree",
        destination_plan="Year 10 place at Castle Academy from September",
    )
    assert (first.end_date, first.destination) == (date(2025, 11, 30), Destination.OTHER_AP)
    assert (second.tier, second.converted_from_id, second.sessions) == (Tier.TRANSITIONAL, first.id, first.sessions)
    spells = tier_history(db, area["pupil"], on=date(2025, 12, 12))
    # 8 to 24 Oct: 13 school days; half term; 3 to 28 Nov: 20. Then 1 to 12 Dec: 10 school days.
    assert [(s.placement.tier, s.school_days, s.re_referral) for s in spells] == [
        (Tier.TIME_LIMITED, 33, False),
        (Tier.TRANSITIONAL, 10, False),
    ]
    assert ledger_mismatches(db) == []


def test_a_placement_within_12_months_of_the_last_one_ending_is_a_re_referral(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    from ap_register.placements.rules import tier_history

    pupil = factories.pupil(db, area["la"], area["school"], on=date(2024, 9, 4))  # on the roll a year before
    first = factories.placement(db, pupil, area["pru"], start=date(2024, 11, 4), notice_date=date(2024, 10, 30))
    end_placement(db, SYSTEM, first, end_date=date(2024, 12, 20), destination=Destination.RETURNED_HOME_SCHOOL)
    factories.placement(db, pupil, area["pru"], start=date(2025, 11, 5))
    assert [s.re_referral for s in tier_history(db, pupil, on=date(2025, 11, 20))] == [False, True]
