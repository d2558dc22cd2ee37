"""The budget through the pages: a commissioner enters and agrees a plan, sees it against use and
downloads it; a provider sees only its own places; a booking with no free place is a spot purchase."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.imports import run_import
from ap_register.domain.vocab import Destination, MovementKind, Registration, Role, Route, SettingKind, Tier
from ap_register.models import BudgetLine, BudgetPlan, BudgetVariation, Placement
from ap_register.placements.rules import end_placement, record_roll_movement
from tests import factories
from tests.factories import SYSTEM
from tests.pages import date_fields, errors, page, post, sign_in, text

PROVIDERS = (
    ("pru", SettingKind.PRU, "The Oaks", "873400"),
    ("academy", SettingKind.AP_ACADEMY, "Riverbank Academy", "873401"),
    ("free", SettingKind.AP_FREE_SCHOOL, "Pathways Free School", "873402"),
    ("independent", SettingKind.INDEPENDENT_AP, "Horizon School", "873403"),
    ("farm", SettingKind.UNREGISTERED_AP, "Greenfields Farm", "UNREG-1"),
    ("music", SettingKind.UNREGISTERED_AP, "Urban Beats", "UNREG-2"),
)


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db, "855")
    made: dict[str, Any] = {"la": la, "school": factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High")}
    for key, kind, name, ref in PROVIDERS:
        extra = {"ref": ref} if kind == SettingKind.UNREGISTERED_AP else {"urn": ref}
        made[key] = factories.setting(db, la, kind, name=name, **extra)
    made["commissioner"] = factories.user(db, Role.COMMISSIONER, la)
    made["admin"] = factories.user(db, Role.LA_ADMIN, la)
    made["head"] = factories.user(db, Role.AP_HEAD, made["pru"])
    db.commit()
    return made


def excluded(db: Session, area: dict[str, Any]) -> Any:
    pupil = factories.pupil(db, area["la"], area["school"])
    record_roll_movement(
        db, SYSTEM, pupil, MovementKind.PERMANENT_EXCLUSION, date(2025, 10, 1), area["school"], reason="Assault"
    )
    return pupil


LINES = """plan,year,place_type,provider_ref,commissioned,unit_cost
{rows}"""


def lines_csv() -> bytes:
    rows = []
    for year in ("2025-26", "2026-27", "2027-28"):
        rows += [
            f"AP budget,{year},time_limited,873400,2,18000",
            f"AP budget,{year},outreach,873400,400,55",
            f"AP budget,{year},time_limited,873401,2,19500",
            f"AP budget,{year},time_limited,873402,3,19000",
            f"AP budget,{year},transitional,873403,1,24000",
            f"AP budget,{year},time_limited,UNREG-1,1,9000",
            f"AP budget,{year},time_limited,UNREG-2,0.5,6000",
            f"AP budget,{year},reserve,,60000,",
        ]
    return LINES.format(rows="\n".join(rows)).encode()


def test_a_commissioner_enters_agrees_and_follows_a_three_year_plan(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    sign_in(client, area["commissioner"].email)
    assert "No budget plan has been recorded yet." in text(page(client.get("/budgets/")))
    plan_form = {"name": "AP budget", "first_year": "2025", "demand_policy": "Growth is met from the reserve"}
    soup = page(post(client, "/budgets/new", {**plan_form, "years": "2"}))
    assert errors(soup) == [
        "A budget plan spans at least 3 financial years: the local partnership agrees a multi-year budget "
        "(SEND and AP green paper, chapter 4)"
    ]
    assert db.scalar(select(func.count()).select_from(BudgetPlan)) == 0
    response = post(client, "/budgets/new", {**plan_form, "years": "3"})
    assert response.status_code == 302
    plan_url = response.headers["Location"]
    assert db.scalar(select(func.count()).select_from(BudgetPlan)) == 1
    # One line on the page; an agreement before the plan is whole is refused, year by year.
    response = post(
        client,
        f"{plan_url}/lines",
        {
            "year": "2025",
            "place_type": "transitional",
            "provider": str(area["pru"].id),
            "commissioned": "3",
            "unit_cost": "21000",
        },
    )
    assert response.status_code == 302
    soup = page(post(client, f"{plan_url}/agree", {}))
    assert errors(soup) == [
        "2025-26 has no reserve for changes in demand",
        "2026-27 has no commissioned places",
        "2026-27 has no reserve for changes in demand",
        "2027-28 has no commissioned places",
        "2027-28 has no reserve for changes in demand",
    ]
    # The rest from a file, as an LA's finance team would keep it.
    report = run_import(db, SYSTEM, "budget-lines", io.BytesIO(lines_csv()), la=area["la"])
    db.commit()
    assert report.imported == 24
    assert response.status_code == 302
    assert post(client, f"{plan_url}/agree", {}).status_code == 302

    # Use: a pupil full time at The Oaks from 3 to 21 November 2025 (15 school days).
    pupil = excluded(db, area)
    placement = factories.placement(
        db,
        pupil,
        area["pru"],
        start=date(2025, 11, 3),
        tier=Tier.TIME_LIMITED,
        route=Route.LA_EXCLUSION,
        registration=Registration.DUAL,
    )
    end_placement(db, SYSTEM, placement, end_date=date(2025, 11, 21), destination=Destination.NEW_MAINSTREAM_SCHOOL)
    db.commit()
    soup = page(client.get(f"{plan_url}?year=2025"))
    row = next(
        r for r in soup.select("table.app-budget tr") if "The Oaks" in r.get_text() and "Time-limited" in r.get_text()
    )
    cells = [" ".join(c.get_text(" ", strip=True).split()) for c in row.select("th, td")]
    # 2 places × 192 school days in 2025-26 = 384 place-days; 15 used, 4% of them.
    assert cells[:7] == [
        "The Oaks",
        "Time-limited places",
        "2",
        "£18,000",
        "£36,000",
        "15 of 384 place-days (4%)",
        "15 (4%)",
    ]
    years = [" ".join(r.get_text(" ", strip=True).split()) for r in soup.select("table")[0].select("tbody tr")]
    # 2025-26: 2×18,000 + 3×21,000 + 400×55 + 2×19,500 + 3×19,000 + 24,000 + 9,000 + 0.5×6,000 = 253,000.
    assert years[0] == "2025-26 £253,000 £60,000 £0 £60,000 192 (192)"

    # A variation needs its reason; with one, the reserve pays for it.
    line = db.scalar(
        select(BudgetLine).where(
            BudgetLine.year == 2025, BudgetLine.provider_id == area["pru"].id, BudgetLine.place_type == "time_limited"
        )
    )
    assert line is not None
    vary_url = f"{plan_url}/lines/{line.id}/vary"
    soup = page(post(client, vary_url, {"change": "1", "reason": ""}))
    assert errors(soup) == ["A variation needs its reason: how demand changed, and why this line"]
    assert db.scalar(select(func.count()).select_from(BudgetVariation)) == 0
    assert post(client, vary_url, {"change": "1", "reason": "Exclusions up a third this autumn"}).status_code == 302
    soup = page(client.get(f"{plan_url}?year=2025"))
    assert "Exclusions up a third this autumn" in text(soup)
    years = [" ".join(r.get_text(" ", strip=True).split()) for r in soup.select("table")[0].select("tbody tr")]
    assert years[0] == "2025-26 £271,000 £60,000 £18,000 £42,000 192 (192)"

    # The workbook holds the plan, its use and the reserve, with the same numbers.
    response = client.get(f"{plan_url}/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[0] == "Plan" and "Reserve" in book.sheetnames
    plan_rows = list(book["Plan"].iter_rows(values_only=True))
    providers = {r[1] for r in plan_rows[1:] if r[3] != "Reserve"}
    assert len(providers) == 6
    # Made to be read: worded headers kept in view, money in pounds, columns wide enough.
    assert plan_rows[0][:4] == ("Financial year", "Provider", "Provider reference", "Place type")
    assert book["Plan"].freeze_panes == "A2" and book["Plan"].column_dimensions["B"].width > 10
    assert book["Plan"]["H2"].number_format == "£#,##0.00"
    reserve = {r[0]: r for r in book["Reserve"].iter_rows(values_only=True)}
    assert Decimal(str(reserve["2025-26"][-1])) == Decimal(42000)
    use = list(book.worksheets[1].iter_rows(values_only=True))
    oaks = next(r for r in use if r[1] == "The Oaks" and r[0] == "2025-26" and r[2] == "Time-limited places")
    assert Decimal(str(oaks[5])) == Decimal(15) and Decimal(str(oaks[4])) == Decimal(3 * 192)


def test_a_provider_sees_its_own_places_and_nothing_of_the_others(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    from ap_register.budgets.rules import agree_plan, create_plan
    from ap_register.domain.actors import Actor

    commissioner = Actor(user=area["commissioner"], via="test")
    this_year = clock.today().year if clock.today().month >= 4 else clock.today().year - 1
    plan = create_plan(
        db, commissioner, area["la"], name="AP budget", first_year=this_year - 1, years=3, demand_policy="Reserve"
    )
    csv = lines_csv().decode()
    for old, new in (("2025-26", this_year - 1), ("2026-27", this_year), ("2027-28", this_year + 1)):
        csv = csv.replace(old, str(new))
    run_import(db, SYSTEM, "budget-lines", io.BytesIO(csv.encode()), la=area["la"])
    agree_plan(db, commissioner, plan)
    # One pupil full time at The Oaks from 2 November 2026: in use from December's first day.
    factories.placement(db, excluded(db, area), area["pru"], start=date(2026, 11, 2), tier=Tier.TIME_LIMITED)
    db.commit()
    sign_in(client, area["head"].email)
    response = client.get("/budgets/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/budgets/providers/{area['pru'].id}")
    soup = page(client.get(response.headers["Location"]))
    shown = text(soup)
    assert "Time-limited places" in shown and "Outreach (hours)" in shown
    assert "£18,000" in shown and "£19,500" not in shown and "Riverbank" not in shown
    # Its places over the year, month by month, as a chart with the table beside it.
    table = soup.find("caption", string="Time-limited places in use by month").find_parent("table")
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in table.select("tbody tr")]
    assert rows[0] == ["1 April 2026", "0", "2"] and rows[-2:] == [
        ["1 December 2026", "1", "2"],
        ["4 December 2026", "1", "2"],
    ]
    assert soup.select_one("svg[role=img][aria-label^='Time-limited places in use on the first of each month']")
    assert client.get(f"/budgets/{plan.id}").status_code in (403, 404)
    assert client.get(f"/budgets/{plan.id}/export.xlsx").status_code in (403, 404)
    assert client.get(f"/budgets/providers/{area['academy'].id}").status_code == 404


def test_a_booking_with_no_free_place_goes_through_as_a_spot_purchase(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    from ap_register.budgets.rules import agree_plan, create_plan
    from ap_register.domain.actors import Actor

    commissioner = Actor(user=area["commissioner"], via="test")
    plan = create_plan(db, commissioner, area["la"], name="AP budget", first_year=2025, years=3, demand_policy="x")
    run_import(db, SYSTEM, "budget-lines", io.BytesIO(lines_csv()), la=area["la"])
    agree_plan(db, commissioner, plan)
    for _ in range(2):  # both of The Oaks' time-limited places in use
        factories.placement(
            db,
            excluded(db, area),
            area["pru"],
            start=date(2025, 11, 3),
            tier=Tier.TIME_LIMITED,
            route=Route.LA_EXCLUSION,
            registration=Registration.DUAL,
        )
    third = excluded(db, area)
    db.commit()
    sign_in(client, area["admin"].email)
    response = post(
        client, f"/pupils/{third.id}/placements/new", {"route": "la_exclusion", "setting": str(area["pru"].id)}
    )
    details_url = response.headers["Location"]
    answers = {
        "registration": "dual",
        "tier": "time_limited",
        **date_fields("start_date", date(2025, 11, 10)),
        **date_fields("planned_end_date", date(2026, 2, 13)),
        "reintegration_plan": "A new mainstream school after February half term",
        "reason": "Permanently excluded: the sixth-day duty",
        "sessions": [
            "Mon AM",
            "Mon PM",
            "Tue AM",
            "Tue PM",
            "Wed AM",
            "Wed PM",
            "Thu AM",
            "Thu PM",
            "Fri AM",
            "Fri PM",
        ],
    }
    soup = page(post(client, details_url, answers))
    assert errors(soup) == [
        "No free commissioned time-limited place at The Oaks on 10 November 2025 (2 of 2 in use): "
        "book it as a spot purchase, with its agreed cost"
    ]
    soup = page(post(client, details_url, {**answers, "spot_purchase": "y"}))
    assert errors(soup) == [
        "Enter the agreed cost of the spot purchase, from £1 to £1,000,000",
        "Say why the placement is paid outside the plan",
    ]
    response = post(
        client,
        details_url,
        {**answers, "spot_purchase": "y", "agreed_cost": "7500", "spot_reason": "The only place before the sixth day"},
    )
    assert response.status_code == 302
    check_url = response.headers["Location"]
    assert "Paid outside the plan £7,500.00: The only place before the sixth day" in text(page(client.get(check_url)))
    assert post(client, check_url, {}).status_code == 302
    placement = db.scalars(select(Placement).where(Placement.pupil_id == third.id)).one()
    assert placement.spot_purchase and placement.agreed_cost == Decimal("7500.00")
    shown = text(page(client.get(f"/placements/{placement.id}")))
    assert "Paid outside the budget plan £7,500.00: The only place before the sixth day" in shown
    sign_in(client, area["commissioner"].email)
    soup = page(client.get(f"/budgets/{plan.id}?year=2025"))
    assert "At The Oaks 10 November 2025 £7,500.00 The only place before the sixth day" in text(soup)
    years = [" ".join(r.get_text(" ", strip=True).split()) for r in soup.select("table")[0].select("tbody tr")]
    assert years[0].endswith("£60,000 £7,500 £52,500 192 (192)")
