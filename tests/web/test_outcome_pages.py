"""The outcome pages: providers compared with honest small numbers, a provider's own view, the
pupils behind a figure for those allowed to see them, the methodology from the code, and the
schools' movement profiles."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.vocab import Registration, Role, Route, SettingKind
from ap_register.jobs import nightly_scores
from ap_register.models import AuditEvent, Ks4Result, Score, Setting
from ap_register.outcomes.profiles import CAVEAT
from ap_register.outcomes.rules import DEFINITIONS, HONESTY
from tests import factories
from tests.pages import page, post, sign_in, text

YEAR_11 = date(2010, 3, 1)  # Year 11 in 2025/26


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db, "855")
    made: dict[str, Any] = {"la": la}
    made["school"] = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High", pupils_on_roll=4000)
    made["other_school"] = factories.setting(db, la, SettingKind.MAINSTREAM, name="Hill School", pupils_on_roll=500)
    made["pru"] = factories.setting(db, la, SettingKind.PRU, name="The Oaks")
    made["academy"] = factories.setting(db, la, SettingKind.AP_ACADEMY, name="Riverbank")
    made["free"] = factories.setting(db, la, SettingKind.AP_FREE_SCHOOL, name="Pathways")
    made["farm"] = factories.setting(db, la, SettingKind.UNREGISTERED_AP, name="Greenfields Farm")
    # The Oaks: 7 leavers, 3 with 4+ in both. Riverbank: 4 leavers, all with 4+ (suppressed).
    # Pathways: 6 leavers, the smallest figure shown, so withheld beside Riverbank's.
    for where, grades in (("pru", ["5", "4", "9", "3", "2", "U", "1"]), ("academy", ["6", "6", "7", "5"])):
        for grade in grades:
            pupil = factories.pupil(db, la, made["school"], on=date(2024, 9, 4), date_of_birth=YEAR_11)
            start = date(2026, 1, 5)
            factories.placement(db, pupil, made[where], start=start, notice_date=start - timedelta(days=14))
            db.add(Ks4Result(pupil_id=pupil.id, academic_year=2025, english=grade, maths=grade))
    # Pathways' leavers are on no school's roll (the LA places them), so no school's profile moves.
    for grade in ["4", "4", "2", "2", "1", "U"]:
        pupil = factories.pupil(db, la, None, date_of_birth=YEAR_11)
        factories.placement(
            db, pupil, made["free"], route=Route.LA_OTHER, registration=Registration.NONE, start=date(2026, 1, 5)
        )
        db.add(Ks4Result(pupil_id=pupil.id, academic_year=2025, english=grade, maths=grade))
    made["commissioner"] = factories.user(db, Role.COMMISSIONER, la)
    made["head"] = factories.user(db, Role.AP_HEAD, made["academy"])
    db.commit()
    return made


def test_a_commissioner_compares_providers_honestly(client: Any, db: Session, area: dict[str, Any]) -> None:
    sign_in(client, area["commissioner"].email)
    soup = page(client.get("/outcomes/?year=2025/26"))
    rows = _table(soup)
    # Unregistered providers are not scored, and the page says so by name; the LA's own row comes last.
    assert list(rows) == ["Pathways", "Riverbank", "The Oaks", "Leicestershire: all providers"]
    unregistered = [s.name for s in db.scalars(select(Setting).where(Setting.kind == SettingKind.UNREGISTERED_AP))]
    assert unregistered and all(name in text(soup) for name in unregistered)
    assert "Unregistered providers are not scored: their pupils stay on a school's roll" in text(soup)
    english_maths = 3
    assert rows["The Oaks"][english_maths].startswith("42.9% 15.8 to 75.0, n = 7 Above")
    # Four pupils, all with 4+: suppressed, never shown as a figure, a zero or its count of pupils.
    assert rows["Riverbank"][english_maths].startswith("Suppressed fewer than 6 pupils Not enough data")
    assert "100.0%" not in rows["Riverbank"][english_maths] and "4" not in rows["Riverbank"][english_maths]
    # Riverbank's would be the LA's total less the others': Pathways' (the next smallest) is withheld.
    assert rows["Pathways"][english_maths].startswith("Withheld so that a suppressed figure")
    assert "n = " not in rows["Pathways"][english_maths]
    assert "(n = " not in " ".join(t.get_text() for t in soup.select("svg text"))
    assert rows["Leicestershire: all providers"][english_maths].startswith("52.9% ")  # 9 of 17
    # Sorted by English and maths: the suppressed figure goes last, not first.
    soup = page(client.get("/outcomes/?year=2025/26&sort=english_maths"))
    order = [" ".join(r.th.get_text(" ", strip=True).split()) for r in soup.select("table.app-outcomes tbody tr")]
    assert order[0] == "The Oaks" and set(order[1:3]) == {"Riverbank", "Pathways"}
    assert soup.select_one("th[aria-sort=descending]").get_text(" ", strip=True).startswith("English and maths")
    # One interval chart for each outcome.
    assert len(soup.select("figure.app-chart svg[role=img]")) == 5
    book = load_workbook(io.BytesIO(client.get("/outcomes/export.xlsx?year=2025/26").data))
    table = list(book.active.iter_rows(values_only=True))
    header = table[0]
    riverbank = dict(
        zip(header, next(r for r in table if r[1] == "Riverbank" and r[2] == "english_maths"), strict=True)
    )
    assert (riverbank["Pupils (n)"], riverbank["Value"], riverbank["Suppressed"]) == (None, None, "Y")


def test_an_ap_head_sees_their_own_scores_and_pupils_only(client: Any, db: Session, area: dict[str, Any]) -> None:
    sign_in(client, area["head"].email)
    assert client.get("/outcomes/").status_code == 403
    assert client.get(f"/outcomes/providers/{area['pru'].id}").status_code == 404
    soup = page(client.get(f"/outcomes/providers/{area['academy'].id}?year=2025/26"))
    shown = text(soup)
    assert "Suppressed" in shown and "Leicestershire, all providers" in shown
    soup = page(client.get(f"/outcomes/providers/{area['academy'].id}/english_maths?year=2025/26"))
    listed = [a.get_text(strip=True) for a in soup.select("main table a")]
    assert len(listed) == 4
    viewed = db.scalars(
        select(AuditEvent).where(AuditEvent.user_id == area["head"].id, AuditEvent.object_type == "outcome")
    ).all()
    assert len(viewed) == 4 and all(e.pupil_id for e in viewed)
    assert client.get(f"/outcomes/providers/{area['pru'].id}/english_maths").status_code == 404


def test_the_methodology_states_every_definition_the_code_uses(client: Any, area: dict[str, Any]) -> None:
    sign_in(client, area["commissioner"].email)
    shown = text(page(client.get("/outcomes/methodology")))
    for definition in [*DEFINITIONS.values(), HONESTY]:
        assert " ".join(definition.split()) in shown


def test_a_school_moving_older_pupils_out_far_above_the_la_is_flagged(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    # Hill School directs ten Year 10 pupils off site in the autumn; Meadow High one.
    for school, count in (("other_school", 10), ("school", 1)):
        for _ in range(count):
            pupil = factories.pupil(db, area["la"], area[school], on=date(2024, 9, 4), date_of_birth=date(2011, 3, 1))
            factories.placement(db, pupil, area["pru"], start=date(2025, 11, 3), notice_date=date(2025, 10, 27))
    db.commit()
    sign_in(client, area["commissioner"].email)
    soup = page(client.get("/outcomes/schools?year=2025/26"))
    assert CAVEAT in text(soup)
    first = soup.select("table tbody tr")[0]
    assert "Hill School" in first.th.get_text() and "Far above the LA" in first.th.get_text()
    cells = [c.get_text(" ", strip=True) for c in first.find_all("td")]
    # Hill: 10 of 500 on roll, 20 per 1,000, its 95% interval from 10.9; the LA: 10 + 1 + Meadow
    # High's 11 Year 11 pupils placed in the spring = 22 of 4,500, 4.9 per 1,000, twice that 9.8.
    assert cells[0] == "500" and cells[1] == "10" and cells[-2] == "10 (20.0)" and cells[-1] == "Year 10: 10"
    assert "The LA's rate: 4.9 per 1,000" in text(soup)
    meadow = next(r for r in soup.select("table tbody tr") if "Meadow High" in r.th.get_text())
    assert "Far above" not in meadow.get_text()


def _table(soup: Any) -> dict[str, list[str]]:
    return {
        " ".join(r.th.get_text(" ", strip=True).split()): [
            " ".join(c.get_text(" ", strip=True).split()) for c in r.find_all("td")
        ]
        for r in soup.select("table.app-outcomes tbody tr")
    }


def test_the_comparison_reads_the_nightly_scores_until_recalculated(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    sign_in(client, area["commissioner"].email)
    live = page(client.get("/outcomes/?year=2025/26"))
    assert "Calculated just now" in text(live)
    # The nightly job keeps the year; the page then shows what it kept, the same figures, the
    # contexts and the links to the pupils behind them.
    nightly_scores(db, clock.today())
    db.commit()
    kept = page(client.get("/outcomes/?year=2025/26"))
    assert "Last calculated on" in text(kept)
    assert _table(kept) == _table(live)
    assert [a["href"] for a in kept.select("a.app-figure__link")] == [
        a["href"] for a in live.select("a.app-figure__link")
    ]
    # A result recorded after the night changes nothing until the scores are recalculated.
    oaks = _table(kept)["The Oaks"][3]
    result = db.scalars(select(Ks4Result).where(Ks4Result.english == "3")).one()
    result.english = result.maths = "8"
    db.commit()
    assert _table(page(client.get("/outcomes/?year=2025/26")))["The Oaks"][3] == oaks
    form = kept.select_one("form[action*=recalculate]")
    response = client.post(form["action"], data={"csrf_token": form.select_one("[name=csrf_token]")["value"]})
    assert response.status_code == 302
    after = page(client.get(response.headers["Location"]))
    assert "have been recalculated" in text(after)
    assert _table(after)["The Oaks"][3].startswith("57.1% ")  # 4 of 7 with 4+ now
    assert db.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "scores", AuditEvent.user_id == area["commissioner"].id)
    ).one()


def test_scores_kept_before_they_kept_their_detail_are_computed_again(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    nightly_scores(db, clock.today())
    for score in db.scalars(select(Score)):
        score.detail = None  # as kept before revision 0015
    db.commit()
    sign_in(client, area["commissioner"].email)
    soup = page(client.get("/outcomes/?year=2025/26"))
    assert "Calculated just now" in text(soup)
    assert _table(soup)["The Oaks"][3].startswith("42.9% 15.8 to 75.0, n = 7 Above")


def test_only_those_who_compare_providers_may_recalculate(client: Any, db: Session, area: dict[str, Any]) -> None:
    sign_in(client, area["head"].email)
    assert post(client, "/outcomes/recalculate?year=2025/26", {}).status_code == 403
    assert db.scalars(select(Score)).first() is None
