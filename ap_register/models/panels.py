"""Referrals to a fair-access or placement panel, the panels, their meetings and decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.domain.vocab import Route, Tier
from ap_register.models.base import Base, UTCDateTime, str_enum, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.settings import Setting
from ap_register.models.users import User


class Referral(Base):
    """A request to move a pupil, with the evidence a panel needs to decide it."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    move: Mapped[str] = mapped_column(String(30))
    route: Mapped[Route] = mapped_column(str_enum(Route, "referral_route"))
    tier: Mapped[Tier | None] = mapped_column(str_enum(Tier, "referral_tier"))
    referring_setting_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"))
    proposed_setting_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"))
    reason_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[str] = mapped_column(Text)
    missing_support_reason: Mapped[str | None] = mapped_column(Text)
    parent_views: Mapped[str | None] = mapped_column(Text)
    pupil_views: Mapped[str | None] = mapped_column(Text)
    missing_views_reason: Mapped[str | None] = mapped_column(Text)
    best_interest: Mapped[str] = mapped_column(Text)
    has_ehcp: Mapped[bool] = mapped_column(default=False)
    awaiting_ehc_assessment: Mapped[bool] = mapped_column(default=False)
    # A fair access referral: the category of the School Admissions Code 2021 para 3.17 list the
    # child is in (a letter, `panels.rules.FAIR_ACCESS_CATEGORIES`), and the day the LA agreed the
    # child will be considered under its protocol, from which a place is due within 20 school days.
    fair_access_category: Mapped[str | None] = mapped_column(String(1))
    fair_access_agreed_on: Mapped[date | None] = mapped_column(Date)
    # submitted, decided (approved or declined), withdrawn; deferred and more information stay submitted.
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_on: Mapped[date] = mapped_column(Date)
    # Bumped by every change: a decision written from a stale read fails instead of doubling up.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    pupil: Mapped[Pupil] = relationship()
    referring_setting: Mapped[Setting | None] = relationship(foreign_keys=[referring_setting_id])
    proposed_setting: Mapped[Setting | None] = relationship(foreign_keys=[proposed_setting_id])
    support: Mapped[list[SupportTried]] = relationship(
        back_populates="referral", order_by="SupportTried.started", cascade="all, delete-orphan"
    )
    decisions: Mapped[list[Decision]] = relationship(back_populates="referral", order_by="Decision.id")

    __mapper_args__ = {"version_id_col": version}


class SupportTried(Base):
    """Support already tried for the pupil, with its dates: the evidence before a move."""

    __tablename__ = "support_tried"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    started: Mapped[date] = mapped_column(Date)
    ended: Mapped[date | None] = mapped_column(Date)
    # Outreach the register holds, when the support was that.
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("outreach_engagement.id"))

    referral: Mapped[Referral] = relationship(back_populates="support")


class Panel(Base):
    __tablename__ = "panel"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    quorum: Mapped[int] = mapped_column(default=3)

    members: Mapped[list[PanelMember]] = relationship(back_populates="panel", order_by="PanelMember.id")
    meetings: Mapped[list[Meeting]] = relationship(back_populates="panel", order_by="Meeting.held_on")


class PanelMember(Base):
    """A person on a panel, from their organisation (an LA or a setting)."""

    __tablename__ = "panel_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    chair: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    panel: Mapped[Panel] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("panel_id", "user_id"),)


class Meeting(Base):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panel.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    location: Mapped[str | None] = mapped_column(String(200))

    panel: Mapped[Panel] = relationship(back_populates="meetings")
    cases: Mapped[list[AgendaItem]] = relationship(back_populates="meeting", order_by="AgendaItem.position")


class AgendaItem(Base):
    """A referral on a meeting's agenda."""

    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    position: Mapped[int] = mapped_column()

    meeting: Mapped[Meeting] = relationship(back_populates="cases")
    referral: Mapped[Referral] = relationship()

    __table_args__ = (UniqueConstraint("meeting_id", "referral_id"),)


class Conflict(Base):
    """A member's declared conflict of interest in a case: they may not vote on it."""

    __tablename__ = "conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id"))
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("meeting_id", "referral_id", "member_id"),)


class Decision(Base):
    """A panel's decision on a referral. Never edited: a later decision supersedes it."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[str] = mapped_column(Text)
    votes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), unique=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"), unique=True)

    referral: Mapped[Referral] = relationship(back_populates="decisions")
    meeting: Mapped[Meeting] = relationship()
    decided_by: Mapped[User] = relationship()
