"""The reference files shipped with the product (copied from DfE and GOV.UK sources; see
ap_register/reference/ and the README's data section), read as plain Python values."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from ap_register import clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _rows(name: str) -> Iterator[dict[str, str]]:
    with resources.files("ap_register").joinpath("reference", name).open(encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


@dataclass(frozen=True)
class LaCode:
    code: str
    name: str
    gss_code: str
    live: bool


@cache
def english_la_codes() -> dict[str, LaCode]:
    """Every English LA's DfE code, current or former, with its name. Rows that combine two
    authorities ("940 / 941") are skipped: each also has its own row."""
    found: dict[str, LaCode] = {}
    for row in _rows("la_codes.csv"):
        code = row["old_la_code"].strip()
        if not (len(code) == 3 and code.isdigit()):
            continue
        entry = LaCode(code, row["la_name"].strip(), row["new_la_code"].strip(), row["status"] == "live")
        # Prefer the live row where a code was reused by a reorganised authority.
        if code not in found or (entry.live and not found[code].live):
            found[code] = entry
    return found


# Wales' LA codes: pupils cross the border, so their UPNs are valid here.
WELSH_LA_CODES = frozenset(str(code) for code in range(660, 682))


# England and Wales bank holidays: the days GOV.UK has announced (the shipped file, which holds
# one-off days such as a coronation), with the days the `holidays` package (pinned; maintained
# from the Banking and Financial Dealings Act 1971 and each year's proclamations) gives by rule.
# The register counts school days only to the end of the year after next: past that it refuses
# (calendar.CalendarUnknown) rather than miscount a day nobody has announced yet. init-db and the
# daily job extend the horizon as the years turn.
BANK_HOLIDAYS_FROM = 2019
BANK_HOLIDAY_YEARS_AHEAD = 2


@cache
def announced_bank_holidays() -> dict[date, str]:
    return {date.fromisoformat(row["date"]): row["title"] for row in _rows("bank_holidays_england_wales.csv")}


def bank_holidays(today: date) -> dict[date, str]:
    """Every England and Wales bank holiday from 2019 to the end of the year after next."""
    import holidays

    through = today.year + BANK_HOLIDAY_YEARS_AHEAD
    by_rule = holidays.country_holidays("GB", subdiv="ENG", years=range(BANK_HOLIDAYS_FROM, through + 1))
    found = {day: str(title) for day, title in by_rule.items()}
    found.update({day: title for day, title in announced_bank_holidays().items() if day.year <= through})
    return found


def load_bank_holidays(session: Session, today: date) -> int:
    """Add the bank holidays not yet recorded, to the end of the year after next; how many."""
    from sqlalchemy import select

    from ap_register.models import BankHoliday

    known_days = set(session.scalars(select(BankHoliday.day)))
    added = 0
    for day, title in sorted(bank_holidays(today).items()):
        if day not in known_days:
            session.add(BankHoliday(day=day, title=title[:120]))
            added += 1
    session.flush()
    return added


@dataclass(frozen=True)
class AttendanceCodeInfo:
    code: str
    meaning: str
    category: str
    statistics_type: str | None
    counts_as_attendance: bool
    counts_in_possible_sessions: bool
    in_use: bool


@cache
def attendance_codes() -> dict[str, AttendanceCodeInfo]:
    codes = {}
    for row in _rows("attendance_codes_2024.csv"):
        codes[row["code"]] = AttendanceCodeInfo(
            code=row["code"],
            meaning=row["meaning"],
            category=row["category_2024"],
            statistics_type=row["ees_statistics_attendance_type"] or None,
            counts_as_attendance=row["counts_as_attendance"] == "Y",
            counts_in_possible_sessions=row["counts_in_possible_sessions"] == "Y",
            in_use=not row["status"].startswith("legacy"),
        )
    return codes


@dataclass(frozen=True)
class AttendanceClass:
    """DfE's statistical class of a code: its attendance type (Present, Approved educational
    activity, Authorised, Unauthorised, Management and legacy codes) and status (Attendance,
    Absence, Management and legacy codes)."""

    type: str
    status: str


@cache
def attendance_code_classes() -> dict[str, AttendanceClass]:
    """Each code's class, as DfE's published data dictionary groups it: the code's statistics
    label is a filter item of `attendance_reason`, whose parent is its `attendance_type`, whose
    parent is its `attendance_status`."""
    type_of: dict[str, str] = {}
    status_of: dict[str, str] = {}
    for row in _rows("attendance_code_categories.csv"):
        if row["col_name"] == "attendance_reason" and row["col_name_parent"] == "attendance_type":
            type_of[row["filter_item"]] = row["filter_item_parent"]
        elif row["col_name"] == "attendance_type" and row["col_name_parent"] == "attendance_status":
            status_of[row["filter_item"]] = row["filter_item_parent"]
    classes = {}
    for row in _rows("attendance_codes_2024.csv"):
        kind = type_of.get(row["ees_statistics_label"])
        if kind is not None:
            classes[row["code"]] = AttendanceClass(kind, status_of.get(kind, kind))
    return classes


@dataclass(frozen=True)
class GiasType:
    code: int
    name: str
    group_name: str


@cache
def gias_establishment_types() -> dict[int, GiasType]:
    return {
        int(row["type_of_establishment_code"]): GiasType(
            int(row["type_of_establishment_code"]),
            row["type_of_establishment_name"],
            row["establishment_type_group_name"],
        )
        for row in _rows("gias_establishment_types.csv")
    }


def load_into(session: Session, today: date | None = None) -> dict[str, int]:
    """Insert or refresh the reference tables from the shipped files. Idempotent: returns how
    many rows of each were added."""
    from sqlalchemy import select

    from ap_register.models import AttendanceCode, LocalAuthority

    added = {"local_authorities": 0, "bank_holidays": 0, "attendance_codes": 0}
    existing_las = {la.code: la for la in session.scalars(select(LocalAuthority))}
    for code, entry in english_la_codes().items():
        la = existing_las.get(code)
        if la is None:
            session.add(LocalAuthority(code=code, name=entry.name, gss_code=entry.gss_code, live=entry.live))
            added["local_authorities"] += 1
        else:
            la.name, la.gss_code, la.live = entry.name, entry.gss_code, entry.live
    added["bank_holidays"] = load_bank_holidays(session, today or clock.today())
    existing_codes = {c.code: c for c in session.scalars(select(AttendanceCode))}
    for code, info in attendance_codes().items():
        values = {
            "meaning": info.meaning,
            "category": info.category,
            "statistics_type": info.statistics_type,
            "counts_as_attendance": info.counts_as_attendance,
            "counts_in_possible_sessions": info.counts_in_possible_sessions,
            "in_use": info.in_use,
        }
        row = existing_codes.get(code)
        if row is None:
            session.add(AttendanceCode(code=code, **values))
            added["attendance_codes"] += 1
        else:
            for name, value in values.items():
                setattr(row, name, value)
    session.flush()
    return added
