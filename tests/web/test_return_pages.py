"""The returns pages: a return's validation report and its fix, the lines as a spreadsheet, a
school's own return; the register of children not in school; registers from providers."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.coverage.attendance import record_register
from ap_register.coverage.digest import send_digests
from ap_register.domain.vocab import Registration, Role, Route, SettingKind
from ap_register.models import AuditEvent, Placement
from tests import factories
from tests.factories import SYSTEM
from tests.pages import csrf_token, errors, page, sign_in, text


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Hill School")
    pru = factories.setting(db, la, SettingKind.PRU, name="Riverside PRU")
    tutors = factories.setting(db, la, SettingKind.UNREGISTERED_AP, name="Home Tutors Ltd")
    ill = factories.pupil(db, la, school, first_name="Ivy", last_name="Health")
    directed = factories.pupil(db, la, school, first_name="Dan", last_name="Directed")
    health = factories.placement(
        db, ill, tutors, Route.LA_HEALTH, Registration.NONE, sessions="1100000000", start=date(2025, 11, 3)
    )
    factories.placement(db, directed, pru, start=date(2025, 11, 3))
    vale = factories.setting(db, la, SettingKind.MAINSTREAM, name="Vale School")
    factories.placement(
        db, factories.pupil(db, la, vale, first_name="Val", last_name="Other"), pru, start=date(2025, 11, 3)
    )
    made = {"la": la, "school": school, "pru": pru, "tutors": tutors, "health": health, "directed": directed}
    made["commissioner"] = factories.user(db, Role.COMMISSIONER, la)
    made["officer"] = factories.user(db, Role.ATTENDANCE_OFFICER, la)
    made["lead"] = factories.user(db, Role.SCHOOL_LEAD, school)
    return made


def gap_rows(soup: Any) -> list[list[str]]:
    return [[cell.get_text(" ", strip=True) for cell in row.select("td")] for row in soup.select(".app-gaps tbody tr")]


def test_the_validation_report_names_each_gap_and_the_fix_clears_it(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    sign_in(client, area["commissioner"].email)
    query = "?kind=ap-census&year=2025"
    soup = page(client.get(f"/returns/{query}"))
    assert "Alternative provision census 2025/26" in text(soup)
    assert "15 January 2026" in text(soup)
    upn = area["health"].pupil.upn
    assert gap_rows(soup) == [
        ["2", upn, "setting_type", "Home Tutors Ltd has no URN or UKPRN: record its type of setting "
         "(tuition, work-based, college or other)", "Error"],
        ["2", upn, "primary_reason", "Record whether the health need is mental or physical", "Error"],
    ]  # fmt: skip
    assert "2 gaps the file fails: errors must be put right, checks looked at, before census day" in text(soup)
    lines = list(csv.DictReader(io.StringIO(client.get(f"/returns/export.csv{query}").get_data(as_text=True))))
    assert [(r["last_name"], r["sessions_per_week"], r["primary_reason"]) for r in lines] == [("Health", "2", "")]
    gaps = list(csv.DictReader(io.StringIO(client.get(f"/returns/gaps.csv{query}").get_data(as_text=True))))
    assert [g["item"] for g in gaps] == ["setting_type", "primary_reason"]

    # Follow the gap's link, answer, and come back to a report without it.
    fix = soup.find("a", string=lambda s: s and "mental or physical" in s)["href"]
    form = page(client.get(fix))
    assert "Why was the placement commissioned?" in text(form)
    refused = page(client.post(fix, data={"csrf_token": csrf_token(client, fix)}))
    assert errors(refused) == ["Choose the reason the placement was commissioned"]
    done = client.post(fix, data={"csrf_token": csrf_token(client, fix), "census_reason": "medical_mental_health"})
    assert done.status_code == 302 and done.headers["Location"].startswith(f"/returns/{query}")
    setting_fix = page(client.get(f"/returns/{query}")).find("a", string=lambda s: s and "type of setting" in s)["href"]
    client.post(
        setting_fix, data={"csrf_token": csrf_token(client, setting_fix), "census_setting_type": "one_to_one_tuition"}
    )
    soup = page(client.get(f"/returns/{query}"))
    assert gap_rows(soup) == [] and "No gaps: the file passes every check." in text(soup)
    book = load_workbook(io.BytesIO(client.get(f"/returns/export.xlsx{query}").get_data()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    header, line = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert "Primary reason" in header and (line["Setting type"], line["Primary reason"]) == ("OOT", "MHN")
    placement = db.get(Placement, area["health"].id)
    assert placement is not None and placement.census_reason == "medical_mental_health"


def test_the_ap_census_downloads_as_the_collection_system_s_xml(client: Any, db: Session, area: dict[str, Any]) -> None:
    sign_in(client, area["commissioner"].email)
    query = "?kind=ap-census&year=2025"
    soup = page(client.get(f"/returns/{query}"))
    link = soup.find("a", string="XML for the DfE's collection system")["href"]
    assert "could not be checked" in text(soup)  # the file says how far it follows the specification
    got = client.get(link)
    assert got.status_code == 200 and got.mimetype == "application/xml"
    assert got.headers["Content-Disposition"] == 'attachment; filename="855-ap-census-2025.xml"'
    root = ET.fromstring(got.get_data())
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2026-01-15"
    assert [e.text for e in root.iterfind("Pupils/Pupil/PupilIdentifiers/UPN")] == [area["health"].pupil.upn]
    # Only the children the return holds are audited as viewed: not one at a PRU the query loaded.
    viewed = set(db.scalars(select(AuditEvent.pupil_id).where(AuditEvent.action == "view")))
    assert area["health"].pupil_id in viewed and area["directed"].id not in viewed
    # The school census is a school's return made in its own system: no XML from here.
    assert client.get("/returns/export.xml?kind=school-census&year=2025&term=spring").status_code == 404
    # A school lead is given their school's census only, whatever the query asks.
    sign_in(client, area["lead"].email)
    assert client.get(f"/returns/export.xml{query}").status_code == 404


def test_a_school_lead_makes_their_own_school_s_return_only(client: Any, area: dict[str, Any]) -> None:
    sign_in(client, area["lead"].email)
    soup = page(client.get("/returns/?kind=ap-census&year=2025&term=spring"))
    # The LA's AP census is not offered; the school census of Hill School is shown instead.
    assert [o["value"] for o in soup.select("#kind option")] == ["school-census"]
    assert "School census: AP placements 2025/26, spring term" in text(soup)
    # Its own arrangements, and the LA's for pupils who stay on its roll; not another school's.
    assert "Dan Directed" in text(soup) and "Ivy Health" in text(soup) and "Val Other" not in text(soup)
    assert errors(soup) == []
    assert client.get("/returns/children-not-in-school").status_code == 403


def test_the_register_of_children_not_in_school(client: Any, area: dict[str, Any]) -> None:
    sign_in(client, area["officer"].email)
    soup = page(client.get("/returns/children-not-in-school?on-day=12&on-month=11&on-year=2025"))
    shown = text(soup)
    # Ivy's tutoring is otherwise than at a school; Dan and Val are educated at the PRU, a school.
    assert "1 child: 0 on no school's roll, 1 on a roll and educated otherwise than at a school" in shown
    assert "Home Tutors Ltd" in shown and "Mon AM, Mon PM (2 a week)" in shown
    assert "Dan Directed" not in shown and "not yet in force" in shown
    assert "each parent's name and home address" in shown
    export = client.get("/returns/children-not-in-school/export.csv?on-day=12&on-month=11&on-year=2025")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["last_name"], r["school"], r["arranged_by"]) for r in rows] == [
        ("Health", "Hill School", area["la"].name)
    ]


def test_registers_from_providers_behind_the_digest(client: Any, db: Session, area: dict[str, Any]) -> None:
    monday = date(2025, 11, 10)
    record_register(db, SYSTEM, area["pru"], monday, "AM", {area["directed"].id: "O"}, today=monday)
    send_digests(db, date(2025, 11, 11))
    sign_in(client, area["lead"].email)
    inbox = text(page(client.get("/inbox")))
    assert "Riverside PRU's registers for Monday 10 November 2025" in inbox
    soup = page(client.get(f"/attendance/received?on=2025-11-10&provider={area['pru'].id}"))
    assert "Dan Directed" in text(soup) and "O Unauthorised" in text(soup)


@pytest.mark.parametrize(
    "back",
    [
        "/returns/%0D%0ASet-Cookie:%20x=y",
        "/returns/%09x",
        "/returns/\\\\evil.example.com",
    ],
)
def test_a_fix_is_saved_and_goes_back_only_to_a_page_of_the_returns(
    client: Any, db: Session, area: dict[str, Any], back: str
) -> None:
    """A `next` holding a line break, a tab or a backslash: the reason is saved all the same, and
    the person is taken to the placement's own page (a line break used to fail the redirect after
    the save, with a server error)."""
    sign_in(client, area["commissioner"].email)
    fix = f"/returns/placements/{area['health'].id}/census-reason?next={back}"
    done = client.post(fix, data={"csrf_token": csrf_token(client, fix), "census_reason": "medical_physical_health"})
    assert done.status_code == 302 and done.headers["Location"] == f"/placements/{area['health'].id}"
    placement = db.get(Placement, area["health"].id)
    assert placement is not None and placement.census_reason == "medical_physical_health"
