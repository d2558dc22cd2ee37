"""The ways a child's record reaches a new organisation, in the browser, each page checked with
axe-core: an LA asks another for a child who moved to it and the holding LA releases the record;
a provider offers outreach for a pupil by UPN and the school agrees."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db
from tests import factories
from tests.browser.conftest import choose
from tests.browser.test_journey import fill_date

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two_areas(live_app: Any) -> dict[str, Any]:
    with live_app.app_context():
        session = db.session
        north = factories.la(session, "855")
        south = factories.la(session, "856")
        school = factories.setting(session, south, SettingKind.MAINSTREAM, name="Harbour School")
        pru = factories.setting(session, south, SettingKind.PRU, name="Quayside Pupil Referral Unit")
        mover = factories.pupil(session, south, school, first_name="Jamie", last_name="Okafor")
        pupil = factories.pupil(session, south, school, first_name="Ellis", last_name="Brand")
        people = {
            "north_admin": factories.user(session, Role.LA_ADMIN, north, email="admin@north.example.org").email,
            "south_admin": factories.user(session, Role.LA_ADMIN, south, email="admin@south.example.org").email,
            "lead": factories.user(session, Role.SCHOOL_LEAD, school, email="lead@harbour.example.org").email,
            "head": factories.user(session, Role.AP_HEAD, pru, email="head@quayside.example.org").email,
        }
        session.commit()
        return {**people, "mover_upn": mover.upn, "mover_dob": mover.date_of_birth, "pupil_upn": pupil.upn}


def sign_in(page: Any, email: str) -> None:
    """Sign out whoever is signed in, as a person would (the button), then sign in as `email`."""
    sign_out = page.get_by_role("button", name="Sign out")
    if sign_out.count():
        sign_out.click()
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_child_s_record_is_asked_for_and_released(page: Any, axe: Any, two_areas: dict[str, Any]) -> None:
    sign_in(page, two_areas["north_admin"])
    page.goto("/admin/transfers")
    axe.check(page)
    page.get_by_role("button", name="Ask for the record").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the child's UPN")
    expect(page).to_have_title(re.compile("^" + re.escape("Error: ")))
    axe.check(page)
    page.fill("#upn", two_areas["mover_upn"])
    fill_date(page, "date_of_birth", two_areas["mover_dob"])
    page.fill("#reason", "The family moved to our area on 3 November")
    page.get_by_role("button", name="Ask for the record").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your request is recorded")
    expect(page.locator("main")).not_to_contain_text("Okafor")
    axe.check(page)
    page.get_by_role("link", name=two_areas["mover_upn"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A request for a child's record")
    axe.check(page)

    sign_in(page, two_areas["south_admin"])
    page.goto("/admin/transfers")
    page.get_by_role("link", name=two_areas["mover_upn"]).click()
    expect(page.locator("main")).to_contain_text("Jamie Okafor")
    axe.check(page)
    page.get_by_role("button", name="Decline").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why")
    axe.check(page)
    page.get_by_role("button", name="Release the record").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The record was released")

    sign_in(page, two_areas["north_admin"])
    page.goto(f"/pupils?q={two_areas['mover_upn']}")
    expect(page.locator("main")).to_contain_text("Okafor")


def test_a_provider_offers_outreach_and_the_school_agrees(page: Any, axe: Any, two_areas: dict[str, Any]) -> None:
    sign_in(page, two_areas["head"])
    page.goto("/outreach/new")
    axe.check(page)
    choose(page, "School", "Harbour School (Mainstream school)")
    page.get_by_label("One-to-one work").check()
    page.fill("#upn", two_areas["pupil_upn"])
    fill_date(page, "started_on", date(2025, 11, 3))
    page.get_by_role("button", name="Start the engagement").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Offer sent to Harbour School")
    expect(page.locator("main")).not_to_contain_text("Brand")
    axe.check(page)

    sign_in(page, two_areas["lead"])
    page.goto("/outreach/")
    axe.check(page)
    page.get_by_role("link", name=f"One-to-one work for UPN {two_areas['pupil_upn']}").click()
    expect(page.locator("main")).to_contain_text("Ellis Brand")
    axe.check(page)
    page.get_by_role("button", name="Agree: start the engagement").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Agreed")
    axe.check(page)
