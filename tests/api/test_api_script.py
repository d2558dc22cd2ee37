"""examples/api_week.py, run as a separate process against the app served over HTTP: a script
using only the API places a pupil, records a week of registers and reads back the coverage; with
another organisation's token the same calls find nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from ap_register.accounts.api_tokens import create_token
from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db
from ap_register.models import AttendanceMark, Placement
from tests import factories
from tests.conftest import build_app, make_database
from tests.factories import SYSTEM

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "api_week.py"


@pytest.fixture(scope="module")
def served(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app over HTTP on its own database (a server cannot share the tests' transaction)."""
    url, drop = make_database(db_kind, tmp_path_factory.mktemp("api"))
    app = build_app(url)
    with app.app_context():
        home, other = factories.la(db.session, "855"), factories.la(db.session, "856")
        school = factories.setting(db.session, home, SettingKind.MAINSTREAM, name="Hill School")
        pru = factories.setting(db.session, home, SettingKind.PRU, name="Riverside PRU")
        pupil = factories.pupil(db.session, home, school, first_name="Sky", last_name="Scripted")
        tokens = {
            la.code: create_token(db.session, SYSTEM, name="MIS", organisation=la, role=Role.LA_ADMIN, days=1).secret
            for la in (home, other)
        }
        made = {"upn": pupil.upn, "pupil_id": pupil.id, "pru_ref": pru.ref, "pru_id": pru.id, "tokens": tokens}
        made["app"] = app
        db.session.commit()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    made["url"] = f"http://127.0.0.1:{httpd.server_port}"
    yield made
    httpd.shutdown()
    with app.app_context():
        db.engine.dispose()
    drop()


def run(served: dict[str, Any], token: str, *which: str) -> subprocess.CompletedProcess[str]:
    which = which or ("--upn", served["upn"], "--setting", served["pru_ref"])
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--url", served["url"], "--token", token, *which),
            *("--week", "2025-12-01", "--sessions", "1111111100", "--planned-end", "2026-02-13"),
            *("--reintegration-plan", "Mornings back at school from week four"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def counts(served: dict[str, Any]) -> tuple[int, int]:
    with served["app"].app_context():
        found = (
            db.session.scalar(select(func.count()).select_from(Placement)) or 0,
            db.session.scalar(select(func.count()).select_from(AttendanceMark)) or 0,
        )
        db.session.remove()
        return found


def test_another_organisation_s_token_finds_nothing(served: dict[str, Any]) -> None:
    before = counts(served)
    # By UPN, the search finds no such pupil.
    refused = run(served, served["tokens"]["856"])
    assert refused.returncode == 1
    assert f"refused: 404: pupil {served['upn']}: not found" in refused.stderr
    # By the record's id, the API itself answers 404: as if the pupil did not exist.
    refused = run(
        served, served["tokens"]["856"], "--pupil-id", str(served["pupil_id"]), "--setting-id", str(served["pru_id"])
    )
    assert refused.returncode == 1
    assert "refused: 404: Not found" in refused.stderr
    assert counts(served) == before


def test_a_script_places_records_a_week_and_reads_the_coverage(served: dict[str, Any]) -> None:
    done = run(served, served["tokens"]["855"])
    assert done.returncode == 0, done.stderr
    assert "8 marks recorded" in done.stderr
    coverage = json.loads(done.stdout)
    assert (coverage["week"], coverage["required_sessions"], coverage["in_scope"]) == ("2025-12-01", 10, True)
    assert coverage["pupil"]["planned_sessions"] == 8
    assert coverage["pupil"]["gaps"] == ["Fri AM", "Fri PM"]
    assert date.fromisoformat(coverage["week"]).weekday() == 0
