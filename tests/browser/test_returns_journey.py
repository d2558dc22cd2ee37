"""The demo area in the browser: a commissioner fills the gaps in the census returns, the
attendance officer reads the register of children not in school and a provider's registers from
the morning's digest, and an LA administrator creates and revokes an API token."""

from __future__ import annotations

from typing import Any

import pytest

from ap_register.devdata.demo import DEMO_PASSWORD, load_demo
from ap_register.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(live_app: Any) -> None:
    with live_app.app_context():
        load_demo(db.session)
        db.session.commit()


def sign_in(page: Any, email: str) -> None:
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_commissioner_fills_the_gaps_before_census_day(page: Any, axe: Any, demo: None) -> None:
    sign_in(page, "commissioner@demo.example.org")
    page.get_by_role("link", name="Returns").click()
    axe.check(page)
    assert "1 gap to fill before census day" in page.inner_text("main")
    page.get_by_role("link", name="Record whether the health need is mental or physical").click()
    axe.check(page)
    page.get_by_role("button", name="Save").click()
    assert "Choose the reason the placement was commissioned" in page.inner_text(".govuk-error-summary")
    axe.check(page)
    page.get_by_label("Medical condition (mental health need)").check()
    page.get_by_role("button", name="Save").click()
    assert "No gaps: every line has every required item." in page.inner_text("main")

    page.get_by_label("Return", exact=True).select_option(label="School census: AP placements")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="Urban Beats Music Mentoring has no URN or UKPRN").first.click()
    axe.check(page)
    page.get_by_label("Other unregistered provider").check()
    page.get_by_role("button", name="Save").click()
    assert "Urban Beats Music Mentoring has no URN" not in page.inner_text("main")
    axe.check(page)


def test_the_attendance_officer_s_register_and_digest(page: Any, axe: Any, demo: None) -> None:
    sign_in(page, "attendance@demo.example.org")
    page.get_by_role("link", name="Returns").click()
    page.get_by_role("link", name="the register of children not in school").click()
    axe.check(page)
    assert "Greenfields Farm Project" in page.inner_text("table")
    page.get_by_role("link", name="Inbox").click()
    digest = page.get_by_role("link", name="The Oaks Pupil Referral Unit's registers for").first
    digest.click()
    axe.check(page)
    assert page.locator("h1").inner_text() == "Registers from providers"
    page.wait_for_load_state()  # count() does not wait for the new page
    assert page.locator("table tbody tr").count() > 5


def test_an_la_administrator_creates_and_revokes_an_api_token(page: Any, axe: Any, demo: None) -> None:
    sign_in(page, "la.admin@demo.example.org")
    page.get_by_role("link", name="Administration").first.click()
    page.get_by_role("link", name="API tokens").click()
    axe.check(page)
    page.get_by_role("button", name="Create a token").click()
    axe.check(page)
    page.get_by_role("button", name="Create token").click()
    assert "Enter a name that says which system uses this token" in page.inner_text(".govuk-error-summary")
    axe.check(page)
    page.get_by_label("Name").fill("Riverbank MIS nightly export")
    page.get_by_label("Role").select_option(label="AP head or outreach lead")
    page.get_by_label("Organisation").select_option(label="Riverbank Academy (AP academy)")
    page.get_by_role("button", name="Create token").click()
    axe.check(page)
    secret = page.locator("code.app-token").inner_text()
    assert secret.startswith("apr_")
    page.get_by_role("link", name="Back to API tokens").click()
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke the token").first.click()
    assert "no longer works" in page.inner_text(".govuk-notification-banner")
    axe.check(page)


def test_an_la_administrator_turns_on_two_step_sign_in(page: Any, axe: Any, demo: None) -> None:
    import time

    import pyotp

    sign_in(page, "la.admin@demo.example.org")
    page.goto("/account")
    axe.check(page)
    page.get_by_role("link", name="Set up two-step sign-in").click()
    axe.check(page)
    secret = page.locator("code.app-token").first.inner_text().replace(" ", "")
    page.get_by_role("button", name="Continue").click()
    assert "Enter the 6-digit code" in page.inner_text(".govuk-error-summary")
    axe.check(page)
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    assert "Two-step sign-in is on" in page.inner_text(".govuk-notification-banner")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "la.admin@demo.example.org")
    assert page.locator("h1").inner_text() == "Enter the code from your app"
    axe.check(page)
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    assert "Sign out" in page.inner_text("header")
