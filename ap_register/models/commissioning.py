"""Commissioning the AP market: an LA's frameworks (or dynamic markets) and their lots, the
evidence a provider gives the LA (insurance, safeguarding, DBS, a quality visit, financial
standing) and each provider's approval onto a lot at its rate. The rules are in
`commissioning/frameworks.py`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ap_register.models.base import Base, UTCDateTime, utcnow
from ap_register.models.placements import Placement
from ap_register.models.reference import LocalAuthority
from ap_register.models.settings import Setting
from ap_register.models.users import User


class Framework(Base):
    """A framework (Procurement Act 2023 s45) or a dynamic market (ss34-40) the LA calls off AP
    from. `grace_days` is how long after a provider's evidence lapses new call-offs may still be
    made (the LA's own policy)."""

    __tablename__ = "framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # framework or dynamic_market
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    la: Mapped[LocalAuthority] = relationship()
    lots: Mapped[list[FrameworkLot]] = relationship(back_populates="framework", order_by="FrameworkLot.number")

    __table_args__ = (
        UniqueConstraint("la_id", "name"),
        CheckConstraint("ends_on > starts_on", name="ends_after_it_starts"),
        CheckConstraint("grace_days >= 0 AND grace_days <= 90", name="grace_days_in_range"),
        CheckConstraint("kind IN ('framework', 'dynamic_market')", name="known_kind"),
    )


class FrameworkLot(Base):
    """One lot of a framework: a kind of service (education and engagement, mentoring, tuition)."""

    __tablename__ = "framework_lot"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    number: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text)

    framework: Mapped[Framework] = relationship(back_populates="lots")
    approvals: Mapped[list[LotApproval]] = relationship(back_populates="lot", order_by="LotApproval.id")

    __table_args__ = (UniqueConstraint("framework_id", "number"), CheckConstraint("number >= 1", name="numbered"))


class LotApproval(Base):
    """A provider's place on a lot: applied, then approved (at its rate) or declined; an approved
    provider may later be removed. One row per provider and lot; its history is in the audit trail."""

    __tablename__ = "lot_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("framework_lot.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # applied, approved, declined, removed
    applied_on: Mapped[date] = mapped_column(Date)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    rate_unit: Mapped[str | None] = mapped_column(String(20))  # session, day, hour or week
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    lot: Mapped[FrameworkLot] = relationship(back_populates="approvals")
    provider: Mapped[Setting] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("lot_id", "provider_id"),
        CheckConstraint("status IN ('applied', 'approved', 'declined', 'removed')", name="known_status"),
        CheckConstraint(
            "status != 'approved' OR (rate IS NOT NULL AND rate_unit IS NOT NULL)", name="approved_at_a_rate"
        ),
        CheckConstraint("rate IS NULL OR rate >= 0", name="rate_not_negative"),
    )


class ComplianceCheck(Base):
    """One piece of evidence a provider gave the LA, as the LA checked it: its kind, the date of
    the evidence and when it expires. Never changed: newer evidence of the same kind is a new row,
    and the latest (by evidence date) is the one that counts."""

    __tablename__ = "compliance_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    evidence_date: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped[Setting] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("expires_on > evidence_date", name="expires_after_the_evidence"),)


class PlacementAgreement(Base):
    """A placement called off under a provider's approval on a lot: its individual placement
    agreement, kept as numbered versions (a change is a new version with its reason)."""

    __tablename__ = "placement_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"), unique=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("lot_approval.id"), index=True)
    called_off_on: Mapped[date] = mapped_column(Date)
    called_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    placement: Mapped[Placement] = relationship()
    approval: Mapped[LotApproval] = relationship()
    versions: Mapped[list[AgreementVersion]] = relationship(
        back_populates="agreement", order_by="AgreementVersion.number"
    )

    @property
    def current(self) -> AgreementVersion:
        return self.versions[-1]


class AgreementVersion(Base):
    """One version of an agreement, as it was agreed (or offered). Never changed once a party has
    accepted it; a change is the next version, with the reason for it."""

    __tablename__ = "agreement_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("placement_agreement.id"), index=True)
    number: Mapped[int] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)  # why it changed (none for the first)
    # Measurable objectives, each reviewed: [{"objective": ..., "measure": ...}, ...]
    objectives: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    sessions: Mapped[str] = mapped_column(String(10))  # the week's agreed AM/PM sessions
    hours_per_week: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    rate: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    rate_unit: Mapped[str] = mapped_column(String(20))
    pays_on: Mapped[str] = mapped_column(String(20))  # agreed (sessions) or attended (sessions)
    payer: Mapped[str] = mapped_column(String(20))  # school, la or high_needs
    starts_on: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date] = mapped_column(Date)
    safeguarding: Mapped[str] = mapped_column(Text)
    contacts: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreement: Mapped[PlacementAgreement] = relationship(back_populates="versions")
    signatures: Mapped[list[AgreementSignature]] = relationship(
        back_populates="version", order_by="AgreementSignature.id"
    )

    __table_args__ = (
        UniqueConstraint("agreement_id", "number"),
        CheckConstraint("number >= 1", name="numbered"),
        CheckConstraint("review_on >= starts_on", name="reviewed_after_it_starts"),
        CheckConstraint("rate >= 0 AND hours_per_week >= 0", name="not_negative"),
        CheckConstraint("pays_on IN ('agreed', 'attended')", name="known_basis"),
        CheckConstraint("payer IN ('school', 'la', 'high_needs')", name="known_payer"),
    )


class AgreementSignature(Base):
    """A party's acceptance of one version: the school, the provider or the parent; who accepted,
    how (in the register, or on paper, in person or by email, recorded by someone who works with
    the child) and when."""

    __tablename__ = "agreement_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_version.id"), index=True)
    party: Mapped[str] = mapped_column(String(20))  # school, provider or parent
    name: Mapped[str] = mapped_column(String(200))
    how: Mapped[str] = mapped_column(String(20))  # in_register, on_paper, in_person or by_email
    signed_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[AgreementVersion] = relationship(back_populates="signatures")

    __table_args__ = (
        UniqueConstraint("version_id", "party"),
        CheckConstraint("party IN ('school', 'provider', 'parent')", name="known_party"),
    )


class ProgressReport(Base):
    """A provider's report on one pupil for one half term (one of the LA's term stretches) under
    the placement's agreement: attendance as the registers held it when submitted, progress
    against each of the agreement's objectives on a scale with its evidence, the pupil's own
    voice and the next steps. Never changed once submitted. The rules are in
    `commissioning/progress.py`."""

    __tablename__ = "progress_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("placement_agreement.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_version.id"))
    period_start: Mapped[date] = mapped_column(Date)  # the half term's first day
    period_end: Mapped[date] = mapped_column(Date)  # and its last
    counted_to: Mapped[date] = mapped_column(Date)  # the last day the attendance counts
    sessions_agreed: Mapped[int] = mapped_column()
    sessions_attended: Mapped[int] = mapped_column()
    sessions_authorised: Mapped[int] = mapped_column()
    sessions_unauthorised: Mapped[int] = mapped_column()
    sessions_unmarked: Mapped[int] = mapped_column()
    sessions_not_counted: Mapped[int] = mapped_column()  # X, Y, Z and the like: not possible sessions
    # [{"objective": ..., "measure": ..., "rating": ..., "evidence": ...}, ...]
    progress: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    pupil_voice: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str] = mapped_column(Text)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_by_name: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreement: Mapped[PlacementAgreement] = relationship()
    version: Mapped[AgreementVersion] = relationship()

    __table_args__ = (
        UniqueConstraint("agreement_id", "period_start"),
        CheckConstraint("period_end >= period_start", name="ends_after_it_starts"),
        CheckConstraint(
            "sessions_agreed >= 0 AND sessions_attended >= 0 AND sessions_authorised >= 0 "
            "AND sessions_unauthorised >= 0 AND sessions_unmarked >= 0 AND sessions_not_counted >= 0",
            name="counts_not_negative",
        ),
    )


class ProviderInvoice(Base):
    """A provider's invoice to the LA for one month's sessions under its agreements: its
    reference, the day the LA received it (the 30 days to pay run from it, Procurement Act 2023
    s68(2)) and what it claims for each pupil. Recorded by the LA or the provider, entered or
    imported; replaced (never edited) until the month's statement is approved. The rules are in
    `commissioning/payments.py`."""

    __tablename__ = "provider_invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    reference: Mapped[str] = mapped_column(String(60))
    received_on: Mapped[date] = mapped_column(Date)
    how: Mapped[str] = mapped_column(String(20))  # entered or imported
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped[Setting] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.row", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("la_id", "provider_id", "month"),
        CheckConstraint("how IN ('entered', 'imported')", name="known_how"),
        # A replaced invoice's id is never given again: an approval names the invoice it was shown.
        {"sqlite_autoincrement": True},
    )


class InvoiceLine(Base):
    """What an invoice claims for one pupil (named by UPN, as the provider wrote it): the sessions
    and the amount."""

    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("provider_invoice.id"), index=True)
    row: Mapped[int] = mapped_column()
    upn: Mapped[str] = mapped_column(String(13))
    sessions: Mapped[int] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))

    invoice: Mapped[ProviderInvoice] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("invoice_id", "upn"),
        CheckConstraint("sessions >= 0 AND amount >= 0", name="not_negative"),
    )


class PaymentStatement(Base):
    """A month's statement for one provider, approved: what was due under each agreement, against
    the invoice, and what the LA pays. Kept as it was approved (`lines`), never changed: the
    registers may change later, the payment does not. `la_paid` (the LA's own and the high needs
    block's share) is the spend the budget plan counts; `school_paid` is recharged to schools."""

    __tablename__ = "payment_statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("setting.id"), index=True)
    month: Mapped[date] = mapped_column(Date)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("provider_invoice.id"), unique=True)
    due_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    invoiced_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    approved_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    la_paid: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    school_paid: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # One per pupil: {"agreement_id", "placement_id", "pupil_id", "upn", "payer", "agreed",
    # "payable", "due", "invoiced_sessions", "invoiced_amount", "approved", "differences": [...]}
    lines: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_by_name: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped[Setting] = relationship()
    invoice: Mapped[ProviderInvoice] = relationship()

    __table_args__ = (
        UniqueConstraint("la_id", "provider_id", "month"),
        CheckConstraint(
            "due_total >= 0 AND invoiced_total >= 0 AND approved_total >= 0 AND la_paid >= 0 AND school_paid >= 0",
            name="not_negative",
        ),
    )
