"""SQLAlchemy 2 typed models, one module per aggregate. Importing this package registers them all."""

from ap_register.models.alerts import Alert, ContactAttempt, JobRun
from ap_register.models.api import ApiToken
from ap_register.models.attendance import AttendanceMark
from ap_register.models.audit import AuditEvent
from ap_register.models.base import Base
from ap_register.models.budgets import BudgetLine, BudgetPlan, BudgetVariation
from ap_register.models.casework import CaseAssignment, CaseNote, Contact, Document, Letter
from ap_register.models.commissioning import (
    AgreementSignature,
    AgreementVersion,
    ComplianceCheck,
    Framework,
    FrameworkLot,
    InvoiceLine,
    LotApproval,
    PaymentStatement,
    PlacementAgreement,
    ProgressReport,
    ProviderInvoice,
)
from ap_register.models.coverage import CoverageWeek
from ap_register.models.drafts import FormDraft, FormSubmission
from ap_register.models.movements import Movement
from ap_register.models.notifications import Notification
from ap_register.models.outcomes import Ks4Result, Post16Check, Score
from ap_register.models.outreach import OutreachEngagement, OutreachProposal, OutreachSession
from ap_register.models.panels import (
    AgendaItem,
    Conflict,
    Decision,
    Meeting,
    Panel,
    PanelMember,
    Referral,
    SupportTried,
)
from ap_register.models.placements import Placement, PlacementReview, ReviewRequest
from ap_register.models.pupils import Pupil
from ap_register.models.reference import AttendanceCode, BankHoliday, LocalAuthority, TermDate
from ap_register.models.settings import Setting, SettingSite
from ap_register.models.transfers import PupilTransfer
from ap_register.models.users import User

__all__ = [
    "AgreementSignature",
    "AgreementVersion",
    "PlacementAgreement",
    "ProgressReport",
    "ProviderInvoice",
    "InvoiceLine",
    "PaymentStatement",
    "CaseAssignment",
    "ComplianceCheck",
    "Framework",
    "FrameworkLot",
    "LotApproval",
    "CaseNote",
    "Contact",
    "ContactAttempt",
    "Document",
    "Letter",
    "ApiToken",
    "AgendaItem",
    "Conflict",
    "Decision",
    "Meeting",
    "Panel",
    "PanelMember",
    "Referral",
    "SupportTried",
    "Alert",
    "CoverageWeek",
    "JobRun",
    "AttendanceCode",
    "AttendanceMark",
    "AuditEvent",
    "BankHoliday",
    "Base",
    "BudgetLine",
    "BudgetPlan",
    "BudgetVariation",
    "FormDraft",
    "FormSubmission",
    "Ks4Result",
    "Post16Check",
    "Score",
    "LocalAuthority",
    "Movement",
    "Notification",
    "OutreachEngagement",
    "OutreachProposal",
    "OutreachSession",
    "Placement",
    "PlacementReview",
    "ReviewRequest",
    "Pupil",
    "PupilTransfer",
    "Setting",
    "SettingSite",
    "TermDate",
    "User",
]
