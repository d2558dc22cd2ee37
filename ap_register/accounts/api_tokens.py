"""API clients and their tokens: created and revoked by an LA administrator, stored hashed.

A client is a user account of kind `api_client` with an organisation and a role, so that every
permission rule, scope and audit event that applies to a person applies to a script in the same
way. It cannot sign in to the pages. The secret is shown once, when the token is created.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.accounts.users import role_problem
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Forbidden, NotFound, Refusal
from ap_register.domain.vocab import Role
from ap_register.models import ApiToken, LocalAuthority, Setting, User
from ap_register.models.base import utcnow

PREFIX = "apr_"
MAX_DAYS = 366
DEFAULT_DAYS = 90
# A token's last use is written at most this often, not on every call.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def status(token: ApiToken, now: datetime | None = None) -> str:
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    return "active"


def create_token(
    session: Session,
    actor: Actor,
    *,
    name: str,
    organisation: LocalAuthority | Setting | None,
    role: Role | None,
    days: int | None,
) -> NewToken:
    """A new API client with its token. The LA admin's own LA and its settings only."""
    permissions.require(session, actor, "admin.api_tokens")
    refusal = Refusal()
    name = (name or "").strip()
    if not name:
        refusal.add("name", "Enter a name that says which system uses this token")
    elif len(name) > 200:
        refusal.add("name", "The name must be 200 characters or fewer")
    if organisation is None:
        refusal.add("organisation", "Choose the organisation the token acts for")
    elif actor.user is not None:
        la_id = organisation.id if isinstance(organisation, LocalAuthority) else organisation.la_id
        if la_id != actor.user.organisation_la_id:
            refusal.add("organisation", "Choose your own local authority or one of its settings")
    if role is None:
        refusal.add("role", "Choose the role the token acts in")
    elif organisation is not None:
        problem = role_problem(role, organisation)
        if problem:
            refusal.add("role", problem)
    if days is None or not 1 <= days <= MAX_DAYS:
        refusal.add("days", f"Enter how many days the token lasts, from 1 to {MAX_DAYS}")
    refusal.raise_if_any("The token could not be created")
    assert organisation is not None and role is not None and days is not None
    client = User(
        email=f"api-client-{uuid.uuid4().hex}@api.invalid",
        name=name,
        role=role,
        # Not a password hash: argon2 refuses it, and api clients are refused before it is read.
        password_hash="!api-client",
        la_id=organisation.id if isinstance(organisation, LocalAuthority) else None,
        setting_id=organisation.id if isinstance(organisation, Setting) else None,
        kind="api_client",
    )
    session.add(client)
    session.flush()
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        client_id=client.id,
        token_hash=digest(secret),
        prefix=secret[: len(PREFIX) + 6],
        created_by_id=actor.user_id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "api_token",
        token.id,
        detail={"name": name, "role": role.value, "days": days, "prefix": token.prefix},
    )
    return NewToken(token, secret)


def tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The tokens of clients in the actor's LA (its own and its settings'), newest first."""
    permissions.require(session, actor, "admin.api_tokens")
    stmt = select(ApiToken).join(User, ApiToken.client_id == User.id).order_by(ApiToken.created_at.desc())
    return list(session.scalars(permissions.scope_users(actor, stmt)))


def get_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    for token in tokens(session, actor):
        if token.id == token_id:
            return token
    raise NotFound("Page not found")


def revoke(session: Session, actor: Actor, token: ApiToken) -> None:
    """Stop a token working at once. Revoking is final: a new token is created instead."""
    permissions.require(session, actor, "admin.api_tokens")
    if token.revoked_at is not None:
        raise Forbidden("This token was already revoked")
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.user_id
    token.client.active = False
    token.client.session_version += 1
    audit.record(session, actor, "revoke", "api_token", token.id, detail={"prefix": token.prefix})


def authenticate(session: Session, secret: str, now: datetime | None = None) -> User | None:
    """The API client whose active token this is, or None (unknown, revoked or expired)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    now = now or utcnow()
    if token is None or status(token, now) != "active" or not token.client.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token.client
