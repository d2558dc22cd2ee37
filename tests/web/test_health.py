"""The health check a load balancer polls, and the app behind a proxy that ends TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tests.test_faults import connection_drops


def test_health_says_ok_when_the_database_answers_at_this_code_s_migration(client: Any, db: Session) -> None:
    from ap_register.blueprints.main import expected_schema

    answer = client.get("/health")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body == {"status": "ok", "database": "ok", "schema": expected_schema(), "expected_schema": body["schema"]}
    assert body["schema"] is not None and len(body["schema"]) == 4
    assert "Set-Cookie" not in answer.headers  # no session for a probe


def test_health_says_unavailable_when_the_database_does_not_answer(client: Any, db: Session) -> None:
    with connection_drops("SELECT VERSION_NUM"):
        answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "unavailable", "database": "unreachable"}


def test_health_says_unavailable_when_the_database_is_behind_the_code(client: Any, db: Session) -> None:
    from sqlalchemy import text

    db.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    db.commit()
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.get_json()["schema"] == "0001" and answer.get_json()["status"] == "unavailable"


def test_behind_a_proxy_https_and_the_client_address_come_from_its_headers(db_kind: str, tmp_path: Path) -> None:
    from ap_register.extensions import db as flask_db
    from tests.conftest import build_app, make_database

    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url, FORCE_HTTPS=True, SESSION_COOKIE_SECURE=True, TRUSTED_PROXIES=1)
    try:
        client = app.test_client()
        through_proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        seen: list[str | None] = []

        @app.after_request
        def remember(response: Any) -> Any:
            from flask import request

            seen.append(request.remote_addr)
            return response

        answer = client.get("/sign-in", headers=through_proxy)
        assert answer.status_code == 200 and "Strict-Transport-Security" in answer.headers
        assert seen[-1] == "203.0.113.7"
        # A forged chain: only the hop the proxy added is believed.
        client.get("/sign-in", headers={**through_proxy, "X-Forwarded-For": "10.9.9.9, 203.0.113.8"})
        assert seen[-1] == "203.0.113.8"
        # Straight to the app over plain HTTP (not through the proxy): sent to HTTPS.
        assert client.get("/sign-in").status_code == 302
    finally:
        with app.app_context():
            flask_db.engine.dispose()
        drop()


def test_a_load_balancer_probes_health_over_plain_http_in_production(db_kind: str, tmp_path: Path) -> None:
    from ap_register.extensions import db as flask_db
    from tests.conftest import build_app, make_database

    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url, FORCE_HTTPS=True, SESSION_COOKIE_SECURE=True)
    try:
        client = app.test_client()
        assert client.get("/health").status_code == 200
        assert client.get("/sign-in").status_code == 302  # everything else goes to HTTPS
    finally:
        with app.app_context():
            flask_db.engine.dispose()
        drop()


def test_behind_a_proxy_a_forged_host_never_sends_anyone_off_site(db_kind: str, tmp_path: Path) -> None:
    from urllib.parse import urlsplit

    from ap_register.extensions import db as flask_db
    from tests.conftest import build_app, make_database

    url, drop = make_database(db_kind, tmp_path)
    app = build_app(
        url, FORCE_HTTPS=True, SESSION_COOKIE_SECURE=True, TRUSTED_PROXIES=1, ALLOWED_HOSTS=["register.example.org"]
    )
    try:
        client = app.test_client()

        def hosts_sent_to(host: str) -> list[tuple[int, str | None]]:
            answers = []
            for proto, path in (("http", "/sign-in"), ("https", "/pupils"), ("https", "/")):
                headers = {"X-Forwarded-Proto": proto, "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": host}
                answer = client.get(path, headers=headers)
                location = answer.headers.get("Location")
                answers.append((answer.status_code, urlsplit(location).hostname if location else None))
            return answers

        # The real name: sent to HTTPS on the same site, or to the sign-in page on it.
        assert hosts_sent_to("register.example.org") == [(302, "register.example.org"), (302, None), (200, None)]
        # A forged name is refused before anything is answered from it.
        assert hosts_sent_to("evil.example") == [(400, None)] * 3
        assert hosts_sent_to("register.example.org.evil.example") == [(400, None)] * 3
        # A load balancer probes each server by its own address: the health check answers it.
        assert client.get("/health", headers={"Host": "10.0.0.5:8000"}).status_code == 200
    finally:
        with app.app_context():
            flask_db.engine.dispose()
        drop()
