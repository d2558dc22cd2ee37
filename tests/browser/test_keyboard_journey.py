"""Main jobs by keyboard alone: the attendance officer (the skip link, signing in, finding a pupil,
the coverage week with a filter), an AP head logging an outreach session, a school lead
referring a pupil and the panel's chair deciding the case, and a commissioner sorting the
providers' outcomes. Every step is reached with Tab and done with Enter, arrows or
typing, with the focus visible at every stop."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register import clock
from ap_register.devdata.demo import DEMO_PASSWORD
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
# Where the focus is after a Tab: the focused element, or the page itself once Tab has gone past
# its last stop (the next Tab comes back to the first).
FOCUS_STOP = ":focus, body:not(:has(:focus))"


def tab_to(page: Any, wanted: Any, limit: int = 60) -> dict[str, Any]:
    """Press Tab until the focused element is the wanted one; each focus stop must be visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        expect(page.locator(FOCUS_STOP)).to_have_count(1)
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


def press(page: Any, key: str) -> None:
    page.keyboard.press(key)


def sign_in_by_keyboard(page: Any, email: str) -> None:
    page.goto("/sign-in")
    tab_to(page, lambda f: f["id"] == "email")
    page.keyboard.type(email)
    tab_to(page, lambda f: f["id"] == "password")
    page.keyboard.type(DEMO_PASSWORD)
    enter_and_wait(page)
    expect(page.locator("header")).to_contain_text("Sign out", use_inner_text=True)


def test_the_attendance_officer_works_by_keyboard_alone(page: Any, axe: Any, demo: None) -> None:
    page.goto("/sign-in")
    skip = tab_to(page, lambda f: True, limit=1)
    assert skip["text"] == "Skip to main content"
    tab_to(page, lambda f: f["id"] == "email")
    page.keyboard.type("attendance@demo.example.org")
    tab_to(page, lambda f: f["id"] == "password")
    page.keyboard.type(DEMO_PASSWORD)
    enter_and_wait(page)
    expect(page.locator("header")).to_contain_text("Sign out", use_inner_text=True)

    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Find a pupil")
    enter_and_wait(page)
    tab_to(page, lambda f: f["id"] == "q")
    page.keyboard.type("Fletcher")
    enter_and_wait(page)
    tab_to(page, lambda f: f["tag"] == "a" and "Fletcher" in f["text"])
    enter_and_wait(page)
    expect(page.locator("h1")).to_have_text(re.compile(r"Jordan Fletcher|Fletcher"))
    axe.check(page)

    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Coverage")
    enter_and_wait(page)
    tab_to(page, lambda f: f["id"] == "flag")
    page.keyboard.press("ArrowDown")  # "Any flag raised"
    tab_to(page, lambda f: f["tag"] in ("button", "input") and f["text"] == "Show")
    enter_and_wait(page)
    expect(page).to_have_url(re.compile(r"flag=flagged"))
    axe.check(page)


def test_an_ap_head_logs_outreach_by_keyboard_alone(page: Any, axe: Any, demo: None) -> None:

    sign_in_by_keyboard(page, "ap.head@demo.example.org")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Outreach")
    enter_and_wait(page)
    # The first open engagement (its heading is a link).
    tab_to(page, lambda f: f["tag"] == "a" and re.fullmatch(r"/outreach/\d+", f["href"]) is not None)
    enter_and_wait(page)
    today = clock.today()
    for part, value in (("day", today.day), ("month", today.month), ("year", today.year)):
        tab_to(page, lambda f, part=part: f["id"] == f"session-held_on-{part}")
        page.keyboard.type(str(value))
    tab_to(page, lambda f: f["id"] == "session-minutes")
    page.keyboard.type("45")
    tab_to(page, lambda f: f["id"] == "session-staff")
    page.keyboard.type("Outreach teacher")
    enter_and_wait(page)
    expect(page.locator("main")).to_contain_text("Session logged", use_inner_text=True)
    axe.check(page)


def test_a_commissioner_sorts_the_outcomes_by_keyboard_alone(page: Any, axe: Any, demo: None) -> None:
    sign_in_by_keyboard(page, "commissioner@demo.example.org")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Outcomes")
    enter_and_wait(page)
    tab_to(page, lambda f: f["tag"] == "a" and f["text"].startswith("Attendance"))
    enter_and_wait(page)
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Attendance")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "The Oaks Pupil Referral Unit")
    enter_and_wait(page)
    expect(page.locator("h1")).to_have_text("Outcomes of The Oaks Pupil Referral Unit")
    axe.check(page)


def test_a_school_lead_refers_and_the_chair_decides_by_keyboard_alone(
    page: Any, axe: Any, live_app: Any, demo: None
) -> None:
    from sqlalchemy import select

    from ap_register.domain.calendar import calendar_for
    from ap_register.models import Meeting, Placement, Pupil, Referral, User

    with live_app.app_context():
        session = db.session
        lead = session.scalar(select(User).where(User.email == "school.lead@demo.example.org"))
        assert lead is not None and lead.setting is not None
        pupil = session.scalars(
            select(Pupil)
            .where(Pupil.home_school_id == lead.setting.id)
            .where(Pupil.id.not_in(select(Referral.pupil_id)), Pupil.id.not_in(select(Placement.pupil_id)))
            .order_by(Pupil.id)
        ).first()
        assert pupil is not None
        name, surname, listed = pupil.full_name, pupil.last_name, f"{pupil.last_name}, {pupil.first_name}"
        meeting = session.scalars(select(Meeting).order_by(Meeting.held_on.desc())).first()
        assert meeting is not None
        meeting_id, held_on = meeting.id, meeting.held_on
        starts = calendar_for(session, pupil.home_la).add_school_days(held_on, 5)
        db.session.remove()

    # The school lead finds the pupil and refers them for time-limited AP at the LA's PRU.
    sign_in_by_keyboard(page, "school.lead@demo.example.org")
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Find a pupil")
    enter_and_wait(page)
    tab_to(page, lambda f: f["id"] == "q")
    page.keyboard.type(surname)
    enter_and_wait(page)
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == listed)
    enter_and_wait(page)
    tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Refer to the panel")
    enter_and_wait(page)
    expect(page.locator("h1")).to_have_text("Refer to the panel")
    axe.check(page)
    tab_to(page, lambda f: f["id"] == "move")
    press(page, "Space")  # Time-limited alternative provision
    tab_to(page, lambda f: f["id"] == "route")
    page.keyboard.type("Off-site")
    tab_to(page, lambda f: f["id"] == "proposed_setting")
    page.keyboard.type("The Oaks")
    tab_to(page, lambda f: f["id"] == "reason_codes")
    press(page, "Space")  # Behaviour that has not improved with support
    tab_to(page, lambda f: f["id"] == "reasons")
    page.keyboard.type("Escalating incidents this term despite a pastoral support plan.")
    tab_to(page, lambda f: f["id"] == "support_1")
    page.keyboard.type("Pastoral support plan with weekly mentoring")
    for part, value in (("day", 8), ("month", 9), ("year", held_on.year - (held_on.month < 9))):
        tab_to(page, lambda f, part=part: f["id"] == f"support_1_started-{part}")
        page.keyboard.type(str(value))
    for field, text in (
        ("parent_views", "Supports a short placement."),
        ("pupil_views", "Willing to try it."),
        ("best_interest", "Six weeks at The Oaks, then back to school with a plan."),
    ):
        tab_to(page, lambda f, field=field: f["id"] == field)
        page.keyboard.type(text)
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Submit the referral")
    enter_and_wait(page)
    expect(page.locator("h1")).to_have_text("Referral to the panel")
    expect(page.locator("main")).to_contain_text("Not decided yet", use_inner_text=True)
    axe.check(page)
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Sign out")
    enter_and_wait(page)

    # The chair adds it to the next meeting's agenda and, on the day the panel meets, records its
    # approval (a decision is never recorded before the meeting).
    with clock.fixed(held_on):
        sign_in_by_keyboard(page, "panel.chair@demo.example.org")
        tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "Panels")
        enter_and_wait(page)
        tab_to(page, lambda f: f["tag"] == "a" and f["text"].endswith("Fair Access and Placement Panel"))
        enter_and_wait(page)
        tab_to(page, lambda f: f["href"] == f"/meetings/{meeting_id}")
        enter_and_wait(page)
        tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Add waiting referrals to the agenda")
        enter_and_wait(page)
        expect(page.locator("main")).to_contain_text("1 referral added to the agenda", use_inner_text=True)
        axe.check(page)
        tab_to(page, lambda f: f["tag"] == "a" and f["text"] == name)
        enter_and_wait(page)
        tab_to(page, lambda f: f["id"] == "decision-outcome")
        press(page, "Space")  # Approve
        expect(page.locator("#decision-outcome")).to_be_checked()
        tab_to(page, lambda f: f["id"] == "decision-reasons")
        page.keyboard.type("Support tried since September; the school and the family agree.")
        votes = page.locator("select[name^=vote-]").count()
        for _ in range(votes):
            tab_to(page, lambda f: f["tag"] == "select" and f["id"].startswith("vote-"))
            press(page, "ArrowDown")  # For
        for part, value in (("day", starts.day), ("month", starts.month), ("year", starts.year)):
            tab_to(page, lambda f, part=part: f["id"] == f"decision-start_date-{part}")
            page.keyboard.type(str(value))
        # Time-limited: planned to end after six weeks, with how Leo goes back.
        ends = starts + timedelta(weeks=6)
        for part, value in (("day", ends.day), ("month", ends.month), ("year", ends.year)):
            tab_to(page, lambda f, part=part: f["id"] == f"decision-planned_end_date-{part}")
            page.keyboard.type(str(value))
        tab_to(page, lambda f: f["id"] == "decision-reintegration_plan")
        page.keyboard.type("Mornings back at Hilgay from week four; full time after six weeks.")
        # An off-site direction: written notice to the parents, given on the day of the meeting.
        for part, value in (("day", held_on.day), ("month", held_on.month), ("year", held_on.year)):
            tab_to(page, lambda f, part=part: f["id"] == f"decision-notice_date-{part}")
            page.keyboard.type(str(value))
        tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Record the decision")
        enter_and_wait(page)
        expect(page.locator("main")).to_contain_text("Decision recorded: approve", use_inner_text=True)
        axe.check(page)
