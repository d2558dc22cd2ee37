"""Shared fixtures. The suite runs on one database per pytest run, chosen by --db (or the
AP_REGISTER_TEST_DB variable): `sqlite` (a file in a temporary folder) or `postgres` (a fresh
database created on the server at TEST_POSTGRES_URL, default the local `test` database's server).
A database, browser or other service that cannot be reached fails the run: it is never skipped.

Each test runs inside a transaction that is rolled back afterwards (savepoints let the code
under test commit as it would in production).

Time: the register's clock (`ap_register.clock`) says it is ANCHOR for the whole run, whatever
the machine's date; a test that needs another day fixes it with `clock.fixed(...)`. To prove that
nothing reads the machine's clock around the seam, `--machine-date` (or AP_REGISTER_MACHINE_DATE)
runs the suite as if the machine's clock said another date (YYYY-MM-DD, or +N for N months
from now): CI runs it at today, +6, +12 and +36 months.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from ap_register import clock, create_app
from ap_register.config import TestConfig
from ap_register.extensions import db as flask_db

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# The register's "today" in every test (a Friday of the autumn term 2026) unless a test fixes another.
ANCHOR = date(2026, 12, 4)
ANCHORED = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgres"],
        default=os.environ.get("AP_REGISTER_TEST_DB", "sqlite"),
        help="the database the suite runs against",
    )
    parser.addoption(
        "--machine-date",
        default=os.environ.get("AP_REGISTER_MACHINE_DATE", ""),
        help="run as if the machine's clock said this date: YYYY-MM-DD, or +N (N months from now)",
    )
    parser.addoption(
        "--share",
        action="store_true",
        default=os.environ.get("AP_REGISTER_SHARE", "") == "1",
        help="run each shared test (browser journeys, walks) in one database's half only (make test)",
    )
    parser.addoption(
        "--cpu-hog",
        type=int,
        default=int(os.environ.get("AP_REGISTER_CPU_HOG", "0") or 0),
        help="keep N processes spinning for the whole run, so the suite meets a loaded machine",
    )


# A process that spins until the run that started it ends (it checks its parent, so a run killed
# outright leaves nothing behind).
SPIN = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    sum(range(200_000))\n"
HOGS = pytest.StashKey[list[Any]]()


def start_cpu_hog(config: pytest.Config) -> None:
    import subprocess
    import sys

    count = config.getoption("--cpu-hog")
    if count > 0:
        config.stash[HOGS] = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count)]
        print(f"{count} processes keep the machine's cores busy for this run")


def pytest_unconfigure(config: pytest.Config) -> None:
    for hog in config.stash.get(HOGS, []):
        hog.kill()
        hog.wait()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that needs no database of the run's own (`any_database`) runs in one half only: the
    SQLite half, or with --share the PostgreSQL half (the SQLite half of `make test` carries the
    hostile walk alone, and is the longer; the wheel's clean install is a minute and a half).

    With --share (`make test` and CI; `make test-full` runs without it), the long tests that use a
    database but test no difference between the two are shared between the halves: each runs on
    one database, not both. They are the browser journeys (a file at a time, as a file's tests
    share one live server) and the tests marked `shared` (each case of the route walks and the
    demo's days). In each group the first, third, fifth... go to the PostgreSQL half and the
    others to the SQLite half, so that both halves run all of them between them."""
    dropped = left_out(items, config.getoption("--db"), config.getoption("--share"))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def left_out(items: list[Any], kind: str, share: bool) -> list[Any]:
    """The tests this database's half leaves to the other (see pytest_collection_modifyitems)."""
    home = "postgres" if share else "sqlite"
    dropped = [item for item in items if kind != home and item.get_closest_marker("any_database")]
    return dropped + (elsewhere(items, kind) if share else [])


def elsewhere(items: list[pytest.Item], kind: str) -> list[pytest.Item]:
    """The shared tests (see pytest_collection_modifyitems) the other database's half runs."""
    groups: dict[str, dict[str, int]] = {}  # group -> unit -> its place in the group
    away = []
    for item in items:
        if item.get_closest_marker("browser"):
            group, unit = "browser", str(item.path)
        elif item.get_closest_marker("shared"):
            group, unit = f"{item.path}::{getattr(item, 'originalname', item.name)}", item.nodeid
        else:
            continue
        units = groups.setdefault(group, {})
        place = units.setdefault(unit, len(units))
        if (place % 2 == 0) != (kind == "postgres"):
            away.append(item)
    return away


def machine_date(spec: str, now: datetime) -> datetime:
    """The instant `--machine-date` asks for: a date (at this time of day), or +N months from now."""
    months = re.fullmatch(r"\+(\d{1,3})", spec)
    if months:
        total = now.month - 1 + int(months.group(1))
        year, month = now.year + total // 12, total % 12 + 1
        return now.replace(year=year, month=month, day=min(now.day, 28))
    return datetime.combine(date.fromisoformat(spec), now.time(), tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("--machine-date")
    if spec:
        import time_machine

        when = machine_date(spec, clock.machine_now())
        time_machine.travel(when, tick=True).start()
        print(f"The machine's clock says {when:%Y-%m-%d %H:%M} UTC for this run")
    # For the whole run (tests nest their own). Kept referenced: a context manager that is
    # collected closes, and would put the clock back.
    config.stash[ANCHORED] = anchored = clock.fixed(ANCHOR)
    anchored.__enter__()
    start_cpu_hog(config)


def unavailable(reason: str) -> None:
    """A service the suite needs is missing: a failure, with the reason (never a skip)."""
    pytest.fail(f"{reason} (a missing service fails the run; it is never skipped)", pytrace=False)


def _postgres_server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES)


def free_port() -> int:
    """A port on localhost nobody listens on, for a server a test starts."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_admin() -> Any:
    """An engine on the PostgreSQL server that creates and drops the tests' databases."""
    return create_engine(_postgres_server_url(), isolation_level="AUTOCOMMIT")


def make_database(kind: str, tmp_dir: Path) -> tuple[str, Any]:
    """A new, empty database of this kind; returns its URL and a function that drops it."""
    if kind == "sqlite":
        path = tmp_dir / f"ap_register_{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: None
    server = _postgres_server_url()
    name = f"ap_register_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = _server_admin()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server is reported the same way
        unavailable(f"PostgreSQL is not reachable at {server}: {error}")

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def build_app(database_url: str, **overrides: Any) -> Flask:
    """An app on this database, migrated to the latest revision, with the reference data loaded."""
    import tempfile

    from flask_migrate import upgrade

    from ap_register.domain.reference_data import load_into

    app = create_app(
        {
            **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
            "SQLALCHEMY_DATABASE_URI": database_url,
            # Documents (a demo's sent letters among them) kept apart from the instance folder's.
            "DOCUMENTS_DIR": tempfile.mkdtemp(prefix="ap-register-documents-"),
            **overrides,
        }
    )
    with app.app_context():
        upgrade()
        load_into(flask_db.session)
        flask_db.session.commit()
        flask_db.session.remove()
    return app


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def demo_template(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database with the demo area loaded, made once a run (loading it takes 10-25 seconds):
    `copy_database` gives a test its own copy. Nothing connects to it after it is made."""
    from ap_register.devdata.demo import load_demo

    url, drop = make_database(db_kind, tmp_path_factory.mktemp("demo"))
    app = build_app(url)
    with app.app_context():
        load_demo(flask_db.session)
        flask_db.session.commit()
        flask_db.session.remove()
        flask_db.engine.dispose()
    if db_kind == "sqlite":  # everything into the database file itself, none left in its log
        import sqlite3

        connection = sqlite3.connect(str(make_url(url).database))
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
    yield url
    drop()


def copy_database(template: str, app: Flask) -> None:
    """Make the app's database a copy of the template's (same name, same address). The app's
    connections are closed first; the copy is whole, as the template was committed."""
    import shutil

    with app.app_context():
        flask_db.session.remove()
        flask_db.engine.dispose()
    target = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if target.get_backend_name() == "sqlite":
        for suffix in ("-wal", "-shm"):
            Path(f"{target.database}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(str(make_url(template).database), str(target.database))
        return
    admin = _server_admin()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{target.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{target.database}" TEMPLATE "{make_url(template).database}"'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = make_database(db_kind, tmp_path_factory.mktemp("db"))
    yield url
    drop()


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    application = build_app(database_url)
    yield application
    with application.app_context():
        flask_db.engine.dispose()


@pytest.fixture()
def db(app: Flask) -> Iterator[Session]:
    """A session for the test's own reads and writes, inside a transaction rolled back after the
    test. Requests and CLI commands run in their own app contexts with their own sessions, on the
    same connection (so a view that forgets to commit is caught: its work is rolled back)."""
    with app.app_context():
        engines = flask_db.engines
        engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection  # Flask-SQLAlchemy ignores session.bind: swap the engine
    with app.app_context():
        original_mode = flask_db.session.session_factory.kw.get("join_transaction_mode")
        flask_db.session.configure(join_transaction_mode="create_savepoint")
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        with app.app_context():
            if original_mode is None:
                flask_db.session.session_factory.kw.pop("join_transaction_mode", None)
            else:
                flask_db.session.configure(join_transaction_mode=original_mode)
        engines[None] = engine
        outer.rollback()
        connection.close()


class Client(FlaskClient):
    """The test client; after each request the test's own session forgets what it had loaded,
    so that the test reads what the request committed."""

    test_session: Session

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        self.test_session.expire_all()
        return response


@pytest.fixture()
def client(app: Flask, db: Session) -> Client:
    app.test_client_class = Client
    test_client = app.test_client()
    assert isinstance(test_client, Client)
    test_client.test_session = db
    return test_client


# The EICAR test file: every virus scanner reports it, and it harms nothing.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture()
def clamav(app: Flask, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """ClamAV from Debian's packages, given its own signature for the EICAR test file (with no
    network, freshclam cannot fetch the real ones); the app's documents kept under tmp_path."""
    import hashlib
    import shutil

    if shutil.which("clamscan") is None:
        unavailable("ClamAV is not installed (apt-get install clamav)")
    signatures = tmp_path / "eicar.hdb"
    signatures.write_text(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n")  # noqa: S324 - ClamAV's hash signature format
    saved = {key: app.config.get(key) for key in ("CLAMAV_DATABASE", "DOCUMENTS_DIR", "CLAMSCAN")}
    app.config.update(CLAMAV_DATABASE=str(signatures), DOCUMENTS_DIR=str(tmp_path / "documents"), CLAMSCAN="clamscan")
    yield {"database": str(signatures), "documents": tmp_path / "documents"}
    app.config.update(saved)


@pytest.fixture()
def runner(app: Flask, db: Session) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture()
def world(db: Session) -> dict[str, Any]:
    """Two local authorities, each with schools, AP and pupils with placements, and a user of
    every role in each. Used to prove what each role sees, and what it must never see."""
    return build_world(db)


def build_world(db: Session) -> dict[str, Any]:
    """The `world`, in any session (a browser test builds it in its live app's database)."""
    from datetime import date

    from ap_register.domain.vocab import SettingKind, Tier
    from tests import factories

    made: dict[str, Any] = {}
    for key, code in (("home", "855"), ("other", "856")):
        la = factories.la(db, code)
        school = factories.setting(db, la, SettingKind.MAINSTREAM, name=f"{key.title()} High School")
        second = factories.setting(db, la, SettingKind.MAINSTREAM, name=f"{key.title()} Academy")
        pru = factories.setting(db, la, SettingKind.PRU, name=f"{key.title()} PRU")
        farm = factories.setting(db, la, SettingKind.UNREGISTERED_AP, name=f"{key.title()} Farm Project")
        pupil = factories.pupil(db, la, school, first_name="Robin", last_name=f"{key.title()}child")
        bystander = factories.pupil(db, la, second, first_name="Casey", last_name=f"{key.title()}bystander")
        placement = factories.placement(
            db, pupil, pru, start=date(2025, 10, 6), tier=Tier.TIME_LIMITED, notice_date=date(2025, 9, 29)
        )
        made[key] = area_records(db, key, la, school, second, pru, farm, pupil, bystander, placement)
    db.commit()
    return made


def area_records(
    db: Session,
    key: str,
    la: Any,
    school: Any,
    second: Any,
    pru: Any,
    farm: Any,
    pupil: Any,
    bystander: Any,
    placement: Any,
    engagement: Any = None,
) -> dict[str, Any]:
    """An area's people (a user of every role: the school lead at `school`, the AP head at `pru`)
    and its paperwork (an alert, a panel with a meeting and a referral on its agenda, outreach,
    an agreed budget plan, an API token per role, an offer of outreach and a request for a
    record), around the records given. Returns the area as the tests read it."""
    from datetime import date

    from ap_register.domain.vocab import Registration, Role, Route
    from ap_register.models import Alert
    from tests import factories

    users = {}
    for role in Role:
        organisation = school if role == Role.SCHOOL_LEAD else pru if role == Role.AP_HEAD else la
        users[role] = factories.user(db, role, organisation)
    alert = Alert(
        la_id=la.id,
        kind="review_overdue",
        key=f"world:{pupil.id}",
        pupil_id=pupil.id,
        due=date(2025, 11, 3),
        last_found_on=date(2025, 11, 3),
        message=f"A review of {pupil.last_name}'s placement is overdue",
    )
    db.add(alert)
    from ap_register.panels.rules import SupportItem, build_agenda, create_panel, schedule_meeting, submit_referral

    system = factories.SYSTEM
    panel = create_panel(db, system, la, f"{key.title()} Panel", quorum=2)
    meeting = schedule_meeting(db, system, panel, date(2025, 11, 13), "Town Hall")
    referral = submit_referral(
        db,
        system,
        pupil,
        move="managed_move",
        route=Route.MANAGED_MOVE,
        proposed_setting=second,
        reason_codes=["behaviour"],
        reasons=f"{pupil.last_name} needs a fresh start",
        support=[SupportItem("Mentoring", date(2025, 9, 8))],
        missing_support_reason=None,
        parent_views="Agrees",
        pupil_views="Agrees",
        missing_views_reason=None,
        best_interest="Fresh start",
        today=date(2025, 11, 10),
    )
    build_agenda(db, system, meeting)
    from ap_register.budgets.outreach import log_session, start_engagement

    engagement = engagement or start_engagement(
        db,
        system,
        provider=pru,
        school=school,
        kind="coaching",
        started_on=date(2025, 9, 8),
        pupil=pupil,
        today=date(2025, 11, 10),
    )
    if not engagement.sessions:
        log_session(
            db,
            system,
            engagement,
            held_on=date(2025, 9, 15),
            minutes=60,
            staff="Outreach lead",
            today=date(2025, 11, 10),
        )
    from ap_register.domain.upn import make_upn
    from ap_register.models import OutreachProposal
    from ap_register.placements.transfers import request_transfer

    # A provider's offer for a named pupil, waiting for the school; and a request for the record
    # of a child nobody here holds.
    proposal = OutreachProposal(
        provider_id=pru.id, school_id=school.id, upn=bystander.upn, kind="one_to_one", started_on=date(2025, 11, 3)
    )
    db.add(proposal)
    transfer = request_transfer(
        db,
        system,
        la,
        upn=make_upn(f"{la.code}999925999"),
        date_of_birth=date(2012, 5, 1),
        reason="The family moved here",
        today=date(2025, 11, 10),
    )
    from decimal import Decimal

    from ap_register.budgets.rules import agree_plan, create_plan, set_line

    # A budget plan for years far ahead, so that it gates none of the tests' bookings.
    plan = create_plan(
        db, system, la, name=f"{key.title()} AP budget", first_year=2030, years=3, demand_policy="From the reserve"
    )
    for year in (2030, 2031, 2032):
        line = set_line(
            db,
            system,
            plan,
            year=year,
            provider=pru,
            place_type="time_limited",
            commissioned=Decimal(4),
            unit_cost=Decimal(17000),
        )
        set_line(db, system, plan, year=year, place_type="reserve", commissioned=Decimal(9000), unit_cost=Decimal(1))
    agree_plan(db, system, plan)
    from ap_register.accounts.api_tokens import create_token

    # An API token for each role's organisation: the API is walked with the same matrix.
    tokens = {
        role: create_token(
            db, system, name=f"{key} {role.value} script", organisation=u.setting or u.la, role=role, days=30
        )
        for role, u in users.items()
    }
    # A note on the child's record for the LA's officers only.
    from ap_register.models import CaseNote

    note = CaseNote(
        pupil_id=pupil.id,
        happened_on=date(2025, 11, 3),
        category="family",
        text=f"Confidential {key} note: the family asked for no contact with one parent",
        audience="la",
        author_name="An officer",
        author_organisation=la.name,
    )
    db.add(note)
    # A parent under a restriction: their number is for the LA's officers alone.
    from ap_register.models import Contact

    contact = Contact(
        pupil_id=pupil.id,
        role="parent_carer",
        name=f"Restricted {key.title()}parent",
        relation="father",
        phone=f"07700 900{sum(map(ord, key)) % 1000:03d}",
        restriction="No contact: a court order",
    )
    db.add(contact)
    # A document for the LA's officers only (its file is not in any storage: opening it is not found).
    from ap_register.models import Document

    document = Document(
        pupil_id=pupil.id,
        filename=f"{key}-safeguarding-report.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        storage_key=f"world-{key}",
        category="report",
        audience="la",
        uploaded_by_name="An officer",
        organisation=la.name,
    )
    db.add(document)
    # A draft letter to a parent the LA keeps to itself: its officers' alone to read.
    from ap_register.models import Letter

    letter = Letter(
        pupil_id=pupil.id, kind="off_site_notice", placement_id=placement.id, contact_id=contact.id, audience="la",
        facts={
            "pupil": pupil.full_name, "born": pupil.date_of_birth.isoformat(), "la": la.name, "sender": school.name,
            "setting": pru.name, "sessions": [["Monday", True, True]], "first_day": placement.start_date.isoformat(),
            "school": school.name, "address": "1 PRU Road", "to_pupil": False, "last_day": None,
            "school_days": None, "session_times": "9am to 3pm", "report_to": "Reception", "reasons": "Behaviour",
            "copy_to": None, "review_weeks": 10, "recipient": f"A {key} parent", "recipient_address": "2 Home Street",
            "recipient_email": "",
        },
        edits={"signed_by": "An officer", "extra": ""},
        created_by_name="An officer",
        organisation=la.name,
    )  # fmt: skip
    db.add(letter)
    # A framework with a lot: the PRU approved on it (its evidence in date), the farm's application waiting.
    from ap_register.commissioning import frameworks

    framework = frameworks.create_framework(
        db,
        system,
        la,
        name=f"{key.title()} AP framework",
        kind="framework",
        starts_on=date(2026, 9, 1),
        ends_on=date(2029, 8, 31),
        grace_days=10,
    )
    lot = frameworks.add_lot(
        db, system, framework, name="Education and engagement", service="education_engagement", description=None
    )
    for kind in frameworks.CHECKS:
        frameworks.record_evidence(
            db,
            system,
            la,
            pru,
            kind=kind,
            evidence_date=date(2026, 9, 1),
            expires_on=date(2027, 8, 31),
            reference=None,
            note=None,
            today=date(2026, 9, 1),
        )
    approval = frameworks.apply(db, system, lot, pru, rate="60.00", rate_unit="session", today=date(2026, 9, 1))
    frameworks.decide(
        db, system, approval, outcome="approved", rate=None, rate_unit=None, reason=None, today=date(2026, 9, 1)
    )
    application = frameworks.apply(db, system, lot, farm, rate="45.00", rate_unit="hour", today=date(2026, 9, 1))
    # The child's placement at the PRU, called off under it: its agreement accepted by the school alone.
    from ap_register.commissioning import agreements

    terms = agreements.Terms(
        objectives=[
            (f"{pupil.first_name} attends every session", "The register, reviewed each half term"),
            ("Reads for 20 minutes a day", "The reading log"), ("Grade 4 in maths", "Termly assessment"),
            ("Back at school two days a week", "The home school's register"),
        ],
        sessions=placement.sessions, hours_per_week="25", rate="60.00", rate_unit="session", pays_on="attended",
        payer="la", starts_on=date(2026, 9, 1), review_on=date(2026, 12, 14),
        safeguarding=f"Designated safeguarding lead at {pru.name}: Ms {key.title()}safe",
        contacts=f"{school.name} office, 01234 500{len(key)}00",
    )  # fmt: skip
    agreement = agreements.call_off(db, system, placement, approval, terms, today=date(2026, 9, 1))
    agreements.accept(
        db, system, agreement, version_number=1, party="school", name="A school lead", how="on_paper",
        signed_on=clock.today(), today=clock.today(),
    )  # fmt: skip
    # The provider's report on the second half term (2 November to 18 December 2026, open from 4
    # December); the first half term's is overdue.
    from ap_register.commissioning import progress

    report = progress.submit(
        db, system, agreement, 2, [progress.Answer("good", f"{pupil.first_name} came every day this week")] * 4,
        pupil_voice="It is better here", next_steps="Keep going", today=date(2026, 12, 4),
    )  # fmt: skip
    # Every inbox of the world starts empty: the report's message to the school is not kept.
    from sqlalchemy import delete

    from ap_register.models import Notification

    db.execute(delete(Notification).where(Notification.kind == "progress_report"))
    # The provider's invoices: October's statement approved, November's to check and approve.
    from ap_register.commissioning import payments

    for month, sessions, amount in ((date(2026, 10, 1), "30", "1800.00"), (date(2026, 11, 1), "36", "2160.00")):
        invoice = payments.record_invoice(
            db, system, pru, month, reference=f"{key.upper()}-{month:%m}", received_on=date(2026, 12, 2),
            claims=[payments.Claim("Row 2", pupil.upn, sessions, amount)], how="entered", today=date(2026, 12, 4),
        )  # fmt: skip
        if month.month == 10:
            shown = payments.statement(db, pru, month, date(2026, 12, 4)).approved_total
            payments.approve(db, system, pru, month, invoice_id=invoice.id, shown_total=shown, today=date(2026, 12, 4))
    db.flush()
    return {
        "report": report,
        "agreement": agreement,
        "framework": framework,
        "lot": lot,
        "approval": approval,
        "application": application,
        "letter": letter,
        "note": note,
        "contact": contact,
        "document": document,
        "tokens": tokens,
        "proposal": proposal,
        "transfer": transfer,
        "plan": plan,
        "plan_line": line,
        "engagement": engagement,
        "panel": panel,
        "meeting": meeting,
        "referral": referral,
        "alert": alert,
        "la": la,
        "school": school,
        "second": second,
        "pru": pru,
        "farm": farm,
        "pupil": pupil,
        "bystander": bystander,
        "placement": placement,
        "users": users,
        "route": Route.OFF_SITE_DIRECTION,
        "registration": Registration.DUAL,
    }
