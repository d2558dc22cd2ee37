"""Half-termly progress reports: the rules, in one place.

A placement called off under a framework is reviewed against its agreement's objectives: the DfE
expects each placement to have clear objectives agreed with the provider, its progress monitored
and reviewed (Alternative provision statutory guidance, DfE January 2013, paras 14-16), and
commissioner and provider to set review dates at least half-termly to monitor progress against
them (Arranging alternative provision: a guide for local authorities and schools, DfE February
2025). The register makes that a report per pupil for each half term, from the provider:

- A half term is one of the LA's term stretches (`TermDate`; the term-dates file keeps a stretch a
  half term). The agreement's half terms are those from its start to the placement's end in which
  the pupil has at least one school day under it.
- The provider may write a half term's report from `OPENS_DAYS` before it ends. It is due on the
  `DUE_SCHOOL_DAYS`th school day after the half term ends (the register's own rule, so the last
  week's registers are in); after that the LA is alerted (`progress_report_overdue`).
- Attendance is filled from the provider's registers, never typed: each session the agreement in
  force that day asked for, with the mark the provider gave it (DfE's classes of code: present or
  approved educational activity; authorised or unauthorised absence; a code that is not a
  possible session; or nothing marked). Sessions marked outside the agreement are not counted.
- Progress against each objective of the current version, on `RATINGS`, each with its evidence;
  the pupil's own voice; the next steps. A report is never changed once submitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.commissioning import agreements
from ap_register.commissioning.agreements import PARTIES
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import SchoolCalendar, calendar_for
from ap_register.domain.errors import CalendarUnknown, DomainError, FieldError, Forbidden, NotFound, Refusal
from ap_register.domain.notifications import notify
from ap_register.domain.reference_data import attendance_code_classes, attendance_codes
from ap_register.domain.text import kept_text
from ap_register.domain.vocab import Role
from ap_register.models import (
    AgreementVersion,
    AttendanceMark,
    LocalAuthority,
    Placement,
    PlacementAgreement,
    ProgressReport,
    Pupil,
    TermDate,
    User,
)

RATINGS = {
    "not_started": "Not yet started",
    "some": "Some progress",
    "good": "Good progress",
    "achieved": "Achieved",
}
OPENS_DAYS = 14  # the report may be written in the half term's last fortnight
EVIDENCE_MAX = 2000  # characters of evidence for an objective
TEXT_MAX = 3000  # of the pupil's voice, and of the next steps
DUE_SCHOOL_DAYS = 5  # and is due on the fifth school day after it ends
CHASED_DAYS = 365  # an overdue report is alerted on for a year after it was due
STATES = {
    "submitted": "Submitted",
    "not_yet": "Not open yet",
    "open": "Due",
    "overdue": "Overdue",
}


@dataclass(frozen=True)
class Period:
    """One half term of an agreement: its number (from 1, the first half term the agreement is
    reported on), the half term's dates, the days it counts (the agreement's start and the
    placement's end inside it), when its report opens and is due (None: not known until the LA
    records its next term dates), and the report when submitted."""

    number: int
    start: date
    end: date
    first: date
    last: date
    opens: date
    due: date | None
    report: ProgressReport | None

    def state(self, on: date) -> str:
        if self.report is not None:
            return "submitted"
        if on < self.opens:
            return "not_yet"
        return "open" if self.due is None or on <= self.due else "overdue"

    def writable(self, on: date) -> bool:
        """Whether its report may be written on `on` (by its provider)."""
        return self.state(on) in ("open", "overdue")

    @property
    def label(self) -> str:
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}"


def _due(calendar: SchoolCalendar, end: date) -> date | None:
    """The DUE_SCHOOL_DAYSth school day after the half term; None while the LA's next term dates
    are not recorded (the calendar does not guess, so neither does the due date)."""
    try:
        return calendar.add_school_days(end, DUE_SCHOOL_DAYS)
    except CalendarUnknown:
        return None


def _in_force_from(version: AgreementVersion) -> date | None:
    """The day a version came into force: its start date, or the day its last party accepted it
    if that is later (None: not yet accepted by every party). A change is never in force before
    it starts, nor before everyone accepted it (a change dated back pays from its acceptance)."""
    signed = {s.party: s.signed_on for s in version.signatures}
    if set(signed) != set(PARTIES):
        return None
    return max(*signed.values(), version.starts_on)


def version_on(agreement: PlacementAgreement, day: date) -> AgreementVersion:
    """The version in force on a day: the latest that every party (the school, the provider, the
    parent) had accepted by then and that had started; before any, the first (the call-off's own
    terms). A change one party alone has made counts for nothing until the others accept it."""
    found = agreement.versions[0]
    for version in agreement.versions[1:]:
        since = _in_force_from(version)
        if since is not None and since <= day:
            found = version
    return found


def _reported(reports: Sequence[ProgressReport], start: date, end: date) -> ProgressReport | None:
    """The report that covers a half term: one whose dates overlap it (a half term whose first day
    the LA later corrects, or a child whose record moves to another LA's term dates, keeps its
    report)."""
    return next((r for r in reports if r.period_start <= end and r.period_end >= start), None)


def _periods(
    agreement: PlacementAgreement,
    stretches: Sequence[tuple[date, date]],
    calendar: SchoolCalendar,
    reports: Sequence[ProgressReport],
) -> list[Period]:
    """The half terms reported on: from the first that ends on or after the call-off (a placement
    called off late is not reported on for half terms before it) and the agreement's start, to the
    placement's end; each with a school day under the agreement."""
    placement = agreement.placement
    begins = max(agreement.versions[0].starts_on, placement.start_date)
    ends = placement.end_date
    result: list[Period] = []
    for start, end in sorted(stretches):
        if end < begins or end < agreement.called_off_on or (ends is not None and start > ends):
            continue
        first, last = max(start, begins), min(end, ends) if ends is not None else end
        try:
            if not calendar.count(first, last):
                continue
        except CalendarUnknown:
            continue
        result.append(
            Period(
                number=len(result) + 1,
                start=start,
                end=end,
                first=first,
                last=last,
                opens=max(end - timedelta(days=OPENS_DAYS), first),
                due=_due(calendar, end),
                report=_reported(reports, start, end),
            )
        )
    return result


def _stretches(session: Session, la_id: int) -> list[tuple[date, date]]:
    return [
        (start, end)
        for start, end in session.execute(
            select(TermDate.start_date, TermDate.end_date).where(TermDate.la_id == la_id).order_by(TermDate.start_date)
        )
    ]


def periods(session: Session, agreement: PlacementAgreement) -> list[Period]:
    """Every half term of the agreement, first to last (those still to come included)."""
    la = agreement.placement.pupil.home_la
    reports = list(session.scalars(select(ProgressReport).where(ProgressReport.agreement_id == agreement.id)))
    return _periods(agreement, _stretches(session, la.id), calendar_for(session, la), reports)


def shown_periods(session: Session, agreement: PlacementAgreement, on: date) -> list[Period]:
    """The half terms begun by `on`, newest first: what the agreement's page lists."""
    return [p for p in reversed(periods(session, agreement)) if p.start <= on]


def no_half_terms(session: Session, agreement: PlacementAgreement, on: date) -> str:
    """Why an agreement has no half term to report on yet: its first has not begun, or the LA's
    term dates do not reach today (then nothing is due until they are recorded)."""
    la = agreement.placement.pupil.home_la
    if not calendar_for(session, la).covers(on):
        return (
            f"{la.name}'s term dates are not recorded for {on:%-d %B %Y}: no report is due until its "
            "administrators record them"
        )
    return "The agreement's first half term has not begun."


def period(session: Session, agreement: PlacementAgreement, number: int) -> Period:
    found = next((p for p in periods(session, agreement) if p.number == number), None)
    if found is None:
        raise NotFound("Page not found")
    return found


# --- attendance, from the registers ---------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    """The sessions the agreement asked for from `first` to `last`, by what the register shows."""

    agreed: int
    attended: int
    authorised: int
    unauthorised: int
    not_counted: int
    unmarked: int

    @property
    def possible(self) -> int:
        """The sessions that count as possible ones (DfE): all agreed, less those not counted."""
        return self.agreed - self.not_counted

    @property
    def share(self) -> float | None:
        """Attended, as a percentage of the possible sessions (None when there were none)."""
        return round(100 * self.attended / self.possible, 1) if self.possible else None


@dataclass(frozen=True)
class AgreedSession:
    """One session the agreement in force that day asked for, with the provider's mark for it
    (None: not marked) and its class: attended, authorised, unauthorised, not_counted (a code
    that is not a possible session) or unmarked."""

    day: date
    half: str
    code: str | None
    meaning: str
    kind: str
    version: AgreementVersion


def agreed_sessions(
    session: Session, agreement: PlacementAgreement, first: date, last: date, la: LocalAuthority | None = None
) -> list[AgreedSession]:
    """The agreement's sessions from `first` to `last` (school days only: `la`'s, or the child's
    home LA's), each with the provider's mark for it: the sessions the version in force that day
    agreed. Marks outside the agreement, or at another setting, are not among them."""
    placement = agreement.placement
    calendar = calendar_for(session, la or placement.pupil.home_la)
    marks = {
        (day, half): code
        for day, half, code in session.execute(
            select(AttendanceMark.date, AttendanceMark.session, AttendanceMark.code).where(
                AttendanceMark.pupil_id == placement.pupil_id,
                AttendanceMark.setting_id == placement.setting_id,
                AttendanceMark.date >= first,
                AttendanceMark.date <= last,
            )
        )
    }
    classes = attendance_code_classes()
    codes = attendance_codes()
    try:
        days = calendar.school_days(first, last) if first <= last else []
    except CalendarUnknown:
        days = []
    found = []
    for day in days:
        version = version_on(agreement, day)
        for offset, half in enumerate(("AM", "PM")):
            if version.sessions[2 * day.weekday() + offset] != "1":
                continue
            code = marks.get((day, half))
            info = codes.get(code or "")
            klass = classes.get(code or "")
            if code is None:
                kind = "unmarked"
            elif info is None or not info.counts_in_possible_sessions:
                kind = "not_counted"
            elif klass is not None and klass.status == "Attendance":
                kind = "attended"
            elif klass is not None and klass.type == "Unauthorised":
                kind = "unauthorised"
            else:
                kind = "authorised"
            found.append(AgreedSession(day, half, code, info.meaning if info else "", kind, version))
    return found


def attendance(session: Session, agreement: PlacementAgreement, first: date, last: date) -> Attendance:
    """The agreement's sessions from `first` to `last` (school days only), each counted by the
    provider's mark for it: the session the version in force that day agreed."""
    tally = {"agreed": 0, "attended": 0, "authorised": 0, "unauthorised": 0, "not_counted": 0, "unmarked": 0}
    for found in agreed_sessions(session, agreement, first, last):
        tally["agreed"] += 1
        tally[found.kind] += 1
    return Attendance(**tally)


def counted_from(report: ProgressReport) -> date:
    """The first day a report's attendance counts: its half term's, or the agreement's start."""
    agreement = report.agreement
    return max(report.period_start, agreement.versions[0].starts_on, agreement.placement.start_date)


def kept_attendance(report: ProgressReport) -> Attendance:
    """The attendance as the report kept it when it was submitted."""
    return Attendance(
        agreed=report.sessions_agreed,
        attended=report.sessions_attended,
        authorised=report.sessions_authorised,
        unauthorised=report.sessions_unauthorised,
        not_counted=report.sessions_not_counted,
        unmarked=report.sessions_unmarked,
    )


# --- writing a report -----------------------------------------------------------------------


def may_report(session: Session, actor: Actor, agreement: PlacementAgreement) -> bool:
    """The provider's own AP head writes its reports."""
    return permissions.can(session, actor, "progress.report", agreement.placement)


@dataclass
class Answer:
    """Progress against one objective, as typed."""

    rating: str | None
    evidence: str | None


def reported_against(agreement: PlacementAgreement, found: Period, today: date) -> AgreementVersion:
    """The version whose objectives a half term's report scores: the one in force on the last day
    it counts."""
    return version_on(agreement, min(found.last, today))


def submit(
    session: Session,
    actor: Actor,
    agreement: PlacementAgreement,
    number: int,
    answers: Sequence[Answer],
    *,
    pupil_voice: str | None,
    next_steps: str | None,
    today: date,
    half_term: date | None = None,
    version_number: int | None = None,
) -> ProgressReport:
    """The provider's report for the agreement's `number`th half term, as the form showed it: the
    half term starting on `half_term`, the objectives of version `version_number` (either changed
    meanwhile: refused, so nothing is scored against what the writer did not see). Refused before
    the report opens, and for a half term reported on already (two at once: the second waits for
    the first, then finds it)."""
    if not may_report(session, actor, agreement):
        raise Forbidden("You do not have permission to do this")
    session.refresh(agreement, with_for_update=True)
    found = period(session, agreement, number)
    refusal = Refusal()
    if found.report is not None:
        refusal.add("pupil_voice", f"The report for the half term from {found.label} was submitted already")
        refusal.raise_if_any("The report was not submitted")
    if half_term is not None and half_term != found.start:
        refusal.add("pupil_voice", "The local authority's term dates changed while you wrote: open the report again")
        refusal.raise_if_any("The report was not submitted")
    if today < found.opens:
        refusal.add("pupil_voice", f"The report for this half term can be written from {found.opens:%-d %B %Y}")
        refusal.raise_if_any("The report was not submitted")
    version = reported_against(agreement, found, today)
    if version_number is not None and version_number != version.number:
        refusal.add(
            "pupil_voice",
            f"The agreement changed while you wrote: the report is now against version {version.number}'s objectives. "
            "Open the report again",
        )
        refusal.raise_if_any("The report was not submitted")
    progress = []
    for n, objective in enumerate(version.objectives, start=1):
        answer = answers[n - 1] if n <= len(answers) else Answer(None, None)
        if answer.rating not in RATINGS:
            refusal.add(f"rating_{n}", f"Choose the progress made towards objective {n}")
        evidence = kept_text(refusal, f"evidence_{n}", f"The evidence for objective {n}", answer.evidence,
                             EVIDENCE_MAX, multiline=True)  # fmt: skip
        if evidence is None and not any(e.field == f"evidence_{n}" for e in refusal.errors):
            refusal.add(f"evidence_{n}", f"Enter the evidence of progress towards objective {n}")
        progress.append({**objective, "rating": answer.rating or "", "evidence": evidence or ""})
    voice = kept_text(refusal, "pupil_voice", "The pupil's voice", pupil_voice, TEXT_MAX, multiline=True)
    if voice is None and not any(e.field == "pupil_voice" for e in refusal.errors):
        refusal.add("pupil_voice", "Enter what the pupil says about their progress, in their own words")
    steps = kept_text(refusal, "next_steps", "Next steps", next_steps, TEXT_MAX, multiline=True)
    if steps is None and not any(e.field == "next_steps" for e in refusal.errors):
        refusal.add("next_steps", "Enter the next steps")
    refusal.raise_if_any("The report was not submitted")
    counted_to = min(found.last, today)
    counted = attendance(session, agreement, found.first, counted_to)
    report = ProgressReport(
        agreement_id=agreement.id,
        version_id=version.id,
        period_start=found.start,
        period_end=found.end,
        counted_to=counted_to,
        sessions_agreed=counted.agreed,
        sessions_attended=counted.attended,
        sessions_authorised=counted.authorised,
        sessions_unauthorised=counted.unauthorised,
        sessions_not_counted=counted.not_counted,
        sessions_unmarked=counted.unmarked,
        progress=progress,
        pupil_voice=voice,
        next_steps=steps,
        submitted_by_id=actor.user_id,
        submitted_by_name=agreements.who(actor),
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        raise DomainError(
            "The report was not submitted",
            [FieldError("pupil_voice", f"The report for the half term from {found.label} was submitted already")],
        ) from None
    _tell_the_readers(session, report, found)
    audit.record(
        session,
        actor,
        "submit",
        "progress_report",
        report.id,
        pupil_id=agreement.placement.pupil_id,
        detail={"agreement_id": agreement.id, "half_term": found.start.isoformat()},
    )
    return report


def _tell_the_readers(session: Session, report: ProgressReport, found: Period) -> None:
    """The home school's leads and the child's caseworker find the report in their inbox (its
    words stay on the report's page, read through its scope)."""
    from ap_register.casework.caseloads import caseworker_of

    placement = report.agreement.placement
    readers = list(
        session.scalars(
            select(User).where(
                User.role == Role.SCHOOL_LEAD,
                User.setting_id == placement.home_school_id,
                User.setting_id.is_not(None),
            )
        )
    )
    caseworker = caseworker_of(session, placement.pupil)
    notify(
        session,
        [*readers, *([caseworker] if caseworker is not None else [])],
        kind="progress_report",
        subject=f"{placement.setting.name} has sent a progress report",
        body=f"The provider's report for the half term from {found.label} is ready to read.",
        link=f"/commissioning/reports/{report.id}",
        pupil_id=placement.pupil_id,
    )


# --- reading ----------------------------------------------------------------------------------


def get_report(session: Session, actor: Actor, report_id: int) -> ProgressReport:
    """A report, to those who read its agreement (the home LA's officers, the home school and the
    provider) and the home LA's panel members; not found for anyone else."""
    found = session.scalar(
        permissions.scope_progress_reports(actor, select(ProgressReport).where(ProgressReport.id == report_id))
    )
    if found is None:
        raise NotFound("Page not found")
    return found


def of_pupil(session: Session, actor: Actor, pupil: Pupil) -> list[ProgressReport]:
    """The pupil's reports the actor may read, newest half term first: for the child's page, the
    panels' and the reviews' evidence of progress towards reintegration."""
    return list(
        session.scalars(
            permissions.scope_progress_reports(actor, select(ProgressReport))
            .join(PlacementAgreement, ProgressReport.agreement_id == PlacementAgreement.id)
            .join(Placement, PlacementAgreement.placement_id == Placement.id)
            .where(Placement.pupil_id == pupil.id)
            .options(selectinload(ProgressReport.agreement).selectinload(PlacementAgreement.placement))
            .order_by(ProgressReport.period_start.desc(), ProgressReport.id.desc())
        )
    )


def of_placement(session: Session, actor: Actor, placement: Placement) -> list[ProgressReport]:
    return [r for r in of_pupil(session, actor, placement.pupil) if r.agreement.placement_id == placement.id]


REMOVED = "Removed under the retention policy"


def forget(session: Session, pupil: Pupil) -> None:
    """Anonymising a child's record removes what their reports say (their figures stay)."""
    for report in of_pupil(session, Actor.system("retention"), pupil):
        report.pupil_voice = report.next_steps = REMOVED
        report.progress = [
            {**p, "objective": REMOVED, "measure": REMOVED, "evidence": REMOVED} for p in report.progress
        ]


def summary(report: ProgressReport) -> str:
    """A report in a line: its attendance and each objective's rating (its words stay on its page)."""
    kept = kept_attendance(report)
    ratings = ", ".join(f"objective {n} {rating.lower()}" for n, (_, rating, _) in enumerate(rated(report), start=1))
    return f"attended {kept.attended} of {kept.possible} possible sessions; {ratings}"


def rated(report: ProgressReport) -> list[tuple[str, str, str]]:
    """(objective, rating's words, evidence) for each objective the report scored."""
    return [(p["objective"], RATINGS.get(p["rating"], p["rating"]), p["evidence"]) for p in report.progress]


@dataclass(frozen=True)
class Waiting:
    """A report not yet submitted: its agreement and half term, and whether the reader writes it."""

    agreement: PlacementAgreement
    period: Period
    writes: bool = False


def waiting(session: Session, agreements: Sequence[PlacementAgreement], on: date) -> list[Waiting]:
    """The reports open or overdue on `on` for these agreements, the longest overdue first (those
    whose due day is not known yet last). Each LA's term dates and each agreement's reports are
    read once."""
    if not agreements:
        return []
    reports: dict[int, list[ProgressReport]] = {a.id: [] for a in agreements}
    for report in session.scalars(
        select(ProgressReport).where(ProgressReport.agreement_id.in_([a.id for a in agreements]))
    ):
        reports[report.agreement_id].append(report)
    stretches: dict[int, list[tuple[date, date]]] = {}
    result = []
    for agreement in agreements:
        la = agreement.placement.pupil.home_la
        if la.id not in stretches:
            stretches[la.id] = _stretches(session, la.id)
        for found in _periods(agreement, stretches[la.id], calendar_for(session, la), reports[agreement.id]):
            if found.writable(on):
                result.append(Waiting(agreement, found))
    return sorted(result, key=lambda w: (w.period.due or date.max, w.agreement.id))


def _agreements_of_la(session: Session, la: LocalAuthority) -> list[PlacementAgreement]:
    return _loaded(
        session,
        select(PlacementAgreement)
        .join(Placement, PlacementAgreement.placement_id == Placement.id)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(Pupil.home_la_id == la.id),
    )


def _loaded(session: Session, stmt: Select[Any]) -> list[PlacementAgreement]:
    """The agreements, with what their half terms and a list of them read (versions, the child,
    the provider)."""
    return list(
        session.scalars(
            stmt.options(
                selectinload(PlacementAgreement.versions).selectinload(AgreementVersion.signatures),
                selectinload(PlacementAgreement.placement).selectinload(Placement.pupil),
                selectinload(PlacementAgreement.placement).selectinload(Placement.setting),
            ).order_by(PlacementAgreement.id)
        )
    )


def overdue(session: Session, la: LocalAuthority, on: date) -> list[Waiting]:
    """The reports overdue on `on` for the LA's children: the alert `progress_report_overdue`.
    A report is chased for CHASED_DAYS after it was due (a placement long ended is not alerted
    on for ever), and never for a child whose record is anonymised."""
    return [
        w
        for w in waiting(session, _agreements_of_la(session, la), on)
        if w.period.state(on) == "overdue"
        and w.period.due is not None
        and (on - w.period.due).days <= CHASED_DAYS
        and w.agreement.placement.pupil.anonymised_on is None
    ]


def to_write(session: Session, actor: Actor, on: date) -> list[Waiting]:
    """The reports open or overdue among the agreements the actor reads: a provider's head, those
    it writes; the LA and the school, those they wait for."""
    found = waiting(session, _loaded(session, permissions.scope_agreements(actor, select(PlacementAgreement))), on)
    user = actor.user
    if user is None or not permissions.role_allows(user, "progress.report"):
        return found
    # A provider's head writes its own provider's reports: a PRU that is a child's home school
    # reads the agreement of a placement elsewhere, and does not write its report.
    return [Waiting(w.agreement, w.period, writes=True) for w in found if may_report(session, actor, w.agreement)]
