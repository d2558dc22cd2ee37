"""A form's answers kept across a lapsed session.

Just before a person's session lapses with a form half done, the page's script sends what they
have typed; it is kept on the server for them alone (a form draft, as the placement wizard keeps
its steps, never in the browser), and they are signed out as the lapse would have done. When they
sign in again they return to the page, which puts the answers back once and forgets them. Kept
answers nobody came back for go after the drafts' lifetime (12 hours), as every draft does.

Plain Python: the page adapter (`accounts/web`) reads the request and signs the person out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ap_register.domain.text import control_character_problem
from ap_register.models import FormDraft, User
from ap_register.models.base import utcnow
from ap_register.placements import drafts

# What a form of the register can hold, and no more: a request larger than this is not a form.
MOST_FIELDS = 200
LONGEST_NAME = 100
LONGEST_VALUE = 10_000
LONGEST_PATH = 300
LARGEST_REQUEST = 3 * 1024 * 1024  # bytes: the most fields, each the longest, as JSON
# Fields never kept: the page draws fresh ones (the form's CSRF token, its single-use token).
NOT_KEPT = frozenset({"csrf_token", "submission"})


@dataclass(frozen=True)
class Answers:
    path: str  # the page, with its query (a register's day and half are in it)
    action: str  # the form the answers are for, of the page's forms
    fields: list[tuple[str, str]]


def _kind(path: str) -> str:
    # One draft per person and page: its kind names the page (the drafts' kind is 40 characters).
    return "kept:" + hashlib.sha256(path.encode()).hexdigest()[:32]


def _a_page(path: Any) -> bool:
    return (
        isinstance(path, str)
        and path.startswith("/")
        and not path.startswith("//")
        and len(path) <= LONGEST_PATH
        and "\\" not in path
        and control_character_problem(path) is None
    )


def _never_kept(name: str) -> bool:
    """A secret is never kept, whatever the page's script sent: passwords, a sign-in code."""
    return name in NOT_KEPT or "password" in name.lower() or name == "code"


def read(payload: Any) -> Answers | str:
    """The answers a page's script sent, or why they cannot be kept."""
    if not isinstance(payload, dict):
        return "Send the page's path and its fields"
    path, action, fields = payload.get("path"), payload.get("action"), payload.get("fields")
    if not isinstance(path, str) or not isinstance(action, str) or not _a_page(path) or not _a_page(action):
        return "The path must be one of this service's pages"
    if not isinstance(fields, list) or len(fields) > MOST_FIELDS:
        return f"Send at most {MOST_FIELDS} fields, each a name and a value"
    kept = []
    for field in fields:
        if not (isinstance(field, list) and len(field) == 2 and all(isinstance(part, str) for part in field)):
            return "Each field must be a name and a value"
        name, value = field
        if not name or len(name) > LONGEST_NAME or len(value) > LONGEST_VALUE:
            return f"Each field's name must be 1 to {LONGEST_NAME} characters and its value {LONGEST_VALUE} or fewer"
        problem = control_character_problem(name) or control_character_problem(value, multiline=True)
        if problem is not None:
            return f"A field {problem}"
        if not _never_kept(name):
            kept.append((name, value))
    return Answers(path, action, kept)


def keep(session: Session, user: User, answers: Answers) -> None:
    """Keep these answers for this person and page, in place of any kept before (one page's
    answers at a time: a person is signed out once)."""
    session.execute(delete(FormDraft).where(FormDraft.user_id == user.id, FormDraft.kind.like("kept:%")))
    user.answers_kept_at = utcnow()
    drafts.start(
        session,
        user,
        _kind(answers.path),
        {"path": answers.path, "action": answers.action, "fields": answers.fields},
    )


def peek(session: Session, user: User, path: str) -> dict[str, Any] | None:
    """The answers kept for this person on this page (its path and query), if any: the form's
    action and its fields. `forget` them once the page that puts them back has been sent.
    No query unless answers were kept for them within a draft's lifetime (most pages)."""
    if len(path) > LONGEST_PATH or not may_have_kept(user):
        return None
    draft = session.scalar(select(FormDraft).where(FormDraft.user_id == user.id, FormDraft.kind == _kind(path)))
    if draft is None or draft.created_at < utcnow() - drafts.LIFETIME or draft.data.get("path") != path:
        return None
    return {
        "action": str(draft.data.get("action", "")),
        "fields": [[str(name), str(value)] for name, value in draft.data.get("fields", [])],
    }


def may_have_kept(user: User) -> bool:
    """Whether answers may be kept for this person: kept, not yet put back, and not yet past a
    draft's lifetime (one page's answers at a time, so putting them back ends it)."""
    kept = user.answers_kept_at
    return kept is not None and kept >= utcnow() - drafts.LIFETIME


def forget(session: Session, user: User, path: str) -> None:
    session.execute(delete(FormDraft).where(FormDraft.user_id == user.id, FormDraft.kind == _kind(path)))
    user.answers_kept_at = None  # one page's answers at a time: none are left


def seconds_left(last_seen: float | None, now: float, lifetime: timedelta) -> float:
    """How long the session has before it lapses, by its last use before this request."""
    if last_seen is None:
        return 0.0
    return lifetime.total_seconds() - (now - last_seen)


def still_in_use(last_seen: float | None, now: float, lifetime: timedelta) -> bool:
    """Whether the session has time left (a minute, or half of a shorter one), because it was
    used since this page last renewed it (in another tab): then it is not lapsing, and nothing
    is kept or signed out. The page asks 5 seconds before its own count ends; a timer may fire
    late, never early."""
    seconds = lifetime.total_seconds()
    return seconds_left(last_seen, now, lifetime) > min(60.0, seconds / 2)
