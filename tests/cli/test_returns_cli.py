"""`ap-register returns`: the demo area's AP census has one record per child in scope, each with
every required item or a failure that names it, and its XML file; the school census has one line
per placement; CSV and the gaps file."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.vocab import LA_ROUTES, Route, SettingKind
from ap_register.models import LocalAuthority, Placement, Pupil, Setting
from ap_register.returns.rules import census_period
from ap_register.years import AcademicYear

PUPIL_ITEMS = ("upn", "first_name", "last_name", "date_of_birth")


def check_every_line(found: dict[str, Any], reason: str) -> None:
    """Each line has every required item, or a gap on that line names the one it lacks."""
    gaps = {(g["line"], g["item"]) for g in found["gaps"]}
    for line, row in enumerate(found["lines"], start=2):
        assert all(row[item] for item in PUPIL_ITEMS), row
        assert row["entry_date"] and row["sessions_per_week"] > 0
        identifiers = [row["urn"], row["ukprn"], row["setting_type"]]
        assert sum(bool(v) for v in identifiers) <= 1, row  # never more than one
        if not any(identifiers):
            assert (line, "setting_type") in gaps, row
        if not row[reason]:
            assert (line, "primary_reason") in gaps, row
    # And no gap names an item that is there.
    for gap in found["gaps"]:
        row = found["lines"][gap["line"] - 2]
        assert not row[reason if gap["item"] == "primary_reason" else gap["item"]]


def test_the_demo_area_s_ap_census_has_a_record_per_child_and_its_file_passes_or_names_each_failure(
    runner: Any, db: Session
) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    year = AcademicYear.containing(clock.today()).start
    result = runner.invoke(args=["returns", "ap-census", "--la", "873"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert (found["la"], found["return"], found["year"]) == ("873", "ap-census", f"{year}/{(year + 1) % 100:02d}")

    # The children in scope, counted here from the tables: born in the census's ages, placed by the
    # LA (s19, or a school named in an EHC plan) at an independent or non-maintained special school
    # (GIAS types 8, 10, 11), an independent AP school, or otherwise than at a school, at any time
    # in the census period.
    la = db.scalar(select(LocalAuthority).where(LocalAuthority.code == "873"))
    assert la is not None
    start, end = census_period("ap-census", year)
    census_year = end.year
    expected = set(
        db.scalars(
            select(Pupil.upn)
            .join(Placement, Placement.pupil_id == Pupil.id)
            .join(Setting, Placement.setting_id == Setting.id)
            .where(
                Pupil.home_la_id == la.id,
                Pupil.date_of_birth.between(date(census_year - 20, 9, 1), date(census_year - 3, 12, 31)),
                Placement.route.in_(LA_ROUTES | {Route.EHCP_NAMED}),
                or_(
                    Setting.kind.in_([SettingKind.INDEPENDENT_AP, SettingKind.UNREGISTERED_AP, SettingKind.POST16]),
                    Setting.gias_type_code.in_([8, 10, 11]),
                ),
                Placement.start_date <= end,
                or_(Placement.end_date.is_(None), Placement.end_date >= start),
            )
        )
    )
    assert expected, "the demo has children the LA places outside the schools it maintains"
    upns = [row["upn"] for row in found["lines"]]
    assert sorted(upns) == sorted(expected) and len(upns) == len(set(upns))  # one record per child
    check_every_line(found, "primary_reason")
    # The demo leaves the reason unrecorded for the children an EHC plan places at an independent
    # special school, for the report to list: each an error naming the child.
    assert found["gaps"] and all(g["severity"] in ("error", "query") for g in found["gaps"])
    assert {g["item"] for g in found["gaps"]} <= {"primary_reason", "ethnicity"}
    assert f"{len(found['gaps'])} gap" in result.stderr

    gaps_csv = runner.invoke(args=["returns", "ap-census", "--la", "873", "--gaps", "--format", "csv"])
    assert [r["upn"] for r in csv.DictReader(io.StringIO(gaps_csv.stdout))] == [g["upn"] for g in found["gaps"]]

    # The file for the collection system: the same children, and the same failures found in it.
    xml = runner.invoke(args=["returns", "ap-census", "--la", "873", "--format", "xml"])
    assert xml.exit_code == 0, xml.output
    root = ET.fromstring(xml.stdout_bytes)
    assert [e.text for e in root.iterfind("Pupils/Pupil/PupilIdentifiers/UPN")] == upns
    assert f"fails {len(found['gaps'])} of its checks" in xml.stderr
    refused = runner.invoke(args=["returns", "school-census", "--la", "873", "--format", "xml"])
    assert refused.exit_code == 2 and "AP census" in refused.output


def test_the_demo_area_s_school_census_names_its_gaps(runner: Any, db: Session) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    result = runner.invoke(args=["returns", "school-census", "--la", "873", "--term", "spring"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["lines"] and found["term"] == "spring"
    check_every_line(found, "placement_reason")
    assert {g["item"] for g in found["gaps"]} <= {"setting_type", "primary_reason"}
    lines = runner.invoke(args=["returns", "school-census", "--la", "873", "--format", "csv"])
    assert len(list(csv.DictReader(io.StringIO(lines.stdout)))) == len(found["lines"])
    refused = runner.invoke(args=["returns", "ap-census", "--la", "873", "--year", "2025/27"])
    assert refused.exit_code == 2 and "not an academic year" in refused.output


def test_the_demo_area_s_children_not_in_school_one_entry_per_child(runner: Any, db: Session) -> None:
    from ap_register.domain.vocab import REGISTERED_SCHOOL_KINDS, SETTING_KIND_LABELS

    assert runner.invoke(args=["demo"]).exit_code == 0
    result = runner.invoke(args=["returns", "children-not-in-school", "--la", "873", "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert (found["la"], found["on"], found["in_force_from"]) == ("873", clock.today().isoformat(), None)
    entries = found["entries"]
    upns = [e["upn"] for e in entries]
    assert entries and len(upns) == len(set(upns))  # one entry per child
    school_kinds = {SETTING_KIND_LABELS[kind] for kind in REGISTERED_SCHOOL_KINDS}
    for entry in entries:
        # On no roll (and so no school), or on a roll and educated somewhere that is not a school.
        assert (entry["why"], entry["school"] is None) in (("no_school", True), ("partly_elsewhere", False)), entry
        if entry["why"] == "partly_elsewhere":
            assert entry["provision"], entry
        assert all(p["setting_kind"] not in school_kinds for p in entry["provision"]), entry
        assert entry["sessions_per_week_elsewhere"] == sum(p["sessions_per_week"] for p in entry["provision"])
        # The demo knows every child's home and at least one parent, named with an address.
        assert entry["home_address"] and entry["parents"] and entry["parents"][0]["address"], entry
    lines = runner.invoke(args=["returns", "children-not-in-school", "--la", "873", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(lines.stdout)))
    assert len(rows) == sum(max(1, len(e["provision"])) for e in entries)
