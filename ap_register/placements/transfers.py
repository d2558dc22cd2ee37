"""A child's record moving from one local authority to another, when the family moves.

The receiving LA asks for the record by the child's UPN and date of birth; the LA that holds it
releases it (or declines). Releasing makes the receiving LA the child's home LA: from then on
its people see and keep the record, and the holding LA's people see it no more (the settings
that worked with the child keep what they saw). Nothing else moves a child between LAs: an
import never does.

A request reveals nothing to the LA that makes it: the answer is the same whether anyone holds
the UPN or not, and the request shows "waiting" until the holding LA decides. Requests are
audited, and the holding LA's administrators are told of each in their inbox.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.casework import caseloads
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Forbidden, NotFound, Refusal
from ap_register.domain.notifications import notify
from ap_register.domain.text import control_character_problem
from ap_register.domain.upn import check_upn
from ap_register.domain.vocab import Role
from ap_register.models import LocalAuthority, Pupil, PupilTransfer, Referral, User
from ap_register.models.base import utcnow

STATUS_LABELS = {
    "requested": "Waiting for the holding LA",
    "released": "Released to you",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}
# The same, as the LA asked sees them.
HOLDER_LABELS = {**STATUS_LABELS, "requested": "Waiting for you", "released": "Released"}


def _admins(session: Session, la_id: int) -> list[User]:
    return list(
        session.scalars(select(User).where(User.la_id == la_id, User.role == Role.LA_ADMIN, User.active.is_(True)))
    )


def _require_admin_of(actor: Actor, la_id: int | None) -> None:
    user = actor.user
    if user is None:
        return
    if not permissions.role_allows(user, "pupil.transfer") or user.la_id is None:
        raise Forbidden("Only a local authority's administrators move a child's record between LAs")
    if la_id is not None and user.la_id != la_id:
        raise NotFound("Page not found")


def request_transfer(
    session: Session,
    actor: Actor,
    to_la: LocalAuthority,
    *,
    upn: str,
    date_of_birth: date | None,
    reason: str,
    today: date | None = None,
) -> PupilTransfer:
    """Ask for the record of the child with this UPN. Refuses only what the request itself
    gets wrong (a UPN without its check letter, a missing date of birth or reason, a child
    already of this LA, a request already waiting); whether anyone holds the UPN is never said."""
    _require_admin_of(actor, to_la.id)
    today = today or clock.today()
    refusal = Refusal()
    checked = check_upn(upn)
    if not checked.valid:
        refusal.add("upn", checked.message or "Enter the child's UPN")
    if date_of_birth is None:
        refusal.add("date_of_birth", "Enter the child's date of birth")
    elif date_of_birth >= today:
        refusal.add("date_of_birth", "The date of birth must be in the past")
    reason = reason.strip()
    if not reason:
        refusal.add("reason", "Say why the record should come to you, for example the family's move")
    elif problem := control_character_problem(reason, multiline=True):
        refusal.add("reason", f"The reason {problem}")
    refusal.raise_if_any("The request was not sent")
    assert checked.upn is not None and date_of_birth is not None
    holder = session.scalar(select(Pupil).where(Pupil.upn == checked.upn))
    if holder is not None and holder.home_la_id == to_la.id:
        refusal.add("upn", "This child is already one of your local authority's pupils")
    waiting = session.scalar(
        select(PupilTransfer.id).where(
            PupilTransfer.upn == checked.upn, PupilTransfer.to_la_id == to_la.id, PupilTransfer.status == "requested"
        )
    )
    if waiting is not None:
        refusal.add("upn", "A request for this UPN is already waiting")
    refusal.raise_if_any("The request was not sent")
    transfer = PupilTransfer(
        upn=checked.upn,
        date_of_birth=date_of_birth,
        reason=reason,
        to_la_id=to_la.id,
        pupil_id=holder.id if holder is not None else None,
        from_la_id=holder.home_la_id if holder is not None else None,
        requested_by_id=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(transfer)
            session.flush()
    except IntegrityError:
        # Another of the LA's people asked for the same UPN at this moment.
        refusal.add("upn", "A request for this UPN is already waiting")
        refusal.raise_if_any("The request was not sent")
    audit.record(
        session,
        actor,
        "request",
        "transfer",
        transfer.id,
        pupil_id=transfer.pupil_id,
        detail={"to_la": to_la.code},
    )
    if holder is not None:
        notify(
            session,
            _admins(session, holder.home_la_id),
            kind="transfer_requested",
            subject=f"{to_la.name} asks for a child's record",
            body=(
                f"{to_la.name} asks for the record of the child with UPN {transfer.upn}: {reason}. "
                "Release it if the child has moved to their area, or decline it."
            ),
            link=f"/admin/transfers/{transfer.id}",
            pupil_id=holder.id,
        )
    return transfer


def scope_transfers(actor: Actor, stmt: object) -> object:
    """Requests an LA made, and requests for children it holds (the only ones it may decide)."""
    user = actor.user
    if user is None:
        return stmt
    return stmt.where(  # type: ignore[attr-defined]
        or_(PupilTransfer.to_la_id == user.la_id, PupilTransfer.from_la_id == user.la_id)
    )


def get_transfer(session: Session, actor: Actor, transfer_id: int) -> PupilTransfer:
    _require_admin_of(actor, None)
    found = session.scalar(scope_transfers(actor, select(PupilTransfer).where(PupilTransfer.id == transfer_id)))  # type: ignore[arg-type]
    if found is None:
        raise NotFound("Page not found")
    return found


def incoming(session: Session, actor: Actor, la: LocalAuthority) -> list[PupilTransfer]:
    """Requests for children this LA holds, the waiting ones first."""
    _require_admin_of(actor, la.id)
    return list(
        session.scalars(
            select(PupilTransfer)
            .where(PupilTransfer.from_la_id == la.id)
            .order_by((PupilTransfer.status == "requested").desc(), PupilTransfer.requested_at.desc())
        )
    )


def outgoing(session: Session, actor: Actor, la: LocalAuthority) -> list[PupilTransfer]:
    """Requests this LA made, newest first."""
    _require_admin_of(actor, la.id)
    return list(
        session.scalars(
            select(PupilTransfer).where(PupilTransfer.to_la_id == la.id).order_by(PupilTransfer.requested_at.desc())
        )
    )


def _decide(session: Session, actor: Actor, transfer: PupilTransfer, status: str, note: str) -> None:
    transfer.status = status
    transfer.decided_by_id = actor.user_id
    transfer.decided_at = utcnow()
    transfer.decision_note = note.strip() or None


def _hold(session: Session, transfer: PupilTransfer) -> None:
    """Hold the request's child, then the request, for the rest of the transaction, and read them
    again: two decisions at once (a release and a decline, two releases, a release and a
    withdrawal) take turns, and the second sees what the first did. The child first, always: two
    releases of two LAs' requests for one child then queue on the child and never deadlock.
    SQLite already serialises writers."""
    if transfer.pupil_id is not None:
        session.execute(select(Pupil.id).where(Pupil.id == transfer.pupil_id).with_for_update())
    session.execute(select(PupilTransfer.id).where(PupilTransfer.id == transfer.id).with_for_update())
    session.refresh(transfer)
    if transfer.pupil is not None:
        session.refresh(transfer.pupil)


def _holding(session: Session, actor: Actor, transfer: PupilTransfer) -> Pupil:
    """The child of a waiting request, for the LA that holds them; NotFound for anyone else."""
    _require_admin_of(actor, transfer.from_la_id)
    if transfer.from_la_id is None or transfer.pupil_id is None:
        raise NotFound("Page not found")
    _hold(session, transfer)
    _require_admin_of(actor, transfer.from_la_id)  # again: a release meanwhile may have moved it
    assert transfer.pupil is not None
    refusal = Refusal()
    if transfer.status != "requested":
        refusal.add("", "This request has already been decided")
    elif transfer.pupil.home_la_id != transfer.from_la_id:
        refusal.add("", "This child's record is no longer held by your local authority")
    refusal.raise_if_any("Nothing was changed")
    return transfer.pupil


def release(session: Session, actor: Actor, transfer: PupilTransfer, *, note: str = "") -> Pupil:
    """The holding LA lets the child's record go: the receiving LA becomes the home LA. The
    child stays on their school's roll until that school records them leaving."""
    pupil = _holding(session, actor, transfer)
    previous = pupil.home_la_id
    pupil.home_la_id = transfer.to_la_id
    caseloads.release(session, actor, pupil, "record released to another local authority")
    _decide(session, actor, transfer, "released", note)
    for other in session.scalars(
        select(PupilTransfer).where(
            PupilTransfer.pupil_id == pupil.id, PupilTransfer.status == "requested", PupilTransfer.id != transfer.id
        )
    ):
        # Other LAs' waiting requests now wait for the LA that holds the record (they learn
        # nothing: a request for a UPN nobody holds waits too), which is told of them.
        other.from_la_id = transfer.to_la_id
        notify(
            session,
            _admins(session, transfer.to_la_id),
            kind="transfer_requested",
            subject=f"{other.to_la.name} asks for a child's record",
            body=f"{other.to_la.name} asks for the record of the child with UPN {other.upn}: {other.reason}.",
            link=f"/admin/transfers/{other.id}",
            pupil_id=pupil.id,
        )
    for referral in session.scalars(
        select(Referral).where(
            Referral.pupil_id == pupil.id, Referral.la_id == previous, Referral.status == "submitted"
        )
    ):
        # The panel of the LA that let the child go decides nothing more for them.
        referral.status = "withdrawn"
        audit.record(
            session,
            actor,
            "withdraw",
            "referral",
            referral.id,
            pupil_id=pupil.id,
            detail={"reason": "The child's record moved to another local authority"},
        )
    session.flush()
    audit.record(
        session,
        actor,
        "release",
        "transfer",
        transfer.id,
        pupil_id=pupil.id,
        detail={"from_la_id": previous, "to_la_id": transfer.to_la_id},
    )
    _tell_requester(session, transfer, f"The record of the child with UPN {transfer.upn} is now yours")
    return pupil


def decline(session: Session, actor: Actor, transfer: PupilTransfer, *, note: str) -> None:
    """The holding LA keeps the record, saying why (the receiving LA reads the reason)."""
    pupil = _holding(session, actor, transfer)
    if not note.strip():
        refusal = Refusal()
        refusal.add("note", "Say why, so that the other local authority knows what to do next")
        refusal.raise_if_any("Nothing was changed")
    _decide(session, actor, transfer, "declined", note)
    session.flush()
    audit.record(session, actor, "decline", "transfer", transfer.id, pupil_id=pupil.id)
    _tell_requester(session, transfer, f"Your request for the record of UPN {transfer.upn} was declined: {note}")


def withdraw(session: Session, actor: Actor, transfer: PupilTransfer) -> None:
    """The receiving LA no longer needs the record."""
    _require_admin_of(actor, transfer.to_la_id)
    _hold(session, transfer)
    if transfer.status != "requested":
        refusal = Refusal()
        refusal.add("", "This request has already been decided")
        refusal.raise_if_any("Nothing was changed")
    _decide(session, actor, transfer, "withdrawn", "")
    session.flush()
    audit.record(session, actor, "withdraw", "transfer", transfer.id)


def _tell_requester(session: Session, transfer: PupilTransfer, body: str) -> None:
    notify(
        session,
        _admins(session, transfer.to_la_id),
        kind="transfer_decided",
        subject="A request for a child's record was decided",
        body=body,
        link=f"/admin/transfers/{transfer.id}",
    )
