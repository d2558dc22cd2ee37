"""Casework: which of an LA's officers holds a child's case, and the notes kept on it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.pupils import Pupil
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
