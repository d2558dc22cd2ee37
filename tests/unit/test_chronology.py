"""A child's chronology (casework/chronology.py): everything the register holds about the child,
merged newest first, each part as the reader may see it, filtered by kind."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.casework import chronology, contacts, notes
from ap_register.coverage import absence
from ap_register.domain.actors import Actor
from ap_register.domain.vocab import Role
from ap_register.models import AttendanceMark
from ap_register.placements.use_cases import ReviewPlacement, review

DAY = date(2025, 11, 18)


def as_(user: Any) -> Actor:
    return Actor(user=user, via="test")


def test_the_chronology_merges_the_child_s_records_newest_first_as_each_reader_may_see_them(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil, users = home["pupil"], home["users"]
    officer = as_(users[Role.ATTENDANCE_OFFICER])
    head = as_(users[Role.AP_HEAD])
    review(db, head, ReviewPlacement(home["placement"].id, review_date=date(2025, 11, 10), notes="Settling well"))
    notes.write(
        db, as_(users[Role.SCHOOL_LEAD]), pupil.id, notes.NoteDraft(date(2025, 11, 12), "school", "Met mum", "all")
    )
    mum = contacts.add(
        db,
        officer,
        pupil.id,
        contacts.ContactDraft("parent_carer", "Jo Homechild", relation="mother", phone="07700 900123"),
    )
    db.add(AttendanceMark(pupil_id=pupil.id, setting_id=home["pru"].id, date=DAY, session="AM", code="N"))
    absence.follow_up(db, home["la"], datetime.combine(DAY, time(10), tzinfo=clock.ENGLAND))
    alert = next(a for a in db.query(absence.Alert).filter_by(kind=absence.KIND))
    absence.record_attempt(db, officer, alert.id, absence.AttemptDraft(mum.id, "phone", "reached", "At the GP"))

    seen = chronology.chronology(db, officer, pupil)
    kinds = {e.kind for e in seen}
    assert kinds >= {"movement", "review", "alert", "attempt", "outreach", "note"}
    assert [e.day for e in seen] == sorted((e.day for e in seen), reverse=True)
    whats = [e.what for e in seen]
    assert "Phone call to Jo Homechild: Spoke to them: we know where the child is" in whats
    assert f"Placement reviewed: {home['pru'].name}" in whats
    # The LA's own note (the world's) is the LA's: the officer reads it, the school does not.
    la_note = home["note"].text
    assert la_note in [e.detail for e in seen]
    school = chronology.chronology(db, as_(users[Role.SCHOOL_LEAD]), pupil)
    assert la_note not in [e.detail for e in school] and "Met mum" in [e.detail for e in school]
    # Filtered by kind.
    only = chronology.chronology(db, officer, pupil, ["attempt", "review"])
    assert {e.kind for e in only} == {"attempt", "review"}
    assert chronology.chronology(db, officer, pupil, ["nonsense"]) == chronology.chronology(db, officer, pupil)
    row = only[0].row()
    assert list(row) == chronology.COLUMNS
