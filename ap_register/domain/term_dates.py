"""An LA's term dates and its local thresholds: the settings an LA admin keeps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import forget_calendars
from ap_register.domain.errors import NotFound, Refusal
from ap_register.models import LocalAuthority, TermDate

LONGEST_STRETCH_DAYS = 120  # a stretch of school days is a half term or a term


def stretch_problem(start: date, end: date, others: Iterable[tuple[date, date]]) -> tuple[str, str] | None:
    """(field, message) if a stretch from start to end cannot be added beside the others."""
    if end < start:
        return "end_date", "The end is before the start"
    if (end - start).days > LONGEST_STRETCH_DAYS:
        return (
            "end_date",
            f"A stretch of school days is a half term or a term: this one is {(end - start).days + 1} days",
        )
    for other_start, other_end in others:
        if start <= other_end and other_start <= end:
            return "start_date", f"Overlaps the stretch from {other_start:%-d %B %Y} to {other_end:%-d %B %Y}"
    return None


def add_stretch(session: Session, actor: Actor, la: LocalAuthority, start: date, end: date) -> TermDate:
    """Add a stretch of school days to the LA's term dates: from the term dates page and a term
    dates file alike. An LA's people keep their own LA's dates only."""
    permissions.require(session, actor, "admin.term_dates")
    if actor.user is not None and actor.user.la_id != la.id:
        raise NotFound("Not found")
    existing = session.execute(select(TermDate.start_date, TermDate.end_date).where(TermDate.la_id == la.id)).all()
    refusal = Refusal()
    problem = stretch_problem(start, end, list(existing))
    if problem:
        refusal.add(*problem)
    refusal.raise_if_any("The term dates were not added")
    stretch = TermDate(la_id=la.id, start_date=start, end_date=end)
    session.add(stretch)
    session.flush()
    forget_calendars(session)
    audit.record(
        session, actor, "create", "term_date", stretch.id, detail={"start": start.isoformat(), "end": end.isoformat()}
    )
    return stretch


def remove_stretch(session: Session, actor: Actor, stretch: TermDate) -> None:
    permissions.require(session, actor, "admin.term_dates")
    audit.record(
        session,
        actor,
        "delete",
        "term_date",
        stretch.id,
        detail={"start": stretch.start_date.isoformat(), "end": stretch.end_date.isoformat()},
    )
    session.delete(stretch)
    session.flush()
    forget_calendars(session)


def update_thresholds(
    session: Session,
    actor: Actor,
    la: LocalAuthority,
    *,
    review_interval_school_days: int,
    off_site_max_school_days: int | None,
    unregistered_session_cap: int,
    part_time_timetable_max_school_days: int = 30,
) -> None:
    permissions.require(session, actor, "admin.term_dates")
    refusal = Refusal()
    if not 5 <= review_interval_school_days <= 60:
        refusal.add("review_interval_school_days", "Enter a review interval between 5 and 60 school days")
    if off_site_max_school_days is not None and not 1 <= off_site_max_school_days <= 390:
        refusal.add("off_site_max_school_days", "Enter a maximum between 1 and 390 school days, or leave it blank")
    if not 0 <= unregistered_session_cap <= 10:
        refusal.add("unregistered_session_cap", "Enter a limit between 0 and 10 sessions")
    if not 5 <= part_time_timetable_max_school_days <= 120:
        refusal.add("part_time_timetable_max_school_days", "Enter between 5 and 120 school days")
    refusal.raise_if_any("The settings were not saved")
    before = {
        "review": la.review_interval_school_days,
        "off_site_max": la.off_site_max_school_days,
        "unregistered_cap": la.unregistered_session_cap,
        "part_time_timetable_max": la.part_time_timetable_max_school_days,
    }
    la.review_interval_school_days = review_interval_school_days
    la.off_site_max_school_days = off_site_max_school_days
    la.unregistered_session_cap = unregistered_session_cap
    la.part_time_timetable_max_school_days = part_time_timetable_max_school_days
    session.flush()
    audit.record(session, actor, "update_thresholds", "local_authority", la.id, detail={"before": before})
