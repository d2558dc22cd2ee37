"""Uploading a document to a child's record and opening it, as people do, with the real ClamAV."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import Document
from tests.conftest import EICAR
from tests.pages import errors, page, post, sign_in, text

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(
    client: Any, pupil_id: int, name: str, data: bytes, audience: str = "all", query: str = "", **more: Any
) -> Any:
    fields = {"file": (io.BytesIO(data), name), "category": "report", "audience": audience, "description": "", **more}
    return post(client, f"/pupils/{pupil_id}/documents/new{query}", fields, content_type="multipart/form-data")


def test_a_school_uploads_a_report_and_those_who_may_open_it(
    client: Any, db: Session, world: dict[str, Any], clamav: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    form = page(client.get(f"/pupils/{pupil.id}/documents/new"))
    assert form.select_one("form[enctype='multipart/form-data'] input[type=file][name=file]") is not None
    done = upload(client, pupil.id, "ep-report.pdf", PDF)
    assert done.status_code == 302
    kept = db.scalars(select(Document).where(Document.filename == "ep-report.pdf")).one()
    shown = page(client.get(f"/pupils/{pupil.id}"))
    link = shown.select_one(f"a[href='/documents/{kept.id}']")
    assert link is not None and "ep-report.pdf" in link.get_text()
    opened = client.get(f"/documents/{kept.id}")
    assert opened.status_code == 200 and opened.data == PDF
    assert opened.headers["Content-Disposition"].startswith("attachment;")
    assert opened.headers["X-Content-Type-Options"] == "nosniff"
    # The LA's own document is not the school's to open; another LA's officer opens neither.
    assert client.get(f"/documents/{home['document'].id}").status_code == 404
    sign_in(client, other["users"][Role.LA_ADMIN].email)
    assert client.get(f"/documents/{kept.id}").status_code == 404


def test_an_infected_or_wrong_file_is_refused_in_the_error_summary(
    client: Any, db: Session, world: dict[str, Any], clamav: dict[str, Any]
) -> None:
    home = world["home"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    infected = page(upload(client, pupil.id, "letter.txt", EICAR))
    assert errors(infected) == [
        "The virus scanner found Eicar-Test-Signature.UNOFFICIAL in the file, so it was not kept"
    ]
    wrong = page(upload(client, pupil.id, "page.html", b"<script>alert(1)</script>"))
    assert errors(wrong) == ["The file must be a PDF, a Word document (DOCX), a JPEG or PNG image, or plain text"]
    nothing = page(post(client, f"/pupils/{pupil.id}/documents/new", {"category": "report", "audience": "la"}))
    assert errors(nothing) == ["Choose a file"]
    assert (
        db.scalars(select(Document).where(Document.pupil_id == pupil.id, Document.storage_key != "world-home")).all()
        == []
    )
    assert "letter.txt" not in text(page(client.get(f"/pupils/{pupil.id}")))


def test_evidence_for_a_referral_is_uploaded_from_it_and_listed_on_it(
    client: Any, db: Session, world: dict[str, Any], clamav: dict[str, Any]
) -> None:
    home = world["home"]
    referral = home["referral"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    shown = page(client.get(f"/referrals/{referral.id}"))
    add = shown.select_one(f"a[href='/pupils/{referral.pupil_id}/documents/new?referral={referral.id}']")
    assert add is not None and "Add a document" in add.get_text()
    form = page(client.get(f"/pupils/{referral.pupil_id}/documents/new?referral={referral.id}"))
    assert "evidence for the referral to the panel" in text(form)
    done = upload(client, referral.pupil_id, "support-plan.pdf", PDF, query=f"?referral={referral.id}")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/referrals/{referral.id}")
    kept = db.scalars(select(Document).where(Document.filename == "support-plan.pdf")).one()
    assert kept.referral_id == referral.id
    assert page(client.get(f"/referrals/{referral.id}")).select_one(f"#evidence ~ ul a[href='/documents/{kept.id}']")
    listed = text(page(client.get(f"/pupils/{referral.pupil_id}")), "#documents ~ ul")
    assert "support-plan.pdf" in listed and "for the referral to the panel" in listed
    # Another LA's referral named in the address: not found, whatever is sent.
    other = world["other"]["referral"]
    assert client.get(f"/pupils/{referral.pupil_id}/documents/new?referral={other.id}").status_code == 404
    assert upload(client, referral.pupil_id, "x.pdf", PDF, query=f"?referral={other.id}").status_code == 404
    assert client.get(f"/pupils/{referral.pupil_id}/documents/new?referral=1{'0' * 29}").status_code == 404
