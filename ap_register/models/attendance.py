"""Attendance marks recorded by a setting, one per pupil, date and session."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.settings import Setting


class AttendanceMark(Base):
    __tablename__ = "attendance_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"))
    setting_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(2))
    code: Mapped[str] = mapped_column(ForeignKey("attendance_code.code"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pupil: Mapped[Pupil] = relationship()
    setting: Mapped[Setting] = relationship()

    __table_args__ = (
        UniqueConstraint("pupil_id", "setting_id", "date", "session"),
        CheckConstraint("session IN ('AM', 'PM')", name="session_am_pm"),
    )
