"""Each role's home page is the day's work: counts, due dates and the way in, read through the
person's scope (`home.work`). Today is 4 December 2026, a Friday, in the tests' clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.coverage.alerts import acknowledge
from ap_register.domain.actors import Actor
from ap_register.domain.vocab import Destination, Role, Route, SettingKind, Tier
from ap_register.models import Alert, AuditEvent, Notification
from ap_register.panels.rules import build_agenda, schedule_meeting
from ap_register.placements.rules import end_placement
from tests import factories
from tests.factories import SYSTEM
from tests.pages import page, sign_in, text

TODAY = date(2026, 12, 4)


def card(soup: Any, title_starts: str) -> dict[str, Any]:
    """A card of the home page as a person reads it: its summary and its items' lines."""
    heading = next(h for h in soup.select(".app-work h2") if h.get_text(strip=True).startswith(title_starts))
    section = heading.find_parent("section")
    return {
        "summary": section.select_one("p").get_text(" ", strip=True),
        "items": [" ".join(li.get_text(" ", strip=True).split()) for li in section.select("li")],
        "links": [a["href"] for a in section.select("li a")],
    }


def home(client: Any, email: str) -> Any:
    sign_in(client, email)
    soup = page(client.get("/"))
    assert soup.h1.get_text(strip=True) == "Your work today"
    return soup


def test_an_ap_head_sees_today_s_registers_who_arrives_and_who_is_here_now(
    client: Any, world: dict, db: Session
) -> None:
    area = world["home"]
    pru = area["pru"]
    # A pupil arriving in ten days, one whose placement here ended, one arriving in two months.
    arriving = factories.pupil(db, area["la"], area["second"], first_name="Ari", last_name="Soon")
    factories.placement(db, arriving, pru, start=TODAY + timedelta(days=10), notice_date=TODAY + timedelta(days=3))
    later = factories.pupil(db, area["la"], area["second"], first_name="Lee", last_name="Later")
    factories.placement(db, later, pru, start=TODAY + timedelta(days=60), notice_date=TODAY + timedelta(days=50))
    left = factories.pupil(db, area["la"], area["second"], first_name="Lou", last_name="Left")
    gone = factories.placement(db, left, pru, start=date(2025, 10, 6))
    end_placement(db, SYSTEM, gone, end_date=date(2026, 11, 27), destination=Destination.RETURNED_HOME_SCHOOL)
    db.commit()
    with clock.fixed(datetime(2026, 12, 4, 9, 15)):
        soup = home(client, area["users"][Role.AP_HEAD].email)
    registers = card(soup, "Today's registers")
    assert registers["summary"] == "1 register still to take"
    assert registers["items"] == [
        "Morning To take 0 of 1 pupil marked",
        "Afternoon 0 of 1 pupil marked (this afternoon)",
    ]
    assert "half=AM" in registers["links"][0] and "day=2026-12-04" in registers["links"][0]
    arrivals = card(soup, "Pupils arriving")
    assert arrivals["summary"] == "1 pupil starting in the next three weeks"
    assert [i.split(" Off-site")[0] for i in arrivals["items"]] == ["Ari Soon"]
    now = card(soup, "Your pupils now")
    assert now["summary"] == "1 pupil placed here today; 0 more on the roll"
    assert now["items"][0].startswith("Robin Homechild Overdue Placed")
    assert "Left" not in text(soup)
    # Marked, the morning's register is done.
    client.post(
        f"/attendance?setting={pru.id}&day=2026-12-04&half=AM",
        data={"csrf_token": _token(client, f"/attendance?setting={pru.id}&day=2026-12-04&half=AM")}
        | {f"mark-{area['pupil'].id}": "/"},
    )
    with clock.fixed(datetime(2026, 12, 4, 13, 30)):
        soup = page(client.get("/"))
    assert card(soup, "Today's registers")["items"][0] == "Morning Done 1 of 1 pupil marked"
    assert card(soup, "Today's registers")["summary"] == "1 register still to take"
    # The children named are recorded as seen by the head.
    seen = set(db.scalars(select(AuditEvent.pupil_id).where(AuditEvent.user_id == area["users"][Role.AP_HEAD].id)))
    assert {area["pupil"].id, arriving.id} <= seen and left.id not in seen and later.id not in seen


def _token(client: Any, url: str) -> str:
    from tests.pages import csrf_token

    return csrf_token(client, url)


def test_a_placement_with_a_provider_reaches_its_head_s_inbox(client: Any, world: dict, db: Session) -> None:
    area = world["home"]
    pupil = factories.pupil(db, area["la"], area["second"], first_name="Ari", last_name="Soon")
    placement = factories.placement(
        db, pupil, area["pru"], start=TODAY + timedelta(days=10), notice_date=TODAY + timedelta(days=3)
    )
    head = area["users"][Role.AP_HEAD]
    told = db.scalars(select(Notification).where(Notification.user_id == head.id)).all()
    assert [(n.kind, n.subject, n.link) for n in told] == [
        ("placement_arriving", "A pupil is placed at Home PRU from 14 December 2026", f"/placements/{placement.id}")
    ]
    assert "Ari" not in told[0].subject + told[0].body  # the inbox's emails name no child


def test_a_school_lead_sees_pupils_in_ap_referrals_and_directions_ending(client: Any, world: dict, db: Session) -> None:
    area = world["home"]
    ending = factories.pupil(db, area["la"], area["school"], first_name="Eli", last_name="Ending")
    factories.placement(
        db,
        ending,
        area["pru"],
        start=date(2026, 11, 2),
        planned_end_date=TODAY + timedelta(days=7),
        tier=Tier.TIME_LIMITED,
    )
    db.commit()
    soup = home(client, area["users"][Role.SCHOOL_LEAD].email)
    in_ap = card(soup, "Your pupils in alternative provision")
    assert in_ap["summary"] == "2 placements now or starting soon"
    # The overdue review first.
    assert in_ap["items"][0].startswith("Robin Homechild Overdue At Home PRU: Off-site direction")
    referrals = card(soup, "Your referrals")
    assert referrals["summary"] == "1 referral with the panel"
    assert referrals["items"] == ["Robin Homechild Waiting for the panel Sent 10 November 2025"]
    ending_card = card(soup, "Directions ending")
    assert ending_card["items"] == ["Eli Ending At Home PRU; planned to end 11 December 2026"]
    assert "Other" not in text(soup) and world["other"]["pupil"].full_name not in text(soup)


def test_the_attendance_officer_sees_the_week_below_full_time_and_alerts_with_owners(
    client: Any, world: dict, db: Session
) -> None:
    area = world["home"]
    officer = area["users"][Role.ATTENDANCE_OFFICER]
    farm_only = factories.pupil(db, area["la"], None, first_name="Una", last_name="Farm")
    factories.placement(
        db,
        farm_only,
        area["farm"],
        route=Route.LA_OTHER,
        registration=factories.Registration.NONE,
        sessions="1100000000",
        start=date(2026, 11, 2),
    )
    acknowledge(db, Actor(user=officer, via="test"), db.get(Alert, area["alert"].id))
    db.commit()
    soup = home(client, officer.email)
    week = card(soup, "Full-time education this week")
    assert week["summary"] == "1 pupil of 2 below full time in the week of 30 November 2026"
    assert week["items"][0].startswith("Una Farm 2 of 10 sessions; below full time")
    alerts = card(soup, "Alerts")
    assert alerts["summary"] == "1 open alert, 1 past due"
    assert alerts["items"] == [
        f"Review overdue Overdue Robin Homechild; due 3 November 2025; taken on by {officer.name}"
    ]
    see_all = next(a for a in soup.select("main a") if a.get_text(strip=True).startswith("See the week's coverage"))
    assert see_all["href"] == "/coverage?week=2026-11-30&flag=below_full_time"


def test_the_panel_s_chair_sees_the_next_meeting_and_its_deadlines(client: Any, world: dict, db: Session) -> None:
    area = world["home"]
    meeting = schedule_meeting(db, SYSTEM, area["panel"], date(2026, 12, 9), "Town Hall")
    build_agenda(db, SYSTEM, meeting)
    db.commit()
    soup = home(client, area["users"][Role.PANEL_CHAIR].email)
    next_meeting = card(soup, "Next meeting: 9 December 2026")
    assert next_meeting["summary"] == "Home Panel, Town Hall: 1 case"
    assert next_meeting["items"] == ["Robin Homechild Managed move to Home Academy"]


def test_an_la_administrator_sees_the_census_imports_and_people_yet_to_sign_in(
    client: Any, world: dict, db: Session
) -> None:
    area = world["home"]
    newcomer = factories.user(db, Role.SCHOOL_LEAD, area["second"], email="new.lead@example.org")
    db.commit()
    soup = home(client, area["users"][Role.LA_ADMIN].email)
    assert card(soup, "AP census, 21 January 2027")["summary"].endswith("no errors")
    waiting = card(soup, "Awaiting first sign-in")
    assert any(item.startswith(newcomer.name) for item in waiting["items"])
    assert all(area["users"][Role.LA_ADMIN].name not in item for item in waiting["items"])  # signed in now
    assert card(soup, "Imports")["summary"] == "No files loaded yet"


def test_a_commissioner_sees_the_budget_and_providers_below_the_benchmark(client: Any, world: dict) -> None:
    soup = home(client, world["home"]["users"][Role.COMMISSIONER].email)
    assert card(soup, "Budget")["summary"] == "No agreed budget plan covers 4 December 2026"
    assert (
        card(soup, "Provider outcomes, 2025/26")["summary"] == "0 providers below the benchmark on at least one outcome"
    )


def test_every_role_has_a_home_page_of_its_own(client: Any, world: dict) -> None:
    titles = {}
    for role in Role:
        soup = home(client, world["home"]["users"][role].email)
        titles[role] = [h.get_text(strip=True) for h in soup.select(".app-work h2")]
        client.post("/sign-out", data={"csrf_token": _token(client, "/")})
    assert titles[Role.AP_HEAD][0] == "Today's registers"
    assert titles[Role.SCHOOL_LEAD][0] == "Your pupils in alternative provision"
    assert titles[Role.ATTENDANCE_OFFICER][0] == "Full-time education this week"
    assert titles[Role.PANEL_MEMBER] == ["Panel meetings"]
    assert titles[Role.COMMISSIONER][0].startswith("Budget")
    assert titles[Role.LA_ADMIN][0] == "Alerts"
    assert SettingKind.PRU  # the head's setting is a PRU in the world


def test_each_role_works_in_a_few_sections_with_its_account_in_the_header(client: Any, world: dict) -> None:
    """The service navigation holds the sections of a role's work (seven at most, one row), the
    current one marked; the inbox, the account and signing out are in the header."""
    navs = {}
    for role in Role:
        user = world["home"]["users"][role]
        sign_in(client, user.email)
        soup = page(client.get("/placements"))
        navs[role] = [a.get_text(strip=True) for a in soup.select(".govuk-service-navigation__link")]
        assert len(navs[role]) <= 7, role
        current = soup.select(".govuk-service-navigation__item--active")
        assert [c.get_text(strip=True) for c in current] == ["Placements"], role
        header = soup.select_one(".app-header__account").get_text(" ", strip=True)
        assert header.startswith("Inbox") and user.name in header and header.endswith("Sign out")
        client.post("/sign-out", data={"csrf_token": _token(client, "/")})
    assert navs[Role.ATTENDANCE_OFFICER] == ["Find a pupil", "Coverage", "Alerts", "Registers", "Placements", "Returns"]
    assert navs[Role.AP_HEAD] == ["Find a pupil", "Registers", "Placements", "Outreach", "Outcomes", "Budget", "Alerts"]
    assert navs[Role.PANEL_MEMBER] == ["Find a pupil", "Panels", "Placements", "Alerts"]
    assert navs[Role.SCHOOL_LEAD] == [
        "Find a pupil", "Placements", "Referrals", "Find a provider", "Registers", "Returns", "Alerts"
    ]  # fmt: skip
    assert navs[Role.COMMISSIONER][2:4] == ["Commissioning", "Budget"]
    assert "Administration" in navs[Role.LA_ADMIN] and "Administration" not in navs[Role.COMMISSIONER]
