"""The demo area is built relative to the day it is loaded: it must load on any day of the year
(holidays, term starts, the summer), not only on the days it was written."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.budgets import sufficiency
from ap_register.commissioning import agreements, payments, progress
from ap_register.devdata.demo import load_demo
from ap_register.models import (
    AttendanceMark,
    BudgetPlan,
    PaymentStatement,
    Placement,
    PlacementAgreement,
    ProviderInvoice,
)

# Every ninth week across a year (a different weekday each time), from the day the demo first
# failed to load: one pupil's two placements at one setting met, and the register got two marks
# for one session. DEMO_DAYS_EVERY=1 tries every week of the year (a minute a day on SQLite).
EVERY = int(os.environ.get("DEMO_DAYS_EVERY", "9"))
DAYS = [date(2026, 12, 1) + timedelta(days=(7 * EVERY + 1) * n) for n in range(52 // EVERY + 1)]


@pytest.mark.shared
@pytest.mark.parametrize("today", DAYS, ids=[d.isoformat() for d in DAYS])
def test_the_demo_loads_on_any_day(db: Session, today: date) -> None:
    savepoint = db.begin_nested()
    try:
        result = load_demo(db, today=today)
        db.flush()
        assert result.created
        placements = db.scalar(select(func.count()).select_from(Placement))
        marks = db.scalar(select(func.count()).select_from(AttendanceMark))
        assert placements and placements > 50
        assert marks and marks > 1000
        # Two placements called off under the framework: one agreed by every party, one waiting for the parent.
        called_off = db.scalars(select(PlacementAgreement)).all()
        assert sorted(agreements.waiting_for(a.current) for a in called_off) == [[], ["parent"]]
        # Each has its provider's half-termly reports, all written at The Oaks; Riverbank's latest not yet.
        unwritten = {
            a.placement.setting.name: [p.number for p in progress.periods(db, a) if p.opens <= today and not p.report]
            for a in called_off
        }
        written = {
            a.placement.setting.name: [p.number for p in progress.periods(db, a) if p.report] for a in called_off
        }
        assert unwritten["The Oaks Pupil Referral Unit"] == [] and written["The Oaks Pupil Referral Unit"]
        assert len(unwritten["Riverbank Academy"]) == 1
        # And its invoices for the last two months with sessions: The Oaks's approved, Riverbank's
        # last month's still to check and approve.
        invoices = db.scalars(select(ProviderInvoice)).all()
        approved = set(db.scalars(select(PaymentStatement.invoice_id)))
        by_provider = {name: [i for i in invoices if i.provider.name == name] for name in unwritten}
        assert all(by_provider.values())
        assert all(i.id in approved for i in by_provider["The Oaks Pupil Referral Unit"])
        last = payments.last_month(today)
        assert all((i.id in approved) == (i.month != last) for i in by_provider["Riverbank Academy"])
        # Two years of referrals and placements: the sufficiency page has its forecasts, and the
        # county's five districts to filter by.
        plan = db.scalars(select(BudgetPlan)).one()
        demand = sufficiency.Demand(db, plan, today)
        found = demand.report(sufficiency.Filters())
        assert found.fit is not None and found.referral_fit is not None and found.fit.n >= 20
        assert len(demand.districts) == 5
    finally:
        savepoint.rollback()
