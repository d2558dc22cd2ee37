"""Attendance marks: a setting's register of the pupils it expects each session, and DfE's
classes of the national codes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Result, or_, select
from sqlalchemy.orm import Session, joinedload

from ap_register import clock, permissions
from ap_register.domain import audit, week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import among
from ap_register.domain.errors import DomainError, FieldError, Forbidden, NotFound, Refusal
from ap_register.domain.reference_data import attendance_code_classes, attendance_codes
from ap_register.models import AttendanceMark, Placement, Pupil, Setting

SESSIONS = ("AM", "PM")
# The codes a home school records for a session its pupil spends elsewhere.
AWAY_CODES = frozenset({"D", "B", "K", "C2"})


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


@dataclass
class Expected:
    pupil: Pupil
    placement: Placement | None  # None: on this school's roll with nothing arranged that day
    away_at: list[str]  # where else the pupil is booked this session (for a home school's D, B or K)
    mark: str | None


def expected(session: Session, actor: Actor, setting: Setting, day: date, half: str) -> list[Expected]:
    """The pupils this setting should mark for one session: those placed here for it, and those
    on its roll (who are here, or booked elsewhere and marked with a D, B, K or C2)."""
    slot = 2 * day.weekday() + SESSIONS.index(half)
    if day.weekday() > 4:
        return []
    active = (Placement.start_date <= day) & or_(Placement.end_date.is_(None), Placement.end_date >= day)
    here = permissions.scope_placements(
        actor, select(Placement).where(Placement.setting_id == setting.id, active).options(joinedload(Placement.pupil))
    )
    rows: dict[int, Expected] = {}
    for placement in session.scalars(here):
        if placement.sessions[slot] == "1":
            rows[placement.pupil_id] = Expected(placement.pupil, placement, [], None)
    on_roll = [
        p
        for p in session.scalars(
            permissions.scope_pupils(actor, select(Pupil).where(Pupil.home_school_id == setting.id))
        )
        if p.id not in rows
    ]
    arranged: dict[int, list[Placement]] = defaultdict(list)
    for placement in session.scalars(
        select(Placement)
        .where(Placement.pupil_id.in_([p.id for p in on_roll]), active)
        .options(joinedload(Placement.setting))
    ):
        arranged[placement.pupil_id].append(placement)
    for pupil in on_roll:
        elsewhere = arranged[pupil.id]
        booked = [p.setting.name for p in elsewhere if p.sessions[slot] == "1" and p.setting_id != setting.id]
        if elsewhere and not booked:
            continue  # arranged elsewhere on other sessions; not expected here now
        rows[pupil.id] = Expected(pupil, None, booked, None)
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
) -> int:
    """Record a session's marks for the pupils this setting expects; returns how many were written."""
    if not may_take_register(actor, setting):
        raise Forbidden("You can take the register of your own setting only")
    today = today or clock.today()
    refusal = Refusal()
    if half not in SESSIONS:
        refusal.add("session", "Choose the morning (AM) or afternoon (PM) session")
    if day > today:
        refusal.add("date", "A register cannot be taken for a future date")
    if day.weekday() > 4:
        refusal.add("date", "Choose a weekday")
    refusal.raise_if_any("The register was not saved")
    allowed = {row.pupil.id: row for row in expected(session, actor, setting, day, half)}
    codes = attendance_codes()
    for pupil_id, code in marks.items():
        if pupil_id not in allowed:
            refusal.add(f"mark-{pupil_id}", "This pupil is not expected here for this session")
        elif code and (code not in codes or not codes[code].in_use):
            refusal.add(f"mark-{pupil_id}", f"{code} is not a national attendance code in use")
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


def label(day: date, half: str) -> str:
    return week_pattern.LABELS[2 * day.weekday() + SESSIONS.index(half)]


def marks_between(session: Session, pupil_ids: Sequence[int], first: date, last: date) -> Result[Any]:
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
            among(session, AttendanceMark.pupil_id, pupil_ids),
            AttendanceMark.date >= first,
            AttendanceMark.date <= last,
        )
    )
