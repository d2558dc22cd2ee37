"""The `ap-register` command: its contracts (README, The ap-register command) of output, exit status and effect."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.budgets.rules import utilisation
from ap_register.coverage.rules import monday_of, week_coverage
from ap_register.devdata.demo import DEMO_RESERVE
from ap_register.domain.calendar import calendar_for
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import Role, Route, SettingKind
from ap_register.models import Alert, AuditEvent, BudgetPlan, LocalAuthority, Placement, Pupil, Setting, User
from ap_register.placements.roll import exclusion_stories
from ap_register.placements.rules import ledger_mismatches
from ap_register.years import FinancialYear
from tests import factories
from tests.factories import SYSTEM

DATA = Path(__file__).parent.parent / "data"
UPNS = [make_upn(f"855400125{n:03d}") for n in range(1, 5)]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_init_db_is_idempotent_and_loads_every_la(runner: Any, db: Session) -> None:
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Reference data added: 0 local authorities, 0 bank holidays, 0 attendance codes" in result.output
    assert db.scalar(select(func.count()).select_from(LocalAuthority)) == 161


def test_create_user_asks_for_the_password_without_echoing_it(runner: Any, db: Session) -> None:
    la = factories.la(db, "855", with_terms=False)
    db.commit()
    result = runner.invoke(
        args=["create-user", "Officer@Example.org", "--role", "attendance_officer", "--org", "855"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough password" not in result.output
    user = db.scalar(select(User).where(User.email == "officer@example.org"))
    assert user is not None and user.la_id == la.id and user.password_hash.startswith("$argon2id$")
    result = runner.invoke(
        args=["create-user", "head@example.org", "--role", "ap_head", "--org", "855"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 1
    assert "AP head or outreach lead is a role in a setting: choose a setting, not an LA" in result.output


def test_a_bad_role_is_a_usage_error(runner: Any) -> None:
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "headteacher", "--org", "855"])
    assert result.exit_code == 2


def test_importing_pupils_with_invalid_upns_writes_nothing_and_reports_each_line(
    runner: Any, db: Session, tmp_path: Path
) -> None:
    factories.la(db, "855", with_terms=False)
    db.commit()
    wrong = ("B" if UPNS[1][0] != "B" else "C") + UPNS[1][1:]
    header = "upn,first_name,last_name,date_of_birth,home_la_code\n"
    good = [
        f"{UPNS[0]},Sam,Taylor,2012-03-14,855",
        f"{UPNS[2]},Jo,Reid,2011-10-02,855",
        f"{UPNS[3]},Kim,Lee,2013-01-20,855",
    ]
    bad = [f"{wrong},Ali,Khan,2012-05-01,855", "Q85540012500,Lou,Ng,2012-01-01,855"]
    mixed = write(tmp_path, "mixed.csv", header + "\n".join([good[0], bad[0], good[1], bad[1], good[2]]) + "\n")
    before = db.scalar(select(func.count()).select_from(Pupil))
    result = runner.invoke(args=["import", "pupils", mixed, "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report == {
        "kind": "pupils",
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "skipped": {},
        "errors": [
            {
                "line": 3,
                "column": "upn",
                "message": f"The check letter is wrong: a UPN ending {wrong[1:]} starts with {UPNS[1][0]}",
            },
            {"line": 5, "column": "upn", "message": "A UPN must be 13 characters; this one has 12"},
        ],
        "problems": 2,
        "stopped_at_line": None,
        "warnings": [],
        "dry_run": False,
        "old_records": 0,
        "adopted_on": None,
    }
    assert db.scalar(select(func.count()).select_from(Pupil)) == before
    clean = write(tmp_path, "clean.csv", header + "\n".join(good) + "\n")
    result = runner.invoke(args=["import", "pupils", clean, "--la", "855", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 3
    assert db.scalar(select(func.count()).select_from(Pupil)) == before + 3


def test_an_unknown_la_is_a_usage_error(runner: Any, tmp_path: Path) -> None:
    result = runner.invoke(args=["import", "pupils", write(tmp_path, "p.csv", "upn\n"), "--la", "999"])
    assert result.exit_code == 2 and "999 is not a DfE LA code" in result.output


def test_a_gias_extract_imports_from_the_command_line(runner: Any, db: Session) -> None:
    result = runner.invoke(args=["import", "settings", str(DATA / "gias_extract.csv"), "--la", "873"])
    assert result.exit_code == 0, result.output
    assert "10 added" in result.output and "1 skipped (closed)" in result.output
    pru = db.scalar(select(Setting).where(Setting.urn == "990002"))
    assert pru is not None and pru.kind == SettingKind.PRU


def test_exports_round_trip_and_are_audited(runner: Any, db: Session, tmp_path: Path) -> None:
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM)
    pru = factories.setting(db, la, SettingKind.PRU)
    child = factories.pupil(db, la, school)
    factories.placement(db, child, pru, start=date(2025, 10, 6))
    db.commit()
    result = runner.invoke(args=["export", "placements", "--la", "855", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["upn"], r["setting_ref"], r["route"], r["sessions"]) for r in rows] == [
        (child.upn, pru.ref, "off_site_direction", "1111111111")
    ]
    result = runner.invoke(args=["export", "pupils", "--la", "855", "--format", "json"])
    assert [p["upn"] for p in json.loads(result.stdout)] == [child.upn]
    out = tmp_path / "settings.xlsx"
    result = runner.invoke(args=["export", "settings", "--la", "855", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0
    sheet = load_workbook(out).active
    assert sheet is not None and sheet.max_row == 3
    # An exported placements file imports again as "unchanged": the columns are the import's.
    exported = runner.invoke(args=["export", "placements", "--la", "855", "--format", "csv"]).stdout
    result = runner.invoke(
        args=["import", "placements", write(tmp_path, "again.csv", exported), "--la", "855", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unchanged"] == 1
    audits = db.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(audits) == 4 and all(e.actor.startswith("export:") for e in audits)


def test_the_demo_area_is_realistic_and_loads_once(runner: Any, db: Session) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for role in Role:
        assert role.value in result.output
    la = db.scalar(select(LocalAuthority).where(LocalAuthority.code == "873"))
    assert la is not None and len(la.term_dates) >= 18
    settings = db.scalars(select(Setting).where(Setting.la_id == la.id)).all()
    kinds = [s.kind for s in settings]
    assert kinds.count(SettingKind.UNREGISTERED_AP) == 3
    assert sum(k in (SettingKind.MAINSTREAM, SettingKind.SPECIAL) for k in kinds) == 40
    assert len(kinds) == 47
    assert db.scalar(select(func.count()).select_from(Pupil).where(Pupil.home_la_id == la.id)) == 605
    routes = set(db.scalars(select(Placement.route).join(Pupil).where(Pupil.home_la_id == la.id)))
    assert routes == set(Route)
    assert ledger_mismatches(db) == []
    # The problems the demo plants are found, in the latest school week and in today's alerts.
    anchor = calendar_for(db, la).last_school_day(clock.today())
    coverage = week_coverage(db, SYSTEM, la, monday_of(anchor))
    by_name = {f"{w.pupil.first_name} {w.pupil.last_name}": w for w in coverage.pupils}
    jordan = by_name["Jordan Fletcher"]
    assert jordan.flags == ["below_full_time"] and jordan.planned_sessions == 6
    assert jordan.gaps == ["Wed AM", "Wed PM", "Fri AM", "Fri PM"]
    assert by_name["Ellie Marsh"].overlaps == ["Tue PM"]
    assert {"unregistered_only", "unregistered_over_limit"} <= set(by_name["Mia Kowalski"].flags)
    assert "part_time_timetable" in by_name["Kai Turner"].flags
    alerts = json.loads(runner.invoke(args=["alerts", "--la", "873"]).stdout)["alerts"]
    names = {p.upn: f"{p.first_name} {p.last_name}" for p in db.scalars(select(Pupil).where(Pupil.home_la_id == la.id))}
    found = {(a["kind"], names.get(a["upn"])) for a in alerts}
    assert {
        ("sixth_day_provision", "Leo Hartley"),
        ("review_overdue", "Ryan Doyle"),
        ("off_site_notice_late", "Tyler Reid"),
        ("part_time_timetable_open", "Kai Turner"),
        ("planned_end_passed", "Kai Turner"),
        ("below_full_time", "Jordan Fletcher"),
        ("unregistered_checks_overdue", None),
        ("suspension_sixth_day", "Callum Brennan"),
        ("independent_school_threshold", None),
    } <= found
    # Four full time at an unregistered provider, one since taken into care: it meets the
    # independent-school test, and a fifth full-time place there is refused.
    (boxing,) = [a for a in alerts if a["kind"] == "independent_school_threshold"]
    assert boxing["setting_ref"] == "UNREG-003" and "4 pupils of compulsory school age full time" in boxing["message"]
    # Permanently excluded, the board will not reinstate, and the parents may still ask for a
    # review: on the school's roll, and at the PRU full time meanwhile (no sixth-day alert).
    nadia = next(p for p in db.scalars(select(Pupil).where(Pupil.last_name == "Osei")))
    assert nadia.home_school is not None
    (story,) = exclusion_stories(db, nadia, clock.today())
    assert story.in_process and "They may ask for an independent review until" in story.rows[1][1]
    assert ("sixth_day_provision", "Nadia Osei") not in found
    over = [a for a in alerts if a["kind"] == "budget_over_plan"]
    assert [a["setting_ref"] for a in over] == ["873401"], "Riverbank's time-limited places are short of its use"
    # Its budget: three years from last financial year, six providers, a variation and a spot purchase.
    plan = db.scalars(select(BudgetPlan).where(BudgetPlan.la_id == la.id)).one()
    assert plan.years == 3 and plan.agreed_at is not None and len(plan.variations) == 1
    assert len({line.provider_id for line in plan.lines if line.provider_id}) == 6
    this_year = next(
        y for y in utilisation(db, plan, clock.today()) if y.year == FinancialYear.containing(clock.today()).start
    )
    assert [p.setting.name for p in this_year.spot_purchases] == ["Horizon Independent School"]
    # Waiting for an answer: an offer of outreach to the demo school lead's school, and another
    # LA's request for the record of one of the area's children.
    from ap_register.models import OutreachProposal, PupilTransfer, User

    lead = db.scalar(select(User).where(User.email == "school.lead@demo.example.org"))
    offer = db.scalar(select(OutreachProposal).where(OutreachProposal.status == "waiting"))
    assert offer is not None and offer.school_id == lead.setting_id and offer.engagement_id is None
    asked = db.scalar(select(PupilTransfer).where(PupilTransfer.status == "requested"))
    assert asked is not None and asked.from_la_id == la.id and asked.to_la.code == "935"
    assert 0 < this_year.reserve_left < DEMO_RESERVE
    # The demo ran today's checks: the stored alerts are exactly today's findings.
    stored = db.scalar(
        select(func.count()).select_from(Alert).where(Alert.la_id == la.id, Alert.status.in_(("open", "acknowledged")))
    )
    assert stored == len(alerts)
    # Two already taken on by the attendance officer, who sees who has each on their home page, and
    # the morning's absence whose family the officer reached.
    taken = db.scalars(select(Alert).where(Alert.la_id == la.id, Alert.status == "acknowledged")).all()
    takers = db.scalars(select(User.email).where(User.id.in_([a.acknowledged_by_id for a in taken]))).all()
    assert len(taken) == 3 and set(takers) == {"attendance@demo.example.org"}
    assert sorted(a.kind for a in taken).count("absent_from_provision") == 1
    # The latest school day's same-day follow-up: absences raised, one family reached, the rest escalated.
    absences = [a for a in db.scalars(select(Alert).where(Alert.la_id == la.id, Alert.kind == "absent_from_provision"))]
    assert len(absences) >= 2 and sum(a.escalated_at is not None for a in absences) == len(absences) - 1
    # Caseloads: the attendance officer follows six children with an open alert, the LA
    # administrator three at an unregistered provider.
    from ap_register.models import CaseAssignment

    held = db.execute(
        select(User.email, func.count()).join(CaseAssignment, CaseAssignment.user_id == User.id).group_by(User.email)
    ).all()
    assert dict(held) == {"attendance@demo.example.org": 6, "la.admin@demo.example.org": 3}
    alerted = set(db.scalars(select(Alert.pupil_id).where(Alert.la_id == la.id, Alert.status != "resolved")))
    officer_cases = db.scalars(
        select(CaseAssignment.pupil_id)
        .join(User, User.id == CaseAssignment.user_id)
        .where(User.email.like("attendance@%"))
    ).all()
    assert set(officer_cases) <= alerted
    # Notes on three of the officer's cases: one for the LA only and one for all on each, and a correction.
    from ap_register.models import CaseNote

    kept = db.scalars(select(CaseNote).where(CaseNote.pupil_id.in_(officer_cases))).all()
    assert sorted(n.audience for n in kept) == ["all"] * 3 + ["la"] * 4
    assert [n.corrects_id is not None for n in kept].count(True) == 1
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert db.scalar(select(func.count()).select_from(Pupil).where(Pupil.home_la_id == la.id)) == 605


def test_exported_text_cannot_run_as_a_spreadsheet_formula(runner: Any, db: Session) -> None:
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM)
    factories.pupil(db, la, school, first_name='=HYPERLINK("http://evil.example")', last_name="Smith")
    db.commit()
    rows = list(csv.DictReader(io.StringIO(runner.invoke(args=["export", "pupils", "--format", "csv"]).stdout)))
    assert [r["first_name"] for r in rows] == ['\'=HYPERLINK("http://evil.example")']


def test_an_la_new_to_the_register_checks_then_loads_its_history(runner: Any, db: Session, tmp_path: Path) -> None:
    la = factories.la(db, "855", panels=True, adopted_on=None)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH1", urn="100011")
    factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH2", urn="100012")
    child = factories.pupil(db, la, school)
    db.commit()
    history = write(
        tmp_path,
        "history.csv",
        "upn,setting_ref,route,registration,start_date,sessions\n"
        f"{child.upn},SCH2,managed_move,sole,2025-11-17,1111111111\n",
    )
    args = ["import", "placements", history, "--la", "855", "--format", "json"]
    checked = runner.invoke(args=[*args, "--dry-run"])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert (report["dry_run"], report["imported"], report["old_records"], report["adopted_on"]) == (
        True,
        1,
        1,
        "2026-12-04",
    )
    assert "Checked, nothing written: would import placements: 1 added" in checked.stderr
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Placement)) == 0
    assert db.get(LocalAuthority, la.id).adopted_on is None  # type: ignore[union-attr]
    loaded = runner.invoke(args=args)
    assert loaded.exit_code == 0, loaded.output
    assert "Set Leicestershire's adoption date to 4 December 2026 (its first import)" in loaded.stderr
    db.expire_all()
    assert db.scalars(select(Placement.from_old_records)).all() == [True]


def test_an_import_cannot_start_a_move_the_panel_must_approve(runner: Any, db: Session, tmp_path: Path) -> None:
    la = factories.la(db, "855", panels=True)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH1", urn="100011")
    factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH2", urn="100012")
    child = factories.pupil(db, la, school)
    db.commit()
    text = (
        "upn,setting_ref,route,registration,start_date,sessions\n"
        f"{child.upn},SCH2,managed_move,sole,2025-11-17,1111111111\n"
    )
    result = runner.invoke(
        args=["import", "placements", write(tmp_path, "moves.csv", text), "--la", "855", "--format", "json"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == [
        {
            "line": 2,
            "column": "route",
            "message": (
                "Managed move needs an approved decision of Leicestershire's panel before it starts: make a referral"
            ),
        }
    ]
