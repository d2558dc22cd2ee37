"""Casework: which of an LA's officers holds a child's case, the notes kept on it, and the people
around the child."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.settings import Setting
from ap_register.models.users import User


class CaseAssignment(Base):
    """A child's caseworker: the officer of the child's home LA who follows the child's case (their
    caseload). One a child at most; a child with no row has nobody. Who held it before, and who
    gave it, are in the audit trail (`assign` events on the pupil)."""

    __tablename__ = "case_assignment"

    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    pupil: Mapped[Pupil] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class CaseNote(Base):
    """A note on a child's record: what was done or agreed, on what day, by whom, of what kind, and
    who may read it (`audience`: `la`, the home LA's officers; `all`, everyone who may see the
    child). A note is never edited: a correction is a later note that names it (`corrects_id`)."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    happened_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(10))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("case_note.id"), index=True)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # As the author was named when they wrote it (a person's name may change; a job has no user).
    author_name: Mapped[str] = mapped_column(String(200))
    author_organisation: Mapped[str] = mapped_column(String(200))


class Contact(Base):
    """A person around the child: a parent or carer, or a professional who works with them.

    A parent or carer (`role` "parent_carer") has a relationship to the child and, as three
    separate facts, whether they hold parental responsibility (Children Act 1989 ss2-3) and whether
    the child lives with them: "parent" in education law (Education Act 1996 s576) includes anyone
    with parental responsibility or who has care of the child, so neither fact alone decides. A
    SENCo or key worker works at a setting (`setting_id`). A contact with a `restriction` (for
    example a court order that there be no contact) is shown to everyone who may contact the
    family, with its details only to the home LA's officers (casework/contacts.py)."""

    __tablename__ = "pupil_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str | None] = mapped_column(String(30))
    organisation: Mapped[str | None] = mapped_column(String(200))
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"))
    address: Mapped[str | None] = mapped_column(String(400))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    parental_responsibility: Mapped[bool | None] = mapped_column()
    lives_with: Mapped[bool | None] = mapped_column()
    contact_by: Mapped[str | None] = mapped_column(String(10))
    preferences: Mapped[str | None] = mapped_column(String(400))
    restriction: Mapped[str | None] = mapped_column(String(400))
    # Who reads the contact: the home LA's officers only (`la`: parents the LA's own files gave it,
    # for its register of children not in school), or also the settings that work with the child
    # (`all`). A restriction is shown to both, whatever the audience.
    audience: Mapped[str] = mapped_column(String(10), default="all", server_default="all")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    setting: Mapped[Setting | None] = relationship()


class Document(Base):
    """A document on a child's record (casework/documents.py), kept in the document storage under
    `storage_key` once scanned clean; read, like a case note, by its `audience`."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(30))
    audience: Mapped[str] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_by_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    # The record it is evidence for, where it was uploaded to one: a referral to the panel, a
    # placement review or a case note (at most one; none: the child's record as a whole).
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("placement_review.id"))
    note_id: Mapped[int | None] = mapped_column(ForeignKey("case_note.id"))


class Letter(Base):
    """A letter the law asks for, made from the record (casework/letters.py). `facts` are what the
    record said when the letter was begun, `edits` the writer's own words; while a draft both may
    be checked and the words changed, once sent it is kept as it went (`document_id`: the PDF
    that was sent). Read, like a case note, by its `audience`: that of its recipient's details."""

    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    # The contact it is addressed to (no key: a contact may be removed; the letter keeps the name
    # and address it was written to in `facts`).
    contact_id: Mapped[int | None] = mapped_column()
    audience: Mapped[str] = mapped_column(String(10))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    edits: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    sent_on: Mapped[date | None] = mapped_column(Date)
    sent_how: Mapped[str | None] = mapped_column(String(10))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
