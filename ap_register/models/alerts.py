"""Alerts people must act on, raised by the scheduled checks; and the record of scheduled runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.reference import LocalAuthority
from ap_register.models.settings import Setting


class Alert(Base):
    """One finding of a check. `key` names the finding (its kind and what it is about), so a
    check run again updates the same alert instead of raising a second one."""

    __tablename__ = "alert"
    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupil.id"), index=True)
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"))
    due: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    # open, acknowledged (someone is on it) or resolved (by a person with a note, or by the register
    # when the finding went away).
    status: Mapped[str] = mapped_column(String(20), default="open")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_found_on: Mapped[date] = mapped_column(Date)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)
    # Who is to act on it (an officer the alert was given to), and what whoever acknowledged it said.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
    # A same-day absence not followed by a contact with the family by the LA's time: when it went
    # to the LA's named officer (coverage/absence.py).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    la: Mapped[LocalAuthority] = relationship()
    pupil: Mapped[Pupil | None] = relationship()
    setting: Mapped[Setting | None] = relationship()

    # One alert per LA and finding: two LAs whose pupils share a provider each keep their own.
    __table_args__ = (Index("ix_alert_la_status_due", "la_id", "status", "due"), UniqueConstraint("la_id", "key"))


class ContactAttempt(Base):
    """An attempt to reach a child's family (or the child) about an alert, a same-day absence
    above all: when, by whom, how, who with, and what came of it. Never edited."""

    __tablename__ = "contact_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # As the person was named when they made it, with their organisation.
    made_by_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    # Who they tried (the contact's name as it was: a contact may later be changed or removed).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("pupil_contact.id", ondelete="SET NULL"))
    contact_name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)


class JobRun(Base):
    """A scheduled job's run for one day. The unique constraint is what makes a daily job run once,
    however many scheduler processes are started against the same database."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    run_for: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    process: Mapped[str] = mapped_column(String(80))

    __table_args__ = (UniqueConstraint("job", "run_for"),)
