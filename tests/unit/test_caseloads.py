"""Caseloads (casework/caseloads.py): an officer of a child's home LA holds the child's case; a
leaver's cases and alerts are handed to a colleague; a child who leaves the LA leaves the caseload."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.casework import caseloads
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import Role
from ap_register.models import Alert, AuditEvent, CaseAssignment, Notification
from tests import factories


def as_(user: Any) -> Actor:
    return Actor(user=user, via="test")


def cases_of(db: Session, user: Any) -> list[int]:
    return sorted(db.scalars(select(CaseAssignment.pupil_id).where(CaseAssignment.user_id == user.id)))


def test_an_officer_gives_a_child_s_case_to_a_colleague_who_is_told_and_it_is_audited(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    admin, officer = home["users"][Role.LA_ADMIN], home["users"][Role.ATTENDANCE_OFFICER]
    pupil = home["pupil"]
    given = caseloads.assign(db, as_(admin), pupil.id, officer.id)
    assert given is not None and given.id == officer.id
    assert cases_of(db, officer) == [pupil.id]
    assert [p.id for p, _ in caseloads.my_cases(db, as_(officer))] == [pupil.id]
    told = db.scalars(select(Notification).where(Notification.user_id == officer.id, Notification.kind == "case")).all()
    assert len(told) == 1 and pupil.last_name not in told[0].subject + told[0].body  # no name in an inbox's email
    event = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "case")).one()
    assert (event.action, event.pupil_id, event.user_id) == ("assign", pupil.id, admin.id)
    assert event.detail["caseworker"] == officer.id and event.detail["before"] is None

    # Given to another, then to nobody: each change says who held it before.
    chair = home["users"][Role.PANEL_CHAIR]
    caseloads.assign(db, as_(officer), pupil.id, chair.id)
    assert cases_of(db, officer) == [] and cases_of(db, chair) == [pupil.id]
    caseloads.assign(db, as_(officer), pupil.id, None)
    assert cases_of(db, chair) == []
    befores = [e.detail["before"] for e in db.scalars(select(AuditEvent).where(AuditEvent.object_type == "case"))]
    assert befores == [None, officer.id, chair.id]
    # Giving it to whoever holds it already changes nothing and records nothing.
    caseloads.assign(db, as_(admin), pupil.id, None)
    assert len(befores) == len(db.scalars(select(AuditEvent).where(AuditEvent.object_type == "case")).all())


@pytest.mark.parametrize("who", [Role.SCHOOL_LEAD, Role.AP_HEAD, Role.PANEL_MEMBER, Role.PANEL_CHAIR])
def test_a_role_that_does_not_give_cases_is_refused(db: Session, world: dict[str, Any], who: Role) -> None:
    home = world["home"]
    with pytest.raises(Forbidden):
        caseloads.assign(db, as_(home["users"][who]), home["pupil"].id, home["users"][Role.LA_ADMIN].id)
    assert db.scalars(select(CaseAssignment)).all() == []


def test_another_la_s_child_is_not_found_and_another_la_s_officer_cannot_hold_the_case(
    db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    admin = home["users"][Role.LA_ADMIN]
    with pytest.raises(NotFound):
        caseloads.assign(db, as_(admin), other["pupil"].id, admin.id)
    for outsider in (other["users"][Role.ATTENDANCE_OFFICER], home["users"][Role.SCHOOL_LEAD]):
        with pytest.raises(DomainError) as refused:
            caseloads.assign(db, as_(admin), home["pupil"].id, outsider.id)
        assert refused.value.errors[0].field == "caseworker"
    gone = factories.user(db, Role.ATTENDANCE_OFFICER, home["la"])
    gone.active = False
    with pytest.raises(DomainError):
        caseloads.assign(db, as_(admin), home["pupil"].id, gone.id)
    assert db.scalars(select(CaseAssignment)).all() == []


def test_a_leaver_s_cases_and_open_alerts_are_handed_to_one_colleague(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    admin, leaving = home["users"][Role.LA_ADMIN], home["users"][Role.ATTENDANCE_OFFICER]
    taker = home["users"][Role.COMMISSIONER]
    children = [home["pupil"], home["bystander"]]
    for child in children:
        caseloads.assign(db, as_(admin), child.id, leaving.id)
    alert = db.scalars(select(Alert).where(Alert.la_id == home["la"].id)).first()
    assert alert is not None
    alert.assigned_to_id = leaving.id
    db.flush()
    assert caseloads.held_by(db, leaving) == caseloads.Held(2, 1)

    moved = caseloads.hand_over(db, as_(admin), leaving.id, taker.id)
    assert moved == caseloads.Held(2, 1)
    assert cases_of(db, leaving) == [] and cases_of(db, taker) == sorted(c.id for c in children)
    db.refresh(alert)
    assert alert.assigned_to_id == taker.id
    handed = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "assign", AuditEvent.detail["handed_over"].as_boolean())
    ).all()
    assert sorted((e.object_type, e.pupil_id) for e in handed) == sorted(
        [("case", c.id) for c in children] + [("alert", alert.pupil_id)]
    )
    assert all(e.detail["before"] == leaving.id for e in handed)
    assert db.scalars(select(Notification).where(Notification.user_id == taker.id)).one().kind == "case"


def test_a_hand_over_is_refused_whole_to_oneself_another_la_or_a_non_administrator(
    db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    admin, leaving = home["users"][Role.LA_ADMIN], home["users"][Role.ATTENDANCE_OFFICER]
    caseloads.assign(db, as_(admin), home["pupil"].id, leaving.id)
    for to in (leaving, other["users"][Role.ATTENDANCE_OFFICER], home["users"][Role.AP_HEAD]):
        with pytest.raises(DomainError):
            caseloads.hand_over(db, as_(admin), leaving.id, to.id)
    with pytest.raises(Forbidden):
        caseloads.hand_over(db, as_(leaving), leaving.id, admin.id)
    with pytest.raises(NotFound):
        caseloads.hand_over(db, as_(admin), other["users"][Role.ATTENDANCE_OFFICER].id, admin.id)
    assert cases_of(db, leaving) == [home["pupil"].id]


def test_a_child_whose_record_goes_to_another_la_leaves_the_caseload(db: Session, world: dict[str, Any]) -> None:
    from ap_register.placements import transfers

    home, other = world["home"], world["other"]
    admin, officer = home["users"][Role.LA_ADMIN], home["users"][Role.ATTENDANCE_OFFICER]
    pupil = home["pupil"]
    caseloads.assign(db, as_(admin), pupil.id, officer.id)
    asked = transfers.request_transfer(
        db,
        as_(other["users"][Role.LA_ADMIN]),
        other["la"],
        upn=pupil.upn,
        date_of_birth=pupil.date_of_birth,
        reason="The family moved to our area",
    )
    transfers.release(db, as_(admin), asked)
    assert cases_of(db, officer) == []
    last = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "case").order_by(AuditEvent.id.desc())).first()
    assert last is not None and last.detail["before"] == officer.id and last.detail["caseworker"] is None
