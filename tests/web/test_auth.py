"""Signing in and out: argon2id passwords, sessions that end, audit of every sign-in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.accounts.users import hash_password
from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, User
from tests.pages import csrf_token, errors, page, post, sign_in, text


def test_the_start_page_asks_people_to_sign_in(client: Any) -> None:
    soup = page(client.get("/"))
    assert "You need an account from your local authority" in text(soup)
    assert soup.title.get_text(strip=True) == "AP register"  # the service's own name, once


def test_pages_need_a_signed_in_user(client: Any) -> None:
    response = client.get("/pupils")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_page_that_is_not_there_says_so_in_the_service_s_words(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    for url in ("/no-such-page", f"/pupils/{world['other']['pupil'].id}"):
        soup = page(client.get(url), 404)
        assert soup.h1.get_text(strip=True) == "Page not found"
        assert "The requested URL was not found on the server" not in text(soup), url
        assert "If you typed the web address, check it is correct" in text(soup)


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
    stolen = client.get_cookie("session").value  # a copy of the signed-in session cookie
    response = post(client, "/sign-out", {})
    assert response.status_code == 302
    assert client.get("/pupils").status_code == 302
    # Signing out ends the session itself, not just this browser's copy of it.
    client.set_cookie("session", stolen)
    replayed = client.get("/pupils")
    assert replayed.status_code == 302 and "/sign-in" in replayed.headers["Location"]


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


def test_sign_in_with_a_line_break_in_its_return_address_signs_in_and_goes_home(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    """A `next` holding CR/LF (a header injection, or a mangled link) used to fail the redirect
    after the sign-in had been recorded: a server error. Now the person lands on the start page."""
    user = world["home"]["users"][Role.LA_ADMIN]
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in?next=/pupils%0D%0ASet-Cookie:%20session=stolen",
        data={"email": user.email, "password": "correct horse battery staple", "csrf_token": token},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "stolen" not in " ".join(response.headers.getlist("Set-Cookie"))
    assert client.get("/pupils").status_code == 200


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
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    # No banner naming the software or its version.
    assert "Server" not in response.headers and "X-Powered-By" not in response.headers
    # The session cookie: not readable by scripts, not sent by other sites' forms.
    sign_in_cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in sign_in_cookie and "SameSite=Lax" in sign_in_cookie


def test_production_forces_https_with_hsts_and_secure_cookies(db_kind: str, tmp_path: Any) -> None:
    from ap_register.extensions import db as flask_db
    from tests.conftest import build_app, make_database

    url, drop = make_database(db_kind, tmp_path)
    production = build_app(url, FORCE_HTTPS=True, SESSION_COOKIE_SECURE=True)
    try:
        client = production.test_client()
        plain = client.get("/sign-in")
        assert plain.status_code == 302 and plain.headers["Location"].startswith("https://")
        secure = client.get("/sign-in", base_url="https://localhost")
        hsts = secure.headers["Strict-Transport-Security"]
        assert int(hsts.split("max-age=")[1].split(";")[0]) >= 365 * 24 * 3600 and "includeSubDomains" in hsts
        cookie = next(v for k, v in secure.headers.items() if k == "Set-Cookie" and v.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie
    finally:
        with production.app_context():
            flask_db.engine.dispose()
        drop()


def test_a_session_lapses_after_the_idle_time(client: Any, world: dict, monkeypatch: Any) -> None:  # type: ignore[type-arg]
    import time

    from itsdangerous.timed import TimestampSigner

    sign_in(client, world["home"]["users"][Role.ATTENDANCE_OFFICER].email)
    idle = client.application.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    assert idle == 60 * 60
    start = time.time()
    # Each request renews the session: 59 minutes after the last one it is still signed in...
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(start + idle - 60))
    assert client.get("/pupils").status_code == 200
    # ...and a minute over the hour after that request, it has lapsed.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(start + 2 * idle))
    lapsed = client.get("/pupils")
    assert lapsed.status_code == 302 and lapsed.headers["Location"].startswith("/sign-in")


def test_an_upload_over_the_size_limit_is_refused_whole(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    import io

    from sqlalchemy import func

    from ap_register.models import Pupil

    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    assert limit == 200 * 1024 * 1024
    client.application.config["MAX_CONTENT_LENGTH"] = 4096  # the same check, at a size a test can send
    try:
        before = db.scalar(select(func.count()).select_from(Pupil))
        header = "upn,first_name,last_name,date_of_birth,home_la_code\n"
        content = header + "A855500100001,Pat,Long,2012-03-14,855\n" * 200
        answer = post(
            client,
            "/admin/imports",
            {"kind": "pupils", "file": (io.BytesIO(content.encode()), "pupils.csv")},
            content_type="multipart/form-data",
        )
    finally:
        client.application.config["MAX_CONTENT_LENGTH"] = limit
    assert "The file is too large" in text(page(answer, status=413))
    assert db.scalar(select(func.count()).select_from(Pupil)) == before
