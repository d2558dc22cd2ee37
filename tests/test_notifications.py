"""Notifications of a panel's decision: in the inboxes of those involved, and by email through a
real SMTP server (a local sink the test runs), never with the child's details in the email."""

from __future__ import annotations

from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import jobs
from ap_register.domain.actors import Actor
from ap_register.domain.vocab import Role
from ap_register.models import Notification
from ap_register.panels.rules import add_member, decide
from tests.conftest import free_port
from tests.pages import page, sign_in, text


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802 - aiosmtpd's name
        if address.startswith("refused"):  # a mailbox the server turns away
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted"


@pytest.fixture()
def smtp() -> Any:
    """A real SMTP server on localhost that keeps what it is sent."""
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def decided(db: Session, world: dict) -> Any:  # type: ignore[type-arg]
    home = world["home"]
    admin = Actor(user=home["users"][Role.LA_ADMIN], via="test")
    chair = home["users"][Role.PANEL_CHAIR]
    chair_row = add_member(db, admin, home["panel"], chair, chair=True)
    member = add_member(db, admin, home["panel"], home["users"][Role.PANEL_MEMBER])
    decide(
        db,
        Actor(user=chair, via="test"),
        home["meeting"],
        home["referral"],
        outcome="decline",
        reasons="Support at school is working",
        votes={chair_row.id: "for", member.id: "for"},
    )
    db.commit()


def test_a_decision_reaches_the_inboxes_of_those_involved(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    decided(db, world)
    home = world["home"]
    school_lead = home["users"][Role.SCHOOL_LEAD]  # a user of the referring school
    recipients = {n.user_id for n in db.scalars(select(Notification))}
    assert school_lead.id in recipients and home["users"][Role.COMMISSIONER].id not in recipients
    sign_in(client, school_lead.email)
    soup = page(client.get("/"))
    assert "Inbox 1 unread" in text(soup, "header")
    soup = page(client.get("/inbox"))
    assert "Home Panel decided a referral: decline" in text(soup)
    assert "Inbox 1" not in text(page(client.get("/")), "header")


def test_notifications_are_emailed_once_without_the_child_s_details(
    app: Any, world: dict, db: Session, smtp: Any
) -> None:  # type: ignore[type-arg]
    sink, port = smtp
    decided(db, world)
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_FROM="register@la.example.org",
        SERVICE_URL="https://ap-register.example.org",
    )
    try:
        sent = jobs.send_emails(app)
        again = jobs.send_emails(app)
    finally:
        app.config.update(MAIL_SERVER=None)
    lead = world["home"]["users"][Role.SCHOOL_LEAD]
    assert sent == len(sink.messages) >= 1 and again == 0
    to_lead = [m for rcpt, m in sink.messages if lead.email in rcpt]
    assert len(to_lead) == 1
    message = to_lead[0]
    assert message["Subject"] == "AP register: Home Panel decided a referral: decline"
    body = message.get_payload(decode=True).decode()  # as the mail client shows it (a long line is encoded)
    assert f"https://ap-register.example.org/referrals/{world['home']['referral'].id}" in body
    assert world["home"]["pupil"].last_name not in body and world["home"]["pupil"].last_name not in message["Subject"]


def test_the_attendance_digest_is_emailed_without_the_marks(app: Any, world: dict, db: Session, smtp: Any) -> None:  # type: ignore[type-arg]
    from datetime import date

    from ap_register.coverage.attendance import record_register
    from ap_register.coverage.digest import send_digests
    from tests.factories import SYSTEM

    sink, port = smtp
    home = world["home"]
    monday = date(2025, 11, 10)
    record_register(db, SYSTEM, home["pru"], monday, "AM", {home["pupil"].id: "O"}, today=monday)
    assert send_digests(db, date(2025, 11, 11))["notifications"] == 2  # the school lead and the officer
    db.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="register@la.example.org")
    try:
        assert jobs.send_emails(app) == 2
    finally:
        app.config.update(MAIL_SERVER=None)
    to = {rcpt[0]: message for rcpt, message in sink.messages}
    officer = home["users"][Role.ATTENDANCE_OFFICER].email
    lead = home["users"][Role.SCHOOL_LEAD].email
    assert set(to) == {officer, lead}
    assert to[lead]["Subject"] == "AP register: Home PRU's registers for Monday 10 November 2025"
    body = to[lead].get_payload(decode=True).decode()
    # The email says where to read the registers; even the counts stay behind the sign-in.
    assert "/attendance/received?on=2025-11-10" in body
    assert "missed" not in body and "unauthorised" not in body
    assert home["pupil"].last_name not in body and home["pupil"].upn not in body


def test_api_clients_get_no_notifications(world: dict, db: Session) -> None:  # type: ignore[type-arg]
    decided(db, world)
    home = world["home"]
    script = home["tokens"][Role.SCHOOL_LEAD].token.client  # the referring school's API client
    recipients = {n.user_id for n in db.scalars(select(Notification))}
    assert home["users"][Role.SCHOOL_LEAD].id in recipients
    assert script.id not in recipients


def mail_to(app: Any, port: int) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="register@la.example.org")


def test_a_line_break_in_a_subject_cannot_add_a_header_and_the_others_are_sent(
    app: Any, world: dict, db: Session, smtp: Any
) -> None:  # type: ignore[type-arg]
    from ap_register.domain.notifications import notify

    sink, port = smtp
    users = world["home"]["users"]
    bad, good = users[Role.SCHOOL_LEAD], [users[Role.ATTENDANCE_OFFICER], users[Role.COMMISSIONER]]
    notify(db, good[:1], kind="digest", subject="Home PRU's registers for Monday 10 November 2025", body=".")
    notify(db, [bad], kind="digest", subject="Home PRU\r\nBcc: x@example.org's registers", body=".")
    notify(db, good[1:], kind="digest", subject="Home Panel decided a referral", body=".")
    db.commit()
    mail_to(app, port)
    try:
        assert jobs.send_emails(app) == 3
    finally:
        app.config.update(MAIL_SERVER=None)
    to = {rcpt[0]: message for rcpt, message in sink.messages}
    assert sorted(to) == sorted(u.email for u in [bad, *good])  # nobody else, and no Bcc
    # Sent with the line break made a space: the person still hears there is something to read.
    assert to[bad.email]["Subject"] == "AP register: Home PRU Bcc: x@example.org's registers"
    assert to[bad.email]["Bcc"] is None
    assert db.scalar(select(func.count()).select_from(Notification).where(Notification.emailed_at.is_(None))) == 0


def test_a_message_that_cannot_be_built_or_sent_stays_unsent_and_the_others_go(
    app: Any, world: dict, db: Session, smtp: Any
) -> None:  # type: ignore[type-arg]
    from ap_register.domain.notifications import notify

    sink, port = smtp
    users = world["home"]["users"]
    broken, refused = users[Role.SCHOOL_LEAD], users[Role.PANEL_MEMBER]
    broken.email = "lead@example.org\r\nBcc: x@example.org"  # a value no form lets in, but the database holds
    refused.email = "refused@example.org"  # the mail server turns this mailbox away
    good = [users[Role.ATTENDANCE_OFFICER], users[Role.COMMISSIONER]]
    for user in [good[0], broken, refused, good[1]]:
        notify(db, [user], kind="digest", subject="Home PRU's registers for Monday 10 November 2025", body=".")
    script = world["home"]["tokens"][Role.SCHOOL_LEAD].token.client
    db.add(Notification(user_id=script.id, kind="digest", subject="Left from before", body="."))  # an API client's
    db.commit()
    mail_to(app, port)
    try:
        assert jobs.send_emails(app) == 2  # the run carries on past the two it cannot send
        assert [rcpt for rcpt, _ in sink.messages] == [[good[0].email], [good[1].email]]
        unsent = select(Notification.user_id).where(Notification.emailed_at.is_(None))
        assert set(db.scalars(unsent)) == {broken.id, refused.id, script.id}  # tried again next run
        assert jobs.send_emails(app) == 0 and len(sink.messages) == 2
    finally:
        app.config.update(MAIL_SERVER=None)
