"""Settings: the oversight record of unregistered providers, and an LA's choice of kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Refusal
from ap_register.domain.vocab import SettingKind
from ap_register.models import Setting, SettingSite

# How old a quality-assurance visit or risk assessment may be before it counts as overdue.
QA_VISIT_INTERVAL = timedelta(days=365)
RISK_ASSESSMENT_INTERVAL = timedelta(days=365)


@dataclass
class OversightStatus:
    """What is missing or out of date in an unregistered provider's oversight record."""

    problems: list[str]

    @property
    def complete(self) -> bool:
        return not self.problems


def oversight_status(setting: Setting, today: date | None = None) -> OversightStatus:
    today = today or clock.today()
    problems = []
    if not setting.contact_name:
        problems.append("No named contact")
    if not setting.safeguarding_checks_confirmed:
        problems.append("No written confirmation of staff safeguarding checks")
    if not setting.sites:
        problems.append("No site address recorded")
    if setting.last_qa_visit_date is None:
        problems.append("No quality-assurance visit recorded")
    elif today - setting.last_qa_visit_date > QA_VISIT_INTERVAL:
        problems.append(f"Last quality-assurance visit over a year ago ({setting.last_qa_visit_date:%-d %B %Y})")
    if setting.risk_assessment_date is None:
        problems.append("No risk assessment recorded")
    elif today - setting.risk_assessment_date > RISK_ASSESSMENT_INTERVAL:
        problems.append(f"Risk assessment over a year old ({setting.risk_assessment_date:%-d %B %Y})")
    return OversightStatus(problems)


def update_oversight(
    session: Session,
    actor: Actor,
    setting: Setting,
    *,
    contact_name: str,
    contact_phone: str | None,
    contact_email: str | None,
    safeguarding_checks_confirmed: bool,
    safeguarding_checks_date: date | None,
    last_qa_visit_date: date | None,
    risk_assessment_date: date | None,
    risk_assessment_notes: str | None,
    sites: list[str],
    today: date | None = None,
) -> None:
    permissions.require(session, actor, "setting.edit_oversight", setting)
    today = today or clock.today()
    refusal = Refusal()
    if not contact_name.strip():
        refusal.add("contact_name", "Enter the named contact")
    if safeguarding_checks_confirmed and safeguarding_checks_date is None:
        refusal.add("safeguarding_checks_date", "Enter the date of the written confirmation")
    for name, value in (
        ("safeguarding_checks_date", safeguarding_checks_date),
        ("last_qa_visit_date", last_qa_visit_date),
        ("risk_assessment_date", risk_assessment_date),
    ):
        if value is not None and value > today:
            refusal.add(name, "The date must be today or in the past")
    refusal.raise_if_any("The oversight record was not saved")
    setting.contact_name = contact_name.strip()
    setting.contact_phone = (contact_phone or "").strip() or None
    setting.contact_email = (contact_email or "").strip() or None
    setting.safeguarding_checks_confirmed = safeguarding_checks_confirmed
    setting.safeguarding_checks_date = safeguarding_checks_date if safeguarding_checks_confirmed else None
    setting.last_qa_visit_date = last_qa_visit_date
    setting.risk_assessment_date = risk_assessment_date
    setting.risk_assessment_notes = (risk_assessment_notes or "").strip() or None
    wanted = [line.strip() for line in sites if line.strip()]
    setting.sites = [SettingSite(address=address) for address in wanted]
    session.flush()
    audit.record(
        session,
        actor,
        "update_oversight",
        "setting",
        setting.id,
        detail={"checks_confirmed": safeguarding_checks_confirmed, "sites": len(wanted)},
    )


def set_kind(session: Session, actor: Actor, setting: Setting, kind: SettingKind) -> None:
    """An LA admin's decision of what kind a setting is; later imports keep it."""
    permissions.require(session, actor, "setting.set_kind", setting)
    setting.kind = kind
    setting.kind_set_by_admin = True
    session.flush()
    audit.record(session, actor, "set_kind", "setting", setting.id, detail={"kind": kind.value})
