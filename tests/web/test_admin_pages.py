"""LA administration: users, term dates, thresholds and imports through the pages."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from typing import Any
from urllib.parse import unquote

from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import Role
from ap_register.models import LocalAuthority, Pupil, TermDate, User
from tests.pages import date_fields, errors, page, post, sign_in, text


def test_only_la_admins_reach_administration(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.COMMISSIONER].email)
    assert client.get("/admin/").status_code == 403
    assert "Administration" not in text(page(client.get("/")), "header")


def test_adding_a_user_gives_a_one_time_temporary_password(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    soup = page(
        post(
            client,
            "/admin/users/new",
            {
                "email": "new.lead@example.org",
                "name": "New Lead",
                "role": "school_lead",
                "organisation": f"la:{home['la'].id}",
            },
        )
    )
    assert errors(soup) == [
        "School lead (head, SENCo, inclusion lead) is a role in a setting: choose a setting, not an LA"
    ]
    soup = page(
        post(
            client,
            "/admin/users/new",
            {
                "email": "new.lead@example.org",
                "name": "New Lead",
                "role": "school_lead",
                "organisation": f"setting:{home['school'].id}",
            },
        )
    )
    temporary = soup.select_one("code")
    assert temporary is not None and len(temporary.get_text()) >= 12
    # Read out over the phone: lower case and digits in groups of four, none that look alike.
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", temporary.get_text())
    assert not set(temporary.get_text()) & set("0o1li")
    created = db.scalar(select(User).where(User.email == "new.lead@example.org"))
    assert created is not None and created.must_change_password
    # A setting of another LA is not offered, and cannot be forced.
    response = post(
        client,
        "/admin/users/new",
        {
            "email": "x@example.org",
            "name": "X",
            "role": "school_lead",
            "organisation": f"setting:{world['other']['school'].id}",
        },
    )
    assert response.status_code == 200 and db.scalar(select(User).where(User.email == "x@example.org")) is None


def test_deactivating_a_user(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    admin = home["users"][Role.LA_ADMIN]
    officer = home["users"][Role.ATTENDANCE_OFFICER]
    sign_in(client, admin.email)
    soup = page(post(client, f"/admin/users/{admin.id}", {}))
    assert errors(soup) == ["You cannot deactivate your own account"]
    post(client, f"/admin/users/{officer.id}", {})
    db.refresh(officer)
    assert not officer.active


def test_term_dates_are_added_checked_and_removed(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    la = world["home"]["la"]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    response = post(
        client,
        "/admin/term-dates",
        {**date_fields("start_date", date(2027, 9, 1)), **date_fields("end_date", date(2027, 10, 22))},
    )
    assert response.status_code == 302
    assert "1 September 2027" in text(page(client.get("/admin/term-dates")))
    soup = page(
        post(
            client,
            "/admin/term-dates",
            {**date_fields("start_date", date(2027, 10, 1)), **date_fields("end_date", date(2027, 12, 17))},
        ),
        200,
    )
    assert errors(soup) == ["Overlaps the stretch from 1 September 2027 to 22 October 2027"]
    stretch = db.scalar(select(TermDate).where(TermDate.la_id == la.id, TermDate.start_date == date(2027, 9, 1)))
    assert stretch is not None
    stretch_id = stretch.id
    post(client, f"/admin/term-dates/{stretch_id}/delete", {})
    assert db.scalar(select(TermDate).where(TermDate.id == stretch_id)) is None


def test_local_thresholds(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    la = world["home"]["la"]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    soup = page(
        post(
            client,
            "/admin/thresholds",
            {
                "review_interval_school_days": "90",
                "unregistered_session_cap": "4",
                "part_time_timetable_max_school_days": "30",
            },
        )
    )
    assert errors(soup) == ["Enter a review interval between 5 and 60 school days"]  # the rule's own words
    post(
        client,
        "/admin/thresholds",
        {
            "review_interval_school_days": "20",
            "off_site_max_school_days": "30",
            "unregistered_session_cap": "3",
            "part_time_timetable_max_school_days": "20",
        },
    )
    db.refresh(la)
    assert (
        la.review_interval_school_days,
        la.off_site_max_school_days,
        la.unregistered_session_cap,
        la.part_time_timetable_max_school_days,
    ) == (20, 30, 3, 20)
    # The cap on sessions at an unregistered provider is the LA's own: the national limit is a
    # DfE proposal, not law; the provider's page says which limit applies.
    shown = text(page(client.get("/admin/thresholds")))
    assert "A local threshold, not a legal limit" in shown and "DfE standards" not in shown
    farm = world["home"]["farm"]
    shown = text(page(client.get(f"/settings/{farm.id}")))
    assert f"up to {la.name}'s local limit of 3 sessions a week (a local threshold" in shown


def upload(client: Any, kind: str, content: str, **fields: str) -> Any:
    """Send a CSV file to the import page (with `check` to check it only)."""
    data = {"kind": kind, "file": (io.BytesIO(content.encode()), f"{kind}.csv"), **fields}
    return post(client, "/admin/imports", data, content_type="multipart/form-data")


def test_an_import_with_bad_lines_lists_them_and_writes_nothing(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    good = make_upn("855500125001")
    content = (
        "upn,first_name,last_name,date_of_birth,home_la_code\n"
        f"{good},Sam,Taylor,2012-03-14,855\n"
        "NOT-A-UPN,Ali,Khan,2012-05-01,855\n"
        f"{make_upn('855500125002')},Jo,Reid,2012-05-01,856\n"
    )
    before = db.scalar(select(func.count()).select_from(Pupil))
    soup = page(upload(client, "pupils", content))
    assert soup.h1.get_text(strip=True) == "The file was not imported"
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in soup.select("tbody tr")]
    assert rows == [
        ["3", "upn", "A UPN must be 13 characters; this one has 9"],
        ["4", "home_la_code", "This import is for LA 855; this row is for 856"],
    ]
    # The same problems download as a CSV file, to correct the file from.
    download = soup.find("a", string=lambda s: s and s.startswith("Download the problems"))
    assert download["download"] == "pupils-problems.csv"
    assert unquote(download["href"].removeprefix("data:text/csv;charset=utf-8,")).splitlines() == [
        "line,column,problem",
        "3,upn,A UPN must be 13 characters; this one has 9",
        "4,home_la_code,This import is for LA 855; this row is for 856",
    ]
    assert db.scalar(select(func.count()).select_from(Pupil)) == before
    content = "upn,first_name,last_name,date_of_birth,home_la_code\n" + f"{good},Sam,Taylor,2012-03-14,855\n"
    soup = page(upload(client, "pupils", content))
    assert soup.h1.get_text(strip=True) == "File imported"
    assert db.scalar(select(func.count()).select_from(Pupil)) == before + 1


def test_a_file_checked_first_shows_what_it_would_change_and_writes_nothing(
    client: Any, world: dict, db: Session
) -> None:  # type: ignore[type-arg]
    la = world["home"]["la"]
    la.adopted_on = None  # an LA recording placements without an adoption date: imports do not set it
    db.commit()
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    assert "every placement is checked as new. To bring in placements from your old records" in text(
        page(client.get("/admin/imports"))
    )
    content = (
        f"upn,first_name,last_name,date_of_birth,home_la_code\n{make_upn('855500125001')},Sam,Taylor,2012-03-14,855\n"
    )
    before = db.scalar(select(func.count()).select_from(Pupil))
    soup = page(upload(client, "pupils", content, check="Check the file only"))
    assert soup.h1.get_text(strip=True) == "The file can be imported"
    summary = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True) for row in soup.select(".govuk-summary-list__row")
    }
    assert summary["Added"] == "1"
    assert "adoption date" not in text(soup)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Pupil)) == before
    assert db.get(LocalAuthority, la.id).adopted_on is None
    # Imported for real, the same file adds the pupil; the LA, already recording placements, is not
    # given an adoption date by it.
    soup = page(upload(client, "pupils", content))
    assert soup.h1.get_text(strip=True) == "File imported"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Pupil)) == before + 1
    assert db.get(LocalAuthority, la.id).adopted_on is None


def streamed(client: Any, kind: str, content: bytes, **fields: str) -> list[dict[str, Any]]:
    """Send a file as the page's script does, asking for the import's progress as it runs."""
    data = {"kind": kind, "file": (io.BytesIO(content), f"{kind}.csv"), **fields}
    response = post(
        client, "/admin/imports", data, content_type="multipart/form-data", headers={"Accept": "application/x-ndjson"}
    )
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_the_page_s_script_follows_a_large_file_s_progress_to_its_result(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    header = "upn,first_name,last_name,date_of_birth,home_la_code\n"
    content = (
        header + "".join(f"{make_upn(f'8556{n:08d}')},Sam,Taylor,2012-03-14,855\n" for n in range(1200))
    ).encode()
    before = db.scalar(select(func.count()).select_from(Pupil))

    events = streamed(client, "pupils", content)

    steps = [e for e in events if "phase" in e]
    # The file is read through first, then each line checked against the register; each bar
    # rises to the size of the file and never goes back.
    assert [e["phase"] for e in steps] == ["reading"] * 2 + ["checking"] * 2  # every 500 lines
    for phase in ("reading", "checking"):
        done = [e["done"] for e in steps if e["phase"] == phase]
        assert done == sorted(done) and 0 < done[-1] <= len(content)
    assert {e["size"] for e in steps} == {len(content)}
    # Last, the result page: the script puts its main content in place of the form.
    result = BeautifulSoup(events[-1]["page"], "html.parser")
    assert result.h1.get_text(strip=True) == "File imported"
    assert db.scalar(select(func.count()).select_from(Pupil)) == before + 1200

    # A refused file's stream ends with the refused page, and nothing is written.
    bad = (header + f"{make_upn('855600009999')},Sam,Taylor,2012-03-14,856\n").encode()
    events = streamed(client, "pupils", bad, check="Check the file only")
    result = BeautifulSoup(events[-1]["page"], "html.parser")
    assert result.h1.get_text(strip=True) == "The file would not be imported"
    assert "This import is for LA 855; this row is for 856" in result.get_text()
    assert db.scalar(select(func.count()).select_from(Pupil)) == before + 1200
    # Refused on its first reading, before the register is asked: the same.
    events = streamed(client, "pupils", b"upn,first_name\nX,Y\n")
    assert "phase" not in events[-1] and "page" in events[-1]
    result = BeautifulSoup(events[-1]["page"], "html.parser")
    assert result.h1.get_text(strip=True) == "The file was not imported"


def test_a_streamed_import_that_fails_after_its_lines_writes_nothing_and_says_so(
    client: Any, world: dict, db: Session, monkeypatch: Any
) -> None:  # type: ignore[type-arg]
    from ap_register.blueprints import admin

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("the result page could not be made")

    monkeypatch.setattr(admin._ImportRun, "page", broken)
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    before = db.scalar(select(func.count()).select_from(Pupil))
    content = (
        f"upn,first_name,last_name,date_of_birth,home_la_code\n{make_upn('855600000001')},Sam,Lee,2012-03-14,855\n"
    )
    events = streamed(client, "pupils", content.encode())
    assert "Nothing was changed" in events[-1]["error"]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Pupil)) == before


def test_each_kind_of_file_has_a_template_to_fill_in(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    soup = page(client.get("/admin/imports"))
    links = [a["href"] for a in soup.select("a[download]")]
    assert "/admin/imports/pupils-template.csv" in links and len(links) == 11
    answer = client.get("/admin/imports/placements-template.csv")
    assert answer.mimetype == "text/csv"
    assert answer.get_data(as_text=True).startswith("upn,setting_ref,route,registration,start_date,sessions,tier,")
    assert client.get("/admin/imports/nonsense-template.csv").status_code == 404
    sign_in(client, world["home"]["users"][Role.SCHOOL_LEAD].email)
    assert client.get("/admin/imports/pupils-template.csv").status_code == 403


def test_an_import_without_a_file(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    soup = page(post(client, "/admin/imports", {"kind": "pupils"}, content_type="multipart/form-data"))
    assert errors(soup) == ["Choose a CSV file"]


def test_an_la_admin_chooses_which_moves_need_the_panel(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    la = world["home"]["la"]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    soup = page(client.get("/admin/panel-rules"))
    assert "Managed move" in text(soup)
    response = post(client, "/admin/panel-rules", {"rules": ["fair_access", "la_exclusion:transitional"]})
    assert response.status_code == 302
    db.refresh(la)
    assert la.panel_routes == ["fair_access", "la_exclusion:transitional"]


def test_an_la_admin_sets_the_day_the_la_adopted_the_register(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    la = world["home"]["la"]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    soup = page(client.get("/admin/adoption"))
    assert "an approved panel decision, on the routes the panel rules name" in text(soup)
    response = post(client, "/admin/adoption", date_fields("adopted_on", date(2026, 1, 5)))
    assert response.status_code == 302
    db.refresh(la)
    assert la.adopted_on == date(2026, 1, 5)
    assert "adopted the register on 5 January 2026. 0 placements came from the old records" in text(
        page(client.get("/admin/adoption"))
    )
    # A date in the future would take new placements without their checks: refused, nothing saved.
    soup = page(post(client, "/admin/adoption", date_fields("adopted_on", date(2026, 12, 7))))
    assert errors(soup) == [
        "The adoption date cannot be in the future: 4 December 2026 or before (a later date would take new "
        "placements without their checks)"
    ]
    db.refresh(la)
    assert la.adopted_on == date(2026, 1, 5)
