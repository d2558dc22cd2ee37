"""A file of junk costs the register little: a refused import keeps a bounded report, and the
part of an import that reads the file holds no transaction (on SQLite, no write lock).

The attack this guards against: a pupils file of 1.4 million bad lines (8 MB) took 1.5 GB and
23 s, and held SQLite's write lock throughout, so that another person got a 503; memory grew
with the number of problems. (The memory and time of that file are measured by
performance/bench_import_refusal.py.)
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import func, make_url, select

from ap_register.domain import imports
from ap_register.domain.vocab import Role
from ap_register.extensions import db as flask_db
from ap_register.models import Pupil
from tests import factories
from tests.conftest import build_app, make_database
from tests.pages import page, post, sign_in, text

HEADER = "upn,first_name,last_name,date_of_birth,home_la_code\n"


def junk(lines: int) -> str:
    return HEADER + "".join(f"X{n},,Ng,14/03/2012,855\n" for n in range(lines))


def test_a_refused_file_reports_its_first_problems_and_counts_them_all(client: Any, world: dict, db: Any) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    before = db.scalar(select(func.count()).select_from(Pupil))
    soup = page(
        post(
            client,
            "/admin/imports",
            {"kind": "pupils", "file": (io.BytesIO(junk(20_000).encode()), "pupils.csv")},
            content_type="multipart/form-data",
        )
    )
    shown = text(soup)
    # Three problems a line (UPN, first name, date of birth), every one counted ...
    assert "has 60,000 problems" in shown
    # ... and the first 1,000 listed, by line.
    assert len(soup.select("tbody tr")) == imports.MAX_PROBLEMS
    assert "The first 1,000 problems are shown" in shown
    assert db.scalar(select(func.count()).select_from(Pupil)) == before


def test_the_report_of_a_file_of_junk_stays_the_same_size(db: Any) -> None:
    for lines in (2_000, 40_000):
        try:
            imports.check_file("pupils", io.BytesIO(junk(lines).encode()), "855")
        except imports.ImportRefused as refused:
            report = refused.report
        assert report.problems == 3 * lines
        assert len(report.errors) == imports.MAX_PROBLEMS
        assert report.as_json()["problems"] == 3 * lines


def test_reading_a_file_holds_no_transaction_so_nobody_waits(db_kind: str, tmp_path: Path, monkeypatch: Any) -> None:
    url, drop = make_database(db_kind, tmp_path)  # its own database: the upload commits as it would live
    app = build_app(url, WTF_CSRF_ENABLED=False)
    seen: list[tuple[bool, bool | None]] = []
    original = imports.Importer.handle

    def watched(self: imports.Importer, line: int, row: dict[str, str]) -> None:
        if self.dry and line == 500:
            # Half-way through the first pass: is the request's session in a transaction, and
            # (on SQLite) can another connection take the write lock at once?
            other = None
            if db_kind == "sqlite":
                connection = sqlite3.connect(make_url(url).database or "", timeout=0)
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    connection.execute("ROLLBACK")
                    other = True
                except sqlite3.OperationalError:
                    other = False
                finally:
                    connection.close()
            seen.append((flask_db.session().in_transaction(), other))
        original(self, line, row)

    monkeypatch.setattr(imports.Importer, "handle", watched)
    try:
        with app.app_context():
            la = factories.la(flask_db.session, "855")
            admin = factories.user(flask_db.session, Role.LA_ADMIN, la)
            flask_db.session.commit()
            email = admin.email
        client = app.test_client()
        client.post("/sign-in", data={"email": email, "password": factories.PASSWORD})
        answer = client.post(
            "/admin/imports",
            data={"kind": "pupils", "file": (io.BytesIO(junk(2_000).encode()), "pupils.csv")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 200 and "The file was not imported" in answer.get_data(as_text=True)
        expected = (False, True if db_kind == "sqlite" else None)
        assert seen == [expected]
    finally:
        with app.app_context():
            flask_db.engine.dispose()
        drop()


def test_files_are_throttled_per_la(db_kind: str, tmp_path: Path) -> None:
    """Each file can name a thousand UPNs: an LA's administrators, together, send so many an hour."""
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url, WTF_CSRF_ENABLED=False, IMPORT_RATE_LIMIT="2 per hour")
    try:
        with app.app_context():
            la = factories.la(flask_db.session, "855")
            emails = [factories.user(flask_db.session, Role.LA_ADMIN, la).email for _ in range(2)]
            flask_db.session.commit()
        codes = []
        for email in (emails[0], emails[0], emails[1]):
            client = app.test_client()
            client.post("/sign-in", data={"email": email, "password": factories.PASSWORD})
            answer = client.post(
                "/admin/imports",
                data={"kind": "pupils", "file": (io.BytesIO(junk(3).encode()), "pupils.csv")},
                content_type="multipart/form-data",
            )
            codes.append(answer.status_code)
        assert codes == [200, 200, 429]
    finally:
        with app.app_context():
            flask_db.engine.dispose()
        drop()
