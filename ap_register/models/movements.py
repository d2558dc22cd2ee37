"""The movement ledger: append-only. No movement is ever updated or deleted (the database
refuses it, by trigger); a mistake is corrected by a later movement that names it."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.domain.vocab import MovementKind
from ap_register.models.base import Base, UTCDateTime, str_enum, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.settings import Setting

if TYPE_CHECKING:
    from ap_register.models.placements import Placement


class Movement(Base):
    __tablename__ = "movement"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"))
    kind: Mapped[MovementKind] = mapped_column(str_enum(MovementKind, "movement_kind"))
    date: Mapped[date] = mapped_column(Date)
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"), index=True)
    days: Mapped[int | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    # What the movement set: for placement movements, every field of the placement after it.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("movement.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_via: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pupil: Mapped[Pupil] = relationship()
    setting: Mapped[Setting | None] = relationship()
    # Also tells the session to write a placement before its movements, when both wait to be
    # written (an import's chunk gives a new placement its id before writing it).
    placement: Mapped[Placement | None] = relationship()

    __table_args__ = (Index("ix_movement_pupil_date", "pupil_id", "date"),)

    def __repr__(self) -> str:
        return f"<Movement {self.id} {self.kind} {self.date}>"
