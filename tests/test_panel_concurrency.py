"""Two chairs deciding the same case at the same moment never make two placements.

Run against a real database with real concurrent transactions (two threads, each with its own
connection), twenty cases in a row: on PostgreSQL the referral's row lock makes the second chair
wait and then see the first decision; on SQLite the stale write is refused."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import Registration, Role, Route, SettingKind
from ap_register.extensions import db
from ap_register.models import Decision, Meeting, Placement, Referral, User
from ap_register.panels.rules import (
    PlacementTerms,
    SupportItem,
    add_member,
    build_agenda,
    create_panel,
    decide,
    schedule_meeting,
    submit_referral,
)
from tests import factories
from tests.conftest import build_app, make_database

ROUNDS = 20


WORKERS = 50


@pytest.fixture()
def panel_world(db_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    yield from _panel_world(db_kind, tmp_path, ROUNDS, {})


@pytest.fixture()
def crowded_panel(db_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    # A connection for each worker: the pool must not be what makes them take turns.
    yield from _panel_world(db_kind, tmp_path, 1, {"pool_size": WORKERS + 5, "max_overflow": 0})


def _panel_world(db_kind: str, tmp_path: Path, rounds: int, pool: dict[str, Any]):  # type: ignore[no-untyped-def]
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url, **({"SQLALCHEMY_ENGINE_OPTIONS": pool} if pool else {}))
    with app.app_context():
        session = db.session
        la = factories.la(session, "855", panels=True)
        school = factories.setting(session, la, SettingKind.MAINSTREAM)
        receiving = factories.setting(session, la, SettingKind.MAINSTREAM)
        admin = Actor(user=factories.user(session, Role.LA_ADMIN, la), via="test")
        chairs = [factories.user(session, Role.PANEL_CHAIR, la) for _ in range(2)]
        panel = create_panel(session, admin, la, "Panel", quorum=2)
        for chair in chairs:
            add_member(session, admin, panel, chair, chair=True)
        meeting = schedule_meeting(session, admin, panel, date(2025, 11, 13), None)
        for _ in range(rounds):
            pupil = factories.pupil(session, la, school)
            submit_referral(
                session,
                factories.SYSTEM,
                pupil,
                move="managed_move",
                route=Route.MANAGED_MOVE,
                proposed_setting=receiving,
                reason_codes=["behaviour"],
                reasons="Conflict with peers",
                support=[SupportItem("Mentoring", date(2025, 9, 8))],
                missing_support_reason=None,
                parent_views="Agrees",
                pupil_views="Agrees",
                missing_views_reason=None,
                best_interest="A fresh start",
                today=date(2025, 11, 10),
            )
        build_agenda(session, admin, meeting)
        session.commit()
        ids = {"meeting": meeting.id, "chairs": [c.id for c in chairs], "members": [m.id for m in panel.members]}
    yield app, ids
    with app.app_context():
        db.engine.dispose()
    drop()


def chair_decides(
    app: Any, ids: dict[str, Any], referral_id: int, chair_id: int, barrier: threading.Barrier, results: list[str]
) -> None:
    """One chair's request: load the case, wait for the other chair, then decide."""
    with app.app_context():
        # SQLite: a request holds the write lock from its first read (BEGIN IMMEDIATE), so the
        # workers are released before it and take turns; PostgreSQL: after loading, to race.
        sqlite = db.engine.dialect.name == "sqlite"
        if sqlite:
            barrier.wait()
        session = db.session
        meeting = session.get(Meeting, ids["meeting"])
        referral = session.get(Referral, referral_id)
        chair = session.get(User, chair_id)
        assert meeting is not None and referral is not None and chair is not None
        _ = [m.user for m in meeting.panel.members], meeting.cases  # loaded before the race
        if not sqlite:
            barrier.wait()
        try:
            decide(
                session,
                Actor(user=chair, via="test"),
                meeting,
                referral,
                outcome="approve",
                reasons="Agreed",
                votes={m: "for" for m in ids["members"]},
                terms=PlacementTerms(date(2025, 11, 17), "1" * 10, Registration.SOLE),
            )
            session.commit()
            results.append("decided")
        except DomainError:
            session.rollback()
            results.append("refused")
        finally:
            session.remove()


def test_two_chairs_deciding_at_once_make_one_placement(panel_world) -> None:  # type: ignore[no-untyped-def]
    app, ids = panel_world
    with app.app_context():
        referral_ids = list(db.session.scalars(select(Referral.id).order_by(Referral.id)))
    outcomes: list[list[str]] = []
    for referral_id in referral_ids:
        barrier = threading.Barrier(2)
        results: list[str] = []
        threads = [
            threading.Thread(target=chair_decides, args=(app, ids, referral_id, chair_id, barrier, results))
            for chair_id in ids["chairs"]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        outcomes.append(sorted(results))
    assert outcomes == [["decided", "refused"]] * ROUNDS
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Decision)) == ROUNDS
        assert db.session.scalar(select(func.count()).select_from(Placement)) == ROUNDS


def test_fifty_deciding_the_same_case_at_once_make_one_decision(crowded_panel, db_kind: str) -> None:  # type: ignore[no-untyped-def]
    app, ids = crowded_panel
    with app.app_context():
        referral_id = db.session.scalars(select(Referral.id)).one()
    barrier = threading.Barrier(WORKERS)
    results: list[str] = []
    threads = [
        threading.Thread(target=chair_decides, args=(app, ids, referral_id, ids["chairs"][n % 2], barrier, results))
        for n in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == ["decided"] + ["refused"] * (WORKERS - 1)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Decision)) == 1
        assert db.session.scalar(select(func.count()).select_from(Placement)) == 1
