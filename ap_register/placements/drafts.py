"""Drafts of multi-page forms, held on the server for the user who started them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ap_register.domain.errors import NotFound
from ap_register.models import FormDraft, FormSubmission, User
from ap_register.models.base import utcnow

LIFETIME = timedelta(hours=12)


def start(session: Session, user: User, kind: str, data: dict[str, Any]) -> FormDraft:
    # Old drafts are cleared as new ones start: they hold personal data nobody confirmed.
    session.execute(delete(FormDraft).where(FormDraft.created_at < utcnow() - LIFETIME))
    draft = FormDraft(token=secrets.token_urlsafe(32), user_id=user.id, kind=kind, data=data)
    session.add(draft)
    session.flush()
    return draft


def get(session: Session, user: User, kind: str, token: str) -> FormDraft:
    draft = session.scalar(
        select(FormDraft).where(FormDraft.token == token, FormDraft.user_id == user.id, FormDraft.kind == kind)
    )
    if draft is None or draft.created_at < utcnow() - LIFETIME:
        raise NotFound("This form has expired: start again")
    return draft


def update(draft: FormDraft, **values: Any) -> None:
    draft.data = {**draft.data, **values}


def hold(session: Session, draft: FormDraft) -> None:
    """Take the draft's row lock for the rest of the transaction and read it again, before
    confirming it. A second confirmation at the same moment waits here (PostgreSQL; on SQLite
    transactions take turns from their first statement) and then finds the draft finished."""
    held = session.scalar(select(FormDraft.token).where(FormDraft.token == draft.token).with_for_update())
    if held is None:
        raise NotFound("This form has expired: start again")
    session.refresh(draft)


def finish(draft: FormDraft, made_id: int) -> None:
    """The draft was confirmed and made this record (call it holding the draft, see `hold`).
    Its answers go (personal data nobody needs now); the draft points at what it made until it
    expires, so that sending it again shows that instead of making it twice."""
    draft.made_id = made_id
    draft.data = {}


# A page form's single-use token: see models.drafts.FormSubmission.
SUBMISSION_LIFETIME = timedelta(days=1)


def new_submission_token() -> str:
    return secrets.token_urlsafe(32)[:43]


def claim_submission(session: Session, user: User | None, token: str) -> bool:
    """Take this form's token for this request's transaction; False if it was already taken (the
    form was sent before, or is being sent at this moment by another request, which waits here
    until that one ends). Tokens older than a day are let go."""
    session.execute(delete(FormSubmission).where(FormSubmission.sent_at < utcnow() - SUBMISSION_LIFETIME))
    # Kept per person: one person's token, however it is chosen, never blocks another's form.
    key = hashlib.sha256(f"{user.id if user is not None else 0}:{token}".encode()).hexdigest()[:43]
    try:
        with session.begin_nested():
            session.add(FormSubmission(token=key, user_id=user.id if user is not None else None))
            session.flush()
    except IntegrityError:
        return False
    return True
