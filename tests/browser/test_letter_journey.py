"""A letter in the browser: the attendance officer writes the LA's letter about education from the
sixth day of a permanent exclusion from the child's page, checks it, gives the particulars the
register does not hold, downloads the PDF, records it as sent, and finds it kept on the
chronology; every page is axe clean."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register import clock
from ap_register.domain.vocab import MovementKind, Registration, Role, Route, SettingKind, Tier
from ap_register.extensions import db
from ap_register.models import Contact
from ap_register.placements.rules import record_roll_movement
from tests import factories
from tests.browser.conftest import sign_in
from tests.factories import SYSTEM

pytestmark = pytest.mark.browser

DAY = date(2025, 11, 3)  # a Monday in the tests' term: the education starts on Thursday


@pytest.fixture(scope="module")
def area(live_app: Any) -> dict[str, Any]:
    with live_app.app_context():
        session = db.session
        la = factories.la(session, "855")
        school = factories.setting(session, la, SettingKind.MAINSTREAM, name="Castle Academy")
        pru = factories.setting(session, la, SettingKind.PRU, name="Brook Pupil Referral Unit")
        child = factories.pupil(session, la, school, first_name="Alex", last_name="Moore", on=date(2025, 9, 3))
        record_roll_movement(
            session, SYSTEM, child, MovementKind.PERMANENT_EXCLUSION, date(2025, 10, 23), school,
            reason="Assault", today=date(2025, 10, 23),
        )  # fmt: skip
        factories.placement(
            session, child, pru, route=Route.LA_EXCLUSION, registration=Registration.DUAL, tier=Tier.TRANSITIONAL,
            start=date(2025, 11, 6),
        )  # fmt: skip
        session.add(
            Contact(pupil_id=child.id, role="parent_carer", name="Jo Moore", relation="mother",
                    parental_responsibility=True, lives_with=True, address="4 Castle Street, PE2 4CC",
                    email="jo.moore@example.org", contact_by="email")
        )  # fmt: skip
        officer = factories.user(session, Role.ATTENDANCE_OFFICER, la, email="attendance@la.example.org")
        session.commit()
        return {"officer": officer.email, "pupil": child.id}


def test_the_officer_writes_checks_downloads_and_keeps_the_sixth_day_letter(
    page: Any, axe: Any, area: dict[str, Any]
) -> None:
    with clock.fixed(DAY):
        sign_in(page, area["officer"], factories.PASSWORD)
        page.goto(f"/pupils/{area['pupil']}")
        page.get_by_role("button", name="Write a letter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Write a letter")
        axe.check(page)
        page.get_by_label("Education from the sixth day of a permanent exclusion").check()
        page.get_by_label("Jo Moore (mother)").check()
        page.get_by_role("button", name="Begin the letter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Education from the sixth day of a permanent exclusion"
        )
        letter = page.locator("#letter")
        expect(letter).to_contain_text("Alex Moore was permanently excluded from Castle Academy on 23 October 2025")
        expect(letter).to_contain_text("6 November 2025")
        axe.check(page)
        page.get_by_label("Address where the pupil is to attend").fill("12 Brook Lane, PE3 3BB")
        page.get_by_label("Start and finish times").fill("9:15am to 3pm, Monday to Friday")
        page.get_by_label("Who the pupil reports to on the first day").fill("Ms Patel at reception")
        page.get_by_role("button", name="Save the letter").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Letter saved")
        expect(letter).to_contain_text("Ms Patel at reception")
        with page.expect_download() as waiting:
            page.get_by_role("link", name="Download the letter (PDF)").click()
        assert waiting.value.suggested_filename.endswith("-sixth-day.pdf")
        page.get_by_label("By email").check()
        page.get_by_role("button", name="Record that it was sent").click()
        expect(page.locator(".govuk-inset-text")).to_contain_text("Sent 3 November 2025 (by email)")
        expect(page.get_by_role("button", name="Save the letter")).to_have_count(0)
        axe.check(page)
        page.goto(f"/pupils/{area['pupil']}/chronology?kind=letter")
        expect(page.locator("main")).to_contain_text(
            "Education from the sixth day of a permanent exclusion, to Jo Moore"
        )
        page.goto(f"/pupils/{area['pupil']}")
        expect(page.locator("main")).to_contain_text("Letter sent")  # its PDF among the documents
        axe.check(page)
