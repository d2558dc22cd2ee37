"""The sufficiency page as an outsider tried it: who may read it, another LA's names and
filters, odd query strings, and what the page says of a plan whose years are over."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.vocab import Role, SettingKind
from ap_register.models import Framework, FrameworkLot, LotApproval
from tests import factories
from tests.pages import page, sign_in, text


def lot_of(db: Session, la: Any, provider: Any, name: str) -> FrameworkLot:
    framework = Framework(
        la_id=la.id,
        name=f"{name} framework",
        kind="framework",
        starts_on=date(2025, 4, 1),
        ends_on=date(2029, 3, 31),
        grace_days=0,
    )
    db.add(framework)
    db.flush()
    lot = FrameworkLot(framework_id=framework.id, number=1, name=name, service="time_limited")
    db.add(lot)
    db.flush()
    db.add(
        LotApproval(
            lot_id=lot.id,
            provider_id=provider.id,
            status="approved",
            applied_on=date(2025, 4, 1),
            rate=100,
            rate_unit="day",
        )
    )
    db.flush()
    return lot


@pytest.fixture()
def two_areas(db: Session) -> dict[str, Any]:
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 2)])
    pupil = factories.pupil(db, la, school, date_of_birth=date(2011, 3, 1), first_name="Zebedee", last_name="Quill")
    factories.placement(db, pupil, pru, start=date(2025, 11, 3))
    lot_of(db, la, pru, "Own lot")
    # Another LA, with its own district, lot, plan and pupil.
    other = factories.la(db, "873")
    far_school = factories.setting(db, other, SettingKind.MAINSTREAM, name="Far High", district="Secretdale")
    far_pru = factories.setting(db, other, SettingKind.PRU, name="Far Centre", district="Secretdale")
    other_plan = factories.budget_plan(db, other, [(far_pru, "time_limited", 5)])
    far_pupil = factories.pupil(db, other, far_school, date_of_birth=date(2011, 3, 1), last_name="Farpupil")
    factories.placement(db, far_pupil, far_pru, start=date(2025, 11, 3))
    far_lot = lot_of(db, other, far_pru, "Hidden lot")
    made = {
        "plan": plan,
        "other_plan": other_plan,
        "far_lot": far_lot,
        "users": {role: factories.user(db, role, la) for role in (Role.COMMISSIONER, Role.LA_ADMIN, Role.PANEL_CHAIR)},
        "strangers": {
            role: factories.user(db, role, other) for role in (Role.COMMISSIONER, Role.LA_ADMIN, Role.PANEL_CHAIR)
        },
        "ap_head": factories.user(db, Role.AP_HEAD, pru),
        "attendance": factories.user(db, Role.ATTENDANCE_OFFICER, la),
    }
    db.commit()
    return made


def test_no_role_reads_another_area_s_plan_or_names(client: Any, db: Session, two_areas: dict[str, Any]) -> None:
    own = f"/budgets/{two_areas['plan'].id}/sufficiency"
    theirs = f"/budgets/{two_areas['other_plan'].id}/sufficiency"
    for user in two_areas["users"].values():
        sign_in(client, user.email)
        with clock.fixed(date(2025, 12, 10)):
            soup = page(client.get(own))
            assert client.get(theirs).status_code == 404
            assert client.get(f"/budgets/{two_areas['other_plan'].id}/export.xlsx").status_code == 404
            # Another LA's lot and district, chosen by hand, are ignored: the whole area's figures.
            chosen = page(client.get(f"{own}?lot={two_areas['far_lot'].id}&district=Secretdale"))
        shown = str(soup)
        assert "Secretdale" not in shown and "Hidden lot" not in shown and "Far Centre" not in shown
        assert "Zebedee" not in shown and "Quill" not in shown and "Farpupil" not in shown
        assert "The whole area" in text(chosen)
        client.post("/sign-out")
    for user in (two_areas["ap_head"], two_areas["attendance"]):
        sign_in(client, user.email)
        assert client.get(own).status_code in (403, 404)
        client.post("/sign-out")


ODD = [
    "?lot=-1",
    "?lot=0",
    "?lot=1.5",
    "?lot=1e3",
    "?lot=%EF%BC%91",  # a full-width digit one
    "?lot=" + "9" * 400,
    "?phase=primary&phase=secondary&phase=x",
    "?district=Fenland&district=Fenland&district=",
    "?district=%F0%9F%8F%AB%E2%80%AE",  # an emoji and a right-to-left override
    "?district=%C0%AF",  # not UTF-8
    "?tier=time_limited&tier=transitional",
    "?tier=TIME_LIMITED",
    "?district=" + "x" * 5000,
    "?submit=Show&csrf_token=nonsense",
    "?phase[]=primary",
]


@pytest.mark.parametrize("query", ODD)
def test_odd_query_strings_are_answered(client: Any, db: Session, two_areas: dict[str, Any], query: str) -> None:
    sign_in(client, two_areas["users"][Role.COMMISSIONER].email)
    with clock.fixed(date(2025, 12, 10)):
        response = client.get(f"/budgets/{two_areas['plan'].id}/sufficiency{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("plan_id", ["99999999999999999999", "9223372036854775808", "0"])
def test_a_plan_number_too_large_is_not_found(
    client: Any, db: Session, two_areas: dict[str, Any], plan_id: str
) -> None:
    sign_in(client, two_areas["users"][Role.COMMISSIONER].email)
    assert client.get(f"/budgets/{plan_id}/sufficiency").status_code == 404


def test_a_plan_whose_years_are_over_makes_no_claim_about_its_future(client: Any, db: Session) -> None:
    # A plan for 2022-23 to 2024-25, ended on 31 March 2025, read on Friday 4 December 2026, with
    # placements every month since December 2024: there is no month of the plan left to forecast.
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 2)], first_year=2022)
    for start in (date(2024, 12, 2), date(2025, 9, 8), date(2026, 1, 5), date(2026, 4, 13)):
        pupil = factories.pupil(db, la, school, on=date(2024, 9, 4), date_of_birth=date(2012, 3, 1))
        factories.placement(db, pupil, pru, start=start, notice_date=start.replace(day=1))
    commissioner = factories.user(db, Role.COMMISSIONER, la)
    db.commit()
    sign_in(client, commissioner.email)
    with clock.fixed(date(2026, 12, 4)):
        shown = text(page(client.get(f"/budgets/{plan.id}/sufficiency")))
    # Places in use rose from 1 to 4 (the first version, leaving out the placements that started
    # after the plan's last day, said they "held level"), and nothing is claimed of the plan's
    # future: it has none.
    assert "held level" not in shown and "places in use rose by" in shown
    assert "stays within the places commissioned to the end of the plan" not in shown
    assert "Every month of the plan is over, so nothing is forecast." in shown
