"""Audit events: every view and change of a pupil's record, and every administrative change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ap_register.domain.actors import Actor
from ap_register.models import AuditEvent, Pupil


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | str | None = None,
    *,
    pupil_id: int | None = None,
    detail: dict[str, Any] | None = None,
    pupil: Pupil | None = None,
) -> AuditEvent:
    """Append one audit event in the caller's transaction (so it commits or rolls back with the
    change). Give `pupil` instead of `pupil_id` for a pupil not yet flushed."""
    event = AuditEvent(
        user_id=actor.user_id,
        actor=actor.name,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        pupil_id=pupil_id,
        detail={"via": actor.via, **(detail or {})},
        ip=actor.ip,
    )
    if pupil is not None:
        event.pupil = pupil
    session.add(event)
    return event
