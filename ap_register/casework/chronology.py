"""A child's chronology: one timeline of what happened, for a meeting or an annual review.

It merges, newest first, what the register already keeps about the child, each as the actor may
see it: the ledger's movements (admissions, exclusions, placements started and ended), placement
reviews, the panel's decisions (for the LA's people, and the settings that referred the child or
were asked to take them), alerts and how they were handled (raised, acknowledged, escalated,
resolved), each attempt to reach the family, outreach sessions, case notes (`notes.visible_notes`:
a note for the LA's officers only is never shown to a school) and the letters sent (`letters`).
Nothing here is stored: the chronology is read from the records each time, so it is never out of
step with them. Filtered by
kind; printed from the page (a print style sheet leaves the service's navigation out) or
downloaded as CSV.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ap_register import clock, permissions
from ap_register.budgets.outreach import KINDS as OUTREACH_KINDS
from ap_register.casework import contacts, notes
from ap_register.coverage.absence import KIND as ABSENCE
from ap_register.coverage.absence import METHODS, OUTCOMES
from ap_register.coverage.alerts import KINDS as ALERT_KINDS
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.vocab import LA_ROLES, MOVEMENT_KIND_LABELS, ROUTE_LABELS, Route
from ap_register.models import (
    Alert,
    ContactAttempt,
    Decision,
    Movement,
    OutreachEngagement,
    OutreachSession,
    Placement,
    PlacementReview,
    Pupil,
    Referral,
    Setting,
)
from ap_register.panels.rules import OUTCOMES as DECISION_OUTCOMES

KINDS = {
    "movement": "Roll and placements",
    "review": "Placement reviews",
    "decision": "Panel decisions",
    "alert": "Alerts and their handling",
    "attempt": "Attempts to reach the family",
    "outreach": "Outreach",
    "note": "Case notes",
    "letter": "Letters sent",
    "progress": "Progress reports",
}
COLUMNS = ["date", "kind", "what", "detail", "by"]


@dataclass(frozen=True)
class Entry:
    day: date
    kind: str
    what: str
    detail: str
    by: str
    # Within a day, the order things were recorded.
    at: datetime | None = None

    def row(self) -> dict[str, str]:
        return {
            "date": self.day.isoformat(),
            "kind": KINDS[self.kind],
            "what": self.what,
            "detail": self.detail,
            "by": self.by,
        }


def _local_day(at: datetime) -> date:
    return at.astimezone(clock.ENGLAND).date()


def _movements(session: Session, pupil: Pupil) -> list[Entry]:
    moved = session.scalars(
        select(Movement).where(Movement.pupil_id == pupil.id).order_by(Movement.date, Movement.id)
    ).all()
    named = {m.setting_id for m in moved if m.setting_id is not None} or {0}
    names = dict(session.execute(select(Setting.id, Setting.name).where(Setting.id.in_(named))).all())
    found = []
    for m in moved:
        what = MOVEMENT_KIND_LABELS[m.kind] + (f": {names.get(m.setting_id, '')}" if m.setting_id else "")
        parts = []
        if m.days:
            parts.append(f"{m.days} school day{'s' if m.days != 1 else ''}")
        if m.details.get("route"):
            parts.append(ROUTE_LABELS[Route(m.details["route"])])
        if m.details.get("sessions"):
            parts.append(f"{week_pattern.count(m.details['sessions'])} sessions a week")
        if m.reason:
            parts.append(m.reason)
        found.append(Entry(m.date, "movement", what, ". ".join(parts), f"Recorded ({m.recorded_via})", m.recorded_at))
    return found


def _reviews(session: Session, pupil: Pupil) -> list[Entry]:
    reviews = session.scalars(
        select(PlacementReview)
        .join(Placement, Placement.id == PlacementReview.placement_id)
        .where(Placement.pupil_id == pupil.id)
        .options(joinedload(PlacementReview.placement).joinedload(Placement.setting))
    ).all()
    found = []
    for r in reviews:
        with_whom = [
            who for who, took in (("the pupil", r.pupil_took_part), ("the parents", r.parents_took_part)) if took
        ]
        detail = r.notes + (f" With {' and '.join(with_whom)}." if with_whom else "")
        if r.next_review_date:
            detail += f" Next review {r.next_review_date:%-d %B %Y}."
        found.append(
            Entry(r.review_date, "review", f"Placement reviewed: {r.placement.setting.name}", detail, "", r.recorded_at)
        )
    return found


def _decisions(session: Session, actor: Actor, pupil: Pupil) -> list[Entry]:
    user = actor.user
    stmt = (
        select(Decision)
        .join(Referral, Referral.id == Decision.referral_id)
        .where(Referral.pupil_id == pupil.id)
        .options(joinedload(Decision.referral), joinedload(Decision.decided_by))
    )
    if user is not None and user.role not in LA_ROLES:
        # A setting reads the decisions on referrals it made or that asked it to take the child.
        stmt = stmt.where(
            or_(Referral.referring_setting_id == user.setting_id, Referral.proposed_setting_id == user.setting_id)
        )
    found = []
    for d in session.scalars(stmt).unique():
        what = f"Panel decision: {DECISION_OUTCOMES.get(d.outcome, d.outcome)}"
        found.append(Entry(_local_day(d.decided_at), "decision", what, d.reasons, d.decided_by.name, d.decided_at))
    return found


def _alerts(session: Session, actor: Actor, pupil: Pupil) -> tuple[list[Entry], list[Entry]]:
    alerts = session.scalars(
        permissions.scope_alerts(actor, select(Alert).where(Alert.pupil_id == pupil.id).order_by(Alert.id))
    ).all()
    # Who was tried about an absence, and what was said, are the family's (coverage/absence.py).
    family = contacts.may_read(session, actor, pupil)
    found: list[Entry] = []
    for a in alerts:
        title = ALERT_KINDS.get(a.kind, a.kind)
        found.append(
            Entry(_local_day(a.raised_at), "alert", f"Alert raised: {title}", a.message, "The register", a.raised_at)
        )
        if a.acknowledged_at is not None and (family or a.kind != ABSENCE):
            found.append(
                Entry(
                    _local_day(a.acknowledged_at),
                    "alert",
                    f"Alert acknowledged: {title}",
                    a.acknowledgement_note or "",
                    "",
                    a.acknowledged_at,
                )
            )
        if a.escalated_at is not None:
            found.append(
                Entry(
                    _local_day(a.escalated_at),
                    "alert",
                    f"Alert escalated: {title}",
                    "To the local authority's named officer: nobody had reached the family",
                    "The register",
                    a.escalated_at,
                )
            )
        if a.resolved_at is not None:
            found.append(
                Entry(
                    _local_day(a.resolved_at),
                    "alert",
                    f"Alert resolved: {title}",
                    a.resolution or "",
                    "",
                    a.resolved_at,
                )
            )
    attempts = (
        session.scalars(
            select(ContactAttempt)
            .where(ContactAttempt.alert_id.in_([a.id for a in alerts] or [0]))
            .order_by(ContactAttempt.id)
        ).all()
        if family
        else []
    )
    tried = [
        Entry(
            _local_day(t.made_at),
            "attempt",
            f"{METHODS.get(t.method, t.method)} to {t.contact_name}: {OUTCOMES.get(t.outcome, t.outcome)}",
            t.note or "",
            f"{t.made_by_name}, {t.organisation}" if t.organisation else t.made_by_name,
            t.made_at,
        )
        for t in attempts
    ]
    return found, tried


def _outreach(session: Session, actor: Actor, pupil: Pupil) -> list[Entry]:
    engagements = permissions.scope_outreach(
        actor, select(OutreachEngagement.id).where(OutreachEngagement.pupil_id == pupil.id)
    )
    held = session.scalars(
        select(OutreachSession)
        .where(OutreachSession.engagement_id.in_(engagements))
        .options(joinedload(OutreachSession.engagement).joinedload(OutreachEngagement.provider))
        .order_by(OutreachSession.held_on, OutreachSession.id)
    ).all()
    return [
        Entry(
            s.held_on,
            "outreach",
            f"Outreach: {OUTREACH_KINDS.get(s.engagement.kind, s.engagement.kind)}, {s.engagement.provider.name}",
            f"{s.minutes} minutes",
            s.staff,
            s.recorded_at,
        )
        for s in held
    ]


def _notes(session: Session, actor: Actor, pupil: Pupil) -> list[Entry]:
    shown = notes.visible_notes(session, actor, pupil)
    return [
        Entry(
            n.happened_on,
            "note",
            notes.CATEGORIES.get(n.category, n.category) + (": a correction" if n.corrects_id else "")
            + (" (local authority only)" if n.audience == "la" else ""),
            n.text,
            f"{n.author_name}, {n.author_organisation}" if n.author_organisation else n.author_name,
            n.written_at,
        )
        for n in shown
    ]  # fmt: skip


def _letters(session: Session, actor: Actor, pupil: Pupil) -> list[Entry]:
    from ap_register.casework import letters

    sent = [found for found in letters.visible(session, actor, pupil) if found.status == "sent" and found.sent_on]
    return [
        Entry(
            found.sent_on,
            "letter",
            f"{letters.KINDS[found.kind]}, to {found.facts['recipient']}"
            + (" (local authority only)" if found.audience == "la" else ""),
            f"{letters.SENT_HOW.get(found.sent_how or '', '')}. Kept on the record as it was sent",
            f"{found.created_by_name}, {found.organisation}" if found.organisation else found.created_by_name,
            found.sent_at,
        )
        for found in sent
        if found.sent_on is not None
    ]


def _progress(session: Session, actor: Actor, pupil: Pupil) -> list[Entry]:
    from ap_register.commissioning import progress

    return [
        Entry(
            _local_day(r.submitted_at),
            "progress",
            f"Progress report for the half term from {r.period_start:%-d %B %Y} to {r.period_end:%-d %B %Y}, "
            f"{r.agreement.placement.setting.name}",
            progress.summary(r).capitalize(),
            r.submitted_by_name,
            r.submitted_at,
        )
        for r in progress.of_pupil(session, actor, pupil)
    ]


def chronology(session: Session, actor: Actor, pupil: Pupil, kinds: Collection[str] | None = None) -> list[Entry]:
    """The child's chronology as the actor may see it, newest first; only `kinds` when given (the
    kinds it does not know are left out; with none it knows, everything)."""
    wanted = (set(kinds or ()) & set(KINDS)) or set(KINDS)  # none known: everything
    entries: list[Entry] = []
    if "movement" in wanted:
        entries += _movements(session, pupil)
    if "review" in wanted:
        entries += _reviews(session, pupil)
    if "decision" in wanted:
        entries += _decisions(session, actor, pupil)
    if wanted & {"alert", "attempt"}:
        raised, tried = _alerts(session, actor, pupil)
        entries += (raised if "alert" in wanted else []) + (tried if "attempt" in wanted else [])
    if "outreach" in wanted:
        entries += _outreach(session, actor, pupil)
    if "note" in wanted:
        entries += _notes(session, actor, pupil)
    if "letter" in wanted:
        entries += _letters(session, actor, pupil)
    if "progress" in wanted:
        entries += _progress(session, actor, pupil)
    return sorted(entries, key=lambda e: (e.day, e.at or datetime.min.replace(tzinfo=clock.ENGLAND)), reverse=True)
