"""Each role's home page in the demo area: real work on it, axe clean, fitting a phone and a
desktop without scrolling sideways, and worked by keyboard alone (every stop visibly focused,
the first piece of work opened with Enter)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register.devdata.demo import DEMO_PASSWORD, DEMO_USERS, EMAIL_DOMAIN
from tests.browser.conftest import sign_in
from tests.browser.test_keyboard_journey import FOCUSED

pytestmark = pytest.mark.browser

FITS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("local", [local for _, local, _, _ in DEMO_USERS])
def test_each_role_s_home_page_holds_its_day_s_work(page: Any, axe: Any, demo: None, local: str) -> None:
    sign_in(page, f"{local}@{EMAIL_DOMAIN}", DEMO_PASSWORD)
    cards = page.locator(".app-work")
    expect(cards.first).to_be_visible()
    # Real work: at least one card lists items, each leading somewhere or saying what it is.
    expect(page.locator(".app-work-list__item").first).to_be_visible()
    axe.check(page)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate(FITS), f"the home page scrolls sideways at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})

    # By keyboard alone: Tab from the top to the first piece of work, every stop visible, and Enter opens it.
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Your work today")
    first = page.locator(".app-work-list a").first
    if first.count() == 0:
        return  # a role whose cards list no links today (checked above that it lists work)
    target = first.get_attribute("href")
    for _ in range(80):
        page.keyboard.press("Tab")
        # Tab only moves the focus: the home page is still the one shown.
        expect(page.locator("h1")).to_have_text("Your work today")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        assert focused["visible"], f"focus on {focused} cannot be seen"
        if focused["tag"] == "a" and focused["href"] == target:
            break
    else:
        raise AssertionError("the first piece of work is not reached by Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(target) + "$"))
    expect(page.locator("h1")).to_be_visible()
    axe.check(page)
