"""The written notice of an off-site direction (Education Act 2002 s29A; SI 2010/1156 reg 3).

When a governing body directs a pupil off site to improve their behaviour, it gives written notice
to the parent (or the pupil at 18) and, where the pupil has an EHC plan, to the local authority
that maintains it (reg 3(1) and (3)), as soon as practicable and at least two school days before
the first day (reg 3(2)). The notice says (reg 3(4)): where the pupil is to attend (the address),
who they report to, the first day and how many days or until when, the times of the sessions,
and the reasons for the direction and what it is meant to achieve.

The register keeps those contents on the placement and makes the letter from them. This module is
the rule in plain Python: which parts a notice needs and which of them a placement lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

SOURCE = "SI 2010/1156 reg 3(4)"
LA_SOURCE = "SI 2010/1156 reg 3(1) and (3)"
MAX_LINE = 400
MAX_REASONS = 4000


@dataclass(frozen=True)
class NoticeContents:
    """What the notice says, beyond the placement's own dates and sessions."""

    address: str | None = None
    report_to: str | None = None
    session_times: str | None = None
    reasons: str | None = None
    la_notice_date: date | None = None


def contents_of(record: Any) -> NoticeContents:
    """The notice's contents as a placement, or a draft of one, holds them (`notice_*` fields)."""
    return NoticeContents(
        address=record.notice_address,
        report_to=record.notice_report_to,
        session_times=record.notice_session_times,
        reasons=record.notice_reasons,
        la_notice_date=record.la_notice_date,
    )


# Each part the notice must state that the placement does not already hold, with how the page
# names it. The first day, the end (or the number of days) and which sessions are the placement's.
PARTS: dict[str, str] = {
    "address": "the address where the pupil is to attend",
    "report_to": "who the pupil reports to on the first day",
    "session_times": "the times of the sessions",
    "reasons": "the reasons for the direction and what it is meant to achieve",
}


def la_notice_problem(la_notice_date: date | None, today: date) -> str | None:
    """Why the day notice went to the LA cannot be recorded (it may be after the start: a late
    notice is recorded as it happened)."""
    if la_notice_date is not None and la_notice_date > today:
        return "The day notice went to the local authority cannot be in the future"
    return None


def missing(contents: NoticeContents, *, has_ehc_plan: bool, notice_date: date | None) -> list[str]:
    """The parts of the notice not yet recorded, as the page names them (empty: complete)."""
    gaps = [label for name, label in PARTS.items() if not (getattr(contents, name) or "").strip()]
    if notice_date is None:
        gaps.append("the day written notice was given to the parents")
    if has_ehc_plan and contents.la_notice_date is None:
        gaps.append("the day written notice was given to the local authority (the pupil has an EHC plan)")
    return gaps


@dataclass(frozen=True)
class Letter:
    """The notice letter, made from the placement and its recorded notice (every part present)."""

    school: str
    # The notice goes to a parent, or to the pupil once 18 (reg 2, "relevant person").
    to_pupil: bool
    pupil: str
    date_of_birth: date
    setting: str
    address: str
    first_day: date
    last_day: date | None
    # School days from the first day to the planned end, on the LA's calendar (None: open-ended,
    # or the calendar does not reach that far).
    school_days: int | None
    sessions: list[tuple[str, bool, bool]]
    session_times: str
    report_to: str
    reasons: str
    notice_date: date
    # The LA that maintains the pupil's EHC plan and is sent the notice too, or None.
    copy_to: str | None
    review_weeks: int
