"""Pupils: special category data under UK GDPR."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.domain.vocab import SenStatus
from ap_register.models.base import Base, UTCDateTime, str_enum, utcnow
from ap_register.models.reference import LocalAuthority
from ap_register.models.settings import Setting


class Pupil(Base):
    """A child, known by their UPN. `home_school` is their school of main registration, if any;
    it changes only through movements (admitted, removed from roll, permanent exclusion)."""

    __tablename__ = "pupil"

    id: Mapped[int] = mapped_column(primary_key=True)
    upn: Mapped[str] = mapped_column(String(13), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), index=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    home_la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    home_school_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"), index=True)
    sen_status: Mapped[SenStatus] = mapped_column(str_enum(SenStatus, "sen_status"), default=SenStatus.NONE)
    ehc_assessment_requested: Mapped[bool] = mapped_column(default=False)
    primary_need: Mapped[str | None] = mapped_column(String(8))
    child_in_need: Mapped[bool] = mapped_column(default=False)
    looked_after: Mapped[bool] = mapped_column(default=False)
    # The day a Year 11 pupil took (or missed) the last public examination they were entered for:
    # from the next day the sixth-day duties do not apply (SI 2007/1870 reg 5(2)(a)).
    exams_over_on: Mapped[date | None] = mapped_column(Date)
    # Where the child lives: what an LA's register of children not in school holds for a child on
    # it, with each parent's name and home address (Education Act 1996 s436C, inserted by the
    # Children's Wellbeing and Schools Act 2026 s38; the parents are the child's contacts,
    # `Contact`). Seen only by the LA's officers (`pupil.contact`).
    home_address: Mapped[str | None] = mapped_column(String(400))
    home_postcode: Mapped[str | None] = mapped_column(String(10))
    # What the AP census asks of each child (and the register did not otherwise hold): sex as
    # recognised in law (`SEXES`), ethnicity (`ETHNICITIES`), the latest period of eligibility for
    # free school meals, and the home's unique property reference number. Seen, like the home
    # address, only by the LA's officers (`pupil.contact`).
    sex: Mapped[str | None] = mapped_column(String(1))
    ethnicity: Mapped[str | None] = mapped_column(String(4))
    fsm_start: Mapped[date | None] = mapped_column(Date)
    fsm_end: Mapped[date | None] = mapped_column(Date)
    uprn: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set when the retention job anonymised the record (domain/retention.py).
    anonymised_on: Mapped[date | None] = mapped_column(Date)

    home_la: Mapped[LocalAuthority] = relationship()
    home_school: Mapped[Setting | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:
        return f"<Pupil {self.upn}>"
