"""Commissioning in the browser: the commissioner records the one piece of evidence a provider
lacks, approves it onto a lot at its rate, and a school lead finds it in the directory, nearest
to their school, with its rate and its free place; every page is axe clean."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ap_register import clock
from ap_register.budgets.rules import agree_plan, create_plan, set_line
from ap_register.commissioning import frameworks
from ap_register.devdata.demo import DEMO_PASSWORD, EMAIL_DOMAIN
from ap_register.domain.vocab import Role, SettingKind, Tier
from ap_register.extensions import db
from tests import factories
from tests.browser.conftest import fill_date, sign_in
from tests.factories import SYSTEM

pytestmark = pytest.mark.browser

DAY = date(2026, 11, 2)


@pytest.fixture(scope="module")
def market(live_app: Any) -> dict[str, Any]:
    with live_app.app_context():
        session = db.session
        la = factories.la(session, "855")
        school = factories.setting(session, la, SettingKind.MAINSTREAM, name="Castle Academy")
        school.easting, school.northing = 520_000, 300_000
        provider = factories.setting(session, la, SettingKind.AP_ACADEMY, name="Riverside Learning Centre")
        provider.easting, provider.northing = 523_000, 304_000
        framework = frameworks.create_framework(
            session, SYSTEM, la, name="AP framework 2026 to 2030", kind="framework", starts_on=date(2026, 9, 1),
            ends_on=date(2030, 8, 31), grace_days=10,
        )  # fmt: skip
        lot = frameworks.add_lot(
            session, SYSTEM, framework, name="Education and engagement", service="education_engagement",
            description="Full-time places for pupils aged 11 to 16",
        )  # fmt: skip
        for kind in frameworks.CHECKS:
            if kind != "insurance":
                frameworks.record_evidence(
                    session, SYSTEM, la, provider, kind=kind, evidence_date=date(2026, 9, 1),
                    expires_on=date(2027, 8, 31), reference=None, note=None, today=DAY,
                )  # fmt: skip
        frameworks.apply(session, SYSTEM, lot, provider, rate="65.00", rate_unit="session", today=DAY)
        # A second provider, approved already, and a pupil of Castle Academy placed there from next week.
        tuition = factories.setting(session, la, SettingKind.AP_ACADEMY, name="Brookside Tuition Centre")
        for kind in frameworks.CHECKS:
            frameworks.record_evidence(
                session, SYSTEM, la, tuition, kind=kind, evidence_date=date(2026, 9, 1),
                expires_on=date(2027, 8, 31), reference=None, note=None, today=DAY,
            )  # fmt: skip
        approved = frameworks.apply(session, SYSTEM, lot, tuition, rate="58.00", rate_unit="session", today=DAY)
        frameworks.decide(
            session, SYSTEM, approved, outcome="approved", rate=None, rate_unit=None, reason=None, today=DAY
        )
        plan = create_plan(session, SYSTEM, la, name="AP budget", first_year=2026, years=3, demand_policy="Reserve")
        for year in (2026, 2027, 2028):
            set_line(session, SYSTEM, plan, year=year, provider=provider, place_type="time_limited",
                     commissioned=Decimal(3), unit_cost=Decimal(19000))  # fmt: skip
            set_line(session, SYSTEM, plan, year=year, provider=tuition, place_type="time_limited",
                     commissioned=Decimal(2), unit_cost=Decimal(17000))  # fmt: skip
            set_line(session, SYSTEM, plan, year=year, place_type="reserve", commissioned=Decimal(5000),
                     unit_cost=Decimal(1))  # fmt: skip
        agree_plan(session, SYSTEM, plan)
        child = factories.pupil(session, la, school, first_name="Riley", last_name="Shaw")
        placement = factories.placement(
            session, child, tuition, start=date(2026, 11, 9), tier=Tier.TIME_LIMITED, notice_date=date(2026, 11, 2)
        )
        head = factories.user(session, Role.AP_HEAD, tuition, email="head@brookside.example.org")
        commissioner = factories.user(session, Role.COMMISSIONER, la, email="commissioner@la.example.org")
        lead = factories.user(session, Role.SCHOOL_LEAD, school, email="lead@castle.example.org")
        session.commit()
        return {
            "commissioner": commissioner.email,
            "lead": lead.email,
            "head": head.email,
            "framework": framework.id,
            "placement": placement.id,
        }


def test_a_provider_approved_with_its_evidence_is_found_by_a_school_lead(
    page: Any, axe: Any, market: dict[str, Any]
) -> None:
    with clock.fixed(DAY):
        sign_in(page, market["commissioner"], factories.PASSWORD)
        page.get_by_role("link", name="Commissioning").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Commissioning")
        axe.check(page)
        page.get_by_role("link", name="AP framework 2026 to 2030").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("AP framework 2026 to 2030")
        axe.check(page)
        page.get_by_role("link", name="Riverside Learning Centre").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Riverside Learning Centre on lot 1")
        axe.check(page)
        # Approving without insurance: refused, and told why.
        page.get_by_label("Approve onto the lot").check()
        page.get_by_role("button", name="Save the decision").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("cannot be approved until its evidence is in date")
        axe.check(page)
        page.get_by_role("link", name="Record newer insurance (employer's and public liability)").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Record evidence")
        expect(page.get_by_label("Insurance (employer's and public liability)")).to_be_checked()
        fill_date(page, "evidence_date", date(2026, 10, 1))
        fill_date(page, "expires_on", date(2027, 9, 30))
        page.get_by_label("Reference (optional)").fill("EL-PL 2026/114")
        axe.check(page)
        page.get_by_role("button", name="Record the evidence").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Evidence recorded")
        expect(page.locator("main")).to_contain_text("EL-PL 2026/114")
        axe.check(page)
        page.goto(f"/commissioning/frameworks/{market['framework']}")
        page.get_by_role("link", name="Riverside Learning Centre").click()
        page.get_by_label("Approve onto the lot").check()
        page.get_by_role("button", name="Save the decision").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Riverside Learning Centre: approved")
        expect(page.locator("main")).to_contain_text("£65.00 per session")
        page.get_by_role("button", name="Sign out").click()

        sign_in(page, market["lead"], factories.PASSWORD)
        page.get_by_role("link", name="Find a provider").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Find a provider")
        axe.check(page)
        page.get_by_label("Within").select_option("5")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("heading", level=2).first).to_have_text("1 provider, nearest to Castle Academy first")
        card = page.locator(".govuk-summary-card")
        expect(card).to_contain_text("Riverside Learning Centre")
        expect(card).to_contain_text("5.0 km")
        expect(card).to_contain_text("£65.00 per session")
        expect(card).to_contain_text("Time-limited placement: 3 free of 3")
        axe.check(page)


def test_a_placement_is_called_off_and_its_agreement_accepted_by_all_three(
    page: Any, axe: Any, market: dict[str, Any]
) -> None:
    with clock.fixed(DAY):
        sign_in(page, market["lead"], factories.PASSWORD)
        page.goto(f"/placements/{market['placement']}")
        page.get_by_role("button", name="Call off under the framework").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Call off under the framework")
        axe.check(page)
        page.get_by_label("Objective 1", exact=True).fill("Attend at least 90% of sessions")
        page.get_by_label("How objective 1 is measured and reviewed").fill("The provider's register, each half term")
        page.get_by_label("Hours each week").fill("25")
        page.get_by_label("The sessions the pupil attended").check()
        page.get_by_label("The school", exact=True).check()
        fill_date(page, "review_on", date(2027, 1, 11))
        page.get_by_label("Safeguarding").fill("DSL at Brookside: Mr Cole, 01234 560000")
        page.get_by_label("Who to call").fill("Castle Academy office, 01234 500100")
        page.get_by_role("button", name="Call off the placement").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Individual placement agreement, version 1")
        expect(page.locator("#agreement")).to_contain_text("£58.00 per session")
        axe.check(page)
        page.get_by_label("The school").check()
        page.get_by_label("Accepted in the register").check()
        page.get_by_role("button", name="Record the acceptance").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("The school's acceptance recorded")
        # The parent agreed at the meeting: the school records it.
        page.get_by_label("The parent or carer").check()
        page.get_by_label("Agreed in person").check()
        page.get_by_label("Name of the person who accepted it").fill("Jamie Shaw")
        page.get_by_role("button", name="Record the acceptance").click()
        expect(page.locator("main")).to_contain_text("Waiting for the provider")
        axe.check(page)
        page.get_by_role("button", name="Sign out").click()

        sign_in(page, market["head"], factories.PASSWORD)
        page.goto(f"/placements/{market['placement']}")
        page.get_by_role("link", name="The agreement, version 1").click()
        page.get_by_label("The provider").check()
        page.get_by_label("Accepted in the register").check()
        page.get_by_role("button", name="Record the acceptance").click()
        expect(page.locator("main")).to_contain_text("Agreed by every party")
        axe.check(page)
        with page.expect_download() as waiting:
            page.get_by_role("link", name="PDF").click()
        assert waiting.value.suggested_filename.endswith("version-1.pdf")


FITS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def test_the_provider_reports_on_two_half_terms_one_from_a_phone(
    page: Any, axe: Any, market: dict[str, Any], live_app: Any
) -> None:
    """After the call-off above (the agreement runs from 9 November 2026, Monday to Friday): the
    provider's head writes the first half term's report on a phone-sized screen, the second at a
    desk, each with attendance from its registers; the school lead reads both on the child's page."""
    from ap_register.models import AttendanceMark, Placement

    with live_app.app_context():
        placement = db.session.get(Placement, market["placement"])
        assert placement is not None
        for day, half, code in [(date(2026, 11, 9), "AM", "/"), (date(2026, 11, 9), "PM", "\\"),
                                (date(2026, 11, 10), "AM", "I"), (date(2027, 1, 4), "AM", "/")]:  # fmt: skip
            db.session.add(AttendanceMark(pupil_id=placement.pupil_id, setting_id=placement.setting_id, date=day,
                                          session=half, code=code))  # fmt: skip
        db.session.commit()
    with clock.fixed(date(2026, 12, 11)):
        sign_in(page, market["head"], factories.PASSWORD)
        page.set_viewport_size({"width": 375, "height": 740})
        expect(page.locator("main")).to_contain_text("1 report to write")
        page.get_by_role("link", name="See all progress reports").click()
        page.get_by_role("link", name="write the report").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Write the progress report")
        # From the registers: 6 weeks of 10 sessions to today, 2 present, 1 illness.
        expect(page.locator("main")).to_contain_text("Sessions agreed")
        expect(page.locator("main")).to_contain_text("Attended")
        assert page.evaluate(FITS), "the report form is wider than a phone"
        axe.check(page)
        page.get_by_role("button", name="Submit the report").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the progress made towards objective 1")
        axe.check(page)
        page.get_by_label("Some progress").check()
        page.get_by_label("Evidence of progress towards objective 1").fill("Came every day of the first week")
        page.get_by_label("The pupil's voice").fill("I want to stay in the cooking group")
        page.get_by_label("Next steps").fill("A visit to Castle Academy in January")
        page.get_by_role("button", name="Submit the report").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Progress report, 2 November 2026 to 18 December 2026"
        )
        expect(page.locator("main")).to_contain_text("I want to stay in the cooking group")
        assert page.evaluate(FITS), "the report is wider than a phone"
        axe.check(page)
        page.get_by_role("button", name="Sign out").click()
    with clock.fixed(date(2027, 2, 10)):
        page.set_viewport_size({"width": 1280, "height": 900})
        sign_in(page, market["head"], factories.PASSWORD)
        page.goto("/commissioning/reports")
        expect(page.get_by_role("heading", level=1)).to_have_text("Progress reports")
        expect(page.locator("main")).to_contain_text("4 January 2027 to 12 February 2027")
        axe.check(page)
        page.get_by_role("link", name="write the report").click()
        page.get_by_label("Good progress").check()
        page.get_by_label("Evidence of progress towards objective 1").fill("Every morning since January")
        page.get_by_label("The pupil's voice").fill("School is OK now")
        page.get_by_label("Next steps").fill("Two days a week at Castle Academy")
        page.get_by_role("button", name="Submit the report").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Report submitted")
        page.get_by_role("button", name="Sign out").click()

        sign_in(page, market["lead"], factories.PASSWORD)
        page.goto(f"/placements/{market['placement']}")
        page.get_by_role("link", name="Back to Riley Shaw").click()
        reports = page.locator("#progress + p + ul li")
        expect(reports).to_have_count(2)
        expect(reports.first).to_contain_text("objective 1 good progress")
        expect(reports.last).to_contain_text("objective 1 some progress")
        axe.check(page)


def test_the_month_s_statement_reconciles_the_invoice_and_the_budget_counts_it(
    page: Any, axe: Any, market: dict[str, Any], live_app: Any
) -> None:
    """A second child at Brookside, called off by the LA (which pays) from 2 November 2026, Monday
    to Friday; November's registers show 39 of its 42 sessions attended. Brookside's head uploads
    its invoice, claiming all 42 for that child; the commissioner sees each difference by
    session, approves what was delivered, downloads it for finance, and the budget counts it."""
    from ap_register.commissioning import agreements
    from ap_register.models import AttendanceMark, LotApproval, Placement, Setting

    with live_app.app_context():
        session = db.session
        riley = session.get(Placement, market["placement"])
        assert riley is not None
        tuition = session.get(Setting, riley.setting_id)
        assert tuition is not None
        approval = session.scalars(select(LotApproval).where(LotApproval.provider_id == tuition.id)).one()
        child = factories.pupil(session, riley.pupil.home_la, riley.home_school, first_name="Sam", last_name="Okoro")
        placement = factories.placement(session, child, tuition, start=date(2026, 11, 2), tier=Tier.TIME_LIMITED,
                                        notice_date=date(2026, 10, 26))  # fmt: skip
        terms = agreements.Terms(
            objectives=[("Attend every session", "The register")], sessions="1111111111", hours_per_week="25",
            rate="58.00", rate_unit="session", pays_on="attended", payer="la", starts_on=date(2026, 11, 2),
            review_on=date(2027, 1, 11), safeguarding="DSL at Brookside", contacts="Castle Academy office",
        )  # fmt: skip
        agreements.call_off(session, SYSTEM, placement, approval, terms, today=date(2026, 11, 2))
        # Every session of November attended but Wednesday 4 November, off ill (I), and Thursday
        # morning at the dentist (M): 39 of 42.
        for offset in range(29):
            day = date(2026, 11, 2) + timedelta(days=offset)
            for half in ("AM", "PM") if day.weekday() < 5 else ():
                code = {date(2026, 11, 4): "I"}.get(day, "M" if (day, half) == (date(2026, 11, 5), "AM") else "/")
                session.add(AttendanceMark(pupil_id=child.id, setting_id=tuition.id, date=day, session=half,
                                           code=code))  # fmt: skip
        session.commit()
        upn, tuition_id = child.upn, tuition.id
    with clock.fixed(date(2026, 12, 4)):
        sign_in(page, market["head"], factories.PASSWORD)
        page.goto(f"/commissioning/payments/{tuition_id}/2026-11/invoice")
        expect(page.get_by_role("heading", level=1)).to_have_text("Record the invoice")
        axe.check(page)
        invoice = f"upn,sessions,amount\n{upn},42,2436.00\nX12,1,1\n".encode()
        page.get_by_label("The invoice's lines, as a CSV file").set_input_files(
            files=[{"name": "november.csv", "mimeType": "text/csv", "buffer": invoice}]
        )
        page.locator("#upload-reference").fill("BT-2026-11")
        fill_date(page, "upload-received_on", date(2026, 12, 1))
        page.get_by_role("button", name="Upload the invoice").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Row 3: check the UPN")
        axe.check(page)
        page.get_by_label("The invoice's lines, as a CSV file").set_input_files(
            files=[{"name": "november.csv", "mimeType": "text/csv", "buffer": invoice.replace(b"X12,1,1\n", b"")}]
        )
        page.locator("#upload-reference").fill("BT-2026-11")
        fill_date(page, "upload-received_on", date(2026, 12, 1))
        page.get_by_role("button", name="Upload the invoice").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Invoice recorded")
        page.get_by_role("button", name="Sign out").click()

        sign_in(page, market["commissioner"], factories.PASSWORD)
        page.goto("/commissioning/")
        page.get_by_role("link", name="Paying for what was delivered").click()
        page.get_by_label("Month").select_option("2026-11")
        page.get_by_role("button", name="Show").click()
        row = page.get_by_role("row").filter(has_text="Brookside Tuition Centre")
        expect(row).to_contain_text("To check and approve")
        axe.check(page)
        row.get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Statement for November 2026")
        main = page.locator("main")
        # By hand: 39 sessions attended at £58.00 = £2,262.00; invoiced 42 sessions, £2,436.00.
        expect(main).to_contain_text(
            "3 agreed sessions not attended are not paid (the agreement pays on attendance): I (Illness (not "
            "medical or dental appointment)): Wed 4 Nov; M (Leave of absence for a medical or dental "
            "appointment): Thu 5 Nov AM"
        )
        expect(main).to_contain_text(
            "Invoiced £2,436.00; at £58.00 per session, the 39 sessions due come to £2,262.00: £2,262.00 is paid"
        )
        expect(main).to_contain_text("30 December 2026: within 30 days")
        axe.check(page)
        page.get_by_role("button", name="Approve the statement for payment").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Statement approved")
        expect(main).to_contain_text("Approved on 4 December 2026")
        axe.check(page)
        with page.expect_download() as waiting:
            page.get_by_role("link", name="Download for the finance system (CSV)").click()
        exported = Path(waiting.value.path()).read_text()
        assert "la,,42,39,2262.00,2436.00,2262.00" in exported and upn not in exported
        page.goto("/budgets/")
        page.get_by_role("link", name="AP budget").click()
        paid = page.get_by_role("row").filter(has_text="Brookside Tuition Centre").last
        expect(paid).to_contain_text("£2,262.00")
        axe.check(page)


# Last in the module: the demo area replaces the market's database.
def test_the_demo_area_s_framework_and_directory(page: Any, axe: Any, demo: None) -> None:
    """The demo's commissioner sees Greenfields' lapsed insurance; its school lead finds the approved
    providers nearest their school."""
    sign_in(page, f"commissioner@{EMAIL_DOMAIN}", DEMO_PASSWORD)
    page.get_by_role("link", name="Commissioning").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commissioning")
    row = page.get_by_role("row").filter(has_text="Greenfields Farm Project")
    expect(row).to_contain_text("1 of 5 out of date or missing")
    axe.check(page)
    row.get_by_role("link", name="Greenfields Farm Project").click()
    expect(page.locator("main")).to_contain_text("Expired: in grace")
    axe.check(page)
    # Riverbank's latest progress report is still to write (or overdue); The Oaks' are all in.
    page.goto("/commissioning/reports")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Riverbank Academy")
    axe.check(page)
    rows.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Progress reports")).to_be_visible()
    axe.check(page)
    # Last month's statements: The Oaks' approved, Riverbank's to check; the commissioner approves it.
    page.goto("/commissioning/payments")
    expect(page.get_by_role("row").filter(has_text="The Oaks Pupil Referral Unit")).to_contain_text("Approved")
    riverbank = page.get_by_role("row").filter(has_text="Riverbank Academy")
    expect(riverbank).to_contain_text("To check and approve")
    axe.check(page)
    riverbank.get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("Differences from the invoice")
    axe.check(page)
    page.get_by_role("button", name="Approve the statement for payment").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Statement approved")
    page.goto("/budgets/")
    page.locator("main a.govuk-link").first.click()
    paid = page.locator("#paid + p + .app-table-scroll")
    expect(paid).to_contain_text("Riverbank Academy")
    axe.check(page)
    # Sufficiency: demand against the places, from the commissioning page, with its forecast;
    # then one district's.
    page.get_by_role("link", name="Commissioning").first.click()
    page.get_by_role("link", name="Sufficiency of places").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sufficiency of places")
    expect(page.locator("#summary")).to_have_text("The whole area")
    expect(page.locator("main")).to_contain_text("waiting for a placement now")
    expect(page.get_by_role("img", name="Places in use each month")).to_be_visible()
    expect(page.locator("svg polygon.app-chart__band")).to_have_count(1)
    expect(page.locator("#months tbody tr").first).to_contain_text("April")
    axe.check(page)
    page.get_by_label("District").select_option("Fenland")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#summary")).to_have_text("Fenland")
    expect(page.get_by_label("District")).to_have_value("Fenland")
    axe.check(page)
    page.get_by_role("button", name="Sign out").click()

    # The Oaks' head reads the progress reports of the child called off there.
    sign_in(page, f"ap.head@{EMAIL_DOMAIN}", DEMO_PASSWORD)
    page.goto("/commissioning/reports")
    expect(page.locator("main")).to_contain_text("No progress reports are due")
    axe.check(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, f"school.lead@{EMAIL_DOMAIN}", DEMO_PASSWORD)
    page.get_by_role("link", name="Find a provider").click()
    expect(page.locator(".govuk-summary-card")).to_have_count(5)
    expect(page.locator(".govuk-summary-card").first).to_contain_text(" km")
    axe.check(page)
