"""Letters the law asks for (casework/letters.py): made from the record, checked, the writer's words
added, printed as PDF and Word with the same words, kept once sent, and read like the record."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document as WordDocument
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.casework import chronology, contacts, documents, letter_files, letters
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.retention import anonymise
from ap_register.domain.vocab import Destination, MovementKind, Registration, Role, Route, Tier
from ap_register.models import AuditEvent, Document, Letter
from ap_register.panels.rules import PlacementTerms, add_member, decide
from ap_register.placements.rules import record_roll_movement
from tests import factories
from tests.factories import SYSTEM


def as_(user: Any) -> Actor:
    return Actor(user=user, via="test")


def parent(db: Session, area: dict[str, Any], pupil: Any, name: str = "Sam Parent", audience: str = "all") -> Any:
    draft = contacts.ContactDraft(
        role="parent_carer", name=name, relation="mother", address="1 Mill Lane, Peterborough, PE1 1AA",
        email="sam.parent@example.org", parental_responsibility=True, lives_with=True, contact_by="letter",
        audience=audience,
    )  # fmt: skip
    return contacts.add(db, as_(area["users"][Role.LA_ADMIN]), pupil.id, draft)


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", " ")


def docx_text(data: bytes) -> str:
    doc = WordDocument(io.BytesIO(data))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return " ".join([p.text for p in doc.paragraphs] + cells).replace("\n", " ")


def storage(tmp_path: Path) -> documents.Storage:
    return documents.Storage(tmp_path / "documents")


def test_an_off_site_notice_is_made_from_the_placement_printed_alike_and_kept_once_sent(
    db: Session, world: dict[str, Any], tmp_path: Path
) -> None:
    home = world["home"]
    pupil, lead = home["pupil"], as_(home["users"][Role.SCHOOL_LEAD])
    mother = parent(db, home, pupil)
    made_from = letters.sources(db, lead, pupil)
    assert [s.kind for s in made_from] == ["off_site_notice"]
    assert [c.id for c in letters.recipients(db, lead, pupil)] == [mother.id]  # the restricted contact is not
    with clock.fixed(date(2025, 9, 29)):
        letter = letters.begin(db, lead, pupil.id, made_from[0].key, mother.id)
        content = letters.content(letter)
    assert content.recipient == ["Sam Parent", "1 Mill Lane", "Peterborough", "PE1 1AA"]
    rows = dict(content.rows)
    # What SI 2010/1156 reg 3(4) says the notice must state, from the placement's recorded notice.
    assert rows["Where"].startswith("Home PRU, ")
    assert rows["First day"] == "6 October 2025"
    assert (
        rows["Times of the sessions"]
        and rows["Who to report to on the first day"]
        and rows["Why, and what it is meant to achieve"]
    )
    assert content.dated == date(2025, 9, 29) and "Home High School" in content.opening[0]
    printed, word = pdf_text(letter_files.pdf(content)), docx_text(letter_files.docx(content))
    for words in ("Robin Homechild", "Notice of an off-site direction", "6 October 2025", "Sam Parent", "section 29A"):
        assert words in printed and words in word
    # Sent: kept as a document on the record, on the chronology, and no longer to change.
    with clock.fixed(date(2025, 9, 30)):
        letters.send(db, lead, letter.id, "post", date(2025, 9, 30), storage(tmp_path), letter_files.pdf)
    kept = db.get(Document, letter.document_id)
    # Among the documents for the LA's officers; a setting opens the PDF through the letter.
    assert kept is not None and kept.category == "letter_sent" and kept.audience == "la"
    assert "6 October 2025" in pdf_text(storage(tmp_path).read(kept.storage_key))
    entries = chronology.chronology(db, as_(home["users"][Role.AP_HEAD]), pupil, ["letter"])
    assert [(e.day, e.what) for e in entries] == [(date(2025, 9, 30), "Notice of an off-site direction, to Sam Parent")]
    for again in (
        lambda: letters.revise(db, lead, letter.id, {"signed_by": "Someone else"}),
        lambda: letters.send(db, lead, letter.id, "hand", date(2025, 9, 30), storage(tmp_path), letter_files.pdf),
        lambda: letters.discard(db, lead, letter.id),
    ):
        with pytest.raises(DomainError) as refused:
            again()
        assert refused.value.errors[0].message == letters.KEPT
    trail = db.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "letter").order_by(AuditEvent.id)
    ).all()
    assert trail == ["create", "send"]


def excluded_pupil(db: Session, home: dict[str, Any]) -> tuple[Any, Any]:
    pupil = factories.pupil(db, home["la"], home["school"], first_name="Ali", last_name="Excluded")
    record_roll_movement(
        db, SYSTEM, pupil, MovementKind.PERMANENT_EXCLUSION, date(2025, 10, 23), home["school"],
        reason="Assault", today=date(2025, 10, 23),
    )  # fmt: skip
    placed = factories.placement(
        db, pupil, home["pru"], route=Route.LA_EXCLUSION, registration=Registration.DUAL, tier=Tier.TRANSITIONAL,
        start=date(2025, 11, 6),
    )  # fmt: skip
    return pupil, placed


def test_the_las_sixth_day_letter_needs_the_reg_7_particulars_and_warns_when_late(
    db: Session, world: dict[str, Any], tmp_path: Path
) -> None:
    home = world["home"]
    pupil, _placed = excluded_pupil(db, home)
    mother = parent(db, home, pupil, audience="la")
    officer = as_(home["users"][Role.ATTENDANCE_OFFICER])
    # The school does not write the LA's letter; the LA's officer does.
    assert letters.sources(db, as_(home["users"][Role.SCHOOL_LEAD]), pupil) == []
    [source] = letters.sources(db, officer, pupil)
    assert source.kind == "sixth_day"
    with clock.fixed(date(2025, 11, 4)):
        letter = letters.begin(db, officer, pupil.id, source.key, mother.id)
        assert letter.audience == "la"  # to a parent the LA keeps to itself
        with pytest.raises(DomainError) as refused:
            letters.send(db, officer, letter.id, "post", date(2025, 11, 4), storage(tmp_path), letter_files.pdf)
        # The PRU has no one site recorded: its address too is the officer's to give.
        assert {e.field for e in refused.value.errors} == {"address", "session_times", "report_to"}
        assert letters.revise(
            db, officer, letter.id,
            {**letter.edits, "address": "2 Bridge Street, PE1 2BB", "session_times": "9:15am to 3pm, Monday to Friday",
             "report_to": "Ms Okafor at reception"},
        ) == ["address", "report_to", "session_times"]  # fmt: skip
        content = letters.content(letter)
    rows = dict(content.rows)
    assert (
        rows["First day"] == "6 November 2025" and rows["Who to report to on the first day"] == "Ms Okafor at reception"
    )
    assert "permanently excluded from Home High School on 23 October 2025" in content.opening[0]
    assert "section 19(3A)" in content.opening[0] and "section 103" in content.closing[0]
    assert content.warning == ""
    # Sent the day before the education starts: less than 48 hours (SI 2007/1870 reg 6(3)).
    with clock.fixed(date(2025, 11, 5)):
        letters.send(db, officer, letter.id, "email", date(2025, 11, 5), storage(tmp_path), letter_files.pdf)
    assert "reg 6(3)" in letters.content(letter).warning
    # Read by the LA's officers only, as its recipient's details are.
    assert letters.visible(db, as_(home["users"][Role.SCHOOL_LEAD]), pupil) == []
    assert [found.id for found in letters.visible(db, as_(home["users"][Role.LA_ADMIN]), pupil)] == [letter.id]


def test_a_part_time_timetable_agreement_is_the_schools_with_lines_to_sign(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    pupil = factories.pupil(db, home["la"], home["school"], first_name="Jo", last_name="Parttime")
    placed = factories.placement(
        db, pupil, home["school"], route=Route.PART_TIME_TIMETABLE, registration=Registration.SOLE, tier=None,
        sessions="1010101010", start=date(2025, 11, 3), planned_end_date=date(2025, 12, 12),
        reason="Recovering from an operation",
    )  # fmt: skip
    placed.next_review_date = date(2025, 11, 24)
    mother = parent(db, home, pupil)
    lead = as_(home["users"][Role.SCHOOL_LEAD])
    [source] = letters.sources(db, lead, pupil)
    letter = letters.begin(db, lead, pupil.id, source.key, mother.id)
    assert letter.edits["circumstances"] == "Recovering from an operation"
    content = letters.content(letter, today=date(2025, 10, 30))
    rows = dict(content.rows)
    assert (rows["From"], rows["Until"], rows["Reviewed with you and your child by"]) == (
        "3 November 2025", "12 December 2025", "24 November 2025",
    )  # fmt: skip
    assert content.signatures == ["For Home High School", "Parent or carer (Sam Parent)"]
    assert [day for day, am, pm in content.sessions if am and not pm] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
    ]
    assert "SI 2024/208" in content.basis and "reg" in content.basis.lower()
    word = docx_text(letter_files.docx(content))
    assert "Parent or carer (Sam Parent)" in word and "never used to manage behaviour" in word


def test_the_panels_decision_letter_says_what_was_decided_and_why(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    pupil, referral = home["pupil"], home["referral"]
    meeting = home["meeting"]
    admin = as_(home["users"][Role.LA_ADMIN])
    chair = home["users"][Role.PANEL_CHAIR]
    member = add_member(db, admin, meeting.panel, chair, chair=True)
    other = add_member(db, admin, meeting.panel, home["users"][Role.PANEL_MEMBER])
    decide(
        db, as_(chair), meeting, referral, outcome="approve", reasons="Support was tried; a fresh start is best",
        votes={member.id: "for", other.id: "for"},
        terms=PlacementTerms(date(2025, 11, 17), "1" * 10, Registration.SOLE), today=date(2025, 11, 13),
    )  # fmt: skip
    mother = parent(db, home, pupil)
    as_chair = as_(chair)
    source = next(s for s in letters.sources(db, as_chair, pupil) if s.kind == "panel_decision")
    letter = letters.begin(db, as_chair, pupil.id, source.key, mother.id)
    letters.revise(db, as_chair, letter.id, {**letter.edits, "next_steps": "Home Academy will call you this week"})
    rows = dict(letters.content(letter).rows)
    assert rows["Decision"] == "Approved" and rows["Reasons"] == "Support was tried; a fresh start is best"
    assert (rows["Where"], rows["First day"]) == ("Home Academy", "17 November 2025")
    assert rows["What happens next"] == "Home Academy will call you this week"
    # The school may not write the panel's letter.
    assert all(s.kind != "panel_decision" for s in letters.sources(db, as_(home["users"][Role.SCHOOL_LEAD]), pupil))


def test_who_may_begin_and_to_whom(db: Session, world: dict[str, Any]) -> None:
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    mother = parent(db, home, pupil)
    key = letters.sources(db, as_(home["users"][Role.SCHOOL_LEAD]), pupil)[0].key
    with pytest.raises(Forbidden):  # a provider writes none of these letters
        letters.begin(db, as_(home["users"][Role.AP_HEAD]), pupil.id, key, mother.id)
    with pytest.raises(NotFound):  # another LA does not know the child
        letters.begin(db, as_(other["users"][Role.LA_ADMIN]), pupil.id, key, mother.id)
    lead = as_(home["users"][Role.SCHOOL_LEAD])
    with pytest.raises(DomainError) as refused:  # under a restriction, or not a parent at all
        letters.begin(db, lead, pupil.id, key, home["contact"].id)
    assert [e.message for e in refused.value.errors] == [letters.NOT_A_PARENT]
    with pytest.raises(DomainError) as refused:
        letters.begin(db, lead, pupil.id, "sixth_day:99999999999999999999", mother.id)
    assert [e.field for e in refused.value.errors] == ["source"]
    letter = letters.begin(db, lead, pupil.id, key, mother.id)
    with pytest.raises(DomainError) as refused:
        letters.revise(db, lead, letter.id, {"signed_by": "A\x00B", "extra": "x" * 3001})
    assert {e.field for e in refused.value.errors} == {"signed_by", "extra"}
    with pytest.raises(NotFound):
        letters.revise(db, as_(other["users"][Role.LA_ADMIN]), letter.id, {"signed_by": "Me"})
    with pytest.raises(DomainError) as refused:
        letters.send(db, lead, letter.id, "pigeon", date(2999, 1, 1), storage(Path("/nonexistent")), letter_files.pdf)
    assert {e.field for e in refused.value.errors} == {"how", "sent_on"}
    assert db.get(Letter, letter.id).status == "draft"  # type: ignore[union-attr]
    letters.discard(db, lead, letter.id)
    assert db.get(Letter, letter.id) is None


def test_anonymising_the_record_removes_its_letters(db: Session, world: dict[str, Any], tmp_path: Path) -> None:
    home = world["home"]
    pupil, lead = home["pupil"], as_(home["users"][Role.SCHOOL_LEAD])
    mother = parent(db, home, pupil)
    letter = letters.begin(db, lead, pupil.id, letters.sources(db, lead, pupil)[0].key, mother.id)
    letters.send(db, lead, letter.id, "hand", clock.today(), storage(tmp_path), letter_files.pdf)
    anonymise(db, SYSTEM, pupil, clock.today(), storage=storage(tmp_path))
    db.flush()
    assert db.scalars(select(Letter).where(Letter.pupil_id == pupil.id)).all() == []
    assert db.scalars(select(Document).where(Document.pupil_id == pupil.id)).all() == []


def test_a_letter_whose_pdf_cannot_be_kept_is_not_sent(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    pupil, lead = home["pupil"], as_(home["users"][Role.SCHOOL_LEAD])
    mother = parent(db, home, pupil)
    letter = letters.begin(db, lead, pupil.id, letters.sources(db, lead, pupil)[0].key, mother.id)
    nowhere = documents.Storage(Path("/proc/no-documents-here"))
    with pytest.raises(DomainError) as refused:
        letters.send(db, lead, letter.id, "post", clock.today(), nowhere, letter_files.pdf)
    assert [e.message for e in refused.value.errors] == [documents.NOT_STORED]
    db.expire_all()
    kept = db.get(Letter, letter.id)
    assert kept is not None and (kept.status, kept.document_id) == ("draft", None)
    assert db.scalars(select(Document).where(Document.category == "letter_sent")).all() == []


def test_a_letter_is_read_as_its_recipients_details_are_today(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    pupil, lead = home["pupil"], as_(home["users"][Role.SCHOOL_LEAD])
    mother = parent(db, home, pupil)
    letter = letters.begin(db, lead, pupil.id, letters.sources(db, lead, pupil)[0].key, mother.id)

    def readers() -> set[Role]:
        return {
            role
            for role, user in home["users"].items()
            if letter.id in [x.id for x in letters.visible(db, as_(user), pupil)]
        }

    # Those who read the family's details (`contact.view`): not the panel's members.
    everyone_but = {Role.PANEL_MEMBER}
    assert readers() == set(Role) - everyone_but
    # The provider whose placement has ended no longer reads it, nor the school once the child leaves its roll.
    home["placement"].end_date = date(2025, 12, 19)
    home["placement"].destination = Destination.RETURNED_HOME_SCHOOL
    with clock.fixed(date(2026, 1, 5)):
        assert Role.AP_HEAD not in readers()
        pupil.home_school_id = home["second"].id
        db.flush()
        assert Role.SCHOOL_LEAD not in readers()
        with pytest.raises(NotFound):  # nor may its writer change it
            letters.revise(db, lead, letter.id, {"signed_by": "Me"})


def test_the_longest_words_print_and_a_name_the_font_cannot_print_is_refused(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil = factories.pupil(db, home["la"], home["school"], first_name="Jo", last_name="Parttime")
    factories.placement(
        db, pupil, home["school"], route=Route.PART_TIME_TIMETABLE, registration=Registration.SOLE, tier=None,
        sessions="1010101010", start=date(2025, 11, 3), planned_end_date=date(2025, 12, 12),
    )  # fmt: skip
    lead = as_(home["users"][Role.SCHOOL_LEAD])
    mother = parent(db, home, pupil)
    letter = letters.begin(db, lead, pupil.id, letters.sources(db, lead, pupil)[0].key, mother.id)
    longest = {w.name: ("word " * w.max_length)[: w.max_length] for w in letters.words_of(letter.kind)}
    letters.revise(db, lead, letter.id, longest)
    printed = PdfReader(io.BytesIO(letter_files.pdf(letters.content(letter))))
    assert len(printed.pages) >= 3 and "The plan back to full-time" in pdf_text(
        letter_files.pdf(letters.content(letter))
    )
    letters.revise(db, lead, letter.id, {**longest, "signed_by": "李小龍, head teacher"})
    with pytest.raises(letter_files.FontMissing):
        letter_files.pdf(letters.content(letter))
    assert "李小龍" in docx_text(letter_files.docx(letters.content(letter)))  # Word sets it in its own fonts


def test_a_restricted_or_changed_recipient_stops_the_sending(
    db: Session, world: dict[str, Any], tmp_path: Path
) -> None:
    home = world["home"]
    pupil, lead = home["pupil"], as_(home["users"][Role.SCHOOL_LEAD])
    mother = parent(db, home, pupil)
    letter = letters.begin(db, lead, pupil.id, letters.sources(db, lead, pupil)[0].key, mother.id)
    mother.address = "9 New Road, PE9 9ZZ"
    with pytest.raises(DomainError) as refused:
        letters.send(db, lead, letter.id, "post", clock.today(), storage(tmp_path), letter_files.pdf)
    assert "has changed since the letter was begun" in refused.value.errors[0].message
    mother.restriction = "No contact: a court order"
    with pytest.raises(DomainError) as refused:
        letters.send(db, lead, letter.id, "post", clock.today(), storage(tmp_path), letter_files.pdf)
    assert "can no longer be written to" in refused.value.errors[0].message
    assert db.get(Letter, letter.id).status == "draft"  # type: ignore[union-attr]


def test_a_fair_access_letter_says_a_place_is_allocated_only_when_one_is() -> None:
    facts = {
        "panel": "Fair access panel", "meeting_on": "2025-11-13", "outcome_label": "Not approved", "reasons": "Full",
        "pupil": "Jo", "la": "The council", "fair_access": True, "outcome": "decline", "setting": None,
    }  # fmt: skip
    declined = letters.COMPOSERS["panel_decision"](facts, {"next_steps": "We will write again"})
    assert not any("allocated" in line for line in declined["closing"])
    assert "right to apply" in declined["closing"][0] and "3.21" in declined["basis"]
    approved = letters.COMPOSERS["panel_decision"]({**facts, "outcome": "approve", "setting": "Home Academy"}, {})
    assert "allocated under The council's fair access protocol" in approved["closing"][0]
