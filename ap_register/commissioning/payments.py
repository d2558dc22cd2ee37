"""Paying for what was delivered: the rules, in one place.

Each month, for each provider, the LA's statement of what is due under each agreement called off
from its frameworks, set against the provider's invoice, and approved for payment.

- **Due.** Each session the agreement in force that day agreed (`progress.agreed_sessions`: the
  version every party had accepted by then), on the school days the pupil was placed. An agreement
  that pays on the sessions agreed pays for each of them, attended or not; one that pays on
  attendance pays for those the provider's register shows attended (present, or an approved
  educational activity: DfE's "attendance" codes). A session is worth the rate for the unit the
  rate is for (`session_value`): a session, the rate; an hour, the rate times the week's agreed
  hours over its agreed sessions; a day, the rate over that day's agreed sessions; a week, the rate
  over the week's agreed sessions. Amounts are rounded to the penny once per pupil and payer.
- **The invoice.** What the provider claims for each pupil (by UPN): sessions and an amount;
  entered or imported as CSV (`INVOICE_COLUMNS`). It may be replaced until the statement is
  approved.
- **Every difference explained.** For each pupil the invoice and the statement disagree on, the
  statement names the sessions: those not attended on an agreement that pays on attendance (with
  the register's code), sessions beyond those agreed, sessions after the placement ended or before
  it began, a pupil with no agreement with the provider, a pupil not invoiced, and the amount at
  the agreement's rate.
- **What the LA pays.** For each pupil, what was delivered, never more than the invoice claims:
  the smaller of the two. A sum the LA disputes is not paid until the provider invoices it again.
  An approved statement is kept as it was approved and never changes; its LA and high needs block
  share is the spend the budget plan counts (`budgets.rules`), its schools' share is recharged.
- **When.** The LA pays an undisputed invoice within 30 days beginning with the day it received
  it (Procurement Act 2023 s68(2), a term implied into every public contract): `pay_by`.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.commissioning import agreements, progress
from ap_register.commissioning.frameworks import RATE_UNITS
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import calendar_for
from ap_register.domain.errors import CalendarUnknown, DomainError, FieldError, Forbidden, NotFound, Refusal
from ap_register.domain.text import kept_text
from ap_register.domain.upn import check_upn
from ap_register.domain.vocab import AP_KINDS
from ap_register.models import (
    AgreementVersion,
    Framework,
    FrameworkLot,
    InvoiceLine,
    LocalAuthority,
    LotApproval,
    PaymentStatement,
    Placement,
    PlacementAgreement,
    ProviderInvoice,
    Pupil,
    Setting,
)

PAY_WITHIN_DAYS = 30  # beginning with the day the invoice is received: Procurement Act 2023 s68(2)
INVOICE_COLUMNS = ("upn", "sessions", "amount")
INVOICE_MAX_BYTES = 1024 * 1024  # a month's invoice from one provider is a few kilobytes
INVOICE_MAX_ROWS = 1000
MAX_SESSIONS = 62  # two a day, every day of the longest month
MAX_AMOUNT = Decimal("100000")  # pounds, for one pupil's month: a typing slip beyond it
REFERENCE_MAX = 60
LA_PAYERS = ("la", "high_needs")  # the LA's own money and the high needs block's
PENNY = Decimal("0.01")
STATES = {
    "month_not_over": "Month not over",
    "no_invoice": "Waiting for the invoice",
    "to_approve": "To check and approve",
    "approved": "Approved",
}


def pounds(value: Decimal | Fraction | int) -> Decimal:
    """To the penny, halves up."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def money(value: Decimal | str) -> str:
    return f"£{Decimal(value):,.2f}"


# --- months -----------------------------------------------------------------------------------


def parse_month(text: str | None) -> date | None:
    """'2026-11' as 1 November 2026; None for anything else."""
    text = (text or "").strip()
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isascii() or not (text[:4] + text[5:]).isdigit():
        return None
    year, month = int(text[:4]), int(text[5:])
    if not 2000 <= year <= 2100 or not 1 <= month <= 12:
        return None
    return date(year, month, 1)


def month_last(month: date) -> date:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - timedelta(days=1)


def month_key(month: date) -> str:
    return f"{month:%Y-%m}"


def recent_months(today: date, count: int = 12) -> list[date]:
    """This month and the `count - 1` before it, newest first."""
    found = []
    year, month = today.year, today.month
    for _ in range(count):
        found.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def last_month(today: date) -> date:
    return recent_months(today, 2)[1]


# --- what is due ------------------------------------------------------------------------------


def session_value(version: AgreementVersion, day: date) -> Fraction:
    """What one agreed session on `day` is worth under a version: the rate for its unit."""
    rate = Fraction(str(version.rate))
    week = week_pattern.count(version.sessions)
    if version.rate_unit == "hour":
        return rate * Fraction(str(version.hours_per_week)) / week
    if version.rate_unit == "day":
        return rate / sum(version.sessions[2 * day.weekday() + n] == "1" for n in (0, 1))
    if version.rate_unit == "week":
        return rate / week
    return rate


def sessions_text(sessions: Sequence[progress.AgreedSession]) -> str:
    """Sessions by the register's code for them, a day's two together: "I (Illness): Wed 4 Nov AM;
    not marked: Thu 5 Nov, Fri 6 Nov"."""
    groups: dict[tuple[str, str], dict[date, list[str]]] = {}
    for found in sessions:
        key = (found.code or "", found.meaning)
        groups.setdefault(key, {}).setdefault(found.day, []).append(found.half)
    parts = []
    for (code, meaning), days in groups.items():
        what = (f"{code} ({meaning})" if meaning else code) if code else "not marked"
        when = ", ".join(
            f"{day:%a %-d %b}" + ("" if len(halves) == 2 else f" {halves[0]}") for day, halves in days.items()
        )
        parts.append(f"{what}: {when}")
    return "; ".join(parts)


@dataclass
class Line:
    """One pupil's month at the provider: the sessions agreed and paid for under their
    agreements, what is due by payer, and (once there is an invoice) what it claims, every
    difference and what the LA pays."""

    pupil: Pupil | None
    upn: str
    agreements: list[PlacementAgreement] = field(default_factory=list)
    agreed: int = 0
    payable: int = 0
    due_by_payer: dict[str, Fraction] = field(default_factory=lambda: defaultdict(Fraction))
    unpaid: list[progress.AgreedSession] = field(default_factory=list)
    after_end: list[tuple[date, int]] = field(default_factory=list)  # (placement end, sessions)
    before_start: list[tuple[date, int]] = field(default_factory=list)  # (placement start, sessions)
    ended_before: list[date] = field(default_factory=list)  # placements ended before the month
    units: set[str] = field(default_factory=set)  # "£62.50 per session", for the amount's explanation
    counted: set[tuple[date, str]] = field(default_factory=set)  # each session once, however many agreements
    schools: set[str] = field(default_factory=set)  # the home schools' references, to recharge
    claim: InvoiceLine | None = None
    differences: list[str] = field(default_factory=list)

    @property
    def shares(self) -> dict[str, Decimal]:
        return {payer: pounds(value) for payer, value in self.due_by_payer.items() if value}

    @property
    def due(self) -> Decimal:
        return sum(self.shares.values(), Decimal(0))

    @property
    def approved(self) -> Decimal:
        if self.claim is None:
            return Decimal(0)
        return min(self.due, Decimal(self.claim.amount))

    def approved_shares(self) -> dict[str, Decimal]:
        """What the LA pays, split between payers as the due amount is (the last takes the pennies)."""
        shares, approved = self.shares, self.approved
        if approved == self.due:
            return shares
        found: dict[str, Decimal] = {}
        left = approved
        for n, (payer, value) in enumerate(sorted(shares.items())):
            part = left if n == len(shares) - 1 else pounds(approved * value / self.due)
            found[payer], left = part, left - part
        return found

    def kept(self) -> dict[str, Any]:
        """The line as an approved statement keeps it."""
        return {
            "agreement_ids": [a.id for a in self.agreements],
            "placement_ids": [a.placement_id for a in self.agreements],
            "pupil_id": self.pupil.id if self.pupil else None,
            "upn": self.upn,
            "agreed": self.agreed,
            "payable": self.payable,
            "due": str(self.due),
            "due_shares": {payer: str(value) for payer, value in self.shares.items()},
            "shares": {payer: str(value) for payer, value in self.approved_shares().items()},
            "schools": sorted(self.schools),
            "invoiced_sessions": self.claim.sessions if self.claim else None,
            "invoiced_amount": str(self.claim.amount) if self.claim else None,
            "approved": str(self.approved),
            "differences": list(self.differences),
        }


@dataclass(frozen=True)
class Row:
    """A line of a statement as the page and the exports show it, worked out now or kept."""

    agreement_ids: list[int]
    placement_ids: list[int]
    pupil_id: int | None
    upn: str
    agreed: int
    payable: int
    due: Decimal
    due_shares: dict[str, Decimal]
    shares: dict[str, Decimal]  # what is paid, by payer
    schools: list[str]
    invoiced_sessions: int | None
    invoiced_amount: Decimal | None
    approved: Decimal
    differences: list[str]

    @classmethod
    def of(cls, kept: dict[str, Any]) -> Row:
        return cls(
            agreement_ids=list(kept["agreement_ids"]),
            placement_ids=list(kept["placement_ids"]),
            pupil_id=kept["pupil_id"],
            upn=kept["upn"],
            agreed=kept["agreed"],
            payable=kept["payable"],
            due=Decimal(kept["due"]),
            due_shares={payer: Decimal(value) for payer, value in kept["due_shares"].items()},
            shares={payer: Decimal(value) for payer, value in kept["shares"].items()},
            schools=list(kept["schools"]),
            invoiced_sessions=kept["invoiced_sessions"],
            invoiced_amount=None if kept["invoiced_amount"] is None else Decimal(kept["invoiced_amount"]),
            approved=Decimal(kept["approved"]),
            differences=list(kept["differences"]),
        )

    @property
    def payers(self) -> str:
        return ", ".join(agreements.PAYERS[p] for p in sorted(self.shares)) or "None"


@dataclass
class Statement:
    la: LocalAuthority
    provider: Setting
    month: date
    rows: list[Row]
    invoice: ProviderInvoice | None
    approved: PaymentStatement | None
    state: str
    gap: str | None = None  # why nothing can be counted (the month's term dates missing)

    @property
    def last(self) -> date:
        return month_last(self.month)

    @property
    def label(self) -> str:
        return f"{self.month:%B %Y}"

    @property
    def due_total(self) -> Decimal:
        return sum((r.due for r in self.rows), Decimal(0))

    @property
    def invoiced_total(self) -> Decimal:
        return sum((r.invoiced_amount or Decimal(0) for r in self.rows), Decimal(0))

    @property
    def approved_total(self) -> Decimal:
        return sum((r.approved for r in self.rows), Decimal(0))

    @property
    def la_share(self) -> Decimal:
        return sum((v for r in self.rows for p, v in r.shares.items() if p in LA_PAYERS), Decimal(0))

    @property
    def school_share(self) -> Decimal:
        return sum((v for r in self.rows for p, v in r.shares.items() if p not in LA_PAYERS), Decimal(0))

    @property
    def differing(self) -> list[Row]:
        return [r for r in self.rows if r.differences]

    @property
    def pay_by(self) -> date | None:
        return pay_by(self.invoice) if self.invoice else None


def pay_by(invoice: ProviderInvoice) -> date:
    """The last day of the 30 beginning with the day the invoice was received (s68(2))."""
    return invoice.received_on + timedelta(days=PAY_WITHIN_DAYS - 1)


def _agreements(session: Session, la: LocalAuthority, provider: Setting, last: date) -> list[PlacementAgreement]:
    """The agreements called off from the LA's frameworks with the provider, for placements begun
    by `last`."""
    return list(
        session.scalars(
            select(PlacementAgreement)
            .join(LotApproval, PlacementAgreement.approval_id == LotApproval.id)
            .join(FrameworkLot, LotApproval.lot_id == FrameworkLot.id)
            .join(Framework, FrameworkLot.framework_id == Framework.id)
            .join(Placement, PlacementAgreement.placement_id == Placement.id)
            .where(
                Framework.la_id == la.id,
                LotApproval.provider_id == provider.id,
                Placement.setting_id == provider.id,
                Placement.start_date <= last,
            )
            .order_by(PlacementAgreement.id)
            .options(
                selectinload(PlacementAgreement.versions).selectinload(AgreementVersion.signatures),
                selectinload(PlacementAgreement.placement).selectinload(Placement.pupil).selectinload(Pupil.home_la),
            )
        )
    )


def _pattern_count(session: Session, la: LocalAuthority, pattern: str, first: date, last: date) -> int:
    """The sessions a week pattern has on the school days from `first` to `last`."""
    if first > last:
        return 0
    try:
        days = calendar_for(session, la).school_days(first, last)
    except CalendarUnknown:
        return 0
    return sum(pattern[2 * d.weekday() + n] == "1" for d in days for n in (0, 1))


def _add_agreement(
    session: Session, la: LocalAuthority, line: Line, agreement: PlacementAgreement, month: date
) -> None:
    """Count an agreement's sessions of the month into the pupil's line, on the school days of
    `la` (whose framework it was called off from), each session once."""
    placement = agreement.placement
    last = month_last(month)
    begins = max(agreement.versions[0].starts_on, placement.start_date)
    ends = placement.end_date
    line.agreements.append(agreement)
    if placement.home_school is not None:
        line.schools.add(placement.home_school.ref)
    if ends is not None and ends < month:
        line.ended_before.append(ends)
        return
    first, to = max(month, begins), min(last, ends) if ends is not None else last
    for found in progress.agreed_sessions(session, agreement, first, to, la):
        if (found.day, found.half) in line.counted:
            continue  # two placements at the provider the same day: the session is paid once
        line.counted.add((found.day, found.half))
        line.agreed += 1
        version = found.version
        line.units.add(f"{money(version.rate)} {RATE_UNITS.get(version.rate_unit, '')}")
        if version.pays_on == "agreed" or found.kind == "attended":
            line.payable += 1
            line.due_by_payer[version.payer] += session_value(version, found.day)
        else:
            line.unpaid.append(found)
    if begins > month:
        pattern = agreement.versions[0].sessions
        line.before_start.append((begins, _pattern_count(session, la, pattern, month, begins - timedelta(days=1))))
    if ends is not None and ends < last:
        pattern = progress.version_on(agreement, ends).sessions
        line.after_end.append((ends, _pattern_count(session, la, pattern, ends + timedelta(days=1), last)))


def _explain(line: Line, provider: Setting, month: date) -> None:
    """Every difference between the invoice and the statement for one pupil, by session."""
    label = f"{month:%B %Y}"
    claim = line.claim
    if claim is None:
        if line.due:
            line.differences.append(
                f"Not on the invoice: the {money(line.due)} for {line.payable} sessions delivered is not paid with "
                "this statement"
            )
        return
    if not line.agreements:
        line.differences.append(
            f"No agreement with {provider.name} from this local authority's frameworks covers this pupil: "
            "nothing is due"
        )
        return
    if line.ended_before and not line.agreed:
        ended = max(line.ended_before)
        line.differences.append(f"The placement ended on {ended:%-d %B %Y}: nothing is due for {label}")
        return
    if claim.sessions > line.payable:
        if line.unpaid:
            listed = sessions_text(line.unpaid)
            line.differences.append(
                f"{len(line.unpaid)} agreed sessions not attended are not paid (the agreement pays on "
                f"attendance): {listed}"
            )
        if claim.sessions > line.agreed:
            line.differences.append(
                f"{claim.sessions - line.agreed} sessions more than the {line.agreed} agreed in {label}: "
                "sessions not agreed are not paid"
            )
            for ends, count in line.after_end:
                if count:
                    line.differences.append(
                        f"The placement ended on {ends:%-d %B %Y}: the {count} sessions the agreement would have "
                        "had after it are not due"
                    )
            for begins, count in line.before_start:
                if count:
                    line.differences.append(
                        f"The agreement began on {begins:%-d %B %Y}: the {count} sessions it would have had "
                        "before then are not due"
                    )
    elif claim.sessions < line.payable:
        line.differences.append(
            f"Invoiced for {claim.sessions} sessions; {line.payable} were delivered: no more than the invoice "
            "claims is paid"
        )
    amount = Decimal(claim.amount)
    if amount != line.due:
        rate = " and ".join(sorted(line.units)) or "the agreement's rate"
        line.differences.append(
            f"Invoiced {money(amount)}; at {rate}, the {line.payable} sessions due come to {money(line.due)}: "
            f"{money(line.approved)} is paid"
        )


def _lines(
    session: Session, la: LocalAuthority, provider: Setting, month: date, invoice: ProviderInvoice | None
) -> list[Line]:
    by_pupil: dict[int, Line] = {}
    for agreement in _agreements(session, la, provider, month_last(month)):
        pupil = agreement.placement.pupil
        line = by_pupil.setdefault(pupil.id, Line(pupil=pupil, upn=pupil.upn))
        _add_agreement(session, la, line, agreement, month)
    lines = [line for line in by_pupil.values() if line.agreed]
    if invoice is not None:
        by_upn = {line.upn: line for line in by_pupil.values()}
        listed = {id(line) for line in lines}
        for claim in invoice.lines:
            found = by_upn.get(claim.upn) or Line(pupil=None, upn=claim.upn)
            if id(found) not in listed:
                lines.append(found)
                listed.add(id(found))
            found.claim = claim
        for line in lines:
            _explain(line, provider, month)
    return sorted(lines, key=lambda line: (line.pupil is None, line.pupil.last_name if line.pupil else line.upn))


def _invoice(
    session: Session, la: LocalAuthority, provider: Setting, month: date, *, lock: bool = False
) -> ProviderInvoice | None:
    """The month's invoice; with `lock`, its row locked to the end of the transaction (recording
    an invoice waits for an approval under way, and the reverse)."""
    stmt = (
        select(ProviderInvoice)
        .where(
            ProviderInvoice.la_id == la.id, ProviderInvoice.provider_id == provider.id, ProviderInvoice.month == month
        )
        .options(selectinload(ProviderInvoice.lines))
    )
    return session.scalar(stmt.with_for_update() if lock else stmt)


def _approved(session: Session, la: LocalAuthority, provider: Setting, month: date) -> PaymentStatement | None:
    return session.scalar(
        select(PaymentStatement).where(
            PaymentStatement.la_id == la.id,
            PaymentStatement.provider_id == provider.id,
            PaymentStatement.month == month,
        )
    )


def statement(session: Session, provider: Setting, month: date, today: date) -> Statement:
    """The month's statement for a provider of an LA: as approved, or worked out now from the
    agreements and the registers."""
    la = provider.la
    invoice = _invoice(session, la, provider, month)
    approved = _approved(session, la, provider, month)
    if approved is not None:
        rows = [Row.of(kept) for kept in approved.lines]
        return Statement(la, provider, month, rows, invoice, approved, "approved")
    rows = [Row.of(line.kept()) for line in _lines(session, la, provider, month, invoice)]
    if month_last(month) > today and invoice is None:
        state = "month_not_over"
    else:
        state = "no_invoice" if invoice is None else "to_approve"
    return Statement(la, provider, month, rows, invoice, None, state, _gap(session, la, month))


def _gap(session: Session, la: LocalAuthority, month: date) -> str | None:
    """Why the month's sessions cannot be counted: its term dates are not recorded (then no
    school day of it is known, and nothing would be due)."""
    calendar = calendar_for(session, la)
    if calendar.covers(month) and calendar.covers(month_last(month)):
        return None
    return (
        f"{la.name}'s term dates are not recorded for all of {month:%B %Y}: no session of it can be counted "
        "until its administrators record them"
    )


# --- who ----------------------------------------------------------------------------------


def may_see(actor: Actor, provider: Setting) -> bool:
    """The LA's commissioners and administrators see every provider's statements; a provider's
    AP head its own."""
    user = actor.user
    if user is None:
        return True
    if not permissions.role_allows(user, "payments.view"):
        return False
    if user.la_id is not None:
        return provider.la_id == user.la_id
    return provider.id == user.setting_id


def get_provider(session: Session, actor: Actor, provider_id: int) -> Setting:
    """A provider whose statements the actor may read (not found otherwise)."""
    provider = permissions.get_setting(session, actor, provider_id)
    if provider.kind not in AP_KINDS or not may_see(actor, provider):
        raise NotFound("Page not found")
    return provider


def may_record_invoice(actor: Actor, provider: Setting) -> bool:
    user = actor.user
    return user is None or (permissions.role_allows(user, "payments.invoice") and may_see(actor, provider))


def may_approve(actor: Actor, provider: Setting) -> bool:
    user = actor.user
    return user is None or (
        permissions.role_allows(user, "payments.approve") and user.la_id is not None and may_see(actor, provider)
    )


# --- the invoice --------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One line of an invoice as typed or read: `where` names it in messages ("Row 3"), `field`
    is where its problems are shown (a form's row, or the file)."""

    where: str
    upn: str | None
    sessions: str | None
    amount: str | None
    field: str = "file"


AMOUNT = re.compile(r"£?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?")  # 1,234.50 or 1234.5; never "625,00"


def _amount(text: str | None) -> Decimal | None:
    """Pounds and pence as people write them: ASCII digits, commas between thousands only."""
    text = (text or "").strip()
    if not AMOUNT.fullmatch(text):
        return None
    text = text.lstrip("£").replace(",", "")
    try:
        value = Decimal(text)
        return value if value.is_finite() and value == value.quantize(PENNY) else None
    except InvalidOperation:  # not a number, or one too large to be pence
        return None


def amount_shown(text: str | None) -> Decimal | None:
    """A sum a page carried in a hidden field ("625.00"); None for anything else."""
    return _amount(text)


def read_invoice_file(stream: IO[bytes]) -> list[Claim]:
    """An invoice's lines from a CSV with the columns `INVOICE_COLUMNS` (a header row first). What
    is wrong with the file as a whole is refused here; each row is checked by `record_invoice`."""
    data = stream.read(INVOICE_MAX_BYTES + 1)
    if len(data) > INVOICE_MAX_BYTES:
        raise DomainError(
            "The invoice was not recorded",
            [FieldError("file", f"The file must be {INVOICE_MAX_BYTES // 1024} KB or smaller")],
        )
    if not data.strip():
        raise DomainError("The invoice was not recorded", [FieldError("file", "The file is empty")])
    if b"\x00" in data:
        raise DomainError("The invoice was not recorded", [FieldError("file", "The file must be a CSV file")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise DomainError("The invoice was not recorded", [FieldError("file", "The file must be a CSV file")]) from None
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    missing = [c for c in INVOICE_COLUMNS if c not in header]
    if missing:
        raise DomainError(
            "The invoice was not recorded",
            [
                FieldError(
                    "file",
                    f"The first row must name the columns {', '.join(INVOICE_COLUMNS)}: {', '.join(missing)} missing",
                )
            ],
        )
    body = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
    if len(body) > INVOICE_MAX_ROWS:
        raise DomainError(
            "The invoice was not recorded",
            [FieldError("file", f"An invoice has at most {INVOICE_MAX_ROWS} rows; this one has {len(body)}")],
        )
    at = {name: header.index(name) for name in INVOICE_COLUMNS}

    def cell(row: list[str], name: str) -> str | None:
        return row[at[name]] if at[name] < len(row) else None

    return [Claim(f"Row {n}", cell(row, "upn"), cell(row, "sessions"), cell(row, "amount")) for n, row in body]


def _checked_claims(refusal: Refusal, claims: Sequence[Claim]) -> list[tuple[str, int, Decimal]]:
    kept: list[tuple[str, int, Decimal]] = []
    seen: dict[str, str] = {}
    for claim in claims:
        if not any((claim.upn or "").strip() or (v or "").strip() for v in (claim.sessions, claim.amount)):
            continue  # a row left empty
        checked = check_upn(claim.upn or "")
        problems = []
        if not checked.valid:
            problems.append(f"the UPN: {checked.message}")
        elif checked.upn in seen:
            problems.append(f"the UPN {checked.upn} is on {seen[checked.upn]} too: one line per pupil")
        text = (claim.sessions or "").strip()
        sessions = int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None
        if sessions is None or sessions > MAX_SESSIONS:
            problems.append(f"the sessions: enter a whole number from 0 to {MAX_SESSIONS}")
        amount = _amount(claim.amount)
        if amount is None or not Decimal(0) <= amount <= MAX_AMOUNT:
            problems.append(f"the amount: enter pounds and pence from £0 to {money(MAX_AMOUNT)}")
        if problems:
            refusal.add(claim.field, f"{claim.where}: check {'; '.join(problems)}")
            continue
        assert sessions is not None and amount is not None
        seen[checked.upn] = claim.where
        kept.append((checked.upn, sessions, amount))
    if not kept and not refusal.errors:
        refusal.add(claims[0].field if claims else "file", "Enter at least one pupil the invoice claims for")
    return kept


def record_invoice(
    session: Session,
    actor: Actor,
    provider: Setting,
    month: date,
    *,
    reference: str | None,
    received_on: date | None,
    claims: Sequence[Claim],
    how: str,
    today: date,
) -> ProviderInvoice:
    """Record (or replace) the provider's invoice for a month, every problem refused at once."""
    if not may_record_invoice(actor, provider):
        raise Forbidden("You do not have permission to do this")
    la = provider.la
    refusal = Refusal()
    if today < month_last(month):
        refusal.add("reference", f"An invoice for {month:%B %Y} can be recorded from {month_last(month):%-d %B %Y}")
    kept_reference = kept_text(refusal, "reference", "The invoice reference", reference, REFERENCE_MAX)
    if kept_reference is None:
        refusal.add("reference", "Enter the invoice's reference")
    if received_on is None:
        refusal.add("received_on", "Enter the day the invoice was received")
    elif received_on > today:
        refusal.add("received_on", "The day the invoice was received cannot be in the future")
    elif received_on < month_last(month):
        refusal.add(
            "received_on",
            f"An invoice for {month:%B %Y} cannot have been received before its last day, "
            f"{month_last(month):%-d %B %Y}",
        )
    kept = _checked_claims(refusal, claims)
    old = _invoice(session, la, provider, month, lock=True)
    if _approved(session, la, provider, month) is not None:
        refusal.add("reference", f"The statement for {month:%B %Y} is approved: its invoice cannot be replaced")
    refusal.raise_if_any("The invoice was not recorded")
    assert kept_reference is not None and received_on is not None
    replaced = None
    if old is not None:
        # What the replaced invoice claimed stays in the audit trail: its row goes.
        replaced = {
            "reference": old.reference,
            "received_on": old.received_on.isoformat(),
            "recorded_by": old.recorded_by_name,
            "lines": [[line.upn, line.sessions, str(line.amount)] for line in old.lines],
        }
        session.delete(old)
        session.flush()
    invoice = ProviderInvoice(
        la_id=la.id,
        provider_id=provider.id,
        month=month,
        reference=kept_reference,
        received_on=received_on,
        how=how,
        recorded_by_id=actor.user_id,
        recorded_by_name=agreements.who(actor),
        lines=[InvoiceLine(row=n, upn=upn, sessions=s, amount=a) for n, (upn, s, a) in enumerate(kept, start=1)],
    )
    try:
        with session.begin_nested():
            session.add(invoice)
            session.flush()
    except IntegrityError:
        raise DomainError(
            "The invoice was not recorded",
            [
                FieldError(
                    "reference", "Another invoice for this month was being recorded at the same moment: try again"
                )
            ],
        ) from None
    audit.record(
        session,
        actor,
        "replace" if old is not None else "record",
        "provider_invoice",
        invoice.id,
        detail={
            "provider_id": provider.id,
            "month": month_key(month),
            "lines": len(kept),
            "how": how,
            **({"replaced": replaced} if replaced else {}),
        },
    )
    return invoice


# --- approving ----------------------------------------------------------------------------


def approve(
    session: Session,
    actor: Actor,
    provider: Setting,
    month: date,
    *,
    invoice_id: int | None,
    shown_total: Decimal | None,
    today: date,
) -> PaymentStatement:
    """Approve the month's statement as it was shown (its invoice and the total to pay): what was
    delivered is paid, never more than the invoice claims; kept as it is now, for good. The
    officer who recorded the invoice does not approve it (another checks it)."""
    if not may_approve(actor, provider):
        raise Forbidden("You do not have permission to do this")
    la = provider.la
    refusal = Refusal()
    invoice = _invoice(session, la, provider, month, lock=True)
    if today <= month_last(month):
        refusal.add("invoice", f"The statement for {month:%B %Y} can be approved once the month is over")
    if invoice is None:
        refusal.add("invoice", f"Record {provider.name}'s invoice for {month:%B %Y} first")
    elif invoice.id != invoice_id:
        refusal.add("invoice", "The invoice was replaced since the statement was shown: check it again")
    elif actor.user_id is not None and invoice.recorded_by_id == actor.user_id:
        refusal.add("invoice", "You recorded this invoice: another officer checks and approves it")
    if _approved(session, la, provider, month) is not None:
        refusal.add("invoice", f"The statement for {month:%B %Y} is approved already")
    gap = _gap(session, la, month)
    if gap:
        refusal.add("invoice", gap)
    refusal.raise_if_any("The statement was not approved")
    assert invoice is not None
    session.refresh(invoice, ["lines"])
    lines = _lines(session, la, provider, month, invoice)
    found = Statement(la, provider, month, [Row.of(line.kept()) for line in lines], invoice, None, "to_approve")
    if found.approved_total != shown_total:
        raise DomainError(
            "The statement was not approved",
            [FieldError("invoice", "The registers changed since the statement was shown: check it again")],
        )
    kept = PaymentStatement(
        la_id=la.id,
        provider_id=provider.id,
        month=month,
        invoice_id=invoice.id,
        due_total=found.due_total,
        invoiced_total=found.invoiced_total,
        approved_total=found.approved_total,
        la_paid=found.la_share,
        school_paid=found.school_share,
        lines=[line.kept() for line in lines],
        approved_by_id=actor.user_id,
        approved_by_name=agreements.who(actor),
    )
    try:
        with session.begin_nested():
            session.add(kept)
            session.flush()
    except IntegrityError:
        raise DomainError(
            "The statement was not approved",
            [FieldError("invoice", f"The statement for {month:%B %Y} is approved already")],
        ) from None
    audit.record(
        session,
        actor,
        "approve",
        "payment_statement",
        kept.id,
        detail={
            "provider_id": provider.id,
            "month": month_key(month),
            "approved_total": str(kept.approved_total),
            "pupils": sorted(line.pupil.id for line in lines if line.pupil is not None),
        },
    )
    return kept


# --- lists, the budget and finance --------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    provider: Setting
    month: date
    state: str
    due: Decimal | None  # None: not worked out (the month has not begun)
    invoiced: Decimal | None
    approved: Decimal | None
    pay_by: date | None


def providers_for(session: Session, actor: Actor) -> list[Setting]:
    """The providers whose statements the actor reads: those with an approval on the LA's lots."""
    user = actor.user
    stmt = (
        select(Setting)
        .join(LotApproval, LotApproval.provider_id == Setting.id)
        .join(FrameworkLot, LotApproval.lot_id == FrameworkLot.id)
        .join(Framework, FrameworkLot.framework_id == Framework.id)
        .where(Framework.la_id == Setting.la_id)
        .distinct()
        .order_by(Setting.name)
    )
    if user is not None and user.la_id is None:
        stmt = stmt.where(Setting.id == user.setting_id)
    found = session.scalars(permissions.scope_settings(actor, stmt)).all()
    return [p for p in found if may_see(actor, p)]


def month_summaries(session: Session, actor: Actor, month: date, today: date) -> list[Summary]:
    found = []
    for provider in providers_for(session, actor):
        shown = statement(session, provider, month, today)
        if not shown.rows and shown.invoice is None:
            continue
        found.append(
            Summary(
                provider,
                month,
                shown.state,
                shown.due_total,
                shown.invoiced_total if shown.invoice else None,
                shown.approved_total if shown.approved else None,
                shown.pay_by,
            )
        )
    return found


FINANCE_COLUMNS = [
    "statement",
    "la_code",
    "provider_ref",
    "provider",
    "month",
    "invoice_reference",
    "invoice_received_on",
    "pay_by",
    "placement_refs",
    "payer",
    "recharge_school_refs",
    "sessions_agreed",
    "sessions_paid",
    "due",
    "invoiced",
    "approved",
    "approved_on",
]


def finance_rows(found: Statement) -> list[dict[str, Any]]:
    """An approved statement for the LA's finance system: a row per pupil and payer (its share of
    what was due and of what is paid; the invoice's claim on the pupil's first row, so that each
    column adds up to the statement's totals), naming the placement by its register number, never
    the child, and the school to recharge by its reference."""
    kept, invoice = found.approved, found.invoice
    assert kept is not None and invoice is not None
    rows = []
    for row in found.rows:
        payers = sorted(set(row.due_shares) | set(row.shares)) or ["none"]
        for n, payer in enumerate(payers):
            rows.append(
                {
                    "statement": kept.id,
                    "la_code": found.la.code,
                    "provider_ref": found.provider.ref,
                    "provider": found.provider.name,
                    "month": month_key(found.month),
                    "invoice_reference": invoice.reference,
                    "invoice_received_on": invoice.received_on,
                    "pay_by": pay_by(invoice),
                    "placement_refs": " ".join(str(p) for p in row.placement_ids),
                    "payer": payer,
                    "recharge_school_refs": " ".join(row.schools) if payer == "school" else "",
                    "sessions_agreed": row.agreed if n == 0 else 0,
                    "sessions_paid": row.payable if n == 0 else 0,
                    "due": row.due_shares.get(payer, Decimal(0)),
                    "invoiced": (row.invoiced_amount or Decimal(0)) if n == 0 else Decimal(0),
                    "approved": row.shares.get(payer, Decimal(0)),
                    "approved_on": kept.approved_at.date(),
                }
            )
    return rows


def forget(session: Session, pupil: Pupil, upn: str) -> None:
    """On anonymising: the child's UPN (`upn`, as it was) in the invoices' lines and the approved
    statements becomes the anonymised record's. The sums stay: they are the LA's accounts."""
    session.execute(update(InvoiceLine).where(InvoiceLine.upn == upn).values(upn=pupil.upn))
    settings = select(Placement.setting_id).where(Placement.pupil_id == pupil.id)
    for kept in session.scalars(select(PaymentStatement).where(PaymentStatement.provider_id.in_(settings))):
        if any(line["upn"] == upn for line in kept.lines):
            kept.lines = [{**line, "upn": pupil.upn} if line["upn"] == upn else line for line in kept.lines]
