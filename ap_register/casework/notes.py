"""Notes on a child's record: what was done or agreed, on what day, by whom.

A note has a day (not after today, not before the child was born), a category (`CATEGORIES`), its
text, and who may read it (`AUDIENCES`; `permissions.scope_notes`): the home LA's officers only
(`la`), or the LA's people with the school and providers that work with the child (`all`: on
their roll, or placed with them). The author of a note always reads it. Notes are never edited
nor deleted: a mistake is put right by a correction, a later note that names the one it
corrects, which stays as it was written; the note's author or an officer of the child's home LA
writes it, and it is read by whoever reads the note it corrects (the same audience), so that
nobody reads a note without seeing that it was corrected. The LA's officers who work cases write
notes on their LA's children; a school or a provider on the children it works with
(`note.write`). Nothing is added to an anonymised record. Each note written is audited on the
child's record; reading them is audited as a view of the page that shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, NotFound, Refusal
from ap_register.domain.text import control_character_problem
from ap_register.models import CaseNote, Pupil

CATEGORIES = {
    "family": "Contact with the family",
    "school": "Contact with the school",
    "provider": "Contact with the provider",
    "professional": "Contact with another professional (social care, health, youth justice)",
    "meeting": "Meeting",
    "attendance": "Attendance",
    "safeguarding": "Safeguarding",
    "other": "Something else",
}
AUDIENCES = {
    "la": "The local authority's officers only",
    "all": "The local authority, and the school and providers that work with the child",
}
MAX_TEXT = 5000
ANONYMISED = "This child's record was anonymised under the retention policy: nothing more can be added to it"


@dataclass(frozen=True)
class NoteDraft:
    happened_on: date | None
    category: str
    text: str
    audience: str


def visible_notes(session: Session, actor: Actor, pupil: Pupil) -> list[CaseNote]:
    """The child's notes the actor may read, newest first (by the day, then as written)."""
    return list(
        session.scalars(
            permissions.scope_notes(
                actor,
                select(CaseNote)
                .where(CaseNote.pupil_id == pupil.id)
                .order_by(CaseNote.happened_on.desc(), CaseNote.id.desc()),
            )
        )
    )


def corrections_of(shown: list[CaseNote]) -> dict[int, list[int]]:
    """Each note's corrections among those shown (a correction has the note's own readers)."""
    found: dict[int, list[int]] = {}
    for note in sorted(shown, key=lambda n: n.id):
        if note.corrects_id is not None:
            found.setdefault(note.corrects_id, []).append(note.id)
    return found


def get_note(session: Session, actor: Actor, note_id: int) -> CaseNote:
    note = session.scalar(permissions.scope_notes(actor, select(CaseNote).where(CaseNote.id == note_id)))
    if note is None:
        raise NotFound("Page not found")
    return note


def note_to_correct(session: Session, actor: Actor, pupil: Pupil, note_id: int) -> CaseNote:
    """A note of this child the actor reads and may correct: its author, or an officer of the
    child's home LA who reads the LA's notes (NotFound for another child's note or one the actor
    does not read; Forbidden for one they read but may not correct)."""
    note = get_note(session, actor, note_id)
    if note.pupil_id != pupil.id:
        raise NotFound("Page not found")
    permissions.require(session, actor, "note.correct", note)
    return note


def write(
    session: Session,
    actor: Actor,
    pupil_id: int,
    draft: NoteDraft,
    corrects: int | None = None,
    today: date | None = None,
) -> CaseNote:
    """Write a note on the child's record (a correction when `corrects` names one the actor may
    read). Refused whole, with every problem named, when any part is wrong."""
    pupil = permissions.get_pupil(session, actor, pupil_id)
    permissions.require(session, actor, "note.write", pupil)
    corrected = note_to_correct(session, actor, pupil, corrects) if corrects is not None else None
    if pupil.anonymised_on is not None:
        raise DomainError("The note was not kept", [FieldError("", ANONYMISED)])
    refusal = Refusal()
    today = today or clock.today()
    if draft.happened_on is None:
        refusal.add("happened_on", "Enter the date it happened")
    elif draft.happened_on > today:
        refusal.add("happened_on", "The date it happened must be today or in the past")
    elif draft.happened_on < pupil.date_of_birth:
        refusal.add("happened_on", "The date it happened must be after the child's date of birth")
    if draft.category not in CATEGORIES:
        refusal.add("category", "Choose what the note is about")
    text = draft.text.replace("\r\n", "\n").strip()  # a browser sends a line break as two characters
    problem = control_character_problem(text, multiline=True)
    if not text:
        refusal.add("text", "Enter what was done or agreed")
    elif len(text) > MAX_TEXT:
        refusal.add("text", f"What was done or agreed must be {MAX_TEXT} characters or fewer")
    elif problem:
        refusal.add("text", f"What was done or agreed {problem}")
    # A correction is read by whoever reads the note it corrects.
    audience = corrected.audience if corrected is not None else draft.audience
    if audience not in AUDIENCES:
        refusal.add("audience", "Choose who may read the note")
    refusal.raise_if_any("The note was not kept")
    user = actor.user
    note = CaseNote(
        pupil_id=pupil.id,
        happened_on=draft.happened_on,
        category=draft.category,
        text=text,
        audience=audience,
        corrects_id=corrected.id if corrected is not None else None,
        author_id=actor.user_id,
        author_name=user.name if user is not None else actor.name,
        author_organisation=user.organisation_name if user is not None else "",
    )
    with session.begin_nested():
        session.add(note)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            "case_note",
            note.id,
            pupil_id=pupil.id,
            detail={"category": note.category, "audience": note.audience, "corrects": note.corrects_id},
        )
    return note
