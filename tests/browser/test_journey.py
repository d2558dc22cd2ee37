"""A school lead signs in, records an off-site direction and sees it on the pupil's timeline."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register import clock
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db
from ap_register.models import CaseAssignment, CaseNote, Contact
from tests import factories
from tests.browser.conftest import choose, fill_date

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def people(live_app: Any) -> dict[str, Any]:
    with live_app.app_context():
        session = db.session
        la = factories.la(session, "855")
        school = factories.setting(session, la, SettingKind.MAINSTREAM, name="Meadow High School")
        factories.setting(session, la, SettingKind.PRU, name="Riverside Pupil Referral Unit")
        child = factories.pupil(session, la, school, first_name="Sam", last_name="Taylor")
        lead = factories.user(session, Role.SCHOOL_LEAD, school, email="lead@meadow.example.org")
        session.commit()
        return {"pupil_upn": child.upn, "email": lead.email}


def test_recording_an_off_site_direction(page: Any, axe: Any, people: dict[str, Any]) -> None:
    page.goto("/")
    axe.check(page)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    axe.check(page)
    page.fill("#email", people["email"])
    page.fill("#password", "wrong password entirely")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: Sign in")))
    axe.check(page)
    page.fill("#password", factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your work today")
    axe.check(page)

    page.get_by_role("link", name="Find a pupil").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a pupil")
    # The pupil search: a few letters of the name suggest the child; choosing puts their UPN in.
    search = page.get_by_role("combobox", name="UPN or name")
    search.press_sequentially("Tayl")
    page.get_by_role("option").filter(has_text="Sam Taylor").click()
    expect(search).to_have_value(people["pupil_upn"])
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Taylor, Sam")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="Taylor, Sam").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sam Taylor")
    axe.check(page)

    page.get_by_role("button", name="Record a placement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How is this placement arranged?")
    axe.check(page)
    page.get_by_label("Off-site direction (s29A Education Act 2002)").check()
    choose(page, "Where will the pupil be educated?", "Riverside Pupil Referral Unit (Pupil referral unit)")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Placement details")

    # Details: submitted with the notice missing, the GOV.UK error summary says so.
    start = clock.today() + timedelta(days=21)
    page.get_by_label("Dual registered").check()
    page.get_by_label("Time-limited placement").check()
    fill_date(page, "start_date", start)
    for label in ("Wed AM", "Wed PM", "Thu AM", "Thu PM", "Fri AM", "Fri PM"):
        page.get_by_label(label, exact=True).uncheck()
    page.fill("#reason", "Mentoring and a report card were tried for a term; a short time off-site to reset.")
    fill_date(page, "planned_end_date", start + timedelta(days=42))
    page.fill("#reintegration_plan", "Back to Meadow High for two days a week after three weeks, full time after six.")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: Placement details")))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the date written notice was given to the parents"
    )
    axe.check(page)
    fill_date(page, "notice_date", start - timedelta(days=7))
    page.fill("#notice_address", "Riverside Pupil Referral Unit, 1 Mill Lane")
    page.fill("#notice_report_to", "Ms A Khan, head of centre")
    page.fill("#notice_session_times", "9am to 12pm and 12:45pm to 3pm")
    page.fill("#notice_reasons", "To reset after repeated disruption, and return to Meadow High within six weeks.")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check the placement before recording it")
    expect(page.locator("main")).to_contain_text("4 sessions: Mon AM, Mon PM, Tue AM, Tue PM")
    expect(page.locator("main")).to_contain_text("D: dual registered at another school")
    axe.check(page)
    page.get_by_role("button", name="Record the placement").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Placement recorded")
    axe.check(page)

    page.get_by_role("link", name="Back to Sam Taylor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sam Taylor")
    timeline = page.locator(".app-timeline")
    expect(timeline).to_contain_text("Placement recorded: Riverside Pupil Referral Unit")
    expect(timeline).to_contain_text("Off-site direction (s29A Education Act 2002), 4 sessions a week")
    axe.check(page)
    assert len(axe.checked) == 11


@pytest.fixture(scope="module")
def officer(live_app: Any, people: dict[str, Any]) -> dict[str, Any]:
    with live_app.app_context():
        session = db.session
        la = factories.la(session, "855")
        farm = factories.setting(session, la, SettingKind.UNREGISTERED_AP, name="Hillside Farm Project")
        school = factories.setting(session, la, SettingKind.MAINSTREAM, name="Castle Academy")
        pru = factories.setting(session, la, SettingKind.PRU, name="Brook Pupil Referral Unit")
        child = factories.pupil(session, la, school, first_name="Alex", last_name="Moore")
        placement = factories.placement(session, child, pru)
        admin = factories.user(session, Role.LA_ADMIN, la, email="admin@la.example.org")
        # A caseload: the administrator follows the child; a colleague who left holds another's case.
        leaver = factories.user(session, Role.ATTENDANCE_OFFICER, la)
        other = factories.pupil(session, la, school, first_name="Sam", last_name="Reid")
        session.add_all(
            [CaseAssignment(pupil_id=child.id, user_id=admin.id), CaseAssignment(pupil_id=other.id, user_id=leaver.id)]
        )
        leaver.active = False
        note = CaseNote(
            pupil_id=child.id,
            happened_on=date(2026, 12, 1),
            category="family",
            text="Phoned home.\nMum agreed the timetable.",
            audience="la",
            author_name=admin.name,
            author_organisation=la.name,
        )
        session.add(note)
        # The people around the child: a mother, and a father under a court order of no contact.
        mum = Contact(
            pupil_id=child.id,
            role="parent_carer",
            name="Jo Bell",
            relation="mother",
            parental_responsibility=True,
            lives_with=True,
            phone="07700 900123",
            contact_by="phone",
        )
        dad = Contact(
            pupil_id=child.id,
            role="parent_carer",
            name="Lee Bell",
            relation="father",
            phone="07700 900456",
            restriction="No contact: a court order of 3 March 2026",
        )
        session.add_all([mum, dad])
        session.commit()
        return {
            "contact_id": dad.id,
            "email": admin.email,
            "farm_id": farm.id,
            "pupil_id": child.id,
            "placement_id": placement.id,
            "leaver_id": leaver.id,
            "note_id": note.id,
        }


def test_every_other_page_an_la_admin_uses_is_accessible(page: Any, axe: Any, officer: dict[str, Any]) -> None:
    page.goto("/sign-in")
    page.fill("#email", officer["email"])
    page.fill("#password", factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your work today")
    for path in (
        "/placements",
        "/placements?status=active&active_from=2025&route=off_site_direction",
        "/settings",
        f"/settings/{officer['farm_id']}",
        f"/settings/{officer['farm_id']}/oversight",
        f"/settings/{officer['farm_id']}/kind",
        "/admin/",
        "/admin/users",
        "/admin/users/new",
        "/admin/term-dates",
        "/admin/panel-rules",
        "/inbox",
        "/panels",
        "/panels/fair-share",
        "/referrals",
        "/attendance",
        "/admin/thresholds",
        "/admin/imports",
        "/budgets/",
        "/cases",
        f"/pupils/{officer['pupil_id']}/caseworker",
        f"/admin/users/{officer['leaver_id']}",
        f"/admin/users/{officer['leaver_id']}/hand-over",
        f"/pupils/{officer['pupil_id']}",
        f"/pupils/{officer['pupil_id']}/notes/new",
        f"/pupils/{officer['pupil_id']}/notes/{officer['note_id']}/correct",
        f"/pupils/{officer['pupil_id']}/contacts/new",
        f"/pupils/{officer['pupil_id']}/contacts/new/parent_carer",
        f"/pupils/{officer['pupil_id']}/contacts/new/key_worker",
        f"/pupils/{officer['pupil_id']}/contacts/{officer['contact_id']}",
        f"/pupils/{officer['pupil_id']}/contacts/{officer['contact_id']}/remove",
        f"/pupils/{officer['pupil_id']}/sent-home",
        f"/pupils/{officer['pupil_id']}/chronology",
        f"/pupils/{officer['pupil_id']}/chronology?kind=note&kind=movement",
        "/admin/absence-follow-up",
        "/accessibility",
        "/cookies",
        "/privacy",
    ):
        page.goto(path)
        axe.check(page)
    # The page-not-found page, on purpose: its 404 is the one error the browser may report.
    response = page.goto("/pupils/99999")
    assert response.status == 404
    axe.check(page)
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 404 (NOT FOUND)"]
    page.console_errors.clear()
    # A form with errors, and an import refused line by line.
    page.goto(f"/settings/{officer['farm_id']}/oversight")
    page.get_by_role("button", name="Save the oversight record").click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: ")))
    axe.check(page)
    page.goto(f"/pupils/{officer['pupil_id']}/notes/new")
    page.get_by_role("button", name="Keep the note").click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: ")))
    axe.check(page)
    page.goto(f"/pupils/{officer['pupil_id']}/contacts/new/parent_carer")
    page.get_by_label("Phone number").fill("ring me")
    page.get_by_role("button", name="Save the contact").click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: ")))
    axe.check(page)
    page.goto(f"/admin/users/{officer['leaver_id']}/hand-over")
    page.get_by_role("button", name="Hand them over").click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: ")))
    axe.check(page)
    page.goto("/admin/imports")
    page.get_by_label("Pupils").check()
    page.set_input_files(
        "#file",
        files=[
            {
                "name": "pupils.csv",
                "mimeType": "text/csv",
                "buffer": b"upn,first_name,last_name,date_of_birth,home_la_code\nBAD,A,B,2012-01-01,855\n",
            }
        ],
    )
    page.get_by_role("button", name="Import").click()
    # The page's script sends the file and puts the result in place of the form.
    expect(page.get_by_role("heading", level=1)).to_have_text("The file was not imported")
    expect(page).to_have_title(re.compile("The file was not imported"))
    axe.check(page)
    # A large file checked first: the result, with what it would change, in place of the form.
    header = "upn,first_name,last_name,date_of_birth,home_la_code\n"
    rows = "".join(f"{make_upn(f'8557{n:08d}')},Sam,Taylor,2012-03-14,855\n" for n in range(2000))
    page.goto(f"/admin/users/{officer['leaver_id']}/hand-over")
    page.get_by_role("button", name="Hand them over").click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: ")))
    axe.check(page)
    page.goto("/admin/imports")
    page.get_by_label("Pupils").check()
    page.set_input_files(
        "#file", files=[{"name": "pupils.csv", "mimeType": "text/csv", "buffer": (header + rows).encode()}]
    )
    page.evaluate("window.stayedOnThePage = true")
    page.get_by_role("button", name="Check the file only").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The file can be imported", timeout=30_000)
    expect(page.locator(".govuk-summary-list").first).to_contain_text("2000")
    assert page.evaluate("window.stayedOnThePage") is True  # the script's stream, not a new page
    axe.check(page)
    # A stream that ends in a failure: an error summary, announced and focused, and the buttons back.
    page.goto("/admin/imports")
    page.route(
        "**/admin/imports",
        lambda route: route.fulfill(
            status=200,
            content_type="application/x-ndjson",
            body='{"phase": "reading", "done": 10, "size": 20}\n{"error": "Nothing was changed: try again later."}\n',
        ),
    )
    page.get_by_label("Pupils").check()
    page.set_input_files("#file", files=[{"name": "p.csv", "mimeType": "text/csv", "buffer": header.encode()}])
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was changed: try again later.")
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.get_by_role("button", name="Import")).to_be_enabled()
    axe.check(page)
    page.unroute("**/admin/imports")
    # A budget plan: refused when shorter than three years, then a draft and its first line.
    page.goto("/budgets/new")
    page.fill("#name", "AP budget")
    page.fill("#years", "2")
    page.fill("#demand_policy", "Growth is met from the reserve")
    page.get_by_role("button", name="Create the plan").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("A budget plan spans at least 3 financial years")
    axe.check(page)
    page.fill("#years", "3")
    page.get_by_role("button", name="Create the plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AP budget")
    expect(page.locator("main")).to_contain_text("Draft")
    axe.check(page)
    page.get_by_role("link", name="Add a line").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a line to the plan")
    page.get_by_label("Time-limited places").check()
    choose(page, "Provider", "Brook Pupil Referral Unit (Pupil referral unit)")
    page.fill("#commissioned", "4")
    page.get_by_role("button", name="Save the line").click()
    expect(page).to_have_title(re.compile("^" + re.escape("Error: ")))
    axe.check(page)
    page.fill("#unit_cost", "18000")
    page.get_by_role("button", name="Save the line").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AP budget")
    expect(page.locator("main")).to_contain_text("Line saved")
    expect(page.locator("main")).to_contain_text("£72,000")
