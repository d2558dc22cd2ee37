"""Caseloads: the officer of a child's home LA who follows the child's case.

A child has one caseworker at most (`CaseAssignment`). An officer of the child's home LA gives
the case to a colleague who may hold cases (`case.assign`, `case.hold` in permissions.py); the
person named is told in their inbox (without the child's name: an inbox may be read by email).
When someone leaves, an LA administrator hands all their cases and the open alerts given to them
to one colleague at once (`case.hand_over`), so that no child is left with nobody following
them. A child whose record moves to another LA, or is anonymised, leaves the caseload
(`release`). Each change is audited on the child's record: who holds the case now and who did
before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.casework.notes import ANONYMISED
from ap_register.coverage.alerts import assign as give_alert
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError
from ap_register.domain.notifications import notify
from ap_register.domain.vocab import Role
from ap_register.models import Alert, CaseAssignment, Pupil, User

HOLDERS = frozenset(role for role in Role if role in permissions.ACTIONS["case.hold"])


def caseworkers(session: Session, la_id: int) -> list[User]:
    """Who may hold a case of this LA's children: its active officers in a role that holds cases."""
    return list(
        session.scalars(
            select(User)
            .where(User.la_id == la_id, User.active.is_(True), User.kind == "person", User.role.in_(HOLDERS))
            .order_by(User.name, User.id)
        )
    )


def caseworker_of(session: Session, pupil: Pupil) -> User | None:
    """The child's caseworker, if any (the child is already one the caller may see)."""
    return session.scalar(
        select(User).join(CaseAssignment, CaseAssignment.user_id == User.id).where(CaseAssignment.pupil_id == pupil.id)
    )


def assign(session: Session, actor: Actor, pupil_id: int, user_id: int | None) -> User | None:
    """Give the child's case to an officer (None: to nobody). Refused, changing nothing, for a
    child the actor may not see (NotFound), may not give (Forbidden), or a person who may not hold
    this child's case. Giving it to whoever holds it already changes nothing."""
    pupil = permissions.get_pupil(session, actor, pupil_id)
    permissions.require(session, actor, "case.assign", pupil)
    if pupil.anonymised_on is not None:
        raise DomainError("The case was not given", [FieldError("caseworker", ANONYMISED)])
    officer = None
    if user_id is not None:
        officer = next((u for u in caseworkers(session, pupil.home_la_id) if u.id == user_id), None)
        if officer is None:
            raise DomainError(
                "The case was not given",
                [FieldError("caseworker", "Choose an officer of the child's local authority who holds cases")],
            )
    with session.begin_nested():
        # The child's row locked first: two people giving the case at once are taken in turn.
        session.execute(select(Pupil.id).where(Pupil.id == pupil.id).with_for_update())
        held = session.get(CaseAssignment, pupil.id, populate_existing=True)
        before = held.user_id if held is not None else None
        if before == (officer.id if officer is not None else None):
            return officer
        if held is not None:
            session.delete(held)
            session.flush()
        if officer is not None:
            session.add(CaseAssignment(pupil_id=pupil.id, user_id=officer.id, assigned_by_id=actor.user_id))
            notify(
                session,
                [officer],
                kind="case",
                subject="A child's case was given to you",
                body=f"{_who(actor)} gave you a child's case: it is under My cases in the register.",
                link=f"/pupils/{pupil.id}",
                pupil_id=pupil.id,
            )
        session.flush()
        _audited(session, actor, pupil.id, officer.id if officer is not None else None, before)
    return officer


def _audited(
    session: Session, actor: Actor, pupil_id: int, caseworker: int | None, before: int | None, **why: Any
) -> None:
    """The change on the child's audit trail: who holds the case now, and who did before."""
    detail = {"caseworker": caseworker, "before": before, **why}
    audit.record(session, actor, "assign", "case", pupil_id, pupil_id=pupil_id, detail=detail)


def my_cases(session: Session, actor: Actor) -> list[tuple[Pupil, CaseAssignment]]:
    """The children whose case the actor holds (of those they may see), by name."""
    if actor.user is None:
        return []
    rows = session.execute(
        permissions.scope_pupils(
            actor,
            select(Pupil, CaseAssignment)
            .options(joinedload(Pupil.home_school))  # each child's school is shown: one query, not one each
            .join(CaseAssignment, CaseAssignment.pupil_id == Pupil.id)
            .where(CaseAssignment.user_id == actor.user.id)
            .order_by(Pupil.last_name, Pupil.first_name, Pupil.id),
        )
    ).all()
    return [(pupil, held) for pupil, held in rows]


@dataclass(frozen=True)
class Held:
    """What a person holds that someone must take on if they leave."""

    cases: int
    alerts: int
    # Whether `hand_over` can take them: an LA officer's (a setting's people give each alert
    # to a colleague on the alert's page).
    handed_over_here: bool = True


def held_by(session: Session, user: User) -> Held:
    cases = session.scalar(select(func.count()).where(CaseAssignment.user_id == user.id)) or 0
    alerts = session.scalar(
        select(func.count()).where(Alert.assigned_to_id == user.id, Alert.status.in_(("open", "acknowledged")))
    )
    return Held(cases, alerts or 0, user.la_id is not None)


def hand_over(session: Session, actor: Actor, from_user_id: int, to_user_id: int) -> Held:
    """Hand all of a person's cases, and the open alerts given to them, to one colleague who holds
    cases (an LA administrator, for someone of their LA: a person outside it is not found). Each
    child's record and each alert say who held it before."""
    permissions.require(session, actor, "case.hand_over")
    leaving = permissions.get_user(session, actor, from_user_id)
    if leaving.la_id is None:
        raise DomainError("Nothing was handed over", [FieldError("to", "Only an LA officer holds cases")])
    taker = next((u for u in caseworkers(session, leaving.la_id) if u.id == to_user_id), None)
    if taker is None or taker.id == leaving.id:
        raise DomainError(
            "Nothing was handed over",
            [FieldError("to", f"Choose an officer of the local authority, other than {leaving.name}, who holds cases")],
        )
    with session.begin_nested():
        cases = session.scalars(
            select(CaseAssignment).where(CaseAssignment.user_id == leaving.id).with_for_update()
        ).all()
        alerts = session.scalars(
            select(Alert)
            .where(Alert.assigned_to_id == leaving.id, Alert.status.in_(("open", "acknowledged")))
            .with_for_update()
        ).all()
        for held in cases:
            held.user_id, held.assigned_by_id = taker.id, actor.user_id
        session.flush()
        audit.record_many(
            session,
            actor,
            "assign",
            "case",
            [(held.pupil_id, {"caseworker": taker.id, "before": leaving.id, "handed_over": True}) for held in cases],
            object_ids={held.pupil_id: str(held.pupil_id) for held in cases},
        )
        for alert in alerts:
            give_alert(session, actor, alert, taker, before=leaving.id, handed_over=True)
        if cases or alerts:
            notify(
                session,
                [taker],
                kind="case",
                subject="Cases and alerts were handed to you",
                body=f"{_who(actor)} handed you {leaving.name}'s {len(cases)} cases and {len(alerts)} open alerts.",
                link="/cases",
            )
    return Held(len(cases), len(alerts))


def _who(actor: Actor) -> str:
    return actor.user.name if actor.user is not None else actor.name


def release(session: Session, actor: Actor, pupil: Pupil, why: str) -> None:
    """The child leaves their caseworker's caseload (their record moved to another LA, or was
    anonymised), in the caller's transaction."""
    held = session.get(CaseAssignment, pupil.id)
    if held is None:
        return
    before = held.user_id
    session.delete(held)
    session.flush()
    _audited(session, actor, pupil.id, None, before, why=why)
