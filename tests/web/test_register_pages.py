"""The register's pages, read and used as an LA officer or a school lead would."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.vocab import MovementKind, Role
from ap_register.models import AuditEvent, Contact, Movement, Placement, PlacementReview
from tests.pages import date_fields, errors, page, post, sign_in, text


def test_finding_a_pupil_by_upn_and_by_name(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    admin = world["home"]["users"][Role.LA_ADMIN]
    child = world["home"]["pupil"]
    sign_in(client, admin.email)
    soup = page(client.get(f"/pupils?q={child.upn.lower()}"))
    assert text(soup, "table").count("Homechild") == 1
    soup = page(client.get("/pupils?q=robin homechild"))
    assert "1 pupil found" in text(soup)
    soup = page(client.get("/pupils?q=Otherchild"))
    assert "No pupils found" in text(soup)
    search = db.scalars(select(AuditEvent).where(AuditEvent.action == "search")).all()
    assert [e.detail["results"] for e in search] == [1, 1, 0]


def test_the_pupil_page_shows_the_timeline_and_today_s_arrangements(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    admin = world["home"]["users"][Role.LA_ADMIN]
    child = world["home"]["pupil"]
    sign_in(client, admin.email)
    soup = page(client.get(f"/pupils/{child.id}"))
    assert soup.h1.get_text(strip=True) == "Robin Homechild"
    timeline = [h.get_text(" ", strip=True) for h in soup.select(".app-timeline h3")]
    assert timeline == ["Placement recorded: Home PRU", "Admitted to the roll: Home High School"]
    assert "Off-site direction (s29A Education Act 2002)" in text(soup)
    view = db.scalar(select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.pupil_id == child.id))
    assert view is not None and view.user_id == admin.id and view.actor == admin.email
    # A page about the child's records names the child in its title (a tab, a history entry).
    assert soup.title.get_text(strip=True) == "Robin Homechild – AP register"
    soup = page(client.get(f"/placements/{world['home']['placement'].id}"))
    assert soup.title.get_text(strip=True) == "Placement at Home PRU – Robin Homechild – AP register"
    assert page(client.get(f"/placements/{world['home']['placement'].id}/review")).title.get_text(strip=True) == (
        "Record a review – Robin Homechild – AP register"
    )


def test_the_pupil_page_shows_attendance_week_by_week_as_a_picture_and_a_table(
    client: Any, world: dict, db: Session
) -> None:  # type: ignore[type-arg]
    from datetime import date as day

    from ap_register.models import AttendanceMark

    home = world["home"]
    pupil, pru = home["pupil"], home["pru"]
    # The week of 23 November 2026 at the PRU: 8 of 10 (two unauthorised absences); the week
    # before: all ten; a D is no session of the PRU's to count.
    for monday, codes in ((day(2026, 11, 16), "/\\/\\/\\/\\/\\"), (day(2026, 11, 23), "/\\/\\OO/\\/\\")):
        for n, code in enumerate(codes):
            db.add(
                AttendanceMark(
                    pupil_id=pupil.id,
                    setting_id=pru.id,
                    date=monday + timedelta(days=n // 2),
                    session="AM" if n % 2 == 0 else "PM",
                    code=code,
                )
            )
    db.commit()
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    soup = page(client.get(f"/pupils/{pupil.id}"))
    table = soup.find("caption", string="Attendance by week").find_parent("table")
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in table.select("tbody tr")]
    assert rows == [
        ["23 November 2026", "Home PRU", "8 of 10 (80.0%)"],
        ["16 November 2026", "Home PRU", "10 of 10 (100.0%)"],
    ]
    chart = soup.select_one("svg[role=img][aria-label*='attendance each week']")
    assert chart is not None and len(chart.select("rect.app-chart__bar")) == 2
    assert len(chart.select("rect.app-chart__bar--low")) == 1  # the week under 90%


def test_recording_an_off_site_direction_from_start_to_confirmation(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    lead = home["users"][Role.SCHOOL_LEAD]
    child = home["bystander"]
    # The school lead's own school is where the bystander is not: use a pupil of the lead's school.
    child = home["pupil"]
    sign_in(client, lead.email)
    soup = page(client.get(f"/pupils/{child.id}/placements/new"))
    offered = [i["value"] for i in soup.select("input[name=route]")]
    assert "la_exclusion" not in offered and "off_site_direction" in offered
    response = post(
        client, f"/pupils/{child.id}/placements/new", {"route": "off_site_direction", "setting": str(home["pru"].id)}
    )
    assert response.status_code == 302
    details_url = response.headers["Location"]
    # The school pays for its own direction: the LA's spot purchase is not its question.
    assert page(client.get(details_url)).select_one("[name=spot_purchase]") is None
    start = clock.today() + timedelta(days=14)
    # First attempt: not registered at the PRU. An off-site direction is always a dual registration.
    soup = page(
        post(
            client,
            details_url,
            {
                "registration": "none",
                "tier": "time_limited",
                **date_fields("start_date", start),
                **date_fields("notice_date", start - timedelta(days=7)),
                "reintegration_plan": "Back full time after six weeks",
                **date_fields("planned_end_date", start + timedelta(days=42)),
                "reason": "Support tried has not worked",
                "sessions": ["Mon AM", "Mon PM"],
            },
        )
    )
    assert soup.title.get_text().startswith("Error: Placement details")
    assert errors(soup) == [
        "An off-site direction is always dual registration at the receiving setting (code D at the home school): "
        "choose dual registration"
    ]
    response = post(
        client,
        details_url,
        {
            "registration": "dual",
            "tier": "time_limited",
            **date_fields("start_date", start),
            **date_fields("notice_date", start - timedelta(days=7)),
            "notice_address": "Riverside PRU, 1 Mill Lane",
            "notice_report_to": "Ms A Khan, head of centre",
            "notice_session_times": "9am to 12pm",
            "notice_reasons": "To re-engage with learning",
            "reintegration_plan": "Back full time after six weeks",
            **date_fields("planned_end_date", start + timedelta(days=42)),
            "reason": "Support tried has not worked",
            "sessions": ["Mon AM", "Mon PM"],
        },
    )
    assert response.status_code == 302
    check_url = response.headers["Location"]
    soup = page(client.get(check_url))
    assert "2 sessions: Mon AM, Mon PM" in text(soup)
    assert "D: dual registered at another school" in text(soup)
    assert "Commissioned by Home High School" in text(soup)  # the school arranges an off-site direction
    # Every answer of step 2 is on the check page.
    for answer in (
        "Reintegration planBack full time after six weeks",
        "Where the pupil attends (notice)Riverside PRU, 1 Mill Lane",
        "Reports to on the first day (notice)Ms A Khan, head of centre",
        "Session times (notice)9am to 12pm",
        "Reasons and objectives (notice)To re-engage with learning",
    ):
        assert answer in soup.select_one(".govuk-summary-list").get_text(strip=True), answer
    # "Change" the route: the choices made are shown, and going on keeps step 2's answers.
    change = next(a for a in soup.select(".govuk-summary-list__actions a") if a.get_text(strip=True) == "Changeroute")
    route_page = page(client.get(change["href"]))
    assert route_page.select_one("input[name=route][checked]")["value"] == "off_site_direction"
    assert route_page.select_one("#setting option[selected]")["value"] == str(home["pru"].id)
    response = post(client, change["href"], {"route": "off_site_direction", "setting": str(home["pru"].id)})
    assert response.headers["Location"] == details_url
    details = page(client.get(details_url))
    assert details.select_one("#reintegration_plan").get_text() == "Back full time after six weeks"
    assert details.select_one("[name=sessions][value='Mon AM']").has_attr("checked")
    assert not details.select_one("[name=sessions][value='Tue AM']").has_attr("checked")
    before = db.scalar(select(func.count()).select_from(Placement))
    response = post(client, check_url, {})
    assert response.status_code == 302
    soup = page(client.get(response.headers["Location"]))
    assert soup.h1.get_text(strip=True) == "Placement recorded"
    assert db.scalar(select(func.count()).select_from(Placement)) == before + 1
    placement = db.scalars(select(Placement).order_by(Placement.id.desc())).first()
    assert placement is not None and placement.created_by_id == lead.id
    movement = db.scalars(select(Movement).where(Movement.placement_id == placement.id)).one()
    assert movement.kind == MovementKind.PLACEMENT_STARTED and movement.recorded_by_id == lead.id
    # The draft is used up: sent again, it shows the placement it made and records nothing more.
    confirmation = response.headers["Location"]
    again = post(client, check_url, {})
    assert again.status_code == 302 and again.headers["Location"] == confirmation
    assert "You confirmed this placement already" in text(page(client.get(confirmation)))
    assert client.get(check_url).headers["Location"] == confirmation
    assert db.scalar(select(func.count()).select_from(Placement)) == before + 1


def test_a_school_lead_cannot_start_a_placement_for_another_school_s_pupil(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    home = world["home"]
    lead = home["users"][Role.SCHOOL_LEAD]
    sign_in(client, lead.email)
    # The bystander is on the roll of another school in the same LA: invisible to this lead.
    assert client.get(f"/pupils/{home['bystander'].id}").status_code == 404
    assert client.get(f"/pupils/{home['bystander'].id}/placements/new").status_code == 404


def test_reviewing_and_ending_a_placement(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    placement = home["placement"]
    sign_in(client, home["users"][Role.AP_HEAD].email)
    url = f"/placements/{placement.id}/review"
    soup = page(post(client, url, {**date_fields("review_date", clock.today() + timedelta(days=3)), "notes": ""}))
    assert errors(soup) == ["Enter what the review found and agreed"]
    soup = page(
        post(client, url, {**date_fields("review_date", clock.today() + timedelta(days=3)), "notes": "Going well"})
    )
    assert errors(soup) == ["A review cannot be recorded before it happens"]
    response = post(client, url, {**date_fields("review_date", date(2025, 11, 3)), "notes": "Going well"})
    assert response.status_code == 302
    assert db.scalar(select(func.count()).select_from(PlacementReview)) == 1
    soup = page(
        post(
            client,
            f"/placements/{placement.id}/end",
            {**date_fields("end_date", date(2025, 10, 1)), "destination": "returned_home_school"},
        )
    )
    assert errors(soup) == ["The end must be on or after the start"]
    response = post(
        client,
        f"/placements/{placement.id}/end",
        {**date_fields("end_date", date(2025, 12, 19)), "destination": "returned_home_school"},
    )
    assert response.status_code == 302
    soup = page(client.get(f"/placements/{placement.id}"))
    assert "Returned to the home school" in text(soup)
    # The world's off-site direction was recorded without naming a commissioner: the rule named
    # the home school, and the placement says so.
    assert "Commissioned by Home High School" in text(soup)


def test_a_part_time_timetable_is_agreed_with_the_parent_and_reviewed_with_them(
    client: Any, world: dict, db: Session
) -> None:  # type: ignore[type-arg]
    home = world["home"]
    child = home["pupil"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    response = post(
        client,
        f"/pupils/{child.id}/placements/new",
        {"route": "part_time_timetable", "setting": str(home["school"].id)},
    )
    details_url = response.headers["Location"]
    start = clock.today() + timedelta(days=7)
    answers = {
        "registration": "sole",
        **date_fields("start_date", start),
        **date_fields("planned_end_date", start + timedelta(days=28)),
        "reason": "Mornings only while she recovers from an operation",
        "sessions": ["Mon AM", "Tue AM", "Wed AM", "Thu AM", "Fri AM"],
    }
    soup = page(post(client, details_url, answers))
    assert errors(soup) == [
        "Choose what the part-time timetable is for",
    ]
    assert "never to manage behaviour" in text(soup)
    soup = page(post(client, details_url, {**answers, "part_time_purpose": "medical"}))
    assert errors(soup) == ["A part-time timetable needs the parent's agreement: enter the day the parent agreed"]
    response = post(
        client,
        details_url,
        {**answers, "part_time_purpose": "medical", **date_fields("parent_agreed_on", clock.today())},
    )
    assert response.status_code == 302
    response = post(client, response.headers["Location"], {})
    placement = db.scalars(select(Placement).order_by(Placement.id.desc())).first()
    assert placement is not None and placement.parent_agreed_on == clock.today()
    soup = page(client.get(f"/placements/{placement.id}"))
    assert "A medical condition prevents the pupil attending full time" in text(soup)
    # A review with neither the pupil nor the parents is refused; one that moves the end later is an extension.
    placement.start_date = clock.today() - timedelta(days=14)  # as if it began a fortnight ago
    db.commit()
    url = f"/placements/{placement.id}/review"
    review = {**date_fields("review_date", clock.today()), "notes": "Afternoons from next week"}
    soup = page(post(client, url, review))
    assert errors(soup) == ["A part-time timetable is reviewed with the pupil and their parents: record who took part"]
    extended = {**review, "took_part": ["pupil", "parents"], **date_fields("planned_end_date", start + timedelta(56))}
    assert post(client, url, extended).status_code == 302
    soup = page(client.get(f"/placements/{placement.id}"))
    assert "With the pupil and the parents." in text(soup) and "Extended from" in text(soup)


def test_a_date_that_does_not_exist_is_named(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    home = world["home"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    soup = page(
        post(client, f"/placements/{home['placement'].id}/review", {"review_date": ["31", "2", "2026"], "notes": "x"})
    )
    assert errors(soup) == ["Date of the review must be a real date"]
    link = soup.select_one(".govuk-error-summary__list a")
    assert link is not None and link["href"] == "#review_date-day"


def test_recording_a_permanent_exclusion(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    child = home["pupil"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    soup = page(
        post(
            client,
            f"/pupils/{child.id}/movements/new",
            {
                "kind": "permanent_exclusion",
                **date_fields("date", date(2025, 11, 6)),
                "setting": str(home["school"].id),
            },
        )
    )
    assert errors(soup) == ["Enter the reason"]
    response = post(
        client,
        f"/pupils/{child.id}/movements/new",
        {
            "kind": "permanent_exclusion",
            **date_fields("date", date(2025, 11, 6)),
            "setting": str(home["school"].id),
            "reason": "Serious assault",
        },
    )
    assert response.status_code == 302
    db.refresh(child)
    # Still on the school's roll while the exclusion is in process; the page says what comes next.
    assert child.home_school_id == home["school"].id
    shown = text(page(client.get(f"/pupils/{child.id}")))
    assert "Permanent exclusion from " + home["school"].name + " In process" in shown
    assert "The governing board must consider reinstatement by 27 November 2025" in shown
    response = post(
        client,
        f"/pupils/{child.id}/movements/new",
        {"kind": "exclusion_upheld", **date_fields("date", date(2025, 11, 13)), "setting": str(home["school"].id)},
    )
    assert response.status_code == 302
    with clock.fixed(date(2025, 11, 20)):
        shown = text(page(client.get(f"/pupils/{child.id}")))
    assert "The board will not reinstate: the parents were told on 13 November 2025." in shown
    assert "They may ask for an independent review until 4 December 2025" in shown
    assert "Comes off " + home["school"].name + "'s roll on 5 December 2025" in shown
    # A year on, the exclusion is over: the name came off when the time to ask for a review passed.
    shown = text(page(client.get(f"/pupils/{child.id}")))
    assert "In process" not in shown
    assert "Came off " + home["school"].name + "'s roll on 5 December 2025, once the time to ask" in shown


def test_the_placements_register_filters_and_exports(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    sign_in(client, home["users"][Role.COMMISSIONER].email)
    soup = page(client.get("/placements?route=off_site_direction"))
    assert "1 placement match" in text(soup)
    soup = page(client.get("/placements?route=la_health"))
    assert "0 placements match" in text(soup)
    soup = page(client.get("/placements?status=ended"))
    assert "0 placements match" in text(soup)
    response = client.get("/placements/export.csv?route=off_site_direction")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["upn"], r["route"], r["home_school_code"]) for r in rows] == [
        (home["pupil"].upn, "off_site_direction", "D")
    ]
    response = client.get("/placements/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None and sheet.max_row == 2
    exported = db.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [(e.detail["format"], e.detail["rows"]) for e in exported] == [("csv", 1), ("xlsx", 1)]


def test_an_unregistered_provider_s_oversight_record(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    farm = home["farm"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    soup = page(client.get(f"/settings/{farm.id}"))
    assert "No written confirmation of staff safeguarding checks" in text(soup)
    # The independent-school test can tell of a looked-after child: only the LA's overseers see it.
    assert "Independent-school test" not in text(soup)
    assert not soup.find(string="Update the oversight record")
    assert client.get(f"/settings/{farm.id}/oversight").status_code == 403
    post(client, "/sign-out", {})
    sign_in(client, home["users"][Role.COMMISSIONER].email)
    soup = page(
        post(
            client, f"/settings/{farm.id}/oversight", {"contact_name": "Sam Lowe", "safeguarding_checks_confirmed": "y"}
        )
    )
    assert errors(soup) == ["Enter the date of the written confirmation"]
    response = post(
        client,
        f"/settings/{farm.id}/oversight",
        {
            "contact_name": "Sam Lowe",
            "safeguarding_checks_confirmed": "y",
            **date_fields("safeguarding_checks_date", clock.today()),
            **date_fields("last_qa_visit_date", clock.today()),
            **date_fields("risk_assessment_date", clock.today()),
            "sites": "Mill Lane Farm, Upwell\n\nYard 2, Upwell",
        },
    )
    assert response.status_code == 302
    soup = page(client.get(f"/settings/{farm.id}"))
    assert "Complete" in text(soup) and "Yard 2, Upwell" in text(soup)
    # The commissioner sees the independent-school test, counted today, in numbers only.
    assert "Today: 0 pupils of compulsory school age full time (5 or more makes it an independent school)." in text(
        soup
    )


def test_settings_are_listed_for_the_user_s_own_area(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.ATTENDANCE_OFFICER].email)
    soup = page(client.get("/settings"))
    names = [a.get_text(strip=True) for a in soup.select("table a")]
    assert "Home PRU" in names and "Other PRU" not in names
    assert client.get(f"/settings/{world['other']['pru'].id}").status_code == 404


def test_converting_a_time_limited_placement(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    placement = home["placement"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    soup = page(client.get(f"/placements/{placement.id}"))
    assert "Convert to a transitional placement" not in text(soup)
    # An off-site direction is time-limited by law: it cannot become transitional.
    soup = page(
        post(
            client,
            f"/placements/{placement.id}/convert",
            {**date_fields("on", date(2025, 12, 1)), "reason": "Return to school is no longer possible"},
        )
    )
    assert errors(soup) == [
        "Off-site direction (s29A Education Act 2002) is time-limited: arrange a transitional place instead"
    ]


def test_pages_show_line_breaks_and_links_never_their_markup_as_text(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    from ap_register.models import SettingSite

    home = world["home"]
    pru, farm, placement = home["pru"], home["farm"], home["placement"]
    pru.name = "Oaks & <b>Co</b>"  # markup in a name is the name's text, never markup
    db.add_all(
        [
            SettingSite(setting_id=farm.id, address="Mill Lane Farm, Upwell"),
            SettingSite(setting_id=farm.id, address="Yard 2 & 3, Upwell"),
        ]
    )
    db.commit()
    sign_in(client, home["users"][Role.LA_ADMIN].email)

    def shown_as_text(soup: Any) -> list[str]:
        return [tag for tag in ("<br", "<a ", "</a>", "<strong", "<li") if tag in text(soup)]

    soup = page(client.get(f"/placements/{placement.id}/confirmation"))
    panel = soup.select_one(".govuk-panel__body")
    assert list(panel.stripped_strings) == ["Robin Homechild", "at Oaks & <b>Co</b>"]
    assert panel.find("br") is not None and panel.find("b") is None
    assert shown_as_text(soup) == []

    soup = page(client.get(f"/placements/{placement.id}"))
    links = {a.get_text(): a["href"] for a in soup.select(".govuk-summary-list__value a")}
    assert links["Robin Homechild"] == f"/pupils/{home['pupil'].id}"
    assert links["Oaks & <b>Co</b>"] == f"/settings/{pru.id}"
    assert shown_as_text(soup) == []

    soup = page(client.get(f"/alerts/{home['alert'].id}"))
    assert [a.get_text() for a in soup.select(".govuk-summary-list__value a")] == ["Robin Homechild"]
    assert shown_as_text(soup) == []

    soup = page(client.get(f"/settings/{farm.id}"))
    sites = [li.get_text() for li in soup.select(".govuk-summary-list__value li")]
    assert sites == ["Mill Lane Farm, Upwell", "Yard 2 & 3, Upwell"]
    assert shown_as_text(soup) == []

    soup = page(client.get(f"/budgets/{home['plan'].id}"))
    inset = soup.select_one(".govuk-inset-text")
    assert inset.strong.get_text() == "How changes in demand are managed:" and "From the reserve" in inset.get_text()
    assert shown_as_text(soup) == []


def test_a_parent_s_request_for_a_review_of_an_off_site_direction(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    placement = home["placement"]  # the world's off-site direction
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    soup = page(client.get(f"/placements/{placement.id}"))
    assert "Requests for a review meeting" in text(soup) and "None recorded." in text(soup)
    url = f"/placements/{placement.id}/review-request"
    soup = page(post(client, url, {"requested_by": "la", **date_fields("requested_on", date(2025, 11, 3))}))
    assert errors(soup)[0].endswith("has no EHC plan recorded: only the parent (or the pupil, at 18) may ask")
    response = post(client, url, {"requested_by": "parent", **date_fields("requested_on", date(2025, 11, 3))})
    assert response.status_code == 302
    soup = page(client.get(f"/placements/{placement.id}"))
    assert "3 November 2025: The parent (or the pupil, at 18). A review meeting is due" in text(soup)


def test_a_school_records_the_written_notice_and_prints_the_letter(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    from tests import factories

    home = world["home"]
    child = factories.pupil(db, home["la"], home["school"], first_name="Jamie", last_name="Noticed")
    placement = factories.placement(
        db,
        child,
        home["pru"],
        start=date(2025, 11, 5),
        notice_date=date(2025, 11, 3),
        planned_end_date=date(2025, 12, 19),
        **{name: None for name in factories.NOTICE},
    )
    db.commit()
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    soup = page(client.get(f"/placements/{placement.id}/notice-letter"))
    assert soup.h1.get_text(strip=True) == "The letter cannot be made yet"
    assert "who the pupil reports to on the first day" in text(soup)
    # The form starts from what the register knows (the setting's one site) and saves the rest.
    response = post(
        client,
        f"/placements/{placement.id}/notice",
        {
            "notice_address": "Home PRU, 1 Mill Lane, Leicester",
            "notice_report_to": "Ms A Khan, head of centre",
            "notice_session_times": "9am to 12pm and 12:45pm to 3pm",
            "notice_reasons": "To re-engage with learning and return by February",
        },
    )
    assert response.status_code == 302
    soup = page(client.get(f"/placements/{placement.id}/notice-letter"))
    assert soup.h1.get_text(strip=True) == "Notice of an off-site direction"
    letter = text(soup)
    assert "To the parent or carer of Jamie Noticed" in letter
    assert "Until 19 December 2025, 33 school days" in letter
    assert "Ms A Khan, head of centre" in letter
    # A line break in a one-line answer is refused on the page, and nothing is saved.
    soup = page(post(client, f"/placements/{placement.id}/notice", {"notice_report_to": "Ms Khan\nhead"}))
    assert errors(soup)
    db.refresh(placement)
    assert placement.notice_report_to == "Ms A Khan, head of centre"


def test_a_child_s_home_and_parents_are_shown_to_the_la_s_officers_only(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    pupil = home["pupil"]
    pupil.home_address, pupil.home_postcode = "4 Mill Lane, Ely", "CB7 4AA"
    # A parent the LA's pupils file gave it: for its officers until one shares them.
    db.add(Contact(pupil_id=pupil.id, role="parent_carer", name="Jo Homechild", relation="not_known", audience="la"))
    pupil.ethnicity, pupil.fsm_start = "WIRT", date(2021, 9, 1)
    db.commit()
    for role, shown in ((Role.ATTENDANCE_OFFICER, True), (Role.SCHOOL_LEAD, False), (Role.AP_HEAD, False)):
        sign_in(client, home["users"][role].email)
        soup = page(client.get(f"/pupils/{pupil.id}"))
        assert ("4 Mill Lane, Ely, CB7 4AA" in text(soup), "Jo Homechild" in text(soup)) == (shown, shown), role
        # What the AP census asks, ethnicity above all (special category data), likewise.
        census = ("Traveller of Irish heritage" in text(soup), "Eligible from 1 September 2021" in text(soup))
        assert census == (shown, shown), role
