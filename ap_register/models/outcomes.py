"""What the five-outcome framework needs beyond the register: Year 11 leavers' results in English
and maths, their post-16 destinations checked in the October and the March after leaving, and the
scores computed from them (kept as computed each night)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.settings import Setting


class Ks4Result(Base):
    """A Year 11 leaver's English and maths: a GCSE grade (9 to 1, or U) or a functional skills
    level (E1 to E3, L1, L2) in each, recorded by the provider or the LA."""

    __tablename__ = "ks4_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    # The academic year the pupil left Year 11, by the calendar year it starts: 2025 is 2025/26.
    academic_year: Mapped[int] = mapped_column()
    english: Mapped[str | None] = mapped_column(String(2))
    maths: Mapped[str | None] = mapped_column(String(2))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pupil: Mapped[Pupil] = relationship()

    __table_args__ = (UniqueConstraint("pupil_id", "academic_year"),)


class Post16Check(Base):
    """What a Year 11 leaver was doing when checked in the October or the March after leaving."""

    __tablename__ = "post16_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    leaving_year: Mapped[int] = mapped_column()
    check_point: Mapped[str] = mapped_column(String(10))  # october, march
    activity: Mapped[str] = mapped_column(String(30))
    checked_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pupil: Mapped[Pupil] = relationship()

    __table_args__ = (
        UniqueConstraint("pupil_id", "leaving_year", "check_point"),
        CheckConstraint("check_point IN ('october', 'march')", name="check_point_known"),
    )


class Score(Base):
    """One outcome of one provider (or of the whole LA, provider empty) for one academic year, as
    the nightly job computed it."""

    __tablename__ = "score"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"))
    academic_year: Mapped[int] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(20))
    n: Mapped[int] = mapped_column()
    value: Mapped[float | None] = mapped_column(Numeric(6, 2))
    ci_low: Mapped[float | None] = mapped_column(Numeric(6, 2))
    ci_high: Mapped[float | None] = mapped_column(Numeric(6, 2))
    suppressed: Mapped[bool] = mapped_column()
    band: Mapped[str] = mapped_column(String(20))
    benchmark: Mapped[float | None] = mapped_column(Numeric(6, 2))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the comparison page shows beside the figure (outcomes.store writes it, outcomes.stored
    # reads it): successes, extra, pending, pupils (a count), benchmark_source and _kind, context.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    provider: Mapped[Setting | None] = relationship()

    __table_args__ = (UniqueConstraint("la_id", "provider_id", "academic_year", "outcome"),)
