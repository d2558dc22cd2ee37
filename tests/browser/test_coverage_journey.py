"""The demo area in the browser: the attendance officer finds the children below full time and the
alerts on the statutory clocks, and acts on one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ap_register import clock
from ap_register.coverage.alerts import raise_alerts
from ap_register.coverage.rules import monday_of
from ap_register.devdata.demo import DEMO_LA_CODE, DEMO_PASSWORD
from ap_register.domain.calendar import calendar_for
from ap_register.extensions import db
from ap_register.models import LocalAuthority
from tests.conftest import copy_database

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(live_app: Any, demo_template: str) -> dict[str, Any]:
    copy_database(demo_template, live_app)
    with live_app.app_context():
        la = db.session.scalar(select(LocalAuthority).where(LocalAuthority.code == DEMO_LA_CODE))
        assert la is not None
        raise_alerts(db.session, la, clock.today())
        db.session.commit()
        anchor = calendar_for(db.session, la).last_school_day(clock.today())
        return {"week": monday_of(anchor)}


def sign_in(page: Any, email: str) -> None:
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Your work today")


def test_the_attendance_officer_s_week_and_alerts(page: Any, axe: Any, demo: dict[str, Any]) -> None:
    sign_in(page, "attendance@demo.example.org")
    week = demo["week"]
    page.get_by_role("link", name="Coverage", exact=True).click()
    page.fill("#week-day", str(week.day))
    page.fill("#week-month", str(week.month))
    page.fill("#week-year", str(week.year))
    page.get_by_label("Flag").select_option(label="Below full time")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile("flag=below_full_time"))
    axe.check(page)
    # At a desktop's width the page uses the screen's width: Monday to Friday without scrolling.
    sessions = page.get_by_role("region", name="Sessions of each pupil (scrolls sideways)")
    expect(sessions.get_by_role("columnheader", name="Fri PM")).to_be_visible()
    assert sessions.evaluate("el => el.scrollWidth <= el.clientWidth"), "the week scrolls sideways at 1280 px"
    row = page.locator("table.app-coverage tbody tr", has_text="Fletcher, Jordan")
    expect(row).to_contain_text("6 of 10 planned")
    cells = row.locator("td")  # the flags, then Monday AM to Friday PM
    for session in (5, 6, 9, 10):  # Wednesday and Friday
        expect(cells.nth(session)).to_have_text("None", use_inner_text=True)
    expect(cells.nth(7)).to_contain_text("Greenfields Farm Project")  # Thursday AM

    page.get_by_label("Flag").select_option(label="Overlapping bookings")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile("flag=overlap"))
    expect(page.locator("table")).to_contain_text(
        "Overlap: The Oaks Pupil Referral Unit and Urban Beats Music Mentoring"
    )
    axe.check(page)

    page.get_by_role("link", name="Alerts").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    axe.check(page)
    sixth_day = "No full-time provision from the sixth school day of a permanent exclusion"
    # Leo Hartley's: excluded three school days ago, nothing arranged for the sixth day yet.
    page.locator("tbody tr", has_text="Leo Hartley").get_by_role("link", name=sixth_day).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(sixth_day)
    expect(page.locator("main")).to_contain_text("Leo Hartley")
    expect(page.locator("main")).to_contain_text("The LA must provide full-time education from the sixth school day")
    axe.check(page)
    page.fill("#ack-note", "Tuition from Monday while a place at The Oaks is arranged")
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    expect(page.locator("main")).to_contain_text("Alert acknowledged")
    expect(page.locator("main")).to_contain_text("Tuition from Monday while a place at The Oaks is arranged")
    # Nothing is arranged yet: the register still finds it, so it cannot be resolved by hand.
    page.fill("#resolve-note", "Tuition from Monday while a place at The Oaks is arranged")
    page.get_by_role("button", name="Resolve the alert").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The register still finds this on")
    expect(page.locator("main")).to_contain_text("Acknowledged")
    axe.check(page)


def test_an_ap_head_takes_the_morning_register(page: Any, axe: Any, demo: dict[str, Any]) -> None:
    sign_in(page, "ap.head@demo.example.org")
    page.get_by_role("link", name="Registers", exact=True).click()
    week = demo["week"]
    page.fill("#day-day", str(week.day))
    page.fill("#day-month", str(week.month))
    page.fill("#day-year", str(week.year))
    page.get_by_label("Session", exact=True).select_option("AM")
    page.get_by_role("button", name="Open the register").click()
    expect(page).to_have_url(re.compile("half=AM"))
    expect(page.get_by_role("heading", level=2, name="The Oaks Pupil Referral Unit:")).to_have_text(
        f"The Oaks Pupil Referral Unit: {week.day} {week:%B %Y}, morning"
    )
    axe.check(page)
    selects = page.locator("select.app-code-select")
    expect(selects.first).to_be_visible()
    # The demo's Oaks has taken this register already: the head corrects the first mark to late.
    selects.first.select_option("L")
    page.get_by_role("button", name="Save the register", exact=True).click()
    expect(page.locator("main")).to_contain_text("Register saved: 1 mark recorded")
    axe.check(page)


def test_the_commissioner_follows_the_budget_and_the_ap_head_its_places(
    page: Any, axe: Any, demo: dict[str, Any]
) -> None:
    sign_in(page, "commissioner@demo.example.org")
    page.get_by_role("link", name="Budget", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget")
    axe.check(page)
    page.get_by_role("link", name="alternative provision budget").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("alternative provision budget")
    main = page.locator("main")
    expect(main).to_contain_text("Agreed")
    expect(main).to_contain_text("Over plan")
    row = page.locator("table.app-budget tr", has_text="Riverbank Academy").filter(has_text="Time-limited")
    expect(row).to_contain_text("Over plan")
    expect(page.locator("svg.app-bar").nth(9)).to_be_attached()  # ten bars at least
    expect(page.locator("table:has-text('paid outside the plan')")).to_contain_text("Horizon Independent School")
    axe.check(page)
    page.get_by_role("link", name="Vary The Oaks Pupil Referral Unit time-limited places").click()
    page.get_by_role("button", name="Record the variation").click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: Record a variation")))
    axe.check(page)
    page.fill("#change", "1")
    page.fill("#reason", "A rise in permanent exclusions this term")
    page.get_by_role("button", name="Record the variation").click()
    expect(page.locator("main")).to_contain_text("Variation recorded")
    expect(page.locator("main")).to_contain_text("A rise in permanent exclusions this term")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the plan and its use (XLSX)").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    sign_in(page, "ap.head@demo.example.org")
    page.get_by_role("link", name="Budget", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commissioned places and outreach")
    expect(page.locator("main")).to_contain_text("Outreach (hours)")
    expect(page.locator("main")).not_to_contain_text("Riverbank")
    axe.check(page)


def test_the_commissioner_compares_providers_on_the_five_outcomes(page: Any, axe: Any, demo: dict[str, Any]) -> None:
    sign_in(page, "commissioner@demo.example.org")
    page.get_by_role("link", name="Outcomes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Provider outcomes")
    expect(page.locator("figure.app-chart svg")).to_have_count(5)
    axe.check(page)
    page.locator("thead").get_by_role("link", name="English and maths").click()
    page.wait_for_url("**sort=english_maths**")
    page.wait_for_load_state()
    # Highest first (the LA's own row stays last).
    cells = page.locator("table.app-outcomes tbody tr td:nth-of-type(4) .app-figure").all_inner_texts()[:-1]
    values = [float(v.rstrip("%")) for v in cells if v.endswith("%")]
    assert values == sorted(values, reverse=True) and len(values) == 4
    axe.check(page)
    page.get_by_role("link", name="The Oaks Pupil Referral Unit").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes of The Oaks Pupil Referral Unit")
    axe.check(page)
    page.get_by_role("link", name="Pupils behind the reintegration figure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reintegration: the pupils behind the figure")
    expect(page.locator("main table tbody tr").nth(5)).to_be_attached()  # six pupils at least
    axe.check(page)
    page.goto("/outcomes/methodology")
    axe.check(page)
    page.goto("/outcomes/schools")
    expect(page.locator("table tbody tr").first).to_contain_text("Far above the LA")
    axe.check(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    sign_in(page, "ap.head@demo.example.org")
    page.get_by_role("link", name="Outcomes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes of The Oaks Pupil Referral Unit")
    axe.check(page)


def test_the_term_week_by_week(page: Any, axe: Any, demo: dict[str, Any]) -> None:
    """The demo's term so far as the daily checks counted it: a chart with the table beside it,
    each week leading to that week's coverage."""
    sign_in(page, "attendance@demo.example.org")
    page.get_by_role("link", name="Coverage", exact=True).click()
    page.get_by_role("link", name="coverage over the term").click()
    expect(page.locator("h1")).to_have_text("Coverage over the term")
    expect(page.get_by_role("img", name=re.compile("^Pupils below full time each week"))).to_be_visible()
    table = page.get_by_role("region", name="Coverage by week")
    expect(table.locator("tbody tr").first).to_be_visible()
    expect(table.locator("tbody tr").nth(3), "the demo's term has weeks behind it").to_be_attached()
    expect(table, "the demo counts every week of its term").not_to_contain_text("Not counted")
    axe.check(page)
    week = demo["week"]
    table.get_by_role("link", name=f"{week.day} {week:%B %Y}").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("Week beginning"))).to_be_visible()
