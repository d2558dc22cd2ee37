"""The sufficiency page: a commissioner reads demand against the places commissioned, month by
month, filters it, and finds the same table in the plan's workbook; others may not."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.vocab import Role, SettingKind, Tier
from tests import factories
from tests.pages import page, sign_in, text


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 2)])
    # Three pupils full time at The Oaks, one more each month from September 2025 (Mondays 8
    # September, 6 October and 3 November): by November, 3 in use against 2 commissioned.
    for start in (date(2025, 9, 8), date(2025, 10, 6), date(2025, 11, 3)):
        pupil = factories.pupil(db, la, school, date_of_birth=date(2011, 3, 1))
        factories.placement(db, pupil, pru, start=start, tier=Tier.TIME_LIMITED, notice_date=date(2025, 9, 1))
    other = factories.la(db, "873")
    made = {
        "la": la,
        "plan": plan,
        "commissioner": factories.user(db, Role.COMMISSIONER, la),
        "lead": factories.user(db, Role.SCHOOL_LEAD, school),
        "stranger": factories.user(db, Role.COMMISSIONER, other),
    }
    db.commit()
    return made


def month_row(soup: Any, label: str) -> list[str]:
    row = next(tr for tr in soup.select("#months tbody tr") if tr.th.get_text(strip=True).startswith(label))
    return [td.get_text(" ", strip=True) for td in row.select("td")]


def test_a_commissioner_reads_and_filters_demand_against_places(client: Any, db: Session, area: dict[str, Any]) -> None:
    url = f"/budgets/{area['plan'].id}/sufficiency"
    sign_in(client, area["commissioner"].email)
    with clock.fixed(date(2025, 12, 10)):
        plan_page = page(client.get(f"/budgets/{area['plan'].id}"))
        assert plan_page.select_one(f"a[href='{url}']").get_text(strip=True) == "Sufficiency of places"
        soup = page(client.get(url))
    # November: 20 school days, 3 pupils full time all month: 3 in use against 2 commissioned.
    assert month_row(soup, "November 2025") == ["0", "1", "0", "—", "3", "2", "150%", "— Short", "—"]
    # October: 18 school days (1 to 24 October); one pupil all of them, one from the 6th (15):
    # 33 place-days, 1.8 places in use on average.
    assert month_row(soup, "October 2025")[4:7] == ["1.8", "2", "90%"]
    # Not yet begun: only what is commissioned.
    assert month_row(soup, "March 2026")[:7] == ["—", "—", "—", "—", "—", "2", "—"]
    shown = text(soup)
    assert (
        "In November 2025, the area's pupils used 3 places on average. The plan's providers had 2 places "
        "commissioned, 150% full." in shown
    )
    assert "No forecast: it needs 6 complete months" in shown
    assert soup.select_one("svg[role=img][aria-label^='Places in use each month']")
    assert soup.select("svg rect.app-chart__bar--low")  # November, over the places
    # Filters: the district's own figures; a phase with none of these pupils; nonsense ignored.
    with clock.fixed(date(2025, 12, 10)):
        fenland = page(client.get(f"{url}?district=Fenland"))
        primary = page(client.get(f"{url}?phase=primary&tier=time_limited"))
        odd = page(client.get(f"{url}?district=Nowhere&lot=99999999999999999999999999999&phase=x&tier=y"))
        assert client.get(f"{url}?district=%00").status_code == 400  # a NUL byte, refused app-wide
    assert fenland.h2.get_text(strip=True) == "Fenland"
    assert "pupils of schools in Fenland used 3 places on average. The plan's providers in Fenland had 2" in text(
        fenland
    )
    assert month_row(fenland, "November 2025")[4:7] == ["3", "2", "150%"]
    assert month_row(primary, "November 2025")[4:6] == ["0", "2"]
    assert month_row(odd, "November 2025")[4:6] == ["3", "2"]
    assert "The whole area" in text(odd)
    # The workbook's Sufficiency sheet: the same month for the whole area.
    with clock.fixed(date(2025, 12, 10)):
        response = client.get(f"/budgets/{area['plan'].id}/export.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["Sufficiency"].iter_rows(values_only=True))
    header, november = rows[0], next(r for r in rows if r[0] == "2025-11")
    found = dict(zip(header, november, strict=True))
    assert len(rows) == 1 + 36
    assert (found["Places in use"], found["Places commissioned"], found["Short of places"]) == (3, 2, "Y")
    # And each district's, named in its first column.
    by_district = list(book["Sufficiency by district"].iter_rows(values_only=True))
    assert by_district[0][:2] == ("District", "Month")
    assert [r[:2] for r in by_district[1:] if r[1] == "2025-11"] == [("Fenland", "2025-11")]


def test_only_the_area_s_commissioners_see_it(client: Any, db: Session, area: dict[str, Any]) -> None:
    url = f"/budgets/{area['plan'].id}/sufficiency"
    sign_in(client, area["lead"].email)
    assert client.get(url).status_code == 403
    client.post("/sign-out")
    sign_in(client, area["stranger"].email)
    assert client.get(url).status_code == 404
