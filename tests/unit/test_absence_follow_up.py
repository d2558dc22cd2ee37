"""Same-day absence follow-up (coverage/absence.py): a child missing from provision this morning
raises an alert to the home school, the attendance officer and the caseworker at the LA's time,
contact attempts are recorded on it, and nobody reached by the afternoon escalates it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.casework import contacts
from ap_register.coverage import absence
from ap_register.coverage.alerts import open_on, raise_alerts
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import Role
from ap_register.models import Alert, AttendanceMark, AuditEvent, CaseAssignment, Notification
from tests import factories

DAY = date(2025, 11, 18)  # a Tuesday in term


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    from ap_register.clock import ENGLAND

    return datetime.combine(day, time(hour, minute), tzinfo=ENGLAND)


def mark(db: Session, area: dict[str, Any], code: str) -> None:
    db.add(AttendanceMark(pupil_id=area["pupil"].id, setting_id=area["pru"].id, date=DAY, session="AM", code=code))
    db.flush()


def alerts(db: Session) -> list[Alert]:
    return list(db.scalars(select(Alert).where(Alert.kind == absence.KIND).order_by(Alert.id)))


def inbox(db: Session, user: Any) -> list[str]:
    return [n.kind for n in db.scalars(select(Notification).where(Notification.user_id == user.id))]


def test_an_absence_without_a_reason_is_raised_at_the_la_s_time_to_those_who_act_today(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    la, users = home["la"], home["users"]
    db.add(CaseAssignment(pupil_id=home["pupil"].id, user_id=users[Role.COMMISSIONER].id))
    mark(db, home, "N")
    assert absence.follow_up(db, la, at(9, 45)).raised == 0  # before 10:00 nothing is raised
    done = absence.follow_up(db, la, at(10, 0))
    assert done.raised == 1
    [alert] = alerts(db)
    assert (alert.pupil_id, alert.setting_id, alert.due, alert.status) == (
        home["pupil"].id,
        home["pru"].id,
        DAY,
        "open",
    )
    assert "without a reason (code N)" in alert.message
    for role in (Role.SCHOOL_LEAD, Role.ATTENDANCE_OFFICER, Role.COMMISSIONER):
        assert inbox(db, users[role]) == [absence.KIND], role
    for role in (Role.AP_HEAD, Role.LA_ADMIN, Role.PANEL_MEMBER):
        assert inbox(db, users[role]) == [], role
    told = db.scalars(select(Notification).where(Notification.kind == absence.KIND)).first()
    assert told is not None and home["pupil"].last_name not in told.subject + told.body
    # Run again (every few minutes, or by a second scheduler): one alert, told once.
    assert absence.follow_up(db, la, at(10, 5)).raised == 0
    assert len(alerts(db)) == 1 and inbox(db, users[Role.SCHOOL_LEAD]) == [absence.KIND]
    # The daily checks leave it alone: it is not theirs to resolve; the alerts command lists it.
    raise_alerts(db, la, DAY)
    assert alerts(db)[0].status == "open"
    listed = [f.as_json() for f in open_on(db, la, DAY) if f.kind == absence.KIND]
    assert [(f["upn"], f["setting_ref"], f["due"]) for f in listed] == [
        (home["pupil"].upn, home["pru"].ref, DAY.isoformat())
    ]


def test_a_register_not_marked_by_the_time_is_raised_earlier_for_a_looked_after_child(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    assert absence.follow_up(db, home["la"], at(9, 40)).raised == 0
    home["pupil"].looked_after = True
    assert absence.follow_up(db, home["la"], at(9, 40)).raised == 1
    assert "had not marked the morning register for this child by 09:30" in alerts(db)[0].message


def test_present_or_a_known_reason_raises_nothing_and_a_register_put_right_resolves_it(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    mark(db, home, "/")
    assert absence.follow_up(db, home["la"], at(11)).raised == 0
    db.query(AttendanceMark).delete()
    assert absence.follow_up(db, home["la"], at(11)).raised == 1  # nothing marked by 10:00
    mark(db, home, "I")  # illness: the provider learnt the reason
    assert absence.follow_up(db, home["la"], at(11, 30)).resolved == 1
    assert alerts(db)[0].status == "resolved" and "code I" in (alerts(db)[0].resolution or "")


def test_nothing_is_raised_on_a_day_that_is_not_a_school_day_or_outside_the_pattern(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    assert absence.follow_up(db, home["la"], at(11, day=date(2025, 10, 28))).raised == 0  # half term
    assert absence.follow_up(db, home["la"], at(11, day=date(2025, 11, 22))).raised == 0  # Saturday
    home["placement"].sessions = "1111011111"  # no Wednesday morning
    assert absence.follow_up(db, home["la"], at(11, day=date(2025, 11, 19))).raised == 0


def test_an_attempt_that_reaches_the_family_stops_the_escalation_and_one_that_does_not_escalates(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    la, users, pupil = home["la"], home["users"], home["pupil"]
    la.absence_officer_id = users[Role.ATTENDANCE_OFFICER].id
    mum = contacts.add(
        db, Actor(user=users[Role.LA_ADMIN], via="test"), pupil.id,
        contacts.ContactDraft("parent_carer", "Jo Homechild", relation="mother", phone="07700 900123"),
    )  # fmt: skip
    mark(db, home, "O")
    absence.follow_up(db, la, at(10))
    [alert] = alerts(db)
    school = Actor(user=users[Role.SCHOOL_LEAD], via="test")
    absence.record_attempt(db, school, alert.id, absence.AttemptDraft(mum.id, "phone", "no_answer", "Rang twice"))
    # Nobody reached by 13:30: the alert goes to the named officer, once.
    assert absence.follow_up(db, la, at(13, 29)).escalated == 0
    assert absence.follow_up(db, la, at(13, 30)).escalated == 1
    assert absence.follow_up(db, la, at(14)).escalated == 0
    db.refresh(alert)
    assert alert.escalated_at is not None and alert.assigned_to_id == users[Role.ATTENDANCE_OFFICER].id
    assert "absence_escalated" in inbox(db, users[Role.ATTENDANCE_OFFICER])
    # A second child's alert, where the family was reached, is not escalated.
    other = factories.pupil(db, la, home["school"], last_name="Reached")
    factories.placement(db, other, home["pru"], start=date(2025, 10, 6))
    thursday = DAY.replace(day=20)
    db.add(AttendanceMark(pupil_id=pupil.id, setting_id=home["pru"].id, date=thursday, session="AM", code="/"))
    absence.follow_up(db, la, at(10, 0, DAY.replace(day=20)))
    second = next(a for a in alerts(db) if a.pupil_id == other.id)
    dad = contacts.add(
        db, Actor(user=users[Role.LA_ADMIN], via="test"), other.id,
        contacts.ContactDraft("parent_carer", "Lee Reached", relation="father", phone="07700 900124"),
    )  # fmt: skip
    absence.record_attempt(db, school, second.id, absence.AttemptDraft(dad.id, "phone", "reached", "With dad at GP"))
    assert second.status == "acknowledged"
    assert absence.follow_up(db, la, at(14, 0, DAY.replace(day=20))).escalated == 0
    trail = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "alert")).all()
    assert trail.count("contact_attempt") == 2 and trail.count("escalate") == 1


def test_an_attempt_is_refused_for_a_restricted_contact_and_for_what_the_actor_may_not_act_on(
    db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    mark(db, home, "N")
    absence.follow_up(db, home["la"], at(10))
    [alert] = alerts(db)
    school = Actor(user=home["users"][Role.SCHOOL_LEAD], via="test")
    with pytest.raises(DomainError) as refused:
        absence.record_attempt(
            db, school, alert.id, absence.AttemptDraft(home["contact"].id, "ring", "maybe", "x" * 1001)
        )
    assert [e.message for e in refused.value.errors] == [
        f"{home['contact'].name} is under a restriction: No contact: a court order",
        "Choose how you tried to reach them",
        "Choose what came of it",
        "What happened must be 1000 characters or fewer",
    ]
    with pytest.raises(NotFound):
        absence.record_attempt(
            db, Actor(user=other["users"][Role.LA_ADMIN], via="test"), alert.id,
            absence.AttemptDraft(None, "phone", "reached"),
        )  # fmt: skip
    with pytest.raises(Forbidden):
        absence.record_attempt(
            db, Actor(user=home["users"][Role.PANEL_MEMBER], via="test"), alert.id,
            absence.AttemptDraft(None, "phone", "reached"),
        )  # fmt: skip


def test_a_provider_records_a_child_sent_home_and_the_same_people_hear_at_once(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    head = Actor(user=home["users"][Role.AP_HEAD], via="test")
    alert = absence.report_sent_home(db, head, home["pupil"].id, home["pru"].id, at(11, 20), "Unwell; mum collected")
    assert "sent this child home, or they left, at 11:20. The reason is in the child's case notes." in alert.message
    assert inbox(db, home["users"][Role.SCHOOL_LEAD]) == [absence.KIND]
    with pytest.raises(DomainError):  # not placed at the farm
        absence.report_sent_home(db, head, home["pupil"].id, home["farm"].id, at(11, 25), "Left")
    with pytest.raises(DomainError):
        absence.report_sent_home(db, head, home["pupil"].id, home["pru"].id, at(11, 30), "  ")


def test_the_la_sets_its_times_and_named_officer_with_every_problem_named(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    admin = Actor(user=home["users"][Role.LA_ADMIN], via="test")
    with pytest.raises(DomainError) as refused:
        absence.update_settings(
            db, admin, home["la"], check_at="25:00", check_early_at="6:00", escalate_at="9.30",
            officer_id=world["other"]["users"][Role.ATTENDANCE_OFFICER].id,
        )  # fmt: skip
    assert [e.field for e in refused.value.errors] == ["check_at", "check_early_at", "officer"]
    absence.update_settings(
        db, admin, home["la"], check_at="10:15", check_early_at="9:15", escalate_at="13:00",
        officer_id=home["users"][Role.ATTENDANCE_OFFICER].id,
    )  # fmt: skip
    assert (home["la"].absence_check_at, home["la"].absence_escalate_at) == (time(10, 15), time(13))
    with pytest.raises(Forbidden):
        absence.update_settings(
            db, Actor(user=home["users"][Role.ATTENDANCE_OFFICER], via="test"), home["la"],
            check_at="10:00", check_early_at="9:30", escalate_at="13:30", officer_id=None,
        )  # fmt: skip


def test_a_register_put_right_after_an_attempt_resolves_the_alert_and_nothing_escalates(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    la, users, pupil = home["la"], home["users"], home["pupil"]
    mum = contacts.add(
        db, Actor(user=users[Role.LA_ADMIN], via="test"), pupil.id,
        contacts.ContactDraft("parent_carer", "Jo Homechild", relation="mother", phone="07700 900123"),
    )  # fmt: skip
    mark(db, home, "N")
    absence.follow_up(db, la, at(10))
    [alert] = alerts(db)
    school = Actor(user=users[Role.SCHOOL_LEAD], via="test")
    absence.record_attempt(db, school, alert.id, absence.AttemptDraft(mum.id, "phone", "no_answer"))
    db.query(AttendanceMark).update({"code": "L"})  # late: the child arrived
    assert absence.follow_up(db, la, at(10, 30)).resolved == 1
    assert absence.follow_up(db, la, at(14)).escalated == 0
    assert alerts(db)[0].status == "resolved" and alerts(db)[0].escalated_at is None


def test_a_child_sent_home_after_the_escalation_time_has_the_morning_s_window(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    la, users, pupil = home["la"], home["users"], home["pupil"]
    mark(db, home, "/")
    head = Actor(user=users[Role.AP_HEAD], via="test")
    absence.report_sent_home(db, head, pupil.id, home["pru"].id, at(14, 50), "Unwell; dad collected him")
    assert absence.follow_up(db, la, at(14, 55)).escalated == 0
    assert absence.follow_up(db, la, at(18, 19)).escalated == 0
    # Nobody named who still acts on alerts here: the LA's administrators hear instead.
    la.absence_officer_id = users[Role.PANEL_MEMBER].id
    assert absence.follow_up(db, la, at(18, 20)).escalated == 1
    assert "absence_escalated" in inbox(db, users[Role.LA_ADMIN])
    assert "absence_escalated" not in inbox(db, users[Role.PANEL_MEMBER])
    # The reason is a case note for those who work with the child, never the alert's message.
    [alert] = alerts(db)
    assert "dad" not in alert.message
    from ap_register.models import CaseNote

    said = db.scalars(select(CaseNote.text).where(CaseNote.pupil_id == pupil.id, CaseNote.category == "attendance"))
    assert [t for t in said if "Unwell; dad collected him" in t]
    # Only the provider the child is placed with says so.
    farm_head = Actor(user=factories.user(db, Role.AP_HEAD, home["farm"]), via="test")
    with pytest.raises((DomainError, Forbidden, NotFound)):
        absence.report_sent_home(db, farm_head, pupil.id, home["pru"].id, at(15), "Left")


def test_attempts_are_for_those_who_read_the_child_s_contacts_and_only_on_absence_alerts(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    users, pupil = home["users"], home["pupil"]
    mark(db, home, "N")
    absence.follow_up(db, home["la"], at(10))
    [alert] = alerts(db)
    assert absence.may_see_attempts(db, Actor(user=users[Role.SCHOOL_LEAD], via="test"), alert)
    assert not absence.may_see_attempts(db, Actor(user=users[Role.PANEL_MEMBER], via="test"), alert)
    with pytest.raises(NotFound):  # an alert of another kind takes no attempts
        absence.record_attempt(
            db, Actor(user=users[Role.LA_ADMIN], via="test"), home["alert"].id,
            absence.AttemptDraft(home["contact"].id, "phone", "reached"),
        )  # fmt: skip
    assert pupil.id == alert.pupil_id
