"""Small helpers that make records for tests, through the same rules the service uses where
there is one."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.accounts.users import hash_password
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import forget_calendars
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import MovementKind, Registration, Role, Route, SenStatus, SettingKind, Tier
from ap_register.models import (
    BudgetLine,
    BudgetPlan,
    Contact,
    Decision,
    LocalAuthority,
    Meeting,
    Panel,
    Placement,
    Pupil,
    Referral,
    Setting,
    TermDate,
    User,
)
from ap_register.placements.rules import PlacementDraft, record_roll_movement, start_placement

SYSTEM = Actor.system(via="test")
# Term stretches (half terms) the tests count school days in: 2024/25 to 2026/27.
TERM_DATES: tuple[tuple[date, date], ...] = (
    (date(2024, 9, 4), date(2024, 10, 25)),
    (date(2024, 11, 4), date(2024, 12, 20)),
    (date(2025, 1, 6), date(2025, 2, 14)),
    (date(2025, 2, 24), date(2025, 4, 4)),
    (date(2025, 4, 22), date(2025, 5, 23)),
    (date(2025, 6, 2), date(2025, 7, 22)),
    (date(2025, 9, 3), date(2025, 10, 24)),
    (date(2025, 11, 3), date(2025, 12, 19)),
    (date(2026, 1, 5), date(2026, 2, 13)),
    (date(2026, 2, 23), date(2026, 3, 27)),
    (date(2026, 4, 13), date(2026, 5, 22)),
    (date(2026, 6, 1), date(2026, 7, 21)),
    (date(2026, 9, 3), date(2026, 10, 23)),
    (date(2026, 11, 2), date(2026, 12, 18)),
    (date(2027, 1, 4), date(2027, 2, 12)),
    (date(2027, 2, 22), date(2027, 3, 25)),
    (date(2027, 4, 12), date(2027, 5, 28)),
    (date(2027, 6, 7), date(2027, 7, 21)),
)

PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)
_hash = hash_password(PASSWORD)


# The day the tests' LAs adopted the register: before any date the tests use, so that every
# placement is checked as new unless a test says otherwise.
ADOPTED_ON = date(2020, 9, 1)


def la(
    session: Session,
    code: str = "855",
    with_terms: bool = True,
    panels: bool = False,
    adopted_on: date | None = ADOPTED_ON,
) -> LocalAuthority:
    """An LA from the reference data, with the tests' term dates unless asked not to. Unless a
    test is about panels, the LA has no routes that need a panel decision (as an LA that has not
    set its panels up yet), so that placements can be made directly. It adopted the register
    long ago (`ADOPTED_ON`) unless a test gives another day, or None for an LA yet to adopt it."""
    authority = session.scalar(select(LocalAuthority).where(LocalAuthority.code == code))
    assert authority is not None, f"LA {code} is not in the reference data"
    authority.adopted_on = adopted_on
    if not panels:
        authority.panel_routes = []
    if with_terms and not authority.term_dates:
        for start, end in TERM_DATES:
            session.add(TermDate(la_id=authority.id, start_date=start, end_date=end))
        session.flush()
        forget_calendars(session)
        session.refresh(authority)
    return authority


def setting(
    session: Session,
    authority: LocalAuthority,
    kind: SettingKind = SettingKind.MAINSTREAM,
    name: str | None = None,
    **fields: Any,
) -> Setting:
    n = next(_serial)
    registered = kind not in (SettingKind.UNREGISTERED_AP,)
    urn = fields.pop("urn", f"{900000 + n:06d}" if registered else None)
    created = Setting(
        la_id=authority.id,
        ref=fields.pop("ref", urn or f"LOCAL{n:04d}"),
        name=name or f"{kind.value.replace('_', ' ').title()} {n}",
        kind=kind,
        urn=urn,
        **fields,
    )
    session.add(created)
    session.flush()
    return created


def pupil(
    session: Session,
    authority: LocalAuthority,
    home_school: Setting | None = None,
    on: date = date(2025, 9, 3),
    **fields: Any,
) -> Pupil:
    """A pupil of this LA; admitted to `home_school` on `on` through the ledger."""
    n = next(_serial)
    parents = fields.pop("parents", [])
    created = Pupil(
        upn=fields.pop("upn", make_upn(f"{authority.code}{2001 + n // 1000:04d}25{n % 1000:03d}")),
        first_name=fields.pop("first_name", "Alex"),
        last_name=fields.pop("last_name", f"Pupil{n}"),
        date_of_birth=fields.pop("date_of_birth", date(2012, 3, 14)),
        home_la_id=authority.id,
        sen_status=fields.pop("sen_status", SenStatus.NONE),
        # What the AP census asks, complete unless a test says otherwise.
        sex=fields.pop("sex", "F"),
        ethnicity=fields.pop("ethnicity", "WBRI"),
        home_postcode=fields.pop("home_postcode", "CB1 2AB"),
        **fields,
    )
    session.add(created)
    session.flush()
    # `parents`: (name, address) of each parent or carer, kept as the child's contacts.
    for name, address in parents:
        session.add(Contact(pupil_id=created.id, role="parent_carer", name=name, relation="not_known", address=address))
    if home_school is not None:
        record_roll_movement(session, SYSTEM, created, MovementKind.ADMITTED, on, home_school, today=on)
    return created


def user(session: Session, role: Role, organisation: LocalAuthority | Setting, email: str | None = None) -> User:
    n = next(_serial)
    created = User(
        email=email or f"{role.value}{n}@example.org",
        name=f"{role.value.replace('_', ' ').title()} {n}",
        password_hash=_hash,
        role=role,
        la_id=organisation.id if isinstance(organisation, LocalAuthority) else None,
        setting_id=organisation.id if isinstance(organisation, Setting) else None,
    )
    session.add(created)
    session.flush()
    return created


# What an off-site direction's written notice says (SI 2010/1156 reg 3(4)), unless a test says otherwise.
NOTICE = {
    "notice_address": "1 Mill Lane, Leicester LE1 1AA",
    "notice_report_to": "Ms A Khan, head of centre",
    "notice_session_times": "9am to 12pm and 12:45pm to 3pm",
    "notice_reasons": "Repeated disruption in lessons; to re-engage with learning and return to school",
}


def placement(
    session: Session,
    who: Pupil,
    where: Setting,
    route: Route | None = None,
    registration: Registration = Registration.DUAL,
    sessions: str = "1111111111",
    start: date = date(2025, 10, 6),
    tier: Tier | None = Tier.TIME_LIMITED,
    **fields: Any,
) -> Placement:
    """A placement the register accepts: by default an off-site direction (dual registration), or
    other AP the school arranges when the pupil is not registered there (code B)."""
    if route is None:
        route = Route.SCHOOL_ARRANGED if registration == Registration.NONE else Route.OFF_SITE_DIRECTION
    if route == Route.OFF_SITE_DIRECTION:  # its written notice recorded in full
        fields.setdefault("notice_date", date(2025, 9, 29))
        for name, value in NOTICE.items():
            fields.setdefault(name, value)
    if route == Route.PART_TIME_TIMETABLE:  # agreed with the parent the week before, after an illness
        fields.setdefault("parent_agreed_on", start - timedelta(days=7))
        fields.setdefault("part_time_purpose", "medical")
    if tier == Tier.TIME_LIMITED:  # planned to end (late, so no test meets it unawares), with its plan
        fields.setdefault("planned_end_date", start.replace(year=start.year + 2))
        fields.setdefault("reintegration_plan", "Mornings back at the home school from week four; full time by the end")
    created, _ = start_placement(
        session,
        SYSTEM,
        who,
        PlacementDraft(
            setting_id=where.id,
            route=route,
            registration=registration,
            sessions=sessions,
            start_date=start,
            tier=tier,
            **fields,
        ),
    )
    return created


def budget_plan(
    session: Session, authority: LocalAuthority, places: list[tuple[Setting, str, int]], first_year: int = 2025
) -> BudgetPlan:
    """A three-year plan (not agreed) with the same places each year: (provider, place type,
    places), at £18,000 a place."""
    plan = BudgetPlan(la_id=authority.id, name="AP budget", first_year=first_year, years=3, demand_policy="Reserve")
    session.add(plan)
    session.flush()
    for year in range(first_year, first_year + 3):
        for provider, place_type, commissioned in places:
            session.add(
                BudgetLine(
                    plan_id=plan.id,
                    year=year,
                    provider_id=provider.id,
                    place_type=place_type,
                    commissioned=Decimal(commissioned),
                    unit_cost=Decimal(18000),
                )
            )
    session.flush()
    session.refresh(plan)
    return plan


def ap_referral(
    session: Session,
    who: Pupil,
    school: Setting,
    submitted_on: date,
    tier: Tier = Tier.TIME_LIMITED,
    placement: Placement | None = None,
) -> Referral:
    """A referral from `school` for a place in AP, received on `submitted_on`. With `placement`:
    approved by the panel (meeting that day) and started as that placement; without: waiting."""
    referral = Referral(
        la_id=who.home_la_id,
        pupil_id=who.id,
        move="time_limited_ap" if tier == Tier.TIME_LIMITED else "transitional_ap",
        route=Route.LA_OTHER,
        tier=tier,
        referring_setting_id=school.id,
        reasons="Escalating behaviour despite support",
        best_interest="A fresh start, aiming to return to mainstream",
        status="submitted" if placement is None else "approved",
        submitted_on=submitted_on,
    )
    session.add(referral)
    session.flush()
    if placement is not None:
        panel = Panel(la_id=who.home_la_id, name="Panel")
        session.add(panel)
        session.flush()
        meeting = Meeting(panel_id=panel.id, held_on=submitted_on)
        session.add(meeting)
        session.flush()
        chair = user(session, Role.PANEL_CHAIR, session.get(LocalAuthority, who.home_la_id))  # type: ignore[arg-type]
        session.add(
            Decision(
                referral_id=referral.id,
                meeting_id=meeting.id,
                outcome="approve",
                reasons="Support was tried first; agreed",
                votes={},
                decided_by_id=chair.id,
                placement_id=placement.id,
            )
        )
        session.flush()
    return referral
