"""Faults: the database connection breaks in the middle of an import, a page's change or an API
write. The person gets a clear "nothing was saved" answer (503, never a stack trace), and nothing
of the half-done work is kept."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ap_register.domain.bulk import Writer
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import Role
from ap_register.models import AttendanceMark, AuditEvent, Pupil
from tests.pages import page, post, sign_in, text


@contextmanager
def connection_drops(on: str, after: int = 0) -> Iterator[list[str]]:
    """The database goes away at the (after+1)th statement starting with `on`."""
    seen: list[str] = []

    def drop(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(on):
            seen.append(statement)
            if len(seen) > after:
                raise OperationalError(statement[:60], {}, Exception("server closed the connection unexpectedly"))

    event.listen(Engine, "before_cursor_execute", drop)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", drop)


@contextmanager
def bulk_write_drops(table: str, after: int = 0) -> Iterator[list[str]]:
    """The database goes away in the middle of the (after+1)th bulk write (COPY, or executemany
    on SQLite) into `table`, after its first row: those go to the driver's cursor, beneath the
    engine's events, so the driver's own error is raised, as a lost connection raises it."""
    seen: list[str] = []
    write = Writer._write

    def dropping(self: Writer, into: str, columns: Any, rows: Any) -> int:
        if into != table:
            return write(self, into, columns, rows)
        seen.append(into)
        if len(seen) <= after:
            return write(self, into, columns, rows)
        driver_error = self.connection.dialect.loaded_dbapi.OperationalError

        def cut_off() -> Iterator[Any]:
            for n, row in enumerate(rows):
                if n == 1:
                    raise driver_error("server closed the connection unexpectedly")
                yield row

        return write(self, into, columns, cut_off())

    Writer._write = dropping  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Writer._write = write  # type: ignore[method-assign]


def test_an_import_cut_off_by_the_database_keeps_nothing(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    rows = [f"{make_upn(f'855500125{n:03d}')},Pat,Number{n},2012-03-14,855" for n in range(1200)]
    content = "upn,first_name,last_name,date_of_birth,home_la_code\n" + "\n".join(rows) + "\n"
    pupils, audits = (db.scalar(select(func.count()).select_from(t)) for t in (Pupil, AuditEvent))
    with bulk_write_drops("pupil", after=1) as seen:  # the second chunk of 500 pupils
        answer = post(
            client,
            "/admin/imports",
            {"kind": "pupils", "file": (io.BytesIO(content.encode()), "pupils.csv")},
            content_type="multipart/form-data",
        )
    assert len(seen) == 2, "the first batch was written before the connection went"
    soup = page(answer, status=503)
    assert "Nothing you sent was saved" in text(soup) and "Traceback" not in answer.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Pupil)) == pupils
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == audits


def test_an_api_write_cut_off_by_the_database_keeps_nothing(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    token = {"Authorization": f"Bearer {home['tokens'][Role.LA_ADMIN].secret}"}
    marks = [
        {"pupil_id": home["pupil"].id, "setting_id": home["pru"].id, "date": day, "session": half, "code": present}
        for day in ("2025-11-10", "2025-11-11")
        for half, present in (("AM", "/"), ("PM", "\\"))
    ]
    before = db.scalar(select(func.count()).select_from(AttendanceMark))
    with connection_drops("INSERT INTO ATTENDANCE_MARK", after=1):
        answer = client.post("/api/v1/attendance", json={"marks": marks}, headers=token)
    assert answer.status_code == 503
    error = answer.get_json()["error"]
    assert error["status"] == 503 and "Nothing you sent was saved" in error["message"]
    assert db.scalar(select(func.count()).select_from(AttendanceMark)) == before
    # When the database is back, the same request goes through whole.
    again = client.post("/api/v1/attendance", json={"marks": marks}, headers=token)
    assert again.status_code == 200 and again.get_json()["written"] == 4


def test_postgresql_ending_the_connection_mid_import_keeps_nothing(tmp_path: Any) -> None:
    """Not an injected error: PostgreSQL itself ends the app's connection (pg_terminate_backend,
    as a failover or a restart does) just after the import's first chunk of 500 pupils went in
    (by COPY), as the second chunk takes its ids. Runs on PostgreSQL in both runs of the suite."""
    from sqlalchemy import create_engine
    from sqlalchemy import text as sql

    from ap_register.extensions import db as flask_db
    from tests import factories
    from tests.conftest import _postgres_server_url, build_app, make_database

    url, drop = make_database("postgres", tmp_path)
    app = build_app(url)
    with app.app_context():
        admin_user = factories.user(flask_db.session, Role.LA_ADMIN, factories.la(flask_db.session, "855"))
        email = admin_user.email
        flask_db.session.commit()
    killer = create_engine(_postgres_server_url(), isolation_level="AUTOCOMMIT")
    ended: list[int] = []
    chunks: list[str] = []

    def end_the_connection(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "pg_get_serial_sequence('pupil'" in statement:
            chunks.append(statement)
        if len(chunks) == 2 and not ended:
            chunks.append("ending")  # asking for the pid runs this hook again
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with killer.connect() as other:
                assert other.execute(sql("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
            ended.append(pid)

    rows = [f"{make_upn(f'85550016{n:04d}')},Sam,Number{n},2012-03-14,855" for n in range(1200)]
    content = "upn,first_name,last_name,date_of_birth,home_la_code\n" + "\n".join(rows) + "\n"
    try:
        client = app.test_client()
        sign_in(client, email)

        def send() -> Any:
            return post(
                client,
                "/admin/imports",
                {"kind": "pupils", "file": (io.BytesIO(content.encode()), "pupils.csv")},
                content_type="multipart/form-data",
            )

        def counts() -> tuple[int, int]:
            with app.app_context():
                return tuple(  # type: ignore[return-value]
                    flask_db.session.scalar(select(func.count()).select_from(t)) for t in (Pupil, AuditEvent)
                )

        before = counts()
        with app.app_context():
            engine = flask_db.engine
        event.listen(engine, "after_cursor_execute", end_the_connection)
        try:
            answer = send()
        finally:
            event.remove(engine, "after_cursor_execute", end_the_connection)
        assert ended, "the connection was ended mid-import"
        soup = page(answer, status=503)
        assert "Nothing you sent was saved" in text(soup) and "Traceback" not in answer.get_data(as_text=True)
        assert counts() == before
        # The pool notices the dead connection; the same file then goes in whole.
        again = send()
        assert again.status_code in (200, 302), again.get_data(as_text=True)[:300]
        assert counts()[0] == before[0] + 1200
    finally:
        with app.app_context():
            flask_db.engine.dispose()
        killer.dispose()
        drop()
