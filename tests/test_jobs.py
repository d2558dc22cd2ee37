"""Scheduled jobs run in their own processes, once per day however many are started."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ap_register import create_app
from ap_register.config import TestConfig
from ap_register.domain.vocab import MovementKind, SettingKind
from ap_register.extensions import db
from ap_register.models import Alert, CoverageWeek, JobRun
from ap_register.placements.rules import record_roll_movement
from tests import factories
from tests.conftest import build_app, make_database

DAY = date(2025, 11, 10)


@pytest.fixture()
def shared_database(db_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A committed database that separate processes can share, with one excluded pupil."""
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url)
    with app.app_context():
        la = factories.la(db.session, "855")
        school = factories.setting(db.session, la, SettingKind.MAINSTREAM)
        pupil = factories.pupil(db.session, la, school, on=date(2025, 9, 3))
        record_roll_movement(
            db.session,
            factories.SYSTEM,
            pupil,
            MovementKind.PERMANENT_EXCLUSION,
            date(2025, 11, 3),
            school,
            reason="Assault",
            today=date(2025, 11, 3),
        )
        db.session.commit()
    yield app, url
    with app.app_context():
        db.engine.dispose()
    drop()


def cli(url: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "test", "AP_REGISTER_INSTANCE": str(tmp_path)}
    return subprocess.Popen(
        [sys.executable, "-c", "from ap_register.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_daily_job_runs_once_across_processes(shared_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app, url = shared_database
    runs = [cli(url, tmp_path, "run-job", "daily-alerts", "--scheduled", "--on", DAY.isoformat()) for _ in range(3)]
    outputs = [process.communicate(timeout=120)[0] for process in runs]
    assert all(process.returncode == 0 for process in runs), outputs
    assert sum("daily-alerts for 2025-11-10: ran" in out for out in outputs) == 1, outputs
    assert sum("already run by another process" in out for out in outputs) == 2, outputs
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1
        run = db.session.scalars(select(JobRun)).one()
        assert run.outcome == "done"
        # The week's count is kept for the picture of the term, once (`coverage.term.keep_week`).
        assert run.detail == {
            "855": {"raised": 2, "still_open": 0, "resolved": 0, "below_full_time": 1},
            "attempts": 1,
        }
        assert db.session.scalar(select(func.count()).select_from(CoverageWeek)) == 1
        kinds = sorted(db.session.scalars(select(Alert.kind)))
        assert kinds == ["below_full_time", "sixth_day_provision"]


def test_a_failed_run_is_retried_and_duplicates_nothing(shared_database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ap_register import jobs

    app, _ = shared_database
    real = jobs.JOBS["daily-alerts"]
    failures = {"left": 1}

    def flaky(session, on):  # type: ignore[no-untyped-def]
        summary = real(session, on)  # the alerts are raised, then the run fails before it ends
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("the database went away")
        return summary

    monkeypatch.setitem(jobs.JOBS, "daily-alerts", flaky)
    assert jobs.run_scheduled(app, "daily-alerts", DAY) is True
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        assert (run.outcome, run.detail) == ("failed", {"error": "the database went away", "attempts": 1})
        assert db.session.scalar(select(func.count()).select_from(Alert)) == 0  # nothing half-done
        db.session.remove()
    # The scheduler's next pass retries it, once; then it is done and left alone.
    assert jobs.run_scheduled(app, "daily-alerts", DAY) is True
    assert jobs.run_scheduled(app, "daily-alerts", DAY) is False
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        assert run.outcome == "done" and run.detail["attempts"] == 2
        assert sorted(db.session.scalars(select(Alert.kind))) == ["below_full_time", "sixth_day_provision"]
        db.session.remove()
    # A run that keeps failing is tried three times in all, then left failed for a person to see.
    failures["left"] = 10
    day = date(2025, 11, 11)
    assert [jobs.run_scheduled(app, "daily-alerts", day) for _ in range(4)] == [True, True, True, False]
    with app.app_context():
        run = db.session.scalar(select(JobRun).where(JobRun.run_for == day))
        assert run is not None and (run.outcome, run.detail["attempts"]) == ("failed", jobs.MAX_ATTEMPTS)


def test_the_scheduler_process_runs_today_s_jobs_when_it_starts(shared_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ap_register import jobs

    app, url = shared_database
    process = cli(url, tmp_path, "scheduler", "--at", "06:00")
    try:
        deadline = time.monotonic() + 60
        found: list[str] = []
        while time.monotonic() < deadline and len(found) < len(jobs.JOBS):
            time.sleep(0.5)
            with app.app_context():
                # The process keeps its own machine's day (not this suite's fixed clock): the day of
                # its runs is any day but those the tests above ran jobs for.
                runs = db.session.execute(
                    select(JobRun.job, JobRun.run_for).where(
                        JobRun.run_for.not_in([DAY, date(2025, 11, 11)]), JobRun.outcome == "done"
                    )
                ).all()
                found = sorted(job for job, _ in runs)
                db.session.remove()
        # Each daily job once, all for the one day it started: the same-day absence follow-up (which
        # also runs every 5 minutes), the alerts, the attendance digest, retention and the nightly scores.
        assert found == ["absence-follow-up", "attendance-digest", "daily-alerts", "retention", "scores"]
        assert len({day for _, day in runs}) == 1
        assert process.poll() is None, "the scheduler should keep running"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _scheduler_threads() -> list[threading.Thread]:
    def runs_apscheduler(thread: threading.Thread) -> bool:
        target = getattr(thread, "_target", None)
        return "apscheduler" in (getattr(target, "__module__", "") or "") or "APScheduler" in thread.name

    return [t for t in threading.enumerate() if runs_apscheduler(t)]


def test_creating_the_app_starts_no_scheduler(client) -> None:  # type: ignore[no-untyped-def]
    create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}})
    client.get("/")
    assert _scheduler_threads() == []
    assert "apscheduler.schedulers.background" not in sys.modules
