"""Tier 1: outreach. An AP provider's targeted support in mainstream schools (on-call advice,
coaching, self-regulation groups, one-to-one work, staff training), logged as engagements with
sessions and closed with an outcome."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.domain import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Forbidden, Refusal
from ap_register.domain.vocab import AP_KINDS, LA_ROLES, SettingKind
from ap_register.models import OutreachEngagement, OutreachSession, Pupil, Referral, Setting

KINDS = {
    "on_call_advice": "On-call advice",
    "coaching": "Coaching",
    "self_regulation_group": "Self-regulation group",
    "one_to_one": "One-to-one work",
    "staff_training": "Staff training",
}
OUTCOMES = {
    "sustained_in_mainstream": "Sustained in mainstream",
    "escalated_to_referral": "Escalated to a referral",
    "left_the_school": "Left the school",
}
SCHOOL_KINDS = frozenset({SettingKind.MAINSTREAM, SettingKind.SPECIAL})
LONGEST_SESSION_MINUTES = 480


def may_work_for(actor: Actor, provider: Setting) -> bool:
    """A provider's own staff log its outreach; so can the LA's officers who commission it."""
    user = actor.user
    if user is None:
        return True
    if user.role in LA_ROLES:
        return user.la_id == provider.la_id and permissions.role_allows(user, "outreach.record")
    return user.setting_id == provider.id


def start_engagement(
    session: Session,
    actor: Actor,
    *,
    provider: Setting,
    school: Setting,
    kind: str,
    started_on: date,
    pupil: Pupil | None = None,
    group_name: str | None = None,
    today: date | None = None,
) -> OutreachEngagement:
    today = today or date.today()
    if not may_work_for(actor, provider):
        raise Forbidden("You can log outreach for your own provider only")
    refusal = Refusal()
    if provider.kind not in AP_KINDS:
        refusal.add("provider", f"{provider.name} is not an alternative provision provider")
    if school.kind not in SCHOOL_KINDS:
        refusal.add("school", "Outreach is support in a mainstream or special school")
    if kind not in KINDS:
        refusal.add("kind", "Choose the kind of outreach")
    if started_on > today:
        refusal.add("started_on", "The start date is in the future")
    group = (group_name or "").strip()
    if pupil is None and not group:
        refusal.add("group_name", "Name the pupil or the group the outreach is for")
    if pupil is not None:
        if actor.user is not None and actor.user.role in LA_ROLES:
            permissions.require(session, actor, "pupil.view", pupil)
        if pupil.home_school_id != school.id:
            refusal.add("pupil", f"{pupil.full_name} is not on {school.name}'s roll")
    refusal.raise_if_any("The engagement was not started")
    engagement = OutreachEngagement(
        provider_id=provider.id,
        school_id=school.id,
        pupil_id=pupil.id if pupil is not None else None,
        group_name=group or None,
        kind=kind,
        started_on=started_on,
        created_by_id=actor.user_id,
    )
    session.add(engagement)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "outreach",
        engagement.id,
        pupil_id=pupil.id if pupil is not None else None,
        detail={"kind": kind},
    )
    return engagement


def _hold(session: Session, engagement: OutreachEngagement) -> None:
    """Take the engagement's row lock (PostgreSQL; SQLite writes one at a time anyway) and see
    whether it was closed meanwhile: a second close at the same moment waits, then finds it closed."""
    closed_on = session.scalar(
        select(OutreachEngagement.closed_on).where(OutreachEngagement.id == engagement.id).with_for_update()
    )
    if closed_on != engagement.closed_on:
        session.refresh(engagement)


def log_session(
    session: Session,
    actor: Actor,
    engagement: OutreachEngagement,
    *,
    held_on: date,
    minutes: int,
    staff: str,
    today: date | None = None,
) -> OutreachSession:
    today = today or date.today()
    if not may_work_for(actor, engagement.provider):
        raise Forbidden("You can log outreach for your own provider only")
    _hold(session, engagement)
    refusal = Refusal()
    if engagement.closed_on is not None:
        refusal.add("held_on", "This engagement is closed")
    if held_on > today:
        refusal.add("held_on", "A session is logged once it has happened")
    elif held_on < engagement.started_on:
        refusal.add("held_on", f"The engagement started on {engagement.started_on:%-d %B %Y}")
    if not 1 <= minutes <= LONGEST_SESSION_MINUTES:
        refusal.add("minutes", f"Enter the minutes, from 1 to {LONGEST_SESSION_MINUTES}")
    if not staff.strip():
        refusal.add("staff", "Enter who delivered it")
    refusal.raise_if_any("The session was not logged")
    logged = OutreachSession(
        engagement_id=engagement.id, held_on=held_on, minutes=minutes, staff=staff.strip(), recorded_by_id=actor.user_id
    )
    session.add(logged)
    session.flush()
    session.refresh(engagement, ["sessions"])
    audit.record(
        session,
        actor,
        "log_session",
        "outreach",
        engagement.id,
        pupil_id=engagement.pupil_id,
        detail={"minutes": minutes},
    )
    return logged


def close_engagement(
    session: Session,
    actor: Actor,
    engagement: OutreachEngagement,
    *,
    closed_on: date,
    outcome: str,
    note: str,
    referral: Referral | None = None,
    today: date | None = None,
) -> None:
    today = today or date.today()
    if not may_work_for(actor, engagement.provider):
        raise Forbidden("You can log outreach for your own provider only")
    _hold(session, engagement)
    session.refresh(engagement, ["sessions"])  # with any logged meanwhile
    refusal = Refusal()
    if engagement.closed_on is not None:
        refusal.add("outcome", f"This engagement is already closed, on {engagement.closed_on:%-d %B %Y}")
        refusal.raise_if_any("The engagement was not closed")
    if outcome not in OUTCOMES:
        refusal.add("outcome", "Choose the outcome")
    if closed_on > today or closed_on < engagement.started_on:
        refusal.add("closed_on", "The date closed must be between the start and today")
    last = max((s.held_on for s in engagement.sessions), default=None)
    if last is not None and closed_on < last:
        refusal.add("closed_on", f"A session was logged on {last:%-d %B %Y}, after that date")
    refusal.raise_if_any("The engagement was not closed")
    engagement.closed_on, engagement.outcome = closed_on, outcome
    engagement.outcome_note = note.strip() or None
    engagement.referral_id = referral.id if referral is not None else None
    session.flush()
    audit.record(
        session, actor, "close", "outreach", engagement.id, pupil_id=engagement.pupil_id, detail={"outcome": outcome}
    )


def engagements_of(session: Session, pupil: Pupil) -> list[OutreachEngagement]:
    """The outreach a pupil has had, newest first (support tried, for a referral)."""
    return list(
        session.scalars(
            select(OutreachEngagement)
            .where(OutreachEngagement.pupil_id == pupil.id)
            .order_by(OutreachEngagement.started_on.desc())
        )
    )


def describe(engagement: OutreachEngagement) -> str:
    """An engagement in words, as support tried: '<kind> from <provider>, N sessions (H hours)'."""
    hours = engagement.minutes / 60
    count = len(engagement.sessions)
    return (
        f"Outreach: {KINDS.get(engagement.kind, engagement.kind).lower()} from {engagement.provider.name}, "
        f"{count} session{'s' if count != 1 else ''} ({hours:.1f} hours)"
    )
