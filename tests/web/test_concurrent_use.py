"""Several people at once on the same database: every page answers. (On SQLite a transaction
that read before it wrote, after another request wrote, used to fail at once with "database is
locked", a 503, however long the busy timeout: transactions now take the write lock first.)"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db
from tests import factories
from tests.conftest import build_app, make_database
from tests.pages import sign_in

PEOPLE, VISITS = 8, 12


def test_people_reading_pupils_at_once_all_get_their_pages(db_kind: str, tmp_path: Path) -> None:
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": PEOPLE + 2, "max_overflow": 0})
    try:
        with app.app_context():
            la = factories.la(db.session, "855")
            school = factories.setting(db.session, la, SettingKind.MAINSTREAM)
            pupils = [factories.pupil(db.session, la, school).id for _ in range(PEOPLE)]
            emails = [factories.user(db.session, Role.ATTENDANCE_OFFICER, la).email for _ in range(PEOPLE)]
            db.session.commit()
        clients = []
        for email in emails:
            client = app.test_client()
            assert sign_in(client, email).status_code == 302
            clients.append(client)
        barrier = threading.Barrier(PEOPLE)
        statuses: list[int] = []

        def visit(client: Any, pupil_id: int) -> None:
            barrier.wait()
            for _ in range(VISITS):  # each view of a pupil writes an audit event
                statuses.append(client.get(f"/pupils/{pupil_id}").status_code)
                statuses.append(client.get("/pupils?q=Pupil").status_code)

        threads = [threading.Thread(target=visit, args=pair) for pair in zip(clients, pupils, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(statuses) == PEOPLE * VISITS * 2
        assert set(statuses) == {200}, sorted(set(statuses))
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()
