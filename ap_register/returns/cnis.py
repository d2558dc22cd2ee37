"""The LA's register of children not in school (Education Act 1996 ss436B to 436G, inserted by the
Children's Wellbeing and Schools Act 2026 s38).

Not yet in force: s78(5) of the 2026 Act leaves its commencement to regulations, and none had been
made when this was written (`IN_FORCE_FROM`). The register prepares the entries now.

Who is on it, on a day (s436B(2) to (5)): a child who lives in the LA's area and is of compulsory
school age, and who
- (a) is on no school's roll (`NO_SCHOOL`), or
- (b) is on a school's roll, but the school has arranged for them to be educated, for some or all
  of the time, otherwise than at a school (`PARTLY_ELSEWHERE`): at a provider that is not a school,
  such as an unregistered provider, tuition, a work placement or a college.
Education at another school (a PRU, an AP academy, a special or mainstream school, a registered
independent school or a hospital school) is not "otherwise than at a school", so a pupil educated
only at schools is not on it. The register reads "lives in the area" as the LA's own pupils, less
those whose last placement ended with a move out of the area.

What an entry holds (s436C, as the Bill gave it; the Act's final text is not yet checked): the
child's name, date of birth and home address; each parent's name and home address (from the
pupils file); each provider of education otherwise than at school, where, and the time spent
there; and the school (if any) that arranged it. What the register does not hold (`NOT_HELD`) the
page says.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.casework import contacts
from ap_register.coverage.rules import left_the_area
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import among
from ap_register.domain.pupils import of_compulsory_school_age
from ap_register.domain.vocab import (
    LA_ROUTES,
    REGISTERED_SCHOOL_KINDS,
    REGISTRATION_LABELS,
    ROUTE_LABELS,
    SETTING_KIND_LABELS,
    Destination,
)
from ap_register.models import LocalAuthority, Placement, Pupil, Setting
from ap_register.placements.roll import settings_on_roll
from ap_register.placements.rules import AT_HOME_SCHOOL

SOURCE = "Education Act 1996 ss436B to 436G (Children's Wellbeing and Schools Act 2026 s38)"
# The day the duty comes into force, once regulations appoint it (2026 Act s78(5)).
IN_FORCE_FROM: date | None = None
NO_SCHOOL = "no_school"
PARTLY_ELSEWHERE = "partly_elsewhere"
CONDITIONS = {
    NO_SCHOOL: "On no school's roll (s436B(5)(a))",
    PARTLY_ELSEWHERE: "On a school's roll, educated otherwise than at a school for some of the time (s436B(5)(b))",
}
# What the Act asks each entry to hold that the register does not record (the child's home address
# and the parents are the child's: `Pupil.home_address`, and the parents and carers among the
# child's contacts, `casework.contacts.parents_of`).
NOT_HELD = ("the time the child spends being educated by their parents",)

COLUMNS = [
    "upn",
    "first_name",
    "last_name",
    "date_of_birth",
    "home_address",
    "parents",
    "why",
    "school",
    "educated_at",
    "setting_kind",
    "urn",
    "ukprn",
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
class Provision:
    """Education otherwise than at a school: one placement at a provider that is not a school."""

    placement: Placement
    arranged_by: str

    def as_json(self) -> dict[str, Any]:
        p, setting = self.placement, self.placement.setting
        addresses = [f"{site.address}, {site.postcode}" if site.postcode else site.address for site in setting.sites]
        if not addresses and setting.postcode:
            addresses = [setting.postcode]
        return {
            "educated_at": setting.name,
            "setting_kind": SETTING_KIND_LABELS[setting.kind],
            "urn": setting.urn,
            "ukprn": setting.ukprn,
            "addresses": "; ".join(addresses) or None,
            "sessions": ", ".join(week_pattern.labels(p.sessions)),
            "sessions_per_week": p.sessions.count("1"),
            "arranged_by": self.arranged_by,
            "route": ROUTE_LABELS[p.route],
            "registration": REGISTRATION_LABELS[p.registration],
            "start_date": p.start_date.isoformat(),
            "planned_end_date": p.planned_end_date.isoformat() if p.planned_end_date else None,
        }


@dataclass
class Child:
    """One child's entry on the day."""

    pupil: Pupil
    condition: str
    school: Setting | None
    provision: list[Provision] = field(default_factory=list)
    # Each parent or carer's name and address.
    parents: list[tuple[str, str | None]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        pupil = self.pupil
        return {
            "upn": pupil.upn,
            "first_name": pupil.first_name,
            "last_name": pupil.last_name,
            "date_of_birth": pupil.date_of_birth.isoformat(),
            "home_address": home_address(pupil),
            "parents": [{"name": name, "address": address} for name, address in self.parents],
            "why": self.condition,
            "school": self.school.name if self.school is not None else None,
            "sessions_per_week_elsewhere": sum(p.placement.sessions.count("1") for p in self.provision),
            "provision": [p.as_json() for p in self.provision],
        }

    def rows(self) -> list[dict[str, Any]]:
        """One line per provider (one line with none, for a child on no roll with nothing known)."""
        child = {key: value for key, value in self.as_json().items() if key not in ("provision",)}
        child.pop("sessions_per_week_elsewhere")
        child["why"] = CONDITIONS[self.condition]
        child["parents"] = (
            "; ".join(f"{p['name']}, {p['address'] or 'address not recorded'}" for p in child["parents"]) or None
        )
        return [{**child, **p.as_json()} for p in self.provision] or [child]


def home_address(pupil: Pupil) -> str | None:
    """The child's home address as one line, with its postcode; None when not recorded."""
    parts = [part for part in (pupil.home_address, pupil.home_postcode) if part]
    return ", ".join(parts) or None


def arranged_by(placement: Placement, la: LocalAuthority, names: dict[int, str]) -> str:
    if placement.commissioner_setting_id is not None:
        return names.get(placement.commissioner_setting_id, "A school")
    if placement.commissioner_la_id is not None or placement.route in LA_ROUTES:
        return la.name if placement.commissioner_la_id in (None, la.id) else "Another local authority"
    if placement.home_school is not None:
        return placement.home_school.name
    return la.name


def register_on(session: Session, actor: Actor, la: LocalAuthority, on: date) -> list[Child]:
    """The entries of the LA's register of children not in school on a day, as far as this actor
    may see, ordered by name."""
    permissions.require(session, actor, "cnis.view")
    pupils = [
        pupil
        for pupil in session.scalars(
            permissions.scope_pupils(actor, select(Pupil).where(Pupil.home_la_id == la.id)).order_by(
                Pupil.last_name, Pupil.first_name, Pupil.id
            )
        )
        if of_compulsory_school_age(pupil.date_of_birth, on)
    ]
    ids = [pupil.id for pupil in pupils]
    rolls = dict(zip(ids, settings_on_roll(session, [(pupil_id, on) for pupil_id in ids]), strict=True))
    moved_away = left_the_area(session, ids, on, destinations=(Destination.MOVED_OUT_OF_AREA,))
    elsewhere: dict[int, list[Placement]] = defaultdict(list)
    if ids:
        for placement in session.scalars(
            select(Placement)
            .join(Setting, Placement.setting_id == Setting.id)
            .where(
                among(session, Placement.pupil_id, ids),
                Placement.route.not_in(AT_HOME_SCHOOL),
                Setting.kind.not_in(REGISTERED_SCHOOL_KINDS),
                Placement.start_date <= on,
                or_(Placement.end_date.is_(None), Placement.end_date >= on),
            )
            .options(joinedload(Placement.setting).selectinload(Setting.sites), joinedload(Placement.home_school))
            .order_by(Placement.start_date, Placement.id)
        ).unique():
            elsewhere[placement.pupil_id].append(placement)
    schools = {
        setting.id: setting
        for setting in session.scalars(
            select(Setting).where(Setting.id.in_({s for s in rolls.values() if s is not None}))
        )
    }
    names = dict(session.execute(select(Setting.id, Setting.name).where(Setting.la_id == la.id)).all())
    parents = contacts.parents_of(session, ids)
    result = []
    for pupil in pupils:
        if pupil.id in moved_away:
            continue
        school_id = rolls[pupil.id]
        found = elsewhere.get(pupil.id, [])
        if school_id is None:
            condition = NO_SCHOOL
        elif found:
            condition = PARTLY_ELSEWHERE
        else:
            continue
        provision = [Provision(p, arranged_by(p, la, names)) for p in found]
        named = [(c.name, c.address) for c in parents.get(pupil.id, [])]
        result.append(Child(pupil, condition, schools.get(school_id) if school_id else None, provision, named))
    audit.record(
        session,
        actor,
        "report",
        "children_not_in_school",
        la.code,
        detail={"on": on.isoformat(), "children": len(result)},
    )
    return result


def summary(children: list[Child]) -> dict[str, int]:
    return {
        "children": len(children),
        "no_school": sum(1 for c in children if c.condition == NO_SCHOOL),
        "partly_elsewhere": sum(1 for c in children if c.condition == PARTLY_ELSEWHERE),
        "providers": sum(len(c.provision) for c in children),
    }


def rows(children: list[Child]) -> list[dict[str, Any]]:
    return [row for child in children for row in child.rows()]
