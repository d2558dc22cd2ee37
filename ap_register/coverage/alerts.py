"""Alerts: what a person must act on, with the statutory clocks counted in the LA's school days.

`findings(session, la, on)` works out, from the register alone, every alert that stands on a day;
it writes nothing, so it can be asked about any day. `raise_alerts` keeps the stored alerts in
step with the findings of a day: new findings are raised, findings that went away are resolved
by the register, and what people acknowledged or resolved is kept.

Kinds (README, What it does today: Alerts): sixth_day_provision, suspension_sixth_day, off_site_notice_late,
off_site_notice_incomplete,
planned_end_passed, review_overdue, part_time_timetable_open, below_full_time,
unregistered_checks_overdue, independent_school_threshold, review_requested. (budget_over_plan comes
with the budgets, provider_evidence_lapsed with the frameworks: commissioning/frameworks.py,
progress_report_overdue with the progress reports: commissioning/progress.py.)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.budgets.rules import over_plan
from ap_register.commissioning import frameworks, progress
from ap_register.coverage.rules import left_the_area, monday_of, week_coverage
from ap_register.coverage.sixth_day import SIXTH, Cover, Period, Suspension, shortfall, suspension_periods
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import among
from ap_register.domain.calendar import SchoolCalendar, calendar_for
from ap_register.domain.errors import CalendarUnknown, DomainError, FieldError, NotFound, Refusal
from ap_register.domain.vocab import MovementKind, Role, Route, SettingKind
from ap_register.models import Alert, LocalAuthority, Movement, Placement, Pupil, Referral, Setting, User
from ap_register.models.base import utcnow
from ap_register.panels.rules import FAIR_ACCESS_SCHOOL_DAYS, fair_access_allocated_on
from ap_register.placements import independent_school, notice
from ap_register.placements.roll import RollReading, read_roll, roll_movements
from ap_register.placements.rules import (
    OFF_SITE_NOTICE_SCHOOL_DAYS,
    REQUESTED_BY,
    REVIEWED_ROUTES,
    review_requested_and_not_held,
)
from ap_register.placements.settings import attendances_at, oversight_status

KINDS = {
    "sixth_day_provision": "No full-time provision from the sixth school day of a permanent exclusion",
    "suspension_sixth_day": "No full-time provision from the sixth school day of a suspension",
    "off_site_notice_late": "Off-site direction notice given late",
    "off_site_notice_incomplete": "Off-site direction notice not recorded in full",
    "review_requested": "Review of an off-site direction asked for and not held",
    "planned_end_passed": "Planned end date passed",
    "review_overdue": "Review overdue",
    "part_time_timetable_open": "Part-time timetable open too long",
    "below_full_time": "Below full time",
    "unregistered_checks_overdue": "Unregistered provider checks overdue",
    "independent_school_threshold": "Unregistered provider meets the independent-school test",
    "fair_access_deadline": "Fair access place not allocated within 20 school days of the LA's agreement",
    "budget_over_plan": "AP budget line over plan",
    "provider_evidence_lapsed": "Provider's evidence out of date",
    "absent_from_provision": "Not at alternative provision this morning",
    "progress_report_overdue": "Half-termly progress report overdue",
}
# Raised as they happen (coverage/absence.py), not found by the daily checks: the daily run leaves
# them as they are.
EVENT_KINDS = frozenset({"absent_from_provision"})
# Found from the week's coverage: left as they are in a week with no school days.
COVERAGE_KINDS = frozenset({"below_full_time"})
STATUSES = ("open", "acknowledged", "resolved")


@dataclass(frozen=True)
class Finding:
    kind: str
    key: str
    due: date
    message: str
    pupil: Pupil | None = None
    setting: Setting | None = None
    placement: Placement | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "upn": self.pupil.upn if self.pupil is not None else None,
            "setting_ref": self.setting.ref if self.setting is not None else None,
            "due": self.due.isoformat(),
            "message": self.message,
        }


def _d(day: date) -> str:
    return f"{day:%-d %B %Y}"


def _active_on(day: date) -> Any:
    return (Placement.start_date <= day) & or_(Placement.end_date.is_(None), Placement.end_date >= day)


def findings(session: Session, la: LocalAuthority, on: date) -> list[Finding]:
    """Every alert that stands on `on` for the LA's pupils and providers, by due date."""
    calendar = calendar_for(session, la)
    found: list[Finding] = []
    found += _sixth_day(session, la, on, calendar)
    placements = list(
        session.scalars(
            select(Placement)
            .join(Pupil, Placement.pupil_id == Pupil.id)
            .where(Pupil.home_la_id == la.id, Placement.start_date <= on + timedelta(days=60))
            .where(or_(Placement.end_date.is_(None), Placement.end_date >= on))
            .options(
                joinedload(Placement.pupil),
                joinedload(Placement.setting),
                selectinload(Placement.reviews),
                selectinload(Placement.review_requests),
            )
        )
    )
    found += _placement_findings(placements, la, on, calendar)
    found += _unregistered_checks(placements, on)
    found += _independent_school(session, la, on)
    found += _coverage(session, la, on)
    found += _fair_access(session, la, on, calendar)
    found += _budget(session, la, on)
    found += [
        Finding(
            "provider_evidence_lapsed",
            f"provider_evidence_lapsed:{lapse.provider.id}",
            lapse.due,
            lapse.message,
            setting=lapse.provider,
        )
        for lapse in frameworks.lapses(session, la, on)
    ]
    found += [
        Finding(
            "progress_report_overdue",
            f"progress_report_overdue:{w.agreement.id}:{w.period.start.isoformat()}",
            w.period.due,
            f"{w.agreement.placement.setting.name}'s progress report for the half term from {w.period.label} was "
            f"due on {_d(w.period.due)}.",
            pupil=w.agreement.placement.pupil,
            setting=w.agreement.placement.setting,
            placement=w.agreement.placement,
        )
        for w in progress.overdue(session, la, on)
    ]
    return sorted(found, key=lambda f: (f.due, f.kind, f.key))


def _sixth_day(session: Session, la: LocalAuthority, on: date, calendar: SchoolCalendar) -> list[Finding]:
    """The sixth-day duties (`coverage.sixth_day`): the LA's after a permanent exclusion, the
    school's from the sixth consecutive school day of a suspension. Each stands while a day of the
    duty in the last four school weeks had no full-time education, or, before the sixth day, while
    that day has none arranged."""
    # A year on, a child excluded and still without a school is the week's coverage's to flag.
    exclusions = _movements(session, la, MovementKind.PERMANENT_EXCLUSION, on, reach_days=365)
    suspended = _movements(session, la, MovementKind.SUSPENSION, on, reach_days=SUSPENSION_REACH_DAYS)
    if not exclusions and not suspended:
        return []
    pupil_ids = sorted({m.pupil_id for m in (*exclusions, *suspended)})
    covers: dict[int, list[Cover]] = defaultdict(list)
    for pupil_id, setting_id, start, end, sessions in session.execute(
        select(
            Placement.pupil_id, Placement.setting_id, Placement.start_date, Placement.end_date, Placement.sessions
        ).where(among(session, Placement.pupil_id, pupil_ids))
    ):
        covers[pupil_id].append(Cover(setting_id, start, end, sessions))
    readings = {pupil_id: read_roll(found) for pupil_id, found in roll_movements(session, pupil_ids).items()}
    for pupil_id, reading in readings.items():
        covers[pupil_id] += roll_covers(reading)
    roll_ids = {s for reading in readings.values() for _, s in reading.changes if s is not None}
    settings: dict[int | None, Setting] = {
        s.id: s for s in session.scalars(select(Setting).where(Setting.id.in_(roll_ids)))
    }
    settings.update({m.setting_id: m.setting for m in (*exclusions, *suspended) if m.setting is not None})
    gone = left_the_area(session, pupil_ids, on)
    result = []
    for exclusion in exclusions:
        if exclusion.pupil_id in gone:
            continue
        period = _exclusion_period(exclusion, readings.get(exclusion.pupil_id), settings, on, calendar)
        if period is not None:
            result += _duty_finding("sixth_day_provision", period, exclusion.pupil, exclusion, covers, on, calendar)
    by_pupil: dict[int, list[Movement]] = defaultdict(list)
    for movement in suspended:
        by_pupil[movement.pupil_id].append(movement)
    for movements in by_pupil.values():
        first_of = {m.id: m for m in movements}
        periods = suspension_periods([Suspension(m.id, m.setting_id, m.date, m.days or 1) for m in movements], calendar)
        for period in periods:
            first = first_of[int(period.key.rsplit(":", 1)[1])]
            result += _duty_finding("suspension_sixth_day", period, first.pupil, first, covers, on, calendar)
    return result


def roll_covers(reading: RollReading) -> list[Cover]:
    """Each spell on a school's roll as a full week there: a pupil a PRU (or a new school) has on
    its roll is taught there full time (the excluding school's own spell is set aside by the duty)."""
    spells = []
    for index, (start, setting_id) in enumerate(reading.changes):
        if setting_id is None:
            continue
        following = reading.changes[index + 1][0] if index + 1 < len(reading.changes) else None
        spells.append(Cover(setting_id, start, following - timedelta(days=1) if following else None, "1" * 10))
    return spells


# A suspension is at most 45 school days: a year's worth of calendar days reaches any still running.
SUSPENSION_REACH_DAYS = 120


def _movements(session: Session, la: LocalAuthority, kind: MovementKind, on: date, reach_days: int) -> list[Movement]:
    """The LA's pupils' movements of a kind dated in the `reach_days` up to `on`."""
    return list(
        session.scalars(
            select(Movement)
            .join(Pupil, Movement.pupil_id == Pupil.id)
            .where(
                Pupil.home_la_id == la.id,
                Movement.kind == kind,
                Movement.date <= on,
                Movement.date >= on - timedelta(days=reach_days),
            )
            .options(joinedload(Movement.pupil), joinedload(Movement.setting))
        )
    )


def _exclusion_period(
    exclusion: Movement,
    reading: RollReading | None,
    settings: dict[int | None, Setting],
    on: date,
    calendar: SchoolCalendar,
) -> Period | None:
    """The school days of the LA's duty after a permanent exclusion: from its first day to `on`
    (at least to the sixth day), ending the day before the pupil is reinstated or admitted to a
    school other than a pupil referral unit (s19(3A)(a) Education Act 1996)."""
    try:
        last = max(on, calendar.nth_school_day(exclusion.date, SIXTH))
    except CalendarUnknown:
        return None
    if calendar.known_to is not None:
        last = min(last, calendar.known_to)  # a holiday past the recorded term dates counts nothing
    if reading is not None:
        found = next((e for e in reading.exclusions if e.excluded_on == exclusion.date), None)
        if found is not None and found.reinstated_on is not None:
            last = min(last, found.reinstated_on - timedelta(days=1))
        for start, setting_id in reading.changes:
            setting = settings.get(setting_id)
            if (
                start > exclusion.date
                and setting_id is not None
                and (setting is None or setting.kind != SettingKind.PRU)
            ):
                last = min(last, start - timedelta(days=1))
                break
    if last < exclusion.date:
        return None
    try:
        days = calendar.school_days(exclusion.date, last)
    except CalendarUnknown:
        return None
    return Period(f"sixth_day_provision:{exclusion.id}", exclusion.setting_id, days)


def _duty_finding(
    kind: str,
    period: Period,
    pupil: Pupil,
    movement: Movement,
    covers: dict[int, list[Cover]],
    on: date,
    calendar: SchoolCalendar,
) -> list[Finding]:
    short = shortfall(period, covers[pupil.id], on, pupil.date_of_birth, pupil.exams_over_on, calendar)
    if short is None:
        return []
    school = movement.setting.name if movement.setting is not None else "school"
    if kind == "sixth_day_provision":
        what = f"Permanently excluded from {school} on {_d(period.school_days[0])}. The LA must provide"
    else:
        what = (
            f"Suspended from {school} from {_d(period.school_days[0])} for {len(period.school_days)} consecutive "
            f"school days. The school must provide"
        )
    duty = f"{what} full-time education from the sixth school day, {_d(short.sixth)}"
    if not short.missed:
        message = f"{duty}: nothing full-time is arranged for that day yet."
    else:
        count = len(short.missed)
        message = (
            f"{duty}: {count} school day{'s' if count != 1 else ''} of the duty in the last four school weeks "
            f"had no full-time education (from {_d(short.missed[0])}). One session a day does not meet it."
        )
    return [Finding(kind, period.key, short.sixth, message, pupil=pupil, setting=movement.setting)]


def _placement_findings(
    placements: list[Placement], la: LocalAuthority, on: date, calendar: SchoolCalendar
) -> list[Finding]:
    result = []
    for p in placements:
        where = p.setting.name
        if p.route == Route.OFF_SITE_DIRECTION and p.notice_date is not None:
            try:
                given = calendar.school_days_between(p.notice_date, p.start_date)
            except CalendarUnknown:
                given = OFF_SITE_NOTICE_SCHOOL_DAYS
            if given < OFF_SITE_NOTICE_SCHOOL_DAYS:
                result.append(
                    Finding(
                        "off_site_notice_late",
                        f"off_site_notice_late:{p.id}",
                        p.start_date,
                        f"Notice of the off-site direction to {where} was given {_d(p.notice_date)}, {given} school "
                        f"day{'s' if given != 1 else ''} before it starts on {_d(p.start_date)}: the law asks for at "
                        f"least {OFF_SITE_NOTICE_SCHOOL_DAYS}.",
                        pupil=p.pupil,
                        setting=p.setting,
                        placement=p,
                    )
                )
        gaps = p.notice_missing if not p.from_old_records else []
        if gaps:
            # The notice's contents (SI 2010/1156 reg 3(4)): the register makes the letter from them.
            result.append(
                Finding(
                    "off_site_notice_incomplete",
                    f"off_site_notice_incomplete:{p.id}",
                    p.start_date,
                    f"The written notice of the off-site direction to {where} from {_d(p.start_date)} is not "
                    f"recorded in full: it must state {'; '.join(gaps)} ({notice.SOURCE}).",
                    pupil=p.pupil,
                    setting=p.setting,
                    placement=p,
                )
            )
        if p.start_date > on:
            continue
        asked = review_requested_and_not_held(p) if p.route == Route.OFF_SITE_DIRECTION else None
        if asked is not None and asked.requested_on <= on:
            result.append(
                Finding(
                    "review_requested",
                    f"review_requested:{asked.id}",
                    asked.requested_on,
                    f"{REQUESTED_BY[asked.requested_by]} asked in writing on {_d(asked.requested_on)} for a review "
                    f"meeting of the off-site direction to {where}, and none has been held since: the governing body "
                    "must hold one as soon as reasonably practicable (SI 2010/1156 reg 4A).",
                    pupil=p.pupil,
                    setting=p.setting,
                    placement=p,
                )
            )
        if p.planned_end_date is not None and p.planned_end_date < on:
            result.append(
                Finding(
                    "planned_end_passed",
                    f"planned_end_passed:{p.id}:{p.planned_end_date.isoformat()}",
                    p.planned_end_date,
                    f"The placement at {where} was planned to end on {_d(p.planned_end_date)} and is still open: "
                    f"end it with its destination, or record a review that extends it.",
                    pupil=p.pupil,
                    setting=p.setting,
                    placement=p,
                )
            )
        if p.route in REVIEWED_ROUTES and p.next_review_date is not None and p.next_review_date < on:
            result.append(
                Finding(
                    "review_overdue",
                    f"review_overdue:{p.id}:{p.next_review_date.isoformat()}",
                    p.next_review_date,
                    f"The placement at {where} was due a review by {_d(p.next_review_date)} "
                    f"({la.name} reviews every {la.review_interval_school_days} school days).",
                    pupil=p.pupil,
                    setting=p.setting,
                    placement=p,
                )
            )
        if p.route == Route.PART_TIME_TIMETABLE:
            # The LA's limit counts from the start, or, once a review has extended the timetable,
            # from the end agreed before it (Working together to improve school attendance, 2024,
            # para 66: a time limit, reviewed with the pupil and parents; the length is local).
            extended = max((r.extended_from for r in p.reviews if r.extended_from is not None), default=None)
            counted_from = extended + timedelta(days=1) if extended is not None else p.start_date
            try:
                limit = calendar.nth_school_day(counted_from, la.part_time_timetable_max_school_days + 1)
            except CalendarUnknown:
                continue
            if limit <= on:
                since = (
                    f"since its agreed end of {_d(extended)} was extended" if extended else f"since {_d(p.start_date)}"
                )
                result.append(
                    Finding(
                        "part_time_timetable_open",
                        f"part_time_timetable_open:{p.id}" + (f":{counted_from.isoformat()}" if extended else ""),
                        limit,
                        f"A part-time timetable has run {since} past {la.name}'s limit of "
                        f"{la.part_time_timetable_max_school_days} school days: review it with the pupil and their "
                        "parents, or end it.",
                        pupil=p.pupil,
                        setting=p.setting,
                        placement=p,
                    )
                )
    return result


def _unregistered_checks(placements: list[Placement], on: date) -> list[Finding]:
    """An unregistered provider in use whose oversight record is incomplete or out of date."""
    in_use: dict[int, list[Placement]] = defaultdict(list)
    for p in placements:
        if p.setting.kind == SettingKind.UNREGISTERED_AP and p.start_date <= on:
            in_use[p.setting_id].append(p)
    result = []
    for used in in_use.values():
        setting = used[0].setting
        status = oversight_status(setting, on)
        if status.complete:
            continue
        due = min(p.start_date for p in used)
        result.append(
            Finding(
                "unregistered_checks_overdue",
                f"unregistered_checks_overdue:{setting.id}",
                due,
                f"{setting.name} teaches {len(used)} pupil{'s' if len(used) != 1 else ''} and its oversight record "
                f"needs attention: {'; '.join(status.problems)}.",
                setting=setting,
            )
        )
    return result


def _independent_school(session: Session, la: LocalAuthority, on: date) -> list[Finding]:
    """An unregistered provider in the LA's area, or teaching any of its pupils, that meets the
    independent-school test on the day (Education Act 1996 s463(1); `placements.independent_school`).
    Placements are refused when they would meet it, so this is found when something changes after
    (a pupil taken into care, an EHC plan made, a provider's kind changed) or in records from before."""
    providers = session.scalars(
        select(Setting)
        .where(Setting.kind == SettingKind.UNREGISTERED_AP)
        .where(
            or_(
                Setting.la_id == la.id,
                Setting.id.in_(
                    select(Placement.setting_id)
                    .join(Pupil, Placement.pupil_id == Pupil.id)
                    .where(Pupil.home_la_id == la.id, _active_on(on))
                ),
            )
        )
        .order_by(Setting.name)
    ).all()
    result = []
    for setting in providers:
        attendances = attendances_at(session, setting.id, since=on)
        reading = independent_school.reading_on(attendances, on)
        if not reading.met:
            continue
        # Due from the day the pupils it counts were all there: stable from day to day.
        due = max(a.start for a in attendances if a.pupil_id in reading.full_time and a.on(on))
        result.append(
            Finding(
                "independent_school_threshold",
                f"independent_school_threshold:{setting.id}",  # each LA keeps its own (unique per LA)
                due,
                f"{setting.name} is not a registered school but teaches {reading.describe()} "
                f"({independent_school.SOURCE}): it must register, or the pupils' provision must change.",
                setting=setting,
            )
        )
    return result


def _fair_access(session: Session, la: LocalAuthority, on: date, calendar: SchoolCalendar) -> list[Finding]:
    """Once the LA has agreed that a child will be considered under its fair access protocol, a
    school place must be allocated within 20 school days (School Admissions Code 2021 para 3.21):
    the panel's approval allocates it (or, where the LA places without a panel, the place's start)."""
    referrals = session.scalars(
        select(Referral)
        .where(
            Referral.la_id == la.id,
            Referral.move == "fair_access",
            Referral.status.in_(("submitted", "approved")),
            or_(Referral.fair_access_agreed_on <= on, Referral.submitted_on <= on),
        )
        .options(joinedload(Referral.pupil))
    ).all()
    result = []
    for referral in referrals:
        # Until the LA records its agreement, the days count from the referral: a child is never
        # left without a clock because a date was not entered.
        agreed = referral.fair_access_agreed_on or referral.submitted_on
        if agreed > on:
            continue
        try:
            due = calendar.add_school_days(agreed, FAIR_ACCESS_SCHOOL_DAYS)
        except CalendarUnknown:
            continue
        allocated = fair_access_allocated_on(referral)
        if allocated is None:
            allocated = session.scalar(
                select(func.min(Placement.start_date)).where(
                    Placement.pupil_id == referral.pupil_id,
                    Placement.route == Route.FAIR_ACCESS,
                    Placement.start_date >= agreed,
                )
            )
        if allocated is not None and allocated <= due:
            continue
        since = (
            f"The local authority agreed on {_d(agreed)} to consider {referral.pupil.full_name} under the fair access "
            "protocol"
            if referral.fair_access_agreed_on is not None
            else f"{referral.pupil.full_name} was referred for fair access on {_d(agreed)} (the local authority's "
            "agreement to consider them is not recorded, so the days count from the referral)"
        )
        if allocated is not None and allocated <= on:
            message = f"{since}; the place was allocated on {_d(allocated)}, after the 20 school days ({_d(due)})."
        else:
            message = f"{since}: a school place is due to be allocated by {_d(due)} (20 school days) and has not been."
        result.append(
            Finding(
                "fair_access_deadline",
                f"fair_access_deadline:{referral.id}",
                due,
                message,
                pupil=referral.pupil,
                setting=referral.proposed_setting,
            )
        )
    return result


def _budget(session: Session, la: LocalAuthority, on: date) -> list[Finding]:
    """Budget lines forecast over their commissioned places, and reserves overspent."""
    return [
        Finding("budget_over_plan", key, on, message, setting=line.provider if line is not None else None)
        for key, line, _, message in over_plan(session, la, on)
    ]


def _coverage(session: Session, la: LocalAuthority, on: date) -> list[Finding]:
    try:
        coverage = week_coverage(session, Actor.system(via="alerts"), la, monday_of(on))
    except CalendarUnknown:
        return []
    result = []
    for week in coverage.pupils:
        if "below_full_time" not in week.flags:
            continue
        first_gap = next(c.day for c in week.cells if c.required and not c.covered)
        result.append(
            Finding(
                "below_full_time",
                f"below_full_time:{week.pupil.id}",
                first_gap,
                f"{week.planned_sessions} of {coverage.required_sessions} sessions covered in the week of "
                f"{_d(coverage.week)}; no provision on {', '.join(week.gaps)}.",
                pupil=week.pupil,
            )
        )
    return result


def week_has_school_days(session: Session, la: LocalAuthority, on: date) -> bool:
    try:
        return bool(calendar_for(session, la).school_days(monday_of(on), monday_of(on) + timedelta(days=4)))
    except CalendarUnknown:
        return False


@dataclass
class RaiseResult:
    raised: int = 0
    still_open: int = 0
    resolved: int = 0


def raise_alerts(session: Session, la: LocalAuthority, on: date) -> RaiseResult:
    """Bring the stored alerts of the LA in step with the findings of `on`."""
    current = {f.key: f for f in findings(session, la, on)}
    stored = {
        a.key: a for a in session.scalars(select(Alert).where(Alert.la_id == la.id, Alert.kind.not_in(EVENT_KINDS)))
    }
    result = RaiseResult()
    term_time = week_has_school_days(session, la, on)
    for key, finding in current.items():
        alert = stored.get(key)
        if alert is None:
            session.add(
                Alert(
                    la_id=la.id,
                    kind=finding.kind,
                    key=key,
                    due=finding.due,
                    message=finding.message,
                    pupil_id=finding.pupil.id if finding.pupil else None,
                    setting_id=finding.setting.id if finding.setting else None,
                    placement_id=finding.placement.id if finding.placement else None,
                    last_found_on=on,
                    status="open",
                )
            )
            result.raised += 1
        else:
            alert.message, alert.due, alert.last_found_on = finding.message, finding.due, on
            if alert.status == "resolved" and alert.resolved_by_id is None:
                alert.status, alert.resolved_at, alert.resolution = "open", None, None  # it came back
            result.still_open += alert.status != "resolved"
    for key, alert in stored.items():
        if key in current or alert.status == "resolved" or alert.kind in EVENT_KINDS:
            continue
        if alert.kind in COVERAGE_KINDS and not term_time:
            continue
        alert.status, alert.resolved_at = "resolved", utcnow()
        alert.resolution = f"Resolved by the register on {_d(on)}: the check no longer finds it."
        result.resolved += 1
    session.flush()
    return result


def open_on(session: Session, la: LocalAuthority, on: date) -> list[Finding]:
    """The alerts open on a day: that day's findings, less those a person has resolved, and the
    alerts raised as they happened (a child absent from provision) by then and not yet resolved."""
    resolved_by_people = set(
        session.scalars(
            select(Alert.key).where(Alert.la_id == la.id, Alert.status == "resolved", Alert.resolved_by_id.is_not(None))
        )
    )
    happened = [
        Finding(a.kind, a.key, a.due, a.message, a.pupil, a.setting)
        for a in session.scalars(
            select(Alert)
            .where(Alert.la_id == la.id, Alert.kind.in_(EVENT_KINDS), Alert.due <= on, Alert.status != "resolved")
            .order_by(Alert.id)
        )
    ]
    return [f for f in findings(session, la, on) if f.key not in resolved_by_people] + happened


# --- people acting on alerts ----------------------------------------------------------------


def get_alert(session: Session, actor: Actor, alert_id: int) -> Alert:
    alert = session.scalar(permissions.scope_alerts(actor, select(Alert).where(Alert.id == alert_id)))
    if alert is None:
        raise NotFound("Page not found")
    return alert


MAX_NOTE = 2000


def acknowledge(session: Session, actor: Actor, alert: Alert, note: str = "") -> None:
    """Someone is dealing with it: who, when, and (if they say) what they are doing."""
    permissions.require(session, actor, "alerts.act")
    # Two people at once: the second waits for the first, then finds the alert no longer open.
    session.refresh(alert, with_for_update=True)
    if alert.status != "open":
        raise DomainError("Only an open alert can be acknowledged", [FieldError("note", "This alert is not open")])
    if len(note.strip()) > MAX_NOTE:
        too_long = FieldError("note", f"Keep the note to {MAX_NOTE:,} characters")
        raise DomainError("The alert was not acknowledged", [too_long])
    alert.status, alert.acknowledged_by_id, alert.acknowledged_at = "acknowledged", actor.user_id, utcnow()
    alert.acknowledgement_note = note.strip() or None
    session.flush()
    audit.record(session, actor, "acknowledge", "alert", alert.id, pupil_id=alert.pupil_id, detail={"kind": alert.kind})


def acknowledge_many(session: Session, actor: Actor, alerts: list[Alert], note: str = "") -> int:
    """Acknowledge several open alerts at once, with one note; returns how many. Refuses (and
    changes nothing) when none is chosen or one is no longer open."""
    if not alerts:
        raise DomainError("No alert was acknowledged", [FieldError("alerts", "Choose the alerts to acknowledge")])
    not_open = [a for a in alerts if a.status != "open"]
    if not_open:
        raise DomainError(
            "No alert was acknowledged",
            [FieldError("alerts", f"{len(not_open)} of the alerts chosen are no longer open: choose again")],
        )
    for alert in alerts:
        acknowledge(session, actor, alert, note)
    return len(alerts)


def owners(session: Session, actor: Actor) -> list[User]:
    """Who an alert can be given to: the actor's active colleagues who act on alerts."""
    acting = [role for role in Role if role in permissions.ACTIONS["alerts.act"]]
    return list(
        session.scalars(
            permissions.scope_colleagues(
                actor,
                select(User)
                .where(User.active.is_(True), User.kind == "person", User.role.in_(acting))
                .order_by(User.name),
            )
        )
    )


def assign(session: Session, actor: Actor, alert: Alert, owner: User | None, **why: Any) -> None:
    """Give the alert to a person to act on (None: to nobody); `why` joins the audit event's
    detail (a hand-over names who had it before)."""
    permissions.require(session, actor, "alerts.act")
    if owner is not None and owner.id not in {u.id for u in owners(session, actor)}:
        raise DomainError("The alert was not given", [FieldError("owner", "Choose someone who acts on alerts here")])
    if alert.status == "resolved":
        raise DomainError("The alert was not given", [FieldError("owner", "This alert is already resolved")])
    alert.assigned_to_id = owner.id if owner is not None else None
    session.flush()
    audit.record(
        session,
        actor,
        "assign",
        "alert",
        alert.id,
        pupil_id=alert.pupil_id,
        detail={"kind": alert.kind, "owner": owner.id if owner is not None else None, **why},
    )


def still_found(session: Session, alert: Alert, on: date) -> Finding | None:
    """The finding behind an alert, if the register's checks still find it on `on`."""
    return next((f for f in findings(session, alert.la, on) if f.key == alert.key), None)


def resolve(session: Session, actor: Actor, alert: Alert, note: str, today: date | None = None) -> None:
    """Close an alert with what was done. Refused while the checks still find what raised it: the
    register resolves it itself once that changes (acknowledge it meanwhile)."""
    permissions.require(session, actor, "alerts.act")
    session.refresh(alert, with_for_update=True)
    refusal = Refusal()
    if alert.status == "resolved":
        refusal.add("note", "This alert is already resolved")
    if len(note.strip()) < 10:
        refusal.add("note", "Say what was done, in at least 10 characters")
    refusal.raise_if_any("The alert was not resolved")
    day = today or clock.today()
    found = still_found(session, alert, day)
    if found is not None:
        refusal.add(
            "note",
            f"The register still finds this on {_d(day)}: {found.message.rstrip('.')}. It resolves the alert "
            "itself once that changes; acknowledge it meanwhile",
        )
    refusal.raise_if_any("The alert was not resolved")
    alert.status, alert.resolved_by_id, alert.resolved_at = "resolved", actor.user_id, utcnow()
    alert.resolution = note.strip()
    session.flush()
    audit.record(session, actor, "resolve", "alert", alert.id, pupil_id=alert.pupil_id, detail={"kind": alert.kind})


def user_name(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.name if user is not None else None
