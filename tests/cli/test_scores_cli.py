"""`ap-register scores`: the JSON the README documents, suppression in every format, the outcome imports
and the nightly job that keeps the scores."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.vocab import SettingKind
from ap_register.models import AuditEvent, Ks4Result, LocalAuthority, Post16Check, Score
from ap_register.outcomes.profiles import movement_profiles
from ap_register.outcomes.rules import OUTCOMES
from ap_register.years import AcademicYear
from tests import factories

KEYS = {"value", "n", "ci_low", "ci_high", "suppressed", "band", "benchmark", "benchmark_source"}


def test_every_demo_provider_has_all_five_outcomes(runner: Any, db: Session) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    result = runner.invoke(args=["scores", "--la", "873"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["la"] == "873" and found["year"] == AcademicYear.last_ended(clock.today()).label
    assert [p["name"] for p in found["providers"]] == [
        "Horizon Independent School",
        "Pathways Free School",
        "Riverbank Academy",
        "The Oaks Pupil Referral Unit",
    ]
    for provider in found["providers"]:
        assert set(provider["outcomes"]) == set(OUTCOMES)
        for name, figure in provider["outcomes"].items():
            assert set(figure) == KEYS
            assert figure["n"] >= 6 and not figure["suppressed"], (provider["name"], name)
            assert figure["ci_low"] <= figure["value"] <= figure["ci_high"]
            assert figure["band"] in ("above", "in line", "below")
    # The school that directed seven of its Year 10 and 11 pupils off site in the autumn is flagged.
    la = db.scalar(select(LocalAuthority).where(LocalAuthority.code == "873"))
    assert la is not None
    profiles = movement_profiles(db, la, AcademicYear.last_ended(clock.today()).start)
    assert "Manea Academy" in [p.school.name for p in profiles.schools if p.flagged]
    # The nightly job keeps the same figures.
    assert runner.invoke(args=["run-job", "scores"]).exit_code == 0
    kept = {
        (s.provider.ref if s.provider else None, s.outcome): (s.n, float(s.value) if s.value is not None else None)
        for s in db.scalars(
            select(Score).where(
                Score.la_id == la.id, Score.academic_year == AcademicYear.last_ended(clock.today()).start
            )
        )
    }
    for provider in found["providers"]:
        for name, figure in provider["outcomes"].items():
            assert kept[(provider["setting_ref"], name)] == (figure["n"], figure["value"])


def test_four_leavers_are_suppressed_in_json_csv_and_xlsx(runner: Any, db: Session, tmp_path: Path) -> None:
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM)
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", urn="855400")
    pupils = []
    for _ in range(4):
        pupil = factories.pupil(db, la, school, on=date(2024, 9, 4), date_of_birth=date(2009, 3, 1))
        start = date(2025, 2, 3)
        factories.placement(db, pupil, pru, start=start, notice_date=start - timedelta(days=14))
        pupils.append(pupil)
    db.commit()
    lines = ["upn,leaving_year,check_point,activity,checked_on"]
    for pupil in pupils:
        lines += [f"{pupil.upn},2024/25,october,education,2025-10-31", f"{pupil.upn},2024/25,march,education,"]
    path = tmp_path / "destinations.csv"
    path.write_text("\n".join(lines) + "\n")
    assert runner.invoke(args=["import", "destinations", str(path)]).exit_code == 0
    assert len(db.scalars(select(Post16Check)).all()) == 8
    audited = db.scalars(select(AuditEvent.pupil_id).where(AuditEvent.object_type == "post16_check")).all()
    assert sorted(audited) == sorted(p.id for p in pupils)

    found = json.loads(runner.invoke(args=["scores", "--la", "855", "--year", "2025/26"]).stdout)
    post16 = found["providers"][0]["outcomes"]["post16"]
    assert (post16["n"], post16["value"], post16["suppressed"], post16["band"]) == (None, None, True, "not enough data")
    rows = list(
        csv.DictReader(
            io.StringIO(runner.invoke(args=["scores", "--la", "855", "--year", "2025/26", "--format", "csv"]).stdout)
        )
    )
    row = next(r for r in rows if r["name"] == "The Oaks" and r["outcome"] == "post16")
    assert (row["n"], row["value"], row["suppressed"], row["band"]) == ("", "", "Y", "not enough data")
    out = tmp_path / "scores.xlsx"
    args = ["scores", "--la", "855", "--year", "2025/26", "--format", "xlsx", "--out", str(out)]
    assert runner.invoke(args=args).exit_code == 0
    sheet = load_workbook(out).active
    assert sheet is not None
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = table[0]
    cells = dict(zip(header, next(r for r in table if r[1] == "The Oaks" and r[2] == "post16"), strict=True))
    assert (cells["Pupils (n)"], cells["Value"], cells["Suppressed"]) == (None, None, "Y")
    assert runner.invoke(args=["scores", "--la", "855", "--year", "2025/27"]).exit_code == 2


def test_outcome_imports_refuse_bad_rows_and_update_on_reimport(runner: Any, db: Session, tmp_path: Path) -> None:
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM)
    pupil = factories.pupil(db, la, school)
    db.commit()
    bad = tmp_path / "ks4.csv"
    bad.write_text(f"upn,academic_year,english,maths\n{pupil.upn},2025/26,4,C\n{pupil.upn},2025-26,5,5\n")
    result = runner.invoke(args=["import", "ks4-results", str(bad), "--format", "json"])
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(2, "maths"), (3, "academic_year")]
    assert errors[0]["message"].startswith("'C' is not one of: 9, 8, 7")
    assert db.scalars(select(Ks4Result)).all() == []
    good = tmp_path / "ks4-good.csv"
    good.write_text(f"upn,academic_year,english,maths\n{pupil.upn},2025/26,4,L2\n")
    assert runner.invoke(args=["import", "ks4-results", str(good)]).exit_code == 0
    good.write_text(f"upn,academic_year,english,maths\n{pupil.upn},2025/26,5,L2\n")
    result = runner.invoke(args=["import", "ks4-results", str(good)])
    assert result.exit_code == 0 and "1 updated" in result.output
    db.expire_all()
    assert [(r.english, r.maths) for r in db.scalars(select(Ks4Result))] == [("5", "L2")]
    # Each file's change is on the child's audit trail (the same file again changes nothing).
    assert runner.invoke(args=["import", "ks4-results", str(good)]).exit_code == 0
    trail = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.pupil_id == pupil.id, AuditEvent.object_type == "ks4_result")
        .order_by(AuditEvent.id)  # in the order written: a database returns rows in any order otherwise
    ).all()
    assert [e.detail["records"] for e in trail] == [
        [{"academic_year": 2025, "english": "4", "maths": "L2"}],
        [{"academic_year": 2025, "english": "5", "maths": "L2"}],
    ]
