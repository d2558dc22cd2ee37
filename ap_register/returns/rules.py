"""Statutory returns from the one register: the LA's alternative provision census and the school
census's AP placement module, each with a validation report of what is missing before census day.

Items follow the DfE's published census guidance: the placement's setting by URN, or by UKPRN
where it has no URN, or by type of setting where it has neither (never more than one); the
reason the placement was commissioned; entry and leaving dates; sessions a week. The reason
categories are those the DfE publishes for school-arranged AP (school census 2022/23, in
`../shared/data/benchmarks/spc_school_ap_placement.csv`); the code each census expects in its
file is listed beside them and must be checked against the year's technical specification.

Which placements each return holds:
- AP census (the LA's, in January; `ap_census.py` has its sources): one record per child born
  in its age range, for the latest or last placement in the census period that the LA arranged
  (s19 routes, or a school named in an EHC plan) at an independent or non-maintained special
  school whose fees it pays, or otherwise than at a school (unregistered providers, tuition,
  colleges). A PRU, AP academy, AP free school or hospital school returns its own pupils.
- School census AP placement module (each school, each term): placements a school arranged for a
  pupil on its roll (off-site directions, other school-arranged AP, provision from the sixth day of
  a suspension), and LA-arranged placements where the pupil stays on that school's roll. Every
  placement active at any time in the census period, one line each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ap_register import clock, permissions
from ap_register.accounts import audit
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, FieldError, Forbidden
from ap_register.domain.vocab import LA_ROUTES, Registration, Route, SettingKind
from ap_register.models import LocalAuthority, Placement, Pupil, Setting

# reason: (label as published, code for the file)
CENSUS_REASONS: dict[str, tuple[str, str]] = {
    "off_site_behaviour": ("Off-site placement for behavioural support", "OSB"),
    "suspension": ("Suspension", "SUS"),
    "permanent_exclusion": ("Permanent exclusion (where still going through the review process)", "PEX"),
    "medical_mental_health": ("Medical condition (mental health need)", "MHN"),
    "medical_physical_health": ("Medical condition (physical health need)", "PHN"),
    "other": ("Other", "OTH"),
}
# Where the route settles the reason. Health needs must say which; the rest are chosen.
REASON_BY_ROUTE = {
    Route.OFF_SITE_DIRECTION: "off_site_behaviour",
    Route.SUSPENSION_PROVISION: "suspension",
    Route.LA_EXCLUSION: "permanent_exclusion",
}
# type: (label as published, code)
SETTING_TYPES: dict[str, tuple[str, str]] = {
    "one_to_one_tuition": ("One on one tuition", "OOT"),
    "work_based_placement": ("Work based placement", "WBP"),
    "non_maintained_fe": ("Non-maintained further education college", "NFE"),
    "other_unregistered": ("Other unregistered provider", "OTH"),
}
# Schools not maintained by an LA, whose fees an LA pays: an independent AP school, and by their
# GIAS type a non-maintained special school (8), an independent special school (10) or another
# independent school (11).
FEE_PAYING_KINDS = frozenset({SettingKind.INDEPENDENT_AP})
FEE_PAYING_GIAS_TYPES = frozenset({8, 10, 11})
# Education otherwise than at a school.
OTHERWISE_KINDS = frozenset({SettingKind.UNREGISTERED_AP, SettingKind.POST16})
AP_CENSUS_ROUTES = LA_ROUTES | {Route.EHCP_NAMED}
SCHOOL_ARRANGED = frozenset({Route.OFF_SITE_DIRECTION, Route.SCHOOL_ARRANGED, Route.SUSPENSION_PROVISION})
RETURNS = {"ap-census": "Alternative provision census", "school-census": "School census: AP placements"}
TERMS = {"autumn": "Autumn", "spring": "Spring", "summer": "Summer"}

COLUMNS = {
    "ap-census": [
        "la_code",
        "upn",
        "first_name",
        "last_name",
        "date_of_birth",
        "sex",
        "ethnicity",
        "fsm_start",
        "fsm_end",
        "sen_provision",
        "postcode",
        "uprn",
        "urn",
        "ukprn",
        "setting_type",
        "setting_name",
        "primary_reason",
        "primary_reason_label",
        "entry_date",
        "leaving_date",
        "sessions_per_week",
        "previous_urn",
        "route",
        "placement_id",
        "placements_in_period",
    ],
    "school-census": [
        "school_urn",
        "school_name",
        "upn",
        "first_name",
        "last_name",
        "date_of_birth",
        "urn",
        "ukprn",
        "setting_type",
        "setting_name",
        "placement_reason",
        "placement_reason_label",
        "entry_date",
        "leaving_date",
        "sessions_per_week",
        "route",
        "placement_id",
    ],
}


def _thursdays(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return [first_thursday + timedelta(weeks=n) for n in range(4)]


def census_day(kind: str, year: int, term: str = "spring") -> date:
    """Census day in academic year `year` (2025 for 2025/26): the first Thursday of October for
    the autumn census, the third Thursday of January for spring (and the AP census), the third
    Thursday of May for summer."""
    if kind == "ap-census" or term == "spring":
        return _thursdays(year + 1, 1)[2]
    if term == "autumn":
        return _thursdays(year, 10)[0]
    if term == "summer":
        return _thursdays(year + 1, 5)[2]
    raise DomainError(f"{term!r} is not a census term: choose autumn, spring or summer")


def census_period(kind: str, year: int, term: str = "spring") -> tuple[date, date]:
    """From the day after the previous census to census day."""
    day = census_day(kind, year, term)
    if kind == "ap-census":
        return census_day(kind, year - 1) + timedelta(days=1), day
    previous = {"autumn": ("summer", year - 1), "spring": ("autumn", year), "summer": ("spring", year)}[term]
    return census_day(kind, previous[1], previous[0]) + timedelta(days=1), day


@dataclass
class Gap:
    line: int
    upn: str
    item: str
    message: str
    placement_id: int

    setting_id: int | None = None
    severity: str = "error"
    # Set when the item is the child's own (put right in a pupils file, seen on the child's page).
    pupil_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "upn": self.upn,
            "item": self.item,
            "message": self.message,
            "placement_id": self.placement_id,
            "severity": self.severity,
        }


@dataclass
class Return:
    kind: str
    la: LocalAuthority
    year: int
    term: str
    census_day: date
    period: tuple[date, date]
    rows: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    school: Setting | None = None
    # The AP census as the collection system takes it (`ap_census.to_xml`).
    xml: bytes | None = None
    # The children the return holds (only they are audited as viewed).
    pupil_ids: set[int] = field(default_factory=set)

    @property
    def title(self) -> str:
        term = f", {TERMS[self.term].lower()} term" if self.kind == "school-census" else ""
        return f"{RETURNS[self.kind]} {self.year}/{(self.year + 1) % 100:02d}{term}"

    def days_left(self, today: date) -> int:
        return (self.census_day - today).days


def reason_of(placement: Placement) -> str | None:
    return placement.census_reason or REASON_BY_ROUTE.get(placement.route)


def setting_items(setting: Setting) -> tuple[str | None, str | None, str | None]:
    """URN, or else UKPRN, or else the type of setting: exactly one is returned."""
    if setting.urn:
        return setting.urn, None, None
    if setting.ukprn:
        return None, setting.ukprn, None
    kind = setting.census_setting_type
    return None, None, SETTING_TYPES[kind][1] if kind in SETTING_TYPES else None


def _placements(session: Session, actor: Actor, la: LocalAuthority, start: date, end: date) -> list[Placement]:
    stmt = (
        select(Placement)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(
            Pupil.home_la_id == la.id,
            Placement.start_date <= end,
            or_(Placement.end_date.is_(None), Placement.end_date >= start),
        )
        .options(joinedload(Placement.pupil), joinedload(Placement.setting), joinedload(Placement.home_school))
        .order_by(Pupil.upn, Placement.start_date, Placement.id)
    )
    return list(session.scalars(permissions.scope_placements(actor, stmt)).unique())


def in_ap_census(placement: Placement, la: LocalAuthority) -> bool:
    """Arranged and paid for by this LA (never a placement another LA commissioned), at a school
    not maintained by an LA or otherwise than at a school (a hospital school, PRU, AP academy or
    free school makes its own return)."""
    setting = placement.setting
    fee_paying = setting.kind in FEE_PAYING_KINDS or setting.gias_type_code in FEE_PAYING_GIAS_TYPES
    if placement.commissioner_la_id not in (None, la.id):
        return False
    return placement.route in AP_CENSUS_ROUTES and (fee_paying or setting.kind in OTHERWISE_KINDS)


def in_school_census(placement: Placement) -> bool:
    if placement.home_school is None or placement.home_school.kind not in (SettingKind.MAINSTREAM, SettingKind.SPECIAL):
        return False
    if placement.route in SCHOOL_ARRANGED:
        return True
    return placement.route in LA_ROUTES and placement.registration in (Registration.DUAL, Registration.NONE)


def build(
    session: Session,
    actor: Actor,
    la: LocalAuthority,
    kind: str,
    year: int,
    term: str = "spring",
    school: Setting | None = None,
    *,
    audited: bool = True,
    reading: Session | None = None,
) -> Return:
    """A return's lines and its validation report. A school lead gets their own school's lines.
    `audited=False`: only its counts are shown (a home page), so it is not recorded as a report.
    `reading`: where the placements are read (a read replica); the permission and the audit
    event stay in `session`."""
    if kind not in RETURNS:
        raise DomainError(f"Unknown return {kind}: choose one of {', '.join(RETURNS)}")
    permissions.require(session, actor, "returns.view")
    user = actor.user
    if user is not None and user.setting_id is not None:
        if kind != "school-census":
            raise Forbidden("The AP census is the local authority's return")
        school = session.get(Setting, user.setting_id)
    if kind == "school-census" and term not in TERMS:
        raise DomainError(f"{term!r} is not a census term: choose autumn, spring or summer")
    start, end = census_period(kind, year, term)
    result = Return(kind, la, year, term, census_day(kind, year, term), (start, end), school=school)
    placements = _placements(reading or session, actor, la, start, end)
    if kind == "ap-census":
        _ap_census(result, placements)
    else:
        for placement in placements:
            if in_school_census(placement) and (school is None or placement.home_school_id == school.id):
                _line(result, placement, end)
    if not audited:
        return result
    audit.record(
        session,
        actor,
        "report",
        kind,
        la.code,
        detail={"year": year, "term": term, "lines": len(result.rows), "gaps": len(result.gaps)},
    )
    return result


def _ap_census(result: Return, placements: list[Placement]) -> None:
    """One record per child (the latest or last placement in the period), then the file, then
    its check: the validation report lists what the file itself fails."""
    from ap_register.returns import ap_census

    by_pupil: dict[int, list[Placement]] = {}
    for placement in placements:
        if in_ap_census(placement, result.la) and ap_census.born_in_scope(
            placement.pupil.date_of_birth, result.census_day.year
        ):
            by_pupil.setdefault(placement.pupil_id, []).append(placement)
    chosen = {}
    for held in by_pupil.values():
        chosen[ap_census.latest_or_last(held, result.census_day).id] = len(held)
    for placement in placements:  # in UPN order
        if placement.id in chosen:
            _line(result, placement, result.period[1], placements_in_period=chosen[placement.id])
    result.xml = ap_census.to_xml(result.la.code, result.census_day, result.rows, clock.now(), ap_census.release())
    codes = frozenset(code for _, code in CENSUS_REASONS.values())
    row_of = {row["upn"]: row for row in result.rows}
    setting_of = {p.id: p.setting_id for p in placements}
    pupil_of = {p.pupil.upn: p.pupil_id for p in placements}
    for failure in ap_census.check(result.xml, codes, result.period[0]):
        row = row_of.get(failure.upn)
        placement_id = row["placement_id"] if row else 0
        result.gaps.append(
            Gap(
                failure.record + 1,  # the line of the people's view (its header is line 1)
                failure.upn,
                failure.item,
                _advice(failure.item, row) or failure.message,
                placement_id,
                setting_of.get(placement_id),
                failure.severity,
                pupil_of.get(failure.upn) if failure.item in PUPIL_ITEMS else None,
            )
        )


# The AP census's items that are the child's own, not the placement's.
PUPIL_ITEMS = frozenset(
    {"upn", "first_name", "last_name", "date_of_birth", "sex", "ethnicity", "fsm_start", "fsm_end"}
    | {"sen_provision", "postcode", "uprn"}
)


def _advice(item: str, row: dict[str, Any] | None) -> str | None:
    """Where the register knows the fix for a value the file lacks, the words that say it."""
    if row is None:
        return None
    if item == "setting_type" and not (row["urn"] or row["ukprn"] or row["setting_type"]):
        return (
            f"{row['setting_name']} has no URN or UKPRN: record its type of setting "
            "(tuition, work-based, college or other)"
        )
    if item == "primary_reason" and not row["primary_reason"]:
        if row["route"] == Route.LA_HEALTH.value:
            return "Record whether the health need is mental or physical"
        return "Record the reason the placement was commissioned"
    return None


def _line(result: Return, placement: Placement, end: date, placements_in_period: int = 1) -> None:
    pupil, setting = placement.pupil, placement.setting
    line = len(result.rows) + 2  # the header is line 1 of the file
    urn, ukprn, setting_type = setting_items(setting)
    reason = reason_of(placement)
    label, code = CENSUS_REASONS[reason] if reason in CENSUS_REASONS else (None, None)
    leaving = placement.end_date if placement.end_date is not None and placement.end_date <= end else None
    sessions = placement.sessions.count("1")
    result.pupil_ids.add(pupil.id)
    row: dict[str, Any] = {}
    if result.kind == "ap-census":
        row = {"la_code": result.la.code, **_pupil(pupil), "sen_provision": pupil.sen_status.value}
        # Free school meals: the eligibility that falls in the census period, if any.
        fsm_from, fsm_to = pupil.fsm_start, pupil.fsm_end
        fsm = fsm_from is not None and fsm_from <= result.census_day and (fsm_to is None or fsm_to >= result.period[0])
        row.update(
            sex=pupil.sex,
            ethnicity=pupil.ethnicity,
            fsm_start=fsm_from.isoformat() if fsm and fsm_from else None,
            fsm_end=fsm_to.isoformat() if fsm and fsm_to else None,
            postcode=pupil.home_postcode,
            uprn=pupil.uprn,
            previous_urn=placement.home_school.urn if placement.home_school else None,
            placements_in_period=placements_in_period,
            primary_reason=code,
            primary_reason_label=label,
        )
    else:
        home = placement.home_school
        assert home is not None
        row = {"school_urn": home.urn, "school_name": home.name, **_pupil(pupil)}
        row.update(placement_reason=code, placement_reason_label=label)
    row.update(
        urn=urn,
        ukprn=ukprn,
        setting_type=setting_type,
        setting_name=setting.name,
        entry_date=placement.start_date.isoformat(),
        leaving_date=leaving.isoformat() if leaving else None,
        sessions_per_week=sessions,
        route=placement.route.value,
        placement_id=placement.id,
    )
    result.rows.append({name: row.get(name) for name in COLUMNS[result.kind]})
    if result.kind == "ap-census":
        return  # its report is the check of the file (`ap_census.check`)

    def gap(item: str, message: str) -> None:
        result.gaps.append(Gap(line, pupil.upn, item, message, placement.id, setting.id))

    if not (urn or ukprn or setting_type):
        gap(
            "setting_type",
            f"{setting.name} has no URN or UKPRN: record its type of setting (tuition, work-based, college or other)",
        )
    if code is None:
        if placement.route == Route.LA_HEALTH:
            gap("primary_reason", "Record whether the health need is mental or physical")
        else:
            gap("primary_reason", "Record the reason the placement was commissioned")
    if sessions == 0:
        gap("sessions_per_week", "The placement has no sessions in its weekly pattern")
    if not row.get("school_urn"):
        gap("school_urn", f"{row['school_name']} has no URN: it cannot make a school census return")


def _pupil(pupil: Pupil) -> dict[str, Any]:
    return {
        "upn": pupil.upn,
        "first_name": pupil.first_name,
        "last_name": pupil.last_name,
        "date_of_birth": pupil.date_of_birth.isoformat(),
    }


GAP_COLUMNS = ["line", "upn", "item", "message", "severity", "placement_id"]


def set_census_reason(session: Session, actor: Actor, placement: Placement, reason: str | None) -> None:
    """The census reason of a placement whose route does not settle it (audited)."""
    permissions.require(session, actor, "placement.review", placement)
    if reason is not None and reason not in CENSUS_REASONS:
        raise DomainError("The reason was not saved", [FieldError("census_reason", "Choose a reason from the list")])
    if placement.route in REASON_BY_ROUTE and reason not in (None, REASON_BY_ROUTE[placement.route]):
        raise DomainError(
            "The reason was not saved",
            [FieldError("census_reason", "This route's reason is set by the route itself")],
        )
    before = placement.census_reason
    placement.census_reason = reason
    audit.record(
        session,
        actor,
        "update",
        "placement",
        placement.id,
        pupil_id=placement.pupil_id,
        detail={"census_reason": [before, reason]},
    )


def set_census_setting_type(session: Session, actor: Actor, setting: Setting, kind: str | None) -> None:
    """The census's type of setting for a provider with no URN or UKPRN (audited)."""
    permissions.require(session, actor, "setting.edit_oversight", setting)
    if kind is not None and kind not in SETTING_TYPES:
        raise DomainError("The type was not saved", [FieldError("census_setting_type", "Choose a type from the list")])
    before = setting.census_setting_type
    setting.census_setting_type = kind
    audit.record(session, actor, "update", "setting", setting.id, detail={"census_setting_type": [before, kind]})
