"""An LA's adoption of the register: the day it began to use it.

An LA comes to the register with years of records. Every check that gates a *new* placement (an
approved panel decision, a commissioned place in the budget, and the records only the register asks
for: the notice's date, the parent's agreement to a part-time timetable, a time-limited
placement's plan) applies to placements that start on or after the adoption date. A placement
that started before it is history: it is accepted as the LA's old records hold it, the checks it
would have failed are listed as warnings, and it is marked `from_old_records`. The law's own
coherence (route, registration, the roll, dates, sessions) is checked either way.

The date is set by the LA's administrator (never in the future), or, for an LA new to the register
(no placement recorded yet), on the day of its first import. Only the LA's administrators, and
imports run by the system, bring in old records: a placement a setting records is always checked
as new, whatever its start date (`old_record_allowed`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError
from ap_register.domain.typed import FIRST_YEAR
from ap_register.models import LocalAuthority, Placement, Pupil

OLD_RECORDS_NOTE = "not required of a placement from the local authority's old records"
# What a placement from the old records is taken without (shown on the adoption page).
GATED_CHECKS = (
    "an approved panel decision, on the routes the panel rules name",
    "a free commissioned place in the AP budget plan, or a spot purchase",
    "the day written notice of an off-site direction was given",
    "a part-time timetable's planned end, the day the parent agreed and its purpose",
    "a time-limited placement's planned end and reintegration plan",
    "a recorded reason for more than the local cap of sessions at an unregistered provider",
    "the independent-school test at an unregistered provider (the daily checks still raise it)",
)


def before_adoption(la: LocalAuthority, day: date) -> bool:
    """Whether a placement starting on `day` is from the LA's old records."""
    return la.adopted_on is not None and day < la.adopted_on


def old_record_allowed(session: Session, actor: Actor, la: LocalAuthority, start: date) -> bool:
    """Whether this placement may come in as one of the LA's old records: it started before the
    adoption date, and it is brought in by the LA's administrators (a page, the API, a file) or an
    import run by the system. A setting's user records every placement as new, whatever its start:
    a start date before the adoption date is no way round the checks."""
    return before_adoption(la, start) and permissions.can(session, actor, "placement.from_old_records")


def old_records(session: Session, actor: Actor, la: LocalAuthority) -> int:
    """How many of the LA's pupils' placements, of those the actor may see, came from its old
    records."""
    stmt = (
        select(func.count())
        .select_from(Placement)
        .join(Pupil, Pupil.id == Placement.pupil_id)
        .where(Pupil.home_la_id == la.id, Placement.from_old_records.is_(True))
    )
    return session.scalar(permissions.scope_placements(actor, stmt)) or 0


def set_adoption_date(session: Session, actor: Actor, la: LocalAuthority, day: date | None) -> None:
    """The LA's administrator sets (or clears) the day the LA began to use the register. It
    changes which checks apply to placements recorded from now on; placements already recorded
    keep the mark they were given."""
    permissions.require(session, actor, "admin.adoption")
    if day is not None and day.year < FIRST_YEAR:
        raise DomainError(
            "The adoption date was not saved", [FieldError("adopted_on", f"Enter a date in {FIRST_YEAR} or later")]
        )
    today = clock.today()
    if day is not None and day > today:
        raise DomainError(
            "The adoption date was not saved",
            [
                FieldError(
                    "adopted_on",
                    f"The adoption date cannot be in the future: {today:%-d %B %Y} or before (a later date would "
                    "take new placements without their checks)",
                )
            ],
        )
    _adopt(session, actor, la, day, by="administrator")


def adopts_at_import(session: Session, la: LocalAuthority) -> bool:
    """Whether the LA's next import sets its adoption date: it has none, and no placement of its
    pupils is recorded yet. A fact about the LA, not a view of records: it is asked whoever
    runs the import (a person who sees only some placements must not make an LA adopt twice),
    and it answers only yes or no."""
    if la.adopted_on is not None:
        return False
    recorded = session.scalar(
        select(Placement.id).join(Pupil, Pupil.id == Placement.pupil_id).where(Pupil.home_la_id == la.id).limit(1)
    )
    return recorded is None


def adopt_at_first_import(session: Session, actor: Actor, la: LocalAuthority, today: date | None = None) -> bool:
    """An LA new to the register (no adoption date, and no placement of its pupils recorded yet)
    adopts it on the day of its first import. An LA already recording placements sets its date on
    its page. Runs inside the import's transaction, so a refused file leaves the date unset."""
    if not adopts_at_import(session, la):
        return False
    _adopt(session, actor, la, today or clock.today(), by="first import")
    return True


def _adopt(session: Session, actor: Actor, la: LocalAuthority, day: date | None, *, by: str) -> None:
    before = la.adopted_on
    la.adopted_on = day
    session.flush()
    audit.record(
        session,
        actor,
        "set_adoption_date",
        "local_authority",
        la.id,
        detail={"before": before.isoformat() if before else None, "after": day.isoformat() if day else None, "by": by},
    )
