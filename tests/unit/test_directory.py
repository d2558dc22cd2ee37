"""The directory of approved providers: straight-line distances on the British National Grid from a
school (the nearest of a provider's places), filters by lot, phase and distance, commissioned
places free today, and whether a provider may be called off."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ap_register.budgets.rules import agree_plan, create_plan, set_line
from ap_register.commissioning.directory import Search, search
from ap_register.commissioning.frameworks import add_lot, apply, decide
from ap_register.domain.actors import Actor
from ap_register.domain.grid import distance_km, metres
from ap_register.domain.vocab import Role, Tier
from ap_register.models import SettingSite
from ap_register.placements.settings import locate
from tests import factories
from tests.unit.test_frameworks import ON, evidence_for, market  # noqa: F401  (the fixture)


def test_grid_distances_are_straight_lines_in_kilometres() -> None:
    assert distance_km((530_000, 180_000), (533_000, 184_000)) == 5.0
    assert [metres(v) for v in ("533000", " 184000 ", "", "12345678", "-5", "5.5", None)] == [
        533_000,
        184_000,
        None,
        None,
        None,
        None,
        None,
    ]


@pytest.fixture()
def directory(db: Session, market: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The Oaks (a secondary PRU, 5 km from the school) and Hillside Farm (any phase; its own
    address 30 km away, its one site 1.5 km away), both approved on lot 1; the farm also on a
    mentoring lot. The Oaks has 2 commissioned time-limited places, one of them in use."""
    la, pru, farm, school = market["la"], market["pru"], market["farm"], market["school"]
    commissioner = market["commissioner"]
    school.easting, school.northing = 530_000, 180_000
    pru.phase = "secondary"
    locate(db, commissioner, pru, site_id=None, easting=533_000, northing=184_000)
    farm.sites = [SettingSite(address="Mill Lane Barn")]
    db.flush()
    locate(db, commissioner, farm, site_id=None, easting=560_000, northing=180_000)
    locate(db, commissioner, farm, site_id=farm.sites[0].id, easting=530_900, northing=181_200)
    mentoring = add_lot(db, commissioner, market["framework"], name="Mentoring", service="mentoring", description=None)
    for provider, lots in ((pru, [market["lot"]]), (farm, [market["lot"], mentoring])):
        evidence_for(db, market, provider, date(2026, 12, 31))
        for lot in lots:
            approval = apply(db, commissioner, lot, provider, rate="50", rate_unit="day", today=ON)
            decide(db, commissioner, approval, outcome="approved", rate=None, rate_unit=None, reason=None, today=ON)
    plan = create_plan(db, commissioner, la, name="AP budget", first_year=2025, years=3, demand_policy="Reserve")
    for year in (2025, 2026, 2027):
        line = {"year": year, "place_type": "time_limited", "commissioned": Decimal(2), "unit_cost": Decimal(18000)}
        set_line(db, commissioner, plan, provider=pru, **line)  # type: ignore[arg-type]
        reserve = {"year": year, "place_type": "reserve", "commissioned": Decimal(5000), "unit_cost": Decimal(1)}
        set_line(db, commissioner, plan, **reserve)  # type: ignore[arg-type]
    agree_plan(db, commissioner, plan)
    pupil = factories.pupil(db, la, school)
    factories.placement(db, pupil, pru, start=date(2026, 1, 5), tier=Tier.TIME_LIMITED)
    db.flush()
    return {**market, "school_lead": Actor(user=factories.user(db, Role.SCHOOL_LEAD, school), via="test")}


def names(entries: list[Any]) -> list[tuple[str, float | None]]:
    return [(e.provider.name, e.km) for e in entries]


def test_providers_nearest_the_school_first_by_their_nearest_place(db: Session, directory: dict[str, Any]) -> None:
    lead, la, school = directory["school_lead"], directory["la"], directory["school"]
    found, unmeasured = search(db, lead, la, Search(school=school), ON)
    assert names(found) == [("Hillside Farm", 1.5), ("The Oaks", 5.0)] and unmeasured == 0
    within_2, _ = search(db, lead, la, Search(school=school, within_km=2), ON)
    assert names(within_2) == [("Hillside Farm", 1.5)]
    # Without a school: no distances, by name.
    assert names(search(db, lead, la, Search(), ON)[0]) == [("Hillside Farm", None), ("The Oaks", None)]


def test_filters_by_lot_and_phase(db: Session, directory: dict[str, Any]) -> None:
    lead, la = directory["school_lead"], directory["la"]
    assert names(search(db, lead, la, Search(service="mentoring"), ON)[0]) == [("Hillside Farm", None)]
    # The Oaks is secondary; the farm records no phase, so it is listed for every phase.
    assert names(search(db, lead, la, Search(phase="primary"), ON)[0]) == [("Hillside Farm", None)]
    assert len(search(db, lead, la, Search(phase="secondary"), ON)[0]) == 2
    assert search(db, lead, la, Search(service="tuition"), ON)[0] == []


def test_places_free_today_from_the_agreed_plan_less_placements_in_use(db: Session, directory: dict[str, Any]) -> None:
    lead, la = directory["school_lead"], directory["la"]
    found = {e.provider.name: e for e in search(db, lead, la, Search(), ON)[0]}
    oaks = found["The Oaks"].places
    assert [(p.tier, p.commissioned, p.in_use, p.free) for p in oaks] == [
        (Tier.TIME_LIMITED, Decimal(2), Decimal(1), Decimal(1))
    ]
    assert found["Hillside Farm"].places == []  # no commissioned places: spot purchases only
    assert names(search(db, lead, la, Search(with_places=True), ON)[0]) == [("The Oaks", None)]


def test_a_provider_whose_evidence_lapsed_is_listed_with_call_offs_stopped(
    db: Session, directory: dict[str, Any]
) -> None:
    lead, la = directory["school_lead"], directory["la"]
    later = date(2027, 1, 15)  # evidence expired on 31 December 2026; 14 days' grace ended on 14 January
    found = {e.provider.name: e for e in search(db, lead, la, Search(), later)[0]}
    assert not found["The Oaks"].open
    assert (
        found["The Oaks"].why_not is not None and "grace period ended on 14 January 2027" in found["The Oaks"].why_not
    )
    assert {e.provider.name: e.open for e in search(db, lead, la, Search(), ON)[0]} == {
        "The Oaks": True,
        "Hillside Farm": True,
    }


def test_the_directory_is_the_areas_own_and_not_a_panel_members(db: Session, directory: dict[str, Any]) -> None:
    stranger = Actor(user=factories.user(db, Role.SCHOOL_LEAD, directory["elsewhere"]), via="test")
    assert search(db, stranger, directory["la"], Search(), ON)[0] == []
    member = Actor(user=factories.user(db, Role.PANEL_MEMBER, directory["la"]), via="test")
    assert search(db, member, directory["la"], Search(), ON)[0] == []
