"""The roll through a permanent exclusion (`placements.roll`), on the tests' LA calendar (855's
term dates, England's bank holidays): the pupil stays on the excluding school's roll until the
process is over, and the register works out when that is."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from ap_register.coverage.rules import week_coverage
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import MovementKind, SettingKind
from ap_register.placements.roll import RollMovement, read_roll, reading_of, refresh_rolls
from ap_register.placements.rules import record_roll_movement
from tests import factories
from tests.factories import SYSTEM

EXCLUDED = date(2025, 11, 27)  # a Thursday
TOLD = date(2025, 12, 11)  # the board will not reinstate: the parents are told on a Thursday
# The 15 school days after 11 December: 12 to 19 December (6), then 5 to 15 January (9).
REVIEW_CLOSES = date(2026, 1, 15)


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High")
    pupil = factories.pupil(db, la, school, on=date(2025, 9, 3))
    pupil.first_name, pupil.last_name = "Sam", "Taylor"
    return {"la": la, "school": school, "pupil": pupil}


def step(db: Session, area: dict, kind: MovementKind, day: date, today: date | None = None, **kw):  # type: ignore[no-untyped-def,type-arg]
    return record_roll_movement(db, SYSTEM, area["pupil"], kind, day, area["school"], today=today or day, **kw)


def excluded(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    step(db, area, MovementKind.PERMANENT_EXCLUSION, EXCLUDED, reason="Persistent disruptive behaviour")


def test_an_excluded_pupil_stays_on_the_roll_until_the_board_decides(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    excluded(db, area)
    assert area["pupil"].home_school_id == area["school"].id
    reading = reading_of(db, area["pupil"])
    assert reading.on(date(2026, 3, 2), None) == area["school"].id
    exclusion = reading.open_exclusion(date(2026, 3, 2))
    assert exclusion is not None and exclusion.stage_on(date(2026, 3, 2)) == "board"
    # The school does not teach them meanwhile.
    assert reading.away(EXCLUDED) == "excluded" and reading.away(date(2025, 11, 26)) is None


def test_with_no_review_asked_for_the_name_comes_off_after_fifteen_school_days(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    excluded(db, area)
    step(db, area, MovementKind.EXCLUSION_UPHELD, TOLD)
    reading = reading_of(db, area["pupil"])
    exclusion = reading.exclusions[0]
    assert exclusion.review_closes == REVIEW_CLOSES  # across the Christmas holiday
    assert exclusion.removed_on == date(2026, 1, 16) and exclusion.removal_derived
    assert [reading.on(day, None) for day in (REVIEW_CLOSES, date(2026, 1, 16))] == [area["school"].id, None]
    assert area["pupil"].home_school_id == area["school"].id  # on the day it was recorded
    assert refresh_rolls(db, REVIEW_CLOSES) == 0
    assert refresh_rolls(db, date(2026, 1, 16)) == 1
    assert area["pupil"].home_school_id is None
    # A review asked for after the time ran out is refused, with the day it ran out.
    with pytest.raises(DomainError) as refused:
        step(db, area, MovementKind.REVIEW_REQUESTED, date(2026, 1, 16))
    assert [e.message for e in refused.value.errors] == [
        "The time to ask for a review ended on 15 January 2026, 15 school days after the parents were told on "
        "11 December 2025 (SI 2012/1033 Sch 1 para 2(1))"
    ]
    with pytest.raises(DomainError) as refused:
        step(db, area, MovementKind.REINSTATED, date(2026, 1, 19))
    assert [e.message for e in refused.value.errors] == [
        "Sam Taylor left Meadow High's roll on 16 January 2026 (the time to ask for a review had passed): "
        "the exclusion is over"
    ]


def test_a_review_keeps_the_pupil_on_the_roll_until_it_is_over(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    excluded(db, area)
    step(db, area, MovementKind.EXCLUSION_UPHELD, TOLD)
    step(db, area, MovementKind.REVIEW_REQUESTED, REVIEW_CLOSES)  # the last day it may be asked for
    reading = reading_of(db, area["pupil"])
    assert reading.on(date(2026, 2, 20), None) == area["school"].id
    assert reading.exclusions[0].stage_on(date(2026, 2, 20)) == "review"
    step(db, area, MovementKind.REVIEW_CONCLUDED, date(2026, 3, 3))
    reading = reading_of(db, area["pupil"])
    assert [reading.on(day, None) for day in (date(2026, 3, 2), date(2026, 3, 3))] == [area["school"].id, None]
    assert area["pupil"].home_school_id is None


def test_reinstatement_ends_the_exclusion_and_the_pupil_stays(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    excluded(db, area)
    step(db, area, MovementKind.EXCLUSION_UPHELD, TOLD)
    step(db, area, MovementKind.REVIEW_REQUESTED, date(2025, 12, 15))
    # The panel quashed the decision; on reconsidering, the board reinstates.
    step(db, area, MovementKind.REINSTATED, date(2026, 2, 9))
    reading = reading_of(db, area["pupil"])
    assert reading.on(date(2026, 6, 1), None) == area["school"].id
    assert reading.exclusions[0].stage_on(date(2026, 2, 9)) == "reinstated" and reading.away(date(2026, 2, 9)) is None
    assert reading.away(date(2026, 2, 6)) == "excluded"
    # A second exclusion may now be recorded; steps of the first may not.
    with pytest.raises(DomainError, match="The movement cannot be recorded") as refused:
        step(db, area, MovementKind.REVIEW_CONCLUDED, date(2026, 2, 10))
    assert refused.value.errors[0].message == "Sam Taylor was reinstated at Meadow High on 9 February 2026"
    step(db, area, MovementKind.PERMANENT_EXCLUSION, date(2026, 3, 2), reason="Assault")


def test_parents_who_say_in_writing_they_will_not_ask_let_the_school_remove_the_name(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    excluded(db, area)
    step(db, area, MovementKind.EXCLUSION_UPHELD, TOLD)
    step(db, area, MovementKind.REMOVED_FROM_ROLL, date(2025, 12, 17), reason="Parents wrote: no review")
    reading = reading_of(db, area["pupil"])
    assert reading.on(date(2025, 12, 17), None) is None
    assert reading.exclusions[0].stage_on(date(2025, 12, 17)) == "removed"
    assert not reading.exclusions[0].removal_derived


def test_each_step_in_its_order(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    def refused(kind: MovementKind, day: date, **kw: object) -> list[str]:
        with pytest.raises(DomainError) as caught:
            step(db, area, kind, day, **kw)
        return [e.message for e in caught.value.errors]

    assert refused(MovementKind.EXCLUSION_UPHELD, TOLD) == [
        "Sam Taylor has no permanent exclusion from Meadow High recorded on or before 11 December 2025"
    ]
    excluded(db, area)
    assert refused(MovementKind.PERMANENT_EXCLUSION, date(2025, 12, 1), reason="Again") == [
        "Sam Taylor was permanently excluded from Meadow High on 27 November 2025 and the exclusion is not over: "
        "record its next step"
    ]
    assert refused(MovementKind.REVIEW_REQUESTED, TOLD) == [
        "A review is asked for after the board decides not to reinstate: record that decision first"
    ]
    assert refused(MovementKind.REVIEW_CONCLUDED, TOLD) == [
        "No review of the exclusion since 27 November 2025 was asked for"
    ]
    step(db, area, MovementKind.EXCLUSION_UPHELD, TOLD)
    assert refused(MovementKind.EXCLUSION_UPHELD, date(2025, 12, 12)) == [
        "The board's decision not to reinstate is recorded already (11 December 2025)"
    ]
    assert refused(MovementKind.REVIEW_REQUESTED, date(2026, 1, 16)) == [
        "The time to ask for a review ended on 15 January 2026, 15 school days after the parents were told on "
        "11 December 2025 (SI 2012/1033 Sch 1 para 2(1))"
    ]


def test_without_term_dates_the_register_removes_no_one_by_itself(db: Session) -> None:
    la = factories.la(db, "856", with_terms=False)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Oak School")
    pupil = factories.pupil(db, la, school, on=date(2025, 9, 3))
    for kind, day in ((MovementKind.PERMANENT_EXCLUSION, EXCLUDED), (MovementKind.EXCLUSION_UPHELD, TOLD)):
        record_roll_movement(db, SYSTEM, pupil, kind, day, school, reason="x", today=day)
    reading = reading_of(db, pupil)
    assert reading.exclusions[0].review_closes is None
    assert reading.on(date(2026, 6, 1), None) == school.id


def test_the_reading_follows_the_ledgers_order_not_the_order_given() -> None:
    movements = [
        RollMovement(date(2026, 1, 5), 9, MovementKind.REVIEW_REQUESTED, 1),
        RollMovement(date(2025, 9, 3), 1, MovementKind.ADMITTED, 1),
        RollMovement(date(2025, 12, 11), 5, MovementKind.EXCLUSION_UPHELD, 1, review_closes=REVIEW_CLOSES),
        RollMovement(EXCLUDED, 3, MovementKind.PERMANENT_EXCLUSION, 1),
    ]
    reading = read_roll(movements)
    assert reading.on(date(2026, 7, 1), None) == 1 and reading.exclusions[0].stage_on(date(2026, 7, 1)) == "review"


def test_coverage_shows_an_excluded_pupil_on_the_roll_with_nothing_arranged(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """On the roll but not taught there: every session of the week is a gap, not the school's."""
    excluded(db, area)
    coverage = week_coverage(db, SYSTEM, area["la"], date(2025, 12, 1))
    (week,) = coverage.pupils
    assert week.pupil.id == area["pupil"].id and week.planned_sessions == 0 and len(week.gaps) == 10


def test_coverage_shows_a_suspended_pupil_with_nothing_arranged(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    step(db, area, MovementKind.SUSPENSION, date(2025, 12, 3), days=3, reason="Fighting")
    (week,) = week_coverage(db, SYSTEM, area["la"], date(2025, 12, 1)).pupils
    # Wednesday to Friday suspended: six sessions with nothing; Monday and Tuesday at school.
    assert week.planned_sessions == 4 and len(week.gaps) == 6


def test_an_admission_elsewhere_ends_the_exclusion_and_the_roll_follows_it(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """Admitted to another school while the parents may still ask for a review: the excluding
    school's roll is left that day, and the review period's lapse later takes nobody off the new
    school's roll."""
    other = factories.setting(db, area["la"], SettingKind.MAINSTREAM, name="Brook Academy")
    excluded(db, area)
    step(db, area, MovementKind.EXCLUSION_UPHELD, TOLD)
    record_roll_movement(
        db, SYSTEM, area["pupil"], MovementKind.ADMITTED, date(2026, 1, 12), other, today=date(2026, 1, 12)
    )
    reading = reading_of(db, area["pupil"])
    assert [reading.on(d, None) for d in (date(2026, 1, 9), date(2026, 1, 12), date(2026, 2, 2))] == [
        area["school"].id,
        other.id,
        other.id,
    ]
    assert reading.exclusions[0].removed_on == date(2026, 1, 12) and reading.away(date(2026, 2, 2)) is None


def test_admitted_after_the_review_period_lapsed(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    other = factories.setting(db, area["la"], SettingKind.MAINSTREAM, name="Brook Academy")
    excluded(db, area)
    step(db, area, MovementKind.EXCLUSION_UPHELD, TOLD)
    record_roll_movement(
        db, SYSTEM, area["pupil"], MovementKind.ADMITTED, date(2026, 1, 26), other, today=date(2026, 1, 26)
    )
    reading = reading_of(db, area["pupil"])
    assert [reading.on(d, None) for d in (date(2026, 1, 16), date(2026, 1, 26))] == [None, other.id]


def test_one_exclusion_at_a_time(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    excluded(db, area)
    with pytest.raises(DomainError) as refused:
        step(db, area, MovementKind.SUSPENSION, date(2025, 12, 1), days=3, reason="Fighting")
    assert refused.value.errors[0].message.endswith("and the exclusion is not over: record its next step")


def test_a_record_older_than_the_ledger_keeps_the_excluding_school_before_the_removal() -> None:
    """No admission on the ledger: on the excluding school's roll until the exclusion is over."""
    reading = read_roll(
        [
            RollMovement(EXCLUDED, 1, MovementKind.PERMANENT_EXCLUSION, 7),
            RollMovement(TOLD, 2, MovementKind.EXCLUSION_UPHELD, 7, review_closes=REVIEW_CLOSES),
        ]
    )
    assert [reading.on(d, None) for d in (date(2025, 9, 1), REVIEW_CLOSES, date(2026, 1, 16))] == [7, 7, None]


def test_a_move_recorded_ahead_leaves_a_roll_older_than_the_ledger_until_its_day() -> None:
    """A pupil whose admission predates the ledger: a removal recorded ahead says whose roll they
    were on until then, so recording it does not take them off that roll early."""
    removed, admitted = date(2025, 12, 1), date(2025, 12, 1)
    reading = read_roll(
        [
            RollMovement(removed, 1, MovementKind.REMOVED_FROM_ROLL, 7),
            RollMovement(admitted, 2, MovementKind.ADMITTED, 9),
        ]
    )
    assert reading.on(date(2025, 11, 20), None) == 7
    assert reading.on(date(2025, 12, 1), None) == 9
    assert reading.next_change(date(2025, 11, 20)) == (date(2025, 12, 1), 9)
    assert reading.next_change(date(2025, 12, 1)) is None
