"""The sixth-day duties: full-time education for an excluded pupil from the sixth school day.

- After a permanent exclusion the LA must arrange suitable full-time education (Education Act
  1996 s19(3A)) from the sixth consecutive school day of the exclusion (SI 2007/1870 reg 4(3)(b),
  as amended by SI 2014/3216 reg 2(2)), until the pupil is admitted to another school (other than
  a pupil referral unit, s19(3A)(a)) or reinstated.
- During a suspension the school must arrange it (Education and Inspections Act 2006 s100) from
  the sixth consecutive school day of exclusion, "regardless of whether the pupil has been excluded
  for a single fixed period or more than one fixed period" (SI 2007/1870 reg 3(3), as amended):
  suspensions from the same school on consecutive school days are one period.
- Neither duty applies to a pupil in Year 11 who has already taken (or missed) all the public
  examinations they were entered for that year (SI 2007/1870 reg 5(2)(a)), nor to a child who is
  not of compulsory school age.

A day meets the duty only when every session of it (morning and afternoon) is covered by an
arrangement somewhere other than the excluding school: one session is not full-time education.

Plain Python over plain values: the alerts (`coverage.alerts`) read the register and ask here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from ap_register.domain.calendar import SchoolCalendar
from ap_register.domain.errors import CalendarUnknown
from ap_register.domain.pupils import of_compulsory_school_age, year_group

SIXTH = 6
# How far back a day without full-time education keeps an alert standing: four school weeks.
LOOK_BACK_SCHOOL_DAYS = 20


@dataclass(frozen=True)
class Cover:
    """An arrangement as the duty reads it: where, from when to when, which sessions."""

    setting_id: int
    start: date
    end: date | None
    sessions: str  # ten characters, Monday AM to Friday PM


@dataclass(frozen=True)
class Suspension:
    movement_id: int
    setting_id: int | None
    first: date
    days: int


@dataclass(frozen=True)
class Period:
    """One period of exclusion: its school days in order, from day 1 (a suspension's days, or a
    permanent exclusion's, up to `on` or the end of the duty)."""

    key: str
    setting_id: int | None
    school_days: list[date]

    @property
    def sixth(self) -> date | None:
        return self.school_days[SIXTH - 1] if len(self.school_days) >= SIXTH else None


def full_time(day: date, covers: Iterable[Cover], away_from: int | None) -> bool:
    """Whether both sessions of `day` are covered by arrangements other than at `away_from`."""
    am = pm = False
    slot = 2 * day.weekday()
    for cover in covers:
        if cover.setting_id == away_from or cover.start > day or (cover.end is not None and cover.end < day):
            continue
        am = am or cover.sessions[slot] == "1"
        pm = pm or cover.sessions[slot + 1] == "1"
    return am and pm


def excepted(date_of_birth: date, exams_over_on: date | None, day: date) -> bool:
    """Whether the duty does not apply on `day` (SI 2007/1870 reg 5(2)(a); compulsory school age)."""
    if not of_compulsory_school_age(date_of_birth, day):
        return True
    return exams_over_on is not None and exams_over_on < day and year_group(date_of_birth, day) == 11


def suspension_periods(suspensions: Sequence[Suspension], calendar: SchoolCalendar) -> list[Period]:
    """The periods of exclusion the suspensions make: one from the same school that starts on the
    school day after another ends (or within it) continues its period."""
    periods: list[Period] = []
    for suspension in sorted(suspensions, key=lambda s: (s.first, s.movement_id)):
        try:
            last = calendar.nth_school_day(suspension.first, suspension.days)
            days = calendar.school_days(suspension.first, last)
        except CalendarUnknown:
            continue
        if not days:
            continue
        previous = periods[-1] if periods else None
        if previous is not None and previous.setting_id == suspension.setting_id:
            try:
                follows = calendar.add_school_days(previous.school_days[-1], 1) >= days[0]
            except CalendarUnknown:
                follows = False
            if follows:
                merged = sorted(set(previous.school_days) | set(days))
                periods[-1] = Period(previous.key, previous.setting_id, merged)
                continue
        periods.append(Period(f"suspension_sixth_day:{suspension.movement_id}", suspension.setting_id, days))
    return periods


@dataclass(frozen=True)
class Shortfall:
    """Where a duty stands on a day: its sixth day, the duty's days so far without full-time
    education (in the look-back), and whether the sixth day itself is covered as planned."""

    sixth: date
    missed: list[date]
    sixth_planned: bool


def shortfall(
    period: Period,
    covers: Sequence[Cover],
    on: date,
    date_of_birth: date,
    exams_over_on: date | None,
    calendar: SchoolCalendar,
) -> Shortfall | None:
    """The duty's shortfall on `on`, or None when it is met (or does not apply)."""
    sixth = period.sixth
    if sixth is None:
        return None
    duty_days = [d for d in period.school_days[SIXTH - 1 :] if not excepted(date_of_birth, exams_over_on, d)]
    if not duty_days:
        return None
    if on < sixth:
        planned = full_time(duty_days[0], covers, period.setting_id)
        return None if planned else Shortfall(sixth, [], False)
    try:
        window = calendar.span_before(on, LOOK_BACK_SCHOOL_DAYS)
    except CalendarUnknown:
        window = None
    since = window[0] if window is not None else sixth
    missed = [d for d in duty_days if since <= d <= on and not full_time(d, covers, period.setting_id)]
    return Shortfall(sixth, missed, True) if missed else None
