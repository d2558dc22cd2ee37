"""Every view and every change of a pupil's record leaves an audit event naming the person."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.extensions import db as flask_db
from ap_register.models import AuditEvent, Placement
from tests import factories
from tests.conftest import build_app, make_database
from tests.pages import date_fields, post, sign_in


def events(db: Session, user_id: int) -> list[tuple[str, str, int | None]]:
    return [
        (e.action, e.object_type, e.pupil_id)
        for e in db.scalars(select(AuditEvent).where(AuditEvent.user_id == user_id).order_by(AuditEvent.id))
    ]


def test_views_and_changes_of_a_pupil_are_audited_with_the_user(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    user = home["users"][Role.COMMISSIONER]
    child = home["pupil"]
    placement = home["placement"]
    sign_in(client, user.email)
    client.get(f"/pupils/{child.id}")
    client.get(f"/placements/{placement.id}")
    post(
        client, f"/placements/{placement.id}/review", {**date_fields("review_date", date(2025, 11, 3)), "notes": "Fine"}
    )
    post(
        client,
        f"/placements/{placement.id}/end",
        {**date_fields("end_date", date(2025, 12, 19)), "destination": "returned_home_school"},
    )
    response = post(
        client, f"/pupils/{child.id}/placements/new", {"route": "la_health", "setting": str(home["pru"].id)}
    )
    details = response.headers["Location"]
    response = post(
        client,
        details,
        {
            "registration": "none",
            "tier": "time_limited",
            **date_fields("start_date", date(2026, 1, 5)),
            "sessions": ["Mon AM", "Tue AM"],
            "reason": "Health needs",
            **date_fields("planned_end_date", date(2026, 2, 13)),
            "reintegration_plan": "Two more sessions each half term until full time",
        },
    )
    post(client, response.headers["Location"], {})
    new = db.scalars(select(Placement).order_by(Placement.id.desc())).first()
    assert new is not None
    assert events(db, user.id) == [
        ("sign_in", "user", None),
        ("view", "pupil", child.id),
        ("view", "placement", child.id),
        ("review", "placement", child.id),
        ("end", "placement", child.id),
        # The new placement's first two steps show the child too: each is a view.
        ("view", "page", child.id),
        ("view", "page", child.id),
        ("create", "placement", child.id),
    ]
    recorded = db.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id)).all()
    assert {e.actor for e in recorded} == {user.email}


def test_a_stranger_s_failures_do_not_lock_the_real_person_out_but_guessing_everywhere_does(
    db_kind: str, tmp_path: Path
) -> None:
    url, drop = make_database(db_kind, tmp_path)  # its own database: these attempts are committed
    limited = build_app(
        url, ACCOUNT_LOCKOUT="3 per 15 minutes", ACCOUNT_LOCKOUT_ALL_CLIENTS="7 per 15 minutes", WTF_CSRF_ENABLED=False
    )
    try:
        with limited.app_context():
            la = factories.la(flask_db.session, "855")
            factories.user(flask_db.session, Role.LA_ADMIN, la, email="robin.admin@example.org")
            flask_db.session.commit()
        client = limited.test_client()

        def attempt(address: str, password: str, email: str = "robin.admin@example.org") -> int:
            answer = client.post(
                "/sign-in", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
            )
            client.post("/sign-out", environ_base={"REMOTE_ADDR": address})
            return answer.status_code

        # A stranger who knows the address locks only their own client out of the account ...
        assert [attempt("203.0.113.66", "wrong password") for _ in range(3)] == [200, 200, 200]
        assert attempt("203.0.113.66", factories.PASSWORD) == 429
        assert attempt("203.0.113.66", "wrong password", "ROBIN.ADMIN@example.org") == 429
        # ... and the person, at their own desk, still signs in.
        assert attempt("198.51.100.7", factories.PASSWORD) == 302
        # Their refused attempts did not count: the stranger is held at 3 failures, not more.
        assert [attempt("203.0.113.66", "wrong password") for _ in range(5)] == [429] * 5
        # Guessing spread over many clients still locks the account, from everywhere.
        assert [attempt(f"192.0.2.{n}", "wrong password") for n in (1, 2)] == [200, 200]
        assert [attempt(f"192.0.2.{n}", "wrong password") for n in (3, 4)] == [200, 200]  # 7 failures in all
        locked = client.post(
            "/sign-in",
            data={"email": "robin.admin@example.org", "password": factories.PASSWORD},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        )
        assert locked.status_code == 429
        assert "Too many failed attempts to sign in to this account" in locked.get_data(as_text=True)
    finally:
        with limited.app_context():
            flask_db.engine.dispose()
        drop()


def test_the_audit_trail_cannot_be_edited(db: Session, world: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(sql("DELETE FROM audit_event"))


def test_sign_in_is_rate_limited(db_kind: str, tmp_path: Path) -> None:
    """One office behind one public address: people signing in successfully never use up the
    limit; wrong passwords across accounts from that address do, and then a GOV.UK page says
    what to do, never the limiter's own text."""
    url, drop = make_database(db_kind, tmp_path)  # its own database: these attempts are committed
    limited = build_app(url, SIGN_IN_FAILURES_PER_ADDRESS="3 per minute", WTF_CSRF_ENABLED=False)
    try:
        with limited.app_context():
            la = factories.la(flask_db.session, "855")
            factories.user(flask_db.session, Role.LA_ADMIN, la, email="robin.admin@example.org")
            flask_db.session.commit()
        client = limited.test_client()
        for _ in range(6):
            signed_in = client.post(
                "/sign-in", data={"email": "robin.admin@example.org", "password": factories.PASSWORD}
            )
            assert signed_in.status_code == 302
            client.post("/sign-out")
        answers = [
            client.post("/sign-in", data={"email": f"guess{n}@example.org", "password": "wrong"}).status_code
            for n in range(4)
        ]
        assert answers == [200, 200, 200, 429]
        refused = client.post("/sign-in", data={"email": "a@example.org"}).get_data(as_text=True)
        assert "Too many failed attempts to sign in from this network" in refused
        assert "per 1 minute" not in refused and "govuk-heading-l" in refused
    finally:
        with limited.app_context():
            flask_db.engine.dispose()
        drop()


def test_an_account_locks_after_failures_however_the_address_is_typed(db_kind: str, tmp_path: Path) -> None:
    url, drop = make_database(db_kind, tmp_path)  # its own database: these attempts are committed
    limited = build_app(url, ACCOUNT_LOCKOUT="3 per 15 minutes", WTF_CSRF_ENABLED=False)
    try:
        with limited.app_context():
            la = factories.la(flask_db.session, "855")
            factories.user(flask_db.session, Role.LA_ADMIN, la, email="robin.admin@example.org")
            factories.user(flask_db.session, Role.LA_ADMIN, la, email="casey.admin@example.org")
            flask_db.session.commit()
        client = limited.test_client()
        # A tab is refused at input now; a full-width letter is the same address once normalised.
        typed = ["Robin.Admin@example.org", "  robin.admin@EXAMPLE.org ", "robin.admin@\uff45xample.org"]
        for address in typed:
            answer = client.post("/sign-in", data={"email": address, "password": "wrong password"})
            assert answer.status_code == 200 and "is not right" in answer.get_data(as_text=True)
        # Locked: even the right password, in yet another form of the address, is turned away.
        locked = client.post("/sign-in", data={"email": "ROBIN.ADMIN@example.org", "password": factories.PASSWORD})
        assert locked.status_code == 429
        assert "Too many failed attempts to sign in to this account" in locked.get_data(as_text=True)
        # Another account is not locked by them.
        other = client.post("/sign-in", data={"email": "casey.admin@example.org", "password": factories.PASSWORD})
        assert other.status_code == 302
    finally:
        with limited.app_context():
            flask_db.engine.dispose()
        drop()
