"""Writing a letter from a child's page as an LA officer does: begun from the record, checked,
completed, downloaded as PDF and Word, recorded as sent and kept."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document as WordDocument
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.vocab import Role
from ap_register.models import Document, Letter
from tests.pages import date_fields, errors, page, post, sign_in, text
from tests.unit.test_letters import excluded_pupil, parent


@pytest.fixture()
def kept(app: Flask, tmp_path: Path) -> Iterator[Path]:
    saved = app.config["DOCUMENTS_DIR"]
    app.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    yield tmp_path / "documents"
    app.config["DOCUMENTS_DIR"] = saved


def test_an_officer_writes_checks_completes_downloads_and_sends_the_sixth_day_letter(
    client: Any, db: Session, world: dict[str, Any], kept: Path
) -> None:
    home = world["home"]
    pupil, _placed = excluded_pupil(db, home)
    mother = parent(db, home, pupil)
    db.commit()
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    with clock.fixed(date(2025, 10, 31)):
        shown = page(client.get(f"/pupils/{pupil.id}"))
        assert shown.select_one(f"a[href='/pupils/{pupil.id}/letters/new']") is not None
        form = page(client.get(f"/pupils/{pupil.id}/letters/new"))
        [source] = [i["value"] for i in form.select("input[name=source]")]
        assert [i["value"] for i in form.select("input[name=recipient]")] == [str(mother.id)]
        nothing = page(post(client, f"/pupils/{pupil.id}/letters/new", {}), 200)
        assert errors(nothing) == ["Choose what the letter is about", "Choose a parent or carer to write to"]
        begun = post(client, f"/pupils/{pupil.id}/letters/new", {"source": source, "recipient": str(mother.id)})
        assert begun.status_code == 302
        letter = db.scalars(select(Letter).where(Letter.pupil_id == pupil.id)).one()
        draft = page(client.get(begun.headers["Location"]))
        assert "Education from the sixth day of a permanent exclusion" in text(draft, "h1")
        assert "permanently excluded from Home High School on 23 October 2025" in text(draft, "#letter")
        # Sending before the particulars are given is refused, field by field, and nothing is kept.
        early = page(
            post(client, f"/letters/{letter.id}/send", {"how": "post", **date_fields("sent_on", date(2025, 10, 31))}),
            400,
        )
        assert errors(early) == [
            "Enter address where the pupil is to attend",
            "Enter start and finish times",
            "Enter who the pupil reports to on the first day",
        ]
        words = {
            "address": "2 Bridge Street, PE1 2BB", "session_times": "9:15am to 3pm, Monday to Friday",
            "report_to": "Ms Okafor at reception", "extra": "Transport is arranged: a taxi at 8:40am.",
            "signed_by": "Pat Officer, Attendance officer",
        }  # fmt: skip
        saved = post(client, f"/letters/{letter.id}", words)
        assert saved.status_code == 302
        checked = page(client.get(f"/letters/{letter.id}"))
        assert "Ms Okafor at reception" in text(checked, "#letter") and "a taxi at 8:40am" in text(checked, "#letter")
        pdf = client.get(f"/letters/{letter.id}.pdf")
        assert pdf.status_code == 200 and pdf.headers["Content-Disposition"].startswith("attachment;")
        printed = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        assert "Ms Okafor at reception" in printed and "Robin" not in printed
        word = client.get(f"/letters/{letter.id}.docx")
        assert "9:15am to 3pm" in " ".join(
            c.text for t in WordDocument(io.BytesIO(word.data)).tables for r in t.rows for c in r.cells
        )
        sent = post(client, f"/letters/{letter.id}/send", {"how": "post", **date_fields("sent_on", date(2025, 10, 31))})
        assert sent.status_code == 302
        after = page(client.get(f"/letters/{letter.id}"))
        assert "Sent 31 October 2025 (by post)" in text(after)
        assert after.select("form[action$='/send']") == [] and after.select("textarea") == []
        # The PDF that went is the one kept, and it is on the chronology.
        document = db.scalars(select(Document).where(Document.pupil_id == pupil.id)).one()
        assert client.get(f"/letters/{letter.id}.pdf").data == (kept / "kept" / document.storage_key).read_bytes()
        timeline = page(client.get(f"/pupils/{pupil.id}/chronology?kind=letter"))
        assert "Education from the sixth day of a permanent exclusion, to Sam Parent" in text(timeline)
    # A school that works with the child reads a letter to a parent shared with it; another LA, nothing.
    sign_in(client, world["other"]["users"][Role.LA_ADMIN].email)
    assert client.get(f"/letters/{letter.id}").status_code == 404
    assert client.get(f"/letters/{letter.id}.docx").status_code == 404


def test_a_role_that_writes_no_letter_is_refused_and_a_second_sending_changes_nothing(
    client: Any, db: Session, world: dict[str, Any], kept: Path
) -> None:
    home = world["home"]
    pupil = home["pupil"]
    mother = parent(db, home, pupil)
    db.commit()
    sign_in(client, home["users"][Role.AP_HEAD].email)
    assert client.get(f"/pupils/{pupil.id}/letters/new").status_code == 403
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    form = page(client.get(f"/pupils/{pupil.id}/letters/new"))
    [source] = [i["value"] for i in form.select("input[name=source]")]
    begun = post(client, f"/pupils/{pupil.id}/letters/new", {"source": source, "recipient": str(mother.id)})
    letter_id = int(begun.headers["Location"].rsplit("/", 1)[1])
    when = date_fields("sent_on", clock.today())
    assert post(client, f"/letters/{letter_id}/send", {"how": "hand", **when}).status_code == 302
    again = page(post(client, f"/letters/{letter_id}/send", {"how": "post", **when}), 400)
    assert errors(again) == ["A sent letter is kept as it went: write a new letter to say more"]
    assert db.scalars(select(Document).where(Document.pupil_id == pupil.id, Document.category == "letter_sent")).all()
    assert len(db.scalars(select(Document).where(Document.category == "letter_sent")).all()) == 1


def test_a_pdf_the_font_cannot_print_is_refused_on_the_page_and_word_still_works(
    client: Any, db: Session, world: dict[str, Any], kept: Path
) -> None:
    home = world["home"]
    pupil = home["pupil"]
    mother = parent(db, home, pupil, name="王秀英")
    db.commit()
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    form = page(client.get(f"/pupils/{pupil.id}/letters/new"))
    [source] = [i["value"] for i in form.select("input[name=source]")]
    begun = post(client, f"/pupils/{pupil.id}/letters/new", {"source": source, "recipient": str(mother.id)})
    letter_id = int(begun.headers["Location"].rsplit("/", 1)[1])
    refused = page(client.get(f"/letters/{letter_id}.pdf"), 422)
    assert errors(refused)[0].startswith("The letter could not be printed as a PDF")
    word = client.get(f"/letters/{letter_id}.docx")
    assert word.status_code == 200 and "王秀英" in " ".join(
        p.text for p in WordDocument(io.BytesIO(word.data)).paragraphs
    )
