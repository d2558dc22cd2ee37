"""One use case, every channel: a line of a draft budget plan saved on the plan's page and in a
budget lines file gives the same line and the same refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.budgets.rules import create_plan
from ap_register.domain.vocab import Role
from ap_register.models import BudgetLine, BudgetPlan
from ap_register.permissions import Actor
from tests.contract.channels import through_import
from tests.pages import errors, page, post, sign_in

# Plans may not overlap: each channel's plan covers its own three years (the test area's own plan
# covers 2030-31 to 2032-33); a line's `year` below is the plan's second year.
FIRST_YEARS = {"_page": 2027, "_import": 2033}


def _plan(db: Session, area: dict[str, Any], channel: str) -> BudgetPlan:
    actor = Actor(user=area["users"][Role.COMMISSIONER], via="test")
    plan = create_plan(
        db, actor, area["la"], name=f"Plan {channel}", first_year=FIRST_YEARS[channel], years=3, demand_policy="x"
    )
    db.commit()
    return plan


def _page(client: Any, db: Session, area: dict[str, Any], plan: BudgetPlan, line: dict[str, str]) -> list[str]:
    form = {
        "year": str(plan.first_year + 1),
        "place_type": line["place_type"],
        "provider": str(area[line["provider"]].id) if line.get("provider") else "",
        "commissioned": line["commissioned"],
        "unit_cost": line.get("unit_cost", ""),
    }
    response = post(client, f"/budgets/{plan.id}/lines", form)
    return [] if response.status_code == 302 else errors(page(response))


def _import(client: Any, db: Session, area: dict[str, Any], plan: BudgetPlan, line: dict[str, str]) -> list[str]:
    provider = area[line["provider"]].ref if line.get("provider") else ""
    cells = [
        plan.name,
        str(plan.first_year + 1),
        line["place_type"],
        provider,
        line["commissioned"],
        line.get("unit_cost", ""),
    ]
    text = "plan,year,place_type,provider_ref,commissioned,unit_cost\n" + ",".join(cells) + "\n"
    return through_import(db, area["users"][Role.COMMISSIONER], "budget-lines", text, area["la"])


CHANNELS = (_page, _import)


def _lines(db: Session, plan: BudgetPlan) -> list[tuple[Any, ...]]:
    db.expire_all()
    return [
        (line.year - plan.first_year, line.place_type, line.provider_id, line.commissioned, line.unit_cost)
        for line in db.scalars(select(BudgetLine).where(BudgetLine.plan_id == plan.id).order_by(BudgetLine.id))
    ]


def test_a_line_is_saved_alike_through_every_channel(client: Any, db: Session, world: dict[str, Any]) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.COMMISSIONER].email)
    results = []
    for channel in CHANNELS:
        plan = _plan(db, area, channel.__name__)
        line = {"place_type": "outreach", "provider": "pru", "commissioned": "400", "unit_cost": "55"}
        assert channel(client, db, area, plan, line) == [], channel.__name__
        reserve = {"place_type": "reserve", "commissioned": "25000"}
        assert channel(client, db, area, plan, reserve) == [], channel.__name__
        results.append(_lines(db, plan))
    assert (
        results[0]
        == results[1]
        == [
            (1, "outreach", area["pru"].id, Decimal("400.00"), Decimal("55.00")),
            (1, "reserve", None, Decimal("25000.00"), Decimal("1.00")),
        ]
    )


REFUSALS = {
    "no unit cost": (
        {"place_type": "outreach", "provider": "pru", "commissioned": "400"},
        ["Enter the unit cost"],
    ),
    "negative": (
        {"place_type": "outreach", "provider": "pru", "commissioned": "-1", "unit_cost": "55"},
        ["Places, hours or an amount cannot be negative"],
    ),
    "a 12-digit number": (
        {"place_type": "reserve", "commissioned": "1" * 12},
        ["Enter places, hours or an amount up to 10,000,000"],
    ),
    "an absurd tariff": (
        {"place_type": "time_limited", "provider": "pru", "commissioned": "2", "unit_cost": "2e7"},
        ["Enter a unit cost up to £10,000,000"],
    ),
}


@pytest.mark.parametrize(("line", "messages"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_line_is_refused_alike_and_nothing_is_written(
    client: Any, db: Session, world: dict[str, Any], line: dict[str, str], messages: list[str]
) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.COMMISSIONER].email)
    for channel in CHANNELS:
        plan = _plan(db, area, channel.__name__)
        assert channel(client, db, area, plan, line) == messages, channel.__name__
        assert _lines(db, plan) == []
