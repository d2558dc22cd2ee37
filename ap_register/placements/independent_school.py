"""The independent-school test: when an unregistered provider must be registered as a school.

An institution that gives full-time education to five or more pupils of compulsory school age, or
to one such pupil who is looked after by a local authority or has an EHC plan, is an independent
school (Education Act 1996 s463(1)), and conducting one that is not registered is an offence
(Education and Skills Act 2008 s96). The test counts every such pupil the provider teaches,
whoever placed them, so the register counts across every LA and commissioner it holds, and it
cannot see pupils placed by anyone who does not use it: the page says so. Because the count
crosses LAs, what it reports is numbers, never the names of another LA's pupils.

"Full time" has no definition in law. The DfE treats an institution as giving full-time education
when it gives all or substantially all of a child's education, and generally when it teaches a
child during the day for more than 18 hours a week (Registration of independent schools,
departmental guidance, August 2019). The register counts in sessions: FULL_TIME_SESSIONS sessions
(three days) or more at one provider is full time, its reading of the 18 hours at about three
hours a session; it counts on the cautious side because the harm of an unregistered school falls
on the children.

The Children's Wellbeing and Schools Act 2026 s43 widens the test to pupils with any special
educational needs and lets regulations define full time; it is not yet in force, so
`SEN_SUPPORT_COUNTS_FROM` is None until it is commenced.

Plain Python: no Flask, no database. `placements.rules.assess_placement` refuses a placement that
would meet the test and the daily checks (`coverage.alerts`) raise `independent_school_threshold`
for a provider that meets it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ap_register.domain import week_pattern
from ap_register.domain.pupils import of_compulsory_school_age

FULL_TIME_SESSIONS = 6
PUPIL_THRESHOLD = 5
# The day CWSA 2026 s43 comes into force, from which a pupil with SEN support counts as one with an
# EHC plan does; None while it is not commenced.
SEN_SUPPORT_COUNTS_FROM: date | None = None
SOURCE = "Education Act 1996 s463(1)"


@dataclass(frozen=True)
class Attendance:
    """One pupil's placement at the provider, with what the test needs to know of the pupil."""

    pupil_id: int
    date_of_birth: date
    start: date
    end: date | None
    sessions: str
    looked_after: bool = False
    ehc_plan: bool = False
    sen_support: bool = False

    def on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or self.end >= day)


@dataclass(frozen=True)
class Reading:
    """Who counts towards the test at one provider on one day."""

    day: date
    full_time: frozenset[int] = frozenset()
    # Full-time pupils any one of whom makes the provider a school: looked after or with an EHC plan.
    any_one: frozenset[int] = frozenset()

    @property
    def met(self) -> bool:
        return len(self.full_time) >= PUPIL_THRESHOLD or bool(self.any_one)

    def describe(self) -> str:
        """Why the test is met, or how near it is, in numbers (never names) for the page and the alert."""
        count = len(self.full_time)
        said = f"{count} pupil{'s' if count != 1 else ''} of compulsory school age full time"
        if self.any_one:
            alone = len(self.any_one)
            return (
                f"{said}, {alone} of them looked after or with an EHC plan "
                "(one such pupil is enough to make it an independent school)"
            )
        return f"{said} ({PUPIL_THRESHOLD} or more makes it an independent school)"


def _counts_alone(a: Attendance, day: date) -> bool:
    sen = SEN_SUPPORT_COUNTS_FROM is not None and day >= SEN_SUPPORT_COUNTS_FROM and a.sen_support
    return a.looked_after or a.ehc_plan or sen


def reading_on(attendances: Iterable[Attendance], day: date) -> Reading:
    """The test at one provider on `day`. A pupil with more than one placement there counts once,
    with the sessions of all of them together."""
    sessions: dict[int, list[str]] = {}
    pupils: dict[int, Attendance] = {}
    for a in attendances:
        if a.on(day) and of_compulsory_school_age(a.date_of_birth, day):
            sessions.setdefault(a.pupil_id, []).append(a.sessions)
            pupils[a.pupil_id] = a
    full_time = frozenset(
        pupil_id
        for pupil_id, patterns in sessions.items()
        if week_pattern.count(_together(patterns)) >= FULL_TIME_SESSIONS
    )
    return Reading(day, full_time, frozenset(p for p in full_time if _counts_alone(pupils[p], day)))


def _together(patterns: list[str]) -> str:
    return "".join("1" if any(p[i] == "1" for p in patterns) else "0" for i in range(10))


def first_met(attendances: Iterable[Attendance], start: date, end: date | None) -> Reading | None:
    """The first day from `start` to `end` (open: no end) on which the test is met, or None. The
    count can only rise on a day a placement starts, so those days are the ones to read."""
    found = list(attendances)
    days = sorted({start} | {a.start for a in found if a.start > start and (end is None or a.start <= end)})
    for day in days:
        reading = reading_on(found, day)
        if reading.met:
            return reading
    return None
