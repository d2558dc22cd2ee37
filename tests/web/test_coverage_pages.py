"""The attendance officer's pages: coverage of a week, the alert inbox, registers."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.coverage.alerts import raise_alerts
from ap_register.domain.vocab import MovementKind, Registration, Role, Route, Tier
from ap_register.models import Alert, AttendanceMark, AuditEvent
from ap_register.placements.rules import record_roll_movement
from tests import factories
from tests.factories import SYSTEM
from tests.pages import errors, page, post, sign_in, text

WEEK = "?week=10&week=11&week=2025"


def below_full_time(db: Session, world: dict):  # type: ignore[no-untyped-def,type-arg]
    """An excluded pupil with six sessions arranged."""
    home = world["home"]
    pupil = factories.pupil(
        db, home["la"], home["school"], first_name="Jordan", last_name="Fletcher", on=date(2025, 9, 3)
    )
    record_roll_movement(
        db,
        SYSTEM,
        pupil,
        MovementKind.PERMANENT_EXCLUSION,
        date(2025, 10, 1),
        home["school"],
        reason="Assault",
        today=date(2025, 10, 1),
    )
    factories.placement(
        db,
        pupil,
        home["pru"],
        route=Route.LA_EXCLUSION,
        registration=Registration.DUAL,
        tier=Tier.TRANSITIONAL,
        sessions="1111110000",
        start=date(2025, 10, 8),
    )
    db.commit()
    return pupil


def test_the_week_shows_flagged_pupils_first_with_their_gaps(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    pupil = below_full_time(db, world)
    sign_in(client, world["home"]["users"][Role.ATTENDANCE_OFFICER].email)
    soup = page(client.get("/coverage" + WEEK))
    assert "Week beginning 10 November 2025" in text(soup)
    first = soup.select("table.app-coverage tbody tr")[0]
    assert "Fletcher, Jordan" in first.get_text(" ")
    cells = [td.get_text(" ", strip=True) for td in first.select("td")][1:]
    assert cells[:6] == ["Home PRU"] * 6 and cells[6:] == ["None"] * 4
    assert "Below full time" in first.get_text(" ")
    soup = page(client.get("/coverage" + WEEK + "&flag=below_full_time"))
    assert len(soup.select("table.app-coverage tbody tr")) == 1
    response = client.get("/coverage/export.csv" + WEEK)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["gaps"] for r in rows if r["upn"] == pupil.upn] == ["Thu AM; Thu PM; Fri AM; Fri PM"]


def test_a_busy_week_is_shown_fifty_pupils_a_page_the_most_serious_first(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    for n in range(60):
        pupil = factories.pupil(db, home["la"], home["school"], last_name=f"Shared{n:02d}", on=date(2025, 9, 3))
        factories.placement(db, pupil, home["pru"], sessions="1111111111", start=date(2025, 11, 3))
    fletcher = below_full_time(db, world)
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    soup = page(client.get("/coverage" + WEEK))
    rows = soup.select("table.app-coverage tbody tr")
    assert len(rows) == 50 and "Fletcher, Jordan" in rows[0].get_text(" ")
    assert "62 pupils in scope" in text(soup) and "Page 1 of 2 (62 in all)" in text(soup)
    following = soup.select_one(".govuk-pagination__next a")["href"]
    assert "week=2025-11-10" in following and "page=2" in following
    soup = page(client.get(following))
    names = [r.select_one("th").get_text(" ", strip=True) for r in soup.select("table.app-coverage tbody tr")]
    assert len(names) == 12 and not any("Fletcher" in n for n in names)
    assert "Page 2 of 2" in text(soup)
    # The download holds every pupil, not a page.
    download = client.get("/coverage/export.csv" + WEEK).get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(download)))) == 62 and fletcher.upn in download


def test_the_week_s_own_links_move_the_week_and_keep_the_flag(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    below_full_time(db, world)
    sign_in(client, world["home"]["users"][Role.ATTENDANCE_OFFICER].email)
    soup = page(client.get("/coverage" + WEEK))
    assert "Week beginning 10 November 2025" in text(soup)
    following = soup.find("a", string="Next week")["href"]
    soup = page(client.get(following))
    assert errors(soup) == [] and "Week beginning 17 November 2025" in text(soup)
    # The date boxes show the week a link chose, as a person would have typed it.
    assert [box["value"] for box in soup.select("input[name=week]")] == ["17", "11", "2025"]
    soup = page(client.get(soup.find("a", string="Previous week")["href"]))
    assert "Week beginning 10 November 2025" in text(soup)
    flag_link = soup.select_one("a[href*='flag=']")["href"]
    soup = page(client.get(flag_link))
    assert errors(soup) == [] and "Week beginning 10 November 2025" in text(soup)
    # A date a person mistyped into a link is refused as the boxes would be, on the same page.
    soup = page(client.get("/coverage?week=2025-02-30"))
    assert errors(soup) == ["Week beginning must be a real date"]


def test_a_half_term_week_says_there_is_no_school(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.ATTENDANCE_OFFICER].email)
    soup = page(client.get("/coverage?week=27&week=10&week=2025"))
    assert "There are no school days in this week" in text(soup)


def test_a_week_without_term_dates_is_explained(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.ATTENDANCE_OFFICER].email)
    soup = page(client.get("/coverage?week=4&week=9&week=2028"))
    assert "No term dates are recorded" in text(soup)


def test_the_alert_inbox_and_resolving_an_alert(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    pupil = below_full_time(db, world)
    raise_alerts(db, world["home"]["la"], date(2025, 11, 12))
    db.commit()
    officer = world["home"]["users"][Role.ATTENDANCE_OFFICER]
    sign_in(client, officer.email)
    soup = page(client.get("/alerts"))
    listed = [a.get_text(strip=True) for a in soup.select("tbody a")]
    # Six sessions a week is not full-time: the LA's sixth-day duty is not met either.
    assert listed == ["No full-time provision from the sixth school day of a permanent exclusion", "Below full time"]
    # The review alert made with the test's area was no longer found, so the register resolved it.
    assert db.get(Alert, world["home"]["alert"].id).status == "resolved"
    alert = db.scalars(select(Alert).where(Alert.kind == "below_full_time", Alert.pupil_id == pupil.id)).one()
    soup = page(client.get(f"/alerts/{alert.id}"))
    assert "6 of 10 sessions covered in the week of 10 November 2025" in text(soup)
    post(client, f"/alerts/{alert.id}", {"ack-submit": "Acknowledge"})
    db.refresh(alert)
    assert alert.status == "acknowledged" and alert.acknowledged_by_id == officer.id
    soup = page(post(client, f"/alerts/{alert.id}", {"resolve-note": "no", "resolve-submit": "Resolve"}))
    assert errors(soup) == ["Say what was done, in at least 10 characters"]
    # Not while the register still finds it: the page says so.
    soup = page(
        post(
            client,
            f"/alerts/{alert.id}",
            {"resolve-note": "Tuition arranged for the afternoons", "resolve-submit": "Resolve"},
        )
    )
    assert errors(soup)[0].startswith("The register still finds this on 4 December 2026: ")
    # The afternoons arranged (tuition at the farm), the finding goes and a person may resolve it.
    factories.placement(
        db,
        pupil,
        world["home"]["farm"],
        route=Route.LA_OTHER,
        registration=Registration.NONE,
        sessions="0000001111",
        start=date(2026, 11, 30),
        unregistered_override_reason="Afternoon tuition until the PRU place is full time",
    )
    db.commit()
    response = post(
        client,
        f"/alerts/{alert.id}",
        {"resolve-note": "Tuition arranged for the afternoons", "resolve-submit": "Resolve"},
    )
    assert response.status_code == 302
    db.refresh(alert)
    assert alert.status == "resolved" and alert.resolved_by_id == officer.id
    # The pupil's page lists their open alerts; the resolved one has gone.
    soup = page(client.get(f"/pupils/{pupil.id}"))
    assert "Below full time" not in text(soup)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "resolve", AuditEvent.user_id == officer.id))


def test_alerts_are_given_to_a_person_and_acknowledged_together_from_the_list(
    client: Any, world: dict, db: Session
) -> None:  # type: ignore[type-arg]
    below_full_time(db, world)
    raise_alerts(db, world["home"]["la"], date(2025, 11, 12))
    db.commit()
    officer = world["home"]["users"][Role.ATTENDANCE_OFFICER]
    sign_in(client, officer.email)
    alerts = db.scalars(
        select(Alert).where(Alert.status == "open", Alert.la_id == world["home"]["la"].id).order_by(Alert.id)
    ).all()
    # Given to a colleague on its page, shown on the list.
    page(client.get(f"/alerts/{alerts[0].id}"))
    post(client, f"/alerts/{alerts[0].id}", {"owner-owner": str(officer.id), "owner-submit": "Give the alert"})
    db.refresh(alerts[0])
    assert alerts[0].assigned_to_id == officer.id
    soup = page(client.get("/alerts"))
    assert officer.name in text(soup)
    # None chosen: the list says so; both chosen, both acknowledged with the note.
    soup = page(post(client, "/alerts", {"bulk-note": "Calling the school", "bulk-submit": "Acknowledge"}))
    assert errors(soup) == ["Choose the alerts to acknowledge"]
    response = post(
        client,
        "/alerts",
        {"bulk-alerts": [str(a.id) for a in alerts], "bulk-note": "Calling the school", "bulk-submit": "Acknowledge"},
    )
    assert response.status_code == 302
    for alert in alerts:
        db.refresh(alert)
        assert (alert.status, alert.acknowledgement_note) == ("acknowledged", "Calling the school")


def test_a_panel_member_sees_alerts_but_cannot_act_on_them(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    alert = world["home"]["alert"]
    sign_in(client, world["home"]["users"][Role.PANEL_MEMBER].email)
    soup = page(client.get(f"/alerts/{alert.id}"))
    assert not soup.select("textarea")
    assert post(client, f"/alerts/{alert.id}", {"ack-submit": "Acknowledge"}).status_code == 403


def test_taking_a_register(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    head = home["users"][Role.AP_HEAD]
    sign_in(client, head.email)
    url = f"/attendance?setting={home['pru'].id}&day=6&day=10&day=2025&half=AM"
    soup = page(client.get(url))
    labels = [label.get_text(strip=True) for label in soup.select("label.govuk-visually-hidden")]
    assert labels == ["Code for Robin Homechild"]
    soup = page(post(client, url, {f"mark-{home['pupil'].id}": "ZZ"}))
    assert errors(soup) == ["'ZZ' is not a national attendance code"]
    response = post(client, url, {f"mark-{home['pupil'].id}": "/"})
    assert response.status_code == 302
    mark = db.scalars(select(AttendanceMark)).one()
    assert (mark.code, mark.session, mark.recorded_by_id) == ("/", "AM", head.id)
    # After saving, the picker still names the register just saved.
    soup = page(client.get(response.headers["Location"]))
    assert [soup.select_one(f"#day-{part}")["value"] for part in ("day", "month", "year")] == ["6", "10", "2025"]
    assert soup.select_one("#half option[selected]")["value"] == "AM"
    # Another setting's register is not this head's to take.
    assert client.get(f"/attendance?setting={home['school'].id}").status_code == 403


def test_a_register_is_quick_to_take(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    """The session's own present mark first and the common codes next, none that the session
    cannot take; and everyone not yet marked marked present at once."""
    home = world["home"]
    second = factories.pupil(db, home["la"], home["second"], first_name="Ari", last_name="Second")
    factories.placement(db, second, home["pru"], start=date(2025, 10, 6), notice_date=date(2025, 9, 29))
    db.commit()
    sign_in(client, home["users"][Role.AP_HEAD].email)
    url = f"/attendance?setting={home['pru'].id}&day=2025-10-06&half=PM"
    soup = page(client.get(url))
    offered = [o["value"] for o in soup.select(f"#mark-{home['pupil'].id} option")]
    assert offered[:4] == ["", "\\", "L", "D"] and "/" not in offered
    response = post(client, url, {f"mark-{home['pupil'].id}": "I", f"mark-{second.id}": "", "mark_all": "1"})
    assert response.status_code == 302
    marks = dict(db.execute(select(AttendanceMark.pupil_id, AttendanceMark.code)).all())
    assert marks == {home["pupil"].id: "I", second.id: "\\"}
    # At the home school, a pupil booked elsewhere this session is left for their D, B, K or C2.
    here = factories.pupil(db, home["la"], home["school"], first_name="Ola", last_name="Here")
    db.commit()
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    url = f"/attendance?setting={home['school'].id}&day=2025-10-07&half=AM"
    assert post(client, url, {"mark_all": "1"}).status_code == 302
    marked = dict(
        db.execute(
            select(AttendanceMark.pupil_id, AttendanceMark.code).where(AttendanceMark.setting_id == home["school"].id)
        ).all()
    )
    assert marked == {here.id: "/"}


def test_a_register_is_taken_on_school_days_and_the_picker_names_it(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    """No register on a bank holiday, in the holidays of the LA's term dates, or ahead of its day:
    the page says why instead of offering a form to refuse. Opened with nothing chosen, the
    picker shows the session whose register is below it."""
    from ap_register import clock

    home = world["home"]
    sign_in(client, home["users"][Role.AP_HEAD].email)
    base = f"/attendance?setting={home['pru'].id}&half=AM&day="
    for day, why in (
        ("2025-12-25", "25 December 2025 is a bank holiday: registers are taken on school days"),
        ("2025-10-27", "27 October 2025 is outside Leicestershire's term dates: registers are taken on school days"),
        ("2026-12-07", "7 December 2026 is in the future: a register is taken on the day, for the session"),
        ("2025-10-11", "11 October 2025 is a Saturday: registers are taken on school days"),
    ):
        soup = page(client.get(base + day))
        assert why in text(soup), day
        assert not soup.select("select.app-code-select") and "Save the register" not in text(soup)
        assert post(client, base + day, {f"mark-{home['pupil'].id}": "/"}).status_code == 200
    with clock.fixed(datetime(2025, 10, 6, 14, 30)):  # a Monday afternoon
        soup = page(client.get(f"/attendance?setting={home['pru'].id}"))
    assert [soup.select_one(f"#day-{part}")["value"] for part in ("day", "month", "year")] == ["6", "10", "2025"]
    assert soup.select_one("#half option[selected]")["value"] == "PM"
    assert "6 October 2025, afternoon" in text(soup) and soup.select("select.app-code-select")


def test_a_register_records_as_seen_only_the_children_it_shows(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    """A child who has left the school is not on its register, and opening the register does not
    put that child's record on the audit trail as seen by the school."""
    home = world["home"]
    lead = home["users"][Role.SCHOOL_LEAD]
    left = factories.pupil(db, home["la"], home["school"], first_name="Jo", last_name="Leaver", on=date(2025, 9, 3))
    record_roll_movement(
        db, SYSTEM, left, MovementKind.ADMITTED, date(2025, 11, 3), home["second"], today=date(2025, 11, 3)
    )
    db.commit()
    sign_in(client, lead.email)
    soup = page(client.get(f"/attendance?setting={home['school'].id}&day=10&day=11&day=2025&half=AM"))
    assert "Leaver" not in text(soup) and "Homechild" in text(soup)
    seen = db.scalars(select(AuditEvent.pupil_id).where(AuditEvent.user_id == lead.id)).all()
    assert home["pupil"].id in seen and left.id not in seen


def test_the_term_shows_each_week_s_count_as_the_daily_checks_kept_it(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    from ap_register import clock
    from ap_register.jobs import daily_alerts

    below_full_time(db, world)
    # The daily checks of Thursday 13 November count that week (Jordan is one below full time).
    summary = daily_alerts(db, date(2025, 11, 13))
    db.commit()
    assert summary["855"]["below_full_time"] == 1
    sign_in(client, world["home"]["users"][Role.ATTENDANCE_OFFICER].email)
    with clock.fixed(date(2025, 11, 20)):
        soup = page(client.get("/coverage"))
        link = soup.find("a", string="coverage over the term")
        assert link is not None
        soup = page(client.get(link["href"]))
    assert soup.h1.get_text(strip=True) == "Coverage over the term"
    rows = {
        tr.th.get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
        for tr in soup.select("table tbody tr")
    }
    assert list(rows)[0] == "17 November 2025" and list(rows)[-1] == "1 September 2025"  # this week first
    assert "27 October 2025" not in rows  # half term
    pupils, below, none = rows["10 November 2025"][:3]
    assert int(pupils) >= 2 and below == "1" and none == "0"
    assert rows["3 November 2025"][0] == "Not counted"
    assert soup.select_one("svg[role=img]")["aria-label"].startswith("Pupils below full time each week")

    # The area's counts are the LA's: a provider's head sees neither the page nor the link.
    sign_in(client, world["home"]["users"][Role.AP_HEAD].email)
    assert client.get("/coverage/term").status_code == 403
    with clock.fixed(date(2025, 11, 20)):
        assert page(client.get("/coverage")).find("a", string="coverage over the term") is None
