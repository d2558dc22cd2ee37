"""An optional second step at sign-in for the local authority's people: a 6-digit code from an
authenticator app (TOTP, RFC 6238, 30-second steps). LA roles see every child of the area, so a
stolen password alone should not be enough. Each code is accepted once.

The shared secret is sealed at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag) with a key kept
outside the database, so a copy of the database or a backup does not give the codes away."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, Forbidden
from ap_register.domain.vocab import LA_ROLES
from ap_register.models import User

ISSUER = "AP register"
STEP = 30


class SecretBox:
    """Seals and opens the secrets. The first key seals; every key opens (so keys can be rotated:
    put the new key first, keep the old ones until every secret has been sealed again)."""

    def __init__(self, keys: Sequence[bytes]):
        if not keys:
            raise ValueError("At least one key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SecretBox:
        """TWO_STEP_KEYS (Fernet keys, comma-separated) if set; else a key derived from SECRET_KEY."""
        given = [k.strip() for k in str(config.get("TWO_STEP_KEYS") or "").split(",") if k.strip()]
        if given:
            return cls([k.encode() for k in given])
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ap_register two-step secrets")
        return cls([base64.urlsafe_b64encode(derived.derive(str(config["SECRET_KEY"]).encode()))])

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The secret, or None when no key opens it (the key was lost or the value altered)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


def may_use(user: User) -> bool:
    return user.role in LA_ROLES and user.kind == "person"


def new_secret() -> str:
    return pyotp.random_base32()


def setup_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads (typed in, or as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The 30-second step the code belongs to (this one, or one either side for clock drift)."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = int(now // STEP)
    for candidate in (step, step - 1, step + 1):
        if totp.at(candidate * STEP) == code:
            return candidate
    return None


def turn_on(
    session: Session, actor: Actor, user: User, secret: str, code: str, box: SecretBox, now: float | None = None
) -> None:
    """Start asking this person for a code, once they show their app gives the right one."""
    if not may_use(user):
        raise Forbidden("Two-step sign-in is for the local authority's roles")
    step = _matching_step(secret, code, now if now is not None else time.time())
    if step is None:
        raise DomainError(
            "Two-step sign-in is not on", [FieldError("code", "Enter the 6-digit code your app shows now")]
        )
    user.totp_sealed, user.totp_last_step = box.seal(secret), step
    user.session_version += 1  # other sessions were signed in with the password alone
    audit.record(session, actor, "two_factor_on", "user", user.id)


def turn_off(session: Session, actor: Actor, user: User, code: str, box: SecretBox, now: float | None = None) -> None:
    if user.totp_sealed is None:
        return
    if not check(session, user, code, box, now):
        raise DomainError("Two-step sign-in is still on", [FieldError("code", "The code is not right")])
    user.totp_sealed = user.totp_last_step = None
    audit.record(session, actor, "two_factor_off", "user", user.id)


def check(session: Session, user: User, code: str, box: SecretBox, now: float | None = None) -> bool:
    """True, once, for a code of the current step (or one either side). A secret no key opens
    matches no code: an LA administrator resets the person's two-step sign-in."""
    secret = box.open(user.totp_sealed) if user.totp_sealed is not None else None
    if secret is None:
        return False
    step = _matching_step(secret, code, now if now is not None else time.time())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def reset(session: Session, actor: Actor, user: User) -> None:
    """An LA administrator turns a person's two-step sign-in off (a lost phone); they set it up again."""
    from ap_register import permissions

    permissions.require(session, actor, "admin.users", user)
    user.totp_sealed = user.totp_last_step = None
    user.session_version += 1
    audit.record(session, actor, "two_factor_reset", "user", user.id)
