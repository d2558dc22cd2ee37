"""The entries an LA needs for its register of children not in school (Children's Wellbeing and
Schools Act 2026 s38) for pupils educated elsewhere for some or all of the week: who the child
is, where they are educated (each setting and its sites), which sessions, and who arranged it.

Taken from the placements active on a day, other than the home school's own sessions and a
part-time timetable at the home school (those pupils are in school, if not full time). One line
per pupil and place; a pupil educated in two places has two lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.vocab import LA_ROUTES, REGISTRATION_LABELS, ROUTE_LABELS, SETTING_KIND_LABELS, Registration
from ap_register.models import LocalAuthority, Placement, Pupil, Setting
from ap_register.placements.rules import AT_HOME_SCHOOL

COLUMNS = [
    "upn",
    "first_name",
    "last_name",
    "date_of_birth",
    "home_school",
    "on_a_school_roll",
    "educated_at",
    "setting_kind",
    "urn",
    "addresses",
    "sessions",
    "sessions_per_week",
    "arranged_by",
    "route",
    "registration",
    "start_date",
    "planned_end_date",
]


@dataclass
class Entry:
    placement: Placement
    arranged_by: str

    def as_row(self) -> dict[str, Any]:
        p, pupil, setting = self.placement, self.placement.pupil, self.placement.setting
        addresses = [f"{site.address}, {site.postcode}" if site.postcode else site.address for site in setting.sites]
        if not addresses and setting.postcode:
            addresses = [setting.postcode]
        return {
            "upn": pupil.upn,
            "first_name": pupil.first_name,
            "last_name": pupil.last_name,
            "date_of_birth": pupil.date_of_birth.isoformat(),
            "home_school": p.home_school.name if p.home_school else None,
            "on_a_school_roll": "Y" if pupil.home_school_id is not None else "N",
            "educated_at": setting.name,
            "setting_kind": SETTING_KIND_LABELS[setting.kind],
            "urn": setting.urn,
            "addresses": "; ".join(addresses) or None,
            "sessions": ", ".join(week_pattern.labels(p.sessions)),
            "sessions_per_week": p.sessions.count("1"),
            "arranged_by": self.arranged_by,
            "route": ROUTE_LABELS[p.route],
            "registration": REGISTRATION_LABELS[p.registration],
            "start_date": p.start_date.isoformat(),
            "planned_end_date": p.planned_end_date.isoformat() if p.planned_end_date else None,
        }


def arranged_by(placement: Placement, la: LocalAuthority, names: dict[int, str]) -> str:
    if placement.commissioner_setting_id is not None:
        return names.get(placement.commissioner_setting_id, "A school")
    if placement.commissioner_la_id is not None or placement.route in LA_ROUTES:
        return la.name if placement.commissioner_la_id in (None, la.id) else "Another local authority"
    if placement.home_school is not None:
        return placement.home_school.name
    return la.name


def entries(session: Session, actor: Actor, la: LocalAuthority, on: date) -> list[Entry]:
    """The register's entries for the LA's children on a day, as far as this actor may see."""
    permissions.require(session, actor, "cnis.view")
    stmt = (
        select(Placement)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(
            Pupil.home_la_id == la.id,
            Placement.route.not_in(AT_HOME_SCHOOL),
            Placement.start_date <= on,
            or_(Placement.end_date.is_(None), Placement.end_date >= on),
        )
        .options(
            joinedload(Placement.pupil),
            joinedload(Placement.setting).selectinload(Setting.sites),
            joinedload(Placement.home_school),
        )
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.id, Placement.start_date, Placement.id)
    )
    found = list(session.scalars(permissions.scope_placements(actor, stmt)).unique())
    names = dict(session.execute(select(Setting.id, Setting.name).where(Setting.la_id == la.id)).all())
    result = [Entry(p, arranged_by(p, la, names)) for p in found]
    audit.record(
        session, actor, "report", "children_not_in_school", la.code, detail={"on": on.isoformat(), "lines": len(result)}
    )
    return result


def summary(found: list[Entry]) -> dict[str, int]:
    pupils = {e.placement.pupil_id for e in found}
    off_roll = {e.placement.pupil_id for e in found if e.placement.pupil.home_school_id is None}
    unregistered = {e.placement.pupil_id for e in found if e.placement.registration == Registration.NONE}
    return {"pupils": len(pupils), "lines": len(found), "off_roll": len(off_roll), "unregistered": len(unregistered)}
