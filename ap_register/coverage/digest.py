"""The daily attendance digest: each provider's registers for a day, sent to the pupils' home
schools and to the LA's attendance officers, so that nobody phones round to cross-check.

The digest itself is an inbox notification that carries counts only: how many of your pupils,
how many sessions attended, how many missed; its email (where the service has a mail server)
says only that it is there, like every email the register sends. The marks, with the children's
names, are read on the "Registers from providers" page, after signing in, where each view is
audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.coverage.attendance import code_class, counts_as_attendance
from ap_register.domain.actors import Actor
from ap_register.domain.notifications import notify
from ap_register.domain.vocab import Role
from ap_register.models import AttendanceMark, Notification, Pupil, Setting, User

KIND = "attendance_digest"
# Codes that mean no session was required (closures, not of compulsory school age): not missed.
NOT_MISSED_CLASSES = frozenset({"Management and legacy codes", "Not counted"})


def previous_weekday(on: date) -> date:
    day = on - timedelta(days=1)
    while day.weekday() > 4:
        day -= timedelta(days=1)
    return day


@dataclass
class Tally:
    pupils: set[int] = field(default_factory=set)
    attended: int = 0
    missed: int = 0
    unauthorised: int = 0

    def add(self, mark: AttendanceMark) -> None:
        self.pupils.add(mark.pupil_id)
        if counts_as_attendance(mark.code):
            self.attended += 1
        elif code_class(mark.code) not in NOT_MISSED_CLASSES:
            self.missed += 1
            if code_class(mark.code) == "Unauthorised":
                self.unauthorised += 1

    def text(self) -> str:
        pupils = len(self.pupils)
        return (
            f"{pupils} pupil{'s' if pupils != 1 else ''}: {self.attended} session{'s' if self.attended != 1 else ''} "
            f"attended, {self.missed} missed ({self.unauthorised} unauthorised)."
        )


def _link(provider: Setting, day: date) -> str:
    return f"/attendance/received?on={day.isoformat()}&provider={provider.id}"


def _already_sent(session: Session, user_ids: list[int], link: str) -> set[int]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.kind == KIND, Notification.link == link, Notification.user_id.in_(user_ids)
            )
        )
    )


def _send(session: Session, users: list[User], link: str, subject: str, body: str) -> int:
    done = _already_sent(session, [u.id for u in users], link)
    return notify(session, [u for u in users if u.id not in done], kind=KIND, subject=subject, body=body, link=link)


def send_digests(session: Session, on: date) -> dict[str, Any]:
    """Digests of the registers providers took on the weekday before `on` (sent once each)."""
    day = previous_weekday(on)
    marks = session.scalars(
        select(AttendanceMark)
        .where(AttendanceMark.date == day)
        .options(joinedload(AttendanceMark.pupil), joinedload(AttendanceMark.setting))
    ).all()
    by_school: dict[tuple[int, int], Tally] = defaultdict(Tally)
    by_la: dict[tuple[int, int], Tally] = defaultdict(Tally)
    for mark in marks:
        home = mark.pupil.home_school_id
        if home is not None and home != mark.setting_id:
            by_school[(mark.setting_id, home)].add(mark)
        by_la[(mark.setting_id, mark.pupil.home_la_id)].add(mark)
    sent = 0
    label = f"{day:%A} {day.day} {day:%B %Y}"
    for (provider_id, school_id), tally in by_school.items():
        provider = session.get(Setting, provider_id)
        assert provider is not None
        users = list(
            session.scalars(
                select(User).where(User.setting_id == school_id, User.active.is_(True), User.kind == "person")
            )
        )
        sent += _send(
            session,
            users,
            _link(provider, day),
            f"{provider.name}'s registers for {label}",
            f"Your pupils at {provider.name} on {label}: {tally.text()} Sign in to see each pupil's marks.",
        )
    for (provider_id, la_id), tally in by_la.items():
        provider = session.get(Setting, provider_id)
        assert provider is not None
        officers = list(
            session.scalars(
                select(User).where(
                    User.la_id == la_id,
                    User.role == Role.ATTENDANCE_OFFICER,
                    User.active.is_(True),
                    User.kind == "person",
                )
            )
        )
        sent += _send(
            session,
            officers,
            _link(provider, day),
            f"{provider.name}'s registers for {label}",
            f"Pupils of your area at {provider.name} on {label}: {tally.text()} Sign in to see each pupil's marks.",
        )
    return {"day": day.isoformat(), "marks": len(marks), "notifications": sent}


@dataclass
class ReceivedRow:
    pupil: Pupil
    provider: Setting
    am: str | None = None
    pm: str | None = None


def received(session: Session, actor: Actor, day: date, provider_id: int | None = None) -> list[ReceivedRow]:
    """The marks other settings recorded on a day for pupils this actor may see (not their own
    setting's registers), a row per pupil and provider. Each pupil shown is audited."""
    permissions.require(session, actor, "coverage.view")
    stmt = (
        select(AttendanceMark)
        .join(Pupil, AttendanceMark.pupil_id == Pupil.id)
        .where(AttendanceMark.date == day)
        .options(joinedload(AttendanceMark.pupil), joinedload(AttendanceMark.setting))
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
    )
    user = actor.user
    if user is not None and user.setting_id is not None:
        stmt = stmt.where(AttendanceMark.setting_id != user.setting_id)
    if user is not None and user.la_id is not None:
        stmt = stmt.where(Pupil.home_la_id == user.la_id)
    if provider_id is not None:
        stmt = stmt.where(AttendanceMark.setting_id == provider_id)
    rows: dict[tuple[int, int], ReceivedRow] = {}
    for mark in session.scalars(permissions.scope_by_pupil(actor, stmt, AttendanceMark.pupil_id)).unique():
        row = rows.setdefault((mark.pupil_id, mark.setting_id), ReceivedRow(mark.pupil, mark.setting))
        if mark.session == "AM":
            row.am = mark.code
        else:
            row.pm = mark.code
    for pupil_id in {key[0] for key in rows}:
        audit.record(
            session, actor, "view", "attendance_mark", None, pupil_id=pupil_id, detail={"date": day.isoformat()}
        )
    return list(rows.values())
