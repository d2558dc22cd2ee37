"""Sufficiency of places: demand against the places commissioned, worked out by hand from the
register's placements, referrals and term dates, and the forecast's line and interval."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ap_register.budgets import sufficiency
from ap_register.budgets.sufficiency import Demand, Filters, fit_line
from ap_register.domain.vocab import SettingKind, Tier
from tests import factories


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db)
    fenland = factories.setting(
        db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland", phase="secondary"
    )
    city = factories.setting(db, la, SettingKind.MAINSTREAM, name="Mill Road Primary", district="Cambridge")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland", phase="secondary")
    academy = factories.setting(db, la, SettingKind.AP_ACADEMY, name="Riverbank", district="Cambridge")
    academy.phase = "all_through"
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 2), (academy, "transitional", 1)])
    # A Year 9 pupil full time at The Oaks from Monday 3 November 2025; a Year 5 pupil half time
    # (every morning) from Monday 10 November, referred on Monday 20 October.
    older = factories.pupil(db, la, fenland, date_of_birth=date(2011, 3, 1))
    younger = factories.pupil(db, la, city, date_of_birth=date(2015, 3, 1))
    full = factories.placement(db, older, pru, start=date(2025, 11, 3))
    half = factories.placement(db, younger, pru, start=date(2025, 11, 10), sessions="1010101010")
    factories.ap_referral(db, younger, city, date(2025, 10, 20), placement=half)
    factories.ap_referral(db, older, fenland, date(2025, 11, 24), tier=Tier.TRANSITIONAL)
    return {"plan": plan, "full": full, "half": half}


def november(found: sufficiency.Sufficiency) -> sufficiency.Month:
    return next(m for m in found.months if m.first == date(2025, 11, 1))


def test_a_month_worked_out_by_hand(db: Session, area: dict[str, Any]) -> None:
    demand = Demand(db, area["plan"], date(2025, 12, 10))
    found = demand.report(Filters())
    month = november(found)
    # November 2025 has 20 school days (3 to 28 November). Place-days: 20 full time, and 15
    # mornings-only (0.5 a day) from the 10th: 27.5, so 1.375 places in use on average.
    assert month.school_days == 20
    assert month.in_use == Decimal("1.4")
    assert (month.referrals, month.starts, month.ends) == (1, 2, 0)
    # The wait: the school days from Monday 20 October to Monday 10 November, the half term
    # (27 to 31 October) not counted: 5 in October and 5 in November.
    assert month.waits == [10]
    assert month.median_wait == 10
    # Commissioned in 2025-26: 2 time-limited at The Oaks and 1 transitional at Riverbank; both
    # placements are time-limited at The Oaks, so the commissioned providers are 1.4 of 3 full.
    assert month.commissioned == Decimal(3)
    assert month.in_use_commissioned == Decimal("1.4")
    assert month.occupancy == Decimal(47)
    # October: no placement yet, one referral.
    october = next(m for m in found.months if m.first == date(2025, 10, 1))
    assert (october.referrals, october.in_use, october.starts) == (1, Decimal(0), 0)
    # The referral still waiting (submitted, no placement), and no forecast from two months.
    assert (found.waiting_now, found.oldest_waiting) == (1, date(2025, 11, 24))
    assert found.fit is None and "needs 6 complete months" in found.notes[0]
    # A month not yet begun has no figures, only what is commissioned.
    march = next(m for m in found.months if m.first == date(2026, 3, 1))
    assert (march.in_use, march.begun, march.commissioned) == (None, False, Decimal(3))


def test_each_filter_counts_its_own_pupils_and_places(db: Session, area: dict[str, Any]) -> None:
    demand = Demand(db, area["plan"], date(2025, 12, 10))
    assert demand.districts == ["Cambridge", "Fenland"]
    # Primary: the Year 5 pupil's 7.5 place-days over 20 school days; places at providers that teach
    # primary pupils: Riverbank (all through), not The Oaks (secondary).
    primary = november(demand.report(Filters(phase="primary")))
    # The Year 5 pupil was referred in October; the Year 9 pupil in November, from March High.
    assert (primary.in_use, primary.commissioned, primary.referrals, primary.waits) == (
        Decimal("0.4"),
        Decimal(1),
        0,
        [10],
    )
    secondary = november(demand.report(Filters(phase="secondary")))
    assert (secondary.in_use, secondary.commissioned, secondary.referrals) == (Decimal("1.0"), Decimal(3), 1)
    # Fenland: the pupil from March High; The Oaks's places.
    # Occupancy is the providers' side: The Oaks (in Fenland) holds both pupils, the Cambridge
    # one too, so 1.4 of its 2 places are in use whoever the district's demand is.
    fenland = november(demand.report(Filters(district="Fenland")))
    assert (fenland.in_use_commissioned, fenland.occupancy) == (Decimal("1.4"), Decimal(70))
    assert (fenland.in_use, fenland.commissioned, fenland.waits, fenland.referrals) == (
        Decimal("1.0"),
        Decimal(2),
        [],
        1,
    )
    # Transitional places: no placement, Riverbank's one place.
    transitional = november(demand.report(Filters(tier=Tier.TRANSITIONAL)))
    assert (transitional.in_use, transitional.commissioned, transitional.occupancy) == (
        Decimal(0),
        Decimal(1),
        Decimal(0),
    )
    # A lot: no referral is made to one, and these placements were not called off.
    lot = demand.report(Filters(lot_id=999))
    assert november(lot).referrals is None and november(lot).in_use == Decimal(0)
    assert lot.waiting_now is None
    # The page says whose demand and which places each filter counts.
    assert Filters(phase="primary", district="Fenland", tier=Tier.TIME_LIMITED).sides({}) == (
        "primary pupils of schools in Fenland in time-limited places",
        "the plan's providers in Fenland that teach primary pupils",
    )
    assert Filters().sides({}) == ("the area's pupils", "the plan's providers")


def test_the_forecast_line_and_its_interval_by_hand() -> None:
    # x = 0..5 (January to June 2026), y = 1, 3, 2, 4, 3, 5: x̄ 2.5, ȳ 3, Sxx 17.5, Sxy 11, so the
    # slope is 0.6286 a month and the line 1.4286 at January. Residuals' squares sum to 3.0857, s =
    # √(3.0857 / 4) = 0.8783. July (x = 6): 5.2, ± t(0.9, 4) 1.5332 × 0.8783 × √(1 + 1/6 + 3.5²/17.5).
    points = [(date(2026, m, 1), y) for m, y in zip(range(1, 7), (1.0, 3.0, 2.0, 4.0, 3.0, 5.0), strict=True)]
    fit = fit_line(points)
    assert fit is not None
    assert fit.slope == pytest.approx(0.6286, abs=1e-4)
    assert fit.t == pytest.approx(1.5332, abs=1e-4)
    july = fit.at(date(2026, 7, 1))
    assert july.central == pytest.approx(5.2, abs=1e-4)
    assert (july.low, july.high) == (pytest.approx(3.36, abs=0.01), pytest.approx(7.04, abs=0.01))
    # Further ahead, the interval widens; never below no places.
    later = fit.at(date(2027, 7, 1))
    assert later.high - later.low > july.high - july.low
    assert fit_line(points[:5]) is None
    falling = fit_line([(date(2026, m, 1), float(12 - 2 * m)) for m in range(1, 7)])
    assert falling is not None and falling.at(date(2027, 1, 1)).central == 0.0
