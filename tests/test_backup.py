"""`backup` then `restore` into an empty database gives identical rows, on SQLite and PostgreSQL;
restore refuses a database with rows, and a damaged file, and writes nothing then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ap_register import create_app
from ap_register.extensions import db
from ap_register.models import Base
from tests.conftest import TestConfig, build_app, copy_database, make_database


def every_row(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    with app.app_context():
        found = {}
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            found[table.name] = [tuple(row) for row in db.session.execute(select(table).order_by(*order))]
        db.session.remove()
        return found


def bare_app(url: str) -> Flask:
    """An app on a database with nothing in it: not even the schema."""
    return create_app(
        {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}, "SQLALCHEMY_DATABASE_URI": url}
    )


@pytest.fixture()
def source(db_kind: str, tmp_path: Path, demo_template: str) -> Any:
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url)
    copy_database(demo_template, app)  # every table of the register, with a demo area's history
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


def test_backup_then_restore_gives_identical_rows(source: Flask, db_kind: str, tmp_path: Path) -> None:
    file = tmp_path / "register.backup"
    made = source.test_cli_runner().invoke(args=["backup", str(file)])
    assert made.exit_code == 0, made.output
    before = every_row(source)
    url, drop = make_database(db_kind, tmp_path)
    target = bare_app(url)
    try:
        restored = target.test_cli_runner().invoke(args=["restore", str(file)])
        assert restored.exit_code == 0, restored.output
        after = every_row(target)
        # The backup's own audit event was written after the copy was taken.
        before["audit_event"] = [row for row in before["audit_event"] if row[0] <= len(after["audit_event"])]
        assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
        assert after == before
        assert sum(len(rows) for rows in after.values()) > 10_000
        with target.app_context():
            # New records carry on after the restored ids (PostgreSQL sequences were moved on).
            from ap_register.models import AuditEvent

            assert db.session.scalar(select(func.max(AuditEvent.id))) == len(after["audit_event"])
            db.session.remove()
        # A second restore into the same, now full, database is refused and changes nothing.
        again = target.test_cli_runner().invoke(args=["restore", str(file)])
        assert again.exit_code == 1 and "Restore needs an empty database" in again.output
        assert every_row(target) == after
    finally:
        with target.app_context():
            db.engine.dispose()
        drop()


def test_a_damaged_backup_is_refused_and_nothing_is_written(source: Flask, db_kind: str, tmp_path: Path) -> None:
    file = tmp_path / "register.backup"
    assert source.test_cli_runner().invoke(args=["backup", str(file)]).exit_code == 0
    cut = tmp_path / "cut.backup"
    cut.write_bytes(file.read_bytes()[: len(file.read_bytes()) // 2])
    url, drop = make_database(db_kind, tmp_path)
    target = bare_app(url)
    try:
        refused = target.test_cli_runner().invoke(args=["restore", str(cut)])
        assert refused.exit_code == 1 and "not a complete ap_register backup" in refused.output
        assert not any(every_row(target).values())
    finally:
        with target.app_context():
            db.engine.dispose()
        drop()
