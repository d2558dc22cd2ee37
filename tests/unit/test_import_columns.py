"""An attendance file read a column at a time (`domain.columns`, `AttendanceImporter.check_frame`)
gives exactly what the same file gives a row at a time (`AttendanceImporter.row`): the same marks,
the same audit of each child's changes, and the same report, line for line, refused or not, for
files drawn from fixed seeds with every kind of bad cell, across chunks. A file the column-wise
reading would read differently (a quote, a NUL byte, a row too wide) is read a row at a time."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.coverage.attendance import Booking, expected_at, expected_columns
from ap_register.domain import imports
from ap_register.domain.calendar import calendar_for
from ap_register.domain.imports import AttendanceImporter, ImportRefused, check_file, run_import
from ap_register.domain.vocab import MovementKind, SettingKind
from ap_register.models import AttendanceMark, AuditEvent, Setting
from ap_register.placements.rules import record_roll_movement
from tests import factories
from tests.factories import SYSTEM

TODAY = date(2025, 12, 5)
HEADER = "upn,setting_ref,date,session,code\n"


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH1")
    other_school = factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH2")
    pru = factories.setting(db, la, SettingKind.PRU, ref="PRU1")
    factories.setting(db, factories.la(db, "856"), SettingKind.MAINSTREAM, ref="FAR1")
    pupils = [factories.pupil(db, la, school) for _ in range(5)]
    # One on the roll by the pupil record alone (no admission in the ledger), one who moved
    # school in the term, one at the PRU in the mornings from November, one excluded.
    pupils.append(factories.pupil(db, la, None, home_school_id=school.id))
    # ... and one on the roll by the record whose ledger holds only a suspension (no change of roll).
    pupils.append(factories.pupil(db, la, None, home_school_id=school.id))
    record_roll_movement(
        db,
        SYSTEM,
        pupils[-1],
        MovementKind.SUSPENSION,
        date(2025, 11, 5),
        school,
        days=2,
        reason="Assault",
        today=TODAY,
    )
    record_roll_movement(db, SYSTEM, pupils[1], MovementKind.ADMITTED, date(2025, 11, 17), other_school, today=TODAY)
    factories.placement(db, pupils[2], pru, start=date(2025, 11, 3), sessions="1010101010")
    factories.placement(db, pupils[3], pru, start=date(2025, 10, 6), sessions="0101010101")
    elsewhere = factories.pupil(db, factories.la(db, "856"), None)  # another LA's child
    db.flush()
    days = calendar_for(db, la).school_days(date(2025, 10, 20), date(2025, 11, 28))
    return {"la": la, "upns": [p.upn for p in pupils], "elsewhere": elsewhere.upn, "days": days}


def good_rows(area: dict[str, Any]) -> list[str]:
    rows = []
    for day in area["days"]:
        for n, upn in reversed(list(enumerate(area["upns"]))):  # not in the order of their ids
            school = "SCH2" if n == 1 and day >= date(2025, 11, 17) else "SCH1"
            rows += [f"{upn},{school},{day},AM,/", f"{upn},{school},{day},PM,\\"]
    return rows


def mangled(area: dict[str, Any], rng: random.Random, rows: list[str], bad: int) -> list[str]:
    """`rows` with `bad` of them spoilt, each in one of the ways a real file goes wrong (or, for
    some, in a way that is still good: lower case, spaces, a PRU's own register)."""
    upns, days = area["upns"], area["days"]
    rows = list(rows)
    for _ in range(bad):
        n = rng.randrange(len(rows))
        upn, ref, day, half, code = (rows[n].split(",") + [""] * 5)[:5]  # perhaps a row spoilt already
        kind = rng.randrange(22)
        cells = [upn, ref, day, half, code]
        if kind == 0:
            cells[0] = upn[:-1] + ("A" if upn[-1] != "A" else "B")  # a bad check letter
        elif kind == 1:
            cells[0] = ""
        elif kind == 2:
            cells[0] = area["elsewhere"]
        elif kind == 3:
            cells[1] = rng.choice(["NOPE", "FAR1", "", "X" * 21])
        elif kind == 4:
            cells[2] = rng.choice(["2025-13-01", "yesterday", "", "1899-12-31", "2025-11-01", "2025-12-25"])
        elif kind == 5:
            cells[2] = "2026-01-05"  # after today
        elif kind == 6:
            cells[3] = rng.choice(["EVE", "", "am", " PM "])
        elif kind == 7:
            cells[4] = rng.choice(["ZZ", "H", "", "/", "\\", "b", "LONG", "I"])
        elif kind == 8:
            rows.append(rows[n])  # the same session again, later
            continue
        elif kind == 9:
            cells[1] = "PRU1"  # expected only for pupil 2's mornings and pupil 3's afternoons
        elif kind == 10:
            cells = [cells[0].lower(), f" {cells[1]} ", cells[2], cells[3].lower(), cells[4]]
        elif kind == 11:
            rows.insert(n, "")  # a blank line
            continue
        elif kind == 12:
            rows.insert(n, " , ,,,")  # a line of blank cells
            continue
        elif kind == 13:
            cells = cells[:3]  # too few cells
        elif kind == 14:
            cells += ["extra", "cells"]  # cells past the header, dropped
        elif kind == 15:
            cells[4] = "\x07"  # a control character
        elif kind == 16:
            cells[0] = rng.choice(upns)  # another child, perhaps not expected
        elif kind == 17:
            cells[2] = str(rng.choice(days) + timedelta(days=rng.choice([0, 1, 7])))
        elif kind == 18:
            cells[1] = "SCH2"
        elif kind == 19:
            cells[0] = "9" * 30
        elif kind == 20:
            cells[3] = rng.choice(["AM", "PM"])  # perhaps a present mark of the other session
        else:
            cells[4] = rng.choice(["L", "D", "B", "O", "C2", "\\"])
        rows[n] = ",".join(cells)
    return rows


def outcome(db: Session) -> dict[str, Any]:
    """The marks and audit events a file left, in the order they were written."""
    refs = {s.id: s.ref for s in db.scalars(select(Setting))}
    marks = [
        (m.pupil.upn, refs[m.setting_id], m.date, m.session, m.code, m.recorded_by_id)
        for m in db.scalars(select(AttendanceMark).order_by(AttendanceMark.id))
    ]
    audit = [
        (e.action, e.object_type, e.pupil_id, repr(sorted((e.detail or {}).items())))
        for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if e.action != "import"
    ]
    return {"marks": marks, "audit": audit}


def run(db: Session, la: Any, data: bytes, columnwise: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The file imported a column (or a row) at a time, in chunks of 7 rows, and undone."""
    monkeypatch.setattr(AttendanceImporter, "columnwise", columnwise)
    monkeypatch.setattr(AttendanceImporter, "FRAME_ROWS", 7)
    monkeypatch.setattr(AttendanceImporter, "read_ahead_rows", 7)
    monkeypatch.setattr(AttendanceImporter, "CHUNK", 11)
    undo = db.begin_nested()
    try:
        with clock.fixed(TODAY):
            try:
                report = run_import(db, SYSTEM, "attendance", io.BytesIO(data), la=la)
            except ImportRefused as refusal:
                report = refusal.report
            try:
                checked = check_file("attendance", io.BytesIO(data), la.code if la is not None else None).errors
            except ImportRefused as refusal:
                checked = refusal.report.errors
        return (report.as_json(), report.rows, report.stopped_at, checked), outcome(db)
    finally:
        undo.rollback()
        db.expire_all()


def same_both_ways(db: Session, la: Any, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    data = text.encode()
    by_rows = run(db, la, data, False, monkeypatch)
    assert run(db, la, data, True, monkeypatch) == by_rows
    return by_rows


def test_a_good_file_records_the_same_marks_and_audit_a_column_at_a_time(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = good_rows(area)
    rows += [f"{area['upns'][2]},PRU1,2025-11-03,AM,/", f"{area['upns'][3]},PRU1,2025-11-04,PM,\\"]
    (report, lines, _, checked), records = same_both_ways(db, area["la"], HEADER + "\n".join(rows) + "\n", monkeypatch)
    assert report["errors"] == [] and checked == []
    assert report["imported"] == len(rows) == lines == len(records["marks"])
    assert sum(1 for key in records["audit"] if key[0] == "record_attendance") == len(area["upns"])


def test_a_file_sent_again_with_changes_updates_the_same_marks(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = good_rows(area)
    with clock.fixed(TODAY):
        run_import(db, SYSTEM, "attendance", io.BytesIO((HEADER + "\n".join(rows[:40]) + "\n").encode()), la=area["la"])
    changed = [row[:-1] + "O" if n % 9 == 0 else row for n, row in enumerate(rows)]
    (report, *_), _ = same_both_ways(db, area["la"], HEADER + "\n".join(changed) + "\n", monkeypatch)
    assert (report["imported"], report["updated"], report["unchanged"]) == (len(rows) - 40, 5, 35)


@pytest.mark.parametrize("seed", range(10))
def test_files_drawn_from_a_seed_give_the_same_report_line_for_line(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    rows = mangled(area, rng, good_rows(area), bad=rng.choice([1, 3, 12, 40]))
    la = area["la"] if seed % 3 else None  # without --la, a setting is looked up in the child's LA
    same_both_ways(db, la, HEADER + "\n".join(rows) + "\r\n" * (seed % 2), monkeypatch)


def test_a_file_with_more_problems_than_a_report_keeps_stops_at_the_same_line(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "MAX_PROBLEMS", 25)
    rows = good_rows(area)
    rows += [row.replace(",AM,", ",EVE,") for row in rows[:30]] + rows[:10]
    (report, _, stopped, checked), _ = same_both_ways(db, area["la"], HEADER + "\n".join(rows) + "\n", monkeypatch)
    assert len(report["errors"]) == 25 and stopped is not None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda row: row.replace(",AM,", ',"AM",'),  # a quoted cell
        lambda row: row.replace(",AM,", ',"A\nM",'),  # a quoted cell over two lines
        lambda row: row.replace(",AM,", ",A\x00M,"),  # a NUL byte
        lambda row: row + "," * 40,  # far wider than the header
        lambda row: "\ufeff" + row,  # a byte-order mark at the start of a line
    ],
    ids=["quote", "line-break", "nul", "wide", "bom"],
)
def test_a_file_only_the_row_reading_reads_exactly_is_read_a_row_at_a_time(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch, spoil: Any
) -> None:
    rows = good_rows(area)
    rows[25] = spoil(rows[25])
    seen: list[int] = []
    check_frame = AttendanceImporter.check_frame
    monkeypatch.setattr(
        AttendanceImporter, "check_frame", lambda self, f, lines: seen.append(len(f)) or check_frame(self, f, lines)
    )
    by_rows = run(db, area["la"], (HEADER + "\n".join(rows) + "\n").encode(), False, monkeypatch)
    seen.clear()
    assert run(db, area["la"], (HEADER + "\n".join(rows) + "\n").encode(), True, monkeypatch) == by_rows
    if "\ufeff" not in rows[25]:  # pandas is never given a byte-order mark: refused on its first read
        assert seen, "the column-wise reading began"


def test_a_plain_file_is_read_a_column_at_a_time(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    called: list[str] = []
    monkeypatch.setattr(AttendanceImporter, "row", lambda self, row: called.append("row"))
    data = (HEADER + "\n".join(good_rows(area)[:20]) + "\n").encode()
    with clock.fixed(TODAY):
        report = run_import(db, SYSTEM, "attendance", io.BytesIO(data), la=area["la"])
    assert report.imported == 20 and called == []


@pytest.mark.parametrize("seed", range(5))
def test_expected_columns_is_expected_at_a_column_at_a_time(seed: int) -> None:
    rng = random.Random(seed)
    monday = date(2025, 11, 3)
    marks = []
    bookings: list[tuple[int, Booking]] = []
    for pupil in range(30):
        for _ in range(rng.randrange(3)):
            start = monday + timedelta(days=rng.randrange(-10, 10))
            end = rng.choice([None, start + timedelta(days=rng.randrange(0, 15))])
            sessions = "".join(rng.choice("01") for _ in range(10))
            bookings.append((pupil, Booking(rng.randrange(1, 4), start, end, sessions)))
        for _ in range(20):
            day = monday + timedelta(days=rng.randrange(-14, 21))
            marks.append((pupil, rng.randrange(1, 4), rng.choice([-1, 1, 2, 3]), day, rng.choice(["AM", "PM", "EVE"])))
    expected = expected_columns(
        np.array([m[1] for m in marks]),
        np.array([m[2] for m in marks]),
        np.array([m[3].toordinal() for m in marks]),
        np.array([m[4] for m in marks], dtype=object),
        np.array([m[0] for m in marks]),
        bookings,
    )
    by_pupil: dict[int, list[Booking]] = {}
    for pupil, booking in bookings:
        by_pupil.setdefault(pupil, []).append(booking)
    wanted = [
        expected_at(setting, roll if roll != -1 else None, day, half, by_pupil.get(pupil, []))
        for pupil, setting, roll, day, half in marks
    ]
    assert expected.tolist() == wanted
    assert 0 < sum(wanted) < len(wanted)


def test_a_row_with_many_problems_names_them_in_the_same_order(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    upn = area["upns"][0]
    rows = [
        f"{upn[:-1]}Z,NOPE,2025-11-01,EVE,ZZ",
        f"{upn},NOPE,2025-11-01,EVE,ZZ",
        f"{upn},SCH1,2026-01-10,PM,/",
        f"{upn},,2025-11-03,,H",
    ]
    (report, *_), _ = same_both_ways(db, area["la"], HEADER + "\n".join(rows) + "\n", monkeypatch)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [
        (2, "upn"),
        (2, "setting_ref"),
        (2, "session"),
        (2, "date"),
        (2, "code"),
        (3, "setting_ref"),
        (3, "session"),
        (3, "date"),
        (3, "code"),
        (4, "date"),  # in the future
        (4, "date"),  # and a Saturday
        (4, "code"),
        (5, "setting_ref"),
        (5, "session"),
        (5, "code"),
    ]


def test_a_query_while_a_bulk_write_is_under_way_is_refused_not_left_waiting(db: Session, area: dict[str, Any]) -> None:
    """The attendance import checks a chunk while the chunk before is written (on PostgreSQL a
    COPY the server takes meanwhile). A query then would wait for the COPY for ever: it is
    refused at once instead, and the write still ends well."""
    from ap_register.domain.bulk import Writer
    from ap_register.models import Pupil

    pupil = db.scalars(select(Pupil).where(Pupil.upn == area["upns"][0])).one()
    school = db.scalars(select(Setting).where(Setting.ref == "SCH1")).one()
    writing = Writer(db.connection()).start_columns(
        "attendance_mark",
        {
            "pupil_id": np.array([pupil.id]),
            "setting_id": np.array([school.id]),
            "date": np.array(["2025-11-03"]),
            "session": np.array(["AM"], dtype=object),
            "code": np.array(["/"], dtype=object),
        },
        {"recorded_by_id": None, "recorded_at": clock.now()},
    )
    if db.get_bind().dialect.name == "postgresql":
        with pytest.raises(RuntimeError, match="COPY into attendance_mark is under way"):
            db.execute(select(AttendanceMark.id)).all()
    assert writing.finish() == 1
    assert [(m.pupil_id, m.code) for m in db.scalars(select(AttendanceMark))] == [(pupil.id, "/")]


@pytest.mark.parametrize(
    "first",
    [
        ",,,,,x",  # blank in the header's columns, not past them: not a blank line
        ",,,,,{good}",  # a good row shifted right
        "," * 21 + "x",  # a first row wider than the header and its spare columns
        "{good}" + "," * 17 + "y" * 131_073,  # past the csv module's cell limit, beyond the spare columns
        "\ufeff{good}",  # a byte-order mark at the start of the first row
        "\ufeff",
    ],
    ids=["past-header", "shifted", "wide-first", "huge-first", "bom-first", "bom-only"],
)
def test_an_odd_first_row_is_read_as_a_row_at_a_time_reads_it(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """Found by an outside review: pandas reads these first rows unlike the csv module (it drops
    what lies past the names it is given on the first row, and a byte-order mark there)."""
    rows = good_rows(area)[:12]
    rows.insert(0, first.format(good=rows[0]))
    rows.insert(5, first.format(good=rows[6]))
    (report, *_), _ = same_both_ways(db, area["la"], HEADER + "\n".join(rows) + "\n", monkeypatch)
    assert report["errors"], "each of these first rows is refused"


def test_steps_never_go_back_when_a_file_is_read_again(
    db: Session, area: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quote late in the file sends it back to be read a row at a time: the bytes read that
    the steps report (the import page's progress bar) still only go up."""
    from ap_register.domain.imports import check_file_steps, import_steps

    monkeypatch.setattr(AttendanceImporter, "FRAME_ROWS", 50)
    rows = good_rows(area) * 1
    rows[-3] = rows[-3].replace(",AM,", ',"AM",')
    data = (HEADER + "\n".join(rows) + "\n").encode()
    for steps in (
        check_file_steps("attendance", io.BytesIO(data), "855"),
        import_steps(db, SYSTEM, "attendance", io.BytesIO(data), la=area["la"], checked=True),
    ):
        said = []
        with clock.fixed(TODAY):
            try:
                while True:
                    said.append(next(steps))
            except StopIteration:
                pass
        assert len(said) > 2 and said == sorted(said), said
