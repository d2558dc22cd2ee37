"""Attendance marks: a setting's register of the pupils it expects each session, and DfE's
classes of the national codes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Result, or_, select
from sqlalchemy.orm import Session, joinedload

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import among
from ap_register.domain.calendar import SchoolCalendar, calendar_for
from ap_register.domain.errors import DomainError, FieldError, Forbidden, NotFound, Refusal
from ap_register.domain.reference_data import attendance_code_classes, attendance_codes
from ap_register.domain.vocab import MovementKind
from ap_register.models import AttendanceMark, Movement, Placement, Pupil, Setting
from ap_register.placements.roll import roll_movements, roll_on

if TYPE_CHECKING:
    import numpy as np

SESSIONS = ("AM", "PM")
# The national codes of SI 2024/208 reg 10 (Tables 1 to 4) replaced the 2006 set on 19 August 2024
# (reg 1(2)): a code DfE lists as legacy is a true record of a session before that day only.
CODES_FROM = date(2024, 8, 19)


# --- the rules of a mark, for every channel (the register page, the API, the attendance import) ---


def session_problems(day: date, half: str, today: date, calendar: SchoolCalendar | None = None) -> list[FieldError]:
    """What is wrong with taking a register for this session. A register is taken at the start of
    the morning session and once in the afternoon (SI 2024/208 reg 10(1)) of each school session:
    so on a school day of the setting's LA (`calendar`: a weekday in its term dates that is not a
    bank holiday; without a calendar, a weekday), and never ahead of the session."""
    problems = []
    if half not in SESSIONS:
        problems.append(FieldError("session", "Session must be AM (morning) or PM (afternoon)"))
    if day > today:
        problems.append(
            FieldError("date", f"{day:%-d %B %Y} is in the future: a register is taken on the day, for the session")
        )
    closed = calendar.closed(day) if calendar is not None else (f"is a {day:%A}" if day.weekday() > 4 else None)
    if closed:
        problems.append(FieldError("date", f"{day:%-d %B %Y} {closed}: registers are taken on school days"))
    return problems


# Present when the register is taken: "/" in a morning session, "\" in an afternoon one (SI
# 2024/208 reg 10(2), Table 1).
PRESENT = {"AM": "/", "PM": "\\"}
# The codes a register uses most, first in its list: present, late, and the codes for pupils
# educated elsewhere (D, B, K, C2), then the commonest absences.
COMMON_CODES = ("L", "D", "B", "K", "C2", "I", "M", "N", "O", "U", "E")


def code_problem(code: str, day: date | None, half: str | None = None) -> str | None:
    """Why `code` cannot be recorded for a session on `day` (None: a day not known) and `half`
    (None: not known), or None."""
    info = attendance_codes().get(code)
    if info is None:
        return f"{code!r} is not a national attendance code"
    if not info.in_use and day is not None and day >= CODES_FROM:
        return f"{code} is no longer in use from 19 August 2024"
    if half in PRESENT and code in PRESENT.values() and code != PRESENT[half]:
        when = "morning" if code == PRESENT["AM"] else "afternoon"
        return f"{code} is present in the {when} (SI 2024/208 reg 10(2)): in this session it is {PRESENT[half]}"
    return None


@dataclass(frozen=True)
class Booking:
    """A placement as the register sees it: where, when and which of the week's sessions."""

    setting_id: int
    start_date: date
    end_date: date | None
    sessions: str


def expected_at(setting_id: int, roll_school_id: int | None, day: date, half: str, bookings: Sequence[Booking]) -> bool:
    """Whether a setting takes a pupil's attendance for a session. A school records the attendance
    of each of its registered pupils every session (SI 2024/208 reg 10(1)): the school whose roll
    the pupil is on that day (`roll_on`), whatever else is arranged (a session spent elsewhere
    is marked D, B, K or C2); and a setting where the pupil is placed for that session.
    `bookings` are the pupil's placements; any not running on `day` are ignored."""
    if day.weekday() > 4 or half not in SESSIONS:
        return False
    if roll_school_id == setting_id:
        return True
    slot = 2 * day.weekday() + SESSIONS.index(half)
    return any(
        b.setting_id == setting_id
        and b.sessions[slot] == "1"
        and b.start_date <= day
        and (b.end_date is None or b.end_date >= day)
        for b in bookings
    )


def expected_columns(
    setting_ids: np.ndarray,
    roll_ids: np.ndarray,
    days: np.ndarray,
    halves: np.ndarray,
    pupil_ids: np.ndarray,
    bookings: Sequence[tuple[int, Booking]],
) -> np.ndarray:
    """`expected_at` for many marks at once (the attendance import's columns): each mark's
    setting, the school whose roll the pupil is on that day (-1 for none), the day (as
    `date.toordinal`), the session, and the pupil; `bookings` are the pupils' placements as
    (pupil id, booking). The same rule, a column at a time: a weekday session, and the setting
    either the roll's school or a placement's for that session. Tests hold it to `expected_at`
    (tests/unit/test_import_columns.py)."""
    import numpy as np  # here, not at the top: only imports need them, not every page's process
    import pandas as pd

    weekday = (days - 1) % 7  # date(1, 1, 1), ordinal 1, was a Monday
    half = np.where(halves == SESSIONS[0], 0, np.where(halves == SESSIONS[1], 1, -1))
    usable = (weekday <= 4) & (half >= 0)
    expected = usable & (roll_ids == setting_ids)
    rest = np.flatnonzero(usable & ~expected)
    if not len(rest) or not bookings:
        return np.asarray(expected, dtype=bool)
    asked = pd.DataFrame(
        {
            "row": rest,
            "pupil_id": pupil_ids[rest],
            "setting_id": setting_ids[rest],
            "day": days[rest],
            "slot": 2 * weekday[rest] + half[rest],
        }
    )
    held = pd.DataFrame(
        {
            "pupil_id": [pupil_id for pupil_id, _ in bookings],
            "setting_id": [b.setting_id for _, b in bookings],
            "start": [b.start_date.toordinal() for _, b in bookings],
            "end": [b.end_date.toordinal() if b.end_date is not None else date.max.toordinal() for _, b in bookings],
            "sessions": [b.sessions.ljust(10, "0")[:10] for _, b in bookings],
        }
    )
    pairs = asked.merge(held, on=["pupil_id", "setting_id"])
    if pairs.empty:
        return np.asarray(expected, dtype=bool)
    bits = np.array(pairs["sessions"].tolist(), dtype="S10").view(np.uint8).reshape(-1, 10)
    slots = pairs["slot"].to_numpy()
    day = pairs["day"].to_numpy()
    running = (pairs["start"].to_numpy() <= day) & (pairs["end"].to_numpy() >= day)
    booked = bits[np.arange(len(pairs)), slots] == ord("1")
    expected[pairs["row"].to_numpy()[running & booked]] = True
    return np.asarray(expected, dtype=bool)


def code_class(code: str) -> str:
    """DfE's statistical class of a code (from its published data dictionary): Present, Approved
    educational activity, Authorised, Unauthorised, or Management and legacy codes."""
    found = attendance_code_classes().get(code)
    return found.type if found is not None else "Not counted"


def counts_as_attendance(code: str) -> bool:
    """True for the codes DfE counts as attendance: present, and approved educational activity."""
    found = attendance_code_classes().get(code)
    return found is not None and found.status == "Attendance"


def codes_in_use() -> list[tuple[str, str]]:
    return [(c.code, f"{c.code}: {c.meaning}") for c in attendance_codes().values() if c.in_use]


def codes_for(half: str) -> list[tuple[str, str]]:
    """The codes a register of this session offers: only those valid for it (the session's own
    present mark), the ones used most first."""
    usable = {code: text for code, text in codes_in_use() if code_problem(code, None, half) is None}
    first = [PRESENT[half], *COMMON_CODES] if half in PRESENT else list(COMMON_CODES)
    return [(c, usable[c]) for c in first if c in usable] + [(c, t) for c, t in usable.items() if c not in first]


@dataclass
class Expected:
    pupil: Pupil
    placement: Placement | None  # None: on this school's roll with nothing arranged that day
    away_at: list[str]  # where else the pupil is booked this session (for a home school's D, B or K)
    mark: str | None


def expected(session: Session, actor: Actor, setting: Setting, day: date, half: str) -> list[Expected]:
    """The pupils this setting should mark for one session (`expected_at`): those on its roll that
    day (who are here, or booked elsewhere and marked with a D, B, K or C2), and those placed here
    for the session. Decided on the ledger's columns first, so that only the children the
    register shows are loaded (and so recorded as seen)."""
    if day.weekday() > 4 or half not in SESSIONS:
        return []
    slot = 2 * day.weekday() + SESSIONS.index(half)
    running = (Placement.start_date <= day) & or_(Placement.end_date.is_(None), Placement.end_date >= day)
    placed_here = permissions.scope_placements(
        actor, select(Placement.pupil_id).where(Placement.setting_id == setting.id, running)
    )
    # Whoever may be on the roll that day: on it now, or admitted here by then.
    admitted_here = select(Movement.pupil_id).where(
        Movement.setting_id == setting.id, Movement.kind == MovementKind.ADMITTED, Movement.date <= day
    )
    candidates = permissions.scope_pupils(
        actor,
        select(Pupil.id, Pupil.home_school_id).where(
            or_(Pupil.home_school_id == setting.id, Pupil.id.in_(admitted_here), Pupil.id.in_(placed_here))
        ),
    )
    recorded: dict[int, int | None] = {pupil_id: school_id for pupil_id, school_id in session.execute(candidates)}
    rolls = roll_movements(session, list(recorded))
    bookings: dict[int, list[Booking]] = defaultdict(list)
    for pupil_id, setting_id, start, end, week in session.execute(
        select(
            Placement.pupil_id, Placement.setting_id, Placement.start_date, Placement.end_date, Placement.sessions
        ).where(among(session, Placement.__table__.c.pupil_id, list(recorded)), running)
    ):
        bookings[pupil_id].append(Booking(setting_id, start, end, week))
    shown = [
        pupil_id
        for pupil_id, home_school_id in recorded.items()
        if expected_at(setting.id, roll_on(day, rolls.get(pupil_id, []), home_school_id), day, half, bookings[pupil_id])
    ]
    pupils = {p.id: p for p in session.scalars(select(Pupil).where(Pupil.id.in_(shown)))}
    arranged: dict[int, list[Placement]] = defaultdict(list)
    for placement in session.scalars(
        select(Placement).where(Placement.pupil_id.in_(shown), running).options(joinedload(Placement.setting))
    ):
        arranged[placement.pupil_id].append(placement)
    rows: dict[int, Expected] = {}
    for pupil_id in shown:
        placements = arranged[pupil_id]
        mine = next((p for p in placements if p.setting_id == setting.id and p.sessions[slot] == "1"), None)
        away = [] if mine else [p.setting.name for p in placements if p.sessions[slot] == "1"]
        rows[pupil_id] = Expected(pupils[pupil_id], mine, away, None)
    marks = {
        m.pupil_id: m.code
        for m in session.scalars(
            select(AttendanceMark).where(
                AttendanceMark.setting_id == setting.id,
                AttendanceMark.date == day,
                AttendanceMark.session == half,
                AttendanceMark.pupil_id.in_(list(rows)),
            )
        )
    }
    for pupil_id, row in rows.items():
        row.mark = marks.get(pupil_id)
    return sorted(rows.values(), key=lambda r: (r.pupil.last_name, r.pupil.first_name, r.pupil.id))


def register_problems(session: Session, setting: Setting, day: date, half: str, today: date) -> list[FieldError]:
    """Why this setting's register cannot be taken for this session (`session_problems`, on the
    calendar of the setting's LA); empty when it can."""
    return session_problems(day, half, today, calendar_for(session, setting.la))


def may_take_register(actor: Actor, setting: Setting) -> bool:
    return permissions.acts_for(actor, "attendance.record", setting)


def record_register(
    session: Session,
    actor: Actor,
    setting: Setting,
    day: date,
    half: str,
    marks: dict[int, str],
    today: date | None = None,
    *,
    unmarked_present: bool = False,
) -> int:
    """Record a session's marks for the pupils this setting expects; returns how many were written.
    `unmarked_present`: every expected pupil given no code, not marked before and not booked
    elsewhere this session, is marked present (the session's own code) with them ("mark all
    present"); a pupil booked elsewhere is left for their D, B, K or C2."""
    if not may_take_register(actor, setting):
        raise Forbidden("You can take the register of your own setting only")
    marks = {pupil_id: code.strip().upper() for pupil_id, code in marks.items()}
    refusal = Refusal()
    for problem in register_problems(session, setting, day, half, today or clock.today()):
        refusal.add(problem.field, problem.message)
    refusal.raise_if_any("The register was not saved")
    rows = expected(session, actor, setting, day, half)
    allowed = {row.pupil.id for row in rows}
    if unmarked_present:
        for row in rows:
            if not marks.get(row.pupil.id) and not row.mark and not row.away_at:
                marks[row.pupil.id] = PRESENT[half]
    for pupil_id, code in marks.items():
        if pupil_id not in allowed:
            refusal.add(f"mark-{pupil_id}", "This pupil is not expected here for this session")
        elif code and (wrong := code_problem(code, day, half)):
            refusal.add(f"mark-{pupil_id}", wrong)
    refusal.raise_if_any("The register was not saved")
    written = 0
    for pupil_id, code in marks.items():
        if not code:
            continue
        mark = session.scalar(
            select(AttendanceMark).where(
                AttendanceMark.pupil_id == pupil_id,
                AttendanceMark.setting_id == setting.id,
                AttendanceMark.date == day,
                AttendanceMark.session == half,
            )
        )
        if mark is None:
            session.add(
                AttendanceMark(
                    pupil_id=pupil_id,
                    setting_id=setting.id,
                    date=day,
                    session=half,
                    code=code,
                    recorded_by_id=actor.user_id,
                )
            )
        elif mark.code == code:
            continue
        else:
            mark.code, mark.recorded_by_id = code, actor.user_id
        written += 1
        audit.record(
            session,
            actor,
            "record_attendance",
            "attendance_mark",
            None,
            pupil_id=pupil_id,
            detail={"setting_id": setting.id, "date": day.isoformat(), "session": half, "code": code},
        )
    session.flush()
    return written


@dataclass(frozen=True)
class Mark:
    pupil_id: int
    setting_id: int
    date: date
    session: str
    code: str


def record_marks(session: Session, actor: Actor, marks: list[Mark]) -> int:
    """Marks for any number of settings and sessions, all or nothing: each session's marks are
    checked as `record_register` checks a register. Every problem is named by the mark's place in
    the list (`marks.N`); a setting outside the actor's area is NotFound, as if it did not exist.
    Returns how many marks were new or changed."""
    groups: dict[tuple[int, date, str], dict[int, str]] = defaultdict(dict)
    where: dict[tuple[int, date, str, int], int] = {}
    problems: list[FieldError] = []
    for index, mark in enumerate(marks):
        key = (mark.setting_id, mark.date, mark.session)
        if mark.pupil_id in groups[key]:
            problems.append(FieldError(f"marks.{index}", "The same pupil and session is in the list twice"))
        groups[key][mark.pupil_id] = mark.code.upper()
        where[(*key, mark.pupil_id)] = index
    wanted = {setting_id for setting_id, _, _ in groups}
    settings_by_id = {
        s.id: s
        for s in session.scalars(permissions.scope_settings(actor, select(Setting).where(Setting.id.in_(wanted))))
    }
    if wanted - set(settings_by_id):
        raise NotFound("Not found")
    written = 0
    for (setting_id, day, half), own in groups.items():
        try:
            with session.begin_nested():
                written += record_register(session, actor, settings_by_id[setting_id], day, half, own)
        except (Forbidden, NotFound):
            raise  # not the actor's register to take: the whole request is refused (403, 404)
        except DomainError as error:
            for problem in error.errors:
                if problem.field.startswith("mark-"):
                    index = where[(setting_id, day, half, int(problem.field.split("-")[1]))]
                    problems.append(FieldError(f"marks.{index}", problem.message))
                else:
                    first = min(where[(setting_id, day, half, p)] for p in own)
                    problems.append(FieldError(f"marks.{first}.{problem.field}", problem.message))
    if problems:
        raise DomainError("No marks were recorded", problems)
    return written


def marks_between(
    session: Session, pupil_ids: Sequence[int], first: date, last: date
) -> Result[tuple[int, int, int, date, str, str]]:
    """The marks held for these pupils from `first` to `last`, as rows of (id, pupil_id,
    setting_id, date, session, code)."""
    return session.execute(
        select(
            AttendanceMark.id,
            AttendanceMark.pupil_id,
            AttendanceMark.setting_id,
            AttendanceMark.date,
            AttendanceMark.session,
            AttendanceMark.code,
        ).where(
            among(session, AttendanceMark.__table__.c.pupil_id, pupil_ids),
            AttendanceMark.date >= first,
            AttendanceMark.date <= last,
        )
    )


@dataclass(frozen=True)
class WeekAttendance:
    """A pupil's marks at one setting in one week: sessions attended of those possible."""

    monday: date
    setting_id: int
    attended: int
    possible: int

    @property
    def share(self) -> float | None:
        return round(100 * self.attended / self.possible, 1) if self.possible else None


def attendance_by_week(session: Session, pupil_id: int, today: date, weeks: int = 12) -> list[WeekAttendance]:
    """A pupil's attendance week by week at each setting that marks them, over the last `weeks`
    weeks to `today`, oldest first: attended sessions are present or approved educational
    activity, possible ones those DfE counts (a D or an X is neither)."""
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    codes = attendance_codes()
    counts: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0])
    marks = session.execute(
        select(AttendanceMark.setting_id, AttendanceMark.date, AttendanceMark.code).where(
            AttendanceMark.pupil_id == pupil_id, AttendanceMark.date >= first, AttendanceMark.date <= today
        )
    ).all()
    for setting_id, day, code in marks:
        info = codes.get(code)
        if info is None or not info.counts_in_possible_sessions:
            continue
        tally = counts[(day - timedelta(days=day.weekday()), setting_id)]
        tally[0] += counts_as_attendance(code)
        tally[1] += 1
    return [WeekAttendance(monday, setting_id, a, p) for (monday, setting_id), (a, p) in sorted(counts.items())]
