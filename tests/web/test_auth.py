"""Signing in and out: argon2id passwords, sessions that end, audit of every sign-in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.users import hash_password
from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, User
from tests.pages import csrf_token, errors, page, post, sign_in, text


def test_the_start_page_asks_people_to_sign_in(client: Any) -> None:
    soup = page(client.get("/"))
    assert "You need an account from your local authority" in text(soup)


def test_pages_need_a_signed_in_user(client: Any) -> None:
    response = client.get("/pupils")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    user = world["home"]["users"][Role.LA_ADMIN]
    soup = page(sign_in(client, user.email, "not the password"))
    assert errors(soup) == ["The email address or password is not right"]
    assert soup.title.get_text().startswith("Error: Sign in")
    soup = page(sign_in(client, "nobody@example.org", "not the password"))
    assert errors(soup) == ["The email address or password is not right"]
    failed = db.scalars(select(AuditEvent).where(AuditEvent.action == "sign_in_failed")).all()
    assert [e.actor for e in failed] == [user.email, "nobody@example.org"]


def test_signing_in_and_out(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    user = world["home"]["users"][Role.LA_ADMIN]
    response = sign_in(client, user.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    soup = page(client.get("/"))
    assert f"Signed in as {user.name}" in text(soup)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "sign_in", AuditEvent.user_id == user.id))
    response = post(client, "/sign-out", {})
    assert response.status_code == 302
    assert client.get("/pupils").status_code == 302


def test_passwords_are_stored_as_argon2id(world: dict) -> None:  # type: ignore[type-arg]
    assert world["home"]["users"][Role.LA_ADMIN].password_hash.startswith("$argon2id$")


def test_sign_in_only_returns_to_this_site(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    user = world["home"]["users"][Role.LA_ADMIN]
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in?next=https://evil.example.com/",
        data={"email": user.email, "password": "correct horse battery staple", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_a_form_without_its_csrf_token_is_refused(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    user = world["home"]["users"][Role.LA_ADMIN]
    response = client.post("/sign-in", data={"email": user.email, "password": "correct horse battery staple"})
    soup = page(response, 400)
    assert "The form had expired or came from elsewhere" in text(soup)


def test_deactivating_a_user_ends_their_session(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    user = world["home"]["users"][Role.ATTENDANCE_OFFICER]
    sign_in(client, user.email)
    assert client.get("/pupils").status_code == 200
    found = db.get(User, user.id)
    assert found is not None
    found.active = False
    found.session_version += 1
    db.commit()
    assert client.get("/pupils").status_code == 302


def test_a_temporary_password_must_be_changed_first(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    user = world["home"]["users"][Role.COMMISSIONER]
    user.must_change_password = True
    db.commit()
    sign_in(client, user.email)
    response = client.get("/pupils")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    soup = page(
        post(client, "/account/password", {"current_password": "correct horse battery staple", "new_password": "short"})
    )
    assert errors(soup) == ["Password must be 12 characters or more"]
    response = post(
        client,
        "/account/password",
        {"current_password": "correct horse battery staple", "new_password": "a much longer passphrase"},
    )
    assert response.status_code == 302
    assert client.get("/pupils").status_code == 200
    db.refresh(user)
    assert not user.must_change_password and user.password_hash != hash_password("x")


def test_security_headers(client: Any) -> None:
    response = client.get("/sign-in")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
