"""Paying for what was delivered, on the pages: the month's statements, an invoice typed in and
uploaded, its errors, the differences explained, approval and the budget's spend, the finance
export, and who may see and do what."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.budgets.rules import create_plan, set_line
from ap_register.domain.vocab import Role
from ap_register.models import AttendanceMark, AuditEvent, PaymentStatement, ProviderInvoice
from tests.factories import SYSTEM
from tests.pages import date_fields, errors, page, post, sign_in, text

# The world (tests/conftest.py): today is 4 December 2026. Its pupil's agreement at the PRU pays
# £60.00 a session attended, from the LA's budget. October's statement is approved; November's
# invoice (36 sessions, £2,160.00) is recorded, to check and approve.


def november(client: Any, world: dict[str, Any]) -> str:
    return f"/commissioning/payments/{world['home']['pru'].id}/2026-11"


def test_the_commissioner_checks_an_invoice_and_approves_what_was_delivered(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil, pru = home["pupil"], home["pru"]
    for day in (2, 3):  # two days of November attended, both sessions
        for half in ("AM", "PM"):
            db.add(AttendanceMark(pupil_id=pupil.id, setting_id=pru.id, date=date(2026, 11, day), session=half,
                                  code="/"))  # fmt: skip
    db.add(AttendanceMark(pupil_id=pupil.id, setting_id=pru.id, date=date(2026, 11, 4), session="AM", code="I"))
    db.commit()
    sign_in(client, home["users"][Role.COMMISSIONER].email)
    listed = text(page(client.get("/commissioning/payments?month=2026-11")))
    assert "Statements for November 2026" in listed and pru.name in listed and "To check and approve" in listed

    shown = text(page(client.get(november(client, world))))
    assert "Statement for November 2026" in shown and pupil.full_name in shown
    assert "Pay by 31 December 2026" in shown  # the 30th day beginning with 2 December, s68(2)
    assert "agreed sessions not attended are not paid (the agreement pays on attendance)" in shown
    assert (
        "I (Illness (not medical or dental appointment)): Wed 4 Nov AM; not marked: Wed 4 Nov PM, Thu 5 Nov, " in shown
    )
    assert "Invoiced £2,160.00; at £60.00 per session, the 4 sessions due come to £240.00: £240.00 is paid" in shown
    viewed = db.scalar(select(AuditEvent).where(AuditEvent.pupil_id == pupil.id, AuditEvent.action == "view"))
    assert viewed is not None

    # An administrator replaces the invoice by typing it in (the commissioner approves it): its
    # errors first.
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    url = november(client, world) + "/invoice"
    form = text(page(client.get(url)))
    assert "Record the invoice" in form and "This replaces invoice" in form
    bad = page(
        post(
            client,
            url,
            {
                "rows": "2",
                "reference": "",
                **date_fields("received_on", date(2026, 12, 2)),
                "upn_1": pupil.upn,
                "sessions_1": "4",
                "amount_1": "24O",
                "upn_2": "X1",
                "sessions_2": "",
                "amount_2": "",
            },
        ),  # fmt: skip
        200,
    )
    assert errors(bad) == [
        "Enter the invoice's reference",
        "Row 1: check the amount: enter pounds and pence from £0 to £100,000.00",
        "Row 2: check the UPN: A UPN must be 13 characters; this one has 2; the sessions: enter a whole number "
        "from 0 to 62; the amount: enter pounds and pence from £0 to £100,000.00",
    ]
    kept = select(ProviderInvoice.reference).where(
        ProviderInvoice.month == date(2026, 11, 1), ProviderInvoice.provider_id == pru.id
    )
    assert db.scalar(kept) == "HOME-11"  # nothing changed
    sent = post(client, url, {"rows": "1", "reference": "HOME-11b", **date_fields("received_on", date(2026, 12, 3)),
                              "upn_1": pupil.upn, "sessions_1": "4", "amount_1": "240.00"})  # fmt: skip
    assert sent.status_code == 302
    shown = text(page(client.get(november(client, world))))
    assert "None: the invoice claims what was delivered, pupil by pupil." in shown

    sign_in(client, home["users"][Role.COMMISSIONER].email)
    plan = create_plan(db, SYSTEM, home["la"], name="AP budget 2026-2029", first_year=2026, years=3,
                       demand_policy="From the reserve")  # fmt: skip
    set_line(db, SYSTEM, plan, year=2026, place_type="time_limited", commissioned=Decimal(1),
             unit_cost=Decimal("12000"), provider=pru)  # fmt: skip
    db.commit()
    before = text(page(client.get(f"/budgets/{plan.id}?year=2026")))
    # October's statement, approved with the world, paid nothing: no session of October was marked.
    assert f"{pru.name} £12,000.00 £0.00 1 £0.00" in before
    statement_page = page(client.get(november(client, world)))
    shown = {name: statement_page.find("input", {"name": name})["value"] for name in ("invoice", "total")}
    assert shown["total"] == "240.00"
    assert post(client, november(client, world) + "/approve", shown).status_code == 302
    kept = db.scalar(select(PaymentStatement).where(PaymentStatement.month == date(2026, 11, 1),
                                                     PaymentStatement.provider_id == pru.id))  # fmt: skip
    assert kept is not None and kept.approved_total == Decimal("240.00") and kept.la_paid == Decimal("240.00")

    download = client.get(november(client, world) + "/statement.csv")
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [(r["payer"], r["sessions_paid"], r["approved"]) for r in rows] == [("la", "4", "240.00")]
    assert pupil.last_name not in download.get_data(as_text=True) and pupil.upn not in download.get_data(as_text=True)
    # October's £0.00 and November's £240.00: the budget's spend, and a forecast at their average
    # (£120.00) for the ten months not yet paid.
    after = text(page(client.get(f"/budgets/{plan.id}?year=2026")))
    assert f"{pru.name} £12,000.00 £240.00 2 £1,440.00" in after
    workbook = load_workbook(io.BytesIO(client.get(november(client, world) + "/statement.xlsx").data))
    assert workbook.active.max_row == 2


def test_an_invoice_is_uploaded_and_a_bad_file_is_refused_row_by_row(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    sign_in(client, home["users"][Role.AP_HEAD].email)  # the provider sends its own invoice
    url = november(client, world) + "/invoice/upload"
    fields = {"upload-reference": "HOME-11c", **date_fields("upload-received_on", date(2026, 12, 3))}
    bad = b"upn,sessions,amount\nX,1,1\n" + home["pupil"].upn.encode() + b",2,-1\n"
    refused = page(post(client, url, {**fields, "upload-file": (io.BytesIO(bad), "invoice.csv")}), 200)
    assert errors(refused) == [
        "Row 2: check the UPN: A UPN must be 13 characters; this one has 1",
        "Row 3: check the amount: enter pounds and pence from £0 to £100,000.00",
    ]
    good = f"upn,sessions,amount\n{home['pupil'].upn},36,2160.00\n".encode()
    assert post(client, url, {**fields, "upload-file": (io.BytesIO(good), "invoice.csv")}).status_code == 302
    assert db.scalar(select(ProviderInvoice.how).where(ProviderInvoice.reference == "HOME-11c")) == "imported"
    shown = page(client.get(november(client, world)))
    assert shown.find("input", {"name": "invoice"}) is None  # the provider does not approve its own invoice


def test_a_school_and_another_area_see_no_statement(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["home"]["users"][Role.SCHOOL_LEAD].email)
    assert client.get(november(client, world)).status_code == 403
    sign_in(client, world["other"]["users"][Role.COMMISSIONER].email)
    assert client.get(november(client, world)).status_code == 404
    assert client.get(f"/commissioning/payments/{world['home']['pru'].id}/2026-13").status_code == 404
