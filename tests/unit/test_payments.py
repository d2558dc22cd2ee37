"""Paying for what was delivered: the month's statement worked out from the raw registers and
checked against a hand calculation, every difference from the invoice explained by pupil and
session, what the LA pays, the invoice's refusals, who may do what, and the approved statement
kept for the budget and finance."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.budgets.rules import paid_by_provider
from ap_register.commissioning import payments
from ap_register.commissioning.agreements import accept, call_off, change
from ap_register.commissioning.payments import Claim, approve, read_invoice_file, record_invoice, statement
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import Destination, Role
from ap_register.models import AgreementVersion, AuditEvent, InvoiceLine, PaymentStatement, ProviderInvoice
from tests import factories
from tests.unit.test_agreements import TODAY, placed, terms  # noqa: F401  (the fixture)
from tests.unit.test_frameworks import market  # noqa: F401  (the fixture)
from tests.unit.test_progress import agreed, mark  # noqa: F401  (the fixture)

MARCH = date(2026, 3, 1)
APRIL_1 = date(2026, 4, 1)
STRANGER = make_upn("855202609990")  # a pupil no agreement names


def claims(*lines: tuple[str, str, str]) -> list[Claim]:
    return [Claim(f"Row {n}", upn, sessions, amount) for n, (upn, sessions, amount) in enumerate(lines, start=2)]


def invoice(db: Session, actor: Actor, provider: Any, *lines: tuple[str, str, str], **changed: Any) -> ProviderInvoice:
    values: dict[str, Any] = {"reference": "INV-0311", "received_on": APRIL_1, "how": "entered", "today": APRIL_1}
    return record_invoice(db, actor, provider, MARCH, claims=claims(*lines), **{**values, **changed})


def approve_shown(db: Session, actor: Actor, provider: Any, month: date = MARCH, today: date = APRIL_1) -> Any:
    """Approve the statement as its page shows it now (its invoice and its total)."""
    shown = statement(db, provider, month, today)
    invoice_id = shown.invoice.id if shown.invoice else None
    return approve(db, actor, provider, month, invoice_id=invoice_id, shown_total=shown.approved_total, today=today)


def the_registers_of_march(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    """The progress tests' hand-counted registers: of 24 agreed sessions from 9 to 26 March,
    10 attended (8 in the first week, / and B), 2 unauthorised (N, O), 1 authorised (I), 1 not a
    possible session (X), 10 not marked."""
    for day in (9, 10, 11, 12):
        mark(db, agreed, date(2026, 3, day), "AM", "/")
        mark(db, agreed, date(2026, 3, day), "PM", "\\")
    mark(db, agreed, date(2026, 3, 13), "AM", "/")  # a Friday: not agreed, not paid
    for day, half, code in [(16, "AM", "/"), (16, "PM", "N"), (17, "AM", "I"), (17, "PM", "O"), (18, "AM", "X"),
                            (18, "PM", "B")]:  # fmt: skip
        mark(db, agreed, date(2026, 3, day), half, code)
    mark(db, agreed, date(2026, 3, 19), "AM", "/", setting=agreed["school"])  # another setting's mark
    db.flush()


def test_the_statement_matches_a_hand_calculation_from_the_registers(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    the_registers_of_march(db, agreed)
    upn = agreed["pupil"].upn
    invoice(db, agreed["commissioner"], agreed["pru"], (upn, "14", "875.00"), (STRANGER, "4", "250.00"))
    found = statement(db, agreed["pru"], MARCH, APRIL_1)
    assert found.state == "to_approve" and found.pay_by == date(2026, 4, 30)  # 30 days from 1 April, s68(2)
    jordan, stranger = found.rows
    # By hand: 24 sessions agreed (Mon-Thu, both sessions, 9-26 March); paid on attendance, so
    # the 10 attended at £62.50 a session: £625.00. The invoice claims 14 sessions, £875.00.
    assert (jordan.agreed, jordan.payable, jordan.due) == (24, 10, Decimal("625.00"))
    assert (jordan.invoiced_sessions, jordan.invoiced_amount, jordan.approved) == (
        14,
        Decimal("875.00"),
        Decimal("625.00"),
    )
    absent, money = jordan.differences
    assert absent.startswith("14 agreed sessions not attended are not paid (the agreement pays on attendance): ")
    assert absent.endswith(
        "N (Reason for absence not yet provided): Mon 16 Mar PM; I (Illness (not medical or dental appointment)): "
        "Tue 17 Mar AM; O (Absent in other or unknown circumstances): Tue 17 Mar PM; X (Non-compulsory school age "
        "pupil not required to attend the session): Wed 18 Mar AM; not marked: Thu 19 Mar, "
        "Mon 23 Mar, Tue 24 Mar, Wed 25 Mar, Thu 26 Mar"
    )
    assert "Mon 16 Mar AM" not in absent and "Fri 13 Mar" not in absent
    assert money == "Invoiced £875.00; at £62.50 per session, the 10 sessions due come to £625.00: £625.00 is paid"
    assert stranger.pupil_id is None and stranger.approved == 0
    assert stranger.differences == [
        "No agreement with The Oaks from this local authority's frameworks covers this pupil: nothing is due"
    ]
    assert (found.due_total, found.invoiced_total, found.approved_total) == (625, 1125, 625)
    assert (found.la_share, found.school_share) == (0, 625)  # the school pays under this agreement


def test_a_placement_ended_mid_month_on_agreed_sessions_is_paid_to_its_end(
    db: Session,
    placed: dict[str, Any],  # noqa: F811
) -> None:
    commissioner = placed["commissioner"]
    call_off(db, commissioner, placed["placement"], placed["approval"], terms(pays_on="agreed", payer="la"),
             today=TODAY)  # fmt: skip
    placed["placement"].end_date, placed["placement"].destination = date(2026, 3, 18), Destination.NOT_KNOWN
    db.flush()
    invoice(db, placed["head"], placed["pru"], (placed["pupil"].upn, "24", "1500.00"))
    row = statement(db, placed["pru"], MARCH, APRIL_1).rows[0]
    # Agreed: 9-12 March (8) and 16-18 March (6), attended or not: 14 at £62.50 = £875.00.
    assert (row.agreed, row.payable, row.due, row.approved) == (14, 14, Decimal("875.00"), Decimal("875.00"))
    assert row.differences == [
        "10 sessions more than the 14 agreed in March 2026: sessions not agreed are not paid",
        "The placement ended on 18 March 2026: the 10 sessions the agreement would have had after it are not due",
        "The agreement began on 9 March 2026: the 8 sessions it would have had before then are not due",
        "Invoiced £1,500.00; at £62.50 per session, the 14 sessions due come to £875.00: £875.00 is paid",
    ]
    kept = approve_shown(db, commissioner, placed["pru"])
    assert (kept.approved_total, kept.la_paid, kept.school_paid) == (875, 875, 0)
    # The budget counts the LA's share, in the month it was for.
    assert paid_by_provider(db, placed["la"].id, date(2026, 3, 1), date(2026, 3, 31)) == {
        placed["pru"].id: [(MARCH, Decimal("875.00"))]
    }


def test_an_invoice_short_of_what_was_delivered_is_paid_as_invoiced(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    the_registers_of_march(db, agreed)
    invoice(db, agreed["commissioner"], agreed["pru"], (agreed["pupil"].upn, "8", "500.00"))
    row = statement(db, agreed["pru"], MARCH, APRIL_1).rows[0]
    assert row.approved == Decimal("500.00")
    assert row.differences[0] == ("Invoiced for 8 sessions; 10 were delivered: no more than the invoice claims is paid")


def test_a_pupil_not_invoiced_is_named_and_not_paid(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    the_registers_of_march(db, agreed)
    invoice(db, agreed["commissioner"], agreed["pru"], (STRANGER, "0", "0"))
    jordan = next(r for r in statement(db, agreed["pru"], MARCH, APRIL_1).rows if r.pupil_id)
    assert jordan.approved == 0
    assert jordan.differences == [
        "Not on the invoice: the £625.00 for 10 sessions delivered is not paid with this statement"
    ]


def test_a_session_is_worth_the_rate_for_its_unit() -> None:
    def version(unit: str, sessions: str = "1111111100", hours: str = "20") -> AgreementVersion:
        return AgreementVersion(rate=Decimal("90.00"), rate_unit=unit, sessions=sessions, hours_per_week=Decimal(hours))

    monday, friday = date(2026, 3, 9), date(2026, 3, 13)
    assert payments.session_value(version("session"), monday) == 90
    assert payments.session_value(version("hour"), monday) == Fraction(90 * 20, 8)  # 2.5 hours a session
    assert payments.session_value(version("day"), monday) == 45  # two sessions that day
    assert payments.session_value(version("day", "1010101011"), friday) == 45
    assert payments.session_value(version("day", "1010101010"), monday) == 90  # mornings only
    assert payments.session_value(version("week"), monday) == Fraction(90, 8)


def test_every_problem_with_an_invoice_is_named_and_nothing_is_kept(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    upn = agreed["pupil"].upn
    with pytest.raises(DomainError) as refused:
        invoice(
            db, agreed["commissioner"], agreed["pru"],
            (upn, "10", "625.00"), (upn, "2", "1"), ("A123", "x", "1e999"), (STRANGER, "999", "-5"),
            reference=" ", received_on=date(2026, 2, 27),
        )  # fmt: skip
    messages = [e.message for e in refused.value.errors]
    assert "Enter the invoice's reference" in messages
    assert "An invoice for March 2026 cannot have been received before its last day, 31 March 2026" in messages
    assert f"Row 3: check the UPN {upn} is on Row 2 too: one line per pupil" in messages
    assert any(m.startswith("Row 4: check the UPN: A UPN must be 13 characters") and "the sessions" in m
               and "the amount" in m for m in messages)  # fmt: skip
    assert "Row 5: check the sessions: enter a whole number from 0 to 62; the amount: enter pounds and pence " \
           "from £0 to £100,000.00" in messages  # fmt: skip
    assert db.scalar(select(func.count()).select_from(ProviderInvoice)) == 0
    with pytest.raises(DomainError) as early:
        invoice(db, agreed["commissioner"], agreed["pru"], (upn, "10", "625.00"), today=date(2026, 3, 30),
                received_on=date(2026, 3, 30))  # fmt: skip
    assert early.value.errors[0].message == "An invoice for March 2026 can be recorded from 31 March 2026"


def test_an_invoice_file_is_read_and_its_rows_checked(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    upn = agreed["pupil"].upn
    read = read_invoice_file(io.BytesIO(f'\ufeffUPN,Sessions,Amount\n{upn},10,"£625.00"\n\n'.encode()))
    assert read == [Claim("Row 2", upn, "10", "£625.00")]
    made = record_invoice(
        db, agreed["head"], agreed["pru"], MARCH, reference="OAK/3", received_on=APRIL_1, claims=read,
        how="imported", today=APRIL_1,
    )  # fmt: skip
    assert [(line.upn, line.sessions, line.amount) for line in made.lines] == [(upn, 10, Decimal("625.00"))]
    for content, message in [
        (b"pupil,sessions\nX,1\n", "The first row must name the columns upn, sessions, amount: upn, amount missing"),
        (b"", "The file is empty"),
        (b"upn,sessions,amount\n\x00", "The file must be a CSV file"),
        (b"x" * (payments.INVOICE_MAX_BYTES + 1), "The file must be 1024 KB or smaller"),
    ]:
        with pytest.raises(DomainError) as refused:
            read_invoice_file(io.BytesIO(content))
        assert refused.value.errors[0].message == message


def test_a_replaced_invoice_is_refused_at_approval_and_an_approved_one_stays(
    db: Session,
    agreed: dict[str, Any],  # noqa: F811
) -> None:
    the_registers_of_march(db, agreed)
    commissioner, pru, upn = agreed["commissioner"], agreed["pru"], agreed["pupil"].upn
    first = invoice(db, agreed["head"], pru, (upn, "10", "625.00"))
    first_id = first.id
    second = invoice(db, agreed["head"], pru, (upn, "10", "600.00"), reference="INV-0311b")
    assert db.scalar(select(func.count()).select_from(InvoiceLine)) == 1
    with pytest.raises(DomainError) as stale:
        approve(db, commissioner, pru, MARCH, invoice_id=first_id, shown_total=Decimal("600.00"), today=APRIL_1)
    assert stale.value.errors[0].message == "The invoice was replaced since the statement was shown: check it again"
    with pytest.raises(DomainError) as early:
        approve(db, commissioner, pru, MARCH, invoice_id=second.id, shown_total=Decimal(600), today=date(2026, 3, 31))
    assert early.value.errors[0].message == "The statement for March 2026 can be approved once the month is over"
    kept = approve_shown(db, commissioner, pru)
    assert kept.approved_total == Decimal("600.00") and kept.approved_by_name
    # The registers change after approval: the approved statement does not.
    mark(db, agreed, date(2026, 3, 23), "AM", "/")
    db.flush()
    shown = statement(db, pru, MARCH, APRIL_1)
    assert shown.state == "approved" and shown.rows[0].payable == 10 and shown.approved_total == 600
    with pytest.raises(DomainError) as again:
        approve(db, commissioner, pru, MARCH, invoice_id=second.id, shown_total=Decimal(600), today=APRIL_1)
    assert again.value.errors[0].message == "The statement for March 2026 is approved already"
    with pytest.raises(DomainError) as replaced:
        invoice(db, commissioner, pru, (upn, "11", "687.50"))
    assert "is approved: its invoice cannot be replaced" in replaced.value.errors[-1].message
    assert db.scalar(select(func.count()).select_from(PaymentStatement)) == 1
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type.in_(
        ("provider_invoice", "payment_statement")))).all()  # fmt: skip
    assert sorted(actions) == ["approve", "record", "replace"]


def test_the_provider_records_its_invoice_and_only_the_la_approves(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    pru, upn = agreed["pru"], agreed["pupil"].upn
    invoice(db, agreed["head"], pru, (upn, "10", "625.00"))
    with pytest.raises(Forbidden):
        approve_shown(db, agreed["head"], pru)
    lead = agreed["lead"]
    assert not payments.may_see(lead, pru)
    with pytest.raises(Forbidden):
        invoice(db, lead, pru, (upn, "10", "625.00"))
    other_head = Actor(user=factories.user(db, Role.AP_HEAD, agreed["farm"]), via="test")
    with pytest.raises(NotFound):
        payments.get_provider(db, other_head, pru.id)
    elsewhere = Actor(user=factories.user(db, Role.COMMISSIONER, agreed["other_la"]), via="test")
    with pytest.raises(NotFound):
        payments.get_provider(db, elsewhere, pru.id)
    assert [p.name for p in payments.providers_for(db, agreed["commissioner"])] == ["The Oaks"]
    assert [p.name for p in payments.providers_for(db, agreed["head"])] == ["The Oaks"]
    assert payments.providers_for(db, other_head) == []


def test_months_are_read_strictly() -> None:
    assert payments.parse_month("2026-11") == date(2026, 11, 1)
    for text in ("2026-13", "2026-1", "26-11", "2026/11", "", None, "0000-01", "２０２６-11"):
        assert payments.parse_month(text) is None
    assert payments.month_last(date(2026, 2, 1)) == date(2026, 2, 28)
    assert payments.month_last(date(2026, 12, 1)) == date(2026, 12, 31)
    assert payments.last_month(date(2026, 1, 15)) == date(2025, 12, 1)


def test_the_year_s_spend_is_forecast_at_the_average_month_paid() -> None:
    from ap_register.budgets.rules import ProviderSpend

    spend = ProviderSpend(provider=None, allocation=Decimal("12000"), paid=Decimal("3000"), months=2)  # type: ignore[arg-type]
    assert spend.forecast == Decimal("18000.00") and spend.over  # 3,000 and 10 more months of 1,500
    assert ProviderSpend(None, Decimal("12000"), Decimal(0), 0).forecast is None  # type: ignore[arg-type]


def test_anonymising_the_child_leaves_no_upn_in_the_invoices_or_the_statements(
    db: Session,
    agreed: dict[str, Any],  # noqa: F811
) -> None:
    from ap_register.domain.retention import anonymise

    the_registers_of_march(db, agreed)
    pupil, upn = agreed["pupil"], agreed["pupil"].upn
    invoice(db, agreed["head"], agreed["pru"], (upn, "10", "625.00"))
    kept = approve_shown(db, agreed["commissioner"], agreed["pru"])
    anonymise(db, agreed["commissioner"], pupil, date(2030, 1, 1))
    db.flush()
    db.expire_all()
    assert db.scalars(select(InvoiceLine.upn)).all() == [pupil.upn] != [upn]
    assert [line["upn"] for line in db.get(PaymentStatement, kept.id).lines] == [pupil.upn]  # type: ignore[union-attr]
    assert db.get(PaymentStatement, kept.id).approved_total == Decimal("625.00")  # type: ignore[union-attr]


def test_a_change_is_paid_from_its_start_once_every_party_has_accepted_it(
    db: Session,
    placed: dict[str, Any],  # noqa: F811
) -> None:
    """Version 2 (£50.00 a session from Monday 23 March) is accepted by all on 10 March: March is
    16 sessions at £40.00 (9-19 March) and 8 at £50.00 (23-26 March)."""
    c = placed["commissioner"]
    agreement = call_off(db, c, placed["placement"], placed["approval"], terms(rate="40.00", pays_on="agreed"),
                         today=TODAY)  # fmt: skip
    with clock.fixed(date(2026, 3, 10)):
        change(db, c, agreement, terms(rate="50.00", pays_on="agreed", starts_on=date(2026, 3, 23)),
               reason="The rate rises from 23 March", version_number=1, today=date(2026, 3, 10))  # fmt: skip
    for party in ("school", "provider", "parent"):
        accept(db, c, agreement, version_number=2, party=party, name="Someone", how="on_paper",
               signed_on=date(2026, 3, 10), today=date(2026, 3, 10))  # fmt: skip
    db.flush()
    assert statement(db, placed["pru"], MARCH, APRIL_1).rows[0].due == 16 * 40 + 8 * 50


def test_the_statement_is_approved_as_it_was_shown_or_not_at_all(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    the_registers_of_march(db, agreed)
    pru = agreed["pru"]
    invoice(db, agreed["head"], pru, (agreed["pupil"].upn, "24", "1500.00"))
    shown = statement(db, pru, MARCH, APRIL_1)
    mark(db, agreed, date(2026, 3, 23), "AM", "/")  # the provider marks a session meanwhile
    db.flush()
    with pytest.raises(DomainError) as refused:
        approve(db, agreed["commissioner"], pru, MARCH, invoice_id=shown.invoice.id,  # type: ignore[union-attr]
                shown_total=shown.approved_total, today=APRIL_1)  # fmt: skip
    assert refused.value.errors[0].message == "The registers changed since the statement was shown: check it again"
    assert approve_shown(db, agreed["commissioner"], pru).approved_total == Decimal("687.50")


def test_whoever_recorded_the_invoice_does_not_approve_it(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    invoice(db, agreed["commissioner"], agreed["pru"], (agreed["pupil"].upn, "0", "0.00"))
    with pytest.raises(DomainError) as refused:
        approve_shown(db, agreed["commissioner"], agreed["pru"])
    assert refused.value.errors[0].message == "You recorded this invoice: another officer checks and approves it"
    again = invoice(db, agreed["head"], agreed["pru"], (agreed["pupil"].upn, "0", "0.00"))
    replaced = db.scalars(select(AuditEvent).where(AuditEvent.action == "replace")).one()
    assert replaced.object_id == str(again.id) and replaced.detail["replaced"]["lines"] == [
        [agreed["pupil"].upn, 0, "0.00"]
    ]


def test_two_placements_at_the_provider_pay_each_session_once(db: Session, placed: dict[str, Any]) -> None:  # noqa: F811
    c = placed["commissioner"]
    call_off(db, c, placed["placement"], placed["approval"], terms(pays_on="agreed"), today=TODAY)
    again = factories.placement(db, placed["pupil"], placed["pru"], start=date(2026, 3, 10))
    call_off(db, c, again, placed["approval"], terms(pays_on="agreed", starts_on=date(2026, 3, 10)),
             today=date(2026, 3, 10))  # fmt: skip
    db.flush()
    row = statement(db, placed["pru"], MARCH, APRIL_1).rows[0]
    assert (row.agreed, row.payable, row.due) == (24, 24, 24 * Decimal("62.50"))  # Mon-Thu, 9-26 March, once


def test_without_the_month_s_term_dates_nothing_is_counted_or_approved(
    db: Session,
    placed: dict[str, Any],  # noqa: F811
) -> None:
    c, september = placed["commissioner"], date(2027, 9, 1)  # the tests' term dates end with 2026/27
    call_off(db, c, placed["placement"], placed["approval"], terms(pays_on="agreed"), today=TODAY)
    record_invoice(db, placed["head"], placed["pru"], september, reference="R", received_on=date(2027, 10, 1),
                   claims=claims((placed["pupil"].upn, "30", "1875.00")), how="entered",
                   today=date(2027, 10, 1))  # fmt: skip
    shown = statement(db, placed["pru"], september, date(2027, 10, 1))
    assert shown.gap and "term dates are not recorded for all of September 2027" in shown.gap
    with pytest.raises(DomainError) as refused:
        approve_shown(db, c, placed["pru"], september, date(2027, 10, 1))
    assert any("term dates are not recorded" in e.message for e in refused.value.errors)


def test_amounts_and_upns_are_read_as_people_write_them(db: Session, agreed: dict[str, Any]) -> None:  # noqa: F811
    assert [payments._amount(t) for t in ("£1,234.50", "1234.5", "625", "0.00")] == [
        Decimal("1234.50"), Decimal("1234.5"), Decimal(625), Decimal(0)
    ]  # fmt: skip
    for text in ("625,00", "1_000", "1e2", "１２", "12.345", "1,23", "£", "-5", "NaN"):
        assert payments._amount(text) is None, text
    upn = agreed["pupil"].upn
    for odd in (upn[:6] + "\u00b2" + upn[7:], upn[:12] + chr(ord(upn[12]) + 0xFEE0)):
        with pytest.raises(DomainError) as refused:
            invoice(db, agreed["head"], agreed["pru"], (odd, "1", "1.00"))
        assert refused.value.errors[0].message.startswith("Row 2: check the UPN")
