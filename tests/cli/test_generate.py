"""`ap-register generate`: a synthetic register for benchmarks, shaped by the DfE's national mix of
placement reasons and settings, written in bulk (COPY on PostgreSQL) into an empty register."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ap_register import clock
from ap_register.devdata import synthetic
from ap_register.domain.week_pattern import is_valid
from ap_register.extensions import db
from ap_register.models import (
    AttendanceMark,
    Ks4Result,
    LocalAuthority,
    Movement,
    OutreachEngagement,
    Placement,
    Pupil,
    Referral,
)
from ap_register.outcomes import rules as outcomes
from ap_register.years import AcademicYear
from performance import scoring_floor
from tests.conftest import build_app, make_database


def test_la_scale_is_one_area_in_the_national_mix(db_kind: str, tmp_path: Path) -> None:
    url, drop = make_database(db_kind, tmp_path)
    app = build_app(url)
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["generate", "--scale", "la", "--format", "json"])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout.strip().splitlines()[-1])["rows"]
        with app.app_context():
            session = db.session
            count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
            assert rows["pupil"] == count(Pupil) == synthetic.PUPILS_PER_LA
            # The national scale's 1,000,000 movements and 20,000,000 marks, per LA of 150.
            assert rows["movement"] == count(Movement) >= 1_000_000 / 150
            assert rows["attendance_mark"] == count(AttendanceMark) >= 20_000_000 / 150
            assert synthetic.total_pupils(synthetic.SCALES["national"]) == 300_000
            # The panel's queue: 2% of pupils referred and waiting.
            assert rows["referral"] == count(Referral) == synthetic.PUPILS_PER_LA // 50
            assert rows["panel"] == rows["meeting"] == 1
            # Reasons in the published national proportions (within 3 points each).
            published: Counter[str] = Counter()
            for reason, _, n in synthetic.national_mix():
                published[synthetic.REASONS[reason][1]] += n
            made = Counter(session.scalars(select(Placement.census_reason)))
            for reason, n in published.items():
                assert abs(made[reason] / made.total() - n / published.total()) < 0.03, reason
            # Every placement is well formed, and every mark falls in a placement of its pupil.
            for sessions in session.scalars(select(Placement.sessions).distinct()):
                assert is_valid(sessions), sessions
            outside = session.scalar(
                select(func.count())
                .select_from(AttendanceMark)
                .where(
                    ~select(Placement.id)
                    .where(
                        Placement.pupil_id == AttendanceMark.pupil_id,
                        Placement.setting_id == AttendanceMark.setting_id,
                        Placement.start_date <= AttendanceMark.date,
                        func.coalesce(Placement.end_date, AttendanceMark.date) >= AttendanceMark.date,
                    )
                    .exists()
                )
            )
            assert outside == 0
            # The ids carry on after the bulk load: the app can add rows.
            assert session.scalar(select(func.max(Pupil.id))) == count(Pupil)
            # Every outcome has pupils behind it (last year's Year 11 with results, one-to-one
            # outreach), and the app's scores of the area are the benchmark's single SQL query's,
            # figure by figure.
            assert rows["ks4_result"] == count(Ks4Result) > 0
            assert rows["outreach_engagement"] == count(OutreachEngagement) > 0
            today = clock.today()
            year = AcademicYear.last_ended(today).start
            la = session.get(LocalAuthority, session.scalar(select(Pupil.home_la_id).limit(1)))
            assert la is not None
            app_figures = scoring_floor.answer_of([outcomes.scores(session, la, year, today)])
            assert not scoring_floor.compare(app_figures, scoring_floor.floor(session, year, today))
            field = scoring_floor.FIELDS.index
            for name in ("outreach_n", "attendance_n", "change_n", "reintegration_n", "english_maths_n", "cohort"):
                assert sum(figures[field(name)] for figures in app_figures.values()) > 0, name
            session.rollback()
        again = runner.invoke(args=["generate", "--scale", "la"])
        assert again.exit_code == 1 and "already has pupils" in again.output
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()


def test_the_same_seed_gives_the_same_register(db_kind: str, tmp_path: Path) -> None:
    fingerprints: list[Any] = []
    for n in range(2):
        (tmp_path / str(n)).mkdir()
        url, drop = make_database(db_kind, tmp_path / str(n))
        app = build_app(url)
        try:
            assert app.test_cli_runner().invoke(args=["generate", "--scale", "la", "--seed", "7"]).exit_code == 0
            with app.app_context():
                fingerprints.append(
                    db.session.execute(
                        select(Placement.pupil_id, Placement.route, Placement.start_date, Placement.sessions)
                        .order_by(Placement.id)
                        .limit(500)
                    ).all()
                )
        finally:
            with app.app_context():
                db.engine.dispose()
            drop()
    assert fingerprints[0] == fingerprints[1]
