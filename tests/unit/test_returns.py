"""Statutory returns from the register, the register of children not in school, and the daily
attendance digest."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.coverage.attendance import record_register
from ap_register.coverage.digest import previous_weekday, received, send_digests
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden
from ap_register.domain.vocab import Destination, Registration, Role, Route, SettingKind, Tier
from ap_register.models import Notification
from ap_register.placements.rules import end_placement
from ap_register.returns import cnis
from ap_register.returns import rules as returns
from tests import factories
from tests.factories import SYSTEM


def test_census_days_are_the_dfe_s_thursdays() -> None:
    # 1 January 2026 is a Thursday: the third is the 15th.
    assert returns.census_day("ap-census", 2025) == date(2026, 1, 15)
    assert returns.census_day("school-census", 2025, "autumn") == date(2025, 10, 2)
    assert returns.census_day("school-census", 2025, "summer") == date(2026, 5, 21)
    # The spring period runs from the day after the autumn census day.
    assert returns.census_period("school-census", 2025, "spring") == (date(2025, 10, 3), date(2026, 1, 15))
    assert returns.census_period("ap-census", 2025) == (date(2025, 1, 17), date(2026, 1, 15))


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Hill School")
    pru = factories.setting(db, la, SettingKind.PRU, name="Riverside PRU")
    independent = factories.setting(db, la, SettingKind.INDEPENDENT_AP, name="Horizon School")
    tutors = factories.setting(db, la, SettingKind.UNREGISTERED_AP, name="Home Tutors Ltd")
    college = factories.setting(db, la, SettingKind.POST16, name="City College", urn=None, ukprn="10012345")
    return {"la": la, "school": school, "pru": pru, "independent": independent, "tutors": tutors, "college": college}


def test_the_ap_census_holds_the_la_s_placements_outside_schools_and_names_each_gap(
    db: Session, area: dict[str, Any]
) -> None:
    la, school = area["la"], area["school"]
    ill = factories.pupil(db, la, school, last_name="Ill")
    excluded = factories.pupil(db, la, school, last_name="Excluded")
    older = factories.pupil(db, la, school, last_name="Older")
    at_pru = factories.pupil(db, la, school, last_name="AtPru")
    health = factories.placement(
        db, ill, area["independent"], Route.LA_HEALTH, Registration.NONE, sessions="1111100000", start=date(2025, 11, 3)
    )
    tuition = factories.placement(
        db, excluded, area["tutors"], Route.LA_EXCLUSION, Registration.NONE, sessions="1100110000",
        start=date(2025, 11, 10), tier=Tier.TRANSITIONAL,
    )  # fmt: skip
    college = factories.placement(
        db,
        older,
        area["college"],
        Route.LA_OTHER,
        Registration.NONE,
        sessions="1111111100",
        start=date(2025, 11, 17),
        tier=None,
    )
    # At a PRU: the PRU returns it in the school census, not the LA in the AP census.
    factories.placement(db, at_pru, area["pru"], Route.LA_HEALTH, Registration.DUAL, start=date(2025, 11, 3))

    found = returns.build(db, SYSTEM, la, "ap-census", 2025)
    assert found.census_day == date(2026, 1, 15)
    lines = {row["last_name"]: row for row in found.rows}
    assert set(lines) == {"Ill", "Excluded", "Older"}
    # A setting by URN, or UKPRN, or type: never more than one.
    assert (lines["Ill"]["urn"], lines["Ill"]["ukprn"], lines["Ill"]["setting_type"]) == (
        area["independent"].urn,
        None,
        None,
    )
    assert (lines["Older"]["urn"], lines["Older"]["ukprn"]) == (None, "10012345")
    assert lines["Excluded"]["primary_reason"] == "PEX" and lines["Excluded"]["sessions_per_week"] == 4
    assert lines["Ill"]["entry_date"] == "2025-11-03" and lines["Ill"]["leaving_date"] is None
    # The report is the check of the file itself, each failure named by pupil and line.
    errors = {(g.upn, g.item, g.message) for g in found.gaps if g.severity == "error"}
    assert errors == {
        (ill.upn, "primary_reason", "Record whether the health need is mental or physical"),
        (older.upn, "primary_reason", "Record the reason the placement was commissioned"),
        (
            excluded.upn,
            "setting_type",
            "Home Tutors Ltd has no URN or UKPRN: record its type of setting (tuition, work-based, college or other)",
        ),
    }
    line_of = {row["upn"]: n for n, row in enumerate(found.rows, start=2)}  # the header is line 1
    assert all(g.line == line_of[g.upn] for g in found.gaps)
    by_upn = {g.upn: g for g in found.gaps if g.item == "setting_type"}
    assert by_upn[excluded.upn].setting_id == area["tutors"].id  # the fix is the setting's type

    returns.set_census_reason(db, SYSTEM, health, "medical_mental_health")
    returns.set_census_reason(db, SYSTEM, college, "other")
    returns.set_census_setting_type(db, SYSTEM, area["tutors"], "one_to_one_tuition")
    fixed = returns.build(db, SYSTEM, la, "ap-census", 2025)
    assert fixed.gaps == []
    lines = {row["last_name"]: row for row in fixed.rows}
    assert (lines["Ill"]["primary_reason"], lines["Excluded"]["setting_type"]) == ("MHN", "OOT")
    with pytest.raises(DomainError):
        returns.set_census_reason(db, SYSTEM, tuition, "other")  # the route settles it: permanent exclusion


def test_the_school_census_holds_what_each_school_arranged(db: Session, area: dict[str, Any]) -> None:
    la, school = area["la"], area["school"]
    other_school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Vale School")
    directed = factories.pupil(db, la, school, last_name="Directed")
    elsewhere = factories.pupil(db, la, other_school, last_name="Elsewhere")
    factories.placement(db, directed, area["pru"], start=date(2025, 11, 3), planned_end_date=date(2025, 12, 12))
    factories.placement(db, elsewhere, area["pru"], start=date(2025, 11, 3))
    spring = returns.build(db, SYSTEM, la, "school-census", 2025, "spring")
    assert sorted((r["school_name"], r["placement_reason"], r["sessions_per_week"]) for r in spring.rows) == [
        ("Hill School", "OSB", 10),
        ("Vale School", "OSB", 10),
    ]
    # A school lead sees their own school's return only, and not the LA's AP census.
    lead = Actor(user=factories.user(db, Role.SCHOOL_LEAD, school), via="test")
    own = returns.build(db, lead, la, "school-census", 2025, "spring")
    assert [r["last_name"] for r in own.rows] == ["Directed"]
    assert own.rows[0]["school_urn"] == school.urn and own.gaps == []
    with pytest.raises(Forbidden):
        returns.build(db, lead, la, "ap-census", 2025)
    # Placements outside the census period are not in it.
    assert returns.build(db, SYSTEM, la, "school-census", 2025, "autumn").rows == []


def test_children_not_in_school_are_those_on_no_roll_or_educated_partly_otherwise_than_at_a_school(
    db: Session, area: dict[str, Any]
) -> None:
    la, school = area["la"], area["school"]
    on = date(2025, 11, 12)
    area["tutors"].sites.append(_site("12 Mill Lane, Ely", "CB7 4AA"))
    # On Hill School's roll, at the PRU three days and with the LA's tutors on Thursday: the PRU
    # is a school, the tutors are not (s436B(5)(b)).
    shared = factories.pupil(db, la, school, first_name="Sam", last_name="Shared")
    factories.placement(db, shared, area["pru"], sessions="1111110000", start=date(2025, 11, 3))
    factories.placement(
        db, shared, area["tutors"], Route.LA_OTHER, Registration.NONE, sessions="0000001100", start=date(2025, 11, 3)
    )
    # Educated only at another school: not on the register.
    factories.placement(db, factories.pupil(db, la, school, last_name="AtPru"), area["pru"], start=date(2025, 11, 3))
    # On no school's roll: on the register, with or without education known (s436B(5)(a)).
    tutored = factories.pupil(db, la, None, first_name="Tia", last_name="Tutored")
    factories.placement(
        db, tutored, area["tutors"], Route.LA_EXCLUSION, Registration.NONE, sessions="1100110000",
        start=date(2025, 11, 3), tier=Tier.TRANSITIONAL,
    )  # fmt: skip
    factories.pupil(
        db,
        la,
        None,
        first_name="Nia",
        last_name="Nowhere",
        home_address="3 Fen Way, March",
        home_postcode="PE15 8AA",
        parents=[("Rae Nowhere", None), ("Lee Cole", "9 Mill Road, Ely")],
    )
    # Not of compulsory school age, or moved out of the area: not on it.
    factories.pupil(db, la, None, last_name="Older", date_of_birth=date(2007, 3, 1))
    moved = factories.pupil(db, la, None, last_name="Moved")
    gone = factories.placement(
        db, moved, area["tutors"], Route.LA_OTHER, Registration.NONE, sessions="1100000000", start=date(2025, 9, 8)
    )
    end_placement(db, SYSTEM, gone, end_date=date(2025, 10, 24), destination=Destination.MOVED_OUT_OF_AREA)

    children = cnis.register_on(db, SYSTEM, la, on)
    assert [(c.pupil.last_name, c.condition, c.school.name if c.school else None) for c in children] == [
        ("Nowhere", cnis.NO_SCHOOL, None),
        ("Shared", cnis.PARTLY_ELSEWHERE, "Hill School"),
        ("Tutored", cnis.NO_SCHOOL, None),
    ]
    entry = children[1].as_json()
    assert (entry["sessions_per_week_elsewhere"], [p["educated_at"] for p in entry["provision"]]) == (
        2,
        ["Home Tutors Ltd"],
    )
    assert entry["provision"][0]["addresses"] == "12 Mill Lane, Ely, CB7 4AA"
    assert entry["provision"][0]["arranged_by"] == la.name
    nowhere = children[0].as_json()
    assert (nowhere["provision"], nowhere["home_address"], nowhere["parents"]) == (
        [],
        "3 Fen Way, March, PE15 8AA",
        [{"name": "Rae Nowhere", "address": None}, {"name": "Lee Cole", "address": "9 Mill Road, Ely"}],
    )
    assert children[0].rows()[0]["parents"] == "Rae Nowhere, address not recorded; Lee Cole, 9 Mill Road, Ely"
    # Before the tutoring began, Sam was educated only at schools.
    assert [c.pupil.last_name for c in cnis.register_on(db, SYSTEM, la, date(2025, 10, 31))] == ["Nowhere", "Tutored"]
    lead = Actor(user=factories.user(db, Role.SCHOOL_LEAD, school), via="test")
    with pytest.raises(Forbidden):
        cnis.register_on(db, lead, la, on)


def _site(address: str, postcode: str) -> Any:
    from ap_register.models import SettingSite

    return SettingSite(address=address, postcode=postcode)


def test_the_digest_tells_the_home_school_and_the_la_without_naming_a_child(db: Session, area: dict[str, Any]) -> None:
    la, school = area["la"], area["school"]
    lead = factories.user(db, Role.SCHOOL_LEAD, school)
    officer = factories.user(db, Role.ATTENDANCE_OFFICER, la)
    other_school_lead = factories.user(db, Role.SCHOOL_LEAD, factories.setting(db, la, name="Vale School"))
    pupils = [factories.pupil(db, la, school, first_name="Robin", last_name=f"Marked{n}") for n in range(3)]
    for pupil in pupils:
        factories.placement(db, pupil, area["pru"], start=date(2025, 11, 3))
    monday = date(2025, 11, 10)
    marks = {pupils[0].id: "/", pupils[1].id: "I", pupils[2].id: "O"}
    record_register(db, SYSTEM, area["pru"], monday, "AM", marks, today=monday)
    record_register(db, SYSTEM, area["pru"], monday, "PM", {p.id: "\\" for p in pupils}, today=monday)
    assert previous_weekday(date(2025, 11, 11)) == monday

    summary = send_digests(db, date(2025, 11, 11))
    assert summary == {"day": "2025-11-10", "marks": 6, "notifications": 2}
    sent = db.scalars(select(Notification).where(Notification.kind == "attendance_digest")).all()
    assert {n.user_id for n in sent} == {lead.id, officer.id}
    to_school = next(n for n in sent if n.user_id == lead.id)
    assert to_school.body == (
        "Your pupils at Riverside PRU on Monday 10 November 2025: 3 pupils: 4 sessions attended, "
        "2 missed (1 unauthorised). Sign in to see each pupil's marks."
    )
    assert all("Robin" not in n.body + n.subject and "Marked" not in n.body for n in sent)
    assert other_school_lead.id not in {n.user_id for n in sent}
    # Sent once: the job running again sends nothing more.
    assert send_digests(db, date(2025, 11, 11))["notifications"] == 0

    # Behind the link, the school reads each child's marks.
    rows = received(db, Actor(user=lead, via="test"), monday)
    assert [(r.pupil.last_name, r.am, r.pm) for r in rows] == [
        ("Marked0", "/", "\\"),
        ("Marked1", "I", "\\"),
        ("Marked2", "O", "\\"),
    ]
    assert received(db, Actor(user=other_school_lead, via="test"), monday) == []
