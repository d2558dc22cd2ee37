"""Each LA's week of coverage as counted by the daily checks: the figures behind the picture of
the term (a week's coverage worked out again for every week of a term is too slow for a page)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ap_register.models.base import Base


class CoverageWeek(Base):
    """The pupils the LA is responsible for in a school week (its Monday), and how many of them
    were below full time, had no provision or had overlapping bookings, as counted on
    `counted_on` (the daily checks count the week again each day: the last count stands)."""

    __tablename__ = "coverage_week"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"))
    week: Mapped[date] = mapped_column(Date)
    pupils: Mapped[int] = mapped_column()
    below_full_time: Mapped[int] = mapped_column()
    no_provision: Mapped[int] = mapped_column()
    overlapping: Mapped[int] = mapped_column()
    counted_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("la_id", "week"),)
