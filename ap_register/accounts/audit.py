"""Audit events: every view and change of a pupil's record, and every administrative change."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from ap_register.domain.actors import Actor
from ap_register.domain.bulk import Writer
from ap_register.models import AuditEvent, Pupil
from ap_register.models.base import utcnow


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


def record_many(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    about: Mapping[int, dict[str, Any]] | Iterable[tuple[int, dict[str, Any]]],
    *,
    object_ids: Mapping[int, str] | None = None,
) -> None:
    """One audit event per pupil (`about`: pupil id -> the event's detail, or such pairs made one
    at a time, so that a million events need not be held at once; `object_ids`: pupil id -> the
    object each is about, when it is named), written at once (COPY on PostgreSQL) in the
    caller's transaction: what a bulk change (an import) leaves on each child's record, as
    `record` does for one."""
    if isinstance(about, Mapping):
        if not about:
            return
        about = about.items()
    at = utcnow()
    # Read before the write starts: a signed-in actor's attributes may load from the database,
    # which cannot answer on a connection in the middle of a COPY.
    user_id, name, via, ip = actor.user_id, actor.name, actor.via, actor.ip
    Writer(session.connection()).write(
        "audit_event",
        ("at", "user_id", "actor", "action", "object_type", "object_id", "pupil_id", "detail", "ip"),
        (
            (
                at,
                user_id,
                name,
                action,
                object_type,
                object_ids.get(pupil_id) if object_ids is not None else None,
                pupil_id,
                json.dumps({"via": via, **detail}),
                ip,
            )
            for pupil_id, detail in about
        ),
    )
