"""The API's shapes, as pydantic models: the same classes validate what comes in, write what goes
out and generate the OpenAPI document, so the document cannot drift from the code."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from ap_register.casework.contacts import CONTACT_BY, RELATIONSHIPS, ROLES
from ap_register.coverage.rules import FLAG_LABELS
from ap_register.domain.text import control_character_problem
from ap_register.domain.typed import FIRST_YEAR, LAST_YEAR, MAX_ID
from ap_register.domain.vocab import (
    PART_TIME_PURPOSES,
    Destination,
    MovementKind,
    Registration,
    Role,
    Route,
    SettingKind,
    Tier,
)
from ap_register.returns.rules import CENSUS_REASONS


def _one_line(value: str) -> str:
    problem = control_character_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _free_text(value: str) -> str:
    problem = control_character_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


# Every text the API takes is one of these: a single line (a code, a search) holds no control
# character at all; free text (notes, reasons) holds line breaks and tabs, and no other. Neither
# holds a NUL byte. The pages and imports ask the same module (domain/text.py).
OneLine = Annotated[str, AfterValidator(_one_line)]
FreeText = Annotated[str, AfterValidator(_free_text)]

Sessions = Annotated[
    str,
    StringConstraints(pattern=r"^[01]{10}$"),
    Field(description="Ten 0/1 characters: Mon AM, Mon PM, Tue AM, ... Fri PM (1111111111 is full time)"),
]
CensusReason = Literal[tuple(CENSUS_REASONS)]  # type: ignore[valid-type]
PartTimePurpose = Literal[tuple(PART_TIME_PURPOSES)]  # type: ignore[valid-type]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[FreeText, StringConstraints(max_length=2000)]
NoticeLine = Annotated[OneLine, StringConstraints(max_length=400)]
NoticeAddress = Annotated[FreeText, StringConstraints(max_length=400)]
NoticeReasons = Annotated[FreeText, StringConstraints(max_length=4000)]
# The years a date may have on a page, in a file or here alike (domain/typed.py).
Day = Annotated[date, Field(ge=date(FIRST_YEAR, 1, 1), le=date(LAST_YEAR, 12, 31))]
# Pounds and pence, as the pages take them (£1 to £1,000,000).
# Pounds and pence, up to 9 digits; how much a use is allowed is its rule's (as on the pages).
Money = Annotated[Decimal, Field(max_digits=9, decimal_places=2)]


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Query strings: an unknown parameter is refused, so that a misspelt filter (`pupilid=5`)
    is an error rather than a list of everything."""

    model_config = ConfigDict(extra="forbid")


# --- errors ---------------------------------------------------------------------------------


class FieldProblem(BaseModel):
    field: str = Field(description="The field, query parameter or body path (a.b.0.c) at fault; empty for the whole")
    message: str


class ErrorDetail(BaseModel):
    status: int
    title: str
    message: str
    errors: list[FieldProblem] = Field(default_factory=list)


class ErrorBody(BaseModel):
    error: ErrorDetail


# --- pagination -----------------------------------------------------------------------------


class PageQuery(Query):
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    per_page: Annotated[int, Field(ge=1, le=200)] = 50


class PageInfo(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int


# --- who is calling -------------------------------------------------------------------------


class Me(BaseModel):
    name: str
    role: Role
    organisation: str
    la_code: str
    setting_id: int | None
    expires_at: datetime | None


# --- settings -------------------------------------------------------------------------------


class SettingOut(BaseModel):
    id: int
    ref: str
    name: str
    kind: SettingKind
    la_code: str
    urn: str | None
    ukprn: str | None
    postcode: str | None
    phase: str | None
    open: bool


class SettingsQuery(PageQuery):
    kind: SettingKind | None = None
    q: Annotated[OneLine, StringConstraints(max_length=100)] = Field("", description="Part of a name, a ref or a URN")
    include_closed: bool = False


class SettingPage(PageInfo):
    items: list[SettingOut]


# --- pupils ---------------------------------------------------------------------------------


class PupilOut(BaseModel):
    id: int
    upn: str
    first_name: str
    last_name: str
    date_of_birth: date
    home_la_code: str
    home_school_id: int | None
    home_school_ref: str | None
    sen_status: str = Field(description="N none, K SEN support, E EHC plan")
    primary_need: str | None
    child_in_need: bool
    looked_after: bool


class PupilsQuery(PageQuery):
    q: Annotated[OneLine, StringConstraints(max_length=100)] = Field("", description="A UPN, or words of a name")
    setting_id: Id | None = Field(None, description="Only pupils on this setting's roll or placed there")


class PupilPage(PageInfo):
    items: list[PupilOut]


# --- placements -----------------------------------------------------------------------------


class PlacementOut(BaseModel):
    id: int
    pupil_id: int
    upn: str
    setting_id: int
    setting_ref: str
    setting_name: str
    route: Route
    registration: Registration
    tier: Tier | None
    sessions: str
    start_date: date
    planned_end_date: date | None
    end_date: date | None
    destination: Destination | None
    notice_date: date | None
    last_review_date: date | None
    next_review_date: date | None
    home_school_id: int | None
    home_school_code: str | None
    census_reason: str | None = Field(description="The reason returned in the census (set or settled by the route)")
    status: Literal["planned", "active", "ended"]
    notice_missing: list[str] = Field(
        description="An off-site direction: what its written notice must still state (empty when complete)"
    )
    from_old_records: bool = Field(
        description="Started before the LA adopted the register: brought in from its old records, without the "
        "checks that gate a new placement"
    )


class PlacementsQuery(PageQuery):
    pupil_id: Id | None = None
    setting_id: Id | None = Field(None, description="Placed at, or on the roll of, this setting")
    route: Route | None = None
    tier: Tier | None = None
    status: Literal["planned", "active", "ended"] | None = Field(None, description="Judged today")


class PlacementPage(PageInfo):
    items: list[PlacementOut]


class PlacementIn(Strict):
    pupil_id: Id
    setting_id: Id
    route: Route
    registration: Registration
    sessions: Sessions
    start_date: Day
    tier: Tier | None = None
    planned_end_date: Day | None = None
    notice_date: Day | None = Field(None, description="Written notice of an off-site direction")
    last_review_date: Day | None = None
    reason: Text | None = None
    reintegration_plan: Text | None = Field(None, description="How the pupil returns: needed for a time-limited place")
    destination_plan: Text | None = Field(None, description="Where a transitional placement leads")
    destination_setting_id: Id | None = Field(None, description="The school a transitional placement leads to")
    unregistered_override_reason: Text | None = Field(
        None, description="Why an unregistered provider is used beyond its cap (at least 20 characters)"
    )
    spot_purchase: bool = Field(False, description="Paid outside the budget plan, from the reserve")
    agreed_cost: Money | None = Field(None, description="The agreed cost of a spot purchase, in pounds")
    spot_reason: Text | None = Field(None, description="Why a spot purchase is outside the plan")
    parent_agreed_on: Day | None = Field(None, description="A part-time timetable: the day the parent agreed to it")
    part_time_purpose: PartTimePurpose | None = Field(
        None, description="A part-time timetable: medical, reintegration or other (never behaviour)"
    )
    census_reason: CensusReason | None = Field(None, description="Where the route does not settle it")
    notice_address: NoticeAddress | None = Field(None, description="Off-site direction notice: where the pupil attends")
    notice_report_to: NoticeLine | None = Field(
        None, description="Off-site direction notice: who the pupil reports to on the first day"
    )
    notice_session_times: NoticeLine | None = Field(None, description="Off-site direction notice: the sessions' times")
    notice_reasons: NoticeReasons | None = Field(
        None, description="Off-site direction notice: the reasons for the direction and what it is meant to achieve"
    )
    la_notice_date: Day | None = Field(
        None, description="Off-site direction of a pupil with an EHC plan: the day notice went to the LA"
    )


class PlacementCreated(BaseModel):
    placement: PlacementOut
    warnings: list[str]


class NoticeIn(Strict):
    """What an off-site direction's written notice says (SI 2010/1156 reg 3(4)): every part, as the
    notice page takes it; a blank part is recorded as not yet known."""

    address: NoticeAddress | None = Field(None, description="Where the pupil attends")
    report_to: NoticeLine | None = Field(None, description="Who the pupil reports to on the first day")
    session_times: NoticeLine | None = Field(None, description="The times of the sessions")
    reasons: NoticeReasons | None = Field(None, description="The reasons for the direction and what it aims to achieve")
    la_notice_date: Day | None = Field(None, description="An EHC plan: the day notice went to the LA")


ContactRole = Literal[tuple(ROLES)]  # type: ignore[valid-type]
Relation = Literal[tuple(RELATIONSHIPS)]  # type: ignore[valid-type]
ContactBy = Literal[tuple(CONTACT_BY)]  # type: ignore[valid-type]


class ContactIn(Strict):
    """A person around the child: the same checks as the child's page (casework/contacts.py)."""

    pupil_id: Id
    role: ContactRole
    name: Annotated[OneLine, StringConstraints(min_length=1, max_length=200)]
    relation: Relation | None = Field(
        None, description="A parent or carer's relationship to the child (needed for one)"
    )
    parental_responsibility: bool | None = Field(None, description="A parent or carer; null when not known")
    lives_with: bool | None = Field(None, description="Whether the child lives with them; null when not known")
    organisation: Annotated[OneLine, StringConstraints(max_length=200)] | None = None
    setting_id: Id | None = Field(None, description="A SENCo or key worker: the setting they work at")
    phone: Annotated[OneLine, StringConstraints(max_length=30)] | None = None
    email: Annotated[OneLine, StringConstraints(max_length=254)] | None = None
    address: Annotated[FreeText, StringConstraints(max_length=400)] | None = None
    contact_by: ContactBy | None = None
    preferences: Annotated[FreeText, StringConstraints(max_length=400)] | None = None
    restriction: Annotated[FreeText, StringConstraints(max_length=400)] | None = Field(
        None, description="For example, a court order of no contact; the contact's details are then the LA's alone"
    )
    audience: Literal["la", "all"] | None = Field(
        None, description="`all` (default): the LA and the settings that work with the child; `la`: the LA's officers"
    )


class ContactOut(BaseModel):
    id: int
    pupil_id: int
    role: str
    name: str
    relation: str | None
    parental_responsibility: bool | None
    lives_with: bool | None
    organisation: str | None
    setting_id: int | None
    withheld: bool = Field(description="A restricted contact's details, held by the child's LA alone: null here")
    phone: str | None
    email: str | None
    address: str | None
    contact_by: str | None
    preferences: str | None
    restriction: str | None
    audience: str


class ContactList(BaseModel):
    items: list[ContactOut]


class ReviewIn(Strict):
    review_date: Day
    notes: Annotated[FreeText, StringConstraints(min_length=1, max_length=5000)]
    next_review_date: Day | None = None
    planned_end_date: Day | None = Field(None, description="A new planned end: an extension")
    pupil_took_part: bool = Field(False, description="The pupil took part in the review")
    parents_took_part: bool = Field(False, description="The parents took part: needed to review a part-time timetable")


class ReviewOut(BaseModel):
    id: int
    placement_id: int
    review_date: date
    notes: str
    next_review_date: date | None


class EndIn(Strict):
    end_date: Day
    destination: Destination
    reason: Text | None = None


# --- movements ------------------------------------------------------------------------------


class MovementOut(BaseModel):
    id: int
    pupil_id: int
    upn: str
    date: date
    kind: MovementKind
    setting_id: int | None
    setting_ref: str | None
    placement_id: int | None
    days: int | None
    reason: str | None
    recorded_via: str
    recorded_at: datetime


class MovementsQuery(PageQuery):
    pupil_id: Id | None = None
    since: Day | None = Field(None, description="Movements dated on or after this day")


class MovementPage(PageInfo):
    items: list[MovementOut]


# --- attendance -----------------------------------------------------------------------------


class MarkIn(Strict):
    pupil_id: Id
    setting_id: Id
    date: Day
    # AM or PM in either case, as the register page and a file take it.
    session: Annotated[Literal["AM", "PM"], BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v)]
    code: Annotated[OneLine, StringConstraints(min_length=1, max_length=2)] = Field(
        description="A national attendance code in use (School Attendance (Pupil Registration) Regulations 2024)"
    )


class MarksIn(Strict):
    marks: Annotated[list[MarkIn], Field(min_length=1, max_length=5000)]


class MarksWritten(BaseModel):
    received: int
    written: int = Field(description="Marks new or changed; a mark sent again unchanged is not written twice")


class MarkOut(BaseModel):
    pupil_id: int
    setting_id: int
    date: date
    session: Literal["AM", "PM"]
    code: str


class MarksQuery(PageQuery):
    setting_id: Id | None = None
    pupil_id: Id | None = None
    date_from: Day | None = None
    date_to: Day | None = None


class MarkPage(PageInfo):
    items: list[MarkOut]


# --- alerts ---------------------------------------------------------------------------------


class AlertOut(BaseModel):
    id: int
    kind: str
    pupil_id: int | None
    upn: str | None
    setting_id: int | None
    placement_id: int | None
    due: date
    message: str
    status: str


class AlertsQuery(PageQuery):
    status: Literal["open", "acknowledged", "resolved"] | None = Field("open", description="Default: open")


class AlertPage(PageInfo):
    items: list[AlertOut]


# --- coverage -------------------------------------------------------------------------------

Flag = Literal[tuple(FLAG_LABELS)]  # type: ignore[valid-type]


class PupilCoverage(BaseModel):
    pupil_id: int
    upn: str
    planned_sessions: int
    unregistered_sessions: int
    flags: list[Flag]
    gaps: list[str]
    overlaps: list[str]


class CoverageQuery(Query):
    week: Day = Field(description="The Monday the school week starts")


class PupilCoverageOut(BaseModel):
    la: str
    week: date
    required_sessions: int
    in_scope: bool
    pupil: PupilCoverage | None


class CoverageOut(BaseModel):
    la: str
    week: date
    required_sessions: int
    pupils: list[PupilCoverage]


# --- scores ---------------------------------------------------------------------------------


class FigureOut(BaseModel):
    value: float | None
    n: int | None = Field(description="Pupils counted; null when the figure is suppressed (its n is the small number)")
    ci_low: float | None
    ci_high: float | None
    suppressed: bool
    band: str
    benchmark: float | None
    benchmark_source: str | None


class Outcomes(BaseModel):
    outreach: FigureOut
    attendance: FigureOut
    reintegration: FigureOut
    english_maths: FigureOut
    post16: FigureOut


class ProviderScoresOut(BaseModel):
    setting_ref: str
    name: str
    outcomes: Outcomes


class ScoresQuery(Query):
    year: Annotated[str, StringConstraints(pattern=r"^\d{4}/\d{2}$")] | None = Field(
        None, description="An academic year such as 2025/26 (default: the last complete year)"
    )


class ScoresOut(BaseModel):
    la: str
    year: str
    providers: list[ProviderScoresOut]
