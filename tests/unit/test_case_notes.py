"""Notes on a child's record (casework/notes.py): who writes them, who reads them, corrections
instead of edits, and every problem with a note named at once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.casework import notes
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, CaseNote

DAY = date(2026, 12, 2)


def as_(user: Any) -> Actor:
    return Actor(user=user, via="test")


def draft(audience: str = "all", text: str = "Called mum: Sam starts at the PRU on Monday.") -> notes.NoteDraft:
    return notes.NoteDraft(DAY, "family", text, audience)


def test_a_note_for_the_la_is_read_by_its_officers_and_one_for_everyone_by_the_child_s_settings_too(
    db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    officer, pupil = home["users"][Role.ATTENDANCE_OFFICER], home["pupil"]
    private = notes.write(db, as_(officer), pupil.id, draft("la", "Social worker says: no contact with father."))
    shared = notes.write(db, as_(home["users"][Role.SCHOOL_LEAD]), pupil.id, draft("all"))
    assert (shared.author_name, shared.author_organisation) == (
        home["users"][Role.SCHOOL_LEAD].name,
        home["school"].name,
    )

    def read_by(user: Any) -> list[int]:
        return [n.id for n in notes.visible_notes(db, as_(user), pupil)]

    for role in (Role.LA_ADMIN, Role.ATTENDANCE_OFFICER, Role.COMMISSIONER, Role.PANEL_CHAIR):
        assert sorted(read_by(home["users"][role])) == sorted([private.id, shared.id, home["note"].id]), role
    for role in (Role.SCHOOL_LEAD, Role.AP_HEAD, Role.PANEL_MEMBER):
        assert read_by(home["users"][role]) == [shared.id], role
    assert read_by(other["users"][Role.LA_ADMIN]) == []
    with pytest.raises(NotFound):
        notes.get_note(db, as_(home["users"][Role.SCHOOL_LEAD]), private.id)
    written = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "case_note")).all()
    assert [(e.action, e.pupil_id) for e in written] == [("create", pupil.id)] * 2


def test_who_may_write_a_note(db: Session, world: dict[str, Any]) -> None:
    home, other = world["home"], world["other"]
    pupil = home["pupil"]
    with pytest.raises(Forbidden):
        notes.write(db, as_(home["users"][Role.PANEL_MEMBER]), pupil.id, draft())
    with pytest.raises(NotFound):
        notes.write(db, as_(other["users"][Role.LA_ADMIN]), pupil.id, draft())
    # A setting that does not work with the child (the bystander is at another school).
    with pytest.raises((Forbidden, NotFound)):
        notes.write(db, as_(home["users"][Role.SCHOOL_LEAD]), home["bystander"].id, draft())
    # The provider the child is placed with does.
    notes.write(db, as_(home["users"][Role.AP_HEAD]), pupil.id, draft())
    assert len(db.scalars(select(CaseNote).where(CaseNote.author_id.is_not(None))).all()) == 1


def test_every_problem_with_a_note_is_named_and_nothing_is_kept(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    officer, pupil = home["users"][Role.ATTENDANCE_OFFICER], home["pupil"]
    bad = [
        (notes.NoteDraft(None, "family", "x", "all"), "happened_on"),
        (notes.NoteDraft(date(2026, 12, 5), "family", "x", "all"), "happened_on"),
        (notes.NoteDraft(date(2000, 1, 1), "family", "x", "all"), "happened_on"),
        (notes.NoteDraft(DAY, "gossip", "x", "all"), "category"),
        (notes.NoteDraft(DAY, "family", "   ", "all"), "text"),
        (notes.NoteDraft(DAY, "family", "x" * 5001, "all"), "text"),
        (notes.NoteDraft(DAY, "family", "a\x00b", "all"), "text"),
        (notes.NoteDraft(DAY, "family", "x", "everyone"), "audience"),
    ]
    for given, field in bad:
        with pytest.raises(DomainError) as refused:
            notes.write(db, as_(officer), pupil.id, given)
        assert [e.field for e in refused.value.errors] == [field], given
    with pytest.raises(DomainError) as refused:
        notes.write(db, as_(officer), pupil.id, notes.NoteDraft(None, "", "", ""))
    assert [e.field for e in refused.value.errors] == ["happened_on", "category", "text", "audience"]
    assert db.scalars(select(CaseNote).where(CaseNote.author_id.is_not(None))).all() == []


def test_a_note_is_corrected_by_a_later_one_read_by_the_same_people(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    officer, pupil = home["users"][Role.ATTENDANCE_OFFICER], home["pupil"]
    first = notes.write(db, as_(officer), pupil.id, draft("la", "Met dad at home."))
    with pytest.raises(DomainError) as refused:
        notes.write(db, as_(officer), pupil.id, draft("all", "It was mum, not dad."), corrects=first.id)
    assert refused.value.errors[0].field == "audience"
    fixed = notes.write(db, as_(officer), pupil.id, draft("la", "It was mum, not dad."), corrects=first.id)
    db.refresh(first)
    assert first.text == "Met dad at home." and fixed.corrects_id == first.id
    # A school cannot correct (nor see) a note for the LA only; a note of another child is not found.
    with pytest.raises(NotFound):
        notes.write(db, as_(home["users"][Role.AP_HEAD]), pupil.id, draft("la"), corrects=first.id)
    with pytest.raises(NotFound):
        notes.write(db, as_(officer), home["bystander"].id, draft("la"), corrects=first.id)


def test_anonymising_a_child_removes_the_text_of_their_notes(db: Session, world: dict[str, Any]) -> None:
    from ap_register.domain import retention

    home = world["home"]
    note = notes.write(db, as_(home["users"][Role.LA_ADMIN]), home["pupil"].id, draft("la", "Lives with nan."))
    retention.anonymise(db, Actor.system("test"), home["pupil"], DAY)
    db.refresh(note)
    assert note.text == retention.REMOVED
