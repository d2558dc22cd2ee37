"""Fair-access and placement panels: referrals with their evidence, meetings, conflicts of
interest, and decisions that gate the moves which need one.

Moves into and out of AP "should always be made in [the child's] best interest ... after other
forms of support have been tested, and with the aim of returning the pupils to mainstream
schooling as soon as is appropriate" (SEND and AP green paper, 2022, chapter 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.budgets.outreach import describe
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import calendar_for
from ap_register.domain.errors import CalendarUnknown, DomainError, FieldError, Forbidden, NotFound, Refusal
from ap_register.domain.notifications import notify, referral_parties
from ap_register.domain.vocab import ROUTE_LABELS, Registration, Role, Route, SenStatus, SettingKind, Tier
from ap_register.models import (
    AgendaItem,
    Conflict,
    Decision,
    LocalAuthority,
    Meeting,
    OutreachEngagement,
    Panel,
    PanelMember,
    Placement,
    Pupil,
    Referral,
    Setting,
    SupportTried,
    User,
)
from ap_register.placements.rules import FAIR_ACCESS_EHCP_REFUSAL, NOT_FOR_PANELS, PlacementDraft, start_placement
from ap_register.years import AcademicYear

MOVES = {
    "time_limited_ap": "Time-limited alternative provision",
    "transitional_ap": "Transitional alternative provision",
    "managed_move": "Managed move",
    "fair_access": "Fair access allocation",
    "other": "Other move",
}
# The children a fair access protocol may be used for (School Admissions Code 2021 para 3.17), by
# the letter of its list. Children with an EHC plan are not among them: they are admitted to the
# school their plan names (Children and Families Act 2014 s43).
FAIR_ACCESS_CATEGORIES = {
    "a": "Subject to a Child in Need Plan or a Child Protection Plan, or had one within 12 months",
    "b": "Living in a refuge or other relevant accommodation",
    "c": "From the criminal justice system",
    "d": "In alternative provision and needing to return to mainstream, or permanently excluded but suitable "
    "for mainstream",
    "e": "Special educational needs (without an EHC plan), a disability or a medical condition",
    "f": "A young carer",
    "g": "Homeless",
    "h": "In a formal kinship care arrangement",
    "i": "Of, or who are, Gypsies, Roma, Travellers, refugees or asylum seekers",
    "j": "Refused a school place because of challenging behaviour and referred under para 3.10",
    "k": "No place sought because of exceptional circumstances",
    "l": "Out of education for four or more weeks with no place available within a reasonable distance",
    "m": "Previously looked after, and the LA has been unable to secure a place promptly",
}
MOVE_TIERS = {"time_limited_ap": Tier.TIME_LIMITED, "transitional_ap": Tier.TRANSITIONAL}
REASONS = {
    "behaviour": "Behaviour that has not improved with support",
    "attendance": "Persistent absence",
    "exclusion": "A permanent exclusion",
    "health": "Health needs",
    "safeguarding": "Safeguarding, or a fresh start",
    "no_school_place": "No school place (in-year admission)",
    "send": "Special educational needs",
    "awaiting_assessment": "Waiting for an EHC needs assessment",
    "no_special_place": "No special school place available",
    "other": "Another reason, explained below",
}
# Never reasons on their own for a move (green paper, chapter 4).
SEND_ONLY = frozenset({"send", "awaiting_assessment", "no_special_place"})
GREEN_PAPER_REFUSAL = (
    "A pupil must not be moved only because of their special educational needs, because they are waiting "
    "for an EHC needs assessment, or because no special school place is available (SEND and AP green paper, "
    "2022, chapter 4). Say what else makes this move in the pupil's best interest."
)
OUTCOMES = {
    "approve": "Approve",
    "decline": "Decline",
    "defer": "Defer to a later meeting",
    "more_information": "Ask for more information",
}
VOTES = ("for", "against", "abstain")
REFERRING_ROLES = frozenset({Role.SCHOOL_LEAD, Role.AP_HEAD, Role.LA_ADMIN, Role.COMMISSIONER, Role.ATTENDANCE_OFFICER})
MIN_EXPLANATION = 20
# From the LA's agreement to consider the child under the protocol to the allocation of a place
# (School Admissions Code 2021 para 3.21); the admission follows "as soon as possible".
FAIR_ACCESS_SCHOOL_DAYS = 20


# --- referrals -------------------------------------------------------------------------------


@dataclass
class SupportItem:
    description: str
    started: date | None
    ended: date | None = None


def submit_referral(
    session: Session,
    actor: Actor,
    pupil: Pupil,
    *,
    move: str,
    route: Route,
    proposed_setting: Setting | None,
    reason_codes: list[str],
    reasons: str,
    support: list[SupportItem],
    missing_support_reason: str | None,
    parent_views: str | None,
    pupil_views: str | None,
    missing_views_reason: str | None,
    best_interest: str,
    outreach: list[OutreachEngagement] | None = None,
    fair_access_category: str | None = None,
    today: date | None = None,
) -> Referral:
    """Submit a referral to the LA's panel. `outreach`: engagements of the register's own outreach
    that count as support tried. Refused without evidence of support tried and both
    sets of views (or a reason they are missing), and when its only reasons are SEND ones. A fair
    access referral names its category of the Admissions Code's list, and is refused for a child
    with an EHC plan."""
    permissions.require(session, actor, "pupil.view", pupil)
    user = actor.user
    if user is not None:
        if user.role not in REFERRING_ROLES:
            raise Forbidden("Your role cannot make referrals")
        if user.role == Role.SCHOOL_LEAD and pupil.home_school_id != user.setting_id:
            raise Forbidden("Only the pupil's own school, or the local authority, can refer them")
    today = today or clock.today()
    refusal = Refusal()
    if move not in MOVES:
        refusal.add("move", "Choose the move asked for")
    if not reason_codes or set(reason_codes) - set(REASONS):
        refusal.add("reason_codes", "Choose the reasons for the referral")
    elif set(reason_codes) <= SEND_ONLY:
        refusal.add("reason_codes", GREEN_PAPER_REFUSAL)
    if not reasons.strip():
        refusal.add("reasons", "Explain the reasons for the referral")
    tried = [item for item in support if item.description.strip()]
    linked = [e for e in (outreach or []) if e.pupil_id == pupil.id]
    for item in tried:
        if item.started is None:
            refusal.add("support", f"Give the date '{item.description.strip()}' started")
        elif item.started > today or (item.ended is not None and item.ended < item.started):
            refusal.add("support", f"The dates of '{item.description.strip()}' are not possible")
    if not tried and not linked and len((missing_support_reason or "").strip()) < MIN_EXPLANATION:
        refusal.add("support", "Give the support already tried, with its dates, or explain why none was tried")
    views_given = bool((parent_views or "").strip()) and bool((pupil_views or "").strip())
    if not views_given and len((missing_views_reason or "").strip()) < MIN_EXPLANATION:
        refusal.add("views", "Give the parent's views and the pupil's own views, or explain why they are missing")
    if not best_interest.strip():
        refusal.add("best_interest", "Say why this move is in the pupil's best interest")
    if move == "fair_access":
        if pupil.sen_status == SenStatus.EHCP:
            refusal.add("move", FAIR_ACCESS_EHCP_REFUSAL.format(name=pupil.full_name))
        if fair_access_category not in FAIR_ACCESS_CATEGORIES:
            refusal.add(
                "fair_access_category",
                "Choose which of the Admissions Code's categories the child is in (para 3.17): only those children "
                "may be placed through the fair access protocol",
            )
    refusal.raise_if_any("The referral was not submitted")
    referral = Referral(
        la_id=pupil.home_la_id,
        pupil_id=pupil.id,
        move=move,
        route=route,
        tier=MOVE_TIERS.get(move),
        referring_setting_id=user.setting_id if user is not None and user.setting_id else pupil.home_school_id,
        proposed_setting_id=proposed_setting.id if proposed_setting is not None else None,
        reason_codes=list(reason_codes),
        reasons=reasons.strip(),
        missing_support_reason=(missing_support_reason or "").strip() or None,
        parent_views=(parent_views or "").strip() or None,
        pupil_views=(pupil_views or "").strip() or None,
        missing_views_reason=(missing_views_reason or "").strip() or None,
        best_interest=best_interest.strip(),
        has_ehcp=pupil.sen_status == SenStatus.EHCP,
        awaiting_ehc_assessment=pupil.ehc_assessment_requested,
        fair_access_category=fair_access_category if move == "fair_access" else None,
        submitted_by_id=actor.user_id,
        submitted_on=today,
        support=[SupportTried(description=i.description.strip(), started=i.started, ended=i.ended) for i in tried]
        + [
            SupportTried(description=describe(e), started=e.started_on, ended=e.closed_on, engagement_id=e.id)
            for e in linked
        ],
    )
    session.add(referral)
    session.flush()
    audit.record(session, actor, "submit", "referral", referral.id, pupil_id=pupil.id, detail={"move": move})
    return referral


def agree_fair_access(session: Session, actor: Actor, referral: Referral, on: date, today: date | None = None) -> None:
    """Record the day the LA agreed the child will be considered under its fair access protocol:
    a school place is due within 20 school days of it (School Admissions Code 2021 para 3.21).
    The LA's officers record it, once, on a fair access referral still waiting for its place."""
    permissions.require(session, actor, "referral.agree_fair_access", referral.pupil)
    if actor.user is not None and actor.user.la_id != referral.la_id:
        raise NotFound("Page not found")  # a referral another LA made (before a transfer) is that LA's
    today = today or clock.today()
    refusal = Refusal()
    if referral.move != "fair_access":
        refusal.add("agreed_on", "This is not a fair access referral")
    elif referral.fair_access_agreed_on is not None:
        refusal.add(
            "agreed_on",
            f"The local authority's agreement was recorded already: {referral.fair_access_agreed_on:%-d %B %Y}",
        )
    elif referral.status != "submitted":
        refusal.add("agreed_on", "This referral has been decided or withdrawn")
    if on > today:
        refusal.add("agreed_on", "The date of the agreement must be today or in the past")
    refusal.raise_if_any("The agreement was not recorded")
    referral.fair_access_agreed_on = on
    session.flush()
    audit.record(
        session,
        actor,
        "agree_fair_access",
        "referral",
        referral.id,
        pupil_id=referral.pupil_id,
        detail={"agreed_on": on.isoformat()},
    )


def fair_access_allocated_on(referral: Referral) -> date | None:
    """The day the panel allocated the child a school place: its approving decision's meeting."""
    approvals = [d for d in referral.decisions if d.outcome == "approve"]
    return approvals[-1].meeting.held_on if approvals else None


@dataclass(frozen=True)
class FairAccessClock:
    """Where a fair access referral stands against the Admissions Code's clock, for its page."""

    category: str | None
    agreed_on: date | None
    due: date | None
    allocated_on: date | None
    admitted_on: date | None
    # School days from the allocation to the admission (or to today, while waiting).
    days_to_admission: int | None

    @property
    def allocated_late(self) -> bool:
        return self.due is not None and self.allocated_on is not None and self.allocated_on > self.due


def fair_access_clock(session: Session, referral: Referral, today: date | None = None) -> FairAccessClock | None:
    """The fair access clock of a referral: from the LA's agreement, a place allocated within 20
    school days (para 3.21), then the admission "as soon as possible", counted in school days."""
    if referral.move != "fair_access":
        return None
    today = today or clock.today()
    calendar = calendar_for(session, referral.pupil.home_la)
    # Until the agreement is recorded, the days count from the referral (as the daily checks do).
    try:
        due = calendar.add_school_days(referral.fair_access_agreed_on or referral.submitted_on, FAIR_ACCESS_SCHOOL_DAYS)
    except CalendarUnknown:
        due = None
    allocated = fair_access_allocated_on(referral)
    admitted = None
    decided = next((d for d in reversed(referral.decisions) if d.outcome == "approve" and d.placement_id), None)
    if decided is not None:
        placement = session.get(Placement, decided.placement_id)
        admitted = placement.start_date if placement is not None and placement.start_date <= today else None
    waited = None
    if allocated is not None:
        try:
            waited = calendar.school_days_between(allocated, admitted or today)
        except CalendarUnknown:
            waited = None
    category = FAIR_ACCESS_CATEGORIES.get(referral.fair_access_category or "")
    return FairAccessClock(category, referral.fair_access_agreed_on, due, allocated, admitted, waited)


def may_withdraw(actor: Actor, referral: Referral) -> bool:
    """The referring setting, or an LA officer who may refer, can withdraw a referral."""
    user = actor.user
    if user is None:
        return True
    if user.setting_id is not None:
        return user.setting_id == referral.referring_setting_id
    return user.role in REFERRING_ROLES


def withdraw_referral(session: Session, actor: Actor, referral: Referral, reason: str) -> None:
    if not may_withdraw(actor, referral):
        raise Forbidden("Only the referring setting or the local authority can withdraw a referral")
    if referral.status != "submitted":
        raise DomainError("Only a referral waiting for a decision can be withdrawn")
    if len(reason.strip()) < 10:
        raise DomainError("Say why the referral is withdrawn", [FieldError("reason", "Say why it is withdrawn")])
    referral.status = "withdrawn"
    session.flush()
    audit.record(
        session,
        actor,
        "withdraw",
        "referral",
        referral.id,
        pupil_id=referral.pupil_id,
        detail={"reason": reason.strip()},
    )


# --- panels and meetings ---------------------------------------------------------------------


def create_panel(session: Session, actor: Actor, la: LocalAuthority, name: str, quorum: int) -> Panel:
    permissions.require(session, actor, "panels.manage")
    refusal = Refusal()
    if not name.strip():
        refusal.add("name", "Enter the panel's name")
    if not 1 <= quorum <= 20:
        refusal.add("quorum", "Enter a quorum between 1 and 20 members")
    refusal.raise_if_any("The panel was not created")
    panel = Panel(la_id=la.id, name=name.strip(), quorum=quorum)
    session.add(panel)
    session.flush()
    audit.record(session, actor, "create", "panel", panel.id)
    return panel


def add_member(session: Session, actor: Actor, panel: Panel, user: User, chair: bool = False) -> PanelMember:
    permissions.require(session, actor, "panels.manage")
    permissions.require(session, actor, "admin.users", user)
    refusal = Refusal()
    if user.is_api_client:
        refusal.add("user", f"{user.name} is an API client, not a person: only people sit on a panel")
    if chair and user.role != Role.PANEL_CHAIR:
        refusal.add("user", f"{user.name} is not a panel chair: give them that role first")
    if any(m.user_id == user.id for m in panel.members):
        refusal.add("user", f"{user.name} is already on this panel")
    refusal.raise_if_any("The member was not added")
    member = PanelMember(panel_id=panel.id, user_id=user.id, chair=chair)
    session.add(member)
    session.flush()
    session.refresh(panel, ["members"])
    audit.record(session, actor, "add_member", "panel", panel.id, detail={"user_id": user.id, "chair": chair})
    return member


def member_candidates(session: Session, actor: Actor, panel: Panel | None = None) -> list[User]:
    """Who may be added to a panel: the active people whose accounts the actor manages (never
    an API client, which is a user account too), less those already members of `panel`."""
    stmt = select(User).where(User.active.is_(True), User.kind == "person").order_by(User.name)
    if panel is not None:
        members = [m.user_id for m in panel.members if m.active]
        if members:
            stmt = stmt.where(User.id.not_in(members))
    return list(session.scalars(permissions.scope_users(actor, stmt)))


def schedule_meeting(session: Session, actor: Actor, panel: Panel, held_on: date, location: str | None) -> Meeting:
    permissions.require(session, actor, "panels.manage")
    meeting = Meeting(panel_id=panel.id, held_on=held_on, location=(location or "").strip() or None)
    session.add(meeting)
    session.flush()
    audit.record(session, actor, "schedule", "meeting", meeting.id, detail={"held_on": held_on.isoformat()})
    return meeting


def visible_cases(session: Session, actor: Actor, meeting: Meeting) -> list[AgendaItem]:
    """A meeting's agenda as this person may read it: the cases of children they may see (a
    child whose record moved to another LA leaves the papers of the LA that let them go)."""
    if actor.user is None:
        return list(meeting.cases)
    visible = set(
        session.scalars(
            permissions.scope_pupils(
                actor, select(Pupil.id).where(Pupil.id.in_([i.referral.pupil_id for i in meeting.cases]))
            )
        )
    )
    return [item for item in meeting.cases if item.referral.pupil_id in visible]


def waiting_referrals(session: Session, la: LocalAuthority) -> list[Referral]:
    """Submitted referrals of the LA with no decision yet, or deferred, or sent back for more information."""
    return list(
        session.scalars(
            select(Referral)
            .join(Pupil, Pupil.id == Referral.pupil_id)
            .where(Referral.la_id == la.id, Referral.status == "submitted", Pupil.home_la_id == la.id)
            .order_by(Referral.submitted_at)
        )
    )


def build_agenda(session: Session, actor: Actor, meeting: Meeting) -> int:
    """Put every waiting referral not already on a later meeting's agenda on this one."""
    permissions.require(session, actor, "panels.manage")
    la = session.get(LocalAuthority, meeting.panel.la_id)
    assert la is not None
    on_later = set(
        session.scalars(
            select(AgendaItem.referral_id)
            .join(Meeting)
            .where(Meeting.panel_id == meeting.panel_id, Meeting.held_on >= meeting.held_on, Meeting.id != meeting.id)
        )
    )
    decided_here = {d.referral_id for d in session.scalars(select(Decision).where(Decision.meeting_id == meeting.id))}
    present = {item.referral_id for item in meeting.cases}
    position = max((item.position for item in meeting.cases), default=0)
    added = 0
    for referral in waiting_referrals(session, la):
        if referral.id in present or referral.id in on_later or referral.id in decided_here:
            continue
        position += 1
        session.add(AgendaItem(meeting_id=meeting.id, referral_id=referral.id, position=position))
        added += 1
    session.flush()
    session.refresh(meeting, ["cases"])
    audit.record(session, actor, "build_agenda", "meeting", meeting.id, detail={"added": added})
    return added


def conflicts(session: Session, meeting: Meeting, referral: Referral) -> dict[int, str]:
    """Members who may not vote on a case, and why: those from the referring or the receiving
    setting, and those who declared a conflict."""
    found: dict[int, str] = {}
    for member in meeting.panel.members:
        setting_id = member.user.setting_id
        if setting_id is not None and setting_id == referral.referring_setting_id:
            found[member.id] = "From the referring setting"
        elif setting_id is not None and setting_id == referral.proposed_setting_id:
            found[member.id] = "From the receiving setting"
    for conflict in session.scalars(
        select(Conflict).where(Conflict.meeting_id == meeting.id, Conflict.referral_id == referral.id)
    ):
        found.setdefault(conflict.member_id, conflict.reason)
    return found


def declare_conflict(
    session: Session, actor: Actor, meeting: Meeting, referral: Referral, member: PanelMember, reason: str
) -> None:
    if actor.user is not None and actor.user.id != member.user_id and not _is_chair(meeting, actor):
        raise Forbidden("Members declare their own conflicts; the chair may record them")
    if len(reason.strip()) < 5:
        raise DomainError("Say what the conflict is", [FieldError("reason", "Say what the conflict is")])
    session.add(Conflict(meeting_id=meeting.id, referral_id=referral.id, member_id=member.id, reason=reason.strip()))
    session.flush()
    audit.record(session, actor, "declare_conflict", "meeting", meeting.id, pupil_id=referral.pupil_id)


def _is_chair(meeting: Meeting, actor: Actor) -> bool:
    return actor.user is not None and any(
        m.user_id == actor.user.id and m.chair and m.active for m in meeting.panel.members
    )


def latest_decision(session: Session, referral: Referral) -> Decision | None:
    return session.scalars(
        select(Decision).where(Decision.referral_id == referral.id).order_by(Decision.id.desc()).limit(1)
    ).first()


@dataclass
class PlacementTerms:
    """What an approval sets: the placement the panel agreed."""

    start_date: date
    sessions: str
    registration: Registration
    planned_end_date: date | None = None
    # A time-limited placement says how the pupil goes back.
    reintegration_plan: str | None = None
    # An off-site direction (s29A) also needs the day written notice was given to the parents.
    notice_date: date | None = None
    # Paid outside the budget plan (no free commissioned place): its agreed cost and why.
    spot_purchase: bool = False
    agreed_cost: Decimal | None = None
    spot_reason: str | None = None


def not_yet_met(meeting: Meeting, today: date) -> str | None:
    """Why no decision of this meeting can be recorded yet (it has not been held), or None."""
    if meeting.held_on > today:
        return f"The panel meets on {meeting.held_on:%-d %B %Y}: record its decision on or after that day"
    return None


def decide(
    session: Session,
    actor: Actor,
    meeting: Meeting,
    referral: Referral,
    *,
    outcome: str,
    reasons: str,
    votes: dict[int, str],
    terms: PlacementTerms | None = None,
    after_decision_id: int | None = None,
    today: date | None = None,
) -> Decision:
    """Record the panel's decision on a case, with its reasons and votes. An approval starts the
    agreed placement, with its movements, in the same transaction. A decision is never changed,
    only superseded by a later one; `after_decision_id` is the latest decision the chair saw, so
    that two chairs deciding at once cannot both win. A decision is the meeting's: it is
    recorded on or after the day the panel meets, never before, so that what the parties are
    told ("on 9 December the panel decided") is true."""
    if not _is_chair(meeting, actor) and actor.user is not None:
        raise Forbidden("Only the panel's chair records its decisions")
    too_early = not_yet_met(meeting, today or clock.today())
    if too_early:
        raise DomainError("The decision was not recorded", [FieldError("outcome", too_early)])
    # Take the referral's row lock first: a second chair deciding at the same moment waits here.
    locked = session.scalars(select(Referral).where(Referral.id == referral.id).with_for_update()).one()
    session.refresh(locked)
    if not any(item.referral_id == locked.id for item in meeting.cases):
        raise NotFound("This referral is not on the meeting's agenda")
    previous = latest_decision(session, locked)
    refusal = Refusal()
    if (previous.id if previous else None) != after_decision_id:
        refusal.add("outcome", "Another decision on this case was recorded meanwhile: read it, then decide again")
        refusal.raise_if_any("The decision was not recorded")
    if previous is not None and previous.outcome == "approve" and previous.placement_id is not None:
        refusal.add("outcome", "This case was approved and its placement made: change the placement in the register")
    if locked.status == "withdrawn":
        refusal.add("outcome", "This referral was withdrawn")
    if outcome not in OUTCOMES:
        refusal.add("outcome", "Choose the decision")
    if not reasons.strip():
        refusal.add("reasons", "Give the reasons for the decision")
    barred = conflicts(session, meeting, locked)
    members = {m.id: m for m in meeting.panel.members if m.active}
    for member_id, vote in votes.items():
        if member_id not in members:
            refusal.add("votes", "A vote was given for someone who is not a member of this panel")
        elif member_id in barred:
            refusal.add("votes", f"{members[member_id].user.name} may not vote: {barred[member_id].lower()}")
        elif vote not in VOTES:
            refusal.add("votes", "Each vote is for, against or abstain")
    counted = [v for m, v in votes.items() if m in members and m not in barred and v in VOTES]
    if len(counted) < meeting.panel.quorum:
        refusal.add(
            "votes", f"The panel is not quorate: {len(counted)} members voted, {meeting.panel.quorum} are needed"
        )
    if outcome == "approve" and counted.count("for") <= counted.count("against"):
        refusal.add("outcome", "An approval needs more votes for than against")
    if outcome == "approve" and (locked.proposed_setting_id is None or terms is None):
        refusal.add("outcome", "An approval needs the receiving setting, the start date and the sessions")
    refusal.raise_if_any("The decision was not recorded")
    try:
        return _record_decision(session, actor, meeting, locked, previous, outcome, reasons, votes, terms)
    except (StaleDataError, OperationalError) as error:
        # The caller rolls the transaction back, as for any refusal.
        raise DomainError(
            "The decision was not recorded",
            [FieldError("outcome", "Another decision on this case was being recorded at the same time: try again")],
        ) from error


def _record_decision(
    session: Session,
    actor: Actor,
    meeting: Meeting,
    locked: Referral,
    previous: Decision | None,
    outcome: str,
    reasons: str,
    votes: dict[int, str],
    terms: PlacementTerms | None,
) -> Decision:
    decision = Decision(
        referral_id=locked.id,
        meeting_id=meeting.id,
        outcome=outcome,
        reasons=reasons.strip(),
        votes={str(m): v for m, v in votes.items()},
        decided_by_id=actor.user_id if actor.user_id is not None else meeting.panel.members[0].user_id,
        supersedes_id=previous.id if previous else None,
    )
    session.add(decision)
    session.flush()
    if outcome == "approve":
        assert terms is not None and locked.proposed_setting_id is not None
        pupil = locked.pupil
        placement, _ = start_placement(
            session,
            Actor(user=actor.user, via=actor.via, ip=actor.ip, label=actor.label),
            pupil,
            PlacementDraft(
                setting_id=locked.proposed_setting_id,
                route=locked.route,
                registration=terms.registration,
                sessions=terms.sessions,
                start_date=terms.start_date,
                planned_end_date=terms.planned_end_date,
                reintegration_plan=terms.reintegration_plan,
                notice_date=terms.notice_date,
                tier=locked.tier,
                spot_purchase=terms.spot_purchase,
                agreed_cost=terms.agreed_cost,
                spot_reason=terms.spot_reason,
                reason=f"Approved by {meeting.panel.name} on {meeting.held_on:%-d %B %Y}: {decision.reasons}",
                commissioner_la_id=locked.la_id,
            ),
            decision=decision,
            acting_for_panel=True,
        )
        decision.placement_id = placement.id
        locked.status = "approved"
    elif outcome == "decline":
        locked.status = "declined"
    else:
        locked.status = "submitted"
    session.flush()
    notify(
        session,
        referral_parties(session, locked),
        kind="panel_decision",
        subject=f"{meeting.panel.name} decided a referral: {OUTCOMES[outcome].lower()}",
        body=f"On {meeting.held_on:%-d %B %Y} the panel decided the referral of {locked.pupil.full_name}: "
        f"{OUTCOMES[outcome].lower()}. {decision.reasons}",
        link=f"/referrals/{locked.id}",
        pupil_id=locked.pupil_id,
    )
    audit.record(
        session,
        actor,
        "decide",
        "referral",
        locked.id,
        pupil_id=locked.pupil_id,
        detail={"outcome": outcome, "decision_id": decision.id},
    )
    return decision


def panel_rule_choices() -> dict[str, str]:
    """What an LA can require a panel decision for: a whole route, or some routes into a
    transitional place only."""
    choices = {route.value: ROUTE_LABELS[route] for route in Route if route not in NOT_FOR_PANELS}
    for route in (Route.LA_EXCLUSION, Route.LA_HEALTH, Route.LA_OTHER):
        choices[f"{route.value}:transitional"] = f"{ROUTE_LABELS[route]}, into a transitional place"
    return choices


def set_panel_rules(session: Session, actor: Actor, la: LocalAuthority, rules: list[str]) -> None:
    """Which moves need an approved panel decision before they start (placements that start on or
    after the day the LA adopted the register: `placements.adoption`)."""
    permissions.require(session, actor, "admin.term_dates")
    unknown = set(rules) - set(panel_rule_choices())
    if unknown:
        raise DomainError("The panel rules were not saved", [FieldError("rules", "Choose from the routes listed")])
    before = {"routes": list(la.panel_routes or [])}
    la.panel_routes = sorted(set(rules))
    session.flush()
    audit.record(session, actor, "update_panel_rules", "local_authority", la.id, detail={"before": before})


MANAGED_MOVE_OUTCOMES = {
    "confirmed": "A managed move: the pupil joins the new school's roll",
    "returned": "Returned to the home school",
}


def conclude_managed_move(
    session: Session, actor: Actor, placement: Placement, outcome: str, on: date, note: str
) -> None:
    """The end of an off-site direction to another school: a managed move (the pupil joins the
    new school's roll on the day it ends and leaves the old one's) or back to the home school.
    Both are written as movements."""
    from ap_register.domain.vocab import Destination, MovementKind
    from ap_register.placements.rules import end_placement, hold_ledger, may_end_in_a_managed_move, record_roll_movement

    hold_ledger(session, placement.pupil, placement)
    refusal = Refusal()
    if placement.end_date is not None:
        refusal.add("outcome", "This off-site direction has already ended")
    elif not may_end_in_a_managed_move(placement):
        refusal.add(
            "outcome", "Only an off-site direction to another mainstream or special school ends in a managed move"
        )
    if outcome not in MANAGED_MOVE_OUTCOMES:
        refusal.add("outcome", "Choose how the off-site direction ended")
    if not note.strip():
        refusal.add("note", "Say what was agreed")
    refusal.raise_if_any("The outcome was not recorded")
    confirmed = outcome == "confirmed"
    end_placement(
        session,
        actor,
        placement,
        end_date=on,
        destination=Destination.NEW_MAINSTREAM_SCHOOL if confirmed else Destination.RETURNED_HOME_SCHOOL,
        reason=note,
    )
    if confirmed:
        record_roll_movement(
            session,
            actor,
            placement.pupil,
            MovementKind.ADMITTED,
            on,
            placement.setting,
            reason=f"Managed move after an off-site direction: {note.strip()}",
            today=max(on, clock.today()),
            authorised=True,
        )


def fair_access_counts(session: Session, la: LocalAuthority, start: date, end: date) -> dict[int, dict[int, int]]:
    """Fair access allocations that started between two dates: by school, then by year group."""
    from ap_register.domain.pupils import year_group

    counts: dict[int, dict[int, int]] = {}
    rows = session.execute(
        select(Placement.setting_id, Placement.start_date, Pupil.date_of_birth)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(
            Pupil.home_la_id == la.id,
            Placement.route == Route.FAIR_ACCESS,
            Placement.start_date >= start,
            Placement.start_date <= end,
        )
    ).all()
    for setting_id, started, born in rows:
        by_year = counts.setdefault(setting_id, {})
        year = year_group(born, started)
        by_year[year] = by_year.get(year, 0) + 1
    return counts


# The schools a fair access protocol allocates places at: the Admissions Code covers maintained
# schools and academies other than special schools (School Admissions Code 2021, paras 3.9 to
# 3.17); AP is where a child goes while a place is found, not a school place.
FAIR_ACCESS_KINDS = frozenset({SettingKind.MAINSTREAM})


def fair_share(
    session: Session, actor: Actor, la: LocalAuthority, year: AcademicYear
) -> list[tuple[Setting, dict[int, int]]]:
    """Each school of the LA that fair access allocates places at, with the allocations it took
    in the academic year by year group: fewest first (the panel shares them out fairly)."""
    from ap_register.domain.search import settings_query

    counts = fair_access_counts(session, la, *year.span)
    schools = session.scalars(
        settings_query(actor).where(Setting.la_id == la.id, Setting.kind.in_(FAIR_ACCESS_KINDS))
    ).all()
    return sorted(((s, counts.get(s.id, {})) for s in schools), key=lambda row: (sum(row[1].values()), row[0].name))


def whose_turn(
    session: Session, actor: Actor, la: LocalAuthority, on: date, year_group: int, shown: int = 8
) -> list[tuple[Setting, int, int]]:
    """For a fair access case decided on `on`: the schools that teach the child's year group,
    with their allocations this academic year (in all, and in that year group), those who took
    fewest in the year group first: whose turn it is."""
    rows = [
        (school, sum(by_year.values()), by_year.get(year_group, 0))
        for school, by_year in fair_share(session, actor, la, AcademicYear.containing(on))
        if school.teaches_year(year_group)
    ]
    return sorted(rows, key=lambda r: (r[2], r[1], r[0].name))[:shown]


def count_waiting(session: Session, la: LocalAuthority) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Referral).where(Referral.la_id == la.id, Referral.status == "submitted")
        )
        or 0
    )
