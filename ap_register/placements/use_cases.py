"""What a person does with a placement, one function each, for every channel alike.

A use case takes the actor and a typed request and returns what it made with its warnings. It
owns, in one place: whether the actor may (`permissions`), every rule and refusal (the register's
rules in `placements.rules`, the panel's gate, the budget's places), the audit record, and the
transaction: its writes happen inside a savepoint, so a refusal leaves nothing behind even when
the caller goes on (an import of many rows, a page that shows the refusal). The caller commits.

Pages, the API and imports translate their input into the request and the answer into a page,
JSON or a report line; they restate no rule. `tests/contract/` sends the same requests through
each channel and proves the same records, refusals and warnings result.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError
from ap_register.domain.vocab import Destination, MovementKind
from ap_register.models import Movement, Placement, PlacementReview, ReviewRequest, Setting
from ap_register.placements import rules
from ap_register.placements.notice import NoticeContents
from ap_register.placements.reads import Reads
from ap_register.placements.rules import (
    PlacementDraft,
    end_placement,
    record_roll_movement,
    request_review,
    review_placement,
    start_placement,
)
from ap_register.returns.rules import set_census_reason

REFUSED = "The placement cannot be recorded"


@dataclass(frozen=True)
class RecordPlacement:
    """A request to record a placement: which child, and the placement's terms. `census_reason`
    is the reason returned in the AP census where the route does not settle it."""

    pupil_id: int
    draft: PlacementDraft
    census_reason: str | None = None


@dataclass(frozen=True)
class Recorded:
    placement: Placement
    warnings: list[str]


def record_placement(
    session: Session, actor: Actor, request: RecordPlacement, *, reads: Reads | None = None
) -> Recorded:
    """Record a placement for a child the actor may see, at a setting of the actor's area.

    Refused (NotFound) for a child outside the actor's scope, as if there were none; refused
    with every problem `placements.rules.check_placement` finds otherwise. Whoever records it,
    through whichever channel, the commissioner is the one `rules.commissioner_for` names
    unless the request names another the actor may name. `reads`: where the register is read
    (`placements.reads`: an import's chunk reads its children once)."""
    reads = reads or Reads(session)
    pupil = reads.pupil(actor, request.pupil_id)
    if not reads.setting_visible(actor, request.draft.setting_id):
        raise DomainError(REFUSED, [FieldError("setting", "No such setting in your area")])
    # The census reason may be refused after the placement is written: a savepoint then too.
    savepoint = reads.one_at_a_time or request.census_reason is not None
    try:
        with session.begin_nested() if savepoint else nullcontext():
            placement, assessment = start_placement(session, actor, pupil, request.draft, reads=reads)
            if request.census_reason is not None:
                set_census_reason(session, actor, placement, request.census_reason)
    except DomainError:
        reads.forget(pupil)  # what the reads counted of the undone placement is read again
        raise
    return Recorded(placement, assessment.warnings)


@dataclass(frozen=True)
class ReviewPlacement:
    """A review of a placement against the pupil's plan; it may move the next review or the
    planned end."""

    placement_id: int
    review_date: date
    notes: str
    next_review_date: date | None = None
    planned_end_date: date | None = None
    pupil_took_part: bool = False
    parents_took_part: bool = False


def review(session: Session, actor: Actor, request: ReviewPlacement) -> PlacementReview:
    """Record a review of a placement the actor may review."""
    placement = permissions.get_placement(session, actor, request.placement_id)
    with session.begin_nested():
        return review_placement(
            session,
            actor,
            placement,
            review_date=request.review_date,
            notes=request.notes,
            next_review_date=request.next_review_date,
            planned_end_date=request.planned_end_date,
            pupil_took_part=request.pupil_took_part,
            parents_took_part=request.parents_took_part,
        )


@dataclass(frozen=True)
class RequestReview:
    """A written request for a review meeting of an off-site direction: `requested_by` is
    `parent` or `la`."""

    placement_id: int
    requested_on: date
    requested_by: str


def ask_for_review(session: Session, actor: Actor, request: RequestReview) -> ReviewRequest:
    """Record a request for a review meeting of an off-site direction the actor may review."""
    placement = permissions.get_placement(session, actor, request.placement_id)
    with session.begin_nested():
        return request_review(
            session, actor, placement, requested_on=request.requested_on, requested_by=request.requested_by
        )


@dataclass(frozen=True)
class RecordNotice:
    """What an off-site direction's written notice said, and the day it went to the LA."""

    placement_id: int
    contents: NoticeContents


def record_notice(session: Session, actor: Actor, request: RecordNotice) -> Placement:
    """Record the notice of an off-site direction the actor may review (SI 2010/1156 reg 3)."""
    placement = permissions.get_placement(session, actor, request.placement_id)
    with session.begin_nested():
        rules.record_notice(session, actor, placement, request.contents)
    return placement


@dataclass(frozen=True)
class EndPlacement:
    placement_id: int
    end_date: date
    destination: Destination
    reason: str | None = None


def end(session: Session, actor: Actor, request: EndPlacement) -> Placement:
    """End an open placement the actor may end, with its destination."""
    placement = permissions.get_placement(session, actor, request.placement_id)
    with session.begin_nested():
        end_placement(
            session, actor, placement, end_date=request.end_date, destination=request.destination, reason=request.reason
        )
    return placement


@dataclass(frozen=True)
class RecordMovement:
    """A change to a school's roll: an admission, a suspension (`days` long), a permanent
    exclusion or a removal from roll (each with its `reason`)."""

    pupil_id: int
    kind: MovementKind
    day: date
    setting_id: int
    days: int | None = None
    reason: str | None = None


def record_movement(session: Session, actor: Actor, request: RecordMovement) -> Movement:
    """Record a movement on the roll of a school of the actor's area for a child the actor may
    see (NotFound otherwise, as if there were none), with every refusal of
    `placements.rules.record_roll_movement`."""
    pupil = permissions.get_pupil(session, actor, request.pupil_id)
    setting = session.scalar(permissions.scope_settings(actor, select(Setting).where(Setting.id == request.setting_id)))
    if setting is None:
        raise DomainError("The movement cannot be recorded", [FieldError("setting", "No such setting in your area")])
    with session.begin_nested():
        return record_roll_movement(
            session, actor, pupil, request.kind, request.day, setting, days=request.days, reason=request.reason
        )
