"""Settings: the oversight record of unregistered providers, the independent-school test's count
at each, and an LA's choice of kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Refusal
from ap_register.domain.grid import EASTING_RANGE, NORTHING_RANGE, on_the_grid
from ap_register.domain.vocab import SenStatus, SettingKind
from ap_register.models import Placement, Pupil, Setting, SettingSite
from ap_register.placements.independent_school import Attendance, Reading, reading_on

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


def attendances_at(
    session: Session, setting_id: int, *, since: date | None = None, exclude_placement_id: int | None = None
) -> list[Attendance]:
    """Every placement at the setting (ending on or after `since`), whichever LA placed the pupil:
    the independent-school test counts them all (`placements.independent_school`)."""
    query = (
        select(Placement, Pupil)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(Placement.setting_id == setting_id, Pupil.anonymised_on.is_(None))
    )
    if since is not None:
        query = query.where(or_(Placement.end_date.is_(None), Placement.end_date >= since))
    if exclude_placement_id is not None:
        query = query.where(Placement.id != exclude_placement_id)
    return [
        attendance_of(pupil, placement.start_date, placement.end_date, placement.sessions)
        for placement, pupil in session.execute(query)
    ]


def attendance_of(pupil: Pupil, start: date, end: date | None, sessions: str) -> Attendance:
    """A pupil's time at a provider, with what the independent-school test needs of the pupil."""
    return Attendance(
        pupil.id if pupil.id is not None else -1,
        pupil.date_of_birth,
        start,
        end,
        sessions,
        looked_after=pupil.looked_after,
        ehc_plan=pupil.sen_status == SenStatus.EHCP,
        sen_support=pupil.sen_status == SenStatus.SEN_SUPPORT,
    )


def independent_school_reading(session: Session, setting: Setting, on: date | None = None) -> Reading | None:
    """The independent-school test at an unregistered provider on a day; None for other settings."""
    if setting.kind != SettingKind.UNREGISTERED_AP:
        return None
    day = on or clock.today()
    return reading_on(attendances_at(session, setting.id, since=day), day)


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
    # A site kept as it was keeps where it is on the grid (`locate`).
    kept: dict[str, SettingSite | None] = {site.address: site for site in setting.sites}
    setting.sites = [kept.pop(address, None) or SettingSite(address=address) for address in wanted]
    session.flush()
    audit.record(
        session,
        actor,
        "update_oversight",
        "setting",
        setting.id,
        detail={"checks_confirmed": safeguarding_checks_confirmed, "sites": len(wanted)},
    )


def locate(
    session: Session,
    actor: Actor,
    setting: Setting,
    *,
    site_id: int | None,
    easting: int | None,
    northing: int | None,
) -> None:
    """Record where a provider, or one of its sites, is on the British National Grid (metres east
    and north, as GIAS gives a school's), for the directory's distances. A school's own point comes
    from the GIAS import."""
    permissions.require(session, actor, "setting.edit_oversight", setting)
    refusal = Refusal()
    site = next((s for s in setting.sites if s.id == site_id), None) if site_id is not None else None
    if site_id is not None and site is None:
        refusal.add("site", "Choose the provider's address or one of its sites")
    if easting is None or not EASTING_RANGE[0] <= easting <= EASTING_RANGE[1]:
        refusal.add("easting", f"Enter an easting from {EASTING_RANGE[0]} to {EASTING_RANGE[1]:,} metres")
    if northing is None or not NORTHING_RANGE[0] <= northing <= NORTHING_RANGE[1]:
        refusal.add("northing", f"Enter a northing from {NORTHING_RANGE[0]} to {NORTHING_RANGE[1]:,} metres")
    refusal.raise_if_any("Where it is was not recorded")
    assert on_the_grid(easting, northing)
    where: Setting | SettingSite = site if site is not None else setting
    where.easting, where.northing = easting, northing
    session.flush()
    audit.record(
        session,
        actor,
        "locate",
        "setting",
        setting.id,
        detail={"site_id": site_id, "easting": easting, "northing": northing},
    )


def set_kind(session: Session, actor: Actor, setting: Setting, kind: SettingKind) -> None:
    """An LA admin's decision of what kind a setting is; later imports keep it."""
    permissions.require(session, actor, "setting.set_kind", setting)
    setting.kind = kind
    setting.kind_set_by_admin = True
    session.flush()
    audit.record(session, actor, "set_kind", "setting", setting.id, detail={"kind": kind.value})
