"""Scheduled jobs: thin wrappers over domain/, run by `ap-register scheduler` in its own process,
never inside the web workers, and each runnable by name with `ap-register run-job NAME`.

A daily job runs once per day however many schedulers are started against the same database:
before running, a process claims the day by inserting a `job_run` row; the unique constraint on
(job, day) lets only one insert succeed.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.coverage.alerts import raise_alerts
from ap_register.extensions import db
from ap_register.models import JobRun, LocalAuthority, TermDate
from ap_register.models.base import utcnow
from ap_register.years import AcademicYear

log = logging.getLogger(__name__)


def daily_alerts(session: Session, on: date) -> dict[str, Any]:
    """Raise, refresh and resolve the alerts of every LA that keeps term dates here; first, as the
    years turn, record the bank holidays of the year after next (so school days go on counting),
    and bring each pupil's recorded roll in step with the ledger today (`placements.roll`)."""
    from ap_register.domain.calendar import forget_calendars
    from ap_register.domain.reference_data import load_bank_holidays

    summary: dict[str, Any] = {}
    added = load_bank_holidays(session, on)
    if added:
        summary["bank_holidays_added"] = added
        forget_calendars(session)
    from ap_register.placements.roll import refresh_rolls

    changed = refresh_rolls(session, on)
    if changed:
        summary["rolls_changed"] = changed
    las = session.scalars(select(LocalAuthority).where(LocalAuthority.id.in_(select(TermDate.la_id)))).all()
    from ap_register.coverage.term import keep_week

    for la in las:
        result = raise_alerts(session, la, on)
        summary[la.code] = {"raised": result.raised, "still_open": result.still_open, "resolved": result.resolved}
        counted = keep_week(session, la, on)  # the week's count for the picture of the term
        if counted is not None:
            summary[la.code]["below_full_time"] = counted.below_full_time
    return summary


def nightly_scores(session: Session, on: date, workers: int | None = None) -> dict[str, Any]:
    """Recompute and keep the five-outcome scores of every LA with AP providers: the last
    academic year that ended, and the one under way. On PostgreSQL the LAs' batches are scored
    in `workers` processes at once (`SCORING_WORKERS`; outcomes/parallel.py); this process keeps
    every result in its own transaction, as the job's one runner."""
    from ap_register.models import Setting
    from ap_register.outcomes.parallel import default_workers, scored_rows
    from ap_register.outcomes.rules import SCORED_KINDS, keep_rows

    if workers is None:
        workers = (current_app.config.get("SCORING_WORKERS") if has_app_context() else 1) or default_workers()
    summary: dict[str, Any] = {}
    las = session.scalars(
        select(LocalAuthority)
        .where(LocalAuthority.id.in_(select(Setting.la_id).where(Setting.kind.in_(SCORED_KINDS))))
        .order_by(LocalAuthority.code)
    ).all()
    years = (AcademicYear.last_ended(on).start, AcademicYear.last_ended(on).start + 1)
    kept = {
        (la_id, year): keep_rows(session, la_id, year, rows)
        for la_id, year, rows in scored_rows(session, las, years, on, workers)
    }
    for year in years:
        for la in las:  # in the order of their codes, whichever batch was done first
            summary[f"{la.code} {year}"] = kept[la.id, year]
    return summary


def attendance_digest(session: Session, on: date) -> dict[str, Any]:
    """Each provider's registers of the weekday before, to the home schools and the LA."""
    from ap_register.coverage.digest import send_digests

    return send_digests(session, on)


def retention(session: Session, on: date) -> dict[str, Any]:
    """Anonymise the records of children past the retention period (RETENTION_YEARS after birth)."""
    from flask import current_app

    from ap_register.casework.documents import storage_for
    from ap_register.domain.retention import run

    storage = storage_for(current_app.config)
    return run(session, on, int(current_app.config.get("RETENTION_YEARS", 25)), storage)


def absence_follow_up(session: Session, on: date) -> dict[str, Any]:
    """Same-day absence follow-up (coverage/absence.py) as of now; for another day, nothing. The
    scheduler also runs it every few minutes through the school day."""
    from ap_register.coverage.absence import run

    if on != clock.today():
        # A past morning is past: raising its absences now would tell people of yesterday's child.
        return {"skipped": "the same-day follow-up runs for today only"}
    return run(session, clock.now())


def run_absence_follow_up(app: Flask) -> dict[str, Any]:
    """The scheduler's run of the follow-up, every few minutes: one transaction; a failed run is
    logged and the next one tries again (each alert and escalation happens once, whoever runs)."""
    with app.app_context():
        try:
            summary = absence_follow_up(db.session, clock.today())
            db.session.commit()
            return summary
        except Exception:
            db.session.rollback()
            log.exception("The same-day absence follow-up failed; the next run tries again")
            return {}
        finally:
            db.session.remove()


JOBS: dict[str, Callable[[Session, date], dict[str, Any]]] = {
    "absence-follow-up": absence_follow_up,
    "daily-alerts": daily_alerts,
    "scores": nightly_scores,
    "attendance-digest": attendance_digest,
    "retention": retention,
}


def mailer_for(app: Flask) -> Any:
    from ap_register.domain.notifications import SmtpMailer

    config = app.config
    if not config.get("MAIL_SERVER"):
        return None
    return SmtpMailer(
        config["MAIL_SERVER"],
        config["MAIL_PORT"],
        config["MAIL_FROM"],
        config.get("MAIL_USERNAME"),
        config.get("MAIL_PASSWORD"),
        config.get("MAIL_STARTTLS", False),
    )


def send_emails(app: Flask) -> int:
    """Email the notifications not yet emailed (nothing without a mail server)."""
    from ap_register.domain.notifications import send_emails as send

    mailer = mailer_for(app)
    if mailer is None:
        return 0
    with app.app_context():
        try:
            return send(db.session, mailer, app.config["SERVICE_URL"])
        finally:
            db.session.remove()


def _process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def run_job(app: Flask, name: str, on: date) -> dict[str, Any]:
    """Run a job now, in one transaction."""
    with app.app_context():
        try:
            summary = JOBS[name](db.session, on)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return summary


# A failed run is tried again (by the scheduler every 15 minutes) up to this many times in all;
# a run still marked running after this long is taken to have died with its process.
MAX_ATTEMPTS = 3
STALE_AFTER = timedelta(hours=2)


def _claim(name: str, on: date) -> tuple[int, int] | None:
    """Claim a job's run for a day: a new claim, or the retry of a failed or abandoned one. Returns
    (run id, attempt number), or None when another process has it or it is done."""
    claim = JobRun(job=name, run_for=on, process=_process_name(), detail={"attempts": 1})
    db.session.add(claim)
    try:
        db.session.commit()
        return claim.id, 1
    except IntegrityError:
        db.session.rollback()
    seen = db.session.scalar(select(JobRun).where(JobRun.job == name, JobRun.run_for == on))
    if seen is None:
        return None
    attempts = int((seen.detail or {}).get("attempts", 1))
    abandoned = seen.outcome == "running" and utcnow() - seen.started_at > STALE_AFTER
    if not (seen.outcome == "failed" or abandoned) or attempts >= MAX_ATTEMPTS:
        log.info("%s for %s: %s by %s", name, on, seen.outcome, seen.process)
        return None
    # Compare-and-set: of processes retrying together, the one whose update matches wins.
    taken = db.session.execute(
        update(JobRun)
        .where(JobRun.id == seen.id, JobRun.outcome == seen.outcome, JobRun.process == seen.process)
        .values(
            outcome="running",
            process=_process_name(),
            started_at=utcnow(),
            finished_at=None,
            detail={**(seen.detail or {}), "attempts": attempts + 1},
        )
    )
    db.session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    log.warning("%s for %s: attempt %d after %s", name, on, attempts + 1, seen.outcome)
    return seen.id, attempts + 1


def run_scheduled(app: Flask, name: str, on: date) -> bool:
    """Run a job for a day unless another process already has (or it is done): True if this
    process ran it. A failed run is retried, up to MAX_ATTEMPTS in all; each run is one
    transaction, so a failure leaves nothing half-done and a retry duplicates nothing."""
    with app.app_context():
        claimed = _claim(name, on)
        db.session.remove()
    if claimed is None:
        return False
    claim_id, attempt = claimed
    try:
        summary = run_job(app, name, on)
        outcome: tuple[str, dict[str, Any]] = ("done", {**summary, "attempts": attempt})
    except Exception as error:  # the run's record says it failed; the scheduler carries on
        log.exception("%s for %s failed (attempt %d of %d)", name, on, attempt, MAX_ATTEMPTS)
        outcome = ("failed", {"error": str(error)[:500], "attempts": attempt})
    with app.app_context():
        run = db.session.get(JobRun, claim_id)
        assert run is not None
        run.outcome, run.detail, run.finished_at = outcome[0], outcome[1], utcnow()
        db.session.commit()
    return True


def start_scheduler(app: Flask, hour: int = 6, minute: int = 0) -> None:
    """Run the daily jobs each morning (UK time), and today's at once if not yet run. Blocks."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="Europe/London")
    for name in JOBS:
        scheduler.add_job(
            lambda name=name: run_scheduled(app, name, clock.today()),
            "cron",
            hour=hour,
            minute=minute,
            id=name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
        run_scheduled(app, name, clock.today())
    # Failed runs of today's jobs are tried again every 15 minutes (up to MAX_ATTEMPTS).
    scheduler.add_job(
        lambda: [run_scheduled(app, name, clock.today()) for name in JOBS],
        "interval",
        minutes=15,
        id="retry-failed",
        coalesce=True,
        max_instances=1,
    )
    # Same-day absence follow-up through the day: alerts the morning a child is missing from AP.
    scheduler.add_job(
        lambda: run_absence_follow_up(app), "interval", minutes=5, id="absence-follow-up-5", coalesce=True,
        max_instances=1,
    )  # fmt: skip
    # Emails every few minutes: each notification is claimed before it is sent, so schedulers
    # running side by side never send one twice.
    scheduler.add_job(lambda: send_emails(app), "interval", minutes=5, id="send-emails", coalesce=True, max_instances=1)
    scheduler.start()
