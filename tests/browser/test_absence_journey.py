"""Same-day absence follow-up in the browser, with a real SMTP server: a provider marks a child
absent without a reason at 9:25; the 10:00 run puts it in the home school's and the attendance
officer's inboxes (and emails them that it is there); the school sees the parents' numbers on the
alert, and the restricted father as one not to call, and records an attempt that reaches nobody;
the 13:30 run escalates it to the LA's named officer."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from ap_register import clock, jobs
from ap_register.domain.vocab import Role, SettingKind
from ap_register.extensions import db
from ap_register.models import Contact
from tests import factories
from tests.browser.conftest import sign_in
from tests.conftest import free_port
from tests.test_notifications import Sink

pytestmark = pytest.mark.browser

DAY = date(2025, 11, 18)  # a Tuesday in the tests' term


def at(hour: int, minute: int) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=clock.ENGLAND)


@pytest.fixture(scope="module")
def area(live_app: Any) -> dict[str, Any]:
    with live_app.app_context():
        session = db.session
        la = factories.la(session, "855")
        school = factories.setting(session, la, SettingKind.MAINSTREAM, name="Castle Academy")
        pru = factories.setting(session, la, SettingKind.PRU, name="Brook Pupil Referral Unit")
        child = factories.pupil(session, la, school, first_name="Alex", last_name="Moore")
        factories.placement(session, child, pru)
        session.add_all(
            [
                Contact(pupil_id=child.id, role="parent_carer", name="Jo Moore", relation="mother",
                        parental_responsibility=True, lives_with=True, phone="07700 900123", contact_by="phone"),
                Contact(pupil_id=child.id, role="parent_carer", name="Lee Moore", relation="father",
                        phone="07700 900456", restriction="No contact: a court order of 3 March 2025"),
            ]
        )  # fmt: skip
        head = factories.user(session, Role.AP_HEAD, pru, email="head@brook.example.org")
        lead = factories.user(session, Role.SCHOOL_LEAD, school, email="lead@castle.example.org")
        officer = factories.user(session, Role.ATTENDANCE_OFFICER, la, email="attendance@la.example.org")
        named = factories.user(session, Role.ATTENDANCE_OFFICER, la, email="named@la.example.org")
        la.absence_officer_id = named.id
        session.commit()
        return {"head": head.email, "lead": lead.email, "officer": officer.email, "named": named.email}


@pytest.fixture()
def mail(live_app: Any) -> Any:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    live_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="register@la.example.org")
    yield sink
    controller.stop()
    live_app.config.update(MAIL_SERVER=None)


def mailed_to(sink: Sink) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for recipients, message in sink.messages:
        assert isinstance(message, Message)
        found += [(r, " ".join(str(message["Subject"]).split())) for r in recipients]
    return sorted(found)


def test_an_absence_at_9_30_reaches_the_school_and_the_officer_that_morning_and_escalates(
    page: Any, axe: Any, area: dict[str, Any], live_app: Any, mail: Sink
) -> None:
    with clock.fixed(at(9, 25)):
        sign_in(page, area["head"], factories.PASSWORD)
        page.goto("/attendance")
        expect(page.locator("main h2").first).to_contain_text("18 November 2025, morning")
        page.get_by_label("Code for Alex Moore").select_option("N")
        page.get_by_role("button", name="Save the register").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")
        jobs.run_absence_follow_up(live_app)  # before 10:00: nobody is told yet
        page.context.clear_cookies()

    with clock.fixed(at(10, 1)):
        assert jobs.run_absence_follow_up(live_app)["raised"] == 1
        assert jobs.send_emails(live_app) == 3  # the school's lead and both attendance officers
        subject = "A pupil is not at their alternative provision this morning"
        assert mailed_to(mail) == sorted(
            (person, f"AP register: {subject}") for person in (area["lead"], area["officer"], area["named"])
        )
        assert all("Alex" not in str(m) and "Moore" not in str(m) for _, m in mail.messages)

        sign_in(page, area["lead"], factories.PASSWORD)
        page.goto("/inbox")
        page.get_by_role("link", name=subject).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Not at alternative provision this morning")
        main = page.locator("main")
        expect(main).to_contain_text(
            "Brook Pupil Referral Unit marked this child absent this morning without a reason (code N)."
        )
        expect(main).to_contain_text("Jo Moore")
        expect(main).to_contain_text("07700 900123")
        expect(main).to_contain_text("Do not contact Lee Moore (father): No contact: a court order of 3 March 2025")
        expect(main).not_to_contain_text("07700 900456")
        axe.check(page)
        page.get_by_role("button", name="Record an attempt to reach the family").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Record an attempt to reach the family")
        axe.check(page)
        page.get_by_label("Jo Moore, mother (07700 900123)").check()
        page.get_by_label("Phone call").check()
        page.get_by_label("No answer").check()
        page.get_by_label("What happened (optional)").fill("Rang at 10:05 and 10:20; no voicemail.")
        page.get_by_role("button", name="Record the attempt").click()
        expect(page.locator(".app-notes")).to_contain_text("Phone call to Jo Moore")
        expect(page.locator(".app-notes")).to_contain_text("No answer")
        axe.check(page)
        page.context.clear_cookies()

    with clock.fixed(at(13, 40)):
        assert jobs.run_absence_follow_up(live_app)["escalated"] == 1
        sign_in(page, area["named"], factories.PASSWORD)
        page.goto("/inbox")
        page.get_by_role("link", name="Nobody has reached the family of a pupil absent from provision today").click()
        expect(page.locator("main")).to_contain_text("Escalated")
        expect(page.locator("main")).to_contain_text("No answer")
        expect(page).to_have_title(re.compile("Not at alternative provision this morning"))
        axe.check(page)
        # The child's chronology keeps the day: the alert, the attempt, the escalation; it prints.
        page.get_by_role("link", name="Alex Moore").click()
        page.get_by_role("link", name="The whole chronology").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Alex Moore: chronology")
        timeline = page.locator(".app-chronology")
        expect(timeline).to_contain_text("Alert escalated: Not at alternative provision this morning")
        expect(timeline).to_contain_text("Phone call to Jo Moore: No answer")
        axe.check(page)
        page.get_by_label("Attempts to reach the family").check()
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile("kind=attempt"))
        expect(timeline.locator("li")).to_have_count(1)
        expect(page.locator(".govuk-service-navigation")).to_be_visible()
        expect(page.locator(".app-no-print")).to_be_visible()
        page.emulate_media(media="print")
        expect(page.locator(".govuk-service-navigation")).to_be_hidden()
        expect(page.locator(".app-no-print")).to_be_hidden()
        expect(timeline).to_be_visible()
        printed = page.pdf(format="A4")
        assert printed.startswith(b"%PDF") and len(printed) > 5000
