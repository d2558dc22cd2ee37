"""Tier 1: outreach. An AP provider's targeted support in mainstream schools (on-call advice,
coaching, self-regulation groups, one-to-one work, staff training), logged as engagements with
sessions and closed with an outcome.

Work with a named pupil shows the provider that child, so it starts only from someone with
authority over the child: the pupil's school (its request), or the LA. A provider may offer
outreach for a pupil by UPN (a proposal), but sees nothing of any child until the school, or
the LA, agrees: the proposal keeps the UPN as typed and links no record, and its answer is the
same whether the UPN is on the school's roll or not."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Forbidden, NotFound, Refusal
from ap_register.domain.notifications import notify
from ap_register.domain.text import control_character_problem
from ap_register.domain.upn import check_upn
from ap_register.domain.vocab import AP_KINDS, Role, SettingKind
from ap_register.models import OutreachEngagement, OutreachProposal, OutreachSession, Pupil, Referral, Setting, User
from ap_register.models.base import utcnow

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


PROPOSAL_STATUSES = {
    "waiting": "Waiting for the school",
    "agreed": "Agreed",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}


def may_agree_for(actor: Actor, school: Setting) -> bool:
    """Who speaks for a school's pupils: its own leads, and the LA's officers of its area."""
    return permissions.acts_for(actor, "outreach.agree", school)


def may_work_for(actor: Actor, provider: Setting) -> bool:
    """A provider's own staff log its outreach; so can the LA's officers who commission it."""
    return permissions.acts_for(actor, "outreach.record", provider)


def _work_problems(provider: Setting, school: Setting, kind: str, started_on: date, today: date) -> Refusal:
    """What is wrong with outreach from this provider in this school, whoever starts or offers it."""
    refusal = Refusal()
    if provider.kind not in AP_KINDS:
        refusal.add("provider", f"{provider.name} is not an alternative provision provider")
    if school.kind not in SCHOOL_KINDS:
        refusal.add("school", "Outreach is support in a mainstream or special school")
    elif school.la_id != provider.la_id:
        refusal.add("school", "Choose a school of the provider's area")
    if kind not in KINDS:
        refusal.add("kind", "Choose the kind of outreach")
    if started_on > today:
        refusal.add("started_on", "The start date is in the future")
    return refusal


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
    today = today or clock.today()
    if pupil is not None:
        # Work with a named pupil starts from the school's request or the LA's, never from the
        # provider alone (a provider offers it with `propose`).
        if not may_agree_for(actor, school):
            raise Forbidden("Offer outreach for a named pupil to their school: it starts once the school agrees")
        permissions.require(session, actor, "pupil.view", pupil)
    elif not (may_work_for(actor, provider) or may_agree_for(actor, school)):
        raise Forbidden("You can log outreach for your own provider only")
    refusal = _work_problems(provider, school, kind, started_on, today)
    group = (group_name or "").strip()
    if pupil is None and not group:
        refusal.add("group_name", "Name the pupil or the group the outreach is for")
    if pupil is not None:
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


# How long a session was, as people write it: "45", "45 minutes", "1 hour", "1.5 hours",
# "1 hour 30", "1h30", "1:30".
_DURATION = re.compile(
    r"(?:(?P<hours>\d{1,2}(?:\.\d{1,2})?)\s*(?:h|hr|hrs|hour|hours)\s*(?P<and>\d{1,2})?\s*(?:m|min|mins|minutes?)?"
    r"|(?P<clock_h>\d{1,2}):(?P<clock_m>[0-5]\d)"
    r"|(?P<minutes>\d{1,4})\s*(?:m|min|mins|minutes?)?)",
    re.IGNORECASE,
)


def duration_minutes(text: str) -> int | None:
    """The minutes a duration written by a person stands for, or None when it cannot be read."""
    found = _DURATION.fullmatch(text.strip().replace(" and ", " "))
    if found is None:
        return None
    if found["minutes"] is not None:
        return int(found["minutes"])
    if found["clock_h"] is not None:
        return int(found["clock_h"]) * 60 + int(found["clock_m"])
    return round(float(found["hours"]) * 60) + int(found["and"] or 0)


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
    today = today or clock.today()
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
    today = today or clock.today()
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


# --- a provider's offer for a named pupil, which the school agrees -----------------------------


def _people_of(session: Session, setting: Setting, roles: frozenset[Role]) -> list[User]:
    return list(
        session.scalars(select(User).where(User.setting_id == setting.id, User.role.in_(roles), User.active.is_(True)))
    )


def propose(
    session: Session,
    actor: Actor,
    *,
    provider: Setting,
    school: Setting,
    kind: str,
    started_on: date,
    upn: str,
    note: str = "",
    today: date | None = None,
) -> OutreachProposal:
    """A provider offers outreach for the pupil with this UPN at this school. Nothing is looked
    up: the school sees the offer, and agrees if the pupil is theirs."""
    if not may_work_for(actor, provider):
        raise Forbidden("You can offer outreach for your own provider only")
    today = today or clock.today()
    refusal = _work_problems(provider, school, kind, started_on, today)
    checked = check_upn(upn)
    if not checked.valid:
        refusal.add("upn", checked.message or "Enter the pupil's UPN")
    if problem := control_character_problem(note, multiline=True):
        refusal.add("note", f"The note {problem}")
    refusal.raise_if_any("The offer was not sent")
    assert checked.upn is not None
    proposal = OutreachProposal(
        provider_id=provider.id,
        school_id=school.id,
        upn=checked.upn,
        kind=kind,
        started_on=started_on,
        note=note.strip() or None,
        proposed_by_id=actor.user_id,
    )
    session.add(proposal)
    session.flush()
    # No pupil is named in the audit: none is linked until the school agrees.
    audit.record(session, actor, "propose", "outreach_proposal", proposal.id, detail={"school_id": school.id})
    notify(
        session,
        _people_of(session, school, frozenset({Role.SCHOOL_LEAD})),
        kind="outreach_offered",
        subject=f"{provider.name} offers outreach",
        body=(
            f"{provider.name} offers {KINDS[kind].lower()} for the pupil with UPN {proposal.upn}. "
            "Agree if the pupil is on your roll and the work is wanted."
        ),
        link=f"/outreach/proposals/{proposal.id}",
    )
    return proposal


def scope_proposals(actor: Actor, stmt: Select[OutreachProposal]) -> Select[OutreachProposal]:
    """Offers a provider made, offers to a school, and every offer in an LA user's area."""
    user = actor.user
    if user is None:
        return stmt
    if user.la_id is not None:
        return stmt.where(OutreachProposal.school_id.in_(select(Setting.id).where(Setting.la_id == user.la_id)))
    return stmt.where(
        (OutreachProposal.provider_id == user.setting_id) | (OutreachProposal.school_id == user.setting_id)
    )


def get_proposal(session: Session, actor: Actor, proposal_id: int) -> OutreachProposal:
    found = session.scalar(scope_proposals(actor, select(OutreachProposal).where(OutreachProposal.id == proposal_id)))
    if found is None:
        raise NotFound("Page not found")
    return found


def proposals(session: Session, actor: Actor, status: str = "waiting") -> list[OutreachProposal]:
    stmt = select(OutreachProposal).where(OutreachProposal.status == status)
    return list(session.scalars(scope_proposals(actor, stmt.order_by(OutreachProposal.proposed_at.desc())).limit(200)))


def proposed_pupil(session: Session, actor: Actor, proposal: OutreachProposal) -> Pupil | None:
    """The pupil an offer names, for those who speak for the school only: on its roll, and
    visible to them; None for anyone else, or when no such pupil is on the roll."""
    if not may_agree_for(actor, proposal.school):
        return None
    return session.scalar(
        permissions.scope_pupils(
            actor, select(Pupil).where(Pupil.upn == proposal.upn, Pupil.home_school_id == proposal.school_id)
        )
    )


def _waiting(session: Session, proposal: OutreachProposal) -> None:
    """Hold the offer for the rest of the transaction and read it again, then refuse it unless it
    still waits: two answers at once (the school's lead and an LA officer, a double click) give
    one answer, and one engagement."""
    session.execute(select(OutreachProposal.id).where(OutreachProposal.id == proposal.id).with_for_update())
    session.refresh(proposal)
    if proposal.status != "waiting":
        refusal = Refusal()
        refusal.add("", "This offer has already been answered")
        refusal.raise_if_any("Nothing was changed")


def agree(
    session: Session, actor: Actor, proposal: OutreachProposal, *, today: date | None = None
) -> OutreachEngagement:
    """The school (or the LA) agrees: the engagement starts, and the provider sees the pupil."""
    if not may_agree_for(actor, proposal.school):
        raise Forbidden("Only the pupil's school, or the local authority, agrees to outreach")
    _waiting(session, proposal)
    pupil = proposed_pupil(session, actor, proposal)
    if pupil is None:
        refusal = Refusal()
        refusal.add("", f"No pupil with UPN {proposal.upn} is on {proposal.school.name}'s roll: decline the offer")
        refusal.raise_if_any("The offer was not agreed")
    assert pupil is not None
    engagement = start_engagement(
        session,
        actor,
        provider=proposal.provider,
        school=proposal.school,
        kind=proposal.kind,
        started_on=proposal.started_on,
        pupil=pupil,
        today=today,
    )
    _answer(actor, proposal, "agreed")
    proposal.engagement_id = engagement.id
    session.flush()
    audit.record(session, actor, "agree", "outreach_proposal", proposal.id, pupil_id=pupil.id)
    _tell_provider(session, proposal, f"{proposal.school.name} agreed your offer of outreach: log its sessions")
    return engagement


def decline_proposal(session: Session, actor: Actor, proposal: OutreachProposal) -> None:
    if not may_agree_for(actor, proposal.school):
        raise Forbidden("Only the pupil's school, or the local authority, answers an offer of outreach")
    _waiting(session, proposal)
    _answer(actor, proposal, "declined")
    session.flush()
    audit.record(session, actor, "decline", "outreach_proposal", proposal.id)
    _tell_provider(session, proposal, f"{proposal.school.name} declined your offer of outreach for UPN {proposal.upn}")


def withdraw_proposal(session: Session, actor: Actor, proposal: OutreachProposal) -> None:
    if not may_work_for(actor, proposal.provider):
        raise Forbidden("You can withdraw your own provider's offers only")
    _waiting(session, proposal)
    _answer(actor, proposal, "withdrawn")
    session.flush()
    audit.record(session, actor, "withdraw", "outreach_proposal", proposal.id)


def _answer(actor: Actor, proposal: OutreachProposal, status: str) -> None:
    proposal.status = status
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = utcnow()


def _tell_provider(session: Session, proposal: OutreachProposal, body: str) -> None:
    notify(
        session,
        _people_of(session, proposal.provider, frozenset({Role.AP_HEAD})),
        kind="outreach_answered",
        subject="An offer of outreach was answered",
        body=body,
        link=f"/outreach/proposals/{proposal.id}",
    )
