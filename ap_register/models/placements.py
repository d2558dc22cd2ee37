"""Placements (arrangements): a span of education at one setting for one pupil.

A placement is the current view of its movements: the placement rules in
`ap_register.placements.rules` change a placement only while writing the movement that
records the change, in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.domain.vocab import (
    ALWAYS_TIME_LIMITED,
    Destination,
    HomeSchoolCode,
    Registration,
    Route,
    SenStatus,
    Tier,
)
from ap_register.models.base import Base, UTCDateTime, str_enum, utcnow
from ap_register.models.pupils import Pupil
from ap_register.models.reference import LocalAuthority
from ap_register.models.settings import Setting
from ap_register.placements.notice import NoticeContents, contents_of
from ap_register.placements.notice import missing as notice_missing


class Placement(Base):
    __tablename__ = "placement"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    setting_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    route: Mapped[Route] = mapped_column(str_enum(Route, "route"))
    tier: Mapped[Tier | None] = mapped_column(str_enum(Tier, "tier"))
    registration: Mapped[Registration] = mapped_column(str_enum(Registration, "registration"))
    # The school of main registration when the placement was made, and the code it records.
    home_school_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"), index=True)
    home_school_code: Mapped[HomeSchoolCode | None] = mapped_column(str_enum(HomeSchoolCode, "home_school_code"))
    sessions: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    planned_end_date: Mapped[date | None] = mapped_column(Date)
    notice_date: Mapped[date | None] = mapped_column(Date)
    # An off-site direction's written notice (SI 2010/1156 reg 3; `placements.notice`): where the
    # pupil attends, who they report to, the sessions' times, the reasons and aims; and the day
    # notice went to the LA where the pupil has an EHC plan.
    notice_address: Mapped[str | None] = mapped_column(String(400))
    notice_report_to: Mapped[str | None] = mapped_column(String(400))
    notice_session_times: Mapped[str | None] = mapped_column(String(400))
    notice_reasons: Mapped[str | None] = mapped_column(Text)
    la_notice_date: Mapped[date | None] = mapped_column(Date)
    last_review_date: Mapped[date | None] = mapped_column(Date)
    next_review_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    destination: Mapped[Destination | None] = mapped_column(str_enum(Destination, "destination"))
    reason: Mapped[str | None] = mapped_column(Text)
    end_reason: Mapped[str | None] = mapped_column(Text)
    commissioner_la_id: Mapped[int | None] = mapped_column(ForeignKey("local_authority.id"))
    commissioner_setting_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"))
    # Tier plans: how a time-limited placement returns the pupil to school; where a transitional
    # one leads (a named school or post-16).
    reintegration_plan: Mapped[str | None] = mapped_column(Text)
    destination_plan: Mapped[str | None] = mapped_column(Text)
    destination_setting_id: Mapped[int | None] = mapped_column(ForeignKey("setting.id"))
    # A transitional placement converted from a time-limited one.
    converted_from_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"))
    # Booked outside the budget plan: no free commissioned place of its type (or no line for the
    # provider). Its agreed cost is charged to the year's reserve.
    spot_purchase: Mapped[bool] = mapped_column(default=False, server_default=false())
    agreed_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    spot_reason: Mapped[str | None] = mapped_column(Text)
    # The reason returned in the censuses, where the route does not settle it (see returns/rules.py).
    census_reason: Mapped[str | None] = mapped_column(String(30))
    # Why an unregistered provider is used beyond the part-time cap (required if it is).
    unregistered_override_reason: Mapped[str | None] = mapped_column(Text)
    # A part-time timetable: the day the parent agreed to it, and its purpose (`vocab.PART_TIME_PURPOSES`).
    parent_agreed_on: Mapped[date | None] = mapped_column(Date)
    part_time_purpose: Mapped[str | None] = mapped_column(String(20))
    # Started before the LA adopted the register: brought in from its old records, without the
    # checks that gate a new placement (`placements.adoption`).
    from_old_records: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pupil: Mapped[Pupil] = relationship()
    setting: Mapped[Setting] = relationship(foreign_keys=[setting_id])
    home_school: Mapped[Setting | None] = relationship(foreign_keys=[home_school_id])
    commissioner_la: Mapped[LocalAuthority | None] = relationship()
    commissioner_setting: Mapped[Setting | None] = relationship(foreign_keys=[commissioner_setting_id])
    destination_setting: Mapped[Setting | None] = relationship(foreign_keys=[destination_setting_id])
    reviews: Mapped[list[PlacementReview]] = relationship(
        back_populates="placement", order_by="PlacementReview.review_date"
    )
    review_requests: Mapped[list[ReviewRequest]] = relationship(
        back_populates="placement", order_by="ReviewRequest.requested_on"
    )

    __table_args__ = (
        CheckConstraint("length(sessions) = 10", name="sessions_ten_flags"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        CheckConstraint("planned_end_date IS NULL OR planned_end_date >= start_date", name="planned_end_after_start"),
        CheckConstraint("(end_date IS NULL) = (destination IS NULL)", name="ended_with_destination"),
        CheckConstraint("commissioner_la_id IS NULL OR commissioner_setting_id IS NULL", name="one_commissioner"),
    )

    def status_on(self, day: date) -> str:
        """`planned` before the start, `ended` after the end date, otherwise `active`."""
        if day < self.start_date:
            return "planned"
        if self.end_date is not None and day > self.end_date:
            return "ended"
        return "active"

    @property
    def commissioner_name(self) -> str | None:
        """Who commissions (and pays for) the placement: an LA or a school."""
        if self.commissioner_setting is not None:
            return self.commissioner_setting.name
        return self.commissioner_la.name if self.commissioner_la is not None else None

    @property
    def can_convert(self) -> bool:
        """Whether this placement can become a transitional one at the same setting: an open
        time-limited placement on a route that is not time-limited by its nature (the rule
        `placements.rules.convert_to_transitional` applies)."""
        return self.end_date is None and self.tier == Tier.TIME_LIMITED and self.route not in ALWAYS_TIME_LIMITED

    @property
    def notice_contents(self) -> NoticeContents:
        return contents_of(self)

    @property
    def notice_missing(self) -> list[str]:
        """What an off-site direction's written notice still lacks (`placements.notice`)."""
        if self.route != Route.OFF_SITE_DIRECTION:
            return []
        return notice_missing(self.notice_contents, has_ehc_plan=self.la_notice_needed, notice_date=self.notice_date)

    @property
    def la_notice_needed(self) -> bool:
        """An off-site direction of a pupil with an EHC plan: the written notice goes to the LA as
        well as the parents (SI 2010/1156 reg 3(1): notice to the persons reg 3(3) prescribes)."""
        return self.route == Route.OFF_SITE_DIRECTION and self.pupil.sen_status == SenStatus.EHCP

    def __repr__(self) -> str:
        return f"<Placement {self.id} {self.route} from {self.start_date}>"


class PlacementReview(Base):
    """A review of a placement against its personalised plan (at least half-termly)."""

    __tablename__ = "placement_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"), index=True)
    review_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text)
    next_review_date: Mapped[date | None] = mapped_column(Date)
    # Who took part: a part-time timetable is reviewed with the pupil and their parents.
    pupil_took_part: Mapped[bool] = mapped_column(default=False, server_default=false())
    parents_took_part: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The planned end the review moved (an extension), if it moved one.
    extended_from: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    placement: Mapped[Placement] = relationship(back_populates="reviews")


class ReviewRequest(Base):
    """A written request for a review meeting of an off-site direction, by the parent (or the pupil
    at 18) or by the LA that maintains the pupil's EHC plan (SI 2010/1156 reg 4A, inserted by SI
    2012/2532). `required`: no review meeting in the 10 weeks before it, so one must be held."""

    __tablename__ = "review_request"
    __table_args__ = (CheckConstraint("requested_by IN ('parent', 'la')", name="requested_by_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"), index=True)
    requested_on: Mapped[date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(10))
    required: Mapped[bool] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    placement: Mapped[Placement] = relationship(back_populates="review_requests")
