"""The caseworker on a child's page, "My cases", and handing over a leaver's cases, as people use them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.blueprints.forms import Form, checkboxes
from ap_register.domain.vocab import Role
from ap_register.models import Alert, CaseAssignment, CaseNote
from tests.pages import errors, page, post, sign_in, text


def holder(db: Session, pupil: Any) -> int | None:
    return db.scalar(select(CaseAssignment.user_id).where(CaseAssignment.pupil_id == pupil.id))


def test_an_officer_gives_a_child_s_case_and_it_shows_on_the_child_s_page_and_the_holder_s_home(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    admin, officer, pupil = home["users"][Role.LA_ADMIN], home["users"][Role.ATTENDANCE_OFFICER], home["pupil"]
    sign_in(client, admin.email)
    shown = page(client.get(f"/pupils/{pupil.id}"))
    assert "Caseworker Nobody" in text(shown)
    change = shown.select_one(f"a[href='/pupils/{pupil.id}/caseworker']")
    assert change is not None and "Change caseworker" in change.get_text(" ", strip=True)

    form = page(client.get(f"/pupils/{pupil.id}/caseworker"))
    options = [o.get_text(strip=True) for o in form.select("select#caseworker option")]
    assert f"{officer.name}, Attendance officer" in options and "Nobody" in options
    # Only the LA's own officers who hold cases are offered: no school, no provider, no other LA.
    assert not any(u.name in " ".join(options) for u in world["other"]["users"].values())
    assert home["users"][Role.SCHOOL_LEAD].name not in " ".join(options)

    done = post(client, f"/pupils/{pupil.id}/caseworker", {"caseworker": str(officer.id)}, follow_redirects=True)
    assert f"{pupil.full_name}'s case is with {officer.name}" in text(page(done))
    assert holder(db, pupil) == officer.id
    assert f"Caseworker {officer.name}" in text(page(client.get(f"/pupils/{pupil.id}")))

    sign_in(client, officer.email)
    card = page(client.get("/")).select_one("#card-cases")
    assert card is not None
    section = card.find_parent("section")
    assert section is not None and pupil.full_name in section.get_text(" ", strip=True)
    mine = page(client.get("/cases"))
    assert pupil.full_name in text(mine) and pupil.upn in text(mine)
    assert home["bystander"].full_name not in text(mine)


def test_a_bad_choice_is_named_in_the_error_summary_and_changes_nothing(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.COMMISSIONER].email)
    for choice in ("", str(other["users"][Role.ATTENDANCE_OFFICER].id), "9" * 30, "-1", "x"):
        refused = page(post(client, f"/pupils/{pupil.id}/caseworker", {"caseworker": choice}))
        assert errors(refused), choice
        assert refused.title is not None and refused.title.get_text().startswith("Error: ")
    # A NUL byte is not text: the request is refused before any form reads it.
    assert post(client, f"/pupils/{pupil.id}/caseworker", {"caseworker": "1\x00"}).status_code == 400
    assert holder(db, pupil) is None


def test_a_choice_not_on_the_list_is_told_in_the_register_s_words_not_the_form_library_s(
    client: Any, world: dict[str, Any]
) -> None:
    """A link from before a list changed, or a hand-made request: the field's own words for
    choosing, or its label, in the error summary; never WTForms' "Not a valid choice"."""
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.COMMISSIONER].email)
    stale = page(
        post(client, f"/pupils/{pupil.id}/caseworker", {"caseworker": str(other["users"][Role.ATTENDANCE_OFFICER].id)})
    )
    assert errors(stale) == ["Choose the officer who follows this child's case, or nobody"]
    assert "valid choice" not in text(stale)


def test_boxes_ticked_that_are_not_among_the_choices_are_named_by_the_question(app: Flask) -> None:
    class Days(Form):
        class Meta:
            csrf = False

        days = checkboxes("Days in AP", [("mon", "Monday"), ("tue", "Tuesday")])

    with app.test_request_context(method="POST", data={"days": ["mon", "sun"]}):
        form = Days()
        assert not form.validate()
        assert form.days.errors == ["Choose one of the options for \u201cDays in AP\u201d"]
    with app.test_request_context(method="POST", data={"days": ["mon", "tue"]}):
        assert Days().validate()


def test_a_school_sees_the_caseworker_but_cannot_change_it_nor_open_the_form(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil = home["pupil"]
    db.add(CaseAssignment(pupil_id=pupil.id, user_id=home["users"][Role.ATTENDANCE_OFFICER].id))
    db.commit()
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    shown = page(client.get(f"/pupils/{pupil.id}"))
    assert f"Caseworker {home['users'][Role.ATTENDANCE_OFFICER].name}" in text(shown)
    assert shown.select_one(f"a[href='/pupils/{pupil.id}/caseworker']") is None
    assert client.get(f"/pupils/{pupil.id}/caseworker").status_code == 403
    assert client.get("/cases").status_code == 403
    # Another LA's child: not found, whoever asks.
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    assert client.get(f"/pupils/{world['other']['pupil'].id}/caseworker").status_code == 404


def test_an_administrator_hands_a_deactivated_officer_s_cases_and_alerts_to_a_colleague(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    admin, leaving, taker = (home["users"][r] for r in (Role.LA_ADMIN, Role.ATTENDANCE_OFFICER, Role.PANEL_CHAIR))
    db.add(CaseAssignment(pupil_id=home["pupil"].id, user_id=leaving.id))
    alert = db.scalars(select(Alert).where(Alert.la_id == home["la"].id)).first()
    assert alert is not None
    alert.assigned_to_id = leaving.id
    leaving.active = False
    db.commit()
    sign_in(client, admin.email)
    profile = page(client.get(f"/admin/users/{leaving.id}"))
    assert "holds 1 child's case and 1 open alert" in text(profile)
    assert "can no longer sign in" in text(profile)
    assert profile.select_one(f"a[href='/admin/users/{leaving.id}/hand-over']") is not None

    refused = page(post(client, f"/admin/users/{leaving.id}/hand-over", {"to": ""}))
    assert errors(refused) == ["Choose who takes them on"]
    done = post(client, f"/admin/users/{leaving.id}/hand-over", {"to": str(taker.id)}, follow_redirects=True)
    assert "Handed over 1 cases and 1 open alerts" in text(page(done))
    assert holder(db, home["pupil"]) == taker.id
    db.refresh(alert)
    assert alert.assigned_to_id == taker.id
    assert "Cases and alerts" not in text(page(client.get(f"/admin/users/{leaving.id}")))
    # Another LA's officer: not found.
    assert (
        client.get(f"/admin/users/{world['other']['users'][Role.ATTENDANCE_OFFICER].id}/hand-over").status_code == 404
    )


def test_a_note_is_added_and_corrected_on_the_child_s_page_and_a_school_reads_only_what_is_for_it(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    officer, pupil = home["users"][Role.ATTENDANCE_OFFICER], home["pupil"]
    sign_in(client, officer.email)
    form = page(client.get(f"/pupils/{pupil.id}/notes/new"))
    assert form.select_one("input[name=category][value=safeguarding]") is not None
    # The GOV.UK character count, to the rule's own limit.
    assert form.select_one(".govuk-character-count[data-maxlength='5000'] textarea#text") is not None
    refused = page(post(client, f"/pupils/{pupil.id}/notes/new", {"text": "x"}))
    assert errors(refused) == [
        "Enter the date it happened",
        "Choose what the note is about",
        "Choose who may read the note",
    ]
    kept = post(
        client,
        f"/pupils/{pupil.id}/notes/new",
        {
            "happened_on": ["2", "12", "2026"],
            "category": "family",
            "text": "Home visit.\nMum agreed to the timetable.",
            "audience": "la",
        },
        follow_redirects=True,
    )
    shown = page(kept)
    assert "Note kept" in text(shown)
    note_text = shown.select_one(".app-note-text")
    assert note_text is not None and note_text.get_text() == "Home visit.\nMum agreed to the timetable."
    assert "Local authority only" in text(shown)
    first = db.scalars(select(CaseNote).where(CaseNote.text.startswith("Home visit"))).one()

    post(
        client,
        f"/pupils/{pupil.id}/notes/{first.id}/correct",
        {"happened_on": ["2", "12", "2026"], "category": "family", "text": "It was nan, not mum.", "audience": "la"},
    )
    shown = page(client.get(f"/pupils/{pupil.id}"))
    assert "Corrected by a later note" in text(shown) and "It was nan, not mum." in text(shown)
    assert "Home visit." in text(shown)  # the original stays

    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    shown = page(client.get(f"/pupils/{pupil.id}"))
    assert "Home visit." not in text(shown) and "No notes yet" in text(shown)
    assert client.get(f"/pupils/{pupil.id}/notes/{first.id}/correct").status_code == 404
    sign_in(client, home["users"][Role.PANEL_MEMBER].email)
    assert client.get(f"/pupils/{pupil.id}/notes/new").status_code == 403


def test_a_note_is_corrected_only_under_its_own_child_and_a_setting_s_alerts_are_not_handed_over_here(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    # The home child's note for the LA, asked for under another child of the same LA: not found.
    assert client.get(f"/pupils/{home['bystander'].id}/notes/{home['note'].id}/correct").status_code == 404
    correcting = page(client.get(f"/pupils/{home['pupil'].id}/notes/{home['note'].id}/correct"))
    assert correcting.select_one("input[name=audience]") is None
    assert "The local authority's officers only: the same people as the note it corrects" in text(correcting)

    lead = home["users"][Role.SCHOOL_LEAD]
    alert = db.scalars(select(Alert).where(Alert.la_id == home["la"].id)).first()
    assert alert is not None
    alert.assigned_to_id = lead.id
    db.commit()
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    profile = page(client.get(f"/admin/users/{lead.id}"))
    assert "holds 0 children's cases and 1 open alert" in text(profile)
    assert profile.select_one(f"a[href='/admin/users/{lead.id}/hand-over']") is None
    assert "Give each alert to a colleague at" in text(profile)


def test_the_chronology_filters_downloads_and_is_the_reader_s_own(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    link = page(client.get(f"/pupils/{pupil.id}")).select_one(f"a[href='/pupils/{pupil.id}/chronology']")
    assert link is not None
    whole = page(client.get(f"/pupils/{pupil.id}/chronology"))
    assert home["note"].text in text(whole) and "Placement recorded" in text(whole)
    notes_only = page(client.get(f"/pupils/{pupil.id}/chronology?kind=note"))
    assert home["note"].text in text(notes_only) and "Placement recorded" not in text(notes_only)
    download = client.get(f"/pupils/{pupil.id}/chronology.csv?kind=note")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    body = download.get_data(as_text=True)
    assert body.splitlines()[0] == "date,kind,what,detail,by" and "Confidential home note" in body
    from ap_register.models import AuditEvent

    exported = db.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [e.detail.get("pupil_id") for e in exported] == [pupil.id]
    # A school reads its own chronology of the child: never the LA's own notes.
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    assert home["note"].text not in text(page(client.get(f"/pupils/{pupil.id}/chronology")))
    assert home["note"].text not in client.get(f"/pupils/{pupil.id}/chronology.csv").get_data(as_text=True)
    # Another LA's child is not found.
    assert client.get(f"/pupils/{other['pupil'].id}/chronology").status_code == 404
    assert client.get(f"/pupils/{other['pupil'].id}/chronology.csv").status_code == 404
    assert client.get(f"/pupils/{pupil.id}/chronology.pdf").status_code == 404
