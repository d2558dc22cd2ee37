"""Main jobs by keyboard alone: the attendance officer (the skip link, signing in, finding a pupil,
the coverage week with a filter), an AP head logging an outreach session, and a commissioner
sorting the providers' outcomes. Every step is reached with Tab and done with Enter, arrows or
typing, with the focus visible at every stop."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ap_register.domain.demo import DEMO_PASSWORD, load_demo
from ap_register.extensions import db

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    href: el.getAttribute("href") || "",
    text: (el.innerText || el.value || "").trim().slice(0, 80),
    visible: style.outlineStyle !== "none" || style.boxShadow !== "none"
      || style.backgroundColor === "rgb(255, 221, 0)",
  };
}"""


@pytest.fixture(scope="module")
def demo(live_app: Any) -> None:
    with live_app.app_context():
        load_demo(db.session)
        db.session.commit()


def tab_to(page: Any, wanted: Any, limit: int = 60) -> dict[str, Any]:
    """Press Tab until the focused element is the wanted one; each focus stop must be visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        assert focused["visible"], f"focus on {focused} cannot be seen"
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached by Tab within {limit} presses")


def enter_and_wait(page: Any) -> None:
    """Enter on a link or in a form, and the next page loaded."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def sign_in_by_keyboard(page: Any, email: str) -> None:
    page.goto("/sign-in")
    tab_to(page, lambda f: f["id"] == "email")
    page.keyboard.type(email)
    tab_to(page, lambda f: f["id"] == "password")
    page.keyboard.type(DEMO_PASSWORD)
    enter_and_wait(page)
    assert "Sign out" in page.inner_text("header")


def test_the_attendance_officer_works_by_keyboard_alone(page: Any, axe: Any, demo: None) -> None:
    page.goto("/sign-in")
    skip = tab_to(page, lambda f: True, limit=1)
    assert skip["text"] == "Skip to main content"
    tab_to(page, lambda f: f["id"] == "email")
    page.keyboard.type("attendance@demo.example.org")
    tab_to(page, lambda f: f["id"] == "password")
    page.keyboard.type(DEMO_PASSWORD)
    enter_and_wait(page)
    assert "Sign out" in page.inner_text("header")

    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Find a pupil")
    enter_and_wait(page)
    tab_to(page, lambda f: f["id"] == "q")
    page.keyboard.type("Fletcher")
    enter_and_wait(page)
    tab_to(page, lambda f: f["tag"] == "a" and "Fletcher" in f["text"])
    enter_and_wait(page)
    assert "Jordan Fletcher" in page.locator("h1").inner_text() or "Fletcher" in page.locator("h1").inner_text()
    axe.check(page)

    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Coverage")
    enter_and_wait(page)
    tab_to(page, lambda f: f["id"] == "flag")
    page.keyboard.press("ArrowDown")  # "Any flag raised"
    tab_to(page, lambda f: f["tag"] in ("button", "input") and f["text"] == "Show")
    enter_and_wait(page)
    assert "flag=flagged" in page.url
    axe.check(page)


def test_an_ap_head_logs_outreach_by_keyboard_alone(page: Any, axe: Any, demo: None) -> None:
    from datetime import date

    sign_in_by_keyboard(page, "ap.head@demo.example.org")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Outreach")
    enter_and_wait(page)
    # The first open engagement (its heading is a link).
    tab_to(page, lambda f: f["tag"] == "a" and re.fullmatch(r"/outreach/\d+", f["href"]) is not None)
    enter_and_wait(page)
    today = date.today()
    for part, value in (("day", today.day), ("month", today.month), ("year", today.year)):
        tab_to(page, lambda f, part=part: f["id"] == f"session-held_on-{part}")
        page.keyboard.type(str(value))
    tab_to(page, lambda f: f["id"] == "session-minutes")
    page.keyboard.type("45")
    tab_to(page, lambda f: f["id"] == "session-staff")
    page.keyboard.type("Outreach teacher")
    enter_and_wait(page)
    assert "Session logged" in page.inner_text("main")
    axe.check(page)


def test_a_commissioner_sorts_the_outcomes_by_keyboard_alone(page: Any, axe: Any, demo: None) -> None:
    sign_in_by_keyboard(page, "commissioner@demo.example.org")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Outcomes")
    enter_and_wait(page)
    tab_to(page, lambda f: f["tag"] == "a" and f["text"].startswith("Attendance"))
    enter_and_wait(page)
    assert "Attendance" in page.locator("th[aria-sort=descending]").inner_text()
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "The Oaks Pupil Referral Unit")
    enter_and_wait(page)
    assert page.locator("h1").inner_text() == "Outcomes of The Oaks Pupil Referral Unit"
    axe.check(page)
