"""Same-day absence follow-up: a child missing from alternative provision this morning reaches
someone who acts today.

Children in AP are among the most at risk of harm; a provider's register that shows a child absent
must not wait for tomorrow's digest. On each of its school days, once the LA's time has come
(`LocalAuthority.absence_check_at`, 10:00 unless set; `absence_check_early_at`, 9:30, for a
looked-after child and for a child at an unregistered provider), the register looks at every child
of the LA expected that morning at a provider (a placement away from the home school that is
running that day and has the morning session in its pattern) and raises an `absent_from_provision`
alert when the provider's morning register

- marks the child absent without a reason: code N (reason not yet provided) or O (absent in other
  or unknown circumstances), the unauthorised codes that say nobody yet knows why (SI 2024/208
  reg 10 and the national codes); or
- marks nothing for the child by that time.

A provider may also record a child **sent home or leaving early** (`report_sent_home`), which
raises the same alert at once. The alert goes to the inbox of the child's home school, the LA's
attendance officers and the child's caseworker (by email too, where the service sends email; the
email only says there is something to read), with the alert's page showing the people around the
child and their numbers (casework/contacts.py: a contact under a restriction is shown as such,
and nobody may record an attempt to reach them).

Whoever reaches, or tries to reach, the family records each attempt on the alert
(`record_attempt`): when, how, who with, what came of it. Once the LA's escalation time has come
(`absence_escalate_at`, 13:30), an alert of that day on which nobody has yet reached anyone
(`REACHED`) goes to the LA's named officer (`absence_officer_id`; none named: its
administrators), once (`escalate`). A register corrected later in the morning (the child arrived,
or the provider learnt the reason) resolves an alert nobody has yet worked on.

Nothing here is a statutory duty of the register's own: first-day calling is schools' and
providers' practice, which the DfE's attendance guidance expects to be shared with the
commissioning school; the times are each LA's local choice, shown where they are set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.casework import caseloads, contacts, notes
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import calendar_for
from ap_register.domain.errors import CalendarUnknown, DomainError, FieldError, NotFound, Refusal
from ap_register.domain.notifications import notify
from ap_register.domain.text import kept_text
from ap_register.domain.vocab import AP_KINDS, LA_ROLES, Role, SettingKind
from ap_register.models import (
    Alert,
    AttendanceMark,
    ContactAttempt,
    LocalAuthority,
    Placement,
    Pupil,
    Setting,
    User,
)
from ap_register.models.base import utcnow
from ap_register.placements.rules import AT_HOME_SCHOOL

log = logging.getLogger(__name__)

KIND = "absent_from_provision"
# The morning codes that say the child is away and nobody yet knows why.
WITHOUT_A_REASON = frozenset({"N", "O"})
METHODS = {
    "phone": "Phone call",
    "text": "Text message",
    "email": "Email",
    "home_visit": "Home visit",
    "in_person": "In person",
}
OUTCOMES = {
    "reached": "Spoke to them: we know where the child is",
    "child_safe": "Saw or spoke to the child: they are safe",
    "no_answer": "No answer",
    "message_left": "Left a message",
    "wrong_details": "The number or address was wrong",
}
# An attempt that reached someone: no escalation after it.
REACHED = frozenset({"reached", "child_safe"})
MAX_NOTE = 1000
MAX_REASON = 400


@dataclass
class FollowUp:
    """What one run did."""

    raised: int = 0
    resolved: int = 0
    escalated: int = 0
    notified: int = 0
    keys: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "raised": self.raised,
            "resolved": self.resolved,
            "escalated": self.escalated,
            "notified": self.notified,
        }


def _key(pupil_id: int, setting_id: int, day: date, what: str = "am") -> str:
    return f"{KIND}:{pupil_id}:{setting_id}:{day.isoformat()}:{what}"


def deadline(la: LocalAuthority, pupil: Pupil, placement: Placement) -> time:
    """By when the morning register must show this child: earlier for a looked-after child and for
    a child at an unregistered provider."""
    early = pupil.looked_after or placement.setting.kind == SettingKind.UNREGISTERED_AP
    return la.absence_check_early_at if early else la.absence_check_at


def expected(session: Session, la: LocalAuthority, day: date, all_day: bool = False) -> list[Placement]:
    """The LA's children expected at a provider on `day`'s morning (`all_day`: in either session):
    placements at alternative provision (a PRU, an AP academy or free school, independent or
    unregistered AP, a hospital school) away from the home school, running that day, with the
    session in their weekly pattern."""
    morning = day.weekday() * 2
    if morning > 8:
        return []
    found = session.scalars(
        select(Placement)
        .join(Pupil, Pupil.id == Placement.pupil_id)
        .where(
            Pupil.home_la_id == la.id,
            Pupil.anonymised_on.is_(None),
            Placement.route.not_in(AT_HOME_SCHOOL),
            Placement.setting_id.in_(select(Setting.id).where(Setting.kind.in_(AP_KINDS))),
            Placement.start_date <= day,
            or_(Placement.end_date.is_(None), Placement.end_date >= day),
        )
        .options(joinedload(Placement.pupil), joinedload(Placement.setting))
        .order_by(Placement.id)
    )
    return [p for p in found if "1" in p.sessions[morning : morning + (2 if all_day else 1)]]


def _is_school_day(session: Session, la: LocalAuthority, day: date) -> bool:
    try:
        return calendar_for(session, la).is_school_day(day)
    except CalendarUnknown:
        return False  # no term dates recorded for the day: the register does not guess


def follow_up(session: Session, la: LocalAuthority, at: datetime) -> FollowUp:
    """Raise, resolve and escalate the LA's same-day absence alerts as of `at` (any timezone;
    compared on England's clock). Safe to run as often as wished: one alert per child, provider
    and morning, and one escalation each."""
    local = at.astimezone(clock.ENGLAND)
    day, now = local.date(), local.time()
    result = FollowUp()
    if not _is_school_day(session, la, day):
        return result
    placements = [p for p in expected(session, la, day) if now >= deadline(la, p.pupil, p)]
    marks = {
        (m.pupil_id, m.setting_id): m.code
        for m in session.scalars(
            select(AttendanceMark).where(
                AttendanceMark.date == day,
                AttendanceMark.session == "AM",
                AttendanceMark.pupil_id.in_({p.pupil_id for p in placements} or {0}),
            )
        )
    }
    stored = {
        a.key: a
        for a in session.scalars(select(Alert).where(Alert.la_id == la.id, Alert.kind == KIND, Alert.due == day))
    }
    for placement in placements:
        code = marks.get((placement.pupil_id, placement.setting_id))
        key = _key(placement.pupil_id, placement.setting_id, day)
        alert = stored.get(key)
        if code is None or code in WITHOUT_A_REASON:
            if alert is None:
                message = _message(placement, code, deadline(la, placement.pupil, placement))
                if _raise(session, la, placement.pupil, placement.setting_id, placement.id, key, local, message):
                    result.raised += 1
                    result.keys.append(key)
                    result.notified += _tell(session, la, placement.pupil, key)
        elif alert is not None and alert.status != "resolved":
            # The register was put right: the child came, or the provider knows why they are away.
            alert.status, alert.resolved_at = "resolved", utcnow()
            alert.resolution = f"Resolved by the register: the morning register now shows code {code}."
            result.resolved += 1
    result.escalated += escalate(session, la, day, local)
    session.flush()
    return result


def _message(placement: Placement, code: str | None, by: time) -> str:
    provider = placement.setting.name
    if code is None:
        return f"{provider} had not marked the morning register for this child by {by:%H:%M}."
    return f"{provider} marked this child absent this morning without a reason (code {code})."


def _raise(
    session: Session,
    la: LocalAuthority,
    pupil: Pupil,
    setting_id: int,
    placement_id: int | None,
    key: str,
    at: datetime,
    message: str,
) -> bool:
    """Store the alert, raised at `at`; False when another run stored it first (a second scheduler)."""
    day = at.astimezone(clock.ENGLAND).date()
    try:
        with session.begin_nested():
            session.add(
                Alert(
                    la_id=la.id, kind=KIND, key=key, due=day, message=message, pupil_id=pupil.id,
                    setting_id=setting_id, placement_id=placement_id, last_found_on=day, status="open", raised_at=at,
                )
            )  # fmt: skip
            session.flush()
    except IntegrityError:
        return False
    return True


def _tell(session: Session, la: LocalAuthority, pupil: Pupil, key: str) -> int:
    """The home school's people, the LA's attendance officers and the child's caseworker, in their
    inbox (and by email, where the service sends email), without the child's name."""
    alert = session.scalar(select(Alert).where(Alert.la_id == la.id, Alert.key == key))
    assert alert is not None
    people = list(
        session.scalars(
            select(User).where(
                User.active.is_(True),
                or_(
                    (User.setting_id == pupil.home_school_id) if pupil.home_school_id is not None else False,
                    (User.la_id == la.id) & (User.role == Role.ATTENDANCE_OFFICER),
                ),
            )
        )
    )
    worker = caseloads.caseworker_of(session, pupil)
    if worker is not None:
        people.append(worker)
    return notify(
        session,
        [u for u in people if permissions.role_allows(u, "alerts.act")],
        kind=KIND,
        subject="A pupil is not at their alternative provision this morning",
        body=(
            "A provider's morning register shows one of your pupils absent without a reason, or has not been "
            "marked. Open the alert to see who to contact, and record each attempt to reach the family."
        ),
        link=f"/alerts/{alert.id}",
        pupil_id=pupil.id,
    )


def attempts_on(session: Session, alert: Alert) -> list[ContactAttempt]:
    return list(
        session.scalars(select(ContactAttempt).where(ContactAttempt.alert_id == alert.id).order_by(ContactAttempt.id))
    )


def may_see_attempts(session: Session, actor: Actor, alert: Alert) -> bool:
    """Who was tried, and what they said, are the family's: for those who may read the child's
    contacts (not everyone who may see the alert: a panel member, a provider doing outreach)."""
    pupil = session.get(Pupil, alert.pupil_id) if alert.pupil_id is not None else None
    return pupil is not None and contacts.may_read(session, actor, pupil)


def escalate(session: Session, la: LocalAuthority, day: date, at: datetime) -> int:
    """Give each of the day's absence alerts that nobody has yet reached anyone about to the LA's
    named officer (none named, or no longer one who acts on alerts here: its administrators, or
    failing them its attendance officers, told in their inbox); once each. A morning's alerts go at
    the LA's escalation time; one raised later (a child sent home) after as long again as the
    morning allows (from the check to the escalation time)."""
    window = datetime.combine(day, la.absence_escalate_at) - datetime.combine(day, la.absence_check_at)
    waiting = session.scalars(
        select(Alert)
        .where(Alert.la_id == la.id, Alert.kind == KIND, Alert.due == day, Alert.escalated_at.is_(None))
        .where(Alert.status != "resolved")
        .with_for_update()
    ).all()
    reached = set(
        session.scalars(
            select(ContactAttempt.alert_id).where(
                ContactAttempt.alert_id.in_([a.id for a in waiting] or [0]), ContactAttempt.outcome.in_(REACHED)
            )
        )
    )
    due = [
        a
        for a in waiting
        if at >= max(datetime.combine(day, la.absence_escalate_at, tzinfo=clock.ENGLAND), a.raised_at + window)
        and a.id not in reached
    ]
    if not due:
        return 0
    officer = session.get(User, la.absence_officer_id) if la.absence_officer_id is not None else None
    if officer is not None and not (
        officer.active
        and officer.la_id == la.id
        and officer.kind == "person"
        and permissions.role_allows(officer, "alerts.act")
    ):
        officer = None  # left, moved, or no longer acts on alerts: the LA's administrators instead
    told = (
        [officer]
        if officer is not None
        else _la_people(session, la, Role.LA_ADMIN) or _la_people(session, la, Role.ATTENDANCE_OFFICER)
    )
    if not told:
        log.error("Absence alerts of LA %s are due to escalate and nobody there can be told", la.code)
    system = Actor.system(via="job", label="absence follow-up")
    for alert in due:
        alert.escalated_at = at
        if officer is not None:
            alert.assigned_to_id = officer.id
        audit.record(
            session, system, "escalate", "alert", alert.id, pupil_id=alert.pupil_id,
            detail={"kind": KIND, "to": officer.id if officer is not None else "la"},
        )  # fmt: skip
        notify(
            session,
            told,
            kind="absence_escalated",
            subject="Nobody has reached the family of a pupil absent from provision today",
            body=(
                "Nobody has recorded reaching the family of a pupil not at alternative provision today, in the time "
                "your local authority allows. The alert is now yours: open it to see who has been tried."
            ),
            link=f"/alerts/{alert.id}",
            pupil_id=alert.pupil_id,
        )
    return len(due)


def _la_people(session: Session, la: LocalAuthority, role: Role) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.la_id == la.id, User.role == role, User.active.is_(True), User.kind == "person")
        )
    )


def run(session: Session, at: datetime | None = None) -> dict[str, Any]:
    """The follow-up of every live LA (the scheduler's run, every few minutes)."""
    at = at or clock.now()
    total = FollowUp()
    for la in session.scalars(select(LocalAuthority).where(LocalAuthority.live.is_(True)).order_by(LocalAuthority.id)):
        done = follow_up(session, la, at)
        total.raised += done.raised
        total.resolved += done.resolved
        total.escalated += done.escalated
        total.notified += done.notified
    return total.as_json()


# --- people acting on an absence ---------------------------------------------------------------


@dataclass(frozen=True)
class AttemptDraft:
    contact_id: int | None
    method: str
    outcome: str
    note: str = ""


def record_attempt(session: Session, actor: Actor, alert_id: int, draft: AttemptDraft) -> ContactAttempt:
    """Record one attempt to reach the family (or the child) about an alert the actor may act on:
    a contact of the child they may read and who is under no restriction."""
    alert = session.scalar(permissions.scope_alerts(actor, select(Alert).where(Alert.id == alert_id)))
    if alert is None or alert.pupil_id is None or alert.kind != KIND:
        raise NotFound("Page not found")
    permissions.require(session, actor, "alerts.act")
    pupil = permissions.get_pupil(session, actor, alert.pupil_id)
    refusal = Refusal()
    shown = {p.contact.id: p for p in contacts.people_around(session, actor, pupil)}
    person = shown.get(draft.contact_id) if draft.contact_id is not None else None
    if person is None:
        refusal.add("contact", "Choose who you tried to reach")
    elif person.contact.restriction:
        refusal.add("contact", f"{person.contact.name} is under a restriction: {person.contact.restriction}")
    if draft.method not in METHODS:
        refusal.add("method", "Choose how you tried to reach them")
    if draft.outcome not in OUTCOMES:
        refusal.add("outcome", "Choose what came of it")
    note = kept_text(refusal, "note", "What happened", draft.note, MAX_NOTE, multiline=True)
    if alert.status == "resolved":
        refusal.add("", "This alert is resolved: nothing more is recorded on it")
    refusal.raise_if_any("The attempt was not recorded")
    assert person is not None
    user = actor.user
    attempt = ContactAttempt(
        alert_id=alert.id,
        pupil_id=pupil.id,
        made_by_id=actor.user_id,
        made_by_name=user.name if user is not None else actor.name,
        organisation=user.organisation_name if user is not None else "",
        contact_id=person.contact.id,
        contact_name=person.contact.name,
        method=draft.method,
        outcome=draft.outcome,
        note=note,
    )
    with session.begin_nested():
        session.refresh(alert, with_for_update=True)
        session.add(attempt)
        if draft.outcome in REACHED and alert.status == "open":
            alert.status, alert.acknowledged_by_id, alert.acknowledged_at = "acknowledged", actor.user_id, utcnow()
            alert.acknowledgement_note = "The family was reached (see the attempts recorded)"
        session.flush()
        audit.record(
            session, actor, "contact_attempt", "alert", alert.id, pupil_id=pupil.id,
            detail={"method": draft.method, "outcome": draft.outcome, "contact_role": person.contact.role},
        )  # fmt: skip
    return attempt


def _running(session: Session, pupil: Pupil, day: date) -> list[Placement]:
    return [p for p in expected(session, pupil.home_la, day, all_day=True) if p.pupil_id == pupil.id]


def placed_today(session: Session, actor: Actor, pupil: Pupil, day: date) -> list[Placement]:
    """The child's placements at AP running `day` that the actor may record a child sent home
    from: every one for the LA's officers, their own setting's for a provider."""
    user = actor.user
    running = _running(session, pupil, day)
    if user is None or user.role in LA_ROLES:
        return running
    return [p for p in running if p.setting_id == user.setting_id]


def report_sent_home(
    session: Session, actor: Actor, pupil_id: int, setting_id: int, at: datetime, reason: str
) -> Alert:
    """A provider records that a child was sent home or left early: the same alert, raised at once.
    Only the provider the child is placed with (or the LA's officers) may say so."""
    pupil = permissions.get_pupil(session, actor, pupil_id)
    permissions.require(session, actor, "absence.sent_home", pupil)
    local = at.astimezone(clock.ENGLAND)
    placement = next((p for p in _running(session, pupil, local.date()) if p.setting_id == setting_id), None)
    refusal = Refusal()
    if placement is None:
        refusal.add("setting", "The child is not expected at this provider today")
    elif placement not in placed_today(session, actor, pupil, local.date()):
        refusal.add("setting", "Only the provider the child is placed with records this")
    text = kept_text(refusal, "reason", "The reason", reason, MAX_REASON, multiline=True)
    if text is None:
        refusal.add("reason", "Say why they went home, and who they went with or who was told")
    if pupil.anonymised_on is not None:
        refusal.add("", "This child's record was anonymised")
    refusal.raise_if_any("It was not recorded")
    assert placement is not None
    la = pupil.home_la
    key = _key(pupil.id, setting_id, local.date(), f"sent_home:{local:%H%M}")
    # The alert's message goes wherever alerts are listed: the reason, which may say where the
    # child is and who with, is kept as a case note for those who work with the child.
    message = (
        f"{placement.setting.name} sent this child home, or they left, at {local:%H:%M}. "
        "The reason is in the child's case notes."
    )
    if not _raise(session, la, pupil, setting_id, placement.id, key, local, message):
        raise DomainError("It was not recorded", [FieldError("", "This was recorded a moment ago")])
    said = f"Sent home from {placement.setting.name}, or left, at {local:%H:%M}: {text}"
    notes.write(session, actor, pupil.id, notes.NoteDraft(local.date(), "attendance", said, "all"), today=local.date())
    _tell(session, la, pupil, key)
    alert = session.scalar(select(Alert).where(Alert.la_id == la.id, Alert.key == key))
    assert alert is not None
    audit.record(session, actor, "sent_home", "alert", alert.id, pupil_id=pupil.id, detail={"setting_id": setting_id})
    return alert


def contacts_for(session: Session, actor: Actor, alert: Alert) -> list[contacts.Person]:
    """The people around the child of an absence alert, as the actor may see them."""
    if alert.pupil_id is None:
        return []
    pupil = session.get(Pupil, alert.pupil_id)
    return contacts.people_around(session, actor, pupil) if pupil is not None else []


# --- the LA's settings -------------------------------------------------------------------------

EARLIEST, LATEST = time(7, 0), time(17, 0)


def parse_time(value: str) -> time | None:
    """ "9:30", "09:30" or "9.30" as a time of day; None when it is not one."""
    text = value.strip().replace(".", ":")
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        return None
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return time(int(hours), int(minutes))


def officers(session: Session, la: LocalAuthority) -> list[User]:
    """Who may be the LA's named officer for absences not followed up: its active officers who act
    on alerts."""
    acting = [r for r in LA_ROLES if r in permissions.ACTIONS["alerts.act"]]
    return list(
        session.scalars(
            select(User)
            .where(User.la_id == la.id, User.active.is_(True), User.kind == "person", User.role.in_(acting))
            .order_by(User.name)
        )
    )


def update_settings(
    session: Session,
    actor: Actor,
    la: LocalAuthority,
    *,
    check_at: str,
    check_early_at: str,
    escalate_at: str,
    officer_id: int | None,
) -> None:
    """The LA's times for the same-day follow-up, and its named officer: every problem at once."""
    permissions.require(session, actor, "admin.term_dates")
    refusal = Refusal()
    times: dict[str, time] = {}
    for name, value, label in (
        ("check_at", check_at, "the time the morning register must show the child"),
        ("check_early_at", check_early_at, "the earlier time"),
        ("escalate_at", escalate_at, "the time to escalate"),
    ):
        found = parse_time(value)
        if found is None:
            refusal.add(name, f"Enter {label} as hours and minutes, like 9:30 or 13:30")
        elif not EARLIEST <= found <= LATEST:
            refusal.add(name, f"Enter {label} between 7:00 and 17:00")
        else:
            times[name] = found
    if len(times) == 3:
        if times["check_early_at"] > times["check_at"]:
            refusal.add("check_early_at", "The earlier time must be no later than the usual time")
        if times["escalate_at"] <= times["check_at"]:
            refusal.add("escalate_at", "The time to escalate must be after the time the register is checked")
    officer = None
    if officer_id is not None:
        officer = next((u for u in officers(session, la) if u.id == officer_id), None)
        if officer is None:
            refusal.add("officer", "Choose one of your local authority's officers who act on alerts")
    refusal.raise_if_any("The settings were not saved")
    before = {
        "check_at": la.absence_check_at.isoformat(),
        "check_early_at": la.absence_check_early_at.isoformat(),
        "escalate_at": la.absence_escalate_at.isoformat(),
        "officer": la.absence_officer_id,
    }
    la.absence_check_at, la.absence_check_early_at = times["check_at"], times["check_early_at"]
    la.absence_escalate_at, la.absence_officer_id = times["escalate_at"], officer.id if officer else None
    session.flush()
    audit.record(session, actor, "update_absence_follow_up", "local_authority", la.id, detail={"before": before})
