"""A school lead refers a pupil; the panel's chair decides the case at a meeting; the approved
placement is on the pupil's timeline and in the week's coverage."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register.domain.actors import Actor
from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db
from ap_register.panels.rules import add_member, create_panel, schedule_meeting
from tests import factories
from tests.browser.conftest import choose, fill_date

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def panel_area(live_app: Any) -> dict[str, Any]:
    with live_app.app_context():
        session = db.session
        la = factories.la(session, "855", panels=True)
        school = factories.setting(session, la, SettingKind.MAINSTREAM, name="Meadow High School")
        factories.setting(session, la, SettingKind.MAINSTREAM, name="Castle Academy")
        pupil = factories.pupil(session, la, school, first_name="Kai", last_name="Turner", on=date(2025, 9, 3))
        lead = factories.user(session, Role.SCHOOL_LEAD, school, email="head@meadow.example.org")
        chair = factories.user(session, Role.PANEL_CHAIR, la, email="chair@la.example.org")
        member = factories.user(session, Role.PANEL_MEMBER, la, email="member@la.example.org")
        admin = Actor(user=factories.user(session, Role.LA_ADMIN, la), via="test")
        panel = create_panel(session, admin, la, "Fair Access and Placement Panel", quorum=2)
        add_member(session, admin, panel, chair, chair=True)
        add_member(session, admin, panel, member)
        meeting = schedule_meeting(session, admin, panel, date(2025, 11, 13), "County Hall")
        session.commit()
        return {
            "pupil_id": pupil.id,
            "upn": pupil.upn,
            "lead": lead.email,
            "chair": chair.email,
            "meeting_id": meeting.id,
        }


def sign_in(page: Any, email: str) -> None:
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your work today")


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_from_referral_to_decision_to_placement(page: Any, axe: Any, panel_area: dict[str, Any]) -> None:
    sign_in(page, panel_area["lead"])
    page.goto(f"/pupils/{panel_area['pupil_id']}")
    page.get_by_role("button", name="Refer to the panel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer to the panel")
    axe.check(page)
    page.get_by_label("Managed move", exact=True).check()
    page.get_by_label("Under which route would the placement be made?").select_option("managed_move")
    choose(page, "Which setting is proposed?", "Castle Academy (Mainstream school)")
    page.get_by_label("Behaviour that has not improved with support").check()
    page.fill("#reasons", "Repeated conflict with a group of peers; a fresh start is agreed by both schools.")
    page.fill("#support_1", "Restorative meetings with the pastoral lead")
    fill_date(page, "support_1_started", date(2025, 9, 15))
    page.fill("#parent_views", "Kai's mother asked for a managed move.")
    page.fill("#pupil_views", "Kai wants to go to Castle Academy with his cousin.")
    page.fill("#best_interest", "A fresh start in mainstream with family support nearby.")
    page.get_by_role("button", name="Submit the referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral to the panel")
    expect(page.locator("main")).to_contain_text("Not decided yet", use_inner_text=True)
    axe.check(page)
    sign_out(page)

    sign_in(page, panel_area["chair"])
    page.get_by_role("link", name="Panels").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Panels")
    axe.check(page)
    page.get_by_role("link", name="Fair Access and Placement Panel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fair Access and Placement Panel")
    axe.check(page)
    page.goto(f"/meetings/{panel_area['meeting_id']}")
    page.get_by_role("button", name="Add waiting referrals to the agenda").click()
    expect(page.locator("main")).to_contain_text("1 referral added to the agenda", use_inner_text=True)
    axe.check(page)
    page.get_by_role("link", name="Kai Turner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Case: Kai Turner")
    axe.check(page)
    page.get_by_label("Approve").check()
    page.fill("#decision-reasons", "Support tried since September; both schools and the family agree.")
    for select in page.locator("select[name^=vote-]").all():
        select.select_option("for")
    fill_date(page, "decision-start_date", date(2025, 11, 17))
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("main")).to_contain_text("Decision recorded: approve", use_inner_text=True)
    expect(page.locator("table")).to_contain_text("Approve", use_inner_text=True)
    axe.check(page)
    page.goto(f"/meetings/{panel_area['meeting_id']}/papers")
    axe.check(page)

    page.goto(f"/pupils/{panel_area['pupil_id']}")
    timeline = page.locator(".app-timeline")
    expect(timeline).to_contain_text("Placement recorded: Castle Academy", use_inner_text=True)
    expect(timeline).to_contain_text("Managed move", use_inner_text=True)
    axe.check(page)
    page.goto("/coverage?week=17&week=11&week=2025")
    row = page.locator("table.app-coverage tbody tr", has_text="Turner, Kai")
    # Every session of the week (each cell after the flags) is at Castle Academy.
    expect(row.locator("td:nth-of-type(n+2)")).to_have_text(["Castle Academy"] * 10, use_inner_text=True)
    axe.check(page)
