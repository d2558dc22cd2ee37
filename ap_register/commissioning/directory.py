"""The directory of approved providers, as a school lead searches it: by lot, phase and straight-
line distance from a school, with each provider's free commissioned places and its outcomes.

Distances are between points on the British National Grid (GIAS's Easting and Northing, in
metres; a provider's sites record theirs): straight lines, not journeys, and said so on the page.
A provider is as near as the nearest of its places (its own address or any of its sites).
Places free: the provider's commissioned places of the financial year (the agreed budget plan),
after variations, less the full-time equivalents of the placements using them today
(budgets/rules.py). Outcomes: the five figures as the nightly job last kept them for the last
school year that ended (outcomes/rules.py), small numbers suppressed as they are everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ap_register import permissions
from ap_register.budgets.rules import effective, occupancy, plan_for
from ap_register.commissioning.frameworks import call_off_refusal, evidence_by_provider, in_force
from ap_register.domain.actors import Actor
from ap_register.domain.grid import distance_km, on_the_grid
from ap_register.domain.vocab import Tier
from ap_register.models import Framework, FrameworkLot, LocalAuthority, LotApproval, Setting
from ap_register.outcomes import rules as outcomes
from ap_register.years import AcademicYear, FinancialYear

DISTANCES_KM = (2, 5, 10, 20, 50)
PLACE_TIERS = (Tier.TIME_LIMITED, Tier.TRANSITIONAL)


def points(provider: Setting) -> list[tuple[int, int]]:
    """Where the provider teaches, as grid points: its own address and its sites', where known."""
    found = [(provider.easting, provider.northing)] + [(s.easting, s.northing) for s in provider.sites]
    return [(e, n) for e, n in found if e is not None and n is not None and on_the_grid(e, n)]


def nearest_km(provider: Setting, school: Setting | None) -> float | None:
    if school is None or not on_the_grid(school.easting, school.northing):
        return None
    assert school.easting is not None and school.northing is not None
    found = [distance_km((school.easting, school.northing), p) for p in points(provider)]
    return round(min(found), 1) if found else None


@dataclass
class Places:
    tier: Tier
    commissioned: Decimal
    in_use: Decimal

    @property
    def free(self) -> Decimal:
        return max(self.commissioned - self.in_use, Decimal(0))


@dataclass
class Entry:
    provider: Setting
    approvals: list[LotApproval]
    open: bool  # whether a placement may be called off from it today
    why_not: str | None
    km: float | None
    places: list[Places] = field(default_factory=list)
    outcomes: dict[str, outcomes.Figure] = field(default_factory=dict)


@dataclass
class Search:
    service: str | None = None
    phase: str | None = None
    school: Setting | None = None
    within_km: int | None = None
    with_places: bool = False


def search(session: Session, actor: Actor, la: LocalAuthority, asked: Search, on: date) -> tuple[list[Entry], int]:
    """Providers approved on a lot of a framework in force on `on`, as asked; nearest first when a
    school is given. Returns the entries and how many providers the school's distance could not
    be measured for (no grid point known)."""
    stmt = (
        select(LotApproval)
        .join(FrameworkLot, LotApproval.lot_id == FrameworkLot.id)
        .join(Framework, FrameworkLot.framework_id == Framework.id)
        .where(Framework.la_id == la.id, LotApproval.status == "approved")
        .options(selectinload(LotApproval.provider).selectinload(Setting.sites))
        .order_by(FrameworkLot.number)
    )
    if asked.service:
        stmt = stmt.where(FrameworkLot.service == asked.service)
    approvals = [a for a in session.scalars(permissions.scope_directory(actor, stmt)) if in_force(a.lot.framework, on)]
    by_provider: dict[int, list[LotApproval]] = {}
    for approval in approvals:
        if asked.phase and not phase_taught(approval.provider, asked.phase):
            continue
        by_provider.setdefault(approval.provider_id, []).append(approval)
    evidence = evidence_by_provider(session, la.id)
    plan = plan_for(session, la, on)
    year = FinancialYear.containing(on).start
    kept = outcomes.stored(session, la, AcademicYear.last_ended(on).start)
    scores = {p.provider.id: p.figures for p in kept.providers if p.provider is not None} if kept else {}
    entries = []
    unmeasured = 0
    for provider_id, listed in by_provider.items():
        provider = listed[0].provider
        refusals = [call_off_refusal(session, a, on, evidence) for a in listed]
        km = nearest_km(provider, asked.school)
        if asked.school is not None and km is None:
            unmeasured += 1
        if asked.within_km is not None and (km is None or km > asked.within_km):
            continue
        places = []
        if plan is not None:
            for tier in PLACE_TIERS:
                lines = [
                    line
                    for line in plan.lines
                    if line.year == year and line.provider_id == provider_id and line.place_type == tier.value
                ]
                if lines:
                    commissioned = sum((effective(line) for line in lines), Decimal(0))
                    places.append(Places(tier, commissioned, occupancy(session, provider_id, tier, on)))
        if asked.with_places and not any(p.free > 0 for p in places):
            continue
        entries.append(
            Entry(
                provider,
                listed,
                open=any(r is None for r in refusals),
                why_not=next((r for r in refusals if r is not None), None) if all(refusals) else None,
                km=km,
                places=places,
                outcomes=scores.get(provider_id, {}),
            )
        )
    entries.sort(key=lambda e: (e.km is None, e.km or 0.0, e.provider.name))
    return entries, unmeasured


def phase_taught(provider: Setting, phase: str) -> bool:
    """Whether the provider takes pupils of the phase (an all-through provider, or one whose phase
    is not recorded, is listed for every phase)."""
    return provider.phase in (None, "all_through", phase)
