"""Exports: settings, pupils, placements and movements in the columns of the import formats
(so an export can be loaded again), as CSV, JSON or XLSX, streamed row by row.

Every export goes through the permission scope: nobody exports what they cannot see."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.search import PlacementFilters, placements_query
from ap_register.models import LocalAuthority, Movement, Pupil, Setting

KINDS = ("settings", "pupils", "placements", "movements")
FORMATS = ("csv", "json", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# A placement's own fields, as the placements import and export name them.
PLACEMENT_FIELDS = (
    "route",
    "registration",
    "tier",
    "start_date",
    "sessions",
    "planned_end_date",
    "end_date",
    "destination",
    "notice_date",
    "last_review_date",
    "next_review_date",
    "home_school_code",
    "parent_agreed_on",
    "part_time_purpose",
    "notice_address",
    "notice_report_to",
    "notice_session_times",
    "notice_reasons",
    "la_notice_date",
)
COLUMNS: dict[str, list[str]] = {
    "settings": ["ref", "name", "kind", "la_code", "urn", "ukprn", "postcode", "phase", "open"],
    "pupils": [
        "upn",
        "first_name",
        "last_name",
        "date_of_birth",
        "home_la_code",
        "home_school_ref",
        "sen_status",
        "primary_need",
        "child_in_need",
        "looked_after",
    ],
    "placements": [
        "upn",
        "first_name",
        "last_name",
        "setting_ref",
        "setting_name",
        *PLACEMENT_FIELDS,
        "home_school_ref",
        "commissioner_ref",
    ],
    "movements": [
        "upn",
        "date",
        "kind",
        "setting_ref",
        "days",
        "reason",
        "placement_id",
        "recorded_via",
        "recorded_at",
    ],
}


def _yn(value: bool) -> str:
    return "Y" if value else "N"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


class _Lookups:
    """Refs and codes by id, read once, so that rows need no joins."""

    def __init__(self, session: Session):
        self.la_codes = dict(session.execute(select(LocalAuthority.id, LocalAuthority.code)).all())
        self.setting_refs = dict(session.execute(select(Setting.id, Setting.ref)).all())
        self.setting_names = dict(session.execute(select(Setting.id, Setting.name)).all())

    def ref(self, setting_id: int | None) -> str | None:
        return self.setting_refs.get(setting_id) if setting_id is not None else None


def _settings_stmt(actor: Actor, la: LocalAuthority | None) -> Select[Setting]:
    stmt = select(Setting).order_by(Setting.la_id, Setting.ref)
    if la is not None:
        stmt = stmt.where(Setting.la_id == la.id)
    return permissions.scope_settings(actor, stmt)


def _pupils_stmt(actor: Actor, la: LocalAuthority | None) -> Select[Pupil]:
    stmt = select(Pupil).order_by(Pupil.upn)
    if la is not None:
        stmt = stmt.where(Pupil.home_la_id == la.id)
    return permissions.scope_pupils(actor, stmt)


def _placements_stmt(actor: Actor, la: LocalAuthority | None, filters: PlacementFilters | None) -> Select[Any]:
    stmt = placements_query(actor, filters or PlacementFilters())
    if la is not None:
        stmt = stmt.where(Pupil.home_la_id == la.id)
    return stmt


def _movements_stmt(actor: Actor, la: LocalAuthority | None) -> Select[Movement]:
    stmt = select(Movement).join(Pupil, Movement.pupil_id == Pupil.id).order_by(Movement.date, Movement.id)
    if la is not None:
        stmt = stmt.where(Pupil.home_la_id == la.id)
    return permissions.scope_movements(actor, stmt)


def statement(
    actor: Actor, kind: str, la: LocalAuthority | None = None, filters: PlacementFilters | None = None
) -> Select[Any]:
    if kind == "settings":
        return _settings_stmt(actor, la)
    if kind == "pupils":
        return _pupils_stmt(actor, la)
    if kind == "placements":
        return _placements_stmt(actor, la, filters)
    if kind == "movements":
        return _movements_stmt(actor, la)
    raise DomainError(f"Unknown export {kind}: choose one of {', '.join(KINDS)}")


def rows(
    session: Session, actor: Actor, kind: str, la: LocalAuthority | None = None, filters: PlacementFilters | None = None
) -> Iterator[dict[str, Any]]:
    """The export's rows as dicts of plain values, read in batches. The query and its permission
    scope are fixed here, before the first row is read (a streamed response reads them later)."""
    look = _Lookups(session)
    stmt = statement(actor, kind, la, filters)
    if kind in ("placements", "movements"):
        stmt = stmt.add_columns(Pupil.upn, Pupil.first_name, Pupil.last_name)
    return _rows(session, kind, stmt, look)


def _rows(session: Session, kind: str, stmt: Select[Any], look: _Lookups) -> Iterator[dict[str, Any]]:
    # Only many-to-one eager loads are used, so reading in batches is safe.
    result = session.execute(stmt.execution_options(yield_per=1000))
    for row in result:
        record = row[0]
        if kind == "settings":
            yield {
                "ref": record.ref,
                "name": record.name,
                "kind": record.kind.value,
                "la_code": look.la_codes[record.la_id],
                "urn": record.urn,
                "ukprn": record.ukprn,
                "postcode": record.postcode,
                "phase": record.phase,
                "open": _yn(record.open),
            }
        elif kind == "pupils":
            yield {
                "upn": record.upn,
                "first_name": record.first_name,
                "last_name": record.last_name,
                "date_of_birth": record.date_of_birth.isoformat(),
                "home_la_code": look.la_codes[record.home_la_id],
                "home_school_ref": look.ref(record.home_school_id),
                "sen_status": record.sen_status.value,
                "primary_need": record.primary_need,
                "child_in_need": _yn(record.child_in_need),
                "looked_after": _yn(record.looked_after),
            }
        elif kind == "placements":
            commissioner = (
                look.la_codes.get(record.commissioner_la_id)
                if record.commissioner_la_id
                else look.ref(record.commissioner_setting_id)
            )
            yield {
                "upn": row.upn,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "setting_ref": look.ref(record.setting_id),
                "setting_name": look.setting_names.get(record.setting_id),
                **{name: _plain(getattr(record, name)) for name in PLACEMENT_FIELDS},
                "home_school_ref": look.ref(record.home_school_id),
                "commissioner_ref": commissioner,
            }
        else:
            yield {
                "upn": row.upn,
                "date": record.date.isoformat(),
                "kind": record.kind.value,
                "setting_ref": look.ref(record.setting_id),
                "days": record.days,
                "reason": record.reason,
                "placement_id": record.placement_id,
                "recorded_via": record.recorded_via,
                "recorded_at": _plain(record.recorded_at),
            }


def count(
    session: Session, actor: Actor, kind: str, la: LocalAuthority | None = None, filters: PlacementFilters | None = None
) -> int:
    stmt = statement(actor, kind, la, filters)
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def record_export(
    session: Session, actor: Actor, kind: str, fmt: str, total: int, detail: dict[str, Any] | None = None
) -> None:
    """An export of personal data is a view of every record in it: audit it."""
    audit.record(session, actor, "export", kind, None, detail={"format": fmt, "rows": total, **(detail or {})})


# A cell a spreadsheet would run as a formula starts with one of these (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would treat as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(columns: list[str], records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CSV text, a chunk at a time (for streaming responses)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for n, record in enumerate(records, start=1):
        writer.writerow({k: ("" if v is None else spreadsheet_safe(v)) for k, v in record.items()})
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(columns: list[str], records: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for n, record in enumerate(records):
        yield ("," if n else "") + "\n" + json.dumps({c: record.get(c) for c in columns}, ensure_ascii=False)
    yield "\n]\n"


def write_xlsx(columns: list[str], records: Iterable[dict[str, Any]], out: IO[bytes], title: str) -> None:
    """A one-sheet workbook in openpyxl's write-only mode, which keeps rows out of memory."""
    write_xlsx_sheets([(title, columns, records)], out)


BOLD = Font(bold=True)
# A workbook is for people: its headers are words, not the files' column names.
WORDS = {
    "upn": "UPN",
    "uprn": "UPRN",
    "urn": "URN",
    "ukprn": "UKPRN",
    "la": "LA",
    "sen": "SEN",
    "ehcp": "EHCP",
    "fsm": "FSM",
    "ref": "reference",
    "ci": "95% interval",
    "n": "pupils (n)",
    "id": "ID",
}
# Columns of money, and of percentages, by the end of their name.
MONEY_ENDINGS = ("cost", "allocation", "allocated_to_providers", "reserve", "reserve_left", "spot_purchases")
MONEY_COLUMNS = frozenset({"variations_cost"})
PERCENT_ENDING = "_percent"
DATE_FORMAT = "d mmm yyyy"
MONEY_FORMAT = "£#,##0.00"
PERCENT_FORMAT = '0.0"%"'
WIDTH_SAMPLE = 200  # rows read ahead to size the columns
MAX_WIDTH = 60


def column_label(name: str) -> str:
    """A column's name as a workbook heads it: "setting_ref" is "Setting reference"."""
    words = [WORDS.get(word, word) for word in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _cell_value(column: str, value: Any) -> tuple[Any, str | None]:
    """A value as a workbook cell holds it, with its number format: dates as dates (an ISO date
    in the record too), money in pounds, percentages as such."""
    if isinstance(value, str) and len(value) == 10 and value[4:5] == value[7:8] == "-":
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), "d mmm yyyy h:mm"
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if column in MONEY_COLUMNS or column.endswith(MONEY_ENDINGS):
            return value, MONEY_FORMAT
        if column.endswith(PERCENT_ENDING):
            return value, PERCENT_FORMAT
    return spreadsheet_safe(value), None


def _shown_width(value: Any, number_format: str | None) -> int:
    if number_format == DATE_FORMAT:
        return 12
    if number_format == MONEY_FORMAT:
        return len(f"£{value:,.2f}")
    return len(str(value)) if value is not None else 0


def write_xlsx_sheets(sheets: list[tuple[str, list[str], Iterable[dict[str, Any]]]], out: IO[bytes]) -> None:
    """A workbook of several tables, one sheet each (title, columns, records), made to be read:
    worded headers kept in view, dates as dates, money in pounds, columns as wide as what they
    hold. Written in openpyxl's write-only mode, so rows never gather in memory (the widths are
    judged on the first rows)."""
    workbook = Workbook(write_only=True)
    for title, columns, records in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        rows = iter(records)
        ahead = list(islice(rows, WIDTH_SAMPLE))
        labels = [column_label(c) for c in columns]
        for index, (column, label) in enumerate(zip(columns, labels, strict=True)):
            widest = max([len(label)] + [_shown_width(*_cell_value(column, record.get(column))) for record in ahead])
            sheet.column_dimensions[get_column_letter(index + 1)].width = min(widest + 2, MAX_WIDTH)
        sheet.freeze_panes = "A2"
        header = []
        for label in labels:
            cell = WriteOnlyCell(sheet, value=label)
            cell.font = BOLD
            header.append(cell)
        sheet.append(header)
        for record in chain(ahead, rows):
            cells = []
            for column in columns:
                value, number_format = _cell_value(column, record.get(column))
                if number_format is None:
                    cells.append(value)
                else:
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = number_format
                    cells.append(cell)
            sheet.append(cells)
    workbook.save(out)


def write(
    kind: str,
    fmt: str,
    records: Iterable[dict[str, Any]],
    out: IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write an export to a binary stream; returns the number of rows."""
    columns = COLUMNS[kind]
    written = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal written
        for record in records:
            written += 1
            if progress is not None:
                progress(1)
            yield record

    if fmt == "xlsx":
        write_xlsx(columns, counted(), out, kind)
    else:
        chunks = csv_chunks(columns, counted()) if fmt == "csv" else json_chunks(columns, counted())
        for chunk in chunks:
            out.write(chunk.encode("utf-8"))
    return written
