"""The register: placements and the movement ledger.

Every change to a placement or to a pupil's roll is written as a movement in the same
transaction, so a placement is always the view of its movements: the details of a
placement's latest movement are exactly the placement (see `ledger_mismatches`). Nothing
here commits; the caller owns the transaction.

Every write to a pupil's ledger holds the pupil first (`hold_ledger`) and checks what it is
asked to do only then, against the ledger as it is: two requests for the same pupil at once
(a double click, a retried API call, two people) take turns, and the second is refused as
already recorded instead of writing the same movement twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.budgets.rules import capacity_problem
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import SchoolCalendar, calendar_for
from ap_register.domain.errors import CalendarUnknown, DomainError, FieldError, Forbidden, Refusal
from ap_register.domain.notifications import notify
from ap_register.domain.pupils import has_turned, of_compulsory_school_age
from ap_register.domain.vocab import (
    ALWAYS_TIME_LIMITED,
    AP_KINDS,
    DESTINATION_LABELS,
    EXCLUSION_PROCESS_KINDS,
    HOME_SCHOOL_KINDS,
    LA_ROUTES,
    MOVEMENT_KIND_LABELS,
    PART_TIME_PURPOSES,
    REGISTERED_SCHOOL_KINDS,
    ROLL_MOVEMENT_KINDS,
    ROUTE_LABELS,
    Destination,
    HomeSchoolCode,
    MovementKind,
    Registration,
    Route,
    SenStatus,
    SettingKind,
    Tier,
)
from ap_register.models import (
    Decision,
    LocalAuthority,
    Movement,
    Placement,
    PlacementReview,
    Pupil,
    ReviewRequest,
    Setting,
)
from ap_register.placements import independent_school, notice
from ap_register.placements.adoption import OLD_RECORDS_NOTE, before_adoption, old_record_allowed
from ap_register.placements.notice import NoticeContents, contents_of
from ap_register.placements.notice import missing as notice_missing
from ap_register.placements.pupils import NewPupils
from ap_register.placements.reads import Reads, hold_ledgers
from ap_register.placements.roll import RollReading, exclusion_step_problem, reading_of, refresh_roll
from ap_register.placements.settings import attendance_of, attendances_at

# Statutory: written notice at least 2 school days before an off-site direction starts.
OFF_SITE_NOTICE_SCHOOL_DAYS = 2
# A requested review of an off-site direction is not required when one was held in the 10 weeks
# before the request (SI 2010/1156 reg 4A(4), inserted by SI 2012/2532).
REVIEW_REQUEST_WEEKS = 10
REVIEW_REQUEST_WINDOW = timedelta(weeks=REVIEW_REQUEST_WEEKS)
REQUESTED_BY = {"parent": "The parent (or the pupil, at 18)", "la": "The local authority that maintains the EHC plan"}
# Routes delivered by the pupil's own school of main registration.
AT_HOME_SCHOOL = frozenset({Route.HOME_SCHOOL, Route.PART_TIME_TIMETABLE})
# Routes under which the pupil stays on the home school's roll while educated elsewhere.
STAYS_ON_HOME_ROLL = frozenset({Route.OFF_SITE_DIRECTION, Route.SCHOOL_ARRANGED, Route.SUSPENSION_PROVISION})
# Placements reviewed against a personalised plan. A place at a new school (fair access, a school
# named in an EHC plan, a managed move, which is permanent) and the home school's own sessions are not.
REVIEWED_ROUTES = frozenset(Route) - {Route.HOME_SCHOOL, Route.FAIR_ACCESS, Route.EHCP_NAMED, Route.MANAGED_MOVE}
MIN_OVERRIDE_REASON = 20
FAIR_ACCESS_EHCP_REFUSAL = (
    "{name} has an EHC plan, so is admitted to the school the plan names (Children and Families Act 2014 s43), not "
    "placed through the fair access protocol (School Admissions Code 2021 para 3.17)"
)


@dataclass
class PlacementDraft:
    """What someone asks the register to record. Validated by `assess_placement`."""

    setting_id: int
    route: Route
    registration: Registration
    sessions: str
    start_date: date
    tier: Tier | None = None
    planned_end_date: date | None = None
    notice_date: date | None = None
    last_review_date: date | None = None
    reason: str | None = None
    commissioner_la_id: int | None = None
    commissioner_setting_id: int | None = None
    unregistered_override_reason: str | None = None
    reintegration_plan: str | None = None
    destination_plan: str | None = None
    destination_setting_id: int | None = None
    converted_from_id: int | None = None
    spot_purchase: bool = False
    agreed_cost: Decimal | None = None
    spot_reason: str | None = None
    parent_agreed_on: date | None = None
    part_time_purpose: str | None = None
    # An off-site direction's written notice (`placements.notice`).
    notice_address: str | None = None
    notice_report_to: str | None = None
    notice_session_times: str | None = None
    notice_reasons: str | None = None
    la_notice_date: date | None = None

    @property
    def notice_contents(self) -> NoticeContents:
        return contents_of(self)


@dataclass
class Assessment:
    """The register's view of a draft: errors stop it; warnings are shown and recorded."""

    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    home_school_code: HomeSchoolCode | None = None
    # The school whose roll the pupil is on at the start, as the assessment read the ledger.
    home_school: Setting | None = None

    # The placement started before the LA adopted the register (`placements.adoption`).
    old_record: bool = False

    def error(self, field_name: str, message: str) -> None:
        self.errors.append(FieldError(field_name, message))

    def needed(self, field_name: str, message: str) -> None:
        """A record the register asks of every new placement: a placement from the LA's old
        records is taken without it, with a warning."""
        if self.old_record:
            self.warnings.append(f"{message} ({OLD_RECORDS_NOTE})")
        else:
            self.error(field_name, message)


def home_school_code(route: Route, registration: Registration, has_home_school: bool) -> HomeSchoolCode | None:
    """The code the school of main registration records for sessions at this placement.

    D where the pupil is dual registered at the other school, B for approved off-site education
    the school arranged that is not at another school, K for education the LA arranged (under
    s19 or an EHC plan), C2 for a part-time timetable; none where the pupil has no home school,
    or this placement is the home school's own.
    """
    if not has_home_school or route == Route.HOME_SCHOOL:
        return None
    if route == Route.PART_TIME_TIMETABLE:
        return HomeSchoolCode.C2
    if registration == Registration.DUAL:
        return HomeSchoolCode.D
    if registration == Registration.NONE:
        # K: provision the LA arranges under s19(1) Education Act 1996 or s42(2) or 61(1) Children
        # and Families Act 2014 (an EHC plan's provision, including education otherwise than at
        # school) (SI 2024/208 reg 10(3), Table 2).
        return HomeSchoolCode.K if route in LA_ROUTES or route == Route.EHCP_NAMED else HomeSchoolCode.B
    return None


def _assess_independent_school(
    session: Session,
    result: Assessment,
    pupil: Pupil,
    draft: PlacementDraft,
    setting: Setting,
    exclude_placement_id: int | None,
) -> None:
    """Refuse a placement that would make an unregistered provider an independent school: full-time
    education for 5 or more pupils of compulsory school age, or for one who is looked after or has
    an EHC plan (Education Act 1996 s463(1); `placements.independent_school`). There is no override:
    conducting an unregistered independent school is an offence (Education and Skills Act 2008 s96)."""
    others = attendances_at(session, setting.id, since=draft.start_date, exclude_placement_id=exclude_placement_id)
    this = attendance_of(pupil, draft.start_date, draft.planned_end_date, draft.sessions)
    met = independent_school.first_met([*others, this], draft.start_date, draft.planned_end_date)
    if met is not None and this.pupil_id in met.full_time:
        # Refused with no override; a placement from the LA's old records is history, and the
        # daily checks raise the finding instead.
        result.needed(
            "sessions",
            f"{setting.name} is not a registered school. With {pupil.full_name} there full time it would teach "
            f"{met.describe()} from {met.day:%-d %B %Y}, and an institution that does must be registered as an "
            f"independent school ({independent_school.SOURCE}). Arrange fewer than "
            f"{independent_school.FULL_TIME_SESSIONS} sessions a week there, or a place at a registered school",
        )
    elif met is not None:
        result.warnings.append(
            f"{setting.name} already meets the independent-school test from {met.day:%-d %B %Y} ({met.describe()}): "
            "it must register as a school, and the local authority is alerted"
        )


def _assess_part_time(result: Assessment, draft: PlacementDraft) -> None:
    """A part-time timetable: only in very exceptional circumstances, in the pupil's best interests
    and never to manage behaviour; agreed with the parents; for the shortest time, with a time
    limit (Working together to improve school attendance, 2024, paras 65 and 66)."""
    if draft.planned_end_date is None:
        result.needed("planned_end_date", "A part-time timetable is time-limited: enter its planned end")
    if week_pattern.count(draft.sessions) == 10:
        result.error("sessions", "A part-time timetable has fewer than 10 sessions")
    if draft.parent_agreed_on is None:
        result.needed(
            "parent_agreed_on", "A part-time timetable needs the parent's agreement: enter the day the parent agreed"
        )
    elif draft.parent_agreed_on > draft.start_date:
        result.error("parent_agreed_on", "The parent must agree before the part-time timetable starts")
    if draft.part_time_purpose is None and result.old_record:
        result.needed("part_time_purpose", "Choose what the part-time timetable is for")
    elif draft.part_time_purpose not in PART_TIME_PURPOSES:
        result.error(
            "part_time_purpose",
            "Choose what the part-time timetable is for: it is never a way to manage a pupil's behaviour",
        )


def only_registration(route: Route) -> Registration | None:
    """The one registration a route allows, where it allows one (`assess_placement` refuses the
    others): a form may choose it for the person."""
    if route == Route.MANAGED_MOVE:
        return Registration.SOLE
    if route == Route.OFF_SITE_DIRECTION:
        return Registration.DUAL
    return None


# An off-site direction to one of these may end in a managed move.
MANAGED_MOVE_KINDS = frozenset({SettingKind.MAINSTREAM, SettingKind.SPECIAL})


def may_end_in_a_managed_move(placement: Placement) -> bool:
    """An open off-site direction to another mainstream or special school: the schools and the
    family may agree that it ends in a managed move (suspension and permanent exclusion guidance,
    in force from 26 July 2026: a managed move has no trial; a period first is an off-site direction)."""
    return (
        placement.route == Route.OFF_SITE_DIRECTION
        and placement.end_date is None
        and placement.setting.kind in MANAGED_MOVE_KINDS
    )


def in_tiers(kind: SettingKind, route: Route) -> bool:
    """Whether a placement at a setting of this kind, on this route, is in the three tiers of AP
    (so has a tier: time-limited or transitional). A pupil's own school's sessions, a part-time
    timetable there and a managed move to another school are not AP placements."""
    return kind in AP_KINDS and route not in AT_HOME_SCHOOL and route != Route.MANAGED_MOVE


def commissioner_for(pupil: Pupil, route: Route) -> tuple[int | None, int | None]:
    """Who commissions a placement when nobody names another: (LA id, setting id). The LA for
    its own routes (s19 placements, a school named in an EHC plan, a fair access allocation) and
    for a pupil on no school's roll; otherwise the home school, which arranges it and tells the
    LA (Arranging alternative provision, DfE 2025)."""
    if route in LA_ROUTES or route in (Route.EHCP_NAMED, Route.FAIR_ACCESS) or pupil.home_school_id is None:
        return pupil.home_la_id, None
    return None, pupil.home_school_id


# An agreed cost is pounds for the placement: from £1 to £1,000,000 (no AP placement costs more).
LEAST_SPOT_COST = Decimal(1)
MOST_SPOT_COST = Decimal(1_000_000)


def la_pays_for(pupil: Pupil, route: Route) -> bool:
    """Whether the LA commissions a placement on this route when nobody names who does."""
    return commissioner_for(pupil, route)[0] is not None


def paid_by_la(pupil: Pupil, draft: PlacementDraft) -> bool:
    """Whether the LA commissions this placement (`commissioner_for`, unless the draft names
    who does), and so pays for it: only then may it be paid outside the LA's budget plan."""
    return with_commissioner(pupil, draft).commissioner_la_id is not None


def spot_purchase_problems(
    spot_purchase: bool, agreed_cost: Decimal | None, reason: str | None, *, la_pays: bool = True
) -> list[FieldError]:
    """A placement paid outside the budget plan records its agreed cost and why; only one the LA
    commissions is paid outside the LA's plan."""
    if not spot_purchase:
        return []
    if not la_pays:
        return [
            FieldError(
                "spot_purchase",
                "The school commissions this placement: only the local authority pays for a place outside its plan",
            )
        ]
    problems = []
    if agreed_cost is None or not agreed_cost.is_finite() or not LEAST_SPOT_COST <= agreed_cost <= MOST_SPOT_COST:
        problems.append(
            FieldError("agreed_cost", f"Enter the agreed cost of the spot purchase, from £1 to £{MOST_SPOT_COST:,}")
        )
    if not (reason or "").strip():
        problems.append(FieldError("spot_reason", "Say why the placement is paid outside the plan"))
    return problems


def school_on(session: Session, pupil: Pupil, day: date, reading: RollReading | None = None) -> Setting | None:
    """The school whose roll the pupil is on at `day`, by the ledger (`placements.roll`)."""
    if pupil.id is None:
        return pupil.home_school
    held = (reading or reading_of(session, pupil)).on(day, pupil.home_school_id)
    if held == pupil.home_school_id:
        return pupil.home_school
    return session.get(Setting, held) if held is not None else None


# What a placement that a move replaces records as its destination, by the kind of the new school.
REPLACED_DESTINATIONS = {
    SettingKind.MAINSTREAM: Destination.NEW_MAINSTREAM_SCHOOL,
    SettingKind.SPECIAL: Destination.SPECIAL_SCHOOL,
}


def moves_roll(draft: PlacementDraft, home: Setting | None) -> bool:
    """Whether this placement takes the pupil onto another school's roll alone: sole registration
    at a setting other than the school whose roll they are on at its start (or on none)."""
    return (
        draft.registration == Registration.SOLE
        and draft.route not in AT_HOME_SCHOOL
        and (home is None or home.id != draft.setting_id)
    )


def replaced_by(
    session: Session, pupil: Pupil, draft: PlacementDraft, home: Setting | None, reads: Reads | None = None
) -> list[Placement]:
    """The arrangements a move onto another school's roll replaces: every placement of the pupil
    that began before the move and is still open on its first day. Registered at the new school
    alone, the pupil's name leaves the old school's admission register (SI 2024/208 reg 9(1)(a)),
    and with it goes what was arranged for a pupil of that school or for a child with no school
    place: an off-site direction is the governing board's power over its own pupils (Education
    Act 2002 s29A(1)), the LA's provision under s19 was for a child without suitable education.
    The new school, or the LA, arranges anew what the child still needs. Each ends the day before
    the move starts, so the child is never counted at two schools for one session."""
    if pupil.id is None or not moves_roll(draft, home):
        return []
    return [
        p
        for p in (reads or Reads(session)).placements(pupil)
        if p.start_date < draft.start_date and (p.end_date is None or p.end_date >= draft.start_date)
    ]


def replaced_note(setting: Setting, start: date) -> str:
    return f"Replaced by sole registration at {setting.name} from {start:%-d %B %Y}"


def _calendar(session: Session, pupil: Pupil) -> SchoolCalendar:
    return calendar_for(session, pupil.home_la)


def assess_for(session: Session, actor: Actor, pupil: Pupil, draft: PlacementDraft) -> Assessment:
    """The check an actor's draft gets: a placement from the LA's old records (`old_record_allowed`)
    only when this actor may bring such records in."""
    old_record = old_record_allowed(session, actor, pupil.home_la, draft.start_date)
    return assess_placement(session, pupil, draft, old_record=old_record)


def assess_placement(
    session: Session,
    pupil: Pupil,
    draft: PlacementDraft,
    *,
    calendar: SchoolCalendar | None = None,
    exclude_placement_id: int | None = None,
    old_record: bool = False,
    reads: Reads | None = None,
) -> Assessment:
    """Check a draft placement for coherence of route, registration, setting kind and tier,
    dates, sessions and the statutory notice, without writing anything. `old_record`: it comes
    from the LA's old records (`old_record_allowed`), so the records only the register asks of
    new placements are warnings, not refusals. `reads`: where the child's roll and placements
    are read (`placements.reads`)."""
    result = Assessment()
    reads = reads or Reads(session)
    setting = session.get(Setting, draft.setting_id)
    if setting is None:
        result.error("setting", "Choose a setting")
        return result
    la: LocalAuthority = pupil.home_la
    result.old_record = old_record
    route, registration, tier = draft.route, draft.registration, draft.tier
    reading = reads.reading(pupil)
    home = result.home_school = school_on(session, pupil, draft.start_date, reading)
    calendar = calendar or _calendar(session, pupil)

    # Sessions.
    problem = week_pattern.problem(draft.sessions)
    if problem:
        result.error("sessions", problem)
    elif week_pattern.count(draft.sessions) == 0:
        result.error("sessions", "Choose at least one session")

    # Route and the pupil's roll.
    if route in AT_HOME_SCHOOL:
        if home is None:
            result.error("route", f"{pupil.full_name} is not on a school's roll, so has no home school provision")
        elif setting.id != home.id:
            result.error("setting", f"{ROUTE_LABELS[route]} is at the home school, {home.name}")
    if route in STAYS_ON_HOME_ROLL or route == Route.MANAGED_MOVE:
        if home is None:
            result.error(
                "route", f"{ROUTE_LABELS[route]} is for a pupil on a school's roll; {pupil.full_name} is on none"
            )
        elif setting.id == home.id:
            result.error("setting", "Choose a setting other than the home school")
    if route == Route.MANAGED_MOVE and setting.kind not in MANAGED_MOVE_KINDS:
        result.error("setting", "A managed move is to another mainstream or special school")
    if route == Route.EHCP_NAMED and pupil.sen_status != SenStatus.EHCP:
        result.error("route", f"{pupil.full_name} has no EHC plan recorded, so no placement can be named in one")
    if route == Route.FAIR_ACCESS and setting.kind not in HOME_SCHOOL_KINDS:
        result.error("setting", "A fair access allocation is a place at a school")
    if route == Route.FAIR_ACCESS and pupil.sen_status == SenStatus.EHCP:
        result.error("route", FAIR_ACCESS_EHCP_REFUSAL.format(name=pupil.full_name))

    # Registration by route: the code the home school records follows from it, so a combination
    # the regulations do not allow is refused, never given a wrong code.
    if route == Route.OFF_SITE_DIRECTION:
        # Always a second registration at the receiving setting, code D at home (Working together
        # to improve school attendance (2024), code D; Education Act 2002 s29A).
        if setting.kind not in REGISTERED_SCHOOL_KINDS:
            result.error(
                "setting",
                f"An off-site direction is to a school where the pupil is dual registered: {setting.name} is not a "
                "registered school (for provision there, the school arranges it: other school-arranged AP, code B)",
            )
        elif registration != Registration.DUAL:
            result.error(
                "registration",
                "An off-site direction is always dual registration at the receiving setting (code D at the home "
                "school): choose dual registration",
            )
    elif route in STAYS_ON_HOME_ROLL and registration == Registration.NONE and setting.kind in REGISTERED_SCHOOL_KINDS:
        # Code B is approved off-site educational activity that is not at another school (SI 2024/208
        # reg 10(3), Table 2): a pupil the school sends to another school is dual registered there.
        result.error(
            "registration",
            f"{setting.name} is a school: a pupil educated at another school is dual registered there (code D at "
            "the home school); not registered (code B) is for off-site activity that is not at a school",
        )
    if route == Route.PART_TIME_TIMETABLE and not of_compulsory_school_age(pupil.date_of_birth, draft.start_date):
        # Code C2 is leave for a pupil of compulsory school age (SI 2024/208 reg 11(6)(a)).
        result.error(
            "route",
            f"A part-time timetable (code C2) is for a pupil of compulsory school age: {pupil.full_name} is not, "
            f"on {draft.start_date:%-d %B %Y}",
        )

    # Registration and the setting.
    if (
        registration in (Registration.DUAL, Registration.SOLE)
        and setting.kind not in REGISTERED_SCHOOL_KINDS
        and route != Route.OFF_SITE_DIRECTION
    ):
        result.error(
            "registration",
            f"{setting.name} is not a registered school, so a pupil cannot be on its roll: choose not registered",
        )
    if registration == Registration.DUAL:
        if route not in AT_HOME_SCHOOL and (home is None or home.id == setting.id):
            result.error("registration", "Dual registration needs a school of main registration elsewhere")
    if registration == Registration.SOLE and route in STAYS_ON_HOME_ROLL - {Route.OFF_SITE_DIRECTION}:
        result.error(
            "registration",
            "Under this route the pupil stays on the home school's roll: choose dual registration or not registered",
        )
    if registration == Registration.SOLE and route not in AT_HOME_SCHOOL and home is not None:
        # A permanently excluded pupil stays on the excluding school's roll until the exclusion
        # is over (`placements.roll`): a place elsewhere is a second registration until then.
        exclusion = reading.open_exclusion(draft.start_date)
        if exclusion is not None and exclusion.setting_id == home.id:
            result.error(
                "registration",
                f"{pupil.full_name} stays on {home.name}'s roll until the permanent exclusion is over: "
                "choose dual registration until then",
            )
    if route == Route.MANAGED_MOVE:
        # A managed move is a permanent transfer agreed by all parties, with no trial: the pupil is
        # admitted to the new school and leaves the old one's roll. A period at the other school
        # first is an off-site direction, which may end in a managed move (suspension and
        # permanent exclusion guidance, in force from 26 July 2026).
        if registration != Registration.SOLE:
            result.error(
                "registration",
                "A managed move is a permanent move: the pupil joins the new school's roll and leaves this one's "
                "(sole registration). For a period at the other school first, record an off-site direction, which "
                "may end in a managed move",
            )
        if draft.planned_end_date is not None:
            result.error("planned_end_date", "A managed move is permanent: it has no planned end")
    if route in AT_HOME_SCHOOL and registration == Registration.NONE:
        result.error("registration", "The pupil is on the home school's roll: choose sole or dual registration")
    if (
        registration == Registration.SOLE
        and route not in AT_HOME_SCHOOL
        and home is not None
        and home.id != setting.id
        and not result.errors
    ):
        result.warnings.append(
            f"{pupil.full_name} will leave {home.name}'s roll and be registered only at {setting.name}"
        )

    # Tier: only AP placements are in the three tiers.
    tiered = in_tiers(setting.kind, route)
    if tiered and tier is None:
        result.error("tier", "Choose the tier: time-limited or transitional")
    if not tiered and tier is not None:
        result.error("tier", "Only placements in alternative provision have a tier: leave it blank")
    if route in ALWAYS_TIME_LIMITED and tier == Tier.TRANSITIONAL:
        result.error("tier", "This route is time-limited: the pupil returns to the home school")

    # Unregistered providers: part-time only, unless a reasoned override is recorded.
    if setting.kind == SettingKind.UNREGISTERED_AP and not week_pattern.problem(draft.sessions):
        cap = la.unregistered_session_cap
        over = week_pattern.count(draft.sessions) > cap or week_pattern.days_attended(draft.sessions) > 2
        reason = (draft.unregistered_override_reason or "").strip()
        if over and len(reason) < MIN_OVERRIDE_REASON:
            result.needed(
                "unregistered_override_reason",
                f"An unregistered provider is part-time only (no more than {cap} sessions or 2 days a week, "
                f"{la.name}'s setting): record why this pupil needs more, in at least {MIN_OVERRIDE_REASON} characters",
            )
        elif over:
            result.warnings.append(f"Over the unregistered provider cap of {cap} sessions, with a recorded reason")
        if not setting.safeguarding_checks_confirmed:
            result.warnings.append(f"{setting.name} has no written confirmation of staff safeguarding checks recorded")
        _assess_independent_school(session, result, pupil, draft, setting, exclude_placement_id)

    # Dates.
    if draft.planned_end_date is not None and draft.planned_end_date < draft.start_date:
        result.error("planned_end_date", "The planned end must be on or after the start")
    if draft.notice_date is not None and draft.notice_date > draft.start_date:
        result.error("notice_date", "Notice must be given on or before the start")
    if draft.last_review_date is not None and draft.last_review_date < draft.start_date:
        result.error("last_review_date", "A review cannot be before the placement starts")
    if route == Route.PART_TIME_TIMETABLE:
        _assess_part_time(result, draft)
    if route == Route.OFF_SITE_DIRECTION:
        _assess_off_site(result, pupil, draft, calendar, la)

    # A time-limited placement is planned to end, and says how the pupil goes back (Arranging
    # alternative provision, DfE 2025: placements have a personalised plan, reviewed regularly).
    if tier == Tier.TIME_LIMITED:
        if draft.planned_end_date is None:
            result.needed("planned_end_date", "A time-limited placement needs its planned end")
        if not (draft.reintegration_plan or "").strip():
            result.needed("reintegration_plan", "A time-limited placement needs a reintegration plan")
    if tier == Tier.TRANSITIONAL and not ((draft.destination_plan or "").strip() or draft.destination_setting_id):
        result.warnings.append("A transitional placement should have a destination plan: a named school or post-16")

    if not result.errors:
        result.home_school_code = home_school_code(route, registration, home is not None)
        replaced = replaced_by(session, pupil, draft, home, reads)
        the_day_before = draft.start_date - timedelta(days=1)
        result.warnings.extend(
            f"The placement at {p.setting.name} ends on {the_day_before:%-d %B %Y}: this move replaces it"
            for p in replaced
        )
        result.warnings.extend(
            _overlaps(
                reads.placements(pupil),
                draft,
                {p.id for p in replaced} | ({exclude_placement_id} if exclude_placement_id is not None else set()),
            )
        )
    return result


def _assess_off_site(
    result: Assessment, pupil: Pupil, draft: PlacementDraft, calendar: SchoolCalendar, la: LocalAuthority
) -> None:
    if draft.notice_date is None:
        result.needed("notice_date", "Enter the date written notice was given to the parents")
        return
    try:
        given = calendar.school_days_between(draft.notice_date, draft.start_date)
    except CalendarUnknown as error:
        result.warnings.append(f"The notice period cannot be checked: {error.message}")
    else:
        if given < OFF_SITE_NOTICE_SCHOOL_DAYS:
            result.warnings.append(
                f"Notice was given {given} school day{'s' if given != 1 else ''} before the start: "
                f"the law asks for at least {OFF_SITE_NOTICE_SCHOOL_DAYS}"
            )
    problem = notice.la_notice_problem(draft.la_notice_date, clock.today())
    if problem:
        result.error("la_notice_date", problem)
    gaps = notice_missing(
        draft.notice_contents, has_ehc_plan=pupil.sen_status == SenStatus.EHCP, notice_date=draft.notice_date
    )
    if gaps and not result.old_record:
        result.warnings.append(
            f"The written notice must also state {'; '.join(gaps)} ({notice.SOURCE}): record what it said on the "
            "placement's notice page, which makes the letter"
        )
    if la.off_site_max_school_days and draft.planned_end_date is not None:
        try:
            length = calendar.count(draft.start_date, draft.planned_end_date)
        except CalendarUnknown:
            return
        if length > la.off_site_max_school_days:
            result.warnings.append(
                f"The planned direction lasts {length} school days, over {la.name}'s agreed maximum of "
                f"{la.off_site_max_school_days}"
            )


def _overlaps(placements: list[Placement], draft: PlacementDraft, excluded: set[int]) -> list[str]:
    """Sessions this draft shares with the pupil's other `placements` (but the `excluded`) over the same dates."""
    if week_pattern.problem(draft.sessions):
        return []
    end = draft.planned_end_date
    overlapping = [
        p
        for p in placements
        if (p.end_date is None or p.end_date >= draft.start_date)
        and (end is None or p.start_date <= end)
        and p.id not in excluded
    ]
    warnings = []
    for other in sorted(overlapping, key=lambda p: p.id):
        shared = [
            label
            for label, mine, theirs in zip(week_pattern.LABELS, draft.sessions, other.sessions, strict=True)
            if mine == theirs == "1"
        ]
        if shared:
            warnings.append(f"Overlaps {other.setting.name} on {', '.join(shared)}")
    return warnings


# --- the ledger ----------------------------------------------------------------------------


def snapshot(placement: Placement) -> dict[str, Any]:
    """Every recorded field of a placement, as plain JSON values."""

    def value(v: Any) -> Any:
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        return getattr(v, "value", v)

    return {name: value(getattr(placement, name)) for name in SNAPSHOT_FIELDS}


SNAPSHOT_FIELDS = (
    "setting_id",
    "route",
    "tier",
    "registration",
    "home_school_id",
    "home_school_code",
    "sessions",
    "start_date",
    "planned_end_date",
    "notice_date",
    "last_review_date",
    "next_review_date",
    "end_date",
    "destination",
    "reason",
    "end_reason",
    "commissioner_la_id",
    "commissioner_setting_id",
    "unregistered_override_reason",
    "reintegration_plan",
    "destination_plan",
    "destination_setting_id",
    "converted_from_id",
    "spot_purchase",
    "agreed_cost",
    "spot_reason",
    "parent_agreed_on",
    "part_time_purpose",
)


def hold_ledger(session: Session, pupil: Pupil, *records: Any) -> None:
    """Hold the pupil's ledger for the rest of the transaction (`reads.hold_ledgers`), then see
    `records`, such as the placement being changed, as they are now, not as first loaded."""
    hold_ledgers(session, [pupil])
    for record in records:
        session.refresh(record)


def _movement(
    session: Session,
    actor: Actor,
    pupil: Pupil,
    kind: MovementKind,
    day: date,
    *,
    setting_id: int | None = None,
    placement: Placement | None = None,
    days: int | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    corrects: Movement | None = None,
    flush: bool = True,
) -> Movement:
    movement = Movement(
        pupil=pupil,
        kind=kind,
        date=day,
        setting_id=setting_id if setting_id is not None else (placement.setting_id if placement else None),
        placement_id=placement.id if placement is not None else None,
        days=days,
        reason=reason,
        details=details if details is not None else (snapshot(placement) if placement is not None else {}),
        corrects_id=corrects.id if corrects is not None else None,
        recorded_by_id=actor.user_id,
        recorded_via=actor.via,
    )
    session.add(movement)
    if flush:
        session.flush()
    return movement


def _next_review(
    session: Session,
    pupil: Pupil,
    after: date,
    calendar: SchoolCalendar | None = None,
    planned_end: date | None = None,
) -> date | None:
    """The next review: the LA's interval of school days after `after`, and never later than the
    planned end, when the placement is reviewed for what comes next."""
    calendar = calendar or _calendar(session, pupil)
    try:
        due = calendar.add_school_days(after, pupil.home_la.review_interval_school_days)
    except CalendarUnknown:
        return planned_end
    return min(due, planned_end) if planned_end is not None and planned_end >= after else due


# Never a panel's to decide: the home school's own sessions, and a part-time timetable, which the
# school agrees with the parents (Working together to improve school attendance, 2024, para 66).
NOT_FOR_PANELS = frozenset({Route.HOME_SCHOOL, Route.PART_TIME_TIMETABLE})


def needs_decision(la: LocalAuthority, route: Route, tier: Tier | None) -> bool:
    """Whether a placement on this route (and tier) needs an approved panel decision to start:
    the LA's rules (by default fair access, managed moves and LA placements after an exclusion
    into a transitional place). A placement from the LA's old records needs none."""
    if route in NOT_FOR_PANELS:
        return False
    rules = set(la.panel_routes or [])
    return route.value in rules or (tier is not None and f"{route.value}:{tier.value}" in rules)


def gate_problem(
    pupil: Pupil, draft: PlacementDraft, decision: Decision | None, *, old_record: bool = False
) -> str | None:
    """Why this placement may not start without (another) panel decision, or None."""
    if old_record or not needs_decision(pupil.home_la, draft.route, draft.tier):
        return None
    label = ROUTE_LABELS[draft.route]
    if decision is None:
        return f"{label} needs an approved decision of {pupil.home_la.name}'s panel before it starts: make a referral"
    if decision.outcome != "approve" or decision.referral.pupil_id != pupil.id:
        return f"{label} needs an approved panel decision for this pupil"
    if decision.placement_id is not None:
        return "That panel decision has already started its placement"
    return None


def _commissioner_problem(session: Session, actor: Actor, pupil: Pupil, draft: PlacementDraft) -> str | None:
    """A person names as commissioner only the pupil's own LA (or their own), or a setting of
    their own area: a placement never puts another LA's name, or another area's school, on
    what it pays for or sees."""
    user = actor.user
    if user is None:
        return None
    if draft.commissioner_la_id is not None and draft.commissioner_la_id not in (pupil.home_la_id, user.la_id):
        return "A placement is commissioned by the pupil's own local authority"
    if draft.commissioner_setting_id is not None:
        commissioner = session.get(Setting, draft.commissioner_setting_id)
        if commissioner is None or commissioner.la_id != user.organisation_la_id:
            return "No such setting commissions placements in your area"
        if user.setting_id is not None and commissioner.id != user.setting_id:
            return "You can name your own setting as the commissioner only"
    return None


def same_placement(
    session: Session, pupil: Pupil, draft: PlacementDraft, *, open_only: bool = True, reads: Reads | None = None
) -> Placement | None:
    """The pupil's placement this draft repeats: the same setting, route and start (open, unless
    asked for ended ones too, as a file that records and later ends a placement does)."""
    found = [
        p
        for p in (reads or Reads(session)).placements(pupil)
        if p.setting_id == draft.setting_id
        and p.route == draft.route
        and p.start_date == draft.start_date
        and (p.end_date is None or not open_only)
    ]
    return min(found, key=lambda p: p.id) if found else None


def check_placement(
    session: Session,
    actor: Actor,
    pupil: Pupil,
    draft: PlacementDraft,
    *,
    calendar: SchoolCalendar | None = None,
    decision: Decision | None = None,
    acting_for_panel: bool = False,
    reads: Reads | None = None,
) -> Assessment:
    """Every reason this placement may not be recorded (as field errors) and every warning, in
    one answer and without writing: who may arrange it, who commissions it, whether it is already
    recorded, the panel's decision where the LA needs one, the spot purchase and the budget's
    places, then the coherence of route, registration, setting, tier, dates and sessions. The
    page's check step shows exactly this; `start_placement` refuses on exactly this."""
    setting = session.get(Setting, draft.setting_id)
    if setting is None:
        return Assessment(errors=[FieldError("setting", "Choose the setting")])
    refusal = (
        None
        if acting_for_panel and decision is not None
        else permissions.placement_refusal(actor, pupil, draft.route, setting)
    )
    if refusal:
        raise Forbidden(refusal)
    problems: list[FieldError] = []
    commissioner = _commissioner_problem(session, actor, pupil, draft)
    if commissioner:
        problems.append(FieldError("commissioner", commissioner))
    reads = reads or Reads(session)
    recorded = same_placement(session, pupil, draft, reads=reads)
    if recorded is not None:
        problems.append(
            FieldError(
                "start_date",
                f"{pupil.full_name}'s placement at {recorded.setting.name} ({ROUTE_LABELS[recorded.route]}) "
                f"from {recorded.start_date:%-d %B %Y} is already recorded",
            )
        )
    old_record = old_record_allowed(session, actor, pupil.home_la, draft.start_date)
    gate = gate_problem(pupil, draft, decision, old_record=old_record)
    if gate:
        problems.append(FieldError("route", gate))
    la_pays = paid_by_la(pupil, draft)
    spot = spot_purchase_problems(draft.spot_purchase, draft.agreed_cost, draft.spot_reason, la_pays=la_pays)
    problems.extend(spot)
    if not spot and not old_record:
        # The budget's places gate every new placement.
        full = capacity_problem(
            session,
            pupil.home_la,
            provider=setting,
            tier=draft.tier,
            sessions=draft.sessions,
            start=draft.start_date,
            spot_purchase=draft.spot_purchase,
            la_pays=la_pays,
            reads=reads,
        )
        if full:
            problems.append(FieldError("spot_purchase", full))
    assessment = assess_placement(
        session, pupil, draft, calendar=calendar or _calendar(session, pupil), old_record=old_record, reads=reads
    )
    assessment.errors[:0] = problems
    return assessment


def with_commissioner(pupil: Pupil, draft: PlacementDraft) -> PlacementDraft:
    """The draft, naming its commissioner by the rule (`commissioner_for`) unless it names one."""
    if draft.commissioner_la_id is not None or draft.commissioner_setting_id is not None:
        return draft
    la_id, setting_id = commissioner_for(pupil, draft.route)
    return replace(draft, commissioner_la_id=la_id, commissioner_setting_id=setting_id)


def commissioner_of(session: Session, pupil: Pupil, draft: PlacementDraft) -> str | None:
    """The name of who will commission this draft: the one it names, or the rule's."""
    named = with_commissioner(pupil, draft)
    if named.commissioner_setting_id is not None:
        setting = session.get(Setting, named.commissioner_setting_id)
        return setting.name if setting is not None else None
    la = session.get(LocalAuthority, named.commissioner_la_id) if named.commissioner_la_id is not None else None
    return la.name if la is not None else None


def start_placement(
    session: Session,
    actor: Actor,
    pupil: Pupil,
    draft: PlacementDraft,
    *,
    calendar: SchoolCalendar | None = None,
    decision: Decision | None = None,
    acting_for_panel: bool = False,
    reads: Reads | None = None,
) -> tuple[Placement, Assessment]:
    """Record a placement and its `placement_started` movement. Refuses, with every problem
    `check_placement` finds, and a move that needs a panel's approval without one; returns the
    warnings alongside the placement. `acting_for_panel`: the chair starting the placement the
    panel approved (with `decision`). The same placement (pupil, setting, route and start)
    while it is open is refused as already recorded. A draft naming no commissioner is
    commissioned as `commissioner_for` says. `reads`: where the register is read
    (`placements.reads`; an import reads a chunk's children at once)."""
    permissions.require(session, actor, "pupil.view", pupil)
    reads = reads or Reads(session)
    reads.hold(pupil)
    calendar = calendar or _calendar(session, pupil)
    assessment = check_placement(
        session,
        actor,
        pupil,
        draft,
        calendar=calendar,
        decision=decision,
        acting_for_panel=acting_for_panel,
        reads=reads,
    )
    if assessment.errors:
        raise DomainError("The placement cannot be recorded", assessment.errors)
    draft = with_commissioner(pupil, draft)  # a commissioner the actor names was checked above
    setting = session.get(Setting, draft.setting_id)
    assert setting is not None
    home = assessment.home_school
    placement = Placement(
        pupil_id=pupil.id,
        setting_id=setting.id,
        route=draft.route,
        tier=draft.tier,
        registration=draft.registration,
        home_school_id=home.id if home is not None else None,
        home_school_code=assessment.home_school_code,
        sessions=draft.sessions,
        start_date=draft.start_date,
        planned_end_date=draft.planned_end_date,
        notice_date=draft.notice_date,
        last_review_date=draft.last_review_date,
        reason=(draft.reason or "").strip() or None,
        commissioner_la_id=draft.commissioner_la_id,
        commissioner_setting_id=draft.commissioner_setting_id,
        unregistered_override_reason=(draft.unregistered_override_reason or "").strip() or None,
        reintegration_plan=(draft.reintegration_plan or "").strip() or None,
        destination_plan=(draft.destination_plan or "").strip() or None,
        destination_setting_id=draft.destination_setting_id,
        converted_from_id=draft.converted_from_id,
        spot_purchase=draft.spot_purchase,
        agreed_cost=draft.agreed_cost if draft.spot_purchase else None,
        spot_reason=(draft.spot_reason or "").strip() or None if draft.spot_purchase else None,
        parent_agreed_on=draft.parent_agreed_on if draft.route == Route.PART_TIME_TIMETABLE else None,
        part_time_purpose=draft.part_time_purpose if draft.route == Route.PART_TIME_TIMETABLE else None,
        from_old_records=assessment.old_record,
        **_notice_columns(draft),
        created_by_id=actor.user_id,
    )
    if draft.route in REVIEWED_ROUTES:
        placement.next_review_date = _next_review(
            session, pupil, draft.last_review_date or draft.start_date, calendar, draft.planned_end_date
        )
    taken = reads.placement_id()
    if taken is not None:
        placement.id = taken
    session.add(placement)
    if taken is None:
        session.flush()
    _movement(
        session,
        actor,
        pupil,
        MovementKind.PLACEMENT_STARTED,
        draft.start_date,
        placement=placement,
        reason=placement.reason,
        flush=reads.one_at_a_time,
    )
    reads.added(placement)
    replaced = replaced_by(session, pupil, draft, home, reads)
    if replaced or moves_roll(draft, home):
        reads.forget(pupil)  # the roll and the places in use are read again after this
    for earlier in replaced:
        # Only what began before this placement: it is not among them.
        _close(
            session,
            actor,
            earlier,
            draft.start_date - timedelta(days=1),
            REPLACED_DESTINATIONS.get(setting.kind, Destination.OTHER_AP),
            replaced_note(setting, draft.start_date),
            replaced_by=placement.id,
        )
    if draft.registration == Registration.SOLE and draft.route not in AT_HOME_SCHOOL:
        # Sole registration elsewhere is a change of roll.
        if home is not None and home.id != setting.id:
            _movement(
                session,
                actor,
                pupil,
                MovementKind.REMOVED_FROM_ROLL,
                draft.start_date,
                setting_id=home.id,
                reason=f"Registered only at {setting.name} from this date",
            )
        _movement(
            session,
            actor,
            pupil,
            MovementKind.ADMITTED,
            draft.start_date,
            setting_id=setting.id,
            reason=ROUTE_LABELS[draft.route],
            details={"placement_id": placement.id},
        )
        refresh_roll(session, pupil)
    audit.record(
        session,
        actor,
        "create",
        "placement",
        placement.id,
        pupil_id=pupil.id,
        detail={"route": draft.route.value, "warnings": assessment.warnings},
    )
    _tell_the_provider(session, actor, placement, setting, reads)
    return placement, assessment


def _tell_the_provider(
    session: Session, actor: Actor, placement: Placement, setting: Setting, reads: Reads | None = None
) -> None:
    """A pupil placed with an AP setting by someone else reaches its heads' inboxes: they prepare
    for the first day. A placement from the LA's old records is history, not an arrival."""
    if setting.kind not in AP_KINDS or placement.from_old_records:
        return
    reads = reads or Reads(session)
    heads = [user for user in reads.heads(setting.id) if user.id != actor.user_id]
    notify(
        session,
        heads,
        kind="placement_arriving",
        subject=f"A pupil is placed at {setting.name} from {placement.start_date:%-d %B %Y}",
        body=(
            f"{ROUTE_LABELS[placement.route]}, {week_pattern.count(placement.sessions)} sessions a week, "
            f"from {placement.start_date:%-d %B %Y}. Open the placement for the pupil and the plan."
        ),
        link=f"/placements/{placement.id}",
        pupil_id=placement.pupil_id,
        flush=reads.one_at_a_time,
    )


def _notice_columns(draft: PlacementDraft) -> dict[str, Any]:
    """An off-site direction's notice contents, as the placement keeps them (blank for others)."""
    if draft.route != Route.OFF_SITE_DIRECTION:
        return {}
    return {
        "notice_address": (draft.notice_address or "").strip() or None,
        "notice_report_to": (draft.notice_report_to or "").strip() or None,
        "notice_session_times": (draft.notice_session_times or "").strip() or None,
        "notice_reasons": (draft.notice_reasons or "").strip() or None,
        "la_notice_date": draft.la_notice_date,
    }


def site_address(setting: Setting) -> str | None:
    """A setting's address, where it has exactly one site (the notice names the place)."""
    if len(setting.sites) != 1:
        return None
    site = setting.sites[0]
    return f"{site.address}, {site.postcode}" if site.postcode else site.address


def notice_letter(session: Session, placement: Placement) -> notice.Letter:
    """The letter giving notice of an off-site direction, from its recorded contents. Only for a
    notice with every part recorded (`Placement.notice_missing` is empty)."""
    assert not placement.notice_missing and placement.notice_date is not None
    days = None
    if placement.planned_end_date is not None:
        try:
            days = _calendar(session, placement.pupil).count(placement.start_date, placement.planned_end_date)
        except CalendarUnknown:
            days = None
    pupil = placement.pupil
    return notice.Letter(
        school=placement.home_school.name if placement.home_school is not None else "The school",
        to_pupil=has_turned(pupil.date_of_birth, 18, placement.notice_date),
        pupil=pupil.full_name,
        date_of_birth=pupil.date_of_birth,
        setting=placement.setting.name,
        address=placement.notice_address or "",
        first_day=placement.start_date,
        last_day=placement.planned_end_date,
        school_days=days,
        sessions=week_pattern.grid(placement.sessions),
        session_times=placement.notice_session_times or "",
        report_to=placement.notice_report_to or "",
        reasons=placement.notice_reasons or "",
        notice_date=placement.notice_date,
        copy_to=pupil.home_la.name if placement.la_notice_needed else None,
        review_weeks=REVIEW_REQUEST_WEEKS,
    )


def record_notice(
    session: Session,
    actor: Actor,
    placement: Placement,
    contents: NoticeContents,
    *,
    today: date | None = None,
) -> None:
    """Record what an off-site direction's written notice said (SI 2010/1156 reg 3(4)), and the
    day it went to the LA where the pupil has an EHC plan (reg 3(1) and (3)). The contents may be
    completed or corrected while the direction is open; each change is audited with what it
    replaced. The letter is made from them (`placements.notice`). The directing school and the LA
    write it, never the receiving setting (`placement.notice`)."""
    permissions.require(session, actor, "placement.notice", placement)
    hold_ledger(session, placement.pupil, placement)
    today = today or clock.today()
    refusal = Refusal()
    if placement.route != Route.OFF_SITE_DIRECTION:
        raise DomainError("Only an off-site direction has a written notice")
    if placement.end_date is not None:
        refusal.add("address", "The direction has ended: its notice can no longer be changed")
    for name, value in (
        ("address", contents.address),
        ("report_to", contents.report_to),
        ("session_times", contents.session_times),
    ):
        if value is not None and len(value.strip()) > notice.MAX_LINE:
            refusal.add(name, f"Use at most {notice.MAX_LINE} characters")
    if contents.reasons is not None and len(contents.reasons.strip()) > notice.MAX_REASONS:
        refusal.add("reasons", f"Use at most {notice.MAX_REASONS} characters")
    problem = notice.la_notice_problem(contents.la_notice_date, today)
    if problem:
        refusal.add("la_notice_date", problem)
    refusal.raise_if_any("The notice was not recorded")
    before = {
        "address": placement.notice_address,
        "report_to": placement.notice_report_to,
        "session_times": placement.notice_session_times,
        "reasons": placement.notice_reasons,
        "la_notice_date": placement.la_notice_date.isoformat() if placement.la_notice_date else None,
    }
    placement.notice_address = (contents.address or "").strip() or None
    placement.notice_report_to = (contents.report_to or "").strip() or None
    placement.notice_session_times = (contents.session_times or "").strip() or None
    placement.notice_reasons = (contents.reasons or "").strip() or None
    placement.la_notice_date = contents.la_notice_date
    session.flush()
    audit.record(
        session,
        actor,
        "record_notice",
        "placement",
        placement.id,
        pupil_id=placement.pupil_id,
        detail={"before": before, "missing": placement.notice_missing},
    )


def review_placement(
    session: Session,
    actor: Actor,
    placement: Placement,
    *,
    review_date: date,
    notes: str,
    next_review_date: date | None = None,
    planned_end_date: date | None = None,
    pupil_took_part: bool = False,
    parents_took_part: bool = False,
    today: date | None = None,
) -> PlacementReview:
    """Record a review: the placement's last review moves on, and so does its next review due. A
    review that moves the planned end later is an extension, and says from what. A part-time timetable
    is reviewed with the pupil and their parents (Working together to improve school attendance,
    2024, para 66): its review records who took part, and is refused with neither."""
    permissions.require(session, actor, "placement.review", placement)
    hold_ledger(session, placement.pupil, placement)
    today = today or clock.today()
    refusal = Refusal()
    recorded = session.scalars(
        select(PlacementReview).where(
            PlacementReview.placement_id == placement.id, PlacementReview.review_date == review_date
        )
    ).first()
    if recorded is not None:
        refusal.add("review_date", f"A review of this placement on {review_date:%-d %B %Y} is already recorded")
        refusal.raise_if_any("The review cannot be recorded")
    if not notes.strip():
        refusal.add("notes", "Enter what the review found and agreed")
    if review_date < placement.start_date:
        refusal.add("review_date", "A review cannot be before the placement starts")
    if review_date > today:
        refusal.add("review_date", "A review cannot be recorded before it happens")
    if placement.end_date is not None and review_date > placement.end_date:
        refusal.add("review_date", "This placement had ended by then")
    if next_review_date is not None and next_review_date <= review_date:
        refusal.add("next_review_date", "The next review must be after this one")
    ends = planned_end_date or placement.planned_end_date
    if next_review_date is not None and ends is not None and next_review_date > ends:
        refusal.add(
            "next_review_date",
            f"The next review must be on or before the planned end, {ends:%-d %B %Y}: the placement is reviewed "
            "for what comes next by then",
        )
    if planned_end_date is not None and planned_end_date < placement.start_date:
        refusal.add("planned_end_date", "The planned end must be on or after the start")
    if placement.route == Route.PART_TIME_TIMETABLE and not (parents_took_part or pupil_took_part):
        # Reviewed with the pupil and their parents (para 66): a review with neither is no review of
        # it; one the parents did not come to is recorded, and the page says who took part.
        refusal.add(
            "parents_took_part",
            "A part-time timetable is reviewed with the pupil and their parents: record who took part",
        )
    refusal.raise_if_any("The review cannot be recorded")
    # An extension moves the planned end later; bringing it forward restarts no limit.
    moved = (
        planned_end_date is not None
        and placement.planned_end_date is not None
        and planned_end_date > placement.planned_end_date
    )
    review = PlacementReview(
        placement_id=placement.id,
        review_date=review_date,
        notes=notes.strip(),
        next_review_date=next_review_date,
        pupil_took_part=pupil_took_part,
        parents_took_part=parents_took_part,
        extended_from=placement.planned_end_date if moved else None,
        recorded_by_id=actor.user_id,
    )
    session.add(review)
    if placement.last_review_date is None or review_date >= placement.last_review_date:
        placement.last_review_date = review_date
        placement.next_review_date = next_review_date or _next_review(
            session, placement.pupil, review_date, planned_end=planned_end_date or placement.planned_end_date
        )
    if planned_end_date is not None:
        placement.planned_end_date = planned_end_date
    session.flush()
    _movement(
        session,
        actor,
        placement.pupil,
        MovementKind.PLACEMENT_REVIEWED,
        review_date,
        placement=placement,
        reason=review.notes,
    )
    audit.record(session, actor, "review", "placement", placement.id, pupil_id=placement.pupil_id)
    return review


def end_placement(
    session: Session,
    actor: Actor,
    placement: Placement,
    *,
    end_date: date,
    destination: Destination,
    reason: str | None = None,
) -> Movement:
    """End a placement with its destination. Ending a sole registration takes the pupil off that roll."""
    permissions.require(session, actor, "placement.end", placement)
    hold_ledger(session, placement.pupil, placement)
    refusal = Refusal()
    if placement.end_date is not None:
        refusal.add("end_date", f"This placement already ended on {placement.end_date:%-d %B %Y}")
        refusal.raise_if_any("The placement cannot be ended")
    if end_date < placement.start_date:
        refusal.add("end_date", "The end must be on or after the start")
    refusal.raise_if_any("The placement cannot be ended")
    pupil = placement.pupil
    movement = _close(session, actor, placement, end_date, destination, reason)
    if (
        placement.registration == Registration.SOLE
        and placement.route not in AT_HOME_SCHOOL
        and pupil.home_school_id == placement.setting_id
    ):
        _movement(
            session,
            actor,
            pupil,
            MovementKind.REMOVED_FROM_ROLL,
            end_date,
            setting_id=placement.setting_id,
            reason=f"Placement ended. Destination: {DESTINATION_LABELS[destination]}",
        )
        refresh_roll(session, pupil)
    return movement


def _close(
    session: Session,
    actor: Actor,
    placement: Placement,
    end_date: date,
    destination: Destination,
    reason: str | None,
    *,
    replaced_by: int | None = None,
) -> Movement:
    """Write a placement's end, its `placement_ended` movement and its audit event."""
    placement.end_date = end_date
    placement.destination = destination
    placement.end_reason = (reason or "").strip() or None
    session.flush()
    movement = _movement(
        session,
        actor,
        placement.pupil,
        MovementKind.PLACEMENT_ENDED,
        end_date,
        placement=placement,
        reason=placement.end_reason,
    )
    detail: dict[str, Any] = {"destination": destination.value}
    if replaced_by is not None:
        detail["replaced_by"] = replaced_by
    audit.record(session, actor, "end", "placement", placement.id, pupil_id=placement.pupil_id, detail=detail)
    return movement


CORRECTABLE = frozenset(
    {"sessions", "start_date", "planned_end_date", "notice_date", "tier", "reason", "end_date", "destination"}
    # A booking paid outside the plan that was recorded as using a commissioned place, or the reverse.
    | {"spot_purchase", "agreed_cost", "spot_reason"}
)


def correct_placement(
    session: Session, actor: Actor, placement: Placement, changes: dict[str, Any], reason: str
) -> Movement:
    """Correct a mistake in a placement. The ledger keeps the old movement; the correction names it."""
    permissions.require(session, actor, "placement.end", placement)
    hold_ledger(session, placement.pupil, placement)
    refusal = Refusal()
    if not reason.strip():
        refusal.add("reason", "Say what was wrong")
    unknown = set(changes) - CORRECTABLE
    if unknown:
        refusal.add("changes", f"These cannot be corrected: {', '.join(sorted(unknown))}")
    refusal.raise_if_any("The correction cannot be recorded")
    moved = changes.keys() & {"sessions", "start_date", "end_date"}
    tested = placement.setting.kind == SettingKind.UNREGISTERED_AP and bool(moved)
    # A correction is no way round the independent-school test; one to a placement that already
    # meets it (a pupil taken into care since, say) is not refused for that: the daily checks say so.
    met_before = tested and bool(_independent_school_errors(session, placement))
    for name, value in changes.items():
        setattr(placement, name, value)
    if placement.end_date is not None and placement.end_date < placement.start_date:
        raise DomainError(
            "The end must be on or after the start", [FieldError("end_date", "The end must be on or after the start")]
        )
    if placement.from_old_records and not before_adoption(placement.pupil.home_la, placement.start_date):
        # Taken without the checks of a new placement: it cannot become one by a correction.
        message = (
            "A placement from the old records must start before the adoption date: record one that starts "
            "later as a new placement"
        )
        raise DomainError("The correction cannot be recorded", [FieldError("start_date", message)])
    if week_pattern.problem(placement.sessions):
        raise DomainError(
            "Sessions are not valid", [FieldError("sessions", week_pattern.problem(placement.sessions) or "")]
        )
    if tested and not met_before:
        errors = _independent_school_errors(session, placement)
        if errors:
            raise DomainError("The correction cannot be recorded", errors)
    session.flush()
    previous = session.scalars(
        select(Movement).where(Movement.placement_id == placement.id).order_by(Movement.id.desc()).limit(1)
    ).first()
    movement = _movement(
        session,
        actor,
        placement.pupil,
        MovementKind.PLACEMENT_CORRECTED,
        clock.today(),
        placement=placement,
        reason=reason.strip(),
        corrects=previous,
    )
    audit.record(
        session,
        actor,
        "correct",
        "placement",
        placement.id,
        pupil_id=placement.pupil_id,
        detail={"fields": sorted(changes)},
    )
    return movement


def request_review(
    session: Session,
    actor: Actor,
    placement: Placement,
    *,
    requested_on: date,
    requested_by: str,
    today: date | None = None,
) -> ReviewRequest:
    """Record a written request for a review meeting of an off-site direction: by the parent (or
    the pupil at 18), or by the LA where the pupil has an EHC plan. The governing body must hold one
    as soon as reasonably practicable unless one was held in the 10 weeks before the request (SI
    2010/1156 reg 4A, inserted by SI 2012/2532); the daily checks raise `review_requested`
    until it is held."""
    permissions.require(session, actor, "placement.review", placement)
    hold_ledger(session, placement.pupil, placement)
    today = today or clock.today()
    refusal = Refusal()
    if placement.route != Route.OFF_SITE_DIRECTION:
        refusal.add("requested_by", "A request for a review meeting is for an off-site direction")
    if requested_by not in REQUESTED_BY:
        refusal.add("requested_by", "Choose who asked for the review")
    elif requested_by == "la" and placement.pupil.sen_status != SenStatus.EHCP:
        refusal.add(
            "requested_by",
            f"{placement.pupil.full_name} has no EHC plan recorded: only the parent (or the pupil, at 18) may ask",
        )
    if requested_on > today:
        refusal.add("requested_on", "The request cannot be recorded before it is made")
    elif requested_on < placement.start_date:
        refusal.add("requested_on", "The request cannot be before the off-site direction starts")
    elif placement.end_date is not None and requested_on > placement.end_date:
        refusal.add("requested_on", f"The off-site direction ended on {placement.end_date:%-d %B %Y}")
    refusal.raise_if_any("The request cannot be recorded")
    held = [
        r.review_date for r in placement.reviews if requested_on - REVIEW_REQUEST_WINDOW <= r.review_date < requested_on
    ]
    request = ReviewRequest(
        placement_id=placement.id,
        requested_on=requested_on,
        requested_by=requested_by,
        required=not held,
        recorded_by_id=actor.user_id,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "request_review",
        "placement",
        placement.id,
        pupil_id=placement.pupil_id,
        detail={"requested_on": requested_on.isoformat(), "by": requested_by, "required": not held},
    )
    return request


def review_requested_and_not_held(placement: Placement) -> ReviewRequest | None:
    """The earliest request that required a review meeting and has had none since."""
    latest_review = max((r.review_date for r in placement.reviews), default=None)
    for request in placement.review_requests:
        if request.required and (latest_review is None or latest_review < request.requested_on):
            return request
    return None


def _independent_school_errors(session: Session, placement: Placement) -> list[FieldError]:
    """The independent-school test's refusal of a placement as it stands, if any."""
    check = Assessment()
    as_it_stands = PlacementDraft(
        setting_id=placement.setting_id,
        route=placement.route,
        registration=placement.registration,
        sessions=placement.sessions,
        start_date=placement.start_date,
        planned_end_date=placement.end_date or placement.planned_end_date,
    )
    _assess_independent_school(session, check, placement.pupil, as_it_stands, placement.setting, placement.id)
    return check.errors


def admit_new_pupil(
    session: Session,
    actor: Actor,
    pupil: Pupil | str,
    day: date,
    setting: Setting,
    reason: str,
    *,
    into: NewPupils | None = None,
) -> None:
    """Admit a pupil who has no roll history yet (one an import has just created; by UPN, one
    it is adding `into` a NewPupils). The admission is their only roll movement, so it sets their
    roll without reading the ledger; nothing is flushed, so a large import writes in batches.
    Nothing is held either: no other transaction can see a pupil this one has just made."""
    if setting.kind not in HOME_SCHOOL_KINDS:
        raise DomainError(
            "The pupil cannot be admitted", [FieldError("setting", f"{setting.name} has no admission register")]
        )
    if isinstance(pupil, str):
        if into is None:
            raise ValueError("a pupil named by UPN is one being added into a NewPupils")
        into.admit(pupil, day, setting.id, reason)
        return
    _movement(session, actor, pupil, MovementKind.ADMITTED, day, setting_id=setting.id, reason=reason, flush=False)
    pupil.home_school = setting


# A roll movement, named when it is already recorded: "<pupil>'s <this> on <day>".
RECORDED_AS = {
    MovementKind.ADMITTED: "admission to {setting}",
    MovementKind.PERMANENT_EXCLUSION: "permanent exclusion from {setting}",
    MovementKind.SUSPENSION: "suspension from {setting}",
    MovementKind.REMOVED_FROM_ROLL: "removal from {setting}'s roll",
    MovementKind.EXCLUSION_UPHELD: "board decision not to reinstate at {setting}",
    MovementKind.REINSTATED: "reinstatement at {setting}",
    MovementKind.REVIEW_REQUESTED: "request for a review of the exclusion from {setting}",
    MovementKind.REVIEW_CONCLUDED: "end of the review of the exclusion from {setting}",
}


def _same_movement(session: Session, pupil: Pupil, kind: MovementKind, day: date, setting: Setting) -> bool:
    """Whether the pupil's ledger already holds this movement: the same kind, day and setting
    (as an import of movements also tells a repeated row)."""
    return (
        session.scalar(
            select(Movement.id)
            .where(
                Movement.pupil_id == pupil.id,
                Movement.kind == kind,
                Movement.date == day,
                Movement.setting_id == setting.id,
            )
            .limit(1)
        )
        is not None
    )


def record_roll_movement(
    session: Session,
    actor: Actor,
    pupil: Pupil,
    kind: MovementKind,
    day: date,
    setting: Setting,
    *,
    days: int | None = None,
    reason: str | None = None,
    today: date | None = None,
    authorised: bool = False,
) -> Movement:
    """Record an admission, a permanent exclusion, a suspension or a removal from roll.
    `authorised`: a rule that already checked the actor (a confirmed managed move) records it."""
    if not authorised:
        permissions.require(session, actor, "movement.record", pupil)
    hold_ledger(session, pupil)
    today = today or clock.today()
    user = None if authorised else actor.user
    refusal = Refusal()
    if kind not in ROLL_MOVEMENT_KINDS:
        refusal.add(
            "kind",
            "Choose a movement on the roll: " + ", ".join(MOVEMENT_KIND_LABELS[k].lower() for k in ROLL_MOVEMENT_KINDS),
        )
    elif _same_movement(session, pupil, kind, day, setting):
        what = RECORDED_AS[kind].format(setting=setting.name)
        refusal.add("date", f"{pupil.full_name}'s {what} on {day:%-d %B %Y} is already recorded")
        refusal.raise_if_any("The movement cannot be recorded")
    if day > today:
        refusal.add("date", "A movement is recorded once it has happened: the date is in the future")
    if user is not None and user.setting_id is not None and setting.id != user.setting_id:
        refusal.add("setting", "You can record movements on your own setting's roll only")
    reading = reading_of(session, pupil)
    # The school whose roll the pupil is on that day, by the ledger (not today's record).
    home = school_on(session, pupil, day, reading)
    held = home.id if home is not None else None
    if kind == MovementKind.ADMITTED:
        if setting.kind not in HOME_SCHOOL_KINDS:
            refusal.add("setting", f"{setting.name} has no admission register a pupil can be on")
        elif home is not None and home.id == setting.id:
            refusal.add("setting", f"{pupil.full_name} is already on {setting.name}'s roll")
    elif kind in (MovementKind.PERMANENT_EXCLUSION, MovementKind.SUSPENSION, MovementKind.REMOVED_FROM_ROLL):
        open_exclusion = reading.open_exclusion(day)
        if held != setting.id:
            refusal.add("setting", f"{pupil.full_name} is not on {setting.name}'s roll")
        elif kind != MovementKind.REMOVED_FROM_ROLL and open_exclusion is not None:
            # One exclusion at a time: a pupil permanently excluded is not suspended or excluded
            # again while the first is in process.
            refusal.add(
                "kind",
                f"{pupil.full_name} was permanently excluded from {setting.name} on "
                f"{open_exclusion.excluded_on:%-d %B %Y} and the exclusion is not over: record its next step",
            )
    elif kind in EXCLUSION_PROCESS_KINDS:
        problem = exclusion_step_problem(reading, kind, day, setting, pupil.full_name)
        if problem is not None:
            refusal.add(*problem)
    if kind == MovementKind.SUSPENSION and (days is None or days < 1 or days > 45):
        refusal.add("days", "Enter the length of the suspension in school days (1 to 45)")
    if kind in (MovementKind.PERMANENT_EXCLUSION, MovementKind.REMOVED_FROM_ROLL) and not (reason or "").strip():
        refusal.add("reason", "Enter the reason")
    refusal.raise_if_any("The movement cannot be recorded")
    if kind == MovementKind.ADMITTED and home is not None:
        _movement(
            session,
            actor,
            pupil,
            MovementKind.REMOVED_FROM_ROLL,
            day,
            setting_id=home.id,
            reason=f"Admitted to {setting.name}",
        )
    movement = _movement(
        session, actor, pupil, kind, day, setting_id=setting.id, days=days, reason=(reason or "").strip() or None
    )
    refresh_roll(session, pupil, today)
    audit.record(session, actor, "create", "movement", movement.id, pupil_id=pupil.id, detail={"kind": kind.value})
    return movement


# --- reading the register --------------------------------------------------------------------


def arrangements_on(session: Session, pupil: Pupil, day: date) -> list[Placement]:
    """The pupil's package on a day: the placements active on it."""
    return list(
        session.scalars(
            select(Placement)
            .where(
                Placement.pupil_id == pupil.id,
                Placement.start_date <= day,
                or_(Placement.end_date.is_(None), Placement.end_date >= day),
            )
            .order_by(Placement.start_date, Placement.id)
        )
    )


def movements_of(session: Session, pupil: Pupil) -> list[Movement]:
    """The pupil's ledger, newest first."""
    return list(
        session.scalars(
            select(Movement).where(Movement.pupil_id == pupil.id).order_by(Movement.date.desc(), Movement.id.desc())
        )
    )


def convert_to_transitional(
    session: Session,
    actor: Actor,
    placement: Placement,
    *,
    on: date,
    reason: str,
    destination_plan: str | None = None,
    destination_setting_id: int | None = None,
    decision: Decision | None = None,
) -> Placement:
    """End a time-limited placement by converting it to a transitional one at the same setting:
    the time-limited placement ends the day before, and the transitional one starts on `on`
    with the same sessions, naming where it leads."""
    permissions.require(session, actor, "placement.end", placement)
    hold_ledger(session, placement.pupil, placement)
    refusal = Refusal()
    converted = session.scalars(select(Placement).where(Placement.converted_from_id == placement.id)).first()
    if converted is not None:
        refusal.add(
            "reason",
            f"This placement was already converted to a transitional one from {converted.start_date:%-d %B %Y}",
        )
        refusal.raise_if_any("The placement was not converted")
    if placement.tier != Tier.TIME_LIMITED:
        refusal.add("reason", "Only a time-limited placement can be converted to a transitional one")
    if placement.route in ALWAYS_TIME_LIMITED:
        refusal.add("reason", f"{ROUTE_LABELS[placement.route]} is time-limited: arrange a transitional place instead")
    if placement.end_date is not None:
        refusal.add("reason", "This placement has already ended")
    if len(reason.strip()) < 10:
        refusal.add("reason", "Record why the pupil will not return to the home school")
    if on <= placement.start_date:
        refusal.add("on", "The transitional placement starts after the time-limited one began")
    refusal.raise_if_any("The placement was not converted")
    end_placement(
        session,
        actor,
        placement,
        end_date=on - timedelta(days=1),
        destination=Destination.OTHER_AP,
        reason=f"Converted to a transitional placement: {reason.strip()}",
    )
    draft = PlacementDraft(
        setting_id=placement.setting_id,
        route=placement.route,
        registration=placement.registration,
        sessions=placement.sessions,
        start_date=on,
        tier=Tier.TRANSITIONAL,
        reason=reason.strip(),
        commissioner_la_id=placement.commissioner_la_id,
        commissioner_setting_id=placement.commissioner_setting_id,
        unregistered_override_reason=placement.unregistered_override_reason,
        destination_plan=destination_plan,
        destination_setting_id=destination_setting_id,
        converted_from_id=placement.id,
    )
    converted, _ = start_placement(session, actor, placement.pupil, draft, decision=decision)
    return converted


@dataclass
class TierSpell:
    placement: Placement
    school_days: int | None  # in tier so far (or in all, once ended); None if term dates are unknown
    re_referral: bool  # began within 12 months of an earlier AP placement ending


def tier_history(session: Session, pupil: Pupil, on: date | None = None) -> list[TierSpell]:
    """The pupil's placements in the tiers, oldest first, with time in tier and re-referrals."""
    on = on or clock.today()
    calendar = _calendar(session, pupil)
    spells = []
    ended: list[date] = []
    for placement in sorted(
        (p for p in placements_of(session, pupil) if p.tier is not None), key=lambda p: (p.start_date, p.id)
    ):
        last = min(placement.end_date or on, on)
        try:
            days: int | None = calendar.count(placement.start_date, last) if last >= placement.start_date else 0
        except CalendarUnknown:
            days = None
        re_referral = placement.converted_from_id is None and any(
            placement.start_date - timedelta(days=365) <= end < placement.start_date for end in ended
        )
        spells.append(TierSpell(placement, days, re_referral))
        if placement.end_date is not None and placement.destination != Destination.OTHER_AP:
            ended.append(placement.end_date)
    return spells


def placements_of(session: Session, pupil: Pupil) -> list[Placement]:
    """Every placement of the pupil, newest first."""
    return list(
        session.scalars(
            select(Placement)
            .where(Placement.pupil_id == pupil.id)
            .order_by(Placement.start_date.desc(), Placement.id.desc())
        )
    )


def placement_movements(session: Session, placement: Placement) -> list[Movement]:
    return list(
        session.scalars(select(Movement).where(Movement.placement_id == placement.id).order_by(Movement.id.desc()))
    )


def setting_names(session: Session, movements: list[Movement]) -> dict[int, str]:
    """Names of the settings a list of movements mentions, read in one query."""
    ids = {m.setting_id for m in movements if m.setting_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Setting.id, Setting.name).where(Setting.id.in_(ids))).all())


def ledger_mismatches(session: Session) -> list[int]:
    """Ids of placements that differ from the details of their latest movement (should be none)."""
    latest: dict[int, Movement] = {}
    for movement in session.scalars(select(Movement).where(Movement.placement_id.is_not(None)).order_by(Movement.id)):
        assert movement.placement_id is not None
        latest[movement.placement_id] = movement
    mismatched = []
    for placement in session.scalars(select(Placement)):
        last = latest.get(placement.id)
        # Fields added after a movement was written are compared only if it recorded them.
        current = snapshot(placement)
        if last is None or any(
            current[k] != last.details.get(k) for k in current if k in last.details or current[k] is not None
        ):
            mismatched.append(placement.id)
    return mismatched


def week_rows(placements: list[Placement], home_school: Setting | None) -> list[tuple[str, str, str]]:
    """Who teaches the pupil each session of a usual week under these placements: each row is
    (day, morning, afternoon). Sessions no placement covers fall to the home school, unless one
    of the placements is at the home school itself (then its sessions are all it provides)."""
    if home_school is not None and any(p.setting_id == home_school.id for p in placements):
        home_school = None
    rows = []
    for index, day in enumerate(week_pattern.DAY_NAMES):
        cells = []
        for half in (0, 1):
            slot = 2 * index + half
            names = [p.setting.name for p in placements if p.sessions[slot] == "1"]
            if names:
                cells.append(" and ".join(names))
            elif home_school is not None:
                cells.append(f"{home_school.name} (on roll)")
            else:
                cells.append("No provision")
        rows.append((day, cells[0], cells[1]))
    return rows
