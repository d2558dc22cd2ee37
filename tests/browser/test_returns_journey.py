"""The demo area in the browser: a commissioner fills the gaps in the census returns, the
attendance officer reads the register of children not in school and a provider's registers from
the morning's digest, and an LA administrator creates and revokes an API token."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register.devdata.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Any, email: str, heading: str = "Your work today") -> None:
    """Sign in through the page and wait for the page that follows (the home page, or the code)."""
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def test_a_commissioner_fills_the_gaps_before_census_day(page: Any, axe: Any, demo: None) -> None:
    sign_in(page, "commissioner@demo.example.org")
    page.get_by_role("link", name="Returns", exact=True).click()
    main = page.locator("main")
    health_gap = page.get_by_role("link", name="Record whether the health need is mental or physical")
    expect(main).to_contain_text("the file fails: errors must be put right")
    expect(page.get_by_role("link", name="XML for the DfE's collection system")).to_be_visible()
    axe.check(page)
    health_gap.click()
    expect(page.get_by_role("group", name="Why was the placement commissioned?")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the reason the placement was commissioned")
    axe.check(page)
    page.get_by_label("Medical condition (mental health need)").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Statutory returns")).to_be_visible()
    expect(health_gap).to_have_count(0)

    page.get_by_label("Return", exact=True).select_option(label="School census: AP placements")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=2, name="School census: AP placements")).to_be_visible()
    setting_gap = page.get_by_role("link", name="Urban Beats Music Mentoring has no URN or UKPRN")
    setting_gap.first.click()
    expect(page.get_by_role("group", name="What type of setting is it?")).to_be_visible()
    axe.check(page)
    page.get_by_label("Other unregistered provider").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Statutory returns")).to_be_visible()
    expect(setting_gap).to_have_count(0)
    axe.check(page)


def test_the_attendance_officer_s_register_and_digest(page: Any, axe: Any, demo: None) -> None:
    sign_in(page, "attendance@demo.example.org")
    page.get_by_role("link", name="Returns", exact=True).click()
    page.get_by_role("link", name="the register of children not in school").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Children not in school")
    axe.check(page)
    expect(page.locator("table").first).to_contain_text("Greenfields Farm Project")
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    digest = page.get_by_role("link", name="The Oaks Pupil Referral Unit's registers for").first
    digest.click()
    expect(page.locator("h1")).to_have_text("Registers from providers")
    axe.check(page)
    expect(page.locator("table tbody tr").nth(5)).to_be_visible()  # more than five lines


def test_an_la_administrator_creates_and_revokes_an_api_token(page: Any, axe: Any, demo: None) -> None:
    sign_in(page, "la.admin@demo.example.org")
    page.get_by_role("link", name="Administration").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    axe.check(page)
    page.get_by_role("button", name="Create a token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an API token")
    axe.check(page)
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a name that says which system uses this token")
    axe.check(page)
    page.get_by_label("Name").fill("Riverbank MIS nightly export")
    page.get_by_label("Role").select_option(label="AP head or outreach lead")
    page.get_by_label("Organisation").select_option(label="Riverbank Academy (AP academy)")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Token created")
    expect(page.locator("code.app-token")).to_contain_text("apr_")
    axe.check(page)
    secret = page.locator("code.app-token").inner_text()
    page.get_by_role("link", name="Back to API tokens").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(secret)
    page.get_by_role("button", name="Revoke the token").first.click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("no longer works")
    axe.check(page)


def test_an_la_administrator_turns_on_two_step_sign_in(page: Any, axe: Any, demo: None) -> None:
    import time

    import pyotp

    sign_in(page, "la.admin@demo.example.org")
    page.goto("/account")
    axe.check(page)
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    expect(page.locator("code.app-token").first).to_be_visible()
    axe.check(page)
    secret = page.locator("code.app-token").first.inner_text().replace(" ", "")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the 6-digit code")
    axe.check(page)
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Two-step sign-in is on")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    sign_in(page, "la.admin@demo.example.org", heading="Enter the code from your app")
    axe.check(page)
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("header")).to_contain_text("Sign out")
