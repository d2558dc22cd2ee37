"""Two bookings for a provider's last commissioned place at the same moment: one gets the place,
the other is told to book a spot purchase (or, on SQLite, to try again), never two in one place.

Real concurrent transactions (two threads, each with its own connection) against the real
database, for ten providers in a row, each with one commissioned time-limited place."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ap_register.budgets.rules import agree_plan, create_plan, set_line
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import MovementKind, Registration, Role, Route, SettingKind, Tier
from ap_register.extensions import db
from ap_register.models import Placement, Pupil, User
from ap_register.placements.rules import PlacementDraft, record_roll_movement, start_placement
from tests import factories
from tests.conftest import build_app, make_database

ROUNDS = 10


def one_place(session: Any, commissioner: Actor, plan: Any, provider: Any) -> None:
    """One commissioned time-limited place at this provider in each year of the plan."""
    for year in (2025, 2026, 2027):
        set_line(
            session,
            commissioner,
            plan,
            year=year,
            provider=provider,
            place_type="time_limited",
            commissioned=Decimal(1),
            unit_cost=Decimal(18000),
        )


def excluded_pupil(session: Any, la: Any, school: Any) -> int:
    """A pupil permanently excluded in October: the LA must place them."""
    pupil = factories.pupil(session, la, school)
    record_roll_movement(
        session,
        factories.SYSTEM,
        pupil,
        MovementKind.PERMANENT_EXCLUSION,
        date(2025, 10, 1),
        school,
        reason="Assault",
        today=date(2025, 10, 1),
    )
    return int(pupil.id)


@pytest.fixture()
def booking_world(db_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url)
    with app.app_context():
        session = db.session
        la = factories.la(session, "855")
        school = factories.setting(session, la, SettingKind.MAINSTREAM)
        commissioner = Actor(user=factories.user(session, Role.COMMISSIONER, la), via="test")
        officers = [factories.user(session, Role.LA_ADMIN, la) for _ in range(2)]
        plan = create_plan(session, commissioner, la, name="AP budget", first_year=2025, years=3, demand_policy="x")
        rounds = []
        for n in range(ROUNDS):
            provider = factories.setting(session, la, SettingKind.PRU, name=f"Provider {n}")
            one_place(session, commissioner, plan, provider)
            pupils = [excluded_pupil(session, la, school) for _ in range(2)]
            rounds.append((provider.id, pupils))
        for year in (2025, 2026, 2027):
            set_line(session, commissioner, plan, year=year, place_type="reserve", commissioned=Decimal(1), unit_cost=1)
        agree_plan(session, commissioner, plan)
        session.commit()
        ids = {"officers": [o.id for o in officers], "rounds": rounds}
    yield app, ids
    with app.app_context():
        db.engine.dispose()
    drop()


def book(
    app: Any, officer_id: int, pupil_id: int, provider_id: int, barrier: threading.Barrier, results: list[str]
) -> None:
    """One officer's request: load the pupil, wait for the other officer, then book the place."""
    with app.app_context():
        # SQLite: a request holds the write lock from its first read (BEGIN IMMEDIATE), so the
        # workers are released before it and take turns; PostgreSQL: after loading, to race.
        sqlite = db.engine.dialect.name == "sqlite"
        if sqlite:
            barrier.wait()
        session = db.session
        officer = session.get(User, officer_id)
        pupil = session.get(Pupil, pupil_id)
        assert officer is not None and pupil is not None
        _ = pupil.home_la, pupil.home_school  # loaded before the race
        if not sqlite:
            barrier.wait()
        try:
            start_placement(
                session,
                Actor(user=officer, via="test"),
                pupil,
                PlacementDraft(
                    setting_id=provider_id,
                    route=Route.LA_EXCLUSION,
                    registration=Registration.DUAL,
                    sessions="1" * 10,
                    start_date=date(2025, 11, 10),
                    tier=Tier.TIME_LIMITED,
                    planned_end_date=date(2026, 2, 13),
                    reintegration_plan="Back to a mainstream school after February",
                ),
            )
            session.commit()
            results.append("booked")
        except DomainError as refused:
            session.rollback()
            message = refused.errors[0].message
            results.append("spot purchase" if "spot purchase" in message else "try again")
        finally:
            session.remove()


def test_two_bookings_for_the_last_place_never_both_take_it(booking_world, db_kind: str) -> None:  # type: ignore[no-untyped-def]
    app, ids = booking_world
    outcomes: list[list[str]] = []
    for provider_id, pupils in ids["rounds"]:
        barrier = threading.Barrier(2)
        results: list[str] = []
        threads = [
            threading.Thread(target=book, args=(app, officer, pupil, provider_id, barrier, results))
            for officer, pupil in zip(ids["officers"], pupils, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        outcomes.append(sorted(results))
    # PostgreSQL: the second waits for the first, then counts its place: no free place left.
    # SQLite: writes are one at a time; the second is refused either way.
    allowed = (
        [["booked", "spot purchase"]]
        if db_kind == "postgres"
        else [["booked", "spot purchase"], ["booked", "try again"]]
    )
    assert all(outcome in allowed for outcome in outcomes), outcomes
    with app.app_context():
        for provider_id, _ in ids["rounds"]:
            taken = db.session.scalar(
                select(func.count()).select_from(Placement).where(Placement.setting_id == provider_id)
            )
            assert taken == 1


WORKERS = 50


@pytest.fixture()
def crowded_world(db_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """One provider with one commissioned place, and 50 excluded pupils to place in it."""
    url, drop = make_database(db_kind, tmp_path)
    # A connection for each worker: the pool must not be what makes them take turns.
    app = build_app(url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": WORKERS + 5, "max_overflow": 0})
    with app.app_context():
        session = db.session
        la = factories.la(session, "855")
        school = factories.setting(session, la, SettingKind.MAINSTREAM)
        commissioner = Actor(user=factories.user(session, Role.COMMISSIONER, la), via="test")
        officers = [factories.user(session, Role.LA_ADMIN, la).id for _ in range(5)]
        plan = create_plan(session, commissioner, la, name="AP budget", first_year=2025, years=3, demand_policy="x")
        provider = factories.setting(session, la, SettingKind.PRU, name="The last place")
        one_place(session, commissioner, plan, provider)
        for year in (2025, 2026, 2027):
            set_line(session, commissioner, plan, year=year, place_type="reserve", commissioned=Decimal(1), unit_cost=1)
        agree_plan(session, commissioner, plan)
        pupils = [excluded_pupil(session, la, school) for _ in range(WORKERS)]
        session.commit()
        ids = {"officers": officers, "pupils": pupils, "provider": provider.id}
    yield app, ids
    with app.app_context():
        db.engine.dispose()
    drop()


def test_fifty_bookings_for_the_last_place_one_takes_it(crowded_world, db_kind: str) -> None:  # type: ignore[no-untyped-def]
    app, ids = crowded_world
    barrier = threading.Barrier(WORKERS)
    results: list[str] = []
    threads = [
        threading.Thread(
            target=book, args=(app, ids["officers"][n % len(ids["officers"])], pupil, ids["provider"], barrier, results)
        )
        for n, pupil in enumerate(ids["pupils"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == WORKERS, "every worker answered"
    assert results.count("booked") == 1, sorted(results)
    # PostgreSQL: each waits for the one before and then finds no free place. SQLite: one writer at
    # a time; a worker that could not get the database in time is told to try again.
    others = {"spot purchase"} if db_kind == "postgres" else {"spot purchase", "try again"}
    assert set(results) - {"booked"} <= others
    with app.app_context():
        taken = db.session.scalar(
            select(func.count()).select_from(Placement).where(Placement.setting_id == ids["provider"])
        )
        assert taken == 1
