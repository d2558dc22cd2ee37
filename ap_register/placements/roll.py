"""Whose roll a pupil is on, read from the movement ledger, and where a permanent exclusion stands.

An admission puts a pupil on a school's roll; a removal takes them off it. A permanent exclusion
does not: the pupil stays on the excluding school's roll until the exclusion process is over
(SI 2024/208 reg 9(1), the permanent exclusion ground; the suspension and permanent exclusion
guidance in force from 26 July 2026, on removing a permanently excluded pupil's name):

- the governing board considers reinstatement (within 15 school days of being told of the
  exclusion, SI 2012/1033 reg 6 (maintained schools), reg 15 (PRUs), reg 24 (academies));
  reinstatement ends the exclusion and the pupil stays;
- when the board will not reinstate (`exclusion_upheld`, dated the day the parents were told),
  the parents have 15 school days to ask for an independent review (SI 2012/1033 Sch 1 para 2(1)):
  with none asked for, the name is removed once those 15 school days have passed;
- when a review is asked for, the name is removed when the review, and any reconsideration it
  asks of the board, is over (`review_concluded`), unless the board then reinstates;
- the parents may say in writing that they will not ask for a review: the school then records
  the removal itself (`removed_from_roll`), as it may at any point the law allows.

School days are the excluding school's: its LA's term dates, less bank holidays. Where the
register cannot count them (no term dates that far), it derives no removal: the pupil stays on
the roll until the school records it, which is the side the law errs on.

Everything here but `roll_movements` (which reads the ledger) is plain Python over plain values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.bulk import among
from ap_register.domain.calendar import SchoolCalendar, calendars_for
from ap_register.domain.errors import CalendarUnknown
from ap_register.domain.vocab import EXCLUSION_PROCESS_KINDS, ROLL_KINDS, MovementKind
from ap_register.models import LocalAuthority, Movement, Pupil, Setting

# SI 2012/1033 regs 6, 15 and 24: the governing board considers reinstatement within 15 school
# days of receiving notice of the exclusion.
BOARD_DECISION_SCHOOL_DAYS = 15
# SI 2012/1033 Sch 1 para 2(1): an application for an independent review "within 15 school days
# after the day on which" the parents are given notice of the board's decision not to reinstate.
REVIEW_APPLICATION_SCHOOL_DAYS = 15


@dataclass(frozen=True, slots=True)
class RollMovement:
    """A movement that bears on a school's roll, as the register reads it."""

    day: date
    order: int  # the ledger's order within a day
    kind: MovementKind
    setting_id: int | None
    # For a board's decision not to reinstate: the last day the parents may ask for a review (the
    # fifteenth school day after they were told), when the school's calendar can count it.
    review_closes: date | None = None
    # For a suspension: its last school day, when the school's calendar can count it.
    suspended_to: date | None = None


@dataclass
class Exclusion:
    """Where one permanent exclusion stands."""

    setting_id: int | None
    excluded_on: date
    upheld_on: date | None = None  # the day the parents were told the board will not reinstate
    review_closes: date | None = None
    review_requested_on: date | None = None
    reinstated_on: date | None = None
    removed_on: date | None = None  # the first day off the roll
    removal_derived: bool = False  # removed by the lapse of the review period, not by a record

    def over_by(self, day: date) -> bool:
        ended = self.reinstated_on or self.removed_on
        return ended is not None and ended <= day

    def stage_on(self, day: date) -> str:
        """Where the process stands on `day`: board, review_period, review, reinstated or removed."""
        if self.reinstated_on is not None and self.reinstated_on <= day:
            return "reinstated"
        if self.removed_on is not None and self.removed_on <= day:
            return "removed"
        if self.review_requested_on is not None:
            return "review"
        if self.upheld_on is not None:
            return "review_period"
        return "board"


@dataclass
class RollReading:
    """The roll as the ledger says: each change (the first day on a school's roll, or off every
    roll), and every permanent exclusion with where it stands."""

    changes: list[tuple[date, int | None]] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    suspensions: list[tuple[date, date]] = field(default_factory=list)  # first and last day

    def away(self, day: date) -> str | None:
        """Why the school whose roll the pupil is on does not teach them on `day`: "excluded"
        while a permanent exclusion is in process, "suspended" during a suspension; else None."""
        for exclusion in self.exclusions:
            ended = exclusion.reinstated_on or exclusion.removed_on
            if exclusion.excluded_on <= day and (ended is None or day < ended):
                return "excluded"
        if any(first <= day <= last for first, last in self.suspensions):
            return "suspended"
        return None

    def on(self, day: date, recorded: int | None) -> int | None:
        if not self.changes:
            return recorded
        held = None
        for start, setting_id in self.changes:
            if start > day:
                break
            held = setting_id
        return held

    def next_change(self, after: date) -> tuple[date, int | None] | None:
        """The first change of roll the ledger holds for a day after `after` (a move recorded
        ahead of its day), as it stands at the end of that day, if any."""
        ahead = [(day, setting_id) for day, setting_id in self.changes if day > after]
        if not ahead:
            return None
        return ahead[0][0], self.on(ahead[0][0], None)

    def open_exclusion(self, day: date) -> Exclusion | None:
        """The exclusion in process on `day`, if any."""
        for exclusion in reversed(self.exclusions):
            if exclusion.excluded_on <= day and not exclusion.over_by(day):
                return exclusion
        return None


def read_roll(movements: Sequence[RollMovement]) -> RollReading:
    reading = RollReading()
    current: Exclusion | None = None  # the permanent exclusion in process, if any
    holder: int | None = None  # whose roll the pupil is on, as read so far

    def off(day: date, from_setting: int | None) -> None:
        """The pupil leaves `from_setting`'s roll on `day` (only if they are on it)."""
        nonlocal holder
        if holder is not None and holder == from_setting:
            reading.changes.append((day, None))
            holder = None

    def lapse(before: date | None) -> None:
        """Remove the pupil when the review period lapsed unasked (before `before`; None: ever)."""
        nonlocal current
        if current is None or current.upheld_on is None or current.review_closes is None:
            return
        if current.review_requested_on is not None:
            return
        removed = current.review_closes + timedelta(days=1)
        if before is None or removed <= before:
            current.removed_on, current.removal_derived = removed, True
            off(removed, current.setting_id)
            current = None

    for m in sorted(movements, key=lambda m: (m.day, m.order)):
        lapse(m.day)
        if m.kind == MovementKind.SUSPENSION:
            reading.suspensions.append((m.day, m.suspended_to or m.day))
        elif m.kind == MovementKind.ADMITTED:
            reading.changes.append((m.day, m.setting_id))
            holder = m.setting_id
            if current is not None and current.setting_id != m.setting_id:
                # On another school's roll alone: the excluding school's roll is left behind.
                current.removed_on = m.day
                current = None
        elif m.kind == MovementKind.REMOVED_FROM_ROLL:
            if not reading.changes and m.setting_id is not None:
                # No admission on the ledger (a record older than it): on that roll until removed.
                reading.changes.append((date.min, m.setting_id))
            reading.changes.append((m.day, None))
            holder = None
            if current is not None:
                current.removed_on = m.day
                current = None
        elif m.kind == MovementKind.PERMANENT_EXCLUSION:
            if not reading.changes:
                # No admission on the ledger (a record older than it): on the excluding school's
                # roll until the exclusion is over.
                reading.changes.append((date.min, m.setting_id))
                holder = m.setting_id
            current = Exclusion(m.setting_id, m.day)
            reading.exclusions.append(current)
        elif current is None or current.setting_id != m.setting_id:
            continue  # a step with no exclusion from that school in process: refused when recorded
        elif m.kind == MovementKind.EXCLUSION_UPHELD:
            current.upheld_on, current.review_closes = m.day, m.review_closes
        elif m.kind == MovementKind.REVIEW_REQUESTED:
            current.review_requested_on = m.day
        elif m.kind == MovementKind.REVIEW_CONCLUDED:
            current.removed_on = m.day
            off(m.day, current.setting_id)
            current = None
        elif m.kind == MovementKind.REINSTATED:
            current.reinstated_on = m.day
            current = None
    lapse(None)
    return reading


def exclusion_step_problem(
    reading: RollReading, kind: MovementKind, day: date, setting: Setting, name: str
) -> tuple[str, str] | None:
    """What is wrong with recording this step of a permanent exclusion from `setting` on `day`
    (a field and a message), or None."""
    at_setting = [e for e in reading.exclusions if e.setting_id == setting.id and e.excluded_on <= day]
    if not at_setting:
        return "kind", f"{name} has no permanent exclusion from {setting.name} recorded on or before {day:%-d %B %Y}"
    exclusion = at_setting[-1]
    if exclusion.over_by(day):
        if exclusion.reinstated_on is not None:
            return "kind", f"{name} was reinstated at {setting.name} on {exclusion.reinstated_on:%-d %B %Y}"
        assert exclusion.removed_on is not None
        if exclusion.removal_derived and kind == MovementKind.REVIEW_REQUESTED and exclusion.upheld_on is not None:
            return "date", (
                f"The time to ask for a review ended on {exclusion.review_closes:%-d %B %Y}, 15 school days after "
                f"the parents were told on {exclusion.upheld_on:%-d %B %Y} (SI 2012/1033 Sch 1 para 2(1))"
            )
        how = " (the time to ask for a review had passed)" if exclusion.removal_derived else ""
        return (
            "kind",
            f"{name} left {setting.name}'s roll on {exclusion.removed_on:%-d %B %Y}{how}: the exclusion is over",
        )
    since = f"since {exclusion.excluded_on:%-d %B %Y}"
    if kind == MovementKind.EXCLUSION_UPHELD and exclusion.upheld_on is not None:
        return "kind", f"The board's decision not to reinstate is recorded already ({exclusion.upheld_on:%-d %B %Y})"
    if kind == MovementKind.REVIEW_REQUESTED:
        if exclusion.upheld_on is None:
            return "kind", "A review is asked for after the board decides not to reinstate: record that decision first"
        if exclusion.review_requested_on is not None:
            return "kind", f"A review was asked for on {exclusion.review_requested_on:%-d %B %Y} already"
        if day < exclusion.upheld_on:
            return (
                "date",
                f"The parents were told of the board's decision on {exclusion.upheld_on:%-d %B %Y}: "
                "a review is asked for after that",
            )
    if kind == MovementKind.REVIEW_CONCLUDED:
        if exclusion.review_requested_on is None:
            return "kind", f"No review of the exclusion {since} was asked for"
        if day < exclusion.review_requested_on:
            return "date", f"The review was asked for on {exclusion.review_requested_on:%-d %B %Y}: it ends after that"
    return None


def roll_on(day: date, movements: Sequence[RollMovement], recorded: int | None) -> int | None:
    """The school whose roll the pupil is on at `day`. A pupil whose ledger holds no roll movement
    at all is on the roll they are recorded on."""
    return read_roll(movements).on(day, recorded)


def review_closes(calendar: SchoolCalendar, told: date) -> date | None:
    """The last day parents told on `told` may ask for a review, or None when the calendar cannot
    count that far."""
    try:
        return calendar.add_school_days(told, REVIEW_APPLICATION_SCHOOL_DAYS)
    except CalendarUnknown:
        return None


def suspension_ends(calendar: SchoolCalendar, first: date, days: int) -> date | None:
    """The last school day of a suspension of `days` school days from `first`."""
    try:
        return calendar.nth_school_day(first, days)
    except CalendarUnknown:
        return None


def board_decision_due(calendar: SchoolCalendar, excluded: date) -> date | None:
    try:
        return calendar.add_school_days(excluded, BOARD_DECISION_SCHOOL_DAYS)
    except CalendarUnknown:
        return None


def roll_movements(session: Session, pupil_ids: Sequence[int]) -> dict[int, list[RollMovement]]:
    """The movements of these pupils that bear on their roll, for `roll_on` and `read_roll`."""
    found: dict[int, list[RollMovement]] = defaultdict(list)
    counted: list[tuple[int, int, int, int]] = []  # a movement whose end the calendar counts
    kinds = (*ROLL_KINDS, *EXCLUSION_PROCESS_KINDS, MovementKind.SUSPENSION)
    # The ids as one parameter (`bulk.among`): one statement and one plan, however many.
    for pupil_id, day, order, kind, setting_id, days, la_id in session.execute(
        select(
            Movement.pupil_id,
            Movement.date,
            Movement.id,
            Movement.kind,
            Movement.setting_id,
            Movement.days,
            Setting.la_id,
        )
        .outerjoin(Setting, Movement.setting_id == Setting.id)
        .where(among(session, Movement.pupil_id, list(pupil_ids)), Movement.kind.in_(kinds))
    ):
        if la_id is not None and kind in (MovementKind.EXCLUSION_UPHELD, MovementKind.SUSPENSION):
            counted.append((pupil_id, len(found[pupil_id]), la_id, days or 1))
        found[pupil_id].append(RollMovement(day, order, MovementKind(kind), setting_id))
    if counted:
        las = list(session.scalars(select(LocalAuthority).where(LocalAuthority.id.in_({c[2] for c in counted}))))
        calendars = calendars_for(session, las)
        for pupil_id, index, la_id, days in counted:
            m = found[pupil_id][index]
            calendar = calendars[la_id]
            if m.kind == MovementKind.EXCLUSION_UPHELD:
                found[pupil_id][index] = replace(m, review_closes=review_closes(calendar, m.day))
            else:
                found[pupil_id][index] = replace(m, suspended_to=suspension_ends(calendar, m.day, days))
    return found


def reading_of(session: Session, pupil: Pupil) -> RollReading:
    return read_roll(roll_movements(session, [pupil.id]).get(pupil.id, []))


def _in_step(session: Session, pupils: Sequence[Pupil], today: date) -> int:
    """Set each pupil's recorded school of main registration to the one the ledger says on
    `today`; how many changed."""
    histories = roll_movements(session, [p.id for p in pupils])
    changed = 0
    for pupil in pupils:
        held = roll_on(today, histories.get(pupil.id, []), pupil.home_school_id)
        if held != pupil.home_school_id:
            pupil.home_school_id = held
            changed += 1
    session.flush()
    return changed


def refresh_roll(session: Session, pupil: Pupil, today: date | None = None) -> None:
    """Set the pupil's recorded school of main registration to the one the ledger says today."""
    if _in_step(session, [pupil], today or clock.today()):
        session.refresh(pupil, ["home_school"])


def refresh_rolls(session: Session, today: date) -> int:
    """Bring every recorded roll in step with the ledger on `today`: a review period that lapsed
    overnight takes the pupil off the excluding school's roll, and a change of roll recorded ahead
    (a placement with sole registration from a later day) takes effect on its day. Looks back 40
    days, so a job that did not run for a month catches up. Returns how many pupils changed."""
    pupil_ids = list(
        session.scalars(
            select(Movement.pupil_id)
            .where(
                (Movement.kind == MovementKind.EXCLUSION_UPHELD)
                | (Movement.kind.in_(ROLL_KINDS) & (Movement.date > today - timedelta(days=40)))
            )
            .distinct()
        )
    )
    changed = 0
    for start in range(0, len(pupil_ids), 1_000):
        chunk = pupil_ids[start : start + 1_000]
        pupils = session.scalars(select(Pupil).where(among(session, Pupil.id, chunk))).all()
        changed += _in_step(session, pupils, today)
    return changed


def settings_on_roll(
    session: Session, asked: Sequence[tuple[int, date]], *, while_excluded: bool = True
) -> list[int | None]:
    """For each (pupil, day) asked, the setting whose roll the pupil was on that day (`roll_on`),
    for thousands of pairs: each pupil's ledger is read once. `while_excluded=False`: a pupil whose
    permanent exclusion is in process that day counts as on no roll (a measure of who stayed in
    school asks that; the law keeps them on the roll)."""
    pupil_ids = sorted({pupil_id for pupil_id, _ in asked})
    readings = {pupil_id: read_roll(found) for pupil_id, found in roll_movements(session, pupil_ids).items()}
    recorded: dict[int, int | None] = dict(
        session.execute(select(Pupil.id, Pupil.home_school_id).where(among(session, Pupil.id, pupil_ids))).all()
    )
    found: list[int | None] = []
    for pupil_id, day in asked:
        reading = readings.get(pupil_id)
        if reading is None:
            found.append(recorded.get(pupil_id))
        elif not while_excluded and reading.away(day) == "excluded":
            found.append(None)
        else:
            found.append(reading.on(day, recorded.get(pupil_id)))
    return found


@dataclass(frozen=True)
class ExclusionStory:
    """A permanent exclusion as the pupil's page tells it: a heading and rows of (key, value)."""

    heading: str
    rows: list[tuple[str, str]]
    in_process: bool


def _d(day: date) -> str:
    return f"{day:%-d %B %Y}"


def roll_ahead(session: Session, pupil: Pupil, today: date) -> str | None:
    """The change of roll recorded ahead of its day, as the pupil's page says it: the roll
    changes on that day, not on the day it was decided."""
    change = reading_of(session, pupil).next_change(today)
    if change is None:
        return None
    day, setting_id = change
    setting = session.get(Setting, setting_id) if setting_id is not None else None
    if setting is None:
        return f"Leaves the roll on {_d(day)}"
    return f"Moves to {setting.name}'s roll on {_d(day)}"


def exclusion_stories(session: Session, pupil: Pupil, today: date) -> list[ExclusionStory]:
    """Each permanent exclusion of the pupil, newest first, with where it stands on `today` and the
    next date the law sets."""
    reading = reading_of(session, pupil)
    if not reading.exclusions:
        return []
    setting_ids = {e.setting_id for e in reading.exclusions if e.setting_id is not None}
    settings = {s.id: s for s in session.scalars(select(Setting).where(Setting.id.in_(setting_ids)))}
    calendars = calendars_for(session, list({s.la_id: s.la for s in settings.values()}.values()))
    stories = []
    for exclusion in reversed(reading.exclusions):
        school = settings.get(exclusion.setting_id) if exclusion.setting_id is not None else None
        name = school.name if school is not None else "the school"
        calendar = calendars.get(school.la_id) if school is not None else None
        rows = [("Excluded from", f"{name}, from {_d(exclusion.excluded_on)}")]
        stage = exclusion.stage_on(today)
        if stage == "board":
            due = board_decision_due(calendar, exclusion.excluded_on) if calendar is not None else None
            by = f" by {_d(due)}" if due is not None else " within 15 school days"
            rows.append(
                (
                    "Where it stands",
                    f"The governing board must consider reinstatement{by} (SI 2012/1033 regs 6, 15, 24). "
                    f"{pupil.full_name} stays on {name}'s roll meanwhile.",
                )
            )
        elif stage == "review_period":
            assert exclusion.upheld_on is not None
            told = f"The board will not reinstate: the parents were told on {_d(exclusion.upheld_on)}."
            if exclusion.review_closes is None:
                rows.append(
                    (
                        "Where it stands",
                        f"{told} The register cannot count the 15 school days the parents have to ask for a "
                        f"review: term dates are not recorded that far. Record the removal from the roll when it "
                        "happens.",
                    )
                )
            else:
                rows.append(
                    (
                        "Where it stands",
                        f"{told} They may ask for an independent review until {_d(exclusion.review_closes)} "
                        "(15 school days, SI 2012/1033 Sch 1 para 2(1)).",
                    )
                )
        elif stage == "review":
            assert exclusion.review_requested_on is not None
            rows.append(
                (
                    "Where it stands",
                    f"An independent review was asked for on {_d(exclusion.review_requested_on)}. "
                    f"{pupil.full_name} stays on {name}'s roll until the review, and any reconsideration by the "
                    "board, is over.",
                )
            )
        elif stage == "reinstated":
            assert exclusion.reinstated_on is not None
            rows.append(("Where it stands", f"Reinstated on {_d(exclusion.reinstated_on)}: the exclusion is over."))
        if exclusion.removed_on is not None:
            how = (
                "once the time to ask for a review had passed with none asked for"
                if exclusion.removal_derived
                else "as recorded"
            )
            when = "Comes off" if exclusion.removed_on > today else "Came off"
            rows.append(("Roll", f"{when} {name}'s roll on {_d(exclusion.removed_on)}, {how}."))
        stories.append(
            ExclusionStory(
                f"Permanent exclusion from {name}",
                rows,
                in_process=not exclusion.over_by(today),
            )
        )
    return stories
