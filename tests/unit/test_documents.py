"""Documents on a child's record (casework/documents.py): checked, scanned by the real ClamAV
before anyone can open them, read like case notes, and deleted with the record."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.casework import documents
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, Document
from tests.conftest import EICAR
from tests.factories import SYSTEM

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LIMIT = 1024 * 1024


def as_(user: Any) -> Actor:
    return Actor(user=user, via="test")


def kit(clamav: dict[str, Any]) -> tuple[documents.Storage, documents.Scanner]:
    return documents.Storage(clamav["documents"]), documents.Scanner("clamscan", clamav["database"])


def draft(name: str = "plan.pdf", data: bytes = PDF, audience: str = "all") -> documents.DocumentDraft:
    return documents.DocumentDraft(name, data, "support_plan", audience, "Reintegration plan, autumn term")


def test_a_clean_file_is_kept_and_read_like_a_note(db: Session, world: dict[str, Any], clamav: dict[str, Any]) -> None:
    home, other = world["home"], world["other"]
    storage, scanner = kit(clamav)
    pupil, users = home["pupil"], home["users"]
    shared = documents.upload(db, as_(users[Role.SCHOOL_LEAD]), pupil.id, draft(), storage, scanner, LIMIT)
    private = documents.upload(
        db,
        as_(users[Role.ATTENDANCE_OFFICER]),
        pupil.id,
        draft("report.txt", b"CAMHS report", "la"),
        storage,
        scanner,
        LIMIT,
    )
    assert (shared.content_type, shared.size) == ("application/pdf", len(PDF))
    assert storage.read(shared.storage_key) == PDF
    assert not any(storage.quarantine().iterdir())  # moved into place once clean

    def opens(user: Any) -> list[int]:
        return [d.id for d in documents.visible(db, as_(user), pupil)]

    assert sorted(opens(users[Role.LA_ADMIN])) == sorted([shared.id, private.id, home["document"].id])
    assert opens(users[Role.AP_HEAD]) == [shared.id]
    assert opens(other["users"][Role.LA_ADMIN]) == []
    with pytest.raises(NotFound):
        documents.open_document(db, as_(users[Role.SCHOOL_LEAD]), private.id, storage)
    found, data = documents.open_document(db, as_(users[Role.COMMISSIONER]), private.id, storage)
    assert data == b"CAMHS report"
    trail = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "document")).all()
    assert trail == ["create", "create", "view"]


def test_the_eicar_file_is_refused_by_clamav_and_nothing_is_kept(
    db: Session, world: dict[str, Any], clamav: dict[str, Any]
) -> None:
    home = world["home"]
    storage, scanner = kit(clamav)
    with pytest.raises(DomainError) as refused:
        documents.upload(
            db, as_(home["users"][Role.LA_ADMIN]), home["pupil"].id, draft("letter.txt", EICAR), storage, scanner, LIMIT
        )
    assert [e.message for e in refused.value.errors] == [
        "The virus scanner found Eicar-Test-Signature.UNOFFICIAL in the file, so it was not kept"
    ]
    assert db.scalars(select(Document).where(Document.storage_key.not_like("world-%"))).all() == []
    assert not any(storage.quarantine().iterdir())


def test_a_file_of_the_wrong_kind_size_or_name_is_refused_before_it_is_scanned(
    db: Session, world: dict[str, Any], clamav: dict[str, Any]
) -> None:
    home = world["home"]
    storage, scanner = kit(clamav)
    admin, pupil = as_(home["users"][Role.LA_ADMIN]), home["pupil"].id
    kinds = "The file must be a PDF, a Word document (DOCX), a JPEG or PNG image, or plain text"
    for name, data, message in (
        ("run.exe", b"MZ\x90\x00", kinds),
        ("plan.pdf", b"MZ\x90\x00", kinds),
        ("plan.txt", PDF, kinds),  # a PDF by its bytes, not by its name
        ("page.html", b"<script>alert(1)</script>", kinds),
        ("empty.pdf", b"", "The file is empty"),
        ("big.pdf", PDF + b"0" * LIMIT, "The file must be smaller than 1 MB"),
        ("x" * 300 + ".pdf", PDF, "The file's name must be readable text of 200 characters or fewer"),
    ):
        with pytest.raises(DomainError) as refused:
            documents.upload(db, admin, pupil, draft(name, data), storage, scanner, LIMIT)
        assert refused.value.errors[0].message == message, name
    assert db.scalars(select(Document).where(Document.storage_key.not_like("world-%"))).all() == []


def test_no_answer_from_the_scanner_keeps_nothing(
    db: Session, world: dict[str, Any], clamav: dict[str, Any], tmp_path: Path
) -> None:
    home = world["home"]
    storage = documents.Storage(clamav["documents"])
    admin, pupil = as_(home["users"][Role.LA_ADMIN]), home["pupil"].id
    for scanner in (
        documents.Scanner("/nonexistent/clamscan"),
        documents.Scanner("clamscan", str(tmp_path / "no-such-signatures.hdb")),
    ):
        with pytest.raises(DomainError) as refused:
            documents.upload(db, admin, pupil, draft(), storage, scanner, LIMIT)
        assert refused.value.errors[0].message == documents.NOT_CHECKED
    assert db.scalars(select(Document).where(Document.storage_key.not_like("world-%"))).all() == []


def test_who_uploads_and_anonymising_deletes_the_files(
    db: Session, world: dict[str, Any], clamav: dict[str, Any]
) -> None:
    from ap_register.domain import retention

    home, other = world["home"], world["other"]
    storage, scanner = kit(clamav)
    pupil = home["pupil"]
    with pytest.raises(Forbidden):
        documents.upload(db, as_(home["users"][Role.PANEL_MEMBER]), pupil.id, draft(), storage, scanner, LIMIT)
    with pytest.raises(NotFound):
        documents.upload(db, as_(other["users"][Role.LA_ADMIN]), pupil.id, draft(), storage, scanner, LIMIT)
    kept = documents.upload(db, as_(home["users"][Role.AP_HEAD]), pupil.id, draft(), storage, scanner, LIMIT)
    retention.anonymise(db, as_(home["users"][Role.LA_ADMIN]), pupil, date(2026, 12, 1), storage=storage)
    db.flush()
    assert db.scalars(select(Document).where(Document.storage_key.not_like("world-%"))).all() == []
    with pytest.raises(FileNotFoundError):
        storage.read(kept.storage_key)


def test_a_document_is_kept_as_evidence_for_a_note_a_review_or_a_referral_of_the_same_child(
    db: Session, world: dict[str, Any], clamav: dict[str, Any]
) -> None:
    from ap_register.casework.notes import NoteDraft, write
    from ap_register.placements.rules import review_placement

    home, other = world["home"], world["other"]
    storage, scanner = kit(clamav)
    pupil, admin = home["pupil"], as_(home["users"][Role.LA_ADMIN])
    note = write(
        db, admin, pupil.id, NoteDraft(date(2025, 11, 3), "school", "Called the school", "all"), today=date(2025, 11, 4)
    )
    review = review_placement(
        db, SYSTEM, home["placement"], review_date=date(2025, 11, 4), notes="Going well", today=date(2025, 11, 4)
    )
    kept = {}
    for kind, record in (("note", note), ("review", review), ("referral", home["referral"])):
        attached = documents.DocumentDraft("plan.pdf", PDF, "support_plan", "all", attach_to=kind, attach_id=record.id)
        kept[kind] = documents.upload(db, admin, pupil.id, attached, storage, scanner, LIMIT)
    assert (kept["note"].note_id, kept["review"].review_id, kept["referral"].referral_id) == (
        note.id, review.id, home["referral"].id,
    )  # fmt: skip
    assert documents.describe(db, kept["review"]) == "for the review of 4 November 2025"
    lead = as_(home["users"][Role.SCHOOL_LEAD])
    assert documents.attached(db, lead, "note_id", [note.id]) == {note.id: [kept["note"]]}
    # Another child's record, one out of reach, or one that is not there: not found, nothing kept.
    before = db.scalars(select(Document.id)).all()
    elsewhere = (("referral", other["referral"].id), ("note", other["note"].id), ("review", 10**30), ("note", None))
    for kind, record_id in elsewhere:
        attached = documents.DocumentDraft("x.pdf", PDF, "report", "all", attach_to=kind, attach_id=record_id)
        with pytest.raises(NotFound):
            documents.upload(db, admin, pupil.id, attached, storage, scanner, LIMIT)
    assert db.scalars(select(Document.id)).all() == before


def test_a_document_for_a_note_kept_by_the_la_is_kept_by_the_la_too(
    db: Session, world: dict[str, Any], clamav: dict[str, Any]
) -> None:
    home = world["home"]
    storage, scanner = kit(clamav)
    note = home["note"]
    assert note.audience == "la"
    shared = documents.DocumentDraft("plan.pdf", PDF, "report", "all", attach_to="note", attach_id=note.id)
    with pytest.raises(DomainError) as refused:
        documents.upload(db, as_(home["users"][Role.LA_ADMIN]), home["pupil"].id, shared, storage, scanner, LIMIT)
    assert [e.field for e in refused.value.errors] == ["audience"]
