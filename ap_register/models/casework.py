"""Casework: which of an LA's officers holds a child's case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
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
