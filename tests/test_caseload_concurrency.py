"""Two officers giving the same child's case at the same moment: the child ends with one
caseworker, and the audit trail tells the story in order (each change names the holder before it).

Real concurrent transactions (two threads, each with its own connection), ten children in a row:
on PostgreSQL the child's row lock makes the second wait and then see the first's change; SQLite
takes its one write lock at the start of each transaction, so the two go in turn."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ap_register.casework import caseloads
from ap_register.domain.actors import Actor
from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db
from ap_register.models import AuditEvent, CaseAssignment, User
from tests import factories
from tests.conftest import build_app, make_database

ROUNDS = 10


def test_two_officers_giving_one_case_at_once_leave_one_caseworker_and_a_whole_story(
    db_kind: str, tmp_path: Path
) -> None:
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url)
    try:
        with app.app_context():
            session = db.session
            la = factories.la(session, "855")
            school = factories.setting(session, la, SettingKind.MAINSTREAM)
            officers = [factories.user(session, Role.ATTENDANCE_OFFICER, la) for _ in range(2)]
            pupils = [factories.pupil(session, la, school).id for _ in range(ROUNDS)]
            session.commit()
            officer_ids = [o.id for o in officers]
            session.remove()

        failures: list[BaseException] = []

        def give(pupil_id: int, me: int, to: int, barrier: threading.Barrier) -> None:
            with app.app_context():
                try:
                    actor = Actor(user=db.session.get(User, me), via="test")
                    # Nothing held while waiting for the other (SQLite takes its write lock with
                    # a transaction's first statement).
                    db.session.commit()
                    barrier.wait(timeout=30)
                    caseloads.assign(db.session, actor, pupil_id, to)
                    db.session.commit()
                except BaseException as error:  # noqa: BLE001 - reported below
                    db.session.rollback()
                    failures.append(error)
                finally:
                    db.session.remove()

        for pupil_id in pupils:
            barrier = threading.Barrier(2)
            threads = [
                threading.Thread(target=give, args=(pupil_id, officer_ids[n], officer_ids[1 - n], barrier))
                for n in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        assert failures == []

        with app.app_context():
            for pupil_id in pupils:
                held = db.session.scalars(select(CaseAssignment).where(CaseAssignment.pupil_id == pupil_id)).all()
                assert len(held) == 1 and held[0].user_id in officer_ids
                story = db.session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.object_type == "case", AuditEvent.pupil_id == pupil_id)
                    .order_by(AuditEvent.id)
                ).all()
                chain: list[Any] = [None] + [e.detail["caseworker"] for e in story]
                assert [e.detail["before"] for e in story] == chain[:-1]
                assert chain[-1] == held[0].user_id
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
