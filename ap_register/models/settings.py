"""Settings: every school, AP provider and college a pupil can be educated at."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.domain.vocab import REGISTERED_SCHOOL_KINDS, SettingKind
from ap_register.models.base import Base, UTCDateTime, str_enum, utcnow
from ap_register.models.reference import LocalAuthority


class Setting(Base):
    """A school or provider. `ref` identifies it within its LA: its URN where it has one."""

    __tablename__ = "setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    ref: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SettingKind] = mapped_column(str_enum(SettingKind, "setting_kind"))
    urn: Mapped[str | None] = mapped_column(String(6), unique=True)
    ukprn: Mapped[str | None] = mapped_column(String(8))
    postcode: Mapped[str | None] = mapped_column(String(10))
    open: Mapped[bool] = mapped_column(default=True)
    gias_type_code: Mapped[int | None] = mapped_column()
    # primary, secondary, all_through, sixteen_plus, nursery or None (not applicable, not known).
    phase: Mapped[str | None] = mapped_column(String(20))
    # The administrative district it is in (GIAS DistrictAdministrative): the area that
    # sufficiency is planned by (budgets/sufficiency.py).
    district: Mapped[str | None] = mapped_column(String(100))
    # Pupils on the school's roll (GIAS NumberOfPupils): the base of its movement rates.
    pupils_on_roll: Mapped[int | None] = mapped_column()
    # An LA admin's choice of kind (e.g. an independent school that is AP) survives re-imports.
    kind_set_by_admin: Mapped[bool] = mapped_column(default=False)
    # For a provider with no URN or UKPRN: the census's type of setting (see returns/rules.py).
    census_setting_type: Mapped[str | None] = mapped_column(String(30))
    # Where it is on the British National Grid, in metres (GIAS Easting and Northing): how far a
    # provider's sites are from a pupil's school.
    easting: Mapped[int | None] = mapped_column()
    northing: Mapped[int | None] = mapped_column()

    # The oversight record of an unregistered provider (DfE non-school AP standards).
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    safeguarding_checks_confirmed: Mapped[bool] = mapped_column(default=False)
    safeguarding_checks_date: Mapped[date | None] = mapped_column(Date)
    last_qa_visit_date: Mapped[date | None] = mapped_column(Date)
    risk_assessment_date: Mapped[date | None] = mapped_column(Date)
    risk_assessment_notes: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    la: Mapped[LocalAuthority] = relationship()
    sites: Mapped[list[SettingSite]] = relationship(
        back_populates="setting", order_by="SettingSite.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("la_id", "ref"),
        CheckConstraint("urn IS NULL OR length(urn) = 6", name="urn_six_digits"),
        CheckConstraint("ukprn IS NULL OR length(ukprn) = 8", name="ukprn_eight_digits"),
    )

    @property
    def registered(self) -> bool:
        """True for a school (registered with the DfE); false for unregistered AP and colleges."""
        return self.kind in REGISTERED_SCHOOL_KINDS

    @property
    def unregistered(self) -> bool:
        return self.kind == SettingKind.UNREGISTERED_AP

    def teaches_year(self, year: int) -> bool:
        """Whether the setting takes pupils of this national curriculum year (True when its phase
        is not known)."""
        if self.phase is None or self.phase == "all_through":
            return True
        if self.phase == "primary":
            return year <= 6
        if self.phase == "secondary":
            return 7 <= year <= 13
        if self.phase == "sixteen_plus":
            return year >= 12
        return year < 1

    def __repr__(self) -> str:
        return f"<Setting {self.ref} {self.name}>"


class SettingSite(Base):
    """An address where a provider educates pupils: every site must be known."""

    __tablename__ = "setting_site"

    id: Mapped[int] = mapped_column(primary_key=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    address: Mapped[str] = mapped_column(String(400))
    postcode: Mapped[str | None] = mapped_column(String(10))
    easting: Mapped[int | None] = mapped_column()
    northing: Mapped[int | None] = mapped_column()

    setting: Mapped[Setting] = relationship(back_populates="sites")
