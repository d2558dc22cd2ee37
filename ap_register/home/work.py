"""The day's work of each role, for the home page: what to do now, how many, by when, and the
way in.

Each card is read from the capability that owns its records (coverage, alerts, registers,
placements, referrals and panels, budgets, outcomes, returns, accounts), through the permission
scope, so a home page shows only what its reader may see. Plain Python over the session: the page
renders what `day_work` returns and links each item to its record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ap_register import permissions
from ap_register.domain.actors import Actor
from ap_register.domain.errors import CalendarUnknown, DomainError
from ap_register.domain.text import counted
from ap_register.domain.vocab import ROUTE_LABELS, Role, Route
from ap_register.models import (
    Alert,
    AuditEvent,
    LocalAuthority,
    Meeting,
    OutreachEngagement,
    Panel,
    Placement,
    Pupil,
    Referral,
    Setting,
    User,
)
from ap_register.years import AcademicYear, FinancialYear

# How many items a card lists before "and N more".
SHOWN = 8
# How far ahead "arriving" and "ending" look, in calendar days.
AHEAD = timedelta(days=21)
# A referral the panel has still to settle.
WITH_THE_PANEL = ("submitted", "deferred", "more_information")
REFERRAL_STATUSES = {
    "submitted": "Waiting for the panel",
    "deferred": "Deferred",
    "more_information": "More information asked for",
    "approved": "Approved",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}


@dataclass(frozen=True)
class Item:
    """One line of a card: what it is, where it leads (a kind of record and its id), and when."""

    label: str
    target: tuple[str, int] | None = None
    detail: str = ""
    due: date | None = None
    status: str | None = None
    overdue: bool = False
    # The child the line names, when it names one (they are recorded as seen).
    pupil_id: int | None = None


@dataclass
class Card:
    """A piece of a person's work: a heading, a sentence with the count, the first items, and the
    page with all of it (`key` names both the card and that page)."""

    key: str
    title: str
    summary: str
    items: list[Item] = field(default_factory=list)
    more: int = 0
    # The query the "see all" link carries (a week, a flag).
    query: dict[str, str] = field(default_factory=dict)

    def listing(self, items: list[Item]) -> Card:
        self.items, self.more = items[:SHOWN], max(0, len(items) - SHOWN)
        return self


@dataclass
class DayWork:
    cards: list[Card]
    # The children the cards name: only they are recorded as seen.
    pupil_ids: set[int] = field(default_factory=set)


def _pupils_of(cards: list[Card]) -> set[int]:
    named = {i.pupil_id for c in cards for i in c.items if i.pupil_id is not None}
    return named | {i.target[1] for c in cards for i in c.items if i.target is not None and i.target[0] == "pupil"}


def _d(day: date) -> str:
    return f"{day:%-d %B %Y}"


def _placements(session: Session, actor: Actor, *where: Any, order: tuple[Any, ...] = ()) -> list[Placement]:
    """The placements that meet `where`, as far as the actor may see them, with their pupil and
    setting loaded (a card names both)."""
    stmt = (
        select(Placement)
        .options(joinedload(Placement.pupil), joinedload(Placement.setting))
        .where(*where)
        .order_by(*order, Placement.id)
    )
    return list(session.scalars(permissions.scope_placements(actor, stmt)))


# --- the LA's officers ----------------------------------------------------------------------


def coverage_card(session: Session, actor: Actor, la: LocalAuthority, today: date) -> Card:
    """This school week's pupils below full time (a weekend looks at the week ahead)."""
    from ap_register.coverage.rules import FLAG_LABELS, monday_of, week_coverage

    monday = monday_of(today) if today.weekday() < 5 else monday_of(today) + timedelta(days=7)
    card = Card("coverage", "Full-time education this week", "", query={"week": monday.isoformat()})
    try:
        week = week_coverage(session, actor, la, monday, today)
    except CalendarUnknown as error:
        card.summary = error.message
        return card
    except DomainError as error:
        card.summary = error.message
        return card
    below = [p for p in week.pupils if "below_full_time" in p.flags or "no_provision" in p.flags]
    card.summary = (
        f"{counted(len(below), 'pupil')} of {len(week.pupils):,} below full time in the week of {_d(monday)}"
        if week.school_days
        else f"The week of {_d(monday)} has no school days"
    )
    card.query["flag"] = "below_full_time"
    return card.listing(
        [
            Item(
                p.pupil.full_name,
                ("pupil", p.pupil.id),
                f"{p.planned_sessions} of {week.required_sessions} sessions; "
                + ", ".join(FLAG_LABELS[f].lower() for f in p.flags),
            )
            for p in below
        ]
    )


def alerts_card(session: Session, actor: Actor, today: date) -> Card:
    """Open alerts, the soonest due first, with who has taken each on."""
    from ap_register.coverage.alerts import KINDS

    alerts = session.scalars(
        permissions.scope_alerts(
            actor,
            select(Alert)
            .options(joinedload(Alert.pupil), joinedload(Alert.setting))
            .where(Alert.status.in_(("open", "acknowledged")))
            .order_by(Alert.due, Alert.id),
        )
    ).all()
    owners = dict(
        session.execute(
            select(User.id, User.name).where(
                User.id.in_(({a.acknowledged_by_id for a in alerts} | {a.assigned_to_id for a in alerts}) - {None})
            )
        ).all()
    )
    overdue = sum(1 for a in alerts if a.due < today)
    card = Card("alerts", "Alerts", f"{counted(len(alerts), 'open alert')}, {overdue} past due")
    return card.listing(
        [
            Item(
                KINDS.get(a.kind, a.kind),
                ("alert", a.id),
                "; ".join(
                    part
                    for part in (
                        a.pupil.full_name if a.pupil else a.setting.name if a.setting else "",
                        f"due {_d(a.due)}",
                        f"given to {owners[a.assigned_to_id]}"
                        if a.assigned_to_id in owners
                        else f"taken on by {owners[a.acknowledged_by_id]}"
                        if a.acknowledged_by_id in owners
                        else "not yet taken on",
                    )
                    if part
                ),
                due=a.due,
                overdue=a.due < today,
                pupil_id=a.pupil_id,
            )
            for a in alerts
        ]
    )


def cases_card(session: Session, actor: Actor) -> Card:
    """The children whose case the person holds (casework/caseloads.py)."""
    from ap_register.casework import caseloads

    cases = caseloads.my_cases(session, actor)
    card = Card("cases", "My cases", f"You follow {counted(len(cases), 'child', 'children')}")
    return card.listing(
        [
            Item(
                pupil.full_name,
                ("pupil", pupil.id),
                pupil.home_school.name if pupil.home_school is not None else "Not on a school's roll",
            )
            for pupil, _ in cases
        ]
    )


def census_card(session: Session, actor: Actor, la: LocalAuthority, today: date) -> Card:
    """The next AP census: its day, and the gaps that would stop the file today."""
    from ap_register.returns import rules as returns

    year = AcademicYear.containing(today).start
    if returns.census_day("ap-census", year) < today:
        year += 1
    found = returns.build(session, actor, la, "ap-census", year, audited=False)
    errors = [g for g in found.gaps if g.severity == "error"]
    card = Card(
        "census",
        f"AP census, {_d(found.census_day)}",
        f"{counted(len(found.rows), 'record')}; "
        + (f"{counted(len(errors), 'error')} to put right before census day" if errors else "no errors"),
        query={"kind": "ap-census", "year": str(year)},
    )
    return card.listing([Item(f"Line {g.line}: {g.item.replace('_', ' ')}", None, g.message) for g in errors])


def imports_card(session: Session, la: LocalAuthority) -> Card:
    """The LA's latest imports: what came in, when and by whom."""
    events = session.execute(
        select(AuditEvent.object_type, AuditEvent.at, AuditEvent.detail, User.name)
        .join(User, AuditEvent.user_id == User.id)
        .where(AuditEvent.action == "import", User.la_id == la.id)
        .order_by(AuditEvent.at.desc())
        .limit(5)
    ).all()
    card = Card("imports", "Imports", "The latest files loaded" if events else "No files loaded yet")
    card.items = [
        Item(
            f"{kind.replace('-', ' ').capitalize()}: {counted(int(detail.get('rows', 0)), 'line')}",
            None,
            f"{detail.get('imported', 0)} added, {detail.get('updated', 0)} changed, by {name}",
            due=at.date() if isinstance(at, datetime) else None,
        )
        for kind, at, detail, name in events
    ]
    return card


def sign_in_card(session: Session, actor: Actor) -> Card:
    """People given an account who have not yet signed in."""
    waiting = session.scalars(
        permissions.scope_users(
            actor,
            select(User)
            .where(User.active.is_(True), User.kind == "person", User.last_signed_in_at.is_(None))
            .order_by(User.created_at),
        )
    ).all()
    card = Card("users", "Awaiting first sign-in", f"{counted(len(waiting), 'person', 'people')} not yet signed in")
    return card.listing(
        [
            Item(u.name, ("user", u.id), f"{u.organisation_name}; account added {_d(u.created_at.date())}")
            for u in waiting
        ]
    )


def budget_card(session: Session, la: LocalAuthority, today: date) -> Card:
    """The budget plan's forecast for this financial year against its places, line by line."""
    from ap_register.budgets import rules as budgets

    plan = budgets.plan_for(session, la, today)
    if plan is None:
        return Card("budget", "Budget", f"No agreed budget plan covers {_d(today)}")
    this_year = FinancialYear.containing(today).start
    year = next((y for y in budgets.utilisation(session, plan, today) if y.year == this_year), None)
    if year is None:
        return Card("budget", "Budget", f"{plan.name} has no lines for this year")
    over = [u for u in year.lines if u.over_plan]
    card = Card(
        "budget",
        f"Budget: {plan.name}",
        f"£{year.reserve_left:,.0f} of the £{year.reserve:,.0f} reserve left; "
        f"{counted(len(over), 'line')} forecast over plan",
        query={"plan": str(plan.id)},
    )
    return card.listing(
        [
            Item(
                budgets.line_label(u.line),
                None,
                f"{u.forecast_share}% forecast by the year's end ({u.used_share}% used so far)",
                status="Over plan",
            )
            for u in sorted(over, key=lambda u: u.forecast_share, reverse=True)
        ]
    )


def benchmark_card(session: Session, la: LocalAuthority, today: date) -> Card:
    """Providers with an outcome below its benchmark, in the last full academic year."""
    from ap_register.outcomes import rules as outcomes

    year = AcademicYear.last_ended(today).start
    found = outcomes.kept_or_computed(session, la, year)
    below = [
        (p, name)
        for p in found.providers
        for name in outcomes.OUTCOMES
        if p.provider is not None and p.figures[name].band == "below"
    ]
    card = Card(
        "outcomes",
        f"Provider outcomes, {AcademicYear(year).label}",
        f"{counted(len({p.provider.id for p, _ in below if p.provider}), 'provider')} below the benchmark "
        f"on at least one outcome",
        query={"year": AcademicYear(year).label},
    )
    return card.listing(
        [
            Item(
                p.provider.name,
                ("provider", p.provider.id),
                f"{outcomes.LABELS[name]}: {figure.value:.1f}% against {figure.benchmark.value:.1f}%"
                if figure.value is not None and figure.benchmark is not None
                else outcomes.LABELS[name],
            )
            for p, name in below
            if p.provider is not None
            for figure in [p.figures[name]]
        ]
    )


# --- panels ---------------------------------------------------------------------------------


def meeting_card(session: Session, actor: Actor, la: LocalAuthority, today: date) -> Card:
    """The next meeting of the panels this person sits on (of the LA's, for those who run them):
    its cases, and the deadline each one carries."""
    from ap_register.panels import rules as panels

    stmt = (
        select(Meeting)
        .join(Panel, Meeting.panel_id == Panel.id)
        .where(Panel.la_id == la.id, Meeting.held_on >= today)
        .order_by(Meeting.held_on, Meeting.id)
    )
    if actor.user is not None and actor.user.role == Role.PANEL_MEMBER:
        stmt = stmt.where(Panel.members.any(user_id=actor.user.id))
    meeting = session.scalars(stmt.limit(1)).first()
    if meeting is None:
        waiting = panels.count_waiting(session, la)
        return Card("panels", "Panel meetings", f"No meeting scheduled; {counted(waiting, 'referral')} waiting")
    cases = panels.visible_cases(session, actor, meeting)
    items = []
    for case in cases:
        referral = case.referral
        clock = panels.fair_access_clock(session, referral, today)
        items.append(
            Item(
                referral.pupil.full_name,
                ("referral", referral.id),
                f"{panels.MOVES.get(referral.move, referral.move)}"
                + (f" to {referral.proposed_setting.name}" if referral.proposed_setting else "")
                + (f"; a place is due by {_d(clock.due)}" if clock and clock.due else ""),
                due=clock.due if clock else None,
                overdue=bool(clock and clock.due and clock.due < today),
                pupil_id=referral.pupil_id,
            )
        )
    card = Card(
        "meeting",
        f"Next meeting: {_d(meeting.held_on)}",
        f"{meeting.panel.name}{', ' + meeting.location if meeting.location else ''}: {counted(len(cases), 'case')}",
        query={"meeting": str(meeting.id)},
    )
    return card.listing(items)


# --- a setting's people ---------------------------------------------------------------------


def registers_card(session: Session, actor: Actor, setting: Setting, today: date, now: datetime) -> Card:
    """Today's registers at this setting: how many pupils each session expects, and how many are
    marked."""
    from ap_register.coverage import attendance

    card = Card("registers", "Today's registers", "")
    problems = attendance.register_problems(session, setting, today, "AM", today)
    if problems:
        card.summary = problems[0].message
        return card
    items = []
    to_take = 0
    for half, name in (("AM", "Morning"), ("PM", "Afternoon")):
        rows = attendance.expected(session, actor, setting, today, half)
        marked = sum(1 for r in rows if r.mark)
        later = half == "PM" and now.hour < 12
        if rows and marked < len(rows) and not later:
            to_take += 1
        items.append(
            Item(
                name,
                ("register", 0 if half == "AM" else 1),
                f"{marked} of {counted(len(rows), 'pupil')} marked" + (" (this afternoon)" if later else ""),
                status="Done" if rows and marked == len(rows) else "To take" if rows and not later else None,
            )
        )
    card.summary = f"{counted(to_take, 'register')} still to take" if to_take else "Nothing to take now"
    card.items = items
    return card


def arriving_card(session: Session, actor: Actor, setting: Setting, today: date) -> Card:
    """Placements at this setting that start in the next three weeks."""
    placements = _placements(
        session,
        actor,
        Placement.setting_id == setting.id,
        Placement.start_date > today,
        Placement.start_date <= today + AHEAD,
        order=(Placement.start_date,),
    )
    card = Card("arriving", "Pupils arriving", f"{counted(len(placements), 'pupil')} starting in the next three weeks")
    return card.listing(
        [Item(p.pupil.full_name, ("pupil", p.pupil_id), ROUTE_LABELS[p.route], due=p.start_date) for p in placements]
    )


def current_pupils_card(session: Session, actor: Actor, setting: Setting, today: date) -> Card:
    """The setting's pupils now: on its roll, or placed with it today, each with how they are
    here and what comes next. Never a pupil who has left."""
    placements = _placements(
        session,
        actor,
        Placement.setting_id == setting.id,
        Placement.start_date <= today,
        or_(Placement.end_date.is_(None), Placement.end_date >= today),
    )
    placed = {p.pupil_id: p for p in placements}
    on_roll = session.scalars(
        permissions.scope_pupils(
            actor, select(Pupil).where(Pupil.home_school_id == setting.id, Pupil.id.not_in(placed or [0]))
        )
    ).all()
    items = [
        Item(
            p.pupil.full_name,
            ("pupil", p.pupil_id),
            ROUTE_LABELS[p.route]
            + (f"; ends {_d(p.end_date)}" if p.end_date else "")
            + (f"; next review {_d(p.next_review_date)}" if p.next_review_date else ""),
            due=p.next_review_date,
            overdue=bool(p.next_review_date and p.next_review_date < today),
            status="Ending" if p.end_date else "Placed",
        )
        for p in sorted(placements, key=lambda p: (p.pupil.last_name, p.pupil.first_name))
    ] + [
        Item(p.full_name, ("pupil", p.id), "On the roll", status="On roll")
        for p in sorted(on_roll, key=lambda p: (p.last_name, p.first_name))
    ]
    card = Card(
        "current",
        "Your pupils now",
        f"{counted(len(placements), 'pupil')} placed here today; {len(on_roll):,} more on the roll",
    )
    return card.listing(items)


def outreach_card(session: Session, actor: Actor, setting: Setting) -> Card:
    """The setting's outreach engagements still open."""
    from ap_register.budgets.outreach import KINDS

    engagements = session.scalars(
        permissions.scope_outreach(
            actor,
            select(OutreachEngagement)
            .options(joinedload(OutreachEngagement.school), joinedload(OutreachEngagement.pupil))
            .where(OutreachEngagement.provider_id == setting.id, OutreachEngagement.closed_on.is_(None))
            .order_by(OutreachEngagement.started_on),
        )
    ).all()
    card = Card("outreach", "Open outreach", f"{counted(len(engagements), 'engagement')} open")
    return card.listing(
        [
            Item(
                e.pupil.full_name if e.pupil else e.group_name or "A group",
                ("engagement", e.id),
                f"{KINDS.get(e.kind, e.kind)} at {e.school.name}, since {_d(e.started_on)}",
                pupil_id=e.pupil_id,
            )
            for e in engagements
        ]
    )


def reports_card(session: Session, actor: Actor, today: date) -> Card:
    """The half-termly progress reports the provider has to write, the longest overdue first."""
    from ap_register.commissioning import progress

    waiting = progress.to_write(session, actor, today)
    overdue = sum(w.period.state(today) == "overdue" for w in waiting)
    card = Card(
        "reports",
        "Progress reports to write",
        f"{counted(len(waiting), 'report')} to write" + (f", {overdue:,} overdue" if overdue else ""),
    )
    return card.listing(
        [
            Item(
                w.agreement.placement.pupil.full_name,
                ("agreement", w.agreement.id),
                f"Half term from {w.period.label}",
                due=w.period.due,
                status=progress.STATES[w.period.state(today)],
                overdue=w.period.state(today) == "overdue",
                pupil_id=w.agreement.placement.pupil_id,
            )
            for w in waiting
        ]
    )


def places_card(session: Session, setting: Setting, today: date) -> Card:
    """The places the LA commissions from this provider this year, and how many are in use today."""
    from ap_register.budgets import rules as budgets

    la = session.get(LocalAuthority, setting.la_id)
    assert la is not None
    plan = budgets.plan_for(session, la, today)
    card = Card("places", "Commissioned places", "")
    if plan is None:
        card.summary = f"No agreed budget plan covers {_d(today)}"
        return card
    this_year = FinancialYear.containing(today).start
    lines = [
        use
        for year, use in budgets.provider_lines(budgets.utilisation(session, plan, today), setting.id)
        if year.year == this_year and use.line.place_type != "outreach"
    ]
    in_use = sum((u.occupancy or Decimal(0) for u in lines), Decimal(0))
    commissioned = sum((u.commissioned for u in lines), Decimal(0))
    card.summary = (
        f"{budgets.figure(in_use)} of {budgets.figure(commissioned)} places in use today"
        if lines
        else f"{plan.name} commissions no places here this year"
    )
    card.items = [
        Item(
            budgets.PLACE_TYPES[u.line.place_type],
            None,
            f"{budgets.figure(u.occupancy or Decimal(0))} of {budgets.figure(u.commissioned)} in use; "
            f"{u.forecast_share}% forecast by the year's end",
            status="Over plan" if u.over_plan else None,
        )
        for u in lines
    ]
    return card


def in_ap_card(session: Session, actor: Actor, school: Setting, today: date) -> Card:
    """The school's pupils educated elsewhere now or soon, the next review first."""
    placements = _placements(
        session,
        actor,
        Placement.home_school_id == school.id,
        Placement.setting_id != school.id,
        Placement.start_date <= today + AHEAD,
        or_(Placement.end_date.is_(None), Placement.end_date >= today),
    )
    ordered = sorted(placements, key=lambda p: (p.next_review_date or date.max, p.pupil.last_name))
    card = Card(
        "in_ap", "Your pupils in alternative provision", f"{counted(len(placements), 'placement')} now or starting soon"
    )
    return card.listing(
        [
            Item(
                p.pupil.full_name,
                ("pupil", p.pupil_id),
                f"At {p.setting.name}: {ROUTE_LABELS[p.route]}"
                + (f", from {_d(p.start_date)}" if p.start_date > today else "")
                + (f"; next review {_d(p.next_review_date)}" if p.next_review_date else "; no review due"),
                due=p.next_review_date,
                overdue=bool(p.next_review_date and p.next_review_date < today),
            )
            for p in ordered
        ]
    )


def referrals_card(session: Session, actor: Actor, school: Setting, today: date) -> Card:
    """The school's referrals still in hand or decided in the last four weeks, with their status."""
    referrals = session.scalars(
        permissions.scope_referrals(
            actor,
            select(Referral)
            .options(joinedload(Referral.pupil))
            .where(
                Referral.referring_setting_id == school.id,
                or_(
                    Referral.status.in_(WITH_THE_PANEL),
                    Referral.submitted_on >= today - timedelta(days=28),
                ),
            )
            .order_by(Referral.submitted_on.desc(), Referral.id.desc()),
        )
    ).all()
    waiting = sum(1 for r in referrals if r.status in WITH_THE_PANEL)
    card = Card("referrals", "Your referrals", f"{counted(waiting, 'referral')} with the panel")
    return card.listing(
        [
            Item(
                r.pupil.full_name,
                ("referral", r.id),
                f"Sent {_d(r.submitted_on)}",
                status=REFERRAL_STATUSES.get(r.status, r.status),
                pupil_id=r.pupil_id,
            )
            for r in referrals
        ]
    )


def ending_card(session: Session, actor: Actor, school: Setting, today: date) -> Card:
    """The school's off-site directions planned to end in the next three weeks (or overdue)."""
    placements = _placements(
        session,
        actor,
        Placement.home_school_id == school.id,
        Placement.route == Route.OFF_SITE_DIRECTION,
        Placement.end_date.is_(None),
        Placement.planned_end_date.is_not(None),
        Placement.planned_end_date <= today + AHEAD,
        order=(Placement.planned_end_date,),
    )
    card = Card(
        "ending", "Directions ending", f"{counted(len(placements), 'off-site direction')} ending in three weeks"
    )
    return card.listing(
        [
            Item(
                p.pupil.full_name,
                ("placement", p.id),
                f"At {p.setting.name}; planned to end {_d(p.planned_end_date)}" if p.planned_end_date else "",
                due=p.planned_end_date,
                overdue=bool(p.planned_end_date and p.planned_end_date < today),
                pupil_id=p.pupil_id,
            )
            for p in placements
        ]
    )


# --- each role's day ------------------------------------------------------------------------


def day_work(session: Session, actor: Actor, la: LocalAuthority, today: date, now: datetime) -> DayWork:
    """The cards of this person's home page, in the order of their day."""
    user = actor.user
    assert user is not None
    role = user.role
    setting = user.setting
    makers: list[Callable[[], Card]] = []
    if role == Role.ATTENDANCE_OFFICER:
        makers = [
            lambda: coverage_card(session, actor, la, today),
            lambda: alerts_card(session, actor, today),
            lambda: cases_card(session, actor),
        ]
    elif role == Role.LA_ADMIN:
        makers = [
            lambda: alerts_card(session, actor, today),
            lambda: cases_card(session, actor),
            lambda: census_card(session, actor, la, today),
            lambda: imports_card(session, la),
            lambda: sign_in_card(session, actor),
        ]
    elif role == Role.COMMISSIONER:
        makers = [
            lambda: budget_card(session, la, today),
            lambda: benchmark_card(session, la, today),
            lambda: alerts_card(session, actor, today),
            lambda: cases_card(session, actor),
        ]
    elif role == Role.PANEL_CHAIR:
        makers = [lambda: meeting_card(session, actor, la, today), lambda: cases_card(session, actor)]
    elif role == Role.PANEL_MEMBER:
        makers = [lambda: meeting_card(session, actor, la, today)]
    elif role == Role.AP_HEAD and setting is not None:
        makers = [
            lambda: registers_card(session, actor, setting, today, now),
            lambda: arriving_card(session, actor, setting, today),
            lambda: current_pupils_card(session, actor, setting, today),
            lambda: reports_card(session, actor, today),
            lambda: outreach_card(session, actor, setting),
            lambda: places_card(session, setting, today),
        ]
    elif role == Role.SCHOOL_LEAD and setting is not None:
        makers = [
            lambda: in_ap_card(session, actor, setting, today),
            lambda: referrals_card(session, actor, setting, today),
            lambda: ending_card(session, actor, setting, today),
            lambda: alerts_card(session, actor, today),
        ]
    cards = [make() for make in makers]
    return DayWork(cards, _pupils_of(cards))
