"""Notifications: an inbox entry for each person who should know, and an email where the service
has a mail server. Emails carry no child's details: only that there is something to read, and
where (the register is where personal data is read, after signing in)."""

from __future__ import annotations

import email.policy
import logging
import smtplib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ap_register.models import Notification, Referral, User
from ap_register.models.base import utcnow

log = logging.getLogger(__name__)

# Older unsent notifications are not emailed late: the inbox still has them.
EMAIL_WITHIN = timedelta(days=2)


def notify(
    session: Session,
    users: Iterable[User],
    *,
    kind: str,
    subject: str,
    body: str,
    link: str | None = None,
    pupil_id: int | None = None,
    flush: bool = True,
) -> int:
    """Put a notification in each (active) person's inbox; returns how many. API clients are
    user accounts too, but nobody reads their inbox and their address is not a mailbox.
    `flush`: written at once (not when the caller writes its own, as an import's chunk does)."""
    count = 0
    for user in {u.id: u for u in users if u.active and not u.is_api_client}.values():
        session.add(Notification(user_id=user.id, kind=kind, subject=subject, body=body, link=link, pupil_id=pupil_id))
        count += 1
    if flush:
        session.flush()
    return count


def referral_parties(session: Session, referral: Referral) -> list[User]:
    """Who hears of a decision: the person who referred, and the referring and receiving settings."""
    settings = [s for s in (referral.referring_setting_id, referral.proposed_setting_id) if s is not None]
    stmt = select(User).where(User.active.is_(True))
    conditions = []
    if settings:
        conditions.append(User.setting_id.in_(settings))
    if referral.submitted_by_id is not None:
        conditions.append(User.id == referral.submitted_by_id)
    if not conditions:
        return []
    return list(session.scalars(stmt.where(or_(*conditions))))


def unread(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def inbox(session: Session, user: User, limit: int = 100) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(limit)
        )
    )


def mark_read(session: Session, user: User) -> None:
    session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


class Mailer(Protocol):
    sender: str

    def send(self, message: EmailMessage) -> None: ...


# Answers that say the server (or our account on it) is not usable: no other message would get
# through, so the run stops. smtplib's errors are OSErrors too, so these are told apart first.
SERVER_ERRORS = (
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
    smtplib.SMTPSenderRefused,
)


def _server_unusable(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPException):
        return isinstance(error, SERVER_ERRORS)
    return isinstance(error, OSError)  # refused, timed out, name not found


def one_line(text: str) -> str:
    """The text with every line break and other control character made a space: what we write
    into a header (a subject made from a setting's name) stays one line."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return " ".join(cleaned.split())


def compose(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """An email built under the SMTP policy, which refuses a header value holding CR or LF: a
    value that slipped past one_line (an address) raises here, and is never sent."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"], message["To"], message["Subject"] = sender, to, one_line(subject)
    message.set_content(body)
    return message


@dataclass
class SmtpMailer:
    """Sends through the service's SMTP server (STARTTLS when asked)."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            # The recipient as given, never read back from the headers (no Cc or Bcc).
            smtp.send_message(message, to_addrs=[str(message["To"])])


def send_emails(session: Session, mailer: Mailer, service_url: str) -> int:
    """Email each recent notification not yet emailed; returns how many were sent. A
    notification is claimed (marked sent) before it is sent, by a conditional update, so two
    senders never email it twice. One that cannot be built or is refused is released for a
    later run and the rest are sent; when the server cannot be reached the run stops."""
    since = utcnow() - EMAIL_WITHIN
    pending = session.execute(
        select(Notification.id, User.email, Notification.subject, Notification.link)
        .join(User, Notification.user_id == User.id)
        .where(
            Notification.emailed_at.is_(None),
            Notification.created_at >= since,
            User.active.is_(True),
            User.kind == "person",
        )
        .order_by(Notification.id)
    ).all()
    sent = 0
    for notification_id, address, subject, link in pending:
        claimed = session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.emailed_at.is_(None))
            .values(emailed_at=utcnow())
        )
        session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        body = (
            f"{one_line(subject)}.\n\nSign in to the AP register to read it:\n"
            f"{service_url.rstrip('/')}{link or '/inbox'}\n\n"
            "This email holds no details about the child: they stay in the register."
        )
        try:
            mailer.send(compose(mailer.sender, address, f"AP register: {subject}", body))
        except Exception as error:  # noqa: BLE001 - one message's failure must not lose the rest
            _release(session, notification_id)
            if _server_unusable(error):
                raise
            log.exception("Notification %s was not emailed; a later run tries again", notification_id)
            continue
        sent += 1
    return sent


def _release(session: Session, notification_id: int) -> None:
    session.execute(update(Notification).where(Notification.id == notification_id).values(emailed_at=None))
    session.commit()
