"""People who sign in: creating them, checking passwords (argon2id), changing passwords."""

from __future__ import annotations

import secrets
import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, NotFound, Refusal
from ap_register.domain.vocab import AP_KINDS, LA_ROLES, ROLE_LABELS, Role, SettingKind
from ap_register.models import LocalAuthority, Setting, User
from ap_register.models.base import utcnow

# argon2-cffi's defaults are Argon2id with the RFC 9106 low-memory profile.
_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
# Verified against when an email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


MAX_PASSWORD_LENGTH = 128
# Words that guessers try first on this service.
SERVICE_WORDS = ("apregister", "alternativeprovision", "password")


# A temporary password is read out over the phone: lower case letters and digits only, none that
# look or sound alike (no 0 and o, 1 and l or i), in groups of four.
READ_ALOUD = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_GROUPS = 4


def temporary_password() -> str:
    """A password to give a person by phone or in person, changed at their first sign-in: four
    groups of four characters (about 79 bits), such as "kd7m-3xq9-tv4p-wr8h"."""
    return "-".join("".join(secrets.choice(READ_ALOUD) for _ in range(4)) for _ in range(TEMPORARY_GROUPS))


@cache
def common_passwords() -> frozenset[str]:
    """30,000 of the most common passwords (zxcvbn's list, from leaked password sets)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, email: str = "") -> str | None:
    """NCSC's advice: a length and a deny-list, no rules about which kinds of character. Refused:
    short ones; very long ones (hashing cost); common passwords, with or without digits and
    symbols before or after; a few characters repeated; the email address or its name part; the
    service's own name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be {MIN_PASSWORD_LENGTH} characters or more"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    folded = unicodedata.normalize("NFKC", password).lower()
    core = "".join(folded.split()).strip("0123456789!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~£")
    if folded in common_passwords() or core in common_passwords():
        return "Password is one of the most common passwords: choose one that is harder to guess"
    repeated = any(folded == (folded[:n] * len(folded))[: len(folded)] for n in (1, 2, 3))
    if repeated or len(set(folded)) <= 3:
        return "Password repeats a few characters: choose one that is harder to guess"
    local = email.split("@")[0].lower()
    if email and (folded == email.lower() or (len(local) >= 4 and local in folded)):
        return "Password must not contain your email address or your name from it"
    squashed = "".join(ch for ch in folded if ch.isalnum())
    if any(word in squashed and len(squashed) - len(word) < 6 for word in SERVICE_WORDS):
        return "Password is too close to a common word or this service's name: choose one that is harder to guess"
    return None


def normalise_email(raw: str) -> str:
    """One form of an address however it is typed: Unicode compatibility form, no spaces
    anywhere, lower case. Sign-in and its per-account limit both use it, so "User@X.org " and
    "user@x.org" are one account (and one count of failures)."""
    return "".join(unicodedata.normalize("NFKC", raw).split()).lower()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Rehashes old-parameter hashes."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active or user.is_api_client:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_signed_in_at = utcnow()
    return user


def resolve_organisation(session: Session, ref: str) -> LocalAuthority | Setting:
    """An organisation from a reference: an LA's 3-digit code, a setting's URN or local ref,
    or `LA/REF` where a local ref is used in more than one LA."""
    ref = ref.strip()
    if "/" in ref:
        la_code, setting_ref = (part.strip() for part in ref.split("/", 1))
        setting = session.scalar(
            select(Setting).join(LocalAuthority).where(LocalAuthority.code == la_code, Setting.ref == setting_ref)
        )
        if setting is None:
            raise NotFound(f"No setting {setting_ref} in LA {la_code}")
        return setting
    if len(ref) == 3 and ref.isdigit():
        la = session.scalar(select(LocalAuthority).where(LocalAuthority.code == ref))
        if la is None:
            raise NotFound(f"No local authority with code {ref}: run init-db to load the LA codes")
        return la
    settings = session.scalars(select(Setting).where((Setting.ref == ref) | (Setting.urn == ref))).all()
    if not settings:
        raise NotFound(f"No setting with URN or reference {ref}")
    if len({s.id for s in settings}) > 1:
        raise DomainError(f"More than one setting has reference {ref}: give it as LA/REF")
    return settings[0]


def role_problem(role: Role, organisation: LocalAuthority | Setting) -> str | None:
    """Why this role cannot belong to this organisation, or None."""
    if role in LA_ROLES:
        if not isinstance(organisation, LocalAuthority):
            return f"{ROLE_LABELS[role]} is a local authority role: choose an LA, not a setting"
        return None
    if not isinstance(organisation, Setting):
        return f"{ROLE_LABELS[role]} is a role in a setting: choose a setting, not an LA"
    if role == Role.AP_HEAD and organisation.kind not in AP_KINDS:
        return "An AP head belongs to an alternative provision setting"
    if role == Role.SCHOOL_LEAD and organisation.kind not in (SettingKind.MAINSTREAM, SettingKind.SPECIAL):
        return "A school lead belongs to a mainstream or special school"
    return None


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: Role,
    organisation: LocalAuthority | Setting,
    password: str,
    must_change_password: bool = False,
) -> User:
    refusal = Refusal()
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        refusal.add("email", f"Enter a valid email address ({error})")
    else:
        if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
            refusal.add("email", "A user with this email address already exists")
    if not name.strip():
        refusal.add("name", "Enter the person's name")
    problem = role_problem(role, organisation)
    if problem:
        refusal.add("role", problem)
    problem = password_problem(password, email)
    if problem:
        refusal.add("password", problem)
    refusal.raise_if_any("The user could not be created")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        la_id=organisation.id if isinstance(organisation, LocalAuthority) else None,
        setting_id=organisation.id if isinstance(organisation, Setting) else None,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id, detail={"email": email, "role": role.value})
    return user


def change_password(session: Session, actor: Actor, user: User, current: str, new: str) -> None:
    refusal = Refusal()
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        refusal.add("current_password", "Your current password is not right")
    problem = password_problem(new, user.email)
    if problem:
        refusal.add("new_password", problem)
    elif new == current:
        refusal.add("new_password", "Choose a password different from your current one")
    refusal.raise_if_any("Your password was not changed")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    audit.record(session, actor, "change_password", "user", user.id)


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    if actor.user is not None and actor.user.id == user.id and not active:
        raise DomainError("You cannot deactivate your own account")
    user.active = active
    user.session_version += 1
    audit.record(session, actor, "activate" if active else "deactivate", "user", user.id)
