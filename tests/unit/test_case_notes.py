"""Notes on a child's record (casework/notes.py): who writes them, who reads them, corrections
instead of edits, and every problem with a note named at once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import permissions
from ap_register.casework import notes
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, CaseNote, Pupil

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
    # Asked for everyone, the correction is still read only by those who read the note.
    fixed = notes.write(db, as_(officer), pupil.id, draft("all", "It was mum, not dad."), corrects=first.id)
    db.refresh(first)
    assert first.text == "Met dad at home." and fixed.corrects_id == first.id and fixed.audience == "la"
    assert notes.corrections_of(notes.visible_notes(db, as_(officer), pupil)) == {first.id: [fixed.id]}
    # A school cannot correct (nor see) a note for the LA only; a note of another child is not found.
    with pytest.raises(NotFound):
        notes.write(db, as_(home["users"][Role.AP_HEAD]), pupil.id, draft("la"), corrects=first.id)
    with pytest.raises(NotFound):
        notes.write(db, as_(officer), home["bystander"].id, draft("la"), corrects=first.id)


def test_a_note_is_corrected_by_its_author_or_the_la_s_officers_only(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    officer, lead, pupil = home["users"][Role.ATTENDANCE_OFFICER], home["users"][Role.SCHOOL_LEAD], home["pupil"]
    officers = notes.write(db, as_(officer), pupil.id, draft("all", "Agreed a timetable with the school."))
    with pytest.raises(Forbidden):
        notes.write(db, as_(lead), pupil.id, draft("all", "No, we did not."), corrects=officers.id)
    schools = notes.write(db, as_(lead), pupil.id, draft("all", "Sam was late twice this week."))
    notes.write(db, as_(lead), pupil.id, draft("all", "Three times, not twice."), corrects=schools.id)
    notes.write(
        db, as_(home["users"][Role.LA_ADMIN]), pupil.id, draft("all", "Four, per the register."), corrects=schools.id
    )
    assert len(notes.corrections_of(notes.visible_notes(db, as_(lead), pupil))[schools.id]) == 2


def test_a_setting_that_sees_the_child_without_working_with_them_neither_writes_nor_reads_notes(
    db: Session, world: dict[str, Any]
) -> None:
    from ap_register.budgets.outreach import start_engagement
    from tests import factories

    home = world["home"]
    pupil = home["pupil"]
    # Another provider's outreach with the child: it sees the child, but does not work with them.
    head = factories.user(db, Role.AP_HEAD, home["farm"])
    start_engagement(
        db,
        factories.SYSTEM,
        provider=home["farm"],
        school=home["school"],
        kind="coaching",
        started_on=date(2025, 9, 8),
        pupil=pupil,
        today=date(2025, 11, 10),
    )
    shared = notes.write(db, as_(home["users"][Role.LA_ADMIN]), pupil.id, draft("all", "Mum disclosed a worry."))
    assert pupil.id in {p.id for p in db.scalars(permissions.scope_pupils(as_(head), select(Pupil)))}
    with pytest.raises(Forbidden):
        notes.write(db, as_(head), pupil.id, draft())
    assert notes.visible_notes(db, as_(head), pupil) == []
    # The school and the provider the child is placed with read it.
    for role in (Role.SCHOOL_LEAD, Role.AP_HEAD):
        assert [n.id for n in notes.visible_notes(db, as_(home["users"][role]), pupil)] == [shared.id]


def test_a_setting_s_own_note_for_the_la_stays_readable_by_its_author(db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    lead, pupil = home["users"][Role.SCHOOL_LEAD], home["pupil"]
    mine = notes.write(db, as_(lead), pupil.id, draft("la", "Dad told us about a court order."))
    assert [n.id for n in notes.visible_notes(db, as_(lead), pupil)] == [mine.id]
    assert mine.id not in [n.id for n in notes.visible_notes(db, as_(home["users"][Role.AP_HEAD]), pupil)]


def test_anonymising_a_child_removes_the_text_of_their_notes(db: Session, world: dict[str, Any]) -> None:
    from ap_register.domain import retention

    home = world["home"]
    note = notes.write(db, as_(home["users"][Role.LA_ADMIN]), home["pupil"].id, draft("la", "Lives with nan."))
    retention.anonymise(db, Actor.system("test"), home["pupil"], DAY)
    db.refresh(note)
    assert note.text == retention.REMOVED
    # Nothing more is added to an anonymised record: no note, no caseworker.
    from ap_register.casework import caseloads

    admin = home["users"][Role.LA_ADMIN]
    with pytest.raises(DomainError):
        notes.write(db, as_(admin), home["pupil"].id, draft("la", "Lives at 3 High Street."))
    with pytest.raises(DomainError):
        caseloads.assign(db, as_(admin), home["pupil"].id, admin.id)
