"""Tier 1: outreach from AP into mainstream schools, as engagements and their sessions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.settings import Setting


class OutreachEngagement(Base):
    """A provider's work with a school: for one pupil, or a group."""

    __tablename__ = "outreach_engagement"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupil.id"), index=True)
    group_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    started_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(30))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped[Setting] = relationship(foreign_keys=[provider_id])
    school: Mapped[Setting] = relationship(foreign_keys=[school_id])
    pupil: Mapped[Pupil | None] = relationship()
    sessions: Mapped[list[OutreachSession]] = relationship(
        back_populates="engagement", order_by="OutreachSession.held_on", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("pupil_id IS NOT NULL OR group_name IS NOT NULL", name="pupil_or_group"),
        CheckConstraint("(closed_on IS NULL) = (outcome IS NULL)", name="closed_with_outcome"),
    )

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.sessions)


class OutreachSession(Base):
    __tablename__ = "outreach_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("outreach_engagement.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    minutes: Mapped[int] = mapped_column()
    staff: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    engagement: Mapped[OutreachEngagement] = relationship(back_populates="sessions")

    __table_args__ = (CheckConstraint("minutes > 0 AND minutes <= 480", name="minutes_in_a_day"),)


class OutreachProposal(Base):
    """A provider's offer of outreach for one named pupil, waiting for the pupil's school (or the
    LA) to agree. Until then the provider knows only the UPN it typed: `upn` is kept as given,
    and no child is linked, so a guessed UPN reveals nothing. Agreeing starts the engagement."""

    __tablename__ = "outreach_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    upn: Mapped[str] = mapped_column(String(13))
    kind: Mapped[str] = mapped_column(String(30))
    started_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_engagement.id"))

    provider: Mapped[Setting] = relationship(foreign_keys=[provider_id])
    school: Mapped[Setting] = relationship(foreign_keys=[school_id])
    engagement: Mapped[OutreachEngagement | None] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'agreed', 'declined', 'withdrawn')", name="known_status"),
        CheckConstraint("(status = 'agreed') = (engagement_id IS NOT NULL)", name="agreed_with_engagement"),
    )
