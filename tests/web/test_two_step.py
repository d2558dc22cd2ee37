"""Optional two-step sign-in for the local authority's roles: set up with an authenticator app,
asked for at each sign-in, each code accepted once, and turned off by an administrator when a
phone is lost."""

from __future__ import annotations

import time
from typing import Any

import pyotp
from sqlalchemy.orm import Session

from ap_register.accounts.two_factor import SecretBox
from ap_register.domain.vocab import Role
from ap_register.models import User
from tests.factories import PASSWORD
from tests.pages import csrf_token, errors, page, post, sign_in, text


def code(client: Any, value: str) -> Any:
    return client.post("/sign-in/code", data={"code": value, "csrf_token": csrf_token(client, "/sign-in/code")})


def test_an_la_officer_sets_up_two_step_sign_in_and_is_asked_for_a_code(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    officer = world["home"]["users"][Role.ATTENDANCE_OFFICER]
    sign_in(client, officer.email)
    assert "Two-step sign-in" in text(page(client.get("/account")))
    soup = page(client.get("/account/two-step"))
    secret = soup.select_one("code.app-token").get_text().replace(" ", "")
    assert errors(page(post(client, "/account/two-step", {"code": "000000"}))) == [
        "Enter the 6-digit code your app shows now"
    ]
    totp = pyotp.TOTP(secret)
    done = post(client, "/account/two-step", {"code": totp.now()})
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    stored = db.get(User, officer.id)
    # Sealed at rest: the database holds neither the secret nor anything that gives it without the key.
    assert stored is not None and stored.totp_sealed is not None and secret not in stored.totp_sealed
    assert SecretBox.from_config(client.application.config).open(stored.totp_sealed) == secret
    assert SecretBox.from_config({"SECRET_KEY": "another key"}).open(stored.totp_sealed) is None
    assert client.get("/pupils").status_code == 200  # this session carries on

    post(client, "/sign-out", {})
    asked = client.post(
        "/sign-in", data={"email": officer.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/sign-in")}
    )
    assert asked.status_code == 302 and asked.headers["Location"] == "/sign-in/code"
    assert client.get("/pupils").status_code == 302  # the password alone does not sign in
    wrong = page(code(client, "123456"))
    assert "The code is not right" in errors(wrong)[0]
    # The next step's code (accepted for clock drift), kept: the replay below sends the very same code,
    # whatever the clock has done meanwhile.
    ahead = totp.at(time.time() + 30)
    signed_in = code(client, ahead)
    assert signed_in.status_code == 302 and client.get("/pupils").status_code == 200

    # The same code again, in a new sign-in: refused (it was used already).
    post(client, "/sign-out", {})
    client.post(
        "/sign-in", data={"email": officer.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/sign-in")}
    )
    replayed = page(code(client, ahead))
    assert "used already" in errors(replayed)[0]


def test_two_step_sign_in_is_for_la_roles_and_an_administrator_can_turn_it_off(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    assert client.get("/account/two-step").status_code == 403
    assert "Two-step sign-in" not in text(page(client.get("/account")))
    post(client, "/sign-out", {})

    chair = db.get(User, home["users"][Role.PANEL_CHAIR].id)
    assert chair is not None
    chair.totp_sealed = SecretBox.from_config(client.application.config).seal(pyotp.random_base32())
    db.commit()
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    assert "Turn off two-step sign-in" in text(page(client.get(f"/admin/users/{chair.id}")))
    turned_off = post(client, f"/admin/users/{chair.id}", {"reset-two-step": "1"})
    assert turned_off.status_code == 302
    db.refresh(chair)
    assert chair.totp_sealed is None and chair.active


def test_two_step_keys_can_be_rotated() -> None:
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = SecretBox.from_config({"TWO_STEP_KEYS": old}).seal("JBSWY3DPEHPK3PXP")
    rotated = SecretBox.from_config({"TWO_STEP_KEYS": f"{new},{old}"})
    assert rotated.open(sealed) == "JBSWY3DPEHPK3PXP"  # the old key still opens
    assert SecretBox.from_config({"TWO_STEP_KEYS": old}).open(rotated.seal("JBSWY3DPEHPK3PXP")) is None
    assert SecretBox.from_config({"TWO_STEP_KEYS": new}).open(sealed) is None
