"""Full-time coverage: for every child in scope, what education they have each session of a week,
summed over every setting that shares them, against the sessions their LA's school days require.

Counted per session and per date (DESIGN.md, Coverage):
- an arrangement covers only its own sessions, on school days between its start and end;
- on a day when a pupil on a school's roll has no arrangement at all, they are in school full time;
- a pupil off every roll (permanently excluded, removed) is covered only by what has been arranged.

In scope: pupils of the LA with any placement active in the week, and pupils of compulsory school
age who were permanently excluded or removed from roll and are on no school's roll since (unless
they left the area or are electively home educated).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, joinedload

from ap_register import permissions
from ap_register.domain import sessions as weekly
from ap_register.domain.actors import Actor
from ap_register.domain.attendance import counts_as_attendance
from ap_register.domain.calendar import calendar_for
from ap_register.domain.errors import DomainError
from ap_register.domain.pupils import of_compulsory_school_age
from ap_register.domain.vocab import Destination, MovementKind, Registration, Route, SettingKind
from ap_register.models import AttendanceMark, LocalAuthority, Movement, Placement, Pupil, Setting

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
ROLL_KINDS = (MovementKind.ADMITTED, MovementKind.PERMANENT_EXCLUSION, MovementKind.REMOVED_FROM_ROLL)
# Leaving these ways ends the LA's duty to arrange education here.
LEFT_THE_AREA = (Destination.MOVED_OUT_OF_AREA, Destination.ELECTIVE_HOME_EDUCATION)


@dataclass
class Cell:
    """One session (a morning or an afternoon) of one day."""

    day: date
    label: str
    required: bool
    placements: list[Placement] = field(default_factory=list)
    home_school: Setting | None = None  # in school full time: on roll with no arrangement that day

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
    placements: list[Placement]
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


def roll_histories(session: Session, pupil_ids: list[int]) -> dict[int, list[Movement]]:
    """Each pupil's roll movements (admissions, exclusions, removals) in the order they took effect."""
    histories: dict[int, list[Movement]] = defaultdict(list)
    for start in range(0, len(pupil_ids), 500):
        chunk = pupil_ids[start : start + 500]
        for movement in session.scalars(
            select(Movement)
            .where(Movement.pupil_id.in_(chunk), Movement.kind.in_(ROLL_KINDS))
            .order_by(Movement.date, Movement.id)
        ):
            histories[movement.pupil_id].append(movement)
    return histories


def roll_on(history: list[Movement], day: date) -> int | None:
    """The setting whose roll the pupil is on that day (by the ledger), or None."""
    current = None
    for movement in history:
        if movement.date > day:
            break
        current = movement.setting_id if movement.kind == MovementKind.ADMITTED else None
    return current


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

    active = (
        select(Placement)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(
            Pupil.home_la_id == la.id,
            Placement.start_date <= friday,
            or_(Placement.end_date.is_(None), Placement.end_date >= week),
        )
        .options(joinedload(Placement.setting))
    )
    if pupil_ids is not None:
        active = active.where(Placement.pupil_id.in_(pupil_ids))
    placements = list(session.scalars(permissions.scope_placements(actor, active)))
    by_pupil: dict[int, list[Placement]] = defaultdict(list)
    for placement in placements:
        by_pupil[placement.pupil_id].append(placement)

    off_roll_candidates = set(
        session.scalars(
            permissions.scope_pupils(
                actor,
                select(Pupil.id).where(
                    Pupil.home_la_id == la.id,
                    Pupil.id.in_(pupil_ids) if pupil_ids is not None else true(),
                    Pupil.id.in_(
                        select(Movement.pupil_id).where(
                            Movement.kind.in_((MovementKind.PERMANENT_EXCLUSION, MovementKind.REMOVED_FROM_ROLL)),
                            Movement.date <= friday,
                        )
                    ),
                ),
            )
        )
    )
    ids = sorted(set(by_pupil) | off_roll_candidates)
    histories = roll_histories(session, ids)
    left_area = _left_the_area(session, ids, friday)
    pupils = {
        p.id: p
        for start in range(0, len(ids), 500)
        for p in session.scalars(select(Pupil).where(Pupil.id.in_(ids[start : start + 500])))
    }
    roll_ids = {m.setting_id for history in histories.values() for m in history if m.setting_id is not None}
    settings_by_id = {s.id: s for s in session.scalars(select(Setting).where(Setting.id.in_(roll_ids)))}

    results = []
    for pupil_id in ids:
        pupil = pupils[pupil_id]
        history = histories.get(pupil_id, [])
        own = by_pupil.get(pupil_id, [])
        if not own:
            # Only off-roll children of compulsory school age whom the LA must still educate.
            if roll_on(history, friday) is not None or pupil_id in left_area:
                continue
            if not of_compulsory_school_age(pupil.date_of_birth, week):
                continue
        results.append(_pupil_week(pupil, own, history, days, set(school_days), settings_by_id, la))
    _compare_registers(session, results, week, friday, today or date.today())
    results.sort(key=lambda w: (-_severity(w.flags), w.pupil.last_name, w.pupil.first_name, w.pupil.id))
    return WeekCoverage(la, week, 2 * len(school_days), school_days, results)


def _compare_registers(session: Session, weeks: list[PupilWeek], monday: date, friday: date, today: date) -> None:
    """Attended against planned, and the home school's code against the arrangement, for the
    settings that take their registers here (any mark that week). Days after today are not judged."""
    if not weeks:
        return
    # Each pupil's marks of the week: (setting, day, session) -> code.
    marks: dict[int, dict[tuple[int, date, str], str]] = defaultdict(dict)
    for start in range(0, len(weeks), 500):
        ids = [w.pupil.id for w in weeks[start : start + 500]]
        for pupil_id, setting_id, day, half, code in session.execute(
            select(
                AttendanceMark.pupil_id,
                AttendanceMark.setting_id,
                AttendanceMark.date,
                AttendanceMark.session,
                AttendanceMark.code,
            ).where(AttendanceMark.pupil_id.in_(ids), AttendanceMark.date >= monday, AttendanceMark.date <= friday)
        ):
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


def _left_the_area(session: Session, pupil_ids: list[int], by: date) -> set[int]:
    """Pupils whose latest ended placement sent them out of the area or to home education."""
    latest: dict[int, Placement] = {}
    for start in range(0, len(pupil_ids), 500):
        for placement in session.scalars(
            select(Placement)
            .where(Placement.pupil_id.in_(pupil_ids[start : start + 500]), Placement.end_date <= by)
            .order_by(Placement.end_date, Placement.id)
        ):
            latest[placement.pupil_id] = placement
    return {pid for pid, p in latest.items() if p.destination in LEFT_THE_AREA}


def _severity(flags: list[str]) -> int:
    return sum(2 ** (len(FLAGS) - FLAGS.index(flag)) for flag in flags)


def _pupil_week(
    pupil: Pupil,
    placements: list[Placement],
    history: list[Movement],
    days: list[date],
    school_days: set[date],
    settings_by_id: dict[int, Setting],
    la: LocalAuthority,
) -> PupilWeek:
    cells: list[Cell] = []
    planned = unregistered = 0
    part_time = False
    for index, day in enumerate(days):
        active = [p for p in placements if p.start_date <= day and (p.end_date is None or p.end_date >= day)]
        roll = roll_on(history, day)
        for half in (0, 1):
            slot = 2 * index + half
            cell = Cell(day, weekly.LABELS[slot], day in school_days)
            cell.placements = [p for p in active if p.sessions[slot] == "1"]
            if not active and roll is not None:
                cell.home_school = settings_by_id[roll]
            if cell.required:
                planned += len(cell.placements) or (1 if cell.home_school else 0)
                unregistered += sum(1 for p in cell.placements if p.setting.kind == SettingKind.UNREGISTERED_AP)
                part_time = part_time or any(p.route == Route.PART_TIME_TIMETABLE for p in cell.placements)
            cells.append(cell)
    required = [c for c in cells if c.required]
    gaps = [c.label for c in required if not c.covered]
    overlaps = [c.label for c in required if len(c.placements) > 1]
    explicit = [p for c in required for p in c.placements]
    flags = []
    if required:
        if not any(c.covered for c in required):
            flags.append("no_provision")
        if gaps:
            flags.append("below_full_time")
        if (
            explicit
            and all(p.setting.kind == SettingKind.UNREGISTERED_AP for p in explicit)
            and not any(c.home_school for c in required)
        ):
            flags.append("unregistered_only")
        if unregistered > la.unregistered_session_cap:
            flags.append("unregistered_over_limit")
        if overlaps:
            flags.append("overlap")
        if part_time:
            flags.append("part_time_timetable")
    return PupilWeek(pupil, cells, planned, unregistered, gaps, overlaps, flags, placements)
