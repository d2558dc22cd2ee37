"""The multi-year AP budget: plans, their lines (provider x place type x financial year) and the
variations between them. Funding follows the plan, not the pupil."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.settings import Setting
from ap_register.models.users import User

MONEY = Numeric(14, 2)
AMOUNT = Numeric(12, 2)


class BudgetPlan(Base):
    __tablename__ = "budget_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Financial years start on 1 April: 2025 is 2025-26.
    first_year: Mapped[int] = mapped_column()
    years: Mapped[int] = mapped_column()
    demand_policy: Mapped[str] = mapped_column(Text)
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="plan", order_by="BudgetLine.id", cascade="all, delete-orphan"
    )
    variations: Mapped[list[BudgetVariation]] = relationship(back_populates="plan", order_by="BudgetVariation.id")
    agreed_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("years >= 3", name="at_least_three_years"),)

    @property
    def last_year(self) -> int:
        return self.first_year + self.years - 1


class BudgetLine(Base):
    """Commissioned places (or, for outreach, hours) of one provider and place type in one year, at
    the agreed unit cost; or the year's reserve (place type `reserve`, no provider, an amount)."""

    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("budget_plan.id"), index=True)
    year: Mapped[int] = mapped_column()
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"))
    place_type: Mapped[str] = mapped_column(String(20))
    commissioned: Mapped[Decimal] = mapped_column(AMOUNT)
    unit_cost: Mapped[Decimal] = mapped_column(MONEY)

    plan: Mapped[BudgetPlan] = relationship(back_populates="lines")
    provider: Mapped[Setting | None] = relationship()

    __table_args__ = (
        UniqueConstraint("plan_id", "year", "provider_id", "place_type"),
        CheckConstraint("commissioned >= 0 AND unit_cost >= 0", name="not_negative"),
        CheckConstraint("(place_type = 'reserve') = (provider_id IS NULL)", name="reserve_has_no_provider"),
    )


class BudgetVariation(Base):
    """A reasoned change to a line's commissioned places or hours, and who approved it. Its cost
    (or saving) is met from the year's reserve."""

    __tablename__ = "budget_variation"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("budget_plan.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"))
    change: Mapped[Decimal] = mapped_column(AMOUNT)
    reason: Mapped[str] = mapped_column(Text)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[BudgetPlan] = relationship(back_populates="variations")
    line: Mapped[BudgetLine] = relationship()
    approved_by: Mapped[User] = relationship()
