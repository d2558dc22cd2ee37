"""The nightly scores on more than one core (outcomes/parallel.py): the same scores, kept the same
way, as one process gives; on PostgreSQL the batches really are scored in other processes, and on
SQLite (one writer at a time) in the job's own."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ap_register import clock
from ap_register.devdata import synthetic
from ap_register.extensions import db
from ap_register.jobs import nightly_scores
from ap_register.models import Score
from ap_register.outcomes import rules
from tests.conftest import build_app, make_database


def kept_scores() -> list[tuple[Any, ...]]:
    return [
        (row.la_id, row.provider_id, row.academic_year, row.outcome, row.n, row.value, row.band, row.detail)
        for row in db.session.scalars(
            select(Score).order_by(Score.la_id, Score.academic_year, Score.provider_id, Score.outcome)
        )
    ]


def test_the_nightly_scores_are_the_same_from_parallel_processes(
    db_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url)
    try:
        with app.app_context():
            with db.engine.begin() as connection:
                synthetic.generate(connection, synthetic.Scale("three", 3), clock.today(), seed=3)
            assert db.session.scalar(select(func.count()).select_from(Score)) == 0
            monkeypatch.setattr(rules, "BATCH", 1)  # three batches of one LA each
            summary_alone = nightly_scores(db.session, clock.today(), workers=1)
            db.session.commit()
            alone = kept_scores()
            caplog.set_level(logging.INFO, logger="ap_register.outcomes.parallel")
            summary_together = nightly_scores(db.session, clock.today(), workers=2)
            db.session.commit()
            together = kept_scores()
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()
    # Three LAs, two years each, every provider's five outcomes and the area's.
    assert len(summary_alone) == 6 and summary_together == summary_alone
    assert len({row[0] for row in alone}) == 3 and sum(row[4] for row in alone) > 0
    assert together == alone
    ran = [record.getMessage() for record in caplog.records]
    expected = "in 2 processes" if db_kind == "postgres" else "in this process"
    assert ran == [f"Scoring 3 LAs in 6 batches {expected}"], ran  # three LAs in each of two years, one pool
