"""Flask extensions, created once here and bound to an app in create_app()."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ap_register.models.base import Base

log = logging.getLogger(__name__)
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limit: sign-in, password changes and exports set their own.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Security headers (Flask-Talisman) are bound per app in web.init_app: Talisman keeps its options
# on the instance, so one shared instance would carry one app's settings into the next.


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: enforce foreign keys, wait for locks, let readers work beside a writer, and let
    SQLAlchemy (not pysqlite) begin transactions, so that savepoints and rollbacks are real."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Connection) -> None:
    """SQLite: take the write lock at the start (IMMEDIATE). Most requests write (an audit event
    for every view of a pupil), and in WAL mode a transaction that read first and writes second,
    after another process wrote, fails at once however long the busy timeout ("database is
    locked"): under concurrent use that was a 503. Waiting in turn is what SQLite can offer."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _replica_holds_primary(replica: Engine, wait_seconds: float) -> bool:
    """Whether the replica has replayed everything the primary had written when this was asked,
    waiting up to `wait_seconds` for it (streaming replicas are usually milliseconds behind)."""
    target = db.session.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
    deadline = time.monotonic() + wait_seconds
    try:
        with replica.connect() as connection:
            asked = text("SELECT coalesce(pg_last_wal_replay_lsn() >= CAST(:target AS pg_lsn), false)")
            while True:
                if connection.execute(asked, {"target": str(target)}).scalar_one():
                    return True
                if time.monotonic() >= deadline:
                    return False
                connection.rollback()
                time.sleep(0.02)
    except OperationalError:
        log.exception("The read replica cannot be reached")
        return False


@contextmanager
def reports_session() -> Iterator[Session]:
    """Where a report reads: the read replica (`DATABASE_REPLICA_URL`) in a read-only session of
    its own (one snapshot for the whole report), closed when the report is done; without one, the
    request's own session. The replica answers only once it holds everything the primary held
    when the report began (`REPLICA_WAIT_SECONDS` at most; else, or if it cannot be reached, the
    primary answers): a report is never older than the permissions and records it is read under.
    A report writes nothing here: its audit event goes to `db.session`, the primary."""
    engine = db.engines.get("replica")
    if engine is None:
        yield db.session
        return
    if not _replica_holds_primary(engine, float(current_app.config.get("REPLICA_WAIT_SECONDS", 1.0))):
        log.warning("The read replica is behind the primary: this report reads the primary")
        yield db.session
        return
    log.info("This report reads the read replica")
    session = Session(bind=engine)
    try:
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        yield session
    finally:
        session.close()
