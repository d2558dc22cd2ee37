"""Benchmark: the sufficiency page's figures for a large LA.

    .venv/bin/python performance/bench_sufficiency.py [--placements 6000] [--referrals 5000]
        [--providers 30] [--database-url URL]

Writes into an empty database an LA with term dates, --providers AP providers in 5 districts
each with a budget line a year of a three-year plan, a school per district, and --placements
time-limited or transitional placements started over the three years to the fixed day (each
lasting 2 to 40 weeks, two in three full time), --referrals referrals (the first of them decided
into a placement each). Then it times, with the clock fixed on 7 December 2026: reading the
LA's data once (`Demand`), the whole area's report, every district's, every phase's, and the
workbook's rows; and the process's maximum RSS. Writes its figures to performance/results/.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from results_file import write_results  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from ap_register import clock, create_app  # noqa: E402
from ap_register.budgets import sufficiency  # noqa: E402
from ap_register.config import TestConfig  # noqa: E402
from ap_register.devdata.demo import typical_term_dates  # noqa: E402
from ap_register.domain.reference_data import load_into  # noqa: E402
from ap_register.domain.vocab import Destination, Registration, Role, Route, SettingKind, Tier  # noqa: E402
from ap_register.extensions import db  # noqa: E402
from ap_register.models import (  # noqa: E402
    BudgetLine,
    BudgetPlan,
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

TODAY = date(2026, 12, 7)
DISTRICTS = ("Cambridge", "East Cambridgeshire", "Fenland", "Huntingdonshire", "South Cambridgeshire")


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build(placements: int, referrals: int, providers: int) -> BudgetPlan:
    session = db.session
    rng = random.Random(2026)
    la = session.scalars(select(LocalAuthority).where(LocalAuthority.code == "873")).one()
    for year in range(2023, 2028):
        for start, end in typical_term_dates(year):
            session.add(TermDate(la_id=la.id, start_date=start, end_date=end))
    schools = [
        Setting(la_id=la.id, ref=f"S{n}", name=f"School {n}", kind=SettingKind.MAINSTREAM, district=d)
        for n, d in enumerate(DISTRICTS)
    ]
    aps = [
        Setting(la_id=la.id, ref=f"AP{n}", name=f"Provider {n}", kind=SettingKind.PRU, district=DISTRICTS[n % 5])
        for n in range(providers)
    ]
    session.add_all(schools + aps)
    session.flush()
    plan = BudgetPlan(la_id=la.id, name="Bench plan", first_year=2025, years=3, demand_policy="Reserve")
    session.add(plan)
    session.flush()
    for year in (2025, 2026, 2027):
        for n, ap in enumerate(aps):
            session.add(
                BudgetLine(
                    plan_id=plan.id,
                    year=year,
                    provider_id=ap.id,
                    place_type=("time_limited", "transitional")[n % 2],
                    commissioned=Decimal(rng.randint(2, 12)),
                    unit_cost=Decimal(18000),
                )
            )
    pupil_rows = [
        {
            "upn": f"B873{n:09d}",
            "first_name": "Bench",
            "last_name": f"Pupil {n}",
            "date_of_birth": date(2008 + n % 10, 1 + n % 12, 1),
            "home_la_id": la.id,
            "home_school_id": schools[n % 5].id,
        }
        for n in range(placements)
    ]
    session.execute(insert(Pupil), pupil_rows)
    pupil_ids = list(session.scalars(select(Pupil.id).order_by(Pupil.id)))
    span = (TODAY - date(2024, 4, 1)).days
    placement_rows = []
    for n, pupil_id in enumerate(pupil_ids):
        start = date(2024, 4, 1) + timedelta(days=rng.randrange(span))
        end = start + timedelta(weeks=rng.randint(2, 40))
        placement_rows.append(
            {
                "pupil_id": pupil_id,
                "setting_id": aps[n % providers].id,
                "route": Route.LA_OTHER,
                "tier": (Tier.TIME_LIMITED, Tier.TRANSITIONAL)[n % 2],
                "registration": Registration.DUAL,
                "sessions": "1" * 10 if n % 3 else "1010101010",
                "start_date": start,
                "end_date": end if end < TODAY else None,
                "destination": Destination.RETURNED_HOME_SCHOOL if end < TODAY else None,
                "home_school_id": schools[n % 5].id,
            }
        )
    session.execute(insert(Placement), placement_rows)
    chair = User(email="bench.chair@example.org", name="Chair", password_hash="x", role=Role.PANEL_CHAIR, la_id=la.id)
    panel = Panel(la_id=la.id, name="Panel")
    session.add_all([chair, panel])
    session.flush()
    meeting = Meeting(panel_id=panel.id, held_on=date(2024, 4, 1))
    session.add(meeting)
    session.flush()
    placed = session.execute(
        select(Placement.id, Placement.pupil_id, Placement.start_date).order_by(Placement.id)
    ).all()
    for n in range(referrals):
        placement_id, pupil_id, start = placed[n % len(placed)]
        referral = Referral(
            la_id=la.id,
            pupil_id=pupil_id,
            move="time_limited_ap",
            route=Route.LA_OTHER,
            tier=Tier.TIME_LIMITED,
            referring_setting_id=schools[n % 5].id,
            reasons="Bench",
            best_interest="Bench",
            status="approved" if n < len(placed) else "submitted",
            submitted_on=start - timedelta(days=rng.randint(5, 40)),
        )
        session.add(referral)
        if n < len(placed):
            session.flush()
            session.add(
                Decision(
                    referral_id=referral.id,
                    meeting_id=meeting.id,
                    outcome="approve",
                    reasons="Bench",
                    votes={},
                    decided_by_id=chair.id,
                    placement_id=placement_id,
                )
            )
    session.commit()
    return plan


def timed(what: dict[str, float], name: str, work: object) -> object:
    began = time.perf_counter()
    result = work() if callable(work) else work  # type: ignore[operator]
    what[name] = round(time.perf_counter() - began, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--placements", type=int, default=6000)
    parser.add_argument("--referrals", type=int, default=5000)
    parser.add_argument("--providers", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    seconds: dict[str, float] = {}
    with app.app_context(), clock.fixed(TODAY):
        upgrade()
        load_into(db.session)
        plan = timed(seconds, "write_the_area", lambda: build(args.placements, args.referrals, args.providers))
        assert isinstance(plan, BudgetPlan)
        db.session.expire_all()
        plan = db.session.get(BudgetPlan, plan.id)
        assert plan is not None
        demand = timed(seconds, "read_once", lambda: sufficiency.Demand(db.session, plan, TODAY))
        assert isinstance(demand, sufficiency.Demand)
        whole = timed(seconds, "whole_area", lambda: demand.report(sufficiency.Filters()))
        assert isinstance(whole, sufficiency.Sufficiency)
        timed(
            seconds,
            "every_district",
            lambda: [demand.report(sufficiency.Filters(district=d)) for d in demand.districts],
        )
        timed(
            seconds,
            "every_phase",
            lambda: [demand.report(sufficiency.Filters(phase=p)) for p in sufficiency.PHASES],
        )
        timed(seconds, "workbook_rows", lambda: sufficiency.workbook_rows(whole))
        page_seconds = seconds["read_once"] + seconds["whole_area"]
        figures = {
            "placements": args.placements,
            "referrals": args.referrals,
            "providers": args.providers,
            "months": len(whole.months),
            "seconds": seconds,
            "page_seconds": round(page_seconds, 3),
            "fit_months": whole.fit.n if whole.fit else 0,
            "max_rss_mb": rss_mb(),
        }
    print(figures)
    write_results("sufficiency", url, **figures)


if __name__ == "__main__":
    main()
