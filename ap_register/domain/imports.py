"""Imports: CSV files loaded all or nothing, with every bad line reported.

Formats (README, Import files): settings (or a GIAS establishment extract as DfE publishes
it), pupils, placements, movements, attendance and term-dates. A file is read once, as a
stream: each row is checked and written inside a savepoint, and if any row is refused the
savepoint is rolled back, so nothing is written. Unknown extra columns are ignored; a missing
required column refuses the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from array import array
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import IO, Any, ParamSpec, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.budgets.outreach import KINDS as OUTREACH_KINDS
from ap_register.budgets.outreach import log_session, start_engagement
from ap_register.budgets.rules import PLACE_TYPES, set_line
from ap_register.casework import contacts
from ap_register.coverage.attendance import Booking, code_problem, expected_at, marks_between, session_problems
from ap_register.domain import grid, week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import Writer, among
from ap_register.domain.calendar import calendar_for, calendars_for
from ap_register.domain.errors import DomainError, NotPlain
from ap_register.domain.reference_data import attendance_codes, english_la_codes, gias_establishment_types
from ap_register.domain.term_dates import add_stretch
from ap_register.domain.text import control_character_problem
from ap_register.domain.typed import FIRST_YEAR, LAST_YEAR, year_in_range
from ap_register.domain.upn import check_upn
from ap_register.domain.vocab import (
    ETHNICITIES,
    HOME_SCHOOL_KINDS,
    PART_TIME_PURPOSES,
    PRIMARY_NEEDS,
    ROLL_MOVEMENT_KINDS,
    SEXES,
    Destination,
    MovementKind,
    Registration,
    Route,
    SenStatus,
    SettingKind,
    Tier,
)
from ap_register.models import (
    AttendanceMark,
    BudgetPlan,
    Ks4Result,
    LocalAuthority,
    Movement,
    OutreachEngagement,
    Placement,
    Post16Check,
    Pupil,
    Setting,
    TermDate,
)
from ap_register.models.base import utcnow
from ap_register.outcomes.rules import ACTIVITIES, CHECK_POINTS
from ap_register.outcomes.rules import GRADES as OUTCOME_GRADES
from ap_register.placements import use_cases as placements
from ap_register.placements.adoption import adopt_at_first_import
from ap_register.placements.notice import NoticeContents, contents_of
from ap_register.placements.pupils import (
    CENSUS_FIELDS,
    CONTACT_FIELDS,
    HeldElsewhere,
    NewPupils,
    PupilDetails,
    holders_of,
    record_refused_attempts,
    save_pupil,
)
from ap_register.placements.reads import ChunkReads, Reads
from ap_register.placements.roll import RollMovement, RollReading, read_roll, roll_movements
from ap_register.placements.rules import (
    PlacementDraft,
    admit_new_pupil,
    record_roll_movement,
    same_placement,
)
from ap_register.returns.rules import CENSUS_REASONS, set_census_reason
from ap_register.years import AcademicYear

KINDS = (
    "settings",
    "pupils",
    "placements",
    "movements",
    "attendance",
    "term-dates",
    "outreach",
    "budget-lines",
    "ks4-results",
    "destinations",
    "contacts",
)
REQUIRED: dict[str, tuple[str, ...]] = {
    "settings": ("ref", "name", "kind", "la_code"),
    "pupils": ("upn", "first_name", "last_name", "date_of_birth", "home_la_code"),
    "placements": ("upn", "setting_ref", "route", "registration", "start_date", "sessions"),
    "movements": ("upn", "date", "kind", "setting_ref"),
    "attendance": ("upn", "setting_ref", "date", "session", "code"),
    "term-dates": ("la_code", "start_date", "end_date"),
    "outreach": ("provider_ref", "school_ref", "kind", "date", "minutes", "staff"),
    "budget-lines": ("plan", "year", "place_type", "commissioned"),
    "ks4-results": ("upn", "academic_year", "english", "maths"),
    "destinations": ("upn", "leaving_year", "check_point", "activity"),
    "contacts": ("upn", "role", "name"),
}
# A child's home address and up to two parents' names and addresses (children not in school).
CONTACT_COLUMNS = (
    "home_address",
    "home_postcode",
    "parent1_name",
    "parent1_address",
    "parent2_name",
    "parent2_address",
)
# The columns a file may also have, in the order a template gives them. A column the file lacks
# is left as held (or blank for a new record); an unknown column is ignored.
OPTIONAL: dict[str, tuple[str, ...]] = {
    "settings": ("urn", "ukprn", "postcode", "phase", "pupils_on_roll", "district"),
    "pupils": (
        "home_school_ref",
        "sen_status",
        "primary_need",
        "ehc_assessment_requested",
        "child_in_need",
        "looked_after",
        "exams_over_on",
        "sex",
        "ethnicity",
        "fsm_start_date",
        "fsm_end_date",
        "uprn",
        *CONTACT_COLUMNS,
    ),
    "placements": (
        "tier",
        "planned_end_date",
        "end_date",
        "destination",
        "notice_date",
        "last_review_date",
        "commissioner_ref",
        "reason",
        "reintegration_plan",
        "destination_plan",
        "unregistered_override_reason",
        "census_reason",
        "parent_agreed_on",
        "part_time_purpose",
        "notice_address",
        "notice_report_to",
        "notice_session_times",
        "notice_reasons",
        "la_notice_date",
    ),
    "movements": ("days", "reason"),
    "attendance": (),
    "term-dates": (),
    "outreach": ("upn", "group"),
    "budget-lines": ("provider_ref", "unit_cost"),
    "ks4-results": (),
    "destinations": ("checked_on",),
    "contacts": (
        "relationship",
        "parental_responsibility",
        "lives_with",
        "organisation",
        "setting_ref",
        "phone",
        "email",
        "address",
        "contact_by",
        "preferences",
        "restriction",
        "audience",
    ),
}


def template(kind: str) -> str:
    """A file to fill in: the header row of every column a kind of file may have, the required
    ones first (as the import formats list them), in CSV."""
    if kind not in KINDS:
        raise DomainError(f"{kind!r} is not a kind of file the register imports")
    return ",".join((*REQUIRED[kind], *OPTIONAL[kind])) + "\r\n"


def refused_lines(report: ImportReport) -> str:
    """A refused file's problems as CSV (line, column, problem), to correct the file from."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["line", "column", "problem"])
    for problem in report.errors:
        writer.writerow([problem.line, problem.column, problem.message])
    return out.getvalue()


# A unique property reference number (the AP census's home information).
UPRN = re.compile(r"[1-9][0-9]{0,11}")
# Columns that may hold several lines of text (every other cell is one line).
MULTILINE_COLUMNS = frozenset(
    {
        "reason",
        "unregistered_override_reason",
        "reintegration_plan",
        "destination_plan",
        "notice_address",
        "notice_reasons",
        "home_address",
        "parent1_address",
        "parent2_address",
        "address",
        "preferences",
        "restriction",
    }
)
# A refused file reports its first problems by line, and how many there were in all: memory stays
# the same whatever the file holds.
MAX_PROBLEMS = 1000
# Values checked once and remembered (UPNs, dates) are forgotten past this many.
CACHE_LIMIT = 50_000
GIAS_REQUIRED = ("URN", "EstablishmentName", "LA (code)", "TypeOfEstablishment (code)", "EstablishmentStatus (name)")
BATCH = 500


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    kind: str
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    # Every problem found; `errors` keeps the first MAX_PROBLEMS of them.
    problems: int = 0
    # Set when the check stopped early (the line it stopped at): the count is then "at least".
    stopped_at: int | None = None
    # Children of other LAs a refused file named (audited for their LA once the file is refused).
    held_elsewhere: list[int] = field(default_factory=list)
    # What the register warns of on rows it took (as the pages and the API warn): the first
    # MAX_PROBLEMS of them.
    warnings: list[RowError] = field(default_factory=list)
    # A dry run: every row was checked and written, then all of it undone.
    dry_run: bool = False
    # Placements taken from the LA's old records (they started before its adoption date).
    old_records: int = 0
    # The adoption date this import set (the LA's first import), or None.
    adopted_on: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "imported": 0 if self.errors else self.imported,
            "updated": 0 if self.errors else self.updated,
            "unchanged": 0 if self.errors else self.unchanged,
            "skipped": self.skipped,
            "errors": [e.as_dict() for e in self.errors],
            "problems": self.problems,
            "stopped_at_line": self.stopped_at,
            "warnings": [] if self.errors else [w.as_dict() for w in self.warnings],
            "old_records": 0 if self.errors else self.old_records,
            "adopted_on": None if self.errors or self.adopted_on is None else self.adopted_on.isoformat(),
        }

    def add_error(self, error: RowError) -> None:
        self.problems += 1
        if len(self.errors) < MAX_PROBLEMS:
            self.errors.append(error)

    @property
    def full(self) -> bool:
        """As many problems as a report keeps: checking further would only count them."""
        return self.problems >= MAX_PROBLEMS

    def problems_text(self) -> str:
        """How many problems, in words: '3 problems', or 'at least 1000 problems'."""
        count = f"{self.problems:,} problem{'s' if self.problems != 1 else ''}"
        return f"at least {count}" if self.stopped_at is not None else count

    def summary(self) -> str:
        parts = [f"{self.imported} added", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        parts += [f"{n} skipped ({reason.replace('_', ' ')})" for reason, n in sorted(self.skipped.items())]
        if self.old_records:
            parts.append(f"{self.old_records} from the old records")
        return f"{self.kind}: " + ", ".join(parts)


class ImportRefused(DomainError):
    def __init__(self, report: ImportReport):
        super().__init__(f"The {report.kind} file was not imported: {report.problems_text()}")
        self.report = report


class CountingReader(io.RawIOBase):
    """Wraps a binary stream and reports how many bytes have been read (for progress bars)."""

    def __init__(self, raw: IO[bytes], callback: Callable[[int], None]):
        self.raw = raw
        self.callback = callback

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        if data:
            self.callback(len(data))
        return len(data)


def _open_text(stream: IO[bytes]) -> tuple[io.TextIOWrapper, str]:
    """Decode a CSV: UTF-8 (with or without a BOM), or Windows-1252 for a GIAS extract as DfE
    publishes it."""
    buffered = io.BufferedReader(
        stream if isinstance(stream, CountingReader) else CountingReader(stream, lambda n: None), buffer_size=65536
    )
    head = buffered.peek(65536)[:65536]
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        try:
            head.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as error:
            # A multi-byte character cut at the end of the peeked bytes is still UTF-8.
            encoding = "utf-8" if error.start >= len(head) - 3 else "cp1252"
    return io.TextIOWrapper(buffered, encoding=encoding, newline=""), encoding


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Records with the file line each starts on (a quoted field may span lines)."""
    start = reader.line_num + 1
    for record in reader:
        yield start, record
        start = reader.line_num + 1


@dataclass(frozen=True)
class _LaStandIn:
    """An LA as the first pass knows it (from the shipped reference data, not the database)."""

    code: str
    name: str
    id: None = None


class Importer:
    """One kind of import: checks a row and writes it, or records why it cannot.

    It runs twice over a file. The first pass is `dry`: no session, no database; each row's own
    values are checked by the same code as in the second pass, and every look-up of a record
    (a setting, a pupil, a plan) answers "not known yet" without a problem, so that `row()`
    stops at its guard before any write. The second pass checks against the register and writes.
    """

    kind = ""
    required: tuple[str, ...] = ()

    def __init__(
        self, session: Session | None, actor: Actor, report: ImportReport, la: Any, *, dry: bool = False
    ) -> None:
        self.dry = dry
        self.session = session  # type: ignore[assignment]
        self.actor = actor
        self.report = report
        self.la = la
        if dry or session is None:
            self.las: dict[str, Any] = {c: _LaStandIn(c, e.name) for c, e in english_la_codes().items()}
        else:
            self.las = {la.code: la for la in session.scalars(select(LocalAuthority))}
        self.line = 0
        self.last_read = 0  # the last line read from the file (an importer may read ahead of `line`)
        self.failed = False
        self._upns: dict[str, tuple[str | None, str | None]] = {}
        self._ahead = []

    # While set, problems are collected here instead of reported (`captured`).
    _sink: list[tuple[str, str]] | None = None

    def captured(self, check: Callable[..., Any]) -> Callable[..., tuple[Any, list[tuple[str, str]]]]:
        """`check` made to return (what it returns, the problems it found) instead of reporting
        them: the column-wise reading asks it once for each distinct value (`domain.columns`)."""

        def run(*args: Any) -> tuple[Any, list[tuple[str, str]]]:
            self._sink = found = []
            try:
                return check(*args), found
            finally:
                self._sink = None

        return run

    def error(self, column: str, message: str) -> None:
        if self._sink is not None:
            self._sink.append((column, message))
            return
        self.report.add_error(RowError(self.line, column, message))
        self.failed = True
        if self.report.full and self.report.stopped_at is None and not self.dry:
            # Checking against the register stops here (rows read ahead are not checked). The
            # first pass checks every row and counts every problem: it stops nowhere.
            self.report.stopped_at = self.line

    def warn(self, messages: list[str]) -> None:
        for message in messages:
            if len(self.report.warnings) < MAX_PROBLEMS:
                self.report.warnings.append(RowError(self.line, "", message))

    # Rows read ahead of their checks, so that `prepare` finds what they name in one query a
    # chunk (the cost follows the file, not the register); 0 checks each row as it is read.
    read_ahead_rows = 0
    # Whether a plain file is read a column at a time (`check_frame`, `domain.columns`).
    columnwise = False
    FRAME_ROWS = 10_000

    def prepare_frame(self, frame: Any) -> None:
        raise NotImplementedError

    def check_frame(self, frame: Any, lines: Any) -> tuple[Any, bool]:
        raise NotImplementedError

    def start_write(self, taken: Any) -> Any:
        raise NotImplementedError

    def end_write(self, pending: Any) -> None:
        raise NotImplementedError

    def abort_write(self, pending: Any, error: BaseException) -> None:
        raise NotImplementedError

    def finish_columns(self) -> None:
        raise NotImplementedError

    def handle(self, line: int, row: dict[str, str]) -> None:
        if self.read_ahead_rows and not self.dry:
            self.last_read = line
            self._ahead.append((line, row))
            if len(self._ahead) >= self.read_ahead_rows:
                self.handle_read_ahead()
            return
        self.line = self.last_read = line
        self.failed = False
        self.row(row)

    _ahead: list[tuple[int, dict[str, str]]]

    def handle_read_ahead(self) -> None:
        rows, self._ahead = self._ahead, []
        if not rows:
            return
        self.prepare([row for _, row in rows])
        for line, row in rows:
            self.line = line
            self.failed = False
            self.row(row)
            if self.report.full:
                return

    def prepare(self, rows: list[dict[str, str]]) -> None:
        """Read what a chunk of rows names, before they are checked (with `read_ahead_rows`)."""

    def upns_in(self, rows: list[dict[str, str]]) -> set[str]:
        """The valid UPNs a chunk of rows names (a bad one is named by its row's own check)."""
        found = set()
        for row in rows:
            raw = (row.get("upn") or "").strip()
            upn = self.checked_upn(raw)[0] if raw and len(raw) <= 20 else None
            if upn is not None:
                found.add(upn)
        return found

    def row(self, row: dict[str, str]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Checks that need the whole file (an importer that overrides it calls this first)."""
        self.handle_read_ahead()

    # --- reading values ---
    def text(self, row: dict[str, str], column: str, required: bool = False, max_length: int = 200) -> str | None:
        value = (row.get(column) or "").strip()
        if not value:
            if required:
                self.error(column, f"{column} is required")
            return None
        if len(value) > max_length:
            self.error(column, f"{column} must be {max_length} characters or fewer")
            return None
        problem = control_character_problem(value, multiline=column in MULTILINE_COLUMNS)
        if problem:
            self.error(column, f"{column} {problem}")
            return None
        return value

    def day(
        self, row: dict[str, str], column: str, required: bool = False, formats: tuple[str, ...] = ("%Y-%m-%d",)
    ) -> date | None:
        value = self.text(row, column, required)
        if value is None:
            return None
        for fmt in formats:
            try:
                found = datetime.strptime(value, fmt).date()
            except ValueError:
                continue
            if not year_in_range(found.year):  # the years a page and the API take too (domain/typed.py)
                self.error(column, f"{value!r} is not a date from {FIRST_YEAR} to {LAST_YEAR}")
                return None
            return found
        self.error(column, f"{value!r} is not a date in the form YYYY-MM-DD")
        return None

    def choice(
        self, row: dict[str, str], column: str, enum: Any, required: bool = False, among: Sequence[Any] | None = None
    ) -> Any:
        """A value of `enum` (of those `among` it, when given)."""
        value = self.text(row, column, required)
        if value is None:
            return None
        allowed = list(among if among is not None else enum)
        found = next((m for m in allowed if m.value == value), None)
        if found is None:
            self.error(column, f"{value!r} is not one of: {', '.join(m.value for m in allowed)}")
        return found

    def flag(self, row: dict[str, str], column: str) -> bool:
        value = (row.get(column) or "").strip().upper()
        if value in ("", "N", "NO", "FALSE", "0"):
            return False
        if value in ("Y", "YES", "TRUE", "1"):
            return True
        self.error(column, f"{value!r} is not Y or N")
        return False

    def local_authority(self, row: dict[str, str], column: str) -> LocalAuthority | None:
        code = self.text(row, column, required=True)
        if code is None:
            return None
        found = self.las.get(code)
        if found is None:
            self.error(column, f"{code} is not a DfE LA code")
            return None
        if self.la is not None and found.code != self.la.code:
            self.error(column, f"This import is for LA {self.la.code}; this row is for {code}")
            return None
        return found

    # --- finding records ---
    _settings: dict[tuple[int, str], Setting] | None = None
    _pupils: dict[str, Pupil] | None = None

    def setting_by_ref(self, la: LocalAuthority, ref: str) -> Setting | None:
        if self.dry:
            return None
        return self.load_settings().get((la.id, ref))

    def load_settings(self) -> dict[tuple[int, str], Setting]:
        """Every setting by (LA, reference) and (LA, URN), read once an import."""
        if self._settings is None:
            self._settings = {(s.la_id, s.ref): s for s in self.session.scalars(select(Setting))}
            for s in list(self._settings.values()):
                if s.urn:
                    self._settings.setdefault((s.la_id, s.urn), s)
        return self._settings

    def remember_setting(self, setting: Setting) -> None:
        if self._settings is not None:
            self._settings[(setting.la_id, setting.ref)] = setting

    def pupil_by_upn(self, upn: str) -> Pupil | None:
        """The pupil with this UPN among those this import may act on: the actor's own (through
        the one scope of permissions.py) and, when the import is for an LA, that LA's children.
        Anyone else's child is not found, exactly as a UPN nobody holds."""
        if self.dry:
            return None
        if self._pupils is None:
            self._pupils = {p.upn: p for p in self.session.scalars(self.own_pupils(select(Pupil)))}
        return self._pupils.get(upn)

    def own_pupils(self, stmt: Any) -> Any:
        """A query over Pupil narrowed to the children this import may act on."""
        stmt = permissions.scope_pupils(self.actor, stmt)
        return stmt.where(Pupil.home_la_id == self.la.id) if self.la is not None else stmt

    def no_such_pupil(self, upn: str) -> None:
        where = f"LA {self.la.code}'s pupils" if self.la is not None else "the register"
        self.error("upn", f"No pupil with UPN {upn} among {where}: import them in a pupils file first")

    def checked_upn(self, raw: str) -> tuple[str | None, str | None]:
        """(the UPN, None) or (None, the problem) for a UPN as written; each is checked once."""
        if raw not in self._upns:
            if len(self._upns) >= CACHE_LIMIT:
                self._upns.clear()  # a cache, not a record: a file of junk must not grow it for ever
            checked = check_upn(raw)
            self._upns[raw] = (checked.upn, None) if checked.valid else (None, checked.message or "Not a valid UPN")
        return self._upns[raw]

    def upn_of(self, row: dict[str, str]) -> str | None:
        raw = self.text(row, "upn", required=True, max_length=20)
        if raw is None:
            return None
        upn, problem = self.checked_upn(raw)
        if upn is None:
            self.error("upn", problem or "Not a valid UPN")
        return upn

    def pupil_for(self, row: dict[str, str]) -> Pupil | None:
        """The row's pupil, if this import may act on them. One message for a UPN nobody holds
        and for another LA's child, so that a file cannot be used to learn which UPNs exist."""
        upn = self.upn_of(row)
        if upn is None:
            return None
        found = self.pupil_by_upn(upn)
        if found is None and not self.dry:
            self.no_such_pupil(upn)
        return found

    def setting_for(self, row: dict[str, str], column: str, pupil: Pupil | None) -> Setting | None:
        return self.setting_in(row, column, self.la or (pupil.home_la if pupil is not None else None))

    def setting_in(self, row: dict[str, str], column: str, la: LocalAuthority | None) -> Setting | None:
        ref = self.text(row, column, required=True, max_length=20)
        if ref is None or la is None:
            return None
        found = self.setting_by_ref(la, ref)
        if found is None and not self.dry:
            self.error(column, f"No setting with reference {ref} in {la.name}")
        return found

    def apply_domain_error(self, error: DomainError, columns: dict[str, str]) -> None:
        for problem in error.errors:
            self.error(columns.get(problem.field, problem.field), problem.message)

    def unknown(self, found: Any) -> bool:
        """Whether a look-up found nothing in the second pass (the first pass knows no records)."""
        return found is None and not self.dry

    def flush_now_and_then(self) -> None:
        if (self.report.imported + self.report.updated) % BATCH == 0:
            self.session.flush()


# --- settings, and GIAS extracts -------------------------------------------------------------


GIAS_PHASES = {
    "Primary": "primary",
    "Middle deemed primary": "primary",
    "Secondary": "secondary",
    "Middle deemed secondary": "secondary",
    "All-through": "all_through",
    "16 plus": "sixteen_plus",
    "Nursery": "nursery",
}
PHASES = ("primary", "secondary", "all_through", "sixteen_plus", "nursery")


def gias_kind(type_code: int, group_name: str) -> SettingKind | None:
    """A GIAS establishment type as a setting kind, or None for what is not a school or college."""
    if type_code == 14:
        return SettingKind.PRU
    if type_code == 38:
        return SettingKind.AP_FREE_SCHOOL
    if type_code in (42, 43):
        return SettingKind.AP_ACADEMY
    if group_name == "Special schools" or type_code in (33, 36, 44):
        return SettingKind.SPECIAL
    if type_code in (18, 31, 32, 39, 45, 46, 57) or group_name == "Colleges":
        return SettingKind.POST16
    if type_code in (1, 2, 3, 5, 6, 11, 15, 28, 34, 35, 40, 41):
        return SettingKind.MAINSTREAM
    return None


class SettingsImporter(Importer):
    kind = "settings"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.seen: dict[tuple[str, str], int] = {}
        self.urns: dict[str, int] = {}
        self.gias = False

    def upsert(self, la: LocalAuthority, ref: str, values: dict[str, Any]) -> None:
        key = (la.code, ref)
        if key in self.seen:
            self.error("ref", f"Setting {ref} in LA {la.code} is also on line {self.seen[key]}")
            return
        self.seen[key] = self.line
        urn = values.get("urn")
        if urn:
            if urn in self.urns:
                self.error("urn", f"URN {urn} is also on line {self.urns[urn]}")
                return
            self.urns[urn] = self.line
            holder = self.session.scalar(select(Setting).where(Setting.urn == urn))
            if holder is not None and (holder.la_id, holder.ref) != (la.id, ref):
                self.error("urn", f"URN {urn} already belongs to {holder.name}")
                return
        if self.failed:
            return
        existing = self.setting_by_ref(la, ref)
        if existing is None:
            created = Setting(la_id=la.id, ref=ref, **values)
            self.session.add(created)
            self.remember_setting(created)
            self.report.imported += 1
        else:
            if existing.kind_set_by_admin:
                values = {k: v for k, v in values.items() if k != "kind"}
            changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
            for name, value in changed.items():
                setattr(existing, name, value)
            if changed:
                self.report.updated += 1
            else:
                self.report.unchanged += 1
        self.flush_now_and_then()

    def row(self, row: dict[str, str]) -> None:
        if self.gias:
            self.gias_row(row)
            return
        la = self.local_authority(row, "la_code")
        ref = self.text(row, "ref", required=True, max_length=20)
        name = self.text(row, "name", required=True)
        kind = self.choice(row, "kind", SettingKind, required=True)
        urn = self.text(row, "urn", max_length=6)
        ukprn = self.text(row, "ukprn", max_length=8)
        postcode = self.text(row, "postcode", max_length=10)
        phase = self.text(row, "phase", max_length=20)
        if phase is not None and phase not in PHASES:
            self.error("phase", f"{phase!r} is not one of: {', '.join(PHASES)}")
        if urn is not None and not (len(urn) == 6 and urn.isdigit()):
            self.error("urn", "A URN is 6 digits")
        if ukprn is not None and not (len(ukprn) == 8 and ukprn.isdigit()):
            self.error("ukprn", "A UKPRN is 8 digits")
        if kind == SettingKind.UNREGISTERED_AP and urn:
            self.error("urn", "An unregistered provider has no URN")
        district = self.text(row, "district", max_length=100)
        on_roll = self.text(row, "pupils_on_roll", max_length=6)
        if on_roll is not None and not on_roll.isdigit():
            self.error("pupils_on_roll", f"{on_roll!r} is not a whole number of pupils")
        if self.failed or la is None or ref is None or self.dry:
            return
        self.upsert(
            la,
            ref,
            {
                "name": name,
                "kind": kind,
                "urn": urn,
                "ukprn": ukprn,
                "postcode": postcode.upper() if postcode else None,
                "phase": phase,
                "pupils_on_roll": int(on_roll) if on_roll else None,
                **({"district": district} if "district" in row else {}),
            },
        )

    def gias_row(self, row: dict[str, str]) -> None:
        status = (row.get("EstablishmentStatus (name)") or "").strip()
        la_code = (row.get("LA (code)") or "").strip()
        if status == "Closed":
            self.skip("closed")
            return
        if la_code not in english_la_codes() or la_code not in self.las:
            self.skip("outside_english_las")
            return
        la = self.las[la_code]
        if self.la is not None and la.code != self.la.code:
            self.skip("other_las")
            return
        urn = self.text(row, "URN", required=True, max_length=6)
        name = self.text(row, "EstablishmentName", required=True)
        raw_type = (row.get("TypeOfEstablishment (code)") or "").strip()
        if not raw_type.isdigit():
            self.error("TypeOfEstablishment (code)", f"{raw_type!r} is not an establishment type code")
            return
        type_code = int(raw_type)
        known = gias_establishment_types().get(type_code)
        group = (row.get("EstablishmentTypeGroup (name)") or (known.group_name if known else "")).strip()
        kind = gias_kind(type_code, group)
        if kind is None:
            self.skip("not_a_school_or_college")
            return
        if urn is not None and not (len(urn) == 6 and urn.isdigit()):
            self.error("URN", "A URN is 6 digits")
        ukprn = (row.get("UKPRN") or "").strip() or None
        if ukprn is not None and not (len(ukprn) == 8 and ukprn.isdigit()):
            ukprn = None  # GIAS holds some placeholder UKPRNs; a missing one is not an error
        postcode = (row.get("Postcode") or "").strip().upper() or None
        # GIAS leaves NumberOfPupils blank where it has no census figure.
        on_roll = (row.get("NumberOfPupils") or "").strip()
        # Where it is on the British National Grid, in metres (blank for some establishments).
        easting, northing = (grid.metres(row.get(column)) for column in ("Easting", "Northing"))
        if self.failed or urn is None or self.dry:
            return
        self.upsert(
            la,
            urn,
            {
                "name": name,
                "kind": kind,
                "urn": urn,
                "ukprn": ukprn,
                "postcode": postcode,
                "gias_type_code": type_code,
                "phase": GIAS_PHASES.get((row.get("PhaseOfEducation (name)") or "").strip()),
                "pupils_on_roll": int(on_roll) if on_roll.isdigit() else None,
                "easting": easting,
                "northing": northing,
                "open": True,
                # An extract without the column leaves the district as held.
                **(
                    {"district": (row.get("DistrictAdministrative (name)") or "").strip()[:100] or None}
                    if "DistrictAdministrative (name)" in row
                    else {}
                ),
            },
        )

    def skip(self, reason: str) -> None:
        self.report.skipped[reason] = self.report.skipped.get(reason, 0) + 1


# --- pupils ----------------------------------------------------------------------------------


ADMITTED_FROM_IMPORT = "On the roll in an imported pupils file (admission date not given)"


class PupilsImporter(Importer):
    kind = "pupils"
    read_ahead_rows = BATCH

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.seen: dict[str, int] = {}
        self.today = clock.today()
        self.holders: dict[str, tuple[int, int]] = {}
        # New children are written a chunk at a time, in one statement a table.
        self.new = NewPupils(self.actor)

    def prepare(self, rows: list[dict[str, str]]) -> None:
        """Who holds each UPN of the chunk, in one query (for `save_pupil`'s refusal)."""
        self.holders = holders_of(self.session, self.upns_in(rows))

    def handle_read_ahead(self) -> None:
        super().handle_read_ahead()
        if self.report.errors:  # a refused file is rolled back: nothing more to write or keep
            self.new = NewPupils(self.actor)
        else:
            self.new.write(self.session)

    def row(self, row: dict[str, str]) -> None:
        raw = self.text(row, "upn", required=True, max_length=20)
        upn = None
        if raw is not None:
            checked = check_upn(raw)
            if not checked.valid:
                self.error("upn", checked.message or "Not a valid UPN")
            elif checked.upn in self.seen:
                self.error("upn", f"UPN {checked.upn} is also on line {self.seen[checked.upn]}")
            else:
                upn = checked.upn
                self.seen[upn] = self.line
        first = self.text(row, "first_name", required=True, max_length=100)
        last = self.text(row, "last_name", required=True, max_length=100)
        born = self.day(row, "date_of_birth", required=True)
        if born is not None and not (2 <= (self.today - born).days / 365.25 <= 25):
            self.error("date_of_birth", f"{born.isoformat()} gives an age outside 2 to 25")
        la = self.local_authority(row, "home_la_code")
        sen = SenStatus.NONE
        if (row.get("sen_status") or "").strip():
            sen = self.choice(row, "sen_status", SenStatus) or SenStatus.NONE
        need = self.text(row, "primary_need", max_length=8)
        if need is not None and need.upper() not in PRIMARY_NEEDS:
            self.error(
                "primary_need", f"{need!r} is not a school census primary need code ({', '.join(PRIMARY_NEEDS)})"
            )
        flags = {name: self.flag(row, name) for name in ("child_in_need", "looked_after", "ehc_assessment_requested")}
        exams_over_on = self.day(row, "exams_over_on")
        contact = self.contact(row)
        census = self.census(row)
        school = None
        school_ref = self.text(row, "home_school_ref", max_length=20)
        if school_ref is not None and la is not None:
            school = self.setting_by_ref(la, school_ref)
            if self.unknown(school):
                self.error("home_school_ref", f"No setting with reference {school_ref} in {la.name}")
            elif school is not None and school.kind not in HOME_SCHOOL_KINDS:
                self.error("home_school_ref", f"{school.name} has no admission register a pupil can be on")
        if self.failed or upn is None or la is None or self.dry:
            return
        kept = frozenset(contact.pop("kept", frozenset()) | census.pop("kept", frozenset()))
        details = PupilDetails(
            upn=upn,
            first_name=first or "",
            last_name=last or "",
            date_of_birth=born,  # type: ignore[arg-type]
            sen_status=sen,
            primary_need=need.upper() if need else None,
            exams_over_on=exams_over_on,
            **contact,
            **census,
            kept=kept,
            **flags,
        )
        existing = self.pupil_by_upn(upn)
        try:
            outcome, pupil = save_pupil(
                self.session, self.actor, la, details, existing=existing, holders=self.holders, into=self.new
            )
        except DomainError as error:
            if isinstance(error, HeldElsewhere):
                self.report.held_elsewhere.append(error.pupil_id)
            self.apply_domain_error(error, {})
            return
        if pupil is None:  # added, and written with the rest of the chunk
            self.report.imported += 1
            if school is not None:
                admit_new_pupil(self.session, self.actor, upn, self.today, school, ADMITTED_FROM_IMPORT, into=self.new)
            return
        if outcome == "updated" or (school is not None and pupil.home_school_id != school.id):
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        if school is not None and pupil.home_school_id != school.id:
            record_roll_movement(
                self.session, self.actor, pupil, MovementKind.ADMITTED, self.today, school, reason=ADMITTED_FROM_IMPORT
            )
        self.flush_now_and_then()

    def contact(self, row: dict[str, str]) -> dict[str, Any]:
        """The child's home address and parents, from the columns the file has: a column the
        file lacks keeps what is held. A parent named is added to the child's contacts, or given
        the address the file has; a parent the file leaves out stays (casework/contacts.py)."""
        values: dict[str, Any] = {}
        if "home_address" in row:
            values["home_address"] = self.text(row, "home_address", max_length=400)
        if "home_postcode" in row:
            postcode = self.text(row, "home_postcode", max_length=10)
            values["home_postcode"] = postcode.upper() if postcode else None
        if any(column.startswith("parent") for column in CONTACT_COLUMNS if column in row):
            parents = []
            for n in (1, 2):
                name = self.text(row, f"parent{n}_name", max_length=200)
                address = self.text(row, f"parent{n}_address", max_length=400)
                if address is not None and name is None:
                    self.error(f"parent{n}_address", f"parent{n}_address is given without parent{n}_name")
                if name is not None:
                    parents.append((name, address))
            values["parents"] = parents or None
        return {**values, "kept": CONTACT_FIELDS - set(values)}

    def census(self, row: dict[str, str]) -> dict[str, Any]:
        """What the AP census asks of the child, from the columns the file has: a column the
        file lacks keeps what is held."""
        values: dict[str, Any] = {}
        if "sex" in row:
            sex = self.text(row, "sex", max_length=20)
            if sex is not None and sex.upper() not in SEXES:
                codes = ", ".join(f"{code} ({label})" for code, label in SEXES.items())
                self.error("sex", f"{sex!r} is not one of: {codes}")
            values["sex"] = sex.upper() if sex else None
        if "ethnicity" in row:
            ethnicity = self.text(row, "ethnicity", max_length=20)
            if ethnicity is not None and ethnicity.upper() not in ETHNICITIES:
                self.error(
                    "ethnicity",
                    f"{ethnicity!r} is not one of the DfE's main ethnicity codes ({', '.join(ETHNICITIES)})",
                )
            values["ethnicity"] = ethnicity.upper() if ethnicity else None
        if "fsm_start_date" in row:
            values["fsm_start"] = self.day(row, "fsm_start_date")
        if "fsm_end_date" in row:
            values["fsm_end"] = self.day(row, "fsm_end_date")
        start, end = values.get("fsm_start"), values.get("fsm_end")
        if end is not None and start is None and "fsm_start_date" in row:
            self.error("fsm_end_date", "fsm_end_date is given without fsm_start_date")
        elif start is not None and end is not None and end < start:
            self.error("fsm_end_date", "fsm_end_date is before fsm_start_date")
        if "uprn" in row:
            uprn = self.text(row, "uprn", max_length=20)
            if uprn is not None and not UPRN.fullmatch(uprn):
                self.error("uprn", f"{uprn!r} is not a unique property reference number (1 to 12 digits)")
            values["uprn"] = uprn
        return {**values, "kept": CENSUS_FIELDS - set(values)}


# --- placements ------------------------------------------------------------------------------

PLACEMENT_COLUMNS = {
    "setting": "setting_ref",
    "commissioner": "commissioner_ref",
    "agreed_cost": "setting_ref",
    "spot_purchase": "setting_ref",
}


class PlacementsImporter(Importer):
    kind = "placements"
    # A chunk's children are read at once (`placements.reads.ChunkReads`): their ledgers held,
    # their placements and roll read in one query each, the plan's places counted on as rows go.
    read_ahead_rows = 500
    reads: Reads | None = None

    def prepare(self, rows: list[dict[str, str]]) -> None:
        found = (self.pupil_by_upn(upn) for upn in self.upns_in(rows))
        self.reads = ChunkReads(self.session, self.actor, [p for p in found if p is not None])

    def row(self, row: dict[str, str]) -> None:
        pupil = self.pupil_for(row)
        setting = self.setting_for(row, "setting_ref", pupil)
        route = self.choice(row, "route", Route, required=True)
        registration = self.choice(row, "registration", Registration, required=True)
        tier = self.choice(row, "tier", Tier)
        sessions = self.text(row, "sessions", required=True, max_length=10)
        if sessions is not None and week_pattern.problem(sessions):
            self.error("sessions", week_pattern.problem(sessions) or "")
        start = self.day(row, "start_date", required=True)
        planned_end = self.day(row, "planned_end_date")
        end = self.day(row, "end_date")
        notice = self.day(row, "notice_date")
        last_review = self.day(row, "last_review_date")
        destination = self.choice(row, "destination", Destination)
        if end is not None and destination is None:
            self.error("destination", "An ended placement needs its destination")
        if destination is not None and end is None:
            self.error("end_date", "A destination is given without an end date")
        commissioner = self.commissioner(row, pupil)
        census = self.text(row, "census_reason", max_length=30)
        if census is not None and census not in CENSUS_REASONS:
            self.error("census_reason", f"{census!r} is not one of: {', '.join(CENSUS_REASONS)}")
        parent_agreed_on = self.day(row, "parent_agreed_on")
        purpose = self.text(row, "part_time_purpose", max_length=20)
        if purpose is not None and purpose not in PART_TIME_PURPOSES:
            self.error("part_time_purpose", f"{purpose!r} is not one of: {', '.join(PART_TIME_PURPOSES)}")
        plans = {
            column: self.text(row, column, max_length=2000)
            for column in ("reason", "reintegration_plan", "destination_plan", "unregistered_override_reason")
        }
        # An off-site direction's written notice (SI 2010/1156 reg 3(4)).
        notice_texts = {
            column: self.text(row, column, max_length=400)
            for column in ("notice_address", "notice_report_to", "notice_session_times")
        }
        notice_texts["notice_reasons"] = self.text(row, "notice_reasons", max_length=4000)
        la_notice_date = self.day(row, "la_notice_date")
        if self.failed or pupil is None or setting is None or start is None or sessions is None:
            return
        assert route is not None and registration is not None
        draft = PlacementDraft(
            setting_id=setting.id,
            route=route,
            registration=registration,
            tier=tier,
            sessions=sessions,
            start_date=start,
            planned_end_date=planned_end,
            notice_date=notice,
            last_review_date=last_review,
            parent_agreed_on=parent_agreed_on,
            part_time_purpose=purpose,
            la_notice_date=la_notice_date,
            **plans,
            **notice_texts,
            **commissioner,
        )
        reads = self.reads or Reads(self.session)
        existing = same_placement(self.session, pupil, draft, open_only=False, reads=reads)
        try:
            if existing is None:
                recorded = placements.record_placement(
                    self.session,
                    self.actor,
                    placements.RecordPlacement(pupil.id, draft, census_reason=census),
                    reads=reads,
                )
                placement = recorded.placement
                self.warn(recorded.warnings)
                self.report.imported += 1
                self.report.old_records += placement.from_old_records
            else:
                placement = existing
                if census is not None and placement.census_reason != census:
                    set_census_reason(self.session, self.actor, placement, census)
            noticed = existing is not None and self.notice(placement, draft)
            if end is not None and placement.end_date is None:
                assert destination is not None
                reads.forget(pupil)  # an end changes the child's roll and the places in use
                placements.end(self.session, self.actor, placements.EndPlacement(placement.id, end, destination))
                if existing is not None:
                    self.report.updated += 1
            elif noticed:
                self.report.updated += 1
            elif existing is not None:
                self.report.unchanged += 1
        except DomainError as error:
            self.apply_domain_error(error, PLACEMENT_COLUMNS)

    def notice(self, placement: Placement, draft: PlacementDraft) -> bool:
        """A file that names an off-site direction already recorded, with its written notice's
        columns: the notice is recorded as on its page (cells left blank keep what is there).
        Whether it changed."""
        if placement.route != Route.OFF_SITE_DIRECTION or placement.end_date is not None:
            return False
        given, held = contents_of(draft), placement.notice_contents
        merged = NoticeContents(
            **{name: getattr(given, name) or getattr(held, name) for name in NoticeContents.__dataclass_fields__}
        )
        if merged == held:
            return False
        placements.record_notice(self.session, self.actor, placements.RecordNotice(placement.id, merged))
        return True

    def commissioner(self, row: dict[str, str], pupil: Pupil | None) -> dict[str, int | None]:
        ref = self.text(row, "commissioner_ref", max_length=20)
        if ref is None:
            return {}  # the register's rule names the commissioner (placements.rules.commissioner_for)
        if len(ref) == 3 and ref.isdigit():
            la = self.las.get(ref)
            if la is None:
                self.error("commissioner_ref", f"{ref} is not a DfE LA code")
                return {}
            return {"commissioner_la_id": la.id}
        la = self.la or (pupil.home_la if pupil is not None else None)
        found = self.setting_by_ref(la, ref) if la is not None else None
        if found is None:
            if not self.dry:
                self.error("commissioner_ref", f"No LA or setting with reference {ref}")
            return {}
        return {"commissioner_setting_id": found.id}


# --- movements -------------------------------------------------------------------------------


class MovementsImporter(Importer):
    kind = "movements"

    def row(self, row: dict[str, str]) -> None:
        pupil = self.pupil_for(row)
        setting = self.setting_for(row, "setting_ref", pupil)
        when = self.day(row, "date", required=True)
        kind = self.choice(row, "kind", MovementKind, required=True, among=ROLL_MOVEMENT_KINDS)
        days_text = self.text(row, "days", max_length=3)
        days = None
        if days_text is not None:
            if days_text.isdigit():
                days = int(days_text)
            else:
                self.error("days", f"{days_text!r} is not a whole number of school days")
        reason = self.text(row, "reason", max_length=2000)
        if self.failed or pupil is None or setting is None or when is None or kind is None:
            return
        duplicate = self.session.scalar(
            select(Movement.id).where(
                Movement.pupil_id == pupil.id,
                Movement.kind == kind,
                Movement.date == when,
                Movement.setting_id == setting.id,
            )
        )
        if duplicate is not None:
            self.report.unchanged += 1
            return
        try:
            placements.record_movement(
                self.session,
                self.actor,
                placements.RecordMovement(pupil.id, kind, when, setting.id, days=days, reason=reason),
            )
        except DomainError as error:
            self.apply_domain_error(error, {"setting": "setting_ref"})
        else:
            self.report.imported += 1


# --- attendance ------------------------------------------------------------------------------


AUDITED_MARKS = 200  # the marks an audit event lists for one child; the rest are counted


@cache
def _mark_codes() -> tuple[str, ...]:
    return tuple(sorted(attendance_codes()))


def packed_mark(setting_id: int, ordinal: int, half: str, code: str) -> int:
    """A mark as one number, as a child's audit event keeps it until the event is made: the
    setting, the day (`date.toordinal`), the session and the code."""
    return setting_id << 32 | ordinal << 8 | (half == "PM") << 7 | _mark_codes().index(code)


@dataclass(slots=True)
class ChangedMarks:
    """A file's marks for one child as their audit event shows them: each mark as the register
    page's own event has it (setting, date, session, code), the first 200 the file holds, and
    how many there were from which day to which."""

    count: int = 0
    first: date | None = None
    last: date | None = None
    # Each mark as one number (`packed_mark`), 8 bytes, not the event's dict (about 300), until
    # the event is made: a file of millions of marks names hundreds of thousands of children.
    listed: array[int] = field(default_factory=lambda: array("q"))

    def add(self, setting_id: int, day: date, half: str, code: str) -> None:
        self.count += 1
        self.first = day if self.first is None else min(self.first, day)
        self.last = day if self.last is None else max(self.last, day)
        if len(self.listed) < AUDITED_MARKS:
            self.listed.append(packed_mark(setting_id, day.toordinal(), half, code))

    def add_many(self, count: int, first: date, last: date, marks: Sequence[int]) -> None:
        """`count` marks from `first` to `last`, the first of them `marks` (packed, in the file's order)."""
        self.count += count
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        self.listed.extend(marks[: AUDITED_MARKS - len(self.listed)])

    def detail(self) -> dict[str, Any]:
        assert self.first is not None and self.last is not None
        codes = _mark_codes()
        return {
            "marks": self.count,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "listed": [
                {
                    "setting_id": mark >> 32,
                    "date": date.fromordinal(mark >> 8 & 0xFFFFFF).isoformat(),
                    "session": "PM" if mark >> 7 & 1 else "AM",
                    "code": codes[mark & 0x7F],
                }
                for mark in self.listed
            ],
        }


class AttendanceImporter(Importer):
    """Registers in bulk: rows are checked one by one (every problem named by line), and written
    in chunks: the marks already held for a chunk are read in one query, new ones go in with COPY
    on PostgreSQL (inside the import's savepoint: still all or nothing), changed ones are updated
    in one statement."""

    kind = "attendance"
    columnwise = True
    CHUNK = 5_000
    read_ahead_rows = CHUNK

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.seen: dict[tuple[int, int, date, str], int] = {}
        self.codes = attendance_codes()
        self.today = clock.today()
        self.pending: list[tuple[int, int, date, str, str]] = []
        # UPN -> (pupil id, home LA id, school of main registration), as read; a pupil's placements
        self.people: dict[str, tuple[int, int, int | None] | None] = {}
        self.bookings: dict[int, list[Booking]] = {}
        self.rolls: dict[int, list[RollMovement]] = {}  # a pupil's roll movements, for the roll on a day
        self.readings: dict[int, RollReading] = {}
        self.las_by_id = {la.id: la for la in self.las.values()}
        self.dates: dict[str, date | None] = {}
        # What the file changed on each child's record (a count, the first and last day, and the
        # first marks as (setting, day, session, code)): bounded per child, whatever the file's size.
        self.changed: dict[int, ChangedMarks] = {}

    def person(self, row: dict[str, str]) -> tuple[int, int, int | None] | None:
        upn = self.upn_of(row)
        if upn is None:
            return None
        person = self.people.get(upn)
        if person is None and not self.dry:
            self.no_such_pupil(upn)
        return person

    def prepare(self, rows: list[dict[str, str]]) -> None:
        """The chunk's pupils, their placements and roll movements, in a few queries (the cost
        follows the file, not the size of the register)."""
        wanted = {upn for upn in self.upns_in(rows) if upn not in self.people}
        new_ids: list[int] = []
        # Each list as one parameter (`bulk.among`): one statement and one plan, whatever the count.
        if wanted:
            for upn, pupil_id, la_id, school_id in self.session.execute(
                self.own_pupils(select(Pupil.upn, Pupil.id, Pupil.home_la_id, Pupil.home_school_id)).where(
                    among(self.session, Pupil.upn, sorted(wanted))
                )
            ):
                self.people[upn] = (pupil_id, la_id, school_id)
                self.bookings[pupil_id] = []
                new_ids.append(pupil_id)
        if new_ids:
            for pupil_id, *booking in self.session.execute(
                select(
                    Placement.pupil_id,
                    Placement.setting_id,
                    Placement.start_date,
                    Placement.end_date,
                    Placement.sessions,
                ).where(among(self.session, Placement.pupil_id, new_ids))
            ):
                self.bookings[pupil_id].append(Booking(*booking))
            self.rolls.update(roll_movements(self.session, new_ids))
        for upn in wanted:
            self.people.setdefault(upn, None)

    def when(self, row: dict[str, str]) -> date | None:
        value = (row.get("date") or "").strip()
        if value not in self.dates:
            if len(self.dates) >= CACHE_LIMIT:
                self.dates.clear()
            self.dates[value] = self.day(row, "date", required=True)
            return self.dates[value]
        if self.dates[value] is None:
            self.day(row, "date", required=True)  # the same problem, named on this line too
        return self.dates[value]

    def row(self, row: dict[str, str]) -> None:
        person = self.person(row)
        home_la = self.las_by_id.get(person[1]) if person is not None else None
        setting = self.setting_in(row, "setting_ref", self.la or home_la)
        when = self.when(row)
        session_name = (self.text(row, "session", required=True, max_length=10) or "").upper()
        code = self.text(row, "code", required=True, max_length=2)
        code = code.upper() if code is not None else None
        # The same rules as the register page and the API (`coverage.attendance`), line by line.
        if when is not None and session_name:
            calendar = calendar_for(self.session, setting.la) if setting is not None else None
            for problem in session_problems(when, session_name, self.today, calendar):
                self.error(problem.field, problem.message)
        if code is not None:
            problem_text = code_problem(code, when, session_name or None)
            if problem_text is not None:
                self.error("code", problem_text)
        if self.failed or person is None or setting is None or when is None or code is None:
            return
        roll = self.reading_of(person[0]).on(when, person[2])
        if not expected_at(setting.id, roll, when, session_name, self.bookings.get(person[0], [])):
            self.error("upn", "This pupil is not expected here for this session")
            return
        key = (person[0], setting.id, when, session_name)
        if key in self.seen:
            self.error("session", f"This session is also on line {self.seen[key]}")
            return
        self.seen[key] = self.line
        self.pending.append((*key, code))
        if len(self.pending) >= self.CHUNK:
            self.write_pending()

    def finish(self) -> None:
        super().finish()
        self.write_pending()
        self.audit_changes()

    def audit_changes(self) -> None:
        """One audit event for each child whose marks the file changed, once it is taken."""
        if not self.report.errors and not self.dry:
            audit.record_many(
                self.session,
                self.actor,
                "record_attendance",
                "attendance_mark",
                ((pupil_id, marks.detail()) for pupil_id, marks in self.changed.items()),
            )

    def write_pending(self) -> None:
        rows, self.pending = self.pending, []
        if not rows or self.report.errors:
            return  # a refused file writes nothing: no need to write what would be rolled back
        held: dict[tuple[int, int, date, str], tuple[int, str]] = {}
        pupil_ids = sorted({r[0] for r in rows})
        first, last = min(r[2] for r in rows), max(r[2] for r in rows)
        for mark_id, pupil_id, setting_id, day, half, code in marks_between(self.session, pupil_ids, first, last):
            held[(pupil_id, setting_id, day, half)] = (mark_id, code)
        now = utcnow()
        new: list[tuple[Any, ...]] = []
        changed: list[dict[str, Any]] = []
        for pupil_id, setting_id, day, half, code in rows:
            existing = held.get((pupil_id, setting_id, day, half))
            if existing is None:
                new.append((pupil_id, setting_id, day, half, code, self.actor.user_id, now))
            elif existing[1] != code:
                changed.append({"id": existing[0], "code": code, "recorded_by_id": self.actor.user_id})
            else:
                self.report.unchanged += 1
                continue
            self.changed.setdefault(pupil_id, ChangedMarks()).add(setting_id, day, half, code)
        self.session.flush()
        Writer(self.session.connection()).write(
            "attendance_mark",
            ("pupil_id", "setting_id", "date", "session", "code", "recorded_by_id", "recorded_at"),
            new,
        )
        if changed:
            self.session.execute(update(AttendanceMark), changed)
        self.report.imported += len(new)
        self.report.updated += len(changed)

    # --- the same checks a column at a time (`domain.columns`) ---

    # The file-wide key of a session (pupil, setting, day, half) packs each in these bits.
    PUPIL_BITS, SETTING_BITS, DAY_BITS = 25, 20, 17
    FIRST_DAY = date(FIRST_YEAR, 1, 1).toordinal()

    def prepare_frame(self, frame: Any) -> None:
        """What a chunk's check reads from the register, read before it (`check_frame` reads
        nothing, so that it can run while the chunk before is written): its pupils, their
        placements and roll, the settings and the LAs' calendars."""
        if self.dry:
            return
        # Each chunk's children read afresh, so that memory follows the chunk, not the file.
        for kept in (self.people, self.bookings, self.rolls, self.readings):
            kept.clear()
        self.prepare([{"upn": value} for value in frame["upn"].unique()])
        self.load_settings()
        calendars_for(self.session, list(self.las.values()))  # kept for the session: once

    def check_frame(self, frame: Any, lines: Any) -> tuple[Any, bool]:
        """Check a chunk of rows as `row` checks each (the same messages, by line, in the same
        order), each check made once for each distinct value or combination of values it reads,
        and the rules of a session that read every row (`expected_columns`, the repeated
        session) made over whole columns. Returns the rows to write (None if none may be: the
        file has a problem) and False when the report is full and the check stops there. It
        reads nothing from the database (`prepare_frame` has)."""
        import numpy as np

        from ap_register.coverage.attendance import expected_columns
        from ap_register.domain.columns import Problems, SeenKeys, each_value, objects

        if not hasattr(self, "seen_keys"):
            self.seen_keys = SeenKeys()
            self.pupil_slots: dict[int, int] = {}
            self.setting_slots: dict[int, int] = {}
        problems = Problems(len(frame))
        captured = self.captured
        # 1-5: each cell, as `row` reads it, once for each distinct value (or pair, for a
        # setting: its reference is looked up in the pupil's home LA without --la).
        people, found, by_upn = each_value([frame["upn"]], captured(lambda v: self.person({"upn": v})))
        problems.add_found(1, by_upn, found)
        las = objects([self.la or (self.las_by_id.get(p[1]) if p is not None else None) for p in people])[by_upn]
        settings, found, by_setting = each_value(
            [frame["setting_ref"], las],
            captured(lambda ref, la: self.setting_in({"setting_ref": ref}, "setting_ref", la)),
        )
        problems.add_found(2, by_setting, found)
        days, found, by_day = each_value([frame["date"]], captured(lambda v: self.day({"date": v}, "date", True)))
        problems.add_found(3, by_day, found)
        halves, found, by_half = each_value(
            [frame["session"]],
            captured(lambda v: (self.text({"session": v}, "session", required=True, max_length=10) or "").upper()),
        )
        problems.add_found(4, by_half, found)
        codes, found, by_code = each_value(
            [frame["code"]],
            captured(
                lambda v: c.upper() if (c := self.text({"code": v}, "code", required=True, max_length=2)) else None
            ),
        )
        problems.add_found(5, by_code, found)
        has_person = np.array([p is not None for p in people], dtype=bool)[by_upn]
        has_setting = np.array([s is not None for s in settings], dtype=bool)[by_setting]
        has_day = np.array([d is not None for d in days], dtype=bool)[by_day]
        has_half = np.array([bool(h) for h in halves], dtype=bool)[by_half]
        has_code = np.array([c is not None for c in codes], dtype=bool)[by_code]
        day_rows, half_rows, code_rows = days[by_day], halves[by_half], codes[by_code]
        # 6, 7: the session's and the code's rules, once for each combination.
        setting_las = objects([self.las_by_id.get(s.la_id) if s is not None else None for s in settings])[by_setting]

        def session_check(day: date, half: str, la: Any) -> tuple[None, list[tuple[str, str]]]:
            calendar = calendar_for(self.session, la) if la is not None else None
            return None, [(p.field, p.message) for p in session_problems(day, half, self.today, calendar)]

        _, found, which = each_value([day_rows, half_rows, setting_las], session_check, wanted=has_day & has_half)
        problems.add_found(6, which, found)

        def code_check(code: str, day: date | None, half: str) -> tuple[None, list[tuple[str, str]]]:
            problem = code_problem(code, day, half or None)
            return None, [("code", problem)] if problem is not None else []

        _, found, which = each_value([code_rows, day_rows, half_rows], code_check, wanted=has_code)
        problems.add_found(7, which, found)
        # 8: a pupil the setting expects that session, over whole columns.
        ready = ~problems.failed & has_person & has_setting & has_day & has_code
        rows = np.flatnonzero(ready)
        if len(rows):
            pupil_ids = np.array([p[0] if p is not None else -1 for p in people], dtype=np.int64)[by_upn[rows]]
            schools = np.array([p[2] if p is not None and p[2] else -1 for p in people], dtype=np.int64)
            setting_ids = np.array([s.id if s is not None else -1 for s in settings], dtype=np.int64)[by_setting[rows]]
            ordinals = np.array([d.toordinal() if d is not None else 0 for d in days], dtype=np.int64)[by_day[rows]]
            half_of_rows = half_rows[rows]
            rolls = schools[by_upn[rows]]
            moved = np.array([p is not None and bool(self.reading_of(p[0]).changes) for p in people], dtype=bool)
            moved = moved[by_upn[rows]]
            if moved.any():  # the roll on the day, for a pupil the ledger has moved, as `row` reads it
                rolls = np.where(moved, self.rolls_on(pupil_ids, ordinals), rolls)
            bookings = [
                (int(pupil_id), b)
                for pupil_id in np.unique(pupil_ids).tolist()
                for b in self.bookings.get(pupil_id, [])
            ]
            expected = expected_columns(setting_ids, rolls, ordinals, half_of_rows, pupil_ids, bookings)
            problems.add(8, rows[~expected], "upn", "This pupil is not expected here for this session")
            # 9: a session the file has already given, on an earlier line or this chunk's.
            keep = expected
            rows, pupil_ids, setting_ids, ordinals, half_of_rows = (
                rows[keep],
                pupil_ids[keep],
                setting_ids[keep],
                ordinals[keep],
                half_of_rows[keep],
            )
            pupil_slots = np.array([self.slot(self.pupil_slots, p[0]) if p else 0 for p in people], dtype=np.int64)
            setting_slots = np.array(
                [self.slot(self.setting_slots, s.id) if s else 0 for s in settings], dtype=np.int64
            )
            pupil_slots, setting_slots = pupil_slots[by_upn[rows]], setting_slots[by_setting[rows]]
            if len(self.pupil_slots) >= 1 << self.PUPIL_BITS or len(self.setting_slots) >= 1 << self.SETTING_BITS:
                raise NotPlain("more pupils or settings than a session's key holds")
            keys = (
                ((pupil_slots << self.SETTING_BITS | setting_slots) << self.DAY_BITS | (ordinals - self.FIRST_DAY)) << 1
            ) | (half_of_rows == "PM")
            earlier = self.seen_keys.first_lines(keys, lines[rows])
            repeated = earlier > 0
            problems.add(9, rows[repeated], "session", [f"This session is also on line {n}" for n in earlier[repeated]])
            taken = ~repeated
        go_on = self.report_problems(problems, lines)
        if not go_on or not len(rows) or self.dry or self.report.errors:
            return None, go_on
        return (
            pupil_ids[taken],
            setting_ids[taken],
            ordinals[taken],
            half_of_rows[taken],
            code_rows[rows[taken]],
        ), go_on

    @staticmethod
    def slot(slots: dict[int, int], key: int) -> int:
        found = slots.get(key)
        if found is None:
            found = slots[key] = len(slots)
        return found

    def reading_of(self, pupil_id: int) -> RollReading:
        """The pupil's roll as the ledger says, read once a pupil however many marks they have."""
        reading = self.readings.get(pupil_id)
        if reading is None:
            reading = self.readings[pupil_id] = read_roll(self.rolls.get(pupil_id, []))
        return reading

    def rolls_on(self, pupil_ids: Any, ordinals: Any) -> Any:
        """The school whose roll each pupil is on, on each day (-1 for none), by the ledger's
        changes of roll: `RollReading.on` over whole columns (each row takes the last change on
        or before its day; none before the first)."""
        import numpy as np

        changes: list[tuple[int, int, int]] = []
        for pupil_id in np.unique(pupil_ids).tolist():
            changes += [
                (pupil_id, day.toordinal(), -1 if s is None else s) for day, s in self.reading_of(pupil_id).changes
            ]
        if not changes:
            return np.full(len(pupil_ids), -1, dtype=np.int64)
        held = np.array(changes, dtype=np.int64)
        keys = held[:, 0] << 22 | held[:, 1]  # ordinals to the year 9999 are under 2**22
        order = np.argsort(keys, kind="stable")
        keys, held = keys[order], held[order]
        at = np.searchsorted(keys, pupil_ids << 22 | ordinals, side="right") - 1
        found = (at >= 0) & (held[np.maximum(at, 0), 0] == pupil_ids)
        return np.where(found, held[np.maximum(at, 0), 2], -1)

    def report_problems(self, problems: Any, lines: Any) -> bool:
        """A chunk's problems into the report, line by line; the second pass stops after the line
        that fills the report, as `row` does."""
        stop_after = None
        for row, column, message in problems.ordered():
            line = int(lines[row])
            if stop_after is not None and line != stop_after:
                return False
            self.line = line
            self.error(column, message)
            if self.report.full and not self.dry:
                stop_after = line
        return stop_after is None

    def start_write(self, taken: Any) -> Any:
        """A chunk's taken marks into the register, begun: the marks held for them read, new ones
        sent in bulk (`Writer.start_columns`); `end_write` ends it."""
        import numpy as np

        pupil_ids, setting_ids, ordinals, halves, codes = taken
        if not len(pupil_ids) or self.report.errors:
            return None
        held = {
            (pupil_id, setting_id, day.toordinal(), half): (mark_id, code)
            for mark_id, pupil_id, setting_id, day, half, code in marks_between(
                self.session,
                np.unique(pupil_ids).tolist(),
                date.fromordinal(int(ordinals.min())),
                date.fromordinal(int(ordinals.max())),
            )
        }
        new = np.ones(len(pupil_ids), dtype=bool)
        touched = np.ones(len(pupil_ids), dtype=bool)
        changed: list[dict[str, Any]] = []
        if held:
            for n, key in enumerate(
                zip(pupil_ids.tolist(), setting_ids.tolist(), ordinals.tolist(), halves.tolist(), strict=True)
            ):
                existing = held.get(key)
                if existing is None:
                    continue
                new[n] = False
                if existing[1] != codes[n]:
                    changed.append({"id": existing[0], "code": codes[n], "recorded_by_id": self.actor.user_id})
                else:
                    touched[n] = False
        self.session.flush()
        writing = Writer(self.session.connection()).start_columns(
            "attendance_mark",
            {
                "pupil_id": pupil_ids[new],
                "setting_id": setting_ids[new],
                "date": (ordinals[new] - date(1970, 1, 1).toordinal()).astype("datetime64[D]").astype(str),
                "session": halves[new],
                "code": codes[new],
            },
            {"recorded_by_id": self.actor.user_id, "recorded_at": utcnow()},
        )
        return taken, touched, changed, writing

    def abort_write(self, pending: Any, error: BaseException) -> None:
        """The write `start_write` began, given up (the import is failing with `error`)."""
        if pending is not None:
            pending[3].abort(error)

    def end_write(self, pending: Any) -> None:
        """The write `start_write` began, ended: what the file changed on each child's record
        kept for their audit event (in the file's order, as `write_pending`), then the bulk
        write waited for and the changed marks updated."""
        import numpy as np

        if pending is None:
            return
        (pupil_ids, setting_ids, ordinals, halves, codes), touched, changed, writing = pending
        try:
            rows = np.flatnonzero(touched)
            order = rows[np.argsort(pupil_ids[rows], kind="stable")]
            children, starts, counts = np.unique(pupil_ids[order], return_index=True, return_counts=True)
            first_seen = np.argsort(order[starts], kind="stable")  # each child as first met in the file
            children, starts, counts = children[first_seen], starts[first_seen], counts[first_seen]
            for pupil_id, start, count in zip(children.tolist(), starts.tolist(), counts.tolist(), strict=True):
                marks = self.changed.setdefault(pupil_id, ChangedMarks())
                mine = order[start : start + count]
                listed = mine[: max(AUDITED_MARKS - len(marks.listed), 0)]
                marks.add_many(
                    count,
                    date.fromordinal(int(ordinals[mine].min())),
                    date.fromordinal(int(ordinals[mine].max())),
                    [
                        packed_mark(s, d, h, c)
                        for s, d, h, c in zip(
                            setting_ids[listed].tolist(),
                            ordinals[listed].tolist(),
                            halves[listed].tolist(),
                            codes[listed].tolist(),
                            strict=True,
                        )
                    ],
                )
        except BaseException as error:
            writing.abort(error)
            raise
        written = writing.finish()
        if changed:
            self.session.execute(update(AttendanceMark), changed)
        self.report.imported += written
        self.report.updated += len(changed)
        self.report.unchanged += int((~touched).sum())

    def finish_columns(self) -> None:
        """The end of a file read a column at a time: each child's changes audited."""
        self.audit_changes()


# --- term dates ------------------------------------------------------------------------------


class TermDatesImporter(Importer):
    """Each row a stretch of school days of an LA, added as on the term dates page
    (`term_dates.add_stretch`); a stretch already held is left as it is."""

    kind = "term-dates"

    def row(self, row: dict[str, str]) -> None:
        la = self.local_authority(row, "la_code")
        start = self.day(row, "start_date", required=True)
        end = self.day(row, "end_date", required=True)
        if self.failed or la is None or start is None or end is None or self.dry:
            return
        held = self.session.scalar(
            select(TermDate.id).where(TermDate.la_id == la.id, TermDate.start_date == start, TermDate.end_date == end)
        )
        if held is not None:
            self.report.unchanged += 1
            return
        try:
            with self.session.begin_nested():
                add_stretch(self.session, self.actor, la, start, end)
        except DomainError as error:
            self.apply_domain_error(error, {})
        else:
            self.report.imported += 1


# --- outreach --------------------------------------------------------------------------------


class OutreachImporter(Importer):
    """Each row a session of outreach; rows for the same provider, school, kind and pupil (or
    group) go to its open engagement, which starts with the first of them."""

    kind = "outreach"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = clock.today()
        self.started_here: set[int] = set()  # the engagements this file started

    def row(self, row: dict[str, str]) -> None:
        la = self.la
        provider_ref = self.text(row, "provider_ref", required=True, max_length=20)
        school_ref = self.text(row, "school_ref", required=True, max_length=20)
        kind = self.text(row, "kind", required=True, max_length=30)
        if kind is not None and kind not in OUTREACH_KINDS:
            self.error("kind", f"{kind!r} is not one of: {', '.join(OUTREACH_KINDS)}")
        held_on = self.day(row, "date", required=True)
        minutes_text = self.text(row, "minutes", required=True, max_length=4)
        minutes = int(minutes_text) if minutes_text and minutes_text.isdigit() else None
        if minutes_text and minutes is None:
            self.error("minutes", f"{minutes_text!r} is not a whole number of minutes")
        staff = self.text(row, "staff", required=True)
        group = self.text(row, "group", max_length=200)
        pupil = self.pupil_for(row) if (row.get("upn") or "").strip() else None
        if la is None:
            self.error("provider_ref", "Give --la: provider and school references are looked up in one LA")
            return
        provider = self.setting_by_ref(la, provider_ref) if provider_ref else None
        school = self.setting_by_ref(la, school_ref) if school_ref else None
        if provider_ref and self.unknown(provider):
            self.error("provider_ref", f"No setting with reference {provider_ref} in {la.name}")
        if school_ref and self.unknown(school):
            self.error("school_ref", f"No setting with reference {school_ref} in {la.name}")
        if pupil is None and not group and not self.failed and not (self.dry and (row.get("upn") or "").strip()):
            self.error("group", "Give the pupil's UPN or the group's name")
        if self.failed or provider is None or school is None or held_on is None or minutes is None or kind is None:
            return
        engagement = self.session.scalar(
            select(OutreachEngagement).where(
                OutreachEngagement.provider_id == provider.id,
                OutreachEngagement.school_id == school.id,
                OutreachEngagement.kind == kind,
                OutreachEngagement.closed_on.is_(None),
                OutreachEngagement.pupil_id == pupil.id
                if pupil is not None
                else OutreachEngagement.group_name == group,
            )
        )
        try:
            if engagement is None:
                engagement = start_engagement(
                    self.session,
                    self.actor,
                    provider=provider,
                    school=school,
                    kind=kind,
                    started_on=held_on,
                    pupil=pupil,
                    group_name=group,
                    today=self.today,
                )
                self.started_here.add(engagement.id)
            elif held_on < engagement.started_on and engagement.id in self.started_here:
                # An engagement starts with its first session in the file, in whatever order the
                # lines come; one held before the file keeps its start, as on the page.
                engagement.started_on = held_on
            log_session(
                self.session,
                self.actor,
                engagement,
                held_on=held_on,
                minutes=minutes,
                staff=staff or "",
                today=self.today,
            )
        except DomainError as error:
            self.apply_domain_error(
                error,
                {
                    "started_on": "date",
                    "held_on": "date",
                    "provider": "provider_ref",
                    "school": "school_ref",
                    "group_name": "group",
                    "pupil": "upn",
                },
            )
        else:
            self.report.imported += 1


class BudgetLinesImporter(Importer):
    """The lines of a draft budget plan of the LA, named in the `plan` column: per financial year
    (`2025` or `2025-26`), place type and provider, the commissioned places (hours for outreach,
    pounds for the reserve) and the unit cost. A line the plan already has is changed."""

    kind = "budget-lines"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.plans: dict[str, BudgetPlan | None] = {}
        self.seen: set[tuple[int, int, str, int | None]] = set()

    def number(self, row: dict[str, str], column: str, required: bool) -> Decimal | None:
        value = self.text(row, column, required=required, max_length=20)
        if value is None:
            return None
        try:
            found = Decimal(value.replace(",", "").lstrip("£"))
        except InvalidOperation:
            self.error(column, f"{value!r} is not a number")
            return None
        if not found.is_finite():
            self.error(column, f"{value!r} is not a number")
            return None
        return found

    def row(self, row: dict[str, str]) -> None:
        la = self.la
        if la is None:
            self.error("plan", "Give --la: plans and providers are looked up in one LA")
            return
        name = self.text(row, "plan", required=True)
        year_text = self.text(row, "year", required=True, max_length=7)
        year = None
        if year_text is not None:
            match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?", year_text)
            if match is None or (match.group(2) and int(match.group(2)) != (int(match.group(1)) + 1) % 100):
                self.error("year", f"{year_text!r} is not a financial year such as 2025 or 2025-26")
            else:
                year = int(match.group(1))
        place_type = self.text(row, "place_type", required=True, max_length=20)
        if place_type is not None and place_type not in PLACE_TYPES:
            self.error("place_type", f"{place_type!r} is not one of: {', '.join(PLACE_TYPES)}")
        commissioned = self.number(row, "commissioned", required=True)
        unit_cost = self.number(row, "unit_cost", required=False)  # whether a line needs one: set_line
        provider = None
        ref = self.text(row, "provider_ref", max_length=20)
        if ref is not None:
            provider = self.setting_by_ref(la, ref)
            if self.unknown(provider):
                self.error("provider_ref", f"No setting with reference {ref} in {la.name}")
        plan = None
        if name is not None and not self.dry:
            if name not in self.plans:
                self.plans[name] = self.session.scalar(
                    select(BudgetPlan).where(BudgetPlan.la_id == la.id, BudgetPlan.name == name)
                )
            plan = self.plans[name]
            if plan is None:
                self.error("plan", f"{la.name} has no budget plan named {name!r}: create it first")
        if self.failed or plan is None or year is None or place_type is None or commissioned is None:
            return
        # The reserve is one line a year, whatever provider a row names (set_line ignores it).
        key = (plan.id, year, place_type, provider.id if provider and place_type != "reserve" else None)
        if key in self.seen:
            self.error("place_type", "This line is already in the file")
            return
        self.seen.add(key)
        try:
            set_line(
                self.session,
                self.actor,
                plan,
                year=year,
                place_type=place_type,
                provider=provider,
                commissioned=commissioned,
                unit_cost=unit_cost,
            )
        except DomainError as error:
            self.apply_domain_error(error, {"provider": "provider_ref"})
        else:
            self.report.imported += 1


class _OutcomesImporter(Importer):
    """Shared by the outcome records: an academic year given as 2025/26 (or 2025)."""

    def academic_year(self, row: dict[str, str], column: str) -> int | None:
        text = self.text(row, column, required=True, max_length=7)
        if text is None:
            return None
        parsed = AcademicYear.parse(text)
        year = parsed.start if parsed else None
        if year is None:
            self.error(column, f"{text!r} is not an academic year such as 2025/26")
        return year

    def choose(self, row: dict[str, str], column: str, allowed: tuple[str, ...], required: bool = False) -> str | None:
        value = self.text(row, column, required=required, max_length=30)
        if value is not None and value not in allowed:
            self.error(column, f"{value!r} is not one of: {', '.join(allowed)}")
            return None
        return value

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # What the file changed on each child's record: pupil id -> the records' keys and values
        self.changed: dict[int, list[dict[str, Any]]] = {}

    def save(self, existing: Any, record: Any, fields: dict[str, Any], key: dict[str, Any]) -> None:
        if existing is None:
            self.session.add(record)
            self.report.imported += 1
        elif any(getattr(existing, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(existing, k, v)
            existing.recorded_by_id = self.actor.user_id
            self.report.updated += 1
        else:
            self.report.unchanged += 1
            return
        shown = {k: v.isoformat() if isinstance(v, date) else v for k, v in {**key, **fields}.items()}
        self.changed.setdefault(record.pupil_id, []).append(shown)

    def finish(self) -> None:
        """Each child whose results or destinations the file changed has it on their audit trail."""
        super().finish()
        if not self.report.errors:
            table = "ks4_result" if self.kind == "ks4-results" else "post16_check"
            audit.record_many(
                self.session, self.actor, "record", table, {p: {"records": c} for p, c in self.changed.items()}
            )


class Ks4ResultsImporter(_OutcomesImporter):
    """A Year 11 leaver's English and maths: a GCSE grade (9 to 1, U) or functional skills level
    (E1, E2, E3, L1, L2) each; blank when not entered. Importing a pupil's year again updates it."""

    kind = "ks4-results"

    def row(self, row: dict[str, str]) -> None:
        pupil = self.pupil_for(row)
        year = self.academic_year(row, "academic_year")
        english = self.choose(row, "english", OUTCOME_GRADES)
        maths = self.choose(row, "maths", OUTCOME_GRADES)
        if self.failed or pupil is None or year is None:
            return
        fields = {"english": english, "maths": maths}
        existing = self.session.scalar(
            select(Ks4Result).where(Ks4Result.pupil_id == pupil.id, Ks4Result.academic_year == year)
        )
        record = Ks4Result(pupil_id=pupil.id, academic_year=year, recorded_by_id=self.actor.user_id, **fields)
        self.save(existing, record, fields, {"academic_year": year})


class DestinationsImporter(_OutcomesImporter):
    """What a Year 11 leaver was doing at the October or the March check after leaving."""

    kind = "destinations"

    def row(self, row: dict[str, str]) -> None:
        pupil = self.pupil_for(row)
        year = self.academic_year(row, "leaving_year")
        point = self.choose(row, "check_point", CHECK_POINTS, required=True)
        activity = self.choose(row, "activity", tuple(ACTIVITIES), required=True)
        checked_on = self.day(row, "checked_on")
        if self.failed or pupil is None or year is None or point is None or activity is None:
            return
        fields = {"activity": activity, "checked_on": checked_on}
        existing = self.session.scalar(
            select(Post16Check).where(
                Post16Check.pupil_id == pupil.id, Post16Check.leaving_year == year, Post16Check.check_point == point
            )
        )
        record = Post16Check(
            pupil_id=pupil.id, leaving_year=year, check_point=point, recorded_by_id=self.actor.user_id, **fields
        )
        self.save(existing, record, fields, {"leaving_year": year, "check_point": point})


# --- the people around a child ----------------------------------------------------------------


class ContactsImporter(Importer):
    """Each row one person around a child (casework/contacts.py): added, or, when the child has a
    contact of that role and name, changed to what the row says. A contact the file leaves out
    stays: a file is never the way to forget a parent, or a restriction."""

    kind = "contacts"

    def answer(self, row: dict[str, str], column: str) -> bool | None:
        """Y, N, or blank for not known."""
        value = (row.get(column) or "").strip().upper()
        if value == "":
            return None
        if value in ("Y", "YES"):
            return True
        if value in ("N", "NO"):
            return False
        self.error(column, f"{value!r} is not Y, N or blank (not known)")
        return None

    def row(self, row: dict[str, str]) -> None:
        pupil = self.pupil_for(row)
        role = self.text(row, "role", required=True, max_length=30)
        if role is not None and role not in contacts.ROLES:
            self.error("role", f"{role!r} is not one of: {', '.join(contacts.ROLES)}")
        name = self.text(row, "name", required=True)
        relation = self.text(row, "relationship", max_length=30)
        if relation is not None and relation not in contacts.RELATIONSHIPS:
            self.error("relationship", f"{relation!r} is not one of: {', '.join(contacts.RELATIONSHIPS)}")
        contact_by = self.text(row, "contact_by", max_length=10)
        ref = self.text(row, "setting_ref", max_length=20)
        la = self.la or (pupil.home_la if pupil is not None else None)
        setting = self.setting_by_ref(la, ref) if ref is not None and la is not None else None
        if ref is not None and la is not None and self.unknown(setting):
            self.error("setting_ref", f"No setting with reference {ref} in {la.name}")
        draft = contacts.ContactDraft(
            role=role or "",
            name=name or "",
            relation=relation,
            organisation=self.text(row, "organisation"),
            setting_id=setting.id if setting is not None else None,
            address=self.text(row, "address", max_length=400),
            phone=self.text(row, "phone", max_length=30),
            email=self.text(row, "email", max_length=254),
            parental_responsibility=self.answer(row, "parental_responsibility"),
            lives_with=self.answer(row, "lives_with"),
            contact_by=contact_by.lower() if contact_by else None,
            preferences=self.text(row, "preferences", max_length=400),
            restriction=self.text(row, "restriction", max_length=400),
            audience=(self.text(row, "audience", max_length=10) or "").lower() or None,
        )
        if self.failed or pupil is None:
            return
        try:
            outcome = contacts.save(self.session, self.actor, pupil.id, draft)
        except DomainError as error:
            self.apply_domain_error(error, {"relation": "relationship", "setting": "setting_ref", "": "upn"})
            return
        if outcome == "added":
            self.report.imported += 1
        elif outcome == "updated":
            self.report.updated += 1
        else:
            self.report.unchanged += 1


IMPORTERS: dict[str, type[Importer]] = {
    "settings": SettingsImporter,
    "pupils": PupilsImporter,
    "placements": PlacementsImporter,
    "movements": MovementsImporter,
    "attendance": AttendanceImporter,
    "term-dates": TermDatesImporter,
    "outreach": OutreachImporter,
    "budget-lines": BudgetLinesImporter,
    "ks4-results": Ks4ResultsImporter,
    "destinations": DestinationsImporter,
    "contacts": ContactsImporter,
}


def _header(kind: str, stream: IO[bytes], report: ImportReport) -> tuple[Any, list[str], bool, Any]:
    """Open the file and read its header: (the CSV reader, the columns, whether it is a GIAS
    extract, the text the reader reads). Refuses an unreadable or empty file, or one without a
    required column."""
    try:
        text, _ = _open_text(stream)
        reader = csv.reader(text)
        header = [name.strip() for name in next(reader, [])]
    except (UnicodeDecodeError, csv.Error) as error:
        report.add_error(RowError(1, "", f"The file is not a readable CSV: {error}"))
        raise ImportRefused(report) from None
    gias = kind == "settings" and all(name in header for name in GIAS_REQUIRED)
    required = GIAS_REQUIRED if gias else REQUIRED[kind]
    if not header:
        report.add_error(RowError(1, "", "The file is empty: it needs a header row"))
    for name in [name for name in required if name not in header] if header else []:
        report.add_error(RowError(1, name, f"The required column {name} is missing"))
    if report.errors:
        raise ImportRefused(report)
    return reader, header, gias, text


def _records(reader: Any, header: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row that is not blank, as (its line, column -> value); cells past the header dropped."""
    for line, values in _rows(reader):
        if not any(value.strip() for value in values):
            continue
        yield line, dict(zip(header, values[: len(header)], strict=False))


# A step yields how many bytes of the file have been read, now and then (for a progress bar),
# and returns the report.
Steps = Generator[int, None, ImportReport]
# Rows between two steps.
STEP_ROWS = 500
Result = TypeVar("Result")
Params = ParamSpec("Params")


def drain(steps: Generator[Any, None, Result]) -> Result:
    """Run an import's steps to the end, for a caller that shows no progress."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def drained(steps_of: Callable[Params, Generator[Any, None, Result]]) -> Callable[Params, Result]:
    """A function that runs `steps_of` to its end and returns what it returns."""

    def run(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        return drain(steps_of(*args, **kwargs))

    run.__doc__ = f"`{steps_of.__name__}` run to its end (for a caller that shows no progress)."
    return run


class _Read:
    """How many bytes a CountingReader has read."""

    def __init__(self) -> None:
        self.bytes = 0
        self.shown = 0  # the most bytes a progress callback has been told of
        self.top = 0  # the most bytes a step has said

    def so_far(self) -> int:
        """The bytes read, for a step: never fewer than a step said before (a file read again
        from its start, a row at a time, does not go back)."""
        self.top = max(self.top, self.bytes)
        return self.top

    def add(self, n: int) -> None:
        self.bytes += n


def check_file_steps(kind: str, stream: IO[bytes], la_code: str | None = None) -> Steps:
    """The first pass over a file, without the database (so that, on SQLite, nobody waits for
    it): the file reads as CSV and has its columns, and each row's own values are checked by
    the importer's own code (required cells, dates, choices, UPN check letters, this import's
    LA, no control characters). Raises ImportRefused, before the register is consulted, when
    the file cannot be read, lacks a column, holds a NUL byte (it is not text) or has
    MAX_PROBLEMS problems or more; memory does not grow with the file. With fewer problems
    it returns them: the second pass finds them again beside the register's own, so that one
    report lists them all. The stream is left at its start for the second pass."""
    if kind not in IMPORTERS:
        raise DomainError(f"Unknown import {kind}: choose one of {', '.join(KINDS)}")
    read = _Read()
    if IMPORTERS[kind].columnwise:
        try:
            return (yield from _check_columns(kind, stream, la_code, read))
        except NotPlain:
            stream.seek(0)  # read again, a row at a time
            read.bytes = 0
    return (yield from _check_rows(kind, stream, la_code, read))


def _check_columns(kind: str, stream: IO[bytes], la_code: str | None, read: _Read) -> Steps:
    """`check_file_steps` a column at a time (`domain.columns`); NotPlain for a file only the
    row-by-row reading reads exactly."""
    from ap_register.domain.columns import chunks

    report = ImportReport(kind)
    reader, header, _, text = _header(kind, CountingReader(stream, read.add), report)  # type: ignore[arg-type]
    importer = IMPORTERS[kind](None, Actor.system("check"), report, _stand_in(la_code), dry=True)
    for frame, lines in chunks(text, header, reader.line_num + 1, importer.FRAME_ROWS):
        report.rows += len(frame)
        yield read.so_far()
        importer.check_frame(frame, lines)  # the first pass writes nothing
    if report.full or any(e.column == "" for e in report.errors):
        raise ImportRefused(report)
    stream.seek(0)
    return report


def _stand_in(la_code: str | None) -> _LaStandIn | None:
    return _LaStandIn(la_code, english_la_codes()[la_code].name) if la_code in english_la_codes() else None


def _check_rows(kind: str, stream: IO[bytes], la_code: str | None, read: _Read) -> Steps:
    """`check_file_steps` a row at a time."""
    report = ImportReport(kind)
    reader, header, gias, _ = _header(kind, CountingReader(stream, read.add), report)  # type: ignore[arg-type]
    importer = IMPORTERS[kind](None, Actor.system("check"), report, _stand_in(la_code), dry=True)
    if isinstance(importer, SettingsImporter):
        importer.gias = gias
    line = 1
    try:
        for line, row in _records(reader, header):
            report.rows += 1
            if report.rows % STEP_ROWS == 0:
                yield read.so_far()
            if any("\x00" in value for value in row.values()):
                report.add_error(RowError(line, "", "The line holds a NUL byte: the file is not text"))
                continue
            importer.handle(line, row)
    except (UnicodeDecodeError, csv.Error) as error:
        report.add_error(RowError(line + 1, "", f"The file could not be read past this line: {error}"))
        raise ImportRefused(report) from None
    if report.full or any(e.column == "" for e in report.errors):
        raise ImportRefused(report)
    stream.seek(0)
    return report


def _import_rows(importer: Importer, reader: Any, header: list[str], read: _Read) -> Iterator[int]:
    """The second pass a row at a time."""
    report = importer.report
    try:
        for line, row in _records(reader, header):
            report.rows += 1
            if report.rows % STEP_ROWS == 0:
                yield read.so_far()
            importer.handle(line, row)
            if report.full:
                report.stopped_at = report.stopped_at or line
                break
        else:
            importer.finish()
    except (UnicodeDecodeError, csv.Error) as error:
        unreadable = importer.last_read + 1
        report.add_error(RowError(unreadable, "", f"The file could not be read past this line: {error}"))
        importer.handle_read_ahead()  # the rows read before it are checked (nothing is written)


def _import_columns(importer: Importer, reader: Any, header: list[str], text: Any, read: _Read) -> Iterator[int]:
    """The second pass a column at a time (`domain.columns`); NotPlain for a file only the
    row-by-row reading reads exactly (nothing it wrote is kept: the caller rolls back)."""
    from ap_register.domain.columns import chunks

    taken = None  # the chunk before's rows, written while this chunk is checked
    for frame, lines in chunks(text, header, reader.line_num + 1, importer.FRAME_ROWS):
        importer.report.rows += len(frame)
        yield read.so_far()
        importer.prepare_frame(frame)
        writing = importer.start_write(taken) if taken is not None else None
        try:
            taken, go_on = importer.check_frame(frame, lines)
        except BaseException as error:
            importer.abort_write(writing, error)  # the COPY given up; the savepoint is rolled back
            raise
        importer.end_write(writing)
        if not go_on:
            return
    if taken is not None:
        importer.end_write(importer.start_write(taken))
    importer.finish_columns()


def import_steps(
    session: Session,
    actor: Actor,
    kind: str,
    stream: IO[bytes],
    *,
    la: LocalAuthority | None = None,
    progress: Callable[[int], None] | None = None,
    checked: bool = False,
    dry_run: bool = False,
) -> Steps:
    """Load a CSV file of one kind, all or nothing. Raises ImportRefused (with the bad lines)
    and writes nothing if any line is refused. The file's first pass (`check_file`) runs first
    unless the caller `checked` it already, outside its transaction, as the pages and the CLI
    do. The second pass checks each row against the register and writes it; it stops at
    MAX_PROBLEMS problems (the file is refused either way).

    An LA with no adoption date adopts the register on the day of its first import
    (`placements.adoption`); placements that started before then come from its old records.
    A `dry_run` does all of it and then undoes it: the report says what the file would change
    (counts, warnings, every refused line) and only an audit event that it was checked stays."""
    if kind not in IMPORTERS:
        raise DomainError(f"Unknown import {kind}: choose one of {', '.join(KINDS)}")
    if not checked:
        check_file(kind, stream, la.code if la is not None else None)
    read = _Read()

    def counted(n: int) -> None:
        read.add(n)
        if progress is not None and read.bytes > read.shown:  # a file read again is not shown twice
            progress(read.bytes - read.shown)
            read.shown = read.bytes

    columnwise = IMPORTERS[kind].columnwise
    while True:
        report = ImportReport(kind)
        read.bytes = 0
        reader, header, gias, text = _header(kind, CountingReader(stream, counted), report)  # type: ignore[arg-type]
        importer = IMPORTERS[kind](session, actor, report, la)
        if isinstance(importer, SettingsImporter):
            importer.gias = gias
        report.dry_run = dry_run
        savepoint = session.begin_nested()
        if la is not None and adopt_at_first_import(session, actor, la):
            report.adopted_on = la.adopted_on
        try:
            if columnwise:
                yield from _import_columns(importer, reader, header, text, read)
            else:
                yield from _import_rows(importer, reader, header, read)
            session.flush()
        except NotPlain:
            savepoint.rollback()
            columnwise = False  # read again, a row at a time
            stream.seek(0)
            continue
        except Exception:
            savepoint.rollback()
            raise
        break
    if report.errors:
        savepoint.rollback()
        if report.held_elsewhere and la is not None:
            record_refused_attempts(session, actor, la, report.held_elsewhere)
        raise ImportRefused(report)
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    audit.record(
        session,
        actor,
        "import_checked" if dry_run else "import",
        kind,
        None,
        detail={
            "rows": report.rows,
            "imported": report.imported,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
            "old_records": report.old_records,
        },
    )
    return report


# The two readings run to their end, for the CLI and for a page sent without its script.
check_file = drained(check_file_steps)
run_import = drained(import_steps)
