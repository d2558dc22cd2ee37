"""On PostgreSQL the app's own database role can read and add to the movement ledger and the audit
trail, and can neither change nor delete them, nor switch their triggers off."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ap_register.accounts.audit import record
from ap_register.domain.vocab import Role
from ap_register.extensions import db
from ap_register.models import AuditEvent
from tests import factories
from tests.conftest import _postgres_server_url, build_app, make_database
from tests.factories import SYSTEM


@pytest.fixture()
def owner_and_app(db_kind: str, tmp_path: Path) -> Any:
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url)
    with app.app_context():
        factories.user(db.session, Role.LA_ADMIN, factories.la(db.session, "855"))
        record(db.session, SYSTEM, "test", "user", None)
        db.session.commit()
    if db_kind == "sqlite":  # SQLite has no roles: its triggers alone guard the history
        yield app, None
        with app.app_context():
            db.engine.dispose()
        return
    role = f"ap_register_app_{uuid.uuid4().hex[:8]}"
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        result = app.test_cli_runner().invoke(args=["grant-app-role", role])
        assert result.exit_code == 0, result.output
    as_app = create_engine(make_url(url).set(username=role, password=None))
    yield app, as_app
    as_app.dispose()
    with app.app_context():
        db.engine.dispose()
    drop()
    admin = create_engine(_postgres_server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


def test_the_app_role_cannot_rewrite_history(owner_and_app: Any) -> None:
    app, as_app = owner_and_app
    if as_app is None:
        with app.app_context(), db.engine.connect() as connection:
            for statement in ("UPDATE audit_event SET action = 'nothing'", "DELETE FROM audit_event"):
                with pytest.raises(DBAPIError, match="append-only"), connection.begin():
                    connection.execute(text(statement))
        return
    with as_app.begin() as connection:
        # It reads and adds, as the app does.
        before = connection.execute(select(func.count()).select_from(AuditEvent)).scalar()
        connection.execute(AuditEvent.__table__.insert().values(actor="app role", action="view", object_type="pupil"))
        assert connection.execute(select(func.count()).select_from(AuditEvent)).scalar() == before + 1
        connection.execute(text("UPDATE user_account SET name = 'Renamed'"))  # the register itself is writable
    for statement in (
        "UPDATE audit_event SET action = 'nothing'",
        "DELETE FROM audit_event",
        "DELETE FROM movement",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_append_only ON audit_event",
    ):
        with pytest.raises(DBAPIError) as refused, as_app.begin() as connection:
            connection.execute(text(statement))
        message = str(refused.value.orig)
        assert "permission denied" in message or "must be owner" in message, statement
