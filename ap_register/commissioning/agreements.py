"""Call-offs and individual placement agreements: the rules, in one place.

A placement at a provider approved on a lot is called off under that approval (Procurement Act
2023 s45(1): a contract awarded in accordance with the framework, on its price, s45(5)(b)), once
`frameworks.call_off_refusal` allows it that day. The call-off carries the child's individual
placement agreement: measurable objectives and how each is reviewed, the agreed sessions and
hours, the rate and whether it is paid on the sessions agreed or on those attended, who pays
(the school, the LA, or the high needs block), the start and review dates, the safeguarding
arrangements and who to call. A school that places a pupil keeps responsibility for their
safeguarding (Keeping children safe in education 2025, Part two, "Alternative provision"), and
the DfE expects each placement to have clear objectives agreed with the provider and reviewed
(Arranging alternative provision, DfE 2025; Alternative provision statutory guidance 2013,
paras 14-16): what the agreement holds.

The register's own rules: a version is accepted (signed) by the school, the provider and the
parent; once a party has accepted it, it never changes; a change is the next version, with its
reason, to be accepted again. Each acceptance records who, how and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.casework.letters import Content
from ap_register.commissioning.frameworks import RATE_UNITS, call_off_refusal
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, Forbidden, Refusal
from ap_register.domain.text import kept_text
from ap_register.domain.vocab import LA_ROLES, Role
from ap_register.models import AgreementSignature, AgreementVersion, LotApproval, Placement, PlacementAgreement

PAYS_ON = {
    "agreed": "The sessions agreed, whether attended or not",
    "attended": "The sessions the pupil attended",
}
PAYERS = {"school": "The school", "la": "The local authority", "high_needs": "The high needs block"}
PARTIES = {"school": "The school", "provider": "The provider", "parent": "The parent or carer"}
HOW = {
    "in_register": "Accepted in the register",
    "on_paper": "Signed on paper",
    "in_person": "Agreed in person",
    "by_email": "Agreed by email",
}
MAX_OBJECTIVES = 4
MAX_HOURS = Decimal("32.5")  # a school week of ten sessions


@dataclass
class Terms:
    """What a version of an agreement says, as typed."""

    objectives: list[tuple[str, str]]
    sessions: str
    hours_per_week: str | None
    rate: str | None
    rate_unit: str | None
    pays_on: str | None
    payer: str | None
    starts_on: date | None
    review_on: date | None
    safeguarding: str | None
    contacts: str | None


def terms_of(version: AgreementVersion) -> Terms:
    """A version's terms, to begin the next one from."""
    return Terms(
        objectives=[(o["objective"], o["measure"]) for o in version.objectives],
        sessions=version.sessions,
        hours_per_week=str(version.hours_per_week),
        rate=str(version.rate),
        rate_unit=version.rate_unit,
        pays_on=version.pays_on,
        payer=version.payer,
        starts_on=version.starts_on,
        review_on=version.review_on,
        safeguarding=version.safeguarding,
        contacts=version.contacts,
    )


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _checked(
    refusal: Refusal, terms: Terms, placement: Placement, approval: LotApproval, actor: Actor
) -> dict[str, object]:
    """The terms as they are kept, every problem added to the refusal. The price is the
    framework's (Procurement Act 2023 s45(5)(b)): the unit the provider was approved at, and no
    more than its rate. Only the LA's officers commit the LA's or the high needs block's money."""
    objectives = []
    for n, (objective, measure) in enumerate(terms.objectives[:MAX_OBJECTIVES], start=1):
        what = kept_text(refusal, f"objective_{n}", f"Objective {n}", objective, 500)
        how = kept_text(refusal, f"measure_{n}", f"How objective {n} is measured", measure, 500)
        if what and not how:
            refusal.add(f"measure_{n}", f"Say how objective {n} is measured and reviewed")
        elif how and not what:
            refusal.add(f"objective_{n}", f"Enter objective {n}, or clear how it is measured")
        elif what and how:
            objectives.append({"objective": what, "measure": how})
    if not objectives and not any(e.field.startswith(("objective", "measure")) for e in refusal.errors):
        refusal.add("objective_1", "Enter at least one objective and how it is measured")
    if not week_pattern.is_valid(terms.sessions) or week_pattern.count(terms.sessions) == 0:
        refusal.add("sessions", "Choose the sessions agreed each week")
    hours = _decimal(terms.hours_per_week)
    if hours is None or not Decimal(0) < hours <= MAX_HOURS or hours != hours.quantize(Decimal("0.01")):
        refusal.add("hours_per_week", f"Enter the hours a week, more than 0 and no more than {MAX_HOURS}")
    rate = _decimal(terms.rate)
    if rate is None or not Decimal(0) < rate <= Decimal(10000) or rate != rate.quantize(Decimal("0.01")):
        refusal.add("rate", "Enter the rate in pounds and pence, more than £0 and no more than £10,000")
    if terms.rate_unit not in RATE_UNITS:
        refusal.add("rate_unit", "Choose what the rate is for")
    elif terms.rate_unit != approval.rate_unit:
        unit = RATE_UNITS.get(approval.rate_unit or "", "")
        refusal.add("rate_unit", f"The framework's rate is {unit}: the agreement's is too")
    elif rate is not None and approval.rate is not None and rate > approval.rate:
        refusal.add("rate", f"The rate cannot be more than the framework's, £{approval.rate:,.2f}")
    if terms.pays_on not in PAYS_ON:
        refusal.add("pays_on", "Choose whether it pays on the sessions agreed or those attended")
    if terms.payer not in PAYERS:
        refusal.add("payer", "Choose who pays")
    elif terms.payer != "school" and actor.user is not None and actor.user.role not in LA_ROLES:
        refusal.add(
            "payer",
            "Only the local authority commits its own money or the high needs block's: choose the school, or ask "
            "the local authority",
        )
    if terms.starts_on is None:
        refusal.add("starts_on", "Enter the date the agreement starts")
    elif terms.starts_on < placement.start_date:
        refusal.add(
            "starts_on", f"The agreement cannot start before the placement, on {placement.start_date:%-d %B %Y}"
        )
    elif placement.end_date is not None and terms.starts_on > placement.end_date:
        refusal.add("starts_on", f"The placement ended on {placement.end_date:%-d %B %Y}")
    if terms.review_on is None:
        refusal.add("review_on", "Enter the date the agreement is reviewed")
    elif terms.starts_on is not None and terms.review_on < terms.starts_on:
        refusal.add("review_on", "The review must be on or after the start")
    safeguarding = kept_text(refusal, "safeguarding", "Safeguarding", terms.safeguarding, 3000, multiline=True)
    if safeguarding is None:
        refusal.add("safeguarding", "Enter the safeguarding arrangements, and the designated safeguarding lead")
    contacts = kept_text(refusal, "contacts", "Who to call", terms.contacts, 2000, multiline=True)
    if contacts is None:
        refusal.add("contacts", "Enter who to call at the school and at the provider")
    return {
        "objectives": objectives,
        "sessions": terms.sessions,
        "hours_per_week": hours,
        "rate": rate,
        "rate_unit": terms.rate_unit,
        "pays_on": terms.pays_on,
        "payer": terms.payer,
        "starts_on": terms.starts_on,
        "review_on": terms.review_on,
        "safeguarding": safeguarding,
        "contacts": contacts,
    }


def may_call_off(session: Session, actor: Actor, placement: Placement) -> bool:
    """The school whose pupil it is (its lead), or the home LA's officers who place children."""
    if not permissions.can(session, actor, "agreement.call_off", placement):
        return False
    user = actor.user
    return user is None or user.role in LA_ROLES or user.setting_id == placement.home_school_id


def approvals_for(session: Session, placement: Placement) -> list[LotApproval]:
    """The approvals a placement could be called off under: its provider's, on the frameworks of
    the child's home LA."""
    from ap_register.models import Framework, FrameworkLot

    return list(
        session.scalars(
            select(LotApproval)
            .join(FrameworkLot, LotApproval.lot_id == FrameworkLot.id)
            .join(Framework, FrameworkLot.framework_id == Framework.id)
            .where(
                LotApproval.provider_id == placement.setting_id,
                LotApproval.status == "approved",
                Framework.la_id == placement.pupil.home_la_id,
            )
            .order_by(Framework.name, FrameworkLot.number)
        )
    )


def call_off(
    session: Session,
    actor: Actor,
    placement: Placement,
    approval: LotApproval,
    terms: Terms,
    *,
    today: date,
) -> PlacementAgreement:
    """Call the placement off under the approval, with the first version of its agreement."""
    if not may_call_off(session, actor, placement):
        permissions.require(session, actor, "pupil.view", placement.pupil)
        raise Forbidden("You do not have permission to do this")
    if approval not in approvals_for(session, placement):
        raise DomainError("Nothing was called off", [FieldError("approval", "Choose one of the provider's lots")])
    refusal = Refusal()
    refused = call_off_refusal(session, approval, today)
    if refused:
        refusal.add("approval", refused)
    if placement.end_date is not None and placement.end_date < today:
        refusal.add("approval", "The placement has ended")
    kept = _checked(refusal, terms, placement, approval, actor)
    if session.scalar(select(PlacementAgreement.id).where(PlacementAgreement.placement_id == placement.id)):
        refusal.add("approval", "This placement was called off already")
    refusal.raise_if_any("Nothing was called off")
    agreement = PlacementAgreement(
        placement_id=placement.id, approval_id=approval.id, called_off_on=today, called_off_by_id=actor.user_id
    )
    try:
        with session.begin_nested():
            session.add(agreement)
            session.flush()
    except IntegrityError:
        raise DomainError(
            "Nothing was called off", [FieldError("approval", "This placement was called off already")]
        ) from None
    version = AgreementVersion(agreement_id=agreement.id, number=1, created_by_id=actor.user_id,
                               created_by_name=who(actor), **kept)  # fmt: skip
    session.add(version)
    session.flush()
    session.refresh(agreement)
    audit.record(
        session,
        actor,
        "call_off",
        "placement_agreement",
        agreement.id,
        pupil_id=placement.pupil_id,
        detail={"placement_id": placement.id, "approval_id": approval.id, "rate": str(kept["rate"])},
    )
    return agreement


def who(actor: Actor) -> str:
    """Who made or recorded it, as kept (the column holds 200 characters)."""
    if actor.user is None:
        return actor.name[:200]
    return f"{actor.user.name}, {actor.user.organisation_name}"[:200]


def _party_of(actor: Actor, placement: Placement) -> str | None:
    """The party a person in the register accepts for themselves: a school lead for the home
    school, an AP head for the provider."""
    user = actor.user
    if user is None or user.setting_id is None:
        return None
    if user.role == Role.SCHOOL_LEAD and user.setting_id == placement.home_school_id:
        return "school"
    if user.role == Role.AP_HEAD and user.setting_id == placement.setting_id:
        return "provider"
    return None


def may_change(session: Session, actor: Actor, agreement: PlacementAgreement) -> bool:
    """Those who may call it off may change it; so may the provider, whose terms they are too."""
    placement = agreement.placement
    return may_call_off(session, actor, placement) or (
        _party_of(actor, placement) == "provider" and permissions.can(session, actor, "agreement.view", placement)
    )


def change_refusal(agreement: PlacementAgreement, today: date) -> str | None:
    """Why the agreement can no longer change (None: it can): its placement has ended, or its
    provider is no longer on the lot."""
    placement = agreement.placement
    if placement.end_date is not None and placement.end_date < today:
        return f"The placement ended on {placement.end_date:%-d %B %Y}: its agreement is kept as it was"
    if agreement.approval.status != "approved":
        return f"{placement.setting.name} is no longer on the lot: its agreement is kept as it was"
    return None


def change(
    session: Session,
    actor: Actor,
    agreement: PlacementAgreement,
    terms: Terms,
    *,
    reason: str | None,
    version_number: int | None,
    today: date,
) -> AgreementVersion:
    """The next version, with the reason for the change; every party accepts it again. Made from
    the version the person read: when another change was saved meanwhile, refused (theirs would
    undo it unseen)."""
    if not may_change(session, actor, agreement):
        raise Forbidden("You do not have permission to do this")
    # Two changes at once: the second waits, then finds the version it read is no longer current.
    session.refresh(agreement, with_for_update=True)
    refusal = Refusal()
    if version_number != agreement.current.number:
        refusal.add(
            "reason",
            f"The agreement changed while you read it: version {agreement.current.number} is now current. Begin "
            "your change from it",
        )
        refusal.raise_if_any("The agreement was not changed")
    stopped = change_refusal(agreement, today)
    if stopped:
        refusal.add("reason", stopped)
        refusal.raise_if_any("The agreement was not changed")
    kept_reason = kept_text(refusal, "reason", "The reason", reason, 2000, multiline=True)
    if kept_reason is None:
        refusal.add("reason", "Say why the agreement changes")
    kept = _checked(refusal, terms, agreement.placement, agreement.approval, actor)
    current = agreement.current
    if all(getattr(current, name) == value for name, value in kept.items()):
        refusal.add("reason", "Nothing in the agreement was changed")
    refusal.raise_if_any("The agreement was not changed")
    version = AgreementVersion(
        agreement_id=agreement.id,
        number=current.number + 1,
        reason=kept_reason,
        created_by_id=actor.user_id,
        created_by_name=who(actor),
        **kept,
    )
    session.add(version)
    session.flush()
    session.refresh(agreement)
    audit.record(
        session,
        actor,
        "change",
        "placement_agreement",
        agreement.id,
        pupil_id=agreement.placement.pupil_id,
        detail={"version": version.number},
    )
    return version


def _may_record(session: Session, actor: Actor, placement: Placement) -> list[str]:
    """The parties whose acceptance this person may record: their own organisation's (in the
    register) and the parent's as they heard it; the home LA's officers who place children, any
    party's, on paper."""
    if not permissions.can(session, actor, "agreement.view", placement):
        return []
    user = actor.user
    if user is None or user.role in (Role.LA_ADMIN, Role.COMMISSIONER):
        return list(PARTIES)
    own = _party_of(actor, placement)
    return [own, "parent"] if own is not None else []


def parties_for(session: Session, actor: Actor, agreement: PlacementAgreement) -> list[str]:
    """The parties this person may record an acceptance for on the current version: those not yet
    accepted."""
    signed = {s.party for s in agreement.current.signatures}
    return [p for p in _may_record(session, actor, agreement.placement) if p not in signed]


def accept(
    session: Session,
    actor: Actor,
    agreement: PlacementAgreement,
    *,
    version_number: int | None,
    party: str,
    name: str | None,
    how: str,
    signed_on: date | None,
    today: date,
) -> AgreementSignature:
    """Record a party's acceptance of the current version (the version the person read: a newer
    one made meanwhile is refused, so nobody accepts terms they have not seen)."""
    placement = agreement.placement
    if not permissions.can(session, actor, "agreement.view", placement):
        permissions.require(session, actor, "pupil.view", placement.pupil)
        raise Forbidden("You do not have permission to do this")
    if party in PARTIES and party not in _may_record(session, actor, placement):
        raise Forbidden("You do not have permission to do this")
    session.refresh(agreement, with_for_update=True)
    version = agreement.current
    refusal = Refusal()
    if version_number != version.number:
        refusal.add("party", f"The agreement changed while you read it: read version {version.number} and accept that")
    if party not in PARTIES:
        refusal.add("party", "Choose who is accepting the agreement")
    elif party in {s.party for s in version.signatures}:
        refusal.add("party", f"{PARTIES[party]} has accepted version {version.number} already")
    own = _party_of(actor, placement)
    if how not in HOW:
        refusal.add("how", "Choose how it was accepted")
    elif how == "in_register" and own != party:
        refusal.add("how", "Only someone of that organisation accepts it in the register: choose how they accepted it")
    kept_name = actor.user.name if how == "in_register" and actor.user is not None else None
    if kept_name is None:
        kept_name = kept_text(refusal, "name", "The name", name, 200)
        if kept_name is None:
            refusal.add("name", "Enter the name of the person who accepted it")
    made_on = version.created_at.astimezone(clock.ENGLAND).date()
    if how == "in_register":
        signed_on = today  # accepted here, now
    if signed_on is None:
        refusal.add("signed_on", "Enter the date it was accepted")
    elif signed_on > today:
        refusal.add("signed_on", "The date it was accepted must be today or in the past")
    elif signed_on < made_on:
        refusal.add("signed_on", f"The date must be on or after the day this version was made, {made_on:%-d %B %Y}")
    refusal.raise_if_any("The acceptance was not recorded")
    assert kept_name is not None and signed_on is not None
    signature = AgreementSignature(
        version_id=version.id,
        party=party,
        name=kept_name,
        how=how,
        signed_on=signed_on,
        recorded_by_id=actor.user_id,
        recorded_by_name=who(actor),
    )
    try:
        with session.begin_nested():
            session.add(signature)
            session.flush()
    except IntegrityError:
        raise DomainError(
            "The acceptance was not recorded", [FieldError("party", f"{PARTIES[party]} has accepted it already")]
        ) from None
    session.refresh(version)
    audit.record(
        session,
        actor,
        "accept",
        "placement_agreement",
        agreement.id,
        pupil_id=agreement.placement.pupil_id,
        detail={"version": version.number, "party": party, "how": how},
    )
    return signature


def agreed(version: AgreementVersion) -> bool:
    """Whether every party has accepted this version."""
    return not waiting_for(version)


def waiting_for(version: AgreementVersion) -> list[str]:
    """The parties yet to accept this version."""
    signed = {s.party for s in version.signatures}
    return [p for p in PARTIES if p not in signed]


def content(agreement: PlacementAgreement, version: AgreementVersion) -> Content:
    """A version as it reads, on the page and printed (PDF or Word, `casework/letter_files.py`)."""
    placement = agreement.placement
    pupil = placement.pupil
    lot = agreement.approval.lot
    provider = placement.setting.name
    school = placement.home_school.name if placement.home_school is not None else "No school"
    opening = [
        f"This agreement is for {pupil.full_name}'s placement at {provider}, called off on "
        f"{agreement.called_off_on:%-d %B %Y} under lot {lot.number} ({lot.name}) of {lot.framework.name}.",
    ]
    if version.reason:
        opening.append(f"It replaces version {version.number - 1} because: {version.reason}")
    rows = [
        (f"Objective {n}", f"{o['objective']}\nHow it is measured and reviewed: {o['measure']}")
        for n, o in enumerate(version.objectives, start=1)
    ]
    rows += [
        ("Sessions each week", week_pattern.describe(version.sessions)),
        ("Hours each week", f"{version.hours_per_week:g}"),
        ("Rate", f"£{version.rate:,.2f} {RATE_UNITS[version.rate_unit]}"),
        ("Paid on", PAYS_ON[version.pays_on]),
        ("Who pays", PAYERS[version.payer]),
        ("Starts", f"{version.starts_on:%-d %B %Y}"),
        ("Reviewed on", f"{version.review_on:%-d %B %Y}"),
        ("Safeguarding", version.safeguarding),
        ("Who to call", version.contacts),
    ]
    accepted = {s.party: s for s in version.signatures}
    closing = [
        f"Accepted for {PARTIES[party].lower()} by {s.name} on {s.signed_on:%-d %B %Y} ({HOW[s.how].lower()})"
        for party, s in accepted.items()
    ]
    organisations = {"school": f": {school}", "provider": f": {provider}", "parent": ""}
    signatures = [
        f"For {label.lower()}{organisations[party]}" for party, label in PARTIES.items() if party not in accepted
    ]
    return Content(
        sender=lot.framework.la.name,
        dated=version.created_at.date(),
        recipient=[school, provider, f"The parents or carers of {pupil.full_name}"],
        about=f"{pupil.full_name}, born {pupil.date_of_birth:%-d %B %Y}",
        title=f"Individual placement agreement, version {version.number}",
        opening=opening,
        rows=rows,
        sessions=week_pattern.grid(version.sessions),
        sessions_at=provider,
        closing=closing,
        signatures=signatures,
        basis=(
            "Called off under a framework (Procurement Act 2023, section 45). The school keeps its responsibility "
            "for the pupil's safeguarding (Keeping children safe in education 2025). A change to this agreement is "
            "a new version, accepted again by the school, the provider and the parent or carer."
        ),
        sign_off="",
    )


def on_placement(session: Session, actor: Actor, placement: Placement) -> tuple[PlacementAgreement | None, bool]:
    """What a placement's page shows: its agreement (when the person may read it), and whether
    they may call it off now (no agreement yet, and its provider approved on a lot)."""
    found = session.scalar(
        permissions.scope_agreements(
            actor, select(PlacementAgreement).where(PlacementAgreement.placement_id == placement.id)
        )
    )
    if found is not None:
        return found, False
    taken = session.scalar(select(PlacementAgreement.id).where(PlacementAgreement.placement_id == placement.id))
    open_ = placement.end_date is None or placement.end_date >= clock.today()
    return None, taken is None and open_ and may_call_off(session, actor, placement) and bool(
        approvals_for(session, placement)
    )
