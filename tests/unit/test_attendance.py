"""Registers: the pupils a setting expects each session, and what the marks tell coverage."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from ap_register.coverage.attendance import code_class, expected, record_register
from ap_register.coverage.rules import week_coverage
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden
from ap_register.domain.vocab import Registration, Role, Route, SettingKind
from tests import factories
from tests.factories import SYSTEM

MONDAY = date(2025, 11, 10)
TUESDAY = date(2025, 11, 11)


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High")
    pru = factories.setting(db, la, SettingKind.PRU, name="Riverside PRU")
    pupil = factories.pupil(db, la, school, first_name="Sam", last_name="Taylor")
    factories.placement(db, pupil, pru, sessions="1111000000", start=date(2025, 11, 3), notice_date=date(2025, 10, 29))
    factories.placement(
        db,
        pupil,
        school,
        route=Route.HOME_SCHOOL,
        registration=Registration.SOLE,
        tier=None,
        sessions="0000111111",
        start=date(2025, 11, 3),
    )
    return {"la": la, "school": school, "pru": pru, "pupil": pupil}


def test_codes_are_classed_as_dfe_does() -> None:
    assert [code_class(c) for c in ("/", "B", "I", "G", "D")] == [
        "Present",
        "Approved educational activity",
        "Authorised",
        "Unauthorised",
        "Management and legacy codes",
    ]


def test_a_setting_expects_its_pupils_for_their_sessions(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    at_pru = expected(db, SYSTEM, area["pru"], MONDAY, "AM")
    assert [(r.pupil.last_name, r.placement is not None) for r in at_pru] == [("Taylor", True)]
    assert expected(db, SYSTEM, area["pru"], date(2025, 11, 12), "AM") == []  # Wednesday: at school
    at_school = expected(db, SYSTEM, area["school"], MONDAY, "AM")
    assert [(r.pupil.last_name, r.away_at) for r in at_school] == [("Taylor", ["Riverside PRU"])]


def test_only_the_setting_s_own_staff_take_its_register(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    head = factories.user(db, Role.AP_HEAD, area["pru"])
    with pytest.raises(Forbidden):
        record_register(db, Actor(user=head, via="test"), area["school"], MONDAY, "AM", {}, today=MONDAY)
    with pytest.raises(DomainError) as refused:
        record_register(
            db, Actor(user=head, via="test"), area["pru"], MONDAY, "AM", {area["pupil"].id: "ZZ"}, today=MONDAY
        )
    assert refused.value.errors[0].message == "'ZZ' is not a national attendance code"


def test_registers_that_disagree_with_the_arrangement_are_flagged(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = area["pupil"]
    record_register(db, SYSTEM, area["pru"], MONDAY, "AM", {pupil.id: "/"}, today=TUESDAY)
    # The home school says B (off-site activity) although the pupil is dual registered at a school.
    record_register(db, SYSTEM, area["school"], MONDAY, "AM", {pupil.id: "B"}, today=TUESDAY)
    coverage = week_coverage(db, SYSTEM, area["la"], MONDAY, today=TUESDAY)
    week = next(w for w in coverage.pupils if w.pupil.id == pupil.id)
    assert week.attended_sessions == 1
    assert "register_mismatch" in week.flags
    assert week.register_issues == [
        "Mon 10 Nov AM: the home school recorded B for a registered school (Riverside PRU)",
        "Mon 10 Nov PM: no mark from Riverside PRU",
        "Tue 11 Nov AM: no mark from Riverside PRU",
        "Tue 11 Nov PM: no mark from Riverside PRU",
    ]
    assert week.as_json()["flags"] == ["register_mismatch"]


def test_without_registers_coverage_makes_no_judgement_of_them(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    coverage = week_coverage(db, SYSTEM, area["la"], MONDAY, today=TUESDAY)
    week = next(w for w in coverage.pupils if w.pupil.id == area["pupil"].id)
    assert week.attended_sessions is None and week.flags == []
