"""Full-time coverage: for every child in scope, what education they have each session of a week,
summed over every setting that shares them, against the sessions their LA's school days require.

Counted per session and per date (README, What it does today: Coverage):
- an arrangement covers only its own sessions, on school days between its start and end;
- on a day when a pupil on a school's roll has no arrangement at all, they are in school full time;
- a pupil off every roll (permanently excluded, removed) is covered only by what has been arranged.

In scope: pupils of the LA with any placement active in the week, and pupils of compulsory school
age who were permanently excluded or removed from roll and are on no school's roll since (unless
they left the area or are electively home educated).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Row, exists, or_, select, true, union
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.coverage.attendance import counts_as_attendance, marks_between
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import among
from ap_register.domain.calendar import calendar_for
from ap_register.domain.errors import DomainError
from ap_register.domain.pupils import of_compulsory_school_age
from ap_register.domain.vocab import (
    REGISTERED_SCHOOL_KINDS,
    Destination,
    HomeSchoolCode,
    MovementKind,
    Registration,
    Route,
    SettingKind,
)
from ap_register.models import LocalAuthority, Movement, Placement, Pupil, Setting
from ap_register.placements.roll import RollReading, read_roll, roll_movements

FLAGS = (
    "no_provision",
    "below_full_time",
    "unregistered_only",
    "unregistered_over_limit",
    "overlap",
    "part_time_timetable",
    "register_mismatch",
)
FLAG_LABELS = {
    "no_provision": "No provision",
    "below_full_time": "Below full time",
    "unregistered_only": "Unregistered provision only",
    "unregistered_over_limit": "Over the unregistered limit",
    "overlap": "Overlapping bookings",
    "part_time_timetable": "Part-time timetable",
    "register_mismatch": "Registers do not match",
}
# Leaving these ways ends the LA's duty to arrange education here.
LEFT_THE_AREA = (Destination.MOVED_OUT_OF_AREA, Destination.ELECTIVE_HOME_EDUCATION)


@dataclass(frozen=True, slots=True)
class Place:
    """A setting as coverage shows it."""

    id: int
    name: str
    kind: SettingKind

    @property
    def registered(self) -> bool:
        return self.kind in REGISTERED_SCHOOL_KINDS


@dataclass(frozen=True, slots=True)
class Booking:
    """A placement as coverage reads it: the columns it needs, read as plain rows (a week of an
    LA reads hundreds; ORM objects cost more than the rest of the work together)."""

    id: int
    pupil_id: int
    setting: Place
    start_date: date
    end_date: date | None
    sessions: str
    route: Route
    registration: Registration
    home_school_id: int | None
    home_school_code: HomeSchoolCode | None

    @property
    def setting_id(self) -> int:
        return self.setting.id


@dataclass(slots=True)
class Cell:
    """One session (a morning or an afternoon) of one day."""

    day: date
    label: str
    required: bool
    placements: list[Booking] = field(default_factory=list)
    home_school: Place | None = None  # in school full time: on roll with no arrangement that day

    @property
    def covered(self) -> bool:
        return bool(self.placements) or self.home_school is not None

    @property
    def providers(self) -> list[str]:
        if self.home_school is not None:
            return [self.home_school.name]
        return [p.setting.name for p in self.placements]


@dataclass
class PupilWeek:
    pupil: Pupil
    cells: list[Cell]
    planned_sessions: int
    unregistered_sessions: int
    gaps: list[str]
    overlaps: list[str]
    flags: list[str]
    placements: list[Booking]
    # From the registers the settings took (None when no setting records attendance here).
    attended_sessions: int | None = None
    marked_sessions: int = 0
    register_issues: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "upn": self.pupil.upn,
            "planned_sessions": self.planned_sessions,
            "unregistered_sessions": self.unregistered_sessions,
            "flags": self.flags,
            "gaps": self.gaps,
            "overlaps": self.overlaps,
        }


@dataclass
class WeekCoverage:
    la: LocalAuthority
    week: date
    required_sessions: int
    school_days: list[date]
    pupils: list[PupilWeek]

    def as_json(self) -> dict[str, object]:
        return {
            "la": self.la.code,
            "week": self.week.isoformat(),
            "required_sessions": self.required_sessions,
            "pupils": [p.as_json() for p in self.pupils],
        }


CSV_COLUMNS = [
    "upn",
    "first_name",
    "last_name",
    "required_sessions",
    "planned_sessions",
    "unregistered_sessions",
    "flags",
    "gaps",
    "overlaps",
]


def table_rows(coverage: WeekCoverage) -> list[dict[str, object]]:
    """The coverage as flat rows, for CSV and spreadsheets (lists joined with "; ")."""
    return [
        {
            "upn": week.pupil.upn,
            "first_name": week.pupil.first_name,
            "last_name": week.pupil.last_name,
            "required_sessions": coverage.required_sessions,
            "planned_sessions": week.planned_sessions,
            "unregistered_sessions": week.unregistered_sessions,
            "flags": "; ".join(week.flags),
            "gaps": "; ".join(week.gaps),
            "overlaps": "; ".join(week.overlaps),
        }
        for week in coverage.pupils
    ]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_coverage(
    session: Session,
    actor: Actor,
    la: LocalAuthority,
    week: date,
    today: date | None = None,
    pupil_ids: list[int] | None = None,
) -> WeekCoverage:
    """Coverage of the LA's pupils in scope for the week starting `week` (a Monday); only of
    `pupil_ids` when given."""
    if week.weekday() != 0:
        raise DomainError(f"{week:%-d %B %Y} is not a Monday: a week starts on a Monday")
    friday = week + timedelta(days=4)
    calendar = calendar_for(session, la)
    school_days = calendar.school_days(week, friday)
    days = [week + timedelta(days=n) for n in range(5)]

    # Who may be in scope, found once (as far as the actor may see them); every other query reads
    # by their ids.
    chosen = Pupil.id.in_(pupil_ids) if pupil_ids is not None else true()
    placed = permissions.scope_placements(
        actor,
        select(Placement.pupil_id)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(
            Pupil.home_la_id == la.id,
            chosen,
            Placement.start_date <= friday,
            or_(Placement.end_date.is_(None), Placement.end_date >= week),
        ),
    )
    off_roll = permissions.scope_pupils(
        actor,
        select(Pupil.id).where(
            Pupil.home_la_id == la.id,
            chosen,
            exists().where(
                Movement.pupil_id == Pupil.id,
                Movement.date <= friday,
                or_(
                    Movement.kind.in_((MovementKind.PERMANENT_EXCLUSION, MovementKind.REMOVED_FROM_ROLL)),
                    # A suspension is at most 45 school days (`placements.rules`): nine weeks and a
                    # holiday's more than enough to reach this week.
                    (Movement.kind == MovementKind.SUSPENSION) & (Movement.date >= week - timedelta(days=120)),
                ),
            ),
        ),
    )
    ids = sorted(session.scalars(union(placed, off_roll)))

    by_pupil: dict[int, list[Booking]] = defaultdict(list)
    for row in session.execute(
        select(*BOOKING_COLUMNS)
        .join(Setting, Placement.setting_id == Setting.id)
        .where(
            among(session, Placement.pupil_id, ids),
            Placement.start_date <= friday,
            or_(Placement.end_date.is_(None), Placement.end_date >= week),
        )
        .order_by(Placement.id)
    ):
        by_pupil[row.pupil_id].append(_booking(row))
    pupils = {p.id: p for p in session.scalars(select(Pupil).where(among(session, Pupil.id, ids)))}
    histories = {pupil_id: read_roll(found) for pupil_id, found in roll_movements(session, ids).items()}
    left_area = left_the_area(session, ids, friday)
    roll_ids = {p.home_school_id for p in pupils.values() if p.home_school_id is not None} | {
        setting_id for history in histories.values() for _, setting_id in history.changes if setting_id is not None
    }
    settings_by_id = {
        row.id: Place(row.id, row.name, row.kind)
        for row in session.execute(select(Setting.id, Setting.name, Setting.kind).where(Setting.id.in_(roll_ids)))
    }

    results = []
    required = set(school_days)
    for pupil_id in ids:
        pupil = pupils[pupil_id]
        history = histories.get(pupil_id, RollReading())
        own = by_pupil.get(pupil_id, [])
        if not own:
            # Only children of compulsory school age whom someone must still educate: off every
            # roll, or on one whose school does not teach them this week (excluded, suspended).
            on_roll = history.on(friday, pupil.home_school_id) is not None
            if (on_roll and not any(history.away(day) for day in school_days)) or pupil_id in left_area:
                continue
            if not of_compulsory_school_age(pupil.date_of_birth, week):
                continue
        results.append(_pupil_week(pupil, own, history, days, required, settings_by_id, la))
    _compare_registers(session, results, week, friday, today or clock.today())
    results.sort(key=lambda w: (-_severity(w.flags), w.pupil.last_name, w.pupil.first_name, w.pupil.id))
    return WeekCoverage(la, week, 2 * len(school_days), school_days, results)


BOOKING_COLUMNS = (
    Placement.id,
    Placement.pupil_id,
    Placement.start_date,
    Placement.end_date,
    Placement.sessions,
    Placement.route,
    Placement.registration,
    Placement.home_school_id,
    Placement.home_school_code,
    Setting.id.label("setting_id"),
    Setting.name.label("setting_name"),
    Setting.kind.label("setting_kind"),
)


def _booking(row: Row[Any]) -> Booking:
    return Booking(
        row.id,
        row.pupil_id,
        Place(row.setting_id, row.setting_name, row.setting_kind),
        row.start_date,
        row.end_date,
        row.sessions,
        row.route,
        row.registration,
        row.home_school_id,
        row.home_school_code,
    )


def _compare_registers(session: Session, weeks: list[PupilWeek], monday: date, friday: date, today: date) -> None:
    """Attended against planned, and the home school's code against the arrangement, for the
    settings that take their registers here (any mark that week). Days after today are not judged."""
    if not weeks:
        return
    # Each pupil's marks of the week: (setting, day, session) -> code.
    marks: dict[int, dict[tuple[int, date, str], str]] = defaultdict(dict)
    for _, pupil_id, setting_id, day, half, code in marks_between(session, [w.pupil.id for w in weeks], monday, friday):
        marks[pupil_id][(setting_id, day, half)] = code
    if not marks:
        return
    recording = {setting_id for own in marks.values() for (setting_id, _, _) in own}
    for week in weeks:
        own = marks.get(week.pupil.id)
        if not own:
            continue
        attended = marked = 0
        issues: list[str] = []
        for cell in week.cells:
            if not cell.required or cell.day > today:
                continue
            half = "AM" if cell.label.endswith("AM") else "PM"
            at = [p.setting for p in cell.placements] or ([cell.home_school] if cell.home_school else [])
            for setting in at:
                code = own.get((setting.id, cell.day, half))
                if code is not None:
                    marked += 1
                    attended += counts_as_attendance(code)
                elif setting.id in recording:
                    issues.append(f"{cell.day:%a %-d %b} {half}: no mark from {setting.name}")
            for placement in cell.placements:
                home = placement.home_school_id or week.pupil.home_school_id
                if home is None or home == placement.setting_id:
                    continue
                code = own.get((home, cell.day, half))
                if code is None:
                    continue
                if code == "D" and placement.registration != Registration.DUAL:
                    issues.append(
                        f"{cell.day:%a %-d %b} {half}: the home school recorded D without a dual registration"
                    )
                elif code == "B" and placement.setting.registered:
                    issues.append(
                        f"{cell.day:%a %-d %b} {half}: the home school recorded B for a registered school "
                        f"({placement.setting.name})"
                    )
                elif (
                    code in ("D", "B", "K", "C2") and placement.home_school_code and code != placement.home_school_code
                ):
                    issues.append(
                        f"{cell.day:%a %-d %b} {half}: the home school recorded {code}; the arrangement means "
                        f"{placement.home_school_code.value}"
                    )
        week.attended_sessions, week.marked_sessions, week.register_issues = attended, marked, issues
        if issues:
            week.flags.append("register_mismatch")


def left_the_area(
    session: Session, pupil_ids: Sequence[int], by: date, destinations: Sequence[Destination] = LEFT_THE_AREA
) -> set[int]:
    """Pupils whose latest ended placement sent them out of the area or to home education (or to
    one of the `destinations` asked)."""
    latest: dict[int, Destination | None] = {}
    for pupil_id, destination in session.execute(
        select(Placement.pupil_id, Placement.destination)
        .where(among(session, Placement.pupil_id, pupil_ids), Placement.end_date <= by)
        .order_by(Placement.end_date, Placement.id)
    ):
        latest[pupil_id] = destination
    return {pid for pid, destination in latest.items() if destination in destinations}


def _severity(flags: list[str]) -> int:
    return sum(2 ** (len(FLAGS) - FLAGS.index(flag)) for flag in flags)


def _pupil_week(
    pupil: Pupil,
    placements: list[Booking],
    history: RollReading,
    days: list[date],
    school_days: set[date],
    settings_by_id: dict[int, Place],
    la: LocalAuthority,
) -> PupilWeek:
    cells: list[Cell] = []
    planned = unregistered = 0
    part_time = covered_any = home_any = False
    gaps: list[str] = []
    overlaps: list[str] = []
    explicit: list[Booking] = []
    # One pass over the week's ten sessions: the cells, and what the flags below read of the
    # required ones (a page of coverage makes this for every pupil of an LA).
    for index, day in enumerate(days):
        active = [p for p in placements if p.start_date <= day and (p.end_date is None or p.end_date >= day)]
        # The school whose roll the pupil is on teaches them when nothing else is arranged, unless
        # it has suspended them or a permanent exclusion is in process (`placements.roll`).
        roll = None if active or history.away(day) else history.on(day, pupil.home_school_id)
        home = settings_by_id[roll] if roll is not None else None
        required = day in school_days
        for slot in (2 * index, 2 * index + 1):
            here = [p for p in active if p.sessions[slot] == "1"]
            label = week_pattern.LABELS[slot]
            cells.append(Cell(day, label, required, here, home))
            if not required:
                continue
            planned += len(here) or (1 if home else 0)
            if here or home is not None:
                covered_any = True
            else:
                gaps.append(label)
            home_any = home_any or home is not None
            if len(here) > 1:
                overlaps.append(label)
            explicit.extend(here)
            for p in here:
                unregistered += p.setting.kind == SettingKind.UNREGISTERED_AP
                part_time = part_time or p.route == Route.PART_TIME_TIMETABLE
    flags = []
    if any(day in school_days for day in days):
        if not covered_any:
            flags.append("no_provision")
        if gaps:
            flags.append("below_full_time")
        if explicit and all(p.setting.kind == SettingKind.UNREGISTERED_AP for p in explicit) and not home_any:
            flags.append("unregistered_only")
        if unregistered > la.unregistered_session_cap:
            flags.append("unregistered_over_limit")
        if overlaps:
            flags.append("overlap")
        if part_time:
            flags.append("part_time_timetable")
    return PupilWeek(pupil, cells, planned, unregistered, gaps, overlaps, flags, placements)
