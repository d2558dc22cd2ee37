"""A child's record moving between local authorities: asked for by the receiving LA, released
(or declined) by the LA that holds it. Never a side effect of an import."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.reference import LocalAuthority

TRANSFER_STATUSES = ("requested", "released", "declined", "withdrawn")


class PupilTransfer(Base):
    """One request for one child's record. `upn` and `date_of_birth` are what the receiving LA
    gave; `pupil_id` and `from_la_id` are what the register found, and are never shown to the
    receiving LA before the holding LA releases the record (so a request reveals nothing)."""

    __tablename__ = "pupil_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    upn: Mapped[str] = mapped_column(String(13), index=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    to_la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupil.id"), index=True)
    from_la_id: Mapped[int | None] = mapped_column(ForeignKey("local_authority.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="requested")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    to_la: Mapped[LocalAuthority] = relationship(foreign_keys=[to_la_id])
    from_la: Mapped[LocalAuthority | None] = relationship(foreign_keys=[from_la_id])
    pupil: Mapped[Pupil | None] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('requested', 'released', 'declined', 'withdrawn')", name="known_status"),
        CheckConstraint("(status = 'requested') = (decided_at IS NULL)", name="decided_when_not_requested"),
        Index("ix_pupil_transfer_from_status", "from_la_id", "status"),
        # One waiting request per UPN and receiving LA, however many of its people ask at once.
        Index(
            "uq_pupil_transfer_waiting",
            "upn",
            "to_la_id",
            unique=True,
            postgresql_where=text("status = 'requested'"),
            sqlite_where=text("status = 'requested'"),
        ),
    )
