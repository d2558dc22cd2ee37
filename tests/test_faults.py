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


def test_an_import_cut_off_by_the_database_keeps_nothing(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    rows = [f"{make_upn(f'855500125{n:03d}')},Pat,Number{n},2012-03-14,855" for n in range(1200)]
    content = "upn,first_name,last_name,date_of_birth,home_la_code\n" + "\n".join(rows) + "\n"
    pupils, audits = (db.scalar(select(func.count()).select_from(t)) for t in (Pupil, AuditEvent))
    with connection_drops("INSERT INTO PUPIL", after=1) as seen:  # the second batch of 500 pupils
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
        {"pupil_id": home["pupil"].id, "setting_id": home["pru"].id, "date": day, "session": half, "code": "/"}
        for day in ("2025-11-10", "2025-11-11")
        for half in ("AM", "PM")
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
