"""Migrations: up to the latest, all the way down and up again, on this run's database kind; and
the models and the migrations describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from ap_register import create_app
from ap_register.config import TestConfig
from ap_register.extensions import db
from tests.conftest import make_database


@pytest.fixture()
def fresh_app(db_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    url, drop = make_database(db_kind, tmp_path)
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


def test_upgrade_downgrade_upgrade(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with fresh_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"pupil", "placement", "movement", "audit_event", "user_account"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) == tables


def test_the_models_match_the_migrations(fresh_app) -> None:  # type: ignore[no-untyped-def]
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == []
