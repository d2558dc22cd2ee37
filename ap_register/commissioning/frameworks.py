"""Frameworks, lots, providers' evidence and approval onto lots: the rules, in one place.

The law and guidance these follow (README, Commissioning):

- A framework is a contract with one or more suppliers for the future award of contracts
  ("call-offs") by the authority (Procurement Act 2023 s45(1)-(2)); it must state the price payable
  or how it is worked out (s45(5)(b)) and its term (s45(5)(e)), which is at most four years
  (s47(1)). It may not permit an award to an excluded supplier (s45(6)(a)). A dynamic market
  (ss34-40, which replaced the dynamic purchasing system) admits suppliers throughout its life.
  The register keeps each provider's rate per lot (the price mechanism) and refuses a framework
  of more than four years.
- A school that places a pupil with a provider stays responsible for their safeguarding and should
  obtain written confirmation from the provider that the appropriate safeguarding checks have been
  carried out on those working there (Keeping children safe in education 2025, Part two,
  "Alternative provision"); the LA commissioning AP for its pupils asks the same of the providers
  it approves (Alternative provision: statutory guidance for local authorities, 2013, paras 6-9 on
  commissioning, and the DfE's non-school AP standards, 2024, on safeguarding, insurance and
  quality assurance).

The register's own rule (the LA's policy, set per framework): evidence that has expired leaves a
provider approved, but once the framework's grace period after the expiry has passed no new
placement may be called off from it until newer evidence is recorded. An alert is raised for the
LA's commissioners the day the evidence lapses (coverage/alerts.py, provider_evidence_lapsed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, Forbidden, Refusal
from ap_register.domain.text import kept_text
from ap_register.domain.vocab import AP_KINDS
from ap_register.models import ComplianceCheck, Framework, FrameworkLot, LocalAuthority, LotApproval, Setting

KINDS = {
    "framework": "Framework (Procurement Act 2023, section 45)",
    "dynamic_market": "Dynamic market (Procurement Act 2023, sections 34 to 40)",
}
SERVICES = {
    "education_engagement": "Education and engagement",
    "mentoring": "Mentoring",
    "tuition": "Tuition",
}
# The evidence every provider gives the LA before it is approved, and keeps up to date.
CHECKS = {
    "insurance": "Insurance (employer's and public liability)",
    "safeguarding_policy": "Safeguarding and child protection policy",
    "dbs_confirmation": "Written confirmation of staff safeguarding checks (enhanced DBS)",
    "quality_visit": "Ofsted inspection or the LA's quality assurance visit",
    "financial_standing": "Financial standing",
}
# How each state of a piece of evidence is shown: its words and its tag's colour.
STATES = {
    "current": ("In date", "govuk-tag--green"),
    "expiring": ("Expires soon", "govuk-tag--yellow"),
    "in_grace": ("Expired: in grace", "govuk-tag--orange"),
    "lapsed": ("Expired: call-offs stopped", "govuk-tag--red"),
    "missing": ("Missing", "govuk-tag--red"),
}
RATE_UNITS = {"session": "per session", "day": "per day", "hour": "per hour", "week": "per week"}

MAX_FRAMEWORK_YEARS = 4  # Procurement Act 2023 s47(1)
MAX_GRACE_DAYS = 90
EXPIRING_WITHIN_DAYS = 30  # evidence this close to its expiry is shown as expiring
MAX_RATE = Decimal("10000")  # pounds, for one unit: a typing slip beyond it
MAX_EVIDENCE_YEARS = 5  # evidence said to run for longer than this is a typing slip


# --- the standing of a provider's evidence ------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    kind: str
    evidence_date: date
    expires_on: date
    recorded: int = 0  # the order it was recorded in: of two dated alike, the later corrects the earlier


@dataclass(frozen=True)
class Standing:
    """One kind of evidence on a day. `state`: current, expiring (within 30 days), in_grace
    (expired; new call-offs still allowed), lapsed (expired and past the grace period: no new
    call-offs) or missing. `stops_on`: the first day new call-offs stop, when there is evidence."""

    kind: str
    state: str
    evidence: Evidence | None
    stops_on: date | None

    @property
    def label(self) -> str:
        return CHECKS[self.kind]

    @property
    def blocks(self) -> bool:
        return self.state in ("lapsed", "missing")

    @property
    def expired(self) -> bool:
        return self.state in ("in_grace", "lapsed", "missing")


def latest(evidence: Iterable[Evidence]) -> dict[str, Evidence]:
    """The evidence that counts for each kind: the newest by its date; of two dated alike, the one
    recorded later (a correction: evidence is never changed, so a mistyped expiry is put right by
    recording it again)."""
    found: dict[str, Evidence] = {}
    for item in evidence:
        kept = found.get(item.kind)
        if kept is None or (item.evidence_date, item.recorded) > (kept.evidence_date, kept.recorded):
            found[item.kind] = item
    return found


def standing(evidence: Iterable[Evidence], on: date, grace_days: int) -> list[Standing]:
    """Every kind of evidence the LA asks for, as it stands on `on`. Evidence that expires on a day
    is good through that day; new call-offs stop `grace_days` days after it."""
    newest = latest(evidence)
    result = []
    for kind in CHECKS:
        item = newest.get(kind)
        if item is None:
            result.append(Standing(kind, "missing", None, None))
            continue
        stops_on = item.expires_on + timedelta(days=grace_days + 1)
        if on >= stops_on:
            state = "lapsed"
        elif on > item.expires_on:
            state = "in_grace"
        elif (item.expires_on - on).days < EXPIRING_WITHIN_DAYS:
            state = "expiring"
        else:
            state = "current"
        result.append(Standing(kind, state, item, stops_on))
    return result


def call_off_problems(standings: list[Standing]) -> list[str]:
    """Why no new placement may be called off from this provider today (none: it may)."""
    problems = []
    for s in standings:
        if s.state == "missing":
            problems.append(f"No evidence of {s.label.lower()} is recorded")
        elif s.state == "lapsed" and s.evidence is not None and s.stops_on is not None:
            grace_ended = s.stops_on - timedelta(days=1)
            problems.append(
                f"{s.label} expired on {s.evidence.expires_on:%-d %B %Y} and the grace period ended on "
                f"{grace_ended:%-d %B %Y}"
            )
    return problems


# --- reading the register -----------------------------------------------------------------------


def evidence_of(session: Session, la_id: int, provider_id: int) -> list[ComplianceCheck]:
    """Every piece of evidence the LA holds for the provider, newest first."""
    return list(
        session.scalars(
            select(ComplianceCheck)
            .where(ComplianceCheck.la_id == la_id, ComplianceCheck.provider_id == provider_id)
            .order_by(ComplianceCheck.evidence_date.desc(), ComplianceCheck.id.desc())
        )
    )


def as_evidence(checks: Iterable[ComplianceCheck]) -> list[Evidence]:
    return [Evidence(c.kind, c.evidence_date, c.expires_on, c.id) for c in checks]


def provider_standing(session: Session, la_id: int, provider_id: int, on: date, grace_days: int) -> list[Standing]:
    return standing(as_evidence(evidence_of(session, la_id, provider_id)), on, grace_days)


def evidence_by_provider(session: Session, la_id: int) -> dict[int, list[Evidence]]:
    """All the LA's evidence, by provider, in one query."""
    result: dict[int, list[Evidence]] = {}
    rows = session.execute(
        select(
            ComplianceCheck.provider_id,
            ComplianceCheck.kind,
            ComplianceCheck.evidence_date,
            ComplianceCheck.expires_on,
            ComplianceCheck.id,
        ).where(ComplianceCheck.la_id == la_id)
    )
    for provider_id, kind, evidence_date, expires_on, recorded in rows:
        result.setdefault(provider_id, []).append(Evidence(kind, evidence_date, expires_on, recorded))
    return result


def in_force(framework: Framework, on: date) -> bool:
    return framework.starts_on <= on <= framework.ends_on


def call_off_refusal(
    session: Session, approval: LotApproval, on: date, evidence: dict[int, list[Evidence]] | None = None
) -> str | None:
    """Why a placement may not be called off under this approval on `on` (None: it may). The one
    check every call-off goes through. A page listing many approvals passes the LA's evidence,
    read once (`evidence_by_provider`), instead of a query per approval."""
    framework = approval.lot.framework
    if approval.status != "approved":
        return f"{approval.provider.name} is not approved on {lot_title(approval.lot)}"
    if not in_force(framework, on):
        return f"{framework.name} is not in force on {on:%-d %B %Y}"
    standings = (
        standing(evidence.get(approval.provider_id, []), on, framework.grace_days)
        if evidence is not None
        else provider_standing(session, framework.la_id, approval.provider_id, on, framework.grace_days)
    )
    problems = call_off_problems(standings)
    if problems:
        return f"No new placement may be called off from {approval.provider.name}: " + "; ".join(problems)
    return None


def open_to_applications(framework: Framework, on: date) -> bool:
    """Whether providers may apply to its lots on `on`: until it ends."""
    return on <= framework.ends_on


def lot_title(lot: FrameworkLot) -> str:
    return f"lot {lot.number} ({lot.name}) of {lot.framework.name}"


# --- changing the register ----------------------------------------------------------------------


def _dates(refusal: Refusal, starts_on: date | None, ends_on: date | None, kind: str) -> None:
    if starts_on is None:
        refusal.add("starts_on", "Enter the date the framework starts")
    if ends_on is None:
        refusal.add("ends_on", "Enter the date the framework ends")
    if starts_on is None or ends_on is None:
        return
    if ends_on <= starts_on:
        refusal.add("ends_on", "The end date must be after the start date")
    elif kind == "framework" and ends_on >= _add_years(starts_on, MAX_FRAMEWORK_YEARS):
        refusal.add(
            "ends_on",
            f"A framework may run for at most {MAX_FRAMEWORK_YEARS} years (Procurement Act 2023, section 47): end it "
            f"before {_add_years(starts_on, MAX_FRAMEWORK_YEARS):%-d %B %Y}",
        )


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def create_framework(
    session: Session,
    actor: Actor,
    la: LocalAuthority,
    *,
    name: str,
    kind: str,
    starts_on: date | None,
    ends_on: date | None,
    grace_days: int | None,
) -> Framework:
    permissions.require(session, actor, "framework.manage")
    if actor.user is not None and actor.user.la_id != la.id:
        raise Forbidden("You do not have permission to do this")
    refusal = Refusal()
    kept_name = kept_text(refusal, "name", "The name", name, 200)
    if kept_name is None:
        refusal.add("name", "Enter the framework's name")
    if kind not in KINDS:
        refusal.add("kind", "Choose whether it is a framework or a dynamic market")
    _dates(refusal, starts_on, ends_on, kind)
    if grace_days is None or not 0 <= grace_days <= MAX_GRACE_DAYS:
        refusal.add("grace_days", f"Enter a grace period from 0 to {MAX_GRACE_DAYS} days")
    if kept_name is not None and session.scalar(
        select(Framework.id).where(Framework.la_id == la.id, func.lower(Framework.name) == kept_name.lower())
    ):
        refusal.add("name", "A framework of this name exists already: choose another name")
    refusal.raise_if_any("The framework was not created")
    assert kept_name is not None and starts_on is not None and ends_on is not None and grace_days is not None
    framework = Framework(
        la_id=la.id,
        name=kept_name,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        grace_days=grace_days,
        created_by_id=actor.user_id,
    )
    _flush_once(session, framework, "name", "A framework of this name exists already: choose another name")
    audit.record(
        session,
        actor,
        "create",
        "framework",
        framework.id,
        detail={"kind": kind, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
    )
    return framework


def _flush_once(session: Session, record: object, field: str, message: str) -> None:
    """Add and flush in a savepoint: a twin saved at the same moment is refused, not a 500."""
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        raise DomainError("Nothing was saved", [FieldError(field, message)]) from None


def add_lot(
    session: Session, actor: Actor, framework: Framework, *, name: str, service: str, description: str | None
) -> FrameworkLot:
    permissions.require(session, actor, "framework.manage", framework)
    refusal = Refusal()
    kept_name = kept_text(refusal, "name", "The name", name, 200)
    if kept_name is None:
        refusal.add("name", "Enter the lot's name")
    if service not in SERVICES:
        refusal.add("service", "Choose the service the lot buys")
    kept_description = kept_text(refusal, "description", "The description", description, 2000, multiline=True)
    refusal.raise_if_any("The lot was not added")
    assert kept_name is not None
    number = (
        session.scalar(select(func.max(FrameworkLot.number)).where(FrameworkLot.framework_id == framework.id)) or 0
    ) + 1
    lot = FrameworkLot(
        framework_id=framework.id, number=number, name=kept_name, service=service, description=kept_description
    )
    _flush_once(session, lot, "name", "Another lot was added at the same moment: try again")
    audit.record(session, actor, "add_lot", "framework", framework.id, detail={"lot_id": lot.id, "service": service})
    return lot


def record_evidence(
    session: Session,
    actor: Actor,
    la: LocalAuthority,
    provider: Setting,
    *,
    kind: str,
    evidence_date: date | None,
    expires_on: date | None,
    reference: str | None,
    note: str | None,
    today: date,
) -> ComplianceCheck:
    """The LA records a piece of evidence it has checked. Never changed once recorded: newer
    evidence is recorded beside it."""
    permissions.require(session, actor, "framework.manage", provider)
    if actor.user is not None and actor.user.la_id != la.id:
        raise Forbidden("You do not have permission to do this")
    refusal = Refusal()
    if provider.kind not in AP_KINDS:
        refusal.add("kind", f"{provider.name} is not an alternative provision provider")
    if kind not in CHECKS:
        refusal.add("kind", "Choose what the evidence is of")
    if evidence_date is None:
        refusal.add("evidence_date", "Enter the date of the evidence")
    elif evidence_date > today:
        refusal.add("evidence_date", "The date of the evidence must be today or in the past")
    if expires_on is None:
        refusal.add("expires_on", "Enter the date the evidence expires")
    elif evidence_date is not None:
        if expires_on <= evidence_date:
            refusal.add("expires_on", "The expiry date must be after the date of the evidence")
        elif expires_on > _add_years(evidence_date, MAX_EVIDENCE_YEARS):
            refusal.add(
                "expires_on", f"Evidence is checked again within {MAX_EVIDENCE_YEARS} years: check the expiry date"
            )
    kept_reference = kept_text(refusal, "reference", "The reference", reference, 200)
    kept_note = kept_text(refusal, "note", "The note", note, 2000, multiline=True)
    refusal.raise_if_any("The evidence was not recorded")
    assert evidence_date is not None and expires_on is not None
    check = ComplianceCheck(
        la_id=la.id,
        provider_id=provider.id,
        kind=kind,
        evidence_date=evidence_date,
        expires_on=expires_on,
        reference=kept_reference,
        note=kept_note,
        recorded_by_id=actor.user_id,
    )
    session.add(check)
    session.flush()
    audit.record(
        session,
        actor,
        "record_evidence",
        "setting",
        provider.id,
        detail={"check_id": check.id, "kind": kind, "expires_on": expires_on.isoformat()},
    )
    return check


def _rate(refusal: Refusal, rate: Decimal | str | None, unit: str | None) -> Decimal | None:
    value: Decimal | None
    try:
        value = Decimal(str(rate)) if rate is not None and str(rate).strip() else None
    except InvalidOperation:
        value = None
        refusal.add("rate", "Enter the rate in pounds, like 55.00")
        return None
    if value is None:
        refusal.add("rate", "Enter the rate in pounds")
    elif not value.is_finite() or value <= 0 or value > MAX_RATE:
        refusal.add("rate", f"Enter a rate more than £0 and no more than £{MAX_RATE:,}")
        value = None
    elif value != value.quantize(Decimal("0.01")):
        refusal.add("rate", "Enter the rate in pounds and pence, like 55.00")
        value = None
    if unit not in RATE_UNITS:
        refusal.add("rate_unit", "Choose what the rate is for")
    return value


def apply(
    session: Session,
    actor: Actor,
    lot: FrameworkLot,
    provider: Setting,
    *,
    rate: Decimal | str | None,
    rate_unit: str | None,
    today: date,
) -> LotApproval:
    """A provider applies to a lot at the rate it offers (its AP head, or the LA on its behalf)."""
    permissions.require(session, actor, "framework.apply", provider)
    framework = lot.framework
    permissions.require(session, actor, "framework.view", framework)
    if provider.la_id != framework.la_id:
        raise Forbidden("You do not have permission to do this")
    refusal = Refusal()
    if provider.kind not in AP_KINDS:
        refusal.add("provider", f"{provider.name} is not an alternative provision provider")
    if not open_to_applications(framework, today):
        refusal.add("rate", f"{framework.name} ended on {framework.ends_on:%-d %B %Y}")
    value = _rate(refusal, rate, rate_unit)
    existing = session.scalar(
        select(LotApproval)
        .where(LotApproval.lot_id == lot.id, LotApproval.provider_id == provider.id)
        .with_for_update()
    )
    if existing is not None and existing.status in ("applied", "approved"):
        refusal.add("provider", f"{provider.name} has applied to this lot already")
    refusal.raise_if_any("The application was not made")
    if existing is not None:
        # Declined or removed before: it applies again (what was decided then is in the audit trail).
        existing.status, existing.applied_on, existing.rate, existing.rate_unit = "applied", today, value, rate_unit
        existing.decided_on = existing.decided_by_id = existing.reason = None
        session.flush()
        audit.record(
            session, actor, "apply", "lot_approval", existing.id, detail={"lot_id": lot.id, "provider_id": provider.id}
        )
        return existing
    approval = LotApproval(
        lot_id=lot.id, provider_id=provider.id, status="applied", applied_on=today, rate=value, rate_unit=rate_unit
    )
    _flush_once(session, approval, "provider", f"{provider.name} has applied to this lot already")
    audit.record(
        session, actor, "apply", "lot_approval", approval.id, detail={"lot_id": lot.id, "provider_id": provider.id}
    )
    return approval


def decide(
    session: Session,
    actor: Actor,
    approval: LotApproval,
    *,
    outcome: str,
    rate: Decimal | str | None,
    rate_unit: str | None,
    reason: str | None,
    today: date,
) -> None:
    """The LA approves a provider onto a lot at its rate (every piece of evidence in date), or
    declines it with its reason; or removes an approved provider, with its reason."""
    framework = approval.lot.framework
    permissions.require(session, actor, "framework.manage", framework)
    # Two commissioners at once: the second waits, then finds it decided.
    session.refresh(approval, with_for_update=True)
    refusal = Refusal()
    kept_reason = kept_text(refusal, "reason", "The reason", reason, 2000, multiline=True)
    allowed = {"applied": ("approved", "declined"), "approved": ("removed",)}.get(approval.status, ())
    if outcome not in allowed:
        refusal.add(
            "outcome", "This decision was made already" if approval.status != "applied" else "Choose a decision"
        )
        refusal.raise_if_any("Nothing was decided")
    value = None
    if outcome == "approved":
        # At the rate given, else the rate (and unit) applied for.
        offered = rate is None or not str(rate).strip()
        if offered and rate_unit and rate_unit != approval.rate_unit:
            refusal.add("rate", "Enter the rate for the unit you chose, or leave the unit as applied for")
        rate_unit = rate_unit or approval.rate_unit
        value = _rate(refusal, approval.rate if offered else rate, rate_unit)
        if today > framework.ends_on:
            refusal.add("outcome", f"{framework.name} ended on {framework.ends_on:%-d %B %Y}")
        missing = [
            s
            for s in provider_standing(session, framework.la_id, approval.provider_id, today, framework.grace_days)
            if s.expired
        ]
        if missing:
            refusal.add(
                "outcome",
                f"{approval.provider.name} cannot be approved until its evidence is in date: "
                + ", ".join(s.label.lower() for s in missing),
            )
    elif kept_reason is None:
        refusal.add(
            "reason", "Say why" + (" the application is declined" if outcome == "declined" else " it is removed")
        )
    refusal.raise_if_any("Nothing was decided")
    approval.status, approval.decided_on, approval.decided_by_id, approval.reason = (
        outcome,
        today,
        actor.user_id,
        kept_reason,
    )
    if value is not None:
        approval.rate, approval.rate_unit = value, rate_unit
    session.flush()
    audit.record(
        session,
        actor,
        outcome,
        "lot_approval",
        approval.id,
        detail={"lot_id": approval.lot_id, "provider_id": approval.provider_id, "rate": str(approval.rate)},
    )


@dataclass(frozen=True)
class Lapse:
    """A provider approved on a lot in force whose evidence has expired: from the first day of
    grace to the day newer evidence is recorded. `due`: the day new call-offs stop (or stopped)."""

    provider: Setting
    due: date
    message: str


def lapses(session: Session, la: LocalAuthority, on: date) -> list[Lapse]:
    """The alert the LA's commissioners act on (coverage/alerts.py: provider_evidence_lapsed). A
    provider on several frameworks is held to the shortest grace period among them."""
    rows = session.execute(
        select(LotApproval.provider_id, func.min(Framework.grace_days))
        .join(FrameworkLot, LotApproval.lot_id == FrameworkLot.id)
        .join(Framework, FrameworkLot.framework_id == Framework.id)
        .where(
            Framework.la_id == la.id,
            LotApproval.status == "approved",
            Framework.starts_on <= on,
            Framework.ends_on >= on,
        )
        .group_by(LotApproval.provider_id)
    ).all()
    if not rows:
        return []
    evidence = evidence_by_provider(session, la.id)
    providers = {s.id: s for s in session.scalars(select(Setting).where(Setting.id.in_([r[0] for r in rows])))}
    result = []
    for provider_id, grace_days in rows:
        expired = [s for s in standing(evidence.get(provider_id, []), on, grace_days) if s.expired]
        if not expired:
            continue
        provider = providers[provider_id]
        stops = [s.stops_on for s in expired if s.stops_on is not None]
        due = min(stops) if stops else on
        parts = [
            f"{s.label} expired on {s.evidence.expires_on:%-d %B %Y}" if s.evidence else f"no {s.label.lower()}"
            for s in expired
        ]
        when = "stopped on" if due <= on else "stop on"
        result.append(
            Lapse(
                provider,
                due,
                f"{provider.name}'s evidence is out of date: {'; '.join(parts)}. New call-offs {when} "
                f"{due:%-d %B %Y} until newer evidence is recorded.",
            )
        )
    return result
