"""Reports read a PostgreSQL read replica; writes, and pages that read what was just written, the
primary (`DATABASE_REPLICA_URL`, `extensions.reports_session`); a report never reads a replica
that is behind what the primary held when the report began.

The test starts its own pair on this machine with Debian's PostgreSQL: a primary (`initdb`) and a
streaming replica made from it with `pg_basebackup`, each on a port of its own. Caught up, the
reports' reads of the placements go to the replica alone; with its replay paused and a child
placed on the primary, a report reads the primary (the child is in it); once replay resumes the
replica answers again. It runs in the SQLite half of the suite only
(it needs no database of the half's own); with CI=true a machine without PostgreSQL's programs
fails.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, select, text

from ap_register import create_app
from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db, reports_session
from ap_register.models import AuditEvent, LocalAuthority, Setting
from tests import factories
from tests.conftest import build_app, free_port, unavailable
from tests.pages import sign_in

# Needs no database of the run's own: once a run, in one half (tests/conftest.py, left_out).
pytestmark = pytest.mark.any_database
BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


class Pair:
    """A primary and its streaming replica, in a temporary folder, stopped and removed at the end."""

    def __init__(self) -> None:
        if not BINARIES:
            unavailable("PostgreSQL's programs are not installed (apt-get install postgresql)")
        self.bin = BINARIES[-1]
        self.root = Path(tempfile.mkdtemp(prefix="ap-register-replica-"))
        # PostgreSQL will not run as root: as root, it runs as the postgres user.
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.root, "postgres", "postgres")
        self.primary_port, self.replica_port = free_port(), free_port()
        self.started: list[Path] = []

    def run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self.as_owner, str(self.bin / program), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}")

    def start(self, folder: Path, port: int) -> None:
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(folder), "-o", options, "-l", str(self.root / f"{folder.name}.log"), "-w", "start")
        self.started.append(folder)

    def __enter__(self) -> Pair:
        primary, replica = self.root / "primary", self.root / "replica"
        self.run("initdb", "-D", str(primary), "-U", "postgres", "-A", "trust", "--no-sync")
        self.start(primary, self.primary_port)
        self.run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"),
            *("-D", str(replica), "-R", "-X", "stream", "--no-sync"),
        )
        self.start(replica, self.replica_port)
        return self

    def __exit__(self, *exc: object) -> None:
        for folder in reversed(self.started):
            self.run("pg_ctl", "-D", str(folder), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"


@pytest.fixture()
def pair() -> Iterator[Pair]:
    try:
        with Pair() as started:
            yield started
    except RuntimeError as error:
        unavailable(f"A PostgreSQL primary and replica could not be started here: {error}")


def caught_up(primary: Any, replica: Any, timeout: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary has written."""
    with primary.connect() as connection:
        target = connection.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with replica.connect() as connection:
            if connection.execute(text("SELECT pg_last_wal_replay_lsn() >= :t"), {"t": target}).scalar_one():
                return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up within 30 seconds")


def exported_upns(output: str) -> set[str]:
    return {row["upn"] for row in csv.DictReader(io.StringIO(output))}


class Reads:
    """The statements an engine is sent that read the placements table."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.count = engine, 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.count += "FROM placement" in statement

    def taken(self) -> int:
        count, self.count = self.count, 0
        return count


def test_reports_read_the_replica_and_everything_else_the_primary(pair: Pair, caplog: pytest.LogCaptureFixture) -> None:
    app = build_app(
        pair.url(pair.primary_port), DATABASE_REPLICA_URL=pair.url(pair.replica_port), REPLICA_WAIT_SECONDS=0.3
    )
    primary, replica = create_engine(pair.url(pair.primary_port)), create_engine(pair.url(pair.replica_port))
    runner, client = app.test_cli_runner(), app.test_client()
    caplog.set_level(logging.INFO, logger="ap_register.extensions")
    try:
        with app.app_context():
            la = factories.la(db.session, "855")
            school = factories.setting(db.session, la, SettingKind.MAINSTREAM)
            pru = factories.setting(db.session, la, SettingKind.PRU)
            first = factories.pupil(db.session, la, school, first_name="Ada")
            factories.placement(db.session, first, pru)
            admin = factories.user(db.session, Role.LA_ADMIN, la)
            db.session.commit()
            email, first_upn, ids = admin.email, first.upn, (la.id, school.id, pru.id)
            on_primary, on_replica = Reads(db.engine), Reads(db.engines["replica"])
            exports_before = audited_exports()
        caught_up(primary, replica)

        # The replica holds everything: the reports read it, and only it.
        report = runner.invoke(args=["export", "placements", "--format", "csv", "--la", "855"])
        assert report.exit_code == 0, report.output
        assert exported_upns(report.stdout) == {first_upn}
        assert (on_replica.taken(), on_primary.taken()) == (2, 0)  # the count, then the rows
        sign_in(client, email)
        download = client.get("/placements/export.csv")
        assert download.status_code == 200
        assert exported_upns(download.get_data(as_text=True)) == {first_upn}
        download.close()  # as a WSGI server does once the download is sent: the replica's session ends
        assert (on_replica.taken(), on_primary.taken()) == (2, 0)
        for args in (["coverage", "--la", "855", "--week", "2026-11-30"], ["returns", "ap-census", "--la", "855"]):
            done = runner.invoke(args=[*args, "--format", "json"])
            assert done.exit_code == 0, done.output
            assert on_replica.taken() > 0 and on_primary.taken() == 0, args
        scored = runner.invoke(args=["scores", "--la", "855"])
        assert scored.exit_code == 0, scored.output
        assert on_replica.taken() > 0 and on_primary.taken() == 0
        with app.app_context():
            assert audited_exports() == exports_before + 2  # audited on the primary
            with reports_session() as reading:
                with pytest.raises(Exception, match="read-only"):
                    reading.execute(text("CREATE TABLE refused (id int)"))
        assert "The read replica is behind" not in caplog.text

        # The replica stands still while a second child is placed on the primary: a report will
        # not be older than the primary when it began, so it reads the primary, whole.
        with replica.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_pause()"))
        with app.app_context():
            la = db.session.get(LocalAuthority, ids[0])
            school, pru = db.session.get(Setting, ids[1]), db.session.get(Setting, ids[2])
            second = factories.pupil(db.session, la, school, first_name="Ben")
            factories.placement(db.session, second, pru)
            db.session.commit()
            second_upn, second_id = second.upn, second.id
        on_replica.taken(), on_primary.taken()  # what placing the child read
        behind = runner.invoke(args=["export", "placements", "--format", "csv", "--la", "855"])
        assert exported_upns(behind.stdout) == {first_upn, second_upn}
        assert (on_replica.taken(), on_primary.taken()) == (0, 2)
        assert "The read replica is behind the primary: this report reads the primary" in caplog.text
        # A page reads the primary: the new child's own page.
        assert "Ben" in client.get(f"/pupils/{second_id}").get_data(as_text=True)

        # Replay resumes: the reports read the replica again, with the second child.
        with replica.connect() as connection:
            connection.execute(text("SELECT pg_wal_replay_resume()"))
        caught_up(primary, replica)
        on_replica.taken(), on_primary.taken()  # what the child's page read
        again = runner.invoke(args=["export", "placements", "--format", "csv", "--la", "855"])
        assert exported_upns(again.stdout) == {first_upn, second_upn}
        assert (on_replica.taken(), on_primary.taken()) == (2, 0)
    finally:
        with app.app_context():
            db.engine.dispose()
            db.engines["replica"].dispose()
        primary.dispose()
        replica.dispose()


def audited_exports() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export")) or 0


def test_a_replica_needs_postgresql_for_both() -> None:
    with pytest.raises(ValueError, match="SQLite has no replicas"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "DATABASE_REPLICA_URL": "postgresql://postgres@127.0.0.1:5433/register",
                "SECRET_KEY": "x",
            }
        )
