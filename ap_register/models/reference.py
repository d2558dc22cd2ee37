"""Reference data: local authorities, their term dates, bank holidays and attendance codes."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base

DEFAULT_PANEL_ROUTES = ("fair_access", "managed_move", "la_exclusion:transitional")


class LocalAuthority(Base):
    """An English local authority by its DfE 3-digit code, with its local choices of threshold."""

    __tablename__ = "local_authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    gss_code: Mapped[str | None] = mapped_column(String(9))
    live: Mapped[bool] = mapped_column(default=True)
    # Thresholds guidance leaves to local choice (docs/architecture.md, The rules of the land).
    review_interval_school_days: Mapped[int] = mapped_column(default=30)
    off_site_max_school_days: Mapped[int | None] = mapped_column()
    unregistered_session_cap: Mapped[int] = mapped_column(default=4)
    # How long a part-time timetable may run before it is raised as an alert (about six weeks).
    part_time_timetable_max_school_days: Mapped[int] = mapped_column(default=30, server_default="30")
    # The routes (or route:tier) that need an approved panel decision before a placement starts.
    panel_routes: Mapped[list[str]] = mapped_column(
        JSON,
        default=lambda: list(DEFAULT_PANEL_ROUTES),
        server_default='["fair_access", "managed_move", "la_exclusion:transitional"]',
    )
    # The day the LA began to use the register (set by its administrator, or on its first import).
    # A placement that started before it comes from the LA's old records: the checks that gate new
    # placements (a panel's decision, a commissioned place, the records only the register keeps)
    # do not apply to it, and it is marked so (`placements.adoption`). None: every placement is new.
    adopted_on: Mapped[date | None] = mapped_column(Date)
    # Same-day absence follow-up (coverage/absence.py): by when a provider's morning register must
    # show a child there, or absent with a reason (earlier for a looked-after child and for a child
    # at an unregistered provider); by when someone must have reached the family before the alert
    # goes to the LA's named officer (none named: the LA's administrators). England's clock.
    absence_check_at: Mapped[time] = mapped_column(Time, default=time(10, 0), server_default="10:00:00")
    absence_check_early_at: Mapped[time] = mapped_column(Time, default=time(9, 30), server_default="09:30:00")
    absence_escalate_at: Mapped[time] = mapped_column(Time, default=time(13, 30), server_default="13:30:00")
    # The named officer's user id: no foreign key (a second path between the two tables would make
    # every join of users and LAs ambiguous); `coverage.absence` checks they are the LA's, active.
    absence_officer_id: Mapped[int | None] = mapped_column()

    term_dates: Mapped[list[TermDate]] = relationship(
        back_populates="la", order_by="TermDate.start_date", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("review_interval_school_days > 0", name="review_interval_positive"),
        CheckConstraint(
            "unregistered_session_cap >= 0 AND unregistered_session_cap <= 10", name="unregistered_cap_range"
        ),
    )

    def __repr__(self) -> str:
        return f"<LocalAuthority {self.code} {self.name}>"


class TermDate(Base):
    """One stretch of school days (a half term): every weekday in it that is not a bank holiday."""

    __tablename__ = "term_date"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)

    la: Mapped[LocalAuthority] = relationship(back_populates="term_dates")

    __table_args__ = (
        UniqueConstraint("la_id", "start_date"),
        CheckConstraint("end_date >= start_date", name="ends_after_start"),
    )


class BankHoliday(Base):
    """An England and Wales bank holiday: never a school day."""

    __tablename__ = "bank_holiday"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))


class AttendanceCode(Base):
    """A national attendance code (2024 regulations) and DfE's statistical class for it."""

    __tablename__ = "attendance_code"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    meaning: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(120))
    statistics_type: Mapped[str | None] = mapped_column(String(80))
    counts_as_attendance: Mapped[bool] = mapped_column()
    counts_in_possible_sessions: Mapped[bool] = mapped_column()
    in_use: Mapped[bool] = mapped_column(default=True)
