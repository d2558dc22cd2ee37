"""The five-outcome framework: effective outreach, improved attendance, reintegration, English
and maths, post-16 transitions; per AP provider and academic year.

No official formulas exist yet. These are ours, and every one is stated in DEFINITIONS (the
methodology page prints them from there). Each figure carries its n and a 95% Wilson interval;
below MIN_N it is suppressed, never shown as zero; a band (above or below) is given only when the
interval excludes the benchmark.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import NamedTuple

from sqlalchemy import String, bindparam, case, func, or_, select, text, type_coerce
from sqlalchemy.orm import Session, joinedload

from ap_register import clock, permissions
from ap_register.domain.actors import Actor
from ap_register.domain.bulk import among, collector_paused, json_rows, roomy, rows_table
from ap_register.domain.calendar import SchoolCalendar, calendars_for
from ap_register.domain.errors import CalendarUnknown
from ap_register.domain.pupils import year_group
from ap_register.domain.reference_data import attendance_codes
from ap_register.domain.vocab import (
    AP_KINDS,
    DESTINATION_LABELS,
    Destination,
    MovementKind,
    SenStatus,
    SettingKind,
    Tier,
)
from ap_register.models import (
    AttendanceMark,
    Ks4Result,
    LocalAuthority,
    OutreachEngagement,
    Placement,
    Post16Check,
    Pupil,
    Score,
    Setting,
)
from ap_register.placements.roll import settings_on_roll
from ap_register.years import AcademicYear

OUTCOMES = ("outreach", "attendance", "reintegration", "english_maths", "post16")
LABELS = {
    "outreach": "Effective outreach",
    "attendance": "Attendance",
    "reintegration": "Reintegration",
    "english_maths": "English and maths",
    "post16": "Post-16 transitions",
}
MIN_N = 6  # figures for fewer pupils are suppressed
Z = 1.959964  # 95%
TERM = 63  # school days in a term: a school year of 190 days in three terms, rounded up
# Providers scored: AP schools and registered providers. Unregistered providers are not schools:
# their pupils stay on a school's roll, which records their attendance and results.
SCORED_KINDS = frozenset(AP_KINDS - {SettingKind.UNREGISTERED_AP})
UNSCORED_WHY = (
    "Unregistered providers are not scored: their pupils stay on a school's roll, and that school "
    "records their attendance and results."
)


def unscored(session: Session, actor: Actor, la: LocalAuthority) -> list[Setting]:
    """The LA's alternative provision that the comparison leaves out (unregistered providers)."""
    stmt = select(Setting).where(Setting.la_id == la.id, Setting.kind == SettingKind.UNREGISTERED_AP)
    return list(session.scalars(permissions.scope_settings(actor, stmt.order_by(Setting.name))))


MAINSTREAM = frozenset({SettingKind.MAINSTREAM})
RETURNS = frozenset({Destination.RETURNED_HOME_SCHOOL, Destination.NEW_MAINSTREAM_SCHOOL})
GCSE_PASS = frozenset("123456789")
GCSE_STRONG = frozenset("456789")
FUNCTIONAL_SKILLS = ("E1", "E2", "E3", "L1", "L2")
GRADES = tuple("987654321") + ("U",) + FUNCTIONAL_SKILLS
ACTIVITIES = {
    "education": "Education (school sixth form, college, other)",
    "apprenticeship": "Apprenticeship",
    "employment_with_training": "Employment with training",
    "employment": "Employment without training",
    "neet": "Not in education, employment or training",
    "not_known": "Not known",
}
SUSTAINED = frozenset({"education", "apprenticeship", "employment_with_training", "employment"})
CHECK_POINTS = ("october", "march")

DEFINITIONS = {
    "outreach": (
        "Of the pupils a provider supported one to one in tier 1 outreach whose engagement closed in "
        f"the year, the share who, two terms ({2 * TERM} school days) after it closed, were on a "
        "mainstream school's roll, had not been permanently excluded and had not started a placement "
        "in alternative provision. Engagements with a group are not counted (their pupils are not "
        "named); engagements whose two terms have not yet passed wait for the next calculation."
    ),
    "attendance": (
        "Sessions attended (present, or approved educational activity) as a share of possible "
        "sessions in the provider's registers for the year, using DfE's classes of the 2024 codes: "
        "every pupil's sessions are added together, so each pupil counts by their sessions (attended of "
        "possible), never as met or not met, and a pupil with more sessions weighs more. "
        "n is the number of pupils with marks: the interval treats each pupil, not each session, as "
        "one observation, so it is wider than a session count would give. Beside it: the change, in "
        "percentage points, against the same pupils' attendance in the two terms "
        f"({2 * TERM} school days) before their placement began, for pupils with marks in both."
    ),
    "reintegration": (
        "Of the time-limited placements at the provider that ended in the year, the share that ended "
        "in a return to mainstream (the home school or a new mainstream school) with the pupil still "
        f"on a mainstream school's roll one term ({TERM} school days) later. Placements converted to "
        "transitional ones count as not reintegrated. Placements whose term has not yet passed wait."
    ),
    "english_maths": (
        "Of the provider's Year 11 leavers, the share with GCSE grade 4 or above in both English and "
        "maths; beside it, the share with GCSE grade 1 or above in both, and the share with grade 4 or "
        "above or a functional skills Level 2 in each. A functional skills qualification is shown beside "
        "the measure, never counted as a GCSE grade. A Year 11 pupil is the provider's when "
        "placed there at any time from 1 January of Year 11 to the end of that year (the latest "
        "such provider when there are two). Leavers with no recorded result count as not achieving."
    ),
    "post16": (
        "Of the provider's Year 11 leavers of the previous academic year, the share in a sustained "
        "destination as the DfE's key stage 4 destination measure defines it: education, an "
        "apprenticeship or employment through the first two terms after leaving, read here from the "
        "checks in October and March (both must show one). A missing or 'not known' check counts as "
        "not sustained."
    ),
}
HONESTY = (
    f"Every figure shows its n, the number of pupils (or engagements, or placements) behind it, and "
    f"a 95% Wilson score interval. Figures for fewer than {MIN_N} are suppressed: shown as such, "
    f"never as zero, and without their n, which would be the small number itself. Where one "
    f"provider's figure is suppressed, a second is withheld too (the next "
    f"smallest, or the LA's total when there is no other), so that no suppressed figure can be worked "
    f"out from the total and the rest. A provider is above or below a benchmark only when the whole interval is above "
    f"or below it; otherwise it is in line. The benchmark is the national figure where one is "
    f"published, else the LA's own figure (all its providers together)."
)


# --- numbers ---------------------------------------------------------------------------------


def wilson(successes: float, n: int, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval for a proportion, as fractions."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


@dataclass(frozen=True)
class Benchmark:
    value: float  # percent
    label: str
    kind: str  # national or la


@dataclass
class PupilResult:
    """One pupil (or engagement, or placement) behind a figure, for those allowed to see them."""

    pupil_id: int
    met: bool
    detail: str
    # What the pupil adds to the figure when it is not met or not met (attendance counts
    # sessions): said in place of "Met" or "Not met".
    counted: str | None = None


@dataclass
class Figure:
    outcome: str
    n: int
    successes: float
    benchmark: Benchmark | None = None
    extra: dict[str, object] = field(default_factory=dict)
    pupils: list[PupilResult] = field(default_factory=list)
    pending: int = 0  # not yet due: counted next time
    pupil_count: int | None = None  # read back from a stored score, whose pupils are not kept
    # Withheld though its n is enough, so that a suppressed figure beside it cannot be worked out.
    withheld: bool = False

    @property
    def has_pupils(self) -> bool:
        return bool(self.pupils) or bool(self.pupil_count)

    @property
    def suppressed(self) -> bool:
        return self.n < MIN_N or self.withheld

    @property
    def value(self) -> float | None:
        return None if self.suppressed else round(100 * self.successes / self.n, 1)

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.suppressed:
            return None
        low, high = wilson(self.successes, self.n)
        return round(100 * low, 1), round(100 * high, 1)

    @property
    def band(self) -> str:
        if self.withheld:
            return "withheld"
        if self.suppressed or self.benchmark is None:
            return "not enough data" if self.suppressed else "no benchmark"
        low, high = wilson(self.successes, self.n)
        if 100 * low > self.benchmark.value:
            return "above"
        if 100 * high < self.benchmark.value:
            return "below"
        return "in line"

    def as_json(self) -> dict[str, object]:
        interval = self.interval
        return {
            "value": self.value,
            # A suppressed figure's n is itself the small number it hides.
            "n": None if self.suppressed else self.n,
            "ci_low": interval[0] if interval else None,
            "ci_high": interval[1] if interval else None,
            "suppressed": self.suppressed,
            "band": self.band,
            "benchmark": self.benchmark.value if self.benchmark else None,
            "benchmark_source": self.benchmark.label if self.benchmark else None,
        }


# --- benchmarks -------------------------------------------------------------------------------


@cache
def pru_attendance() -> dict[str, tuple[str, float]]:
    """Attendance in pupil referral units, autumn and spring terms: England ('national') and each
    LA by its DfE code, for the latest year published (from DfE's pupil absence statistics)."""
    found: dict[str, tuple[str, float]] = {}
    path = resources.files("ap_register").joinpath("reference", "pru_absence_2term.csv")
    with path.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            try:
                absence = float(row["sess_overall_percent"])
            except ValueError:
                continue  # suppressed: x, z
            key = "national" if row["geographic_level"] == "National" else row["old_la_code"]
            if row["geographic_level"] not in ("National", "Local authority"):
                continue
            if key not in found or row["time_period"] > found[key][0]:
                found[key] = (row["time_period"], round(100 - absence, 1))
    return found


def _period(code: str) -> str:
    return f"{code[:4]}/{code[4:]}"


def national_benchmarks() -> dict[str, Benchmark]:
    period, rate = pru_attendance()["national"]
    return {
        "attendance": Benchmark(
            rate,
            f"England, pupil referral units, autumn and spring terms {_period(period)} "
            "(DfE, Pupil absence in schools in England)",
            "national",
        ),
        "english_maths": Benchmark(
            4.5,
            "England, pupils in alternative provision, 2018/19: GCSE grade 4 or above in English and maths "
            "(DfE key stage 4 performance, as quoted in the SEND and AP green paper, 2022)",
            "national",
        ),
        "post16": Benchmark(
            55.0,
            "England, alternative provision leavers, 2019/20: sustained education, apprenticeship or "
            "employment (DfE key stage 4 destination measures, as quoted in the SEND and AP green paper, 2022)",
            "national",
        ),
    }


# --- the cohort of a year ---------------------------------------------------------------------


@dataclass
class Context:
    cohort: int = 0
    ehcp: int = 0
    semh: int = 0
    child_in_need: int = 0

    def share(self, count: int) -> float | None:
        return None if self.cohort < MIN_N else round(100 * count / self.cohort, 1)


@dataclass
class ProviderScores:
    provider: Setting | None  # None: the whole LA
    figures: dict[str, Figure]
    context: Context


@dataclass
class Scores:
    la: LocalAuthority
    year: int
    on: date
    providers: list[ProviderScores]
    area: ProviderScores
    computed_at: datetime | None = None  # when read back from the nightly job's stored scores

    def as_json(self) -> dict[str, object]:
        return {
            "la": self.la.code,
            "year": AcademicYear(self.year).label,
            "providers": [
                {
                    "setting_ref": p.provider.ref if p.provider else None,
                    "name": p.provider.name if p.provider else None,
                    "outcomes": {name: p.figures[name].as_json() for name in OUTCOMES},
                }
                for p in self.providers
            ],
        }


class _Placed(NamedTuple):
    """A placement as the measures read it: plain values, the enums' as text (they compare equal
    to the StrEnum members), as a nation holds hundreds of thousands."""

    id: int
    pupil_id: int
    setting_id: int
    start_date: date
    end_date: date | None
    tier: str | None  # a Tier
    destination: str | None  # a Destination
    la_id: int  # the pupil's home LA: the LA whose data this placement is
    kind: str | None  # the setting's SettingKind when it is the LA's own, else None (not its data)


class _Child(NamedTuple):
    id: int
    date_of_birth: date
    sen_status: str | None  # a SenStatus
    primary_need: str | None
    child_in_need: bool | None


class _Data:
    """Everything the measures read for a set of LAs, loaded at once: one LA for a page, many for
    the nightly job. Each LA's data is its own, as if scored alone: the placements of its pupils
    at its own settings, their roll at its own schools, on its own calendar."""

    def __init__(self, session: Session, las: Sequence[LocalAuthority], year: int, on: date):
        self.session, self.year, self.on = session, year, on
        la_ids = [la.id for la in las]
        roomy(session)
        self.calendars: dict[int, SchoolCalendar] = calendars_for(session, las)
        self._later: dict[tuple[int, date, int], date | None] = {}
        settings = session.execute(
            select(Setting.id, Setting.la_id, Setting.kind).where(Setting.la_id.in_(la_ids))
        ).all()
        self.setting_la = {setting_id: la_id for setting_id, la_id, _ in settings}
        self.kinds = {setting_id: kind for setting_id, _, kind in settings}
        self.providers = list(
            session.scalars(
                select(Setting).where(Setting.la_id.in_(la_ids), Setting.kind.in_(SCORED_KINDS)).order_by(Setting.name)
            )
        )
        first, _ = AcademicYear(year - 1).span
        _, last = AcademicYear(year).span
        # The placements that touch the year or the one before (what the measures look at); not
        # those that began after it: the columns the measures use, and their pupil's, read as
        # plain rows through the Core connection (a nation's are hundreds of thousands: the ORM's
        # work on each row would cost more than the query).
        rows = session.connection().execute(
            select(
                Placement.id,
                Placement.pupil_id,
                Placement.setting_id,
                Placement.start_date,
                Placement.end_date,
                type_coerce(Placement.tier, String),
                type_coerce(Placement.destination, String),
                Pupil.home_la_id,
                Pupil.date_of_birth,
                type_coerce(Pupil.sen_status, String),
                Pupil.primary_need,
                Pupil.child_in_need,
            )
            .join(Pupil, Placement.pupil_id == Pupil.id)
            .where(
                Pupil.home_la_id.in_(la_ids),
                or_(Placement.end_date.is_(None), Placement.end_date >= first),
                Placement.start_date <= last,
            )
            .order_by(Placement.id)
        )
        own, placed, child = self.kind, _Placed._make, _Child._make
        self.placements = []
        self.pupils = {}
        for row in rows:
            self.placements.append(placed((*row[:8], own(row[7], row[2]))))
            if row[1] not in self.pupils:
                self.pupils[row[1]] = child((row[1], *row[8:]))

    def kind(self, la_id: int, setting_id: int | None) -> SettingKind | None:
        """The kind of a setting, when it is one of this LA's (another LA's settings are not its data)."""
        return self.kinds.get(setting_id) if setting_id and self.setting_la.get(setting_id) == la_id else None

    def later(self, la_id: int, day: date, school_days: int) -> date | None:
        """The school day that many after `day` in the LA's calendar, or None when it has not come
        yet (or the LA's term dates do not reach it). Kept: thousands of placements end on a day."""
        key = (la_id, day, school_days)
        if key not in self._later:
            try:
                found: date | None = self.calendars[la_id].add_school_days(day, school_days)
            except CalendarUnknown:
                found = None
            self._later[key] = found if found is not None and found <= self.on else None
        return self._later[key]

    def on_mainstream_roll(self, asked: Sequence[tuple[int, int, date]]) -> list[bool]:
        """For each (LA, pupil, day) asked, whether the pupil was on the roll of a mainstream
        school of that LA that day: one query for them all."""
        # A pupil whose permanent exclusion is in process is on the roll, but has not stayed in school.
        found = settings_on_roll(self.session, [(pupil_id, day) for _, pupil_id, day in asked], while_excluded=False)
        return [
            self.kind(la_id, setting_id) in MAINSTREAM for (la_id, _, _), setting_id in zip(asked, found, strict=True)
        ]

    def leavers(self, year: int) -> dict[int, list[int]]:
        """Each provider's Year 11 pupils of an academic year: placed there at any time from
        1 January of Year 11 to its end (the latest such provider)."""
        start, end = date(year + 1, 1, 1), AcademicYear(year).span[1]
        latest: dict[int, _Placed] = {}
        for p in self.placements:
            if p.start_date > end or (p.end_date is not None and p.end_date < start):
                continue
            if p.kind not in SCORED_KINDS:
                continue
            pupil = self.pupils.get(p.pupil_id)
            if pupil is None or year_group(pupil.date_of_birth, start) != 11:
                continue
            if p.pupil_id not in latest or p.start_date > latest[p.pupil_id].start_date:
                latest[p.pupil_id] = p
        found: dict[int, list[int]] = defaultdict(list)
        for pupil_id, p in latest.items():
            found[p.setting_id].append(pupil_id)
        return found


# --- the five measures ------------------------------------------------------------------------


@cache
def _shown(day: date) -> str:
    """A date as the pupils' details show it (kept: a nation's placements end on a few hundred days)."""
    return f"{day:%-d %b %Y}"


def _outreach(data: _Data) -> dict[int, Figure]:
    start, end = AcademicYear(data.year).span
    figures: dict[int, Figure] = defaultdict(lambda: Figure("outreach", 0, 0))
    # Plain rows, not ORM objects: a nation's year is tens of thousands of engagements.
    engagements = data.session.connection().execute(
        select(OutreachEngagement.provider_id, OutreachEngagement.pupil_id, OutreachEngagement.closed_on)
        .where(
            OutreachEngagement.pupil_id.is_not(None),
            OutreachEngagement.closed_on >= start,
            OutreachEngagement.closed_on <= end,
            OutreachEngagement.provider_id.in_([p.id for p in data.providers]),
        )
        .order_by(OutreachEngagement.id)
    )
    due: list[tuple[int, int, date, int, date]] = []  # provider, pupil, closed on, LA, check
    for provider_id, pupil_id, closed_on in engagements:
        la_id = data.setting_la[provider_id]
        check = data.later(la_id, closed_on, 2 * TERM)
        if check is None:
            figures[provider_id].pending += 1
        else:
            due.append((provider_id, pupil_id, closed_on, la_id, check))
    in_mainstream = data.on_mainstream_roll([(la_id, pupil_id, check) for _, pupil_id, _, la_id, check in due])
    since = _since_closing(data, [(pupil_id, la_id, closed_on, check) for _, pupil_id, closed_on, la_id, check in due])
    for (provider_id, pupil_id, closed_on, _, check), stayed, (excluded, placed) in zip(
        due, in_mainstream, since, strict=True
    ):
        figure = figures[provider_id]
        met = stayed and not excluded and not placed
        figure.n += 1
        figure.successes += met
        why = (
            "in mainstream"
            if met
            else "permanently excluded"
            if excluded
            else "placed in alternative provision"
            if placed
            else "not on a mainstream roll"
        )
        figure.pupils.append(PupilResult(pupil_id, met, f"Closed {_shown(closed_on)}; {why} on {_shown(check)}"))
    return figures


SINCE_COLUMNS = (("i", "int"), ("pupil_id", "int"), ("la_id", "int"), ("low", "date"), ("high", "date"))


def _since_closing(data: _Data, asked: Sequence[tuple[int, int, date, date]]) -> list[tuple[bool, bool]]:
    """For each (pupil, LA, closed on, check) asked: whether the pupil was permanently excluded,
    and whether they began a placement in AP at one of the LA's settings (the LA's own pupil),
    from the day the engagement closed to the check, in one query. The placements are read here,
    not from the year's: a check two terms on can fall after the year has ended."""
    if not asked:
        return []
    query = text(
        f"""
        SELECT w.i,
               EXISTS (SELECT 1 FROM movement m WHERE m.pupil_id = w.pupil_id AND m.kind = :excluded
                       AND m.date >= w.low AND m.date <= w.high),
               EXISTS (SELECT 1 FROM placement p JOIN setting s ON s.id = p.setting_id
                       JOIN pupil u ON u.id = p.pupil_id
                       WHERE p.pupil_id = w.pupil_id AND u.home_la_id = w.la_id AND s.la_id = w.la_id
                       AND s.kind IN :ap AND p.start_date >= w.low AND p.start_date <= w.high)
        FROM {rows_table(data.session, "w", SINCE_COLUMNS)}
        """
    ).bindparams(bindparam("ap", expanding=True))
    found = [(False, False)] * len(asked)
    for i, excluded, placed in data.session.connection().execute(
        query,
        {
            "w": json_rows(SINCE_COLUMNS, ((i, *row) for i, row in enumerate(asked))),
            "excluded": MovementKind.PERMANENT_EXCLUSION.value,
            "ap": sorted(k.value for k in AP_KINDS),
        },
    ):
        found[i] = (bool(excluded), bool(placed))
    return found


def _classes() -> tuple[list[str], list[str]]:
    """The codes that count in possible sessions, and those of them that count as attendance."""
    codes = attendance_codes().values()
    possible = [c.code for c in codes if c.counts_in_possible_sessions]
    return possible, [c.code for c in codes if c.counts_in_possible_sessions and c.counts_as_attendance]


def _attendance(data: _Data) -> dict[int, Figure]:
    start, end = AcademicYear(data.year).span
    end = min(end, data.on)
    figures: dict[int, Figure] = defaultdict(lambda: Figure("attendance", 0, 0))
    possible_codes, attending = _classes()
    # (attended, possible) sessions of each pupil at each provider, summed in the database.
    rates_of: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for setting_id, pupil_id, attended, possible in data.session.connection().execute(
        select(
            AttendanceMark.setting_id,
            AttendanceMark.pupil_id,
            func.sum(case((AttendanceMark.code.in_(attending), 1), else_=0)),
            func.count(),
        )
        .where(
            AttendanceMark.setting_id.in_([p.id for p in data.providers]),
            AttendanceMark.date >= start,
            AttendanceMark.date <= end,
            AttendanceMark.code.in_(possible_codes),
        )
        .group_by(AttendanceMark.setting_id, AttendanceMark.pupil_id)
        .order_by(AttendanceMark.setting_id, AttendanceMark.pupil_id)
    ):
        rates_of[setting_id][pupil_id] = (int(attended), possible)
    befores = _before_all(data, [(pupil_id, provider_id) for provider_id, r in rates_of.items() for pupil_id in r])
    for provider_id, rates in rates_of.items():
        figure = figures[provider_id]
        attended = sum(a for a, _ in rates.values())
        possible = sum(p for _, p in rates.values())
        figure.n = len(rates)
        # The pooled session rate, carried as a pupil-weighted count for the interval.
        figure.successes = figure.n * attended / possible if possible else 0
        changes = []
        for pupil_id, (a, p) in rates.items():
            before = befores.get((pupil_id, provider_id))
            if before is not None:
                changes.append(100 * a / p - before)
            # A pupil adds sessions to the figure, not a pass or a fail: said as sessions.
            detail = f"{100 * a / p:.1f}% of their possible sessions"
            if before is not None:
                detail += f"; {before:.1f}% in the two terms before"
            counted = f"{a} of {p} sessions attended"
            figure.pupils.append(PupilResult(pupil_id, a / p >= 0.9, detail, counted))
        figure.extra = {
            "change": round(sum(changes) / len(changes), 1) if len(changes) >= MIN_N else None,
            "change_n": len(changes),
            "sessions": possible,
        }
    return figures


WINDOW_COLUMNS = (("pupil_id", "int"), ("provider_id", "int"), ("low", "date"), ("high", "date"))


def _before_all(data: _Data, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """Each pupil's attendance elsewhere in the two terms before their first placement at the
    provider (percent), for the (pupil, provider) pairs that have marks there: the windows worked
    out here from the LA's calendar, then every window's marks summed in one query."""
    first: dict[tuple[int, int], date] = {}
    for p in data.placements:
        key = (p.pupil_id, p.setting_id)
        if p.kind is not None and (key not in first or p.start_date < first[key]):
            first[key] = p.start_date
    spans: dict[tuple[int, date], tuple[date, date] | None] = {}  # by LA and start: pupils share them
    windows: list[tuple[int, int, date, date]] = []
    for pupil_id, provider_id in pairs:
        start = first.get((pupil_id, provider_id))
        if start is None:
            continue
        la_id = data.setting_la[provider_id]
        if (la_id, start) not in spans:
            try:
                spans[(la_id, start)] = data.calendars[la_id].span_before(start, 2 * TERM)
            except CalendarUnknown:
                spans[(la_id, start)] = None
        span = spans[(la_id, start)]
        if span:
            windows.append((pupil_id, provider_id, *span))
    if not windows:
        return {}
    possible_codes, attending = _classes()
    query = text(
        f"""
        SELECT w.pupil_id, w.provider_id,
               SUM(CASE WHEN m.code IN :attending THEN 1 ELSE 0 END) AS attended, COUNT(*) AS possible
        FROM {rows_table(data.session, "w", WINDOW_COLUMNS)}
        JOIN attendance_mark m ON m.pupil_id = w.pupil_id AND m.setting_id <> w.provider_id
             AND m.date >= w.low AND m.date <= w.high
        WHERE m.code IN :possible
        GROUP BY w.pupil_id, w.provider_id
        """
    ).bindparams(bindparam("attending", expanding=True), bindparam("possible", expanding=True))
    found = {}
    for pupil_id, provider_id, attended, possible in data.session.connection().execute(
        query, {"w": json_rows(WINDOW_COLUMNS, windows), "attending": attending, "possible": possible_codes}
    ):
        found[(pupil_id, provider_id)] = 100 * int(attended) / possible
    return found


def _reintegration(data: _Data) -> dict[int, Figure]:
    start, end = AcademicYear(data.year).span
    figures: dict[int, Figure] = defaultdict(lambda: Figure("reintegration", 0, 0))
    due: list[tuple[_Placed, date]] = []
    for p in data.placements:
        if p.tier != Tier.TIME_LIMITED or p.end_date is None or not start <= p.end_date <= end:
            continue
        if p.kind not in SCORED_KINDS:
            continue
        check = data.later(p.la_id, p.end_date, TERM)
        if check is None:
            figures[p.setting_id].pending += 1
        else:
            due.append((p, check))
    returns = [(p, check) for p, check in due if p.destination in RETURNS]
    stayed = dict(
        zip(
            (p.id for p, _ in returns),
            data.on_mainstream_roll([(p.la_id, p.pupil_id, check) for p, check in returns]),
            strict=True,
        )
    )
    for p, _ in due:
        figure = figures[p.setting_id]
        met = stayed.get(p.id, False)
        figure.n += 1
        figure.successes += met
        went = DESTINATION_LABELS[Destination(p.destination)].lower() if p.destination else "no destination recorded"
        what = (
            "returned and still in mainstream"
            if met
            else "returned, but not on a mainstream roll a term later"
            if p.id in stayed
            else f"ended: {went}"
        )
        figure.pupils.append(PupilResult(p.pupil_id, met, f"Ended {_shown(p.end_date)}; {what}"))
    return figures


def grade_at_least_4(grade: str | None) -> bool:
    """A GCSE grade 4 or above. A functional skills Level 2 is a different qualification, shown
    beside the measure, never counted as a grade 4."""
    return grade is not None and grade in GCSE_STRONG


def grade_at_least_1(grade: str | None) -> bool:
    return grade is not None and grade in GCSE_PASS


def grade_4_or_level_2(grade: str | None) -> bool:
    return grade_at_least_4(grade) or grade == "L2"


def _english_maths(data: _Data) -> dict[int, Figure]:
    figures: dict[int, Figure] = defaultdict(lambda: Figure("english_maths", 0, 0))
    leavers = data.leavers(data.year)
    results: dict[int, tuple[str | None, str | None]] = {
        pupil_id: (english, maths)
        for pupil_id, english, maths in data.session.connection().execute(
            select(Ks4Result.pupil_id, Ks4Result.english, Ks4Result.maths).where(
                Ks4Result.academic_year == data.year,
                among(data.session, Ks4Result.pupil_id, [pid for ids in leavers.values() for pid in ids]),
            )
        )
    }
    for provider_id, pupil_ids in leavers.items():
        figure = figures[provider_id]
        both_1 = with_level_2 = recorded = 0
        for pupil_id in pupil_ids:
            result = results.get(pupil_id)
            english, maths = result or (None, None)
            strong = result is not None and grade_at_least_4(english) and grade_at_least_4(maths)
            passed = result is not None and grade_at_least_1(english) and grade_at_least_1(maths)
            level_2 = result is not None and grade_4_or_level_2(english) and grade_4_or_level_2(maths)
            figure.n += 1
            figure.successes += strong
            both_1 += passed
            with_level_2 += level_2
            recorded += result is not None
            detail = f"English {english or 'none'}, maths {maths or 'none'}" if result else "No result recorded"
            figure.pupils.append(PupilResult(pupil_id, strong, detail))
        figure.extra = {
            "grade_1_or_above": round(100 * both_1 / figure.n, 1) if figure.n >= MIN_N else None,
            "grade_1_successes": both_1,
            "grade_4_or_level_2": round(100 * with_level_2 / figure.n, 1) if figure.n >= MIN_N else None,
            "level_2_successes": with_level_2,
            "recorded": recorded,
        }
    return figures


def _post16(data: _Data) -> dict[int, Figure]:
    figures: dict[int, Figure] = defaultdict(lambda: Figure("post16", 0, 0))
    leaving_year = data.year - 1
    march = date(leaving_year + 2, 3, 31)
    leavers = data.leavers(leaving_year)
    checks: dict[int, dict[str, str]] = defaultdict(dict)
    for pupil_id, check_point, activity in data.session.connection().execute(
        select(Post16Check.pupil_id, Post16Check.check_point, Post16Check.activity).where(
            Post16Check.leaving_year == leaving_year,
            among(data.session, Post16Check.pupil_id, [pid for ids in leavers.values() for pid in ids]),
        )
    ):
        checks[pupil_id][check_point] = activity
    for provider_id, pupil_ids in leavers.items():
        figure = figures[provider_id]
        if march > data.on:
            figure.pending = len(pupil_ids)
            continue
        for pupil_id in pupil_ids:
            found = checks.get(pupil_id, {})
            met = all(found.get(point) in SUSTAINED for point in CHECK_POINTS)
            figure.n += 1
            figure.successes += met
            detail = "; ".join(
                f"{point.title()}: {ACTIVITIES.get(found.get(point, ''), 'not checked')}" for point in CHECK_POINTS
            )
            figure.pupils.append(PupilResult(pupil_id, met, detail))
    return figures


MEASURES = {
    "outreach": _outreach,
    "attendance": _attendance,
    "reintegration": _reintegration,
    "english_maths": _english_maths,
    "post16": _post16,
}


def _contexts(data: _Data) -> dict[tuple[int, int | None], Context]:
    """Who each provider's pupils in the year are, keyed (LA, provider), and (LA, None) for all
    the LA's providers together."""
    start, end = AcademicYear(data.year).span
    cohorts: dict[tuple[int, int | None], set[int]] = defaultdict(set)
    for p in data.placements:
        if p.start_date <= end and (p.end_date is None or p.end_date >= start):
            if p.kind in SCORED_KINDS:
                cohorts[(p.la_id, p.setting_id)].add(p.pupil_id)
                cohorts[(p.la_id, None)].add(p.pupil_id)
    contexts = {}
    for key, ids in cohorts.items():
        pupils = [data.pupils[i] for i in ids if i in data.pupils]
        contexts[key] = Context(
            cohort=len(pupils),
            ehcp=sum(p.sen_status == SenStatus.EHCP for p in pupils),
            semh=sum(p.primary_need == "SEMH" for p in pupils),
            child_in_need=sum(bool(p.child_in_need) for p in pupils),
        )
    return contexts


def _pooled(outcome: str, figures: Iterable[Figure]) -> Figure:
    pooled = Figure(outcome, 0, 0)
    for figure in figures:
        pooled.n += figure.n
        pooled.successes += figure.successes
        pooled.pending += figure.pending
        pooled.pupils += figure.pupils
    return pooled


def scores(session: Session, la: LocalAuthority, year: int, on: date | None = None) -> Scores:
    """Every scored provider's five outcomes for an academic year, and the LA's own, as they
    stand on `on` (default today): benchmarks national where published, else the LA's."""
    return scores_for(session, [la], year, on)[0]


BATCH = 25  # LAs scored together by `scores_in_batches`: as fast as a nation at once, in a third of the memory


def scores_in_batches(session: Session, las: Sequence[LocalAuthority], year: int, on: date) -> Iterator[Scores]:
    """`scores` of every LA in `las`, BATCH LAs at a time (`scores_for`), each LA's as soon as its
    batch is done: the nightly job keeps each and lets it go, so its memory is a batch's."""
    for first in range(0, len(las), BATCH):
        yield from scores_for(session, las[first : first + BATCH], year, on)


def scores_for(session: Session, las: Sequence[LocalAuthority], year: int, on: date | None = None) -> list[Scores]:
    """`scores` of many LAs, each as if scored alone, computed together: each query reads every
    LA's rows at once (the nightly job scores a nation in a few dozen queries, not thousands)."""
    on = on or clock.today()
    with collector_paused():
        data = _Data(session, las, year, on)
        measured = {name: measure(data) for name, measure in MEASURES.items()}
        contexts = _contexts(data)
    national = national_benchmarks()
    providers_of: dict[int, list[Setting]] = defaultdict(list)
    for provider in data.providers:
        providers_of[provider.la_id].append(provider)
    found = []
    for la in las:
        area_figures = {
            name: _pooled(name, (measured[name][p.id] for p in providers_of[la.id] if p.id in measured[name]))
            for name in OUTCOMES
        }
        for name, figure in area_figures.items():
            figure.benchmark = national.get(name)
        providers = []
        for provider in providers_of[la.id]:
            figures = {}
            for name in OUTCOMES:
                figure = measured[name].get(provider.id) or Figure(name, 0, 0)
                if name in national:
                    figure.benchmark = national[name]
                elif not area_figures[name].suppressed and area_figures[name].value is not None:
                    figure.benchmark = Benchmark(
                        area_figures[name].value or 0.0, f"{la.name}, all providers, {AcademicYear(year).label}", "la"
                    )
                figures[name] = figure
            providers.append(ProviderScores(provider, figures, contexts.get((la.id, provider.id), Context())))
        area = ProviderScores(None, area_figures, contexts.get((la.id, None), Context()))
        found.append(protect(Scores(la, year, on, providers, area)))
    return found


def protect(found: Scores) -> Scores:
    """Complementary suppression: a provider's suppressed figure must not be recoverable as the
    LA's total less the others'. Where exactly one provider's figure with pupils behind it is
    suppressed, the next smallest shown figure is withheld too, or, with none, the LA's total (as
    official statistics do). Two or more suppressed already hide one another."""
    for name in OUTCOMES:
        hidden = [p for p in found.providers if 0 < p.figures[name].n < MIN_N]
        if len(hidden) != 1:
            continue
        enough = [p.figures[name] for p in found.providers if p.figures[name].n >= MIN_N]
        if any(f.withheld for f in enough) or found.area.figures[name].withheld:
            continue  # protected already (scores read back as they were kept)
        shown = sorted(enough, key=lambda f: f.n)
        if shown:
            shown[0].withheld = True
        elif not found.area.figures[name].suppressed:
            found.area.figures[name].withheld = True
            for p in found.providers:  # the LA's figure is no benchmark once withheld
                figure = p.figures[name]
                if figure.benchmark is not None and figure.benchmark.kind == "la":
                    figure.benchmark = None
    return found


def area_beside(found: Scores, mine: ProviderScores) -> dict[str, Figure]:
    """The LA's figures as shown beside one provider's own: a provider knows its own pupils, so the
    LA's total less its own is everyone else's together; where that is a small number (fewer than
    MIN_N, more than none), the total is withheld on its page."""
    shown = {}
    for name in OUTCOMES:
        area, own = found.area.figures[name], mine.figures[name]
        if 0 < area.n - own.n < MIN_N and not area.suppressed:
            area = Figure(name, area.n, area.successes, area.benchmark, withheld=True)
        shown[name] = area
    return shown


def benchmarks_beside(found: Scores, mine: ProviderScores) -> dict[str, Benchmark | None]:
    """A provider's benchmarks as shown on its page: the LA's own figure is no benchmark there
    when `area_beside` withholds it."""
    beside = area_beside(found, mine)
    return {
        name: None
        if beside[name].withheld and (b := mine.figures[name].benchmark) is not None and b.kind == "la"
        else mine.figures[name].benchmark
        for name in OUTCOMES
    }


SCORE_COLUMNS = [
    "setting_ref",
    "name",
    "outcome",
    "value",
    "n",
    "ci_low",
    "ci_high",
    "suppressed",
    "band",
    "benchmark",
    "benchmark_source",
]


def table_rows(found: Scores) -> list[dict[str, object]]:
    """One row per provider and outcome (and the LA's own, with no reference), for CSV and XLSX."""
    rows = []
    for p in [*found.providers, found.area]:
        for name in OUTCOMES:
            figure = p.figures[name].as_json()
            rows.append(
                {
                    "setting_ref": p.provider.ref if p.provider else "",
                    "name": p.provider.name if p.provider else f"{found.la.name} (all providers)",
                    "outcome": name,
                    **figure,
                    "suppressed": "Y" if figure["suppressed"] else "N",
                }
            )
    return rows


def score_rows(found: Scores) -> list[dict[str, object]]:
    """A year's scores as the rows the nightly job keeps (plain values: a scoring process hands
    them to the one that keeps them)."""
    rows: list[dict[str, object]] = []
    for p in [*found.providers, found.area]:
        for name in OUTCOMES:
            figure = p.figures[name]
            interval = figure.interval
            rows.append(
                {
                    "la_id": found.la.id,
                    "provider_id": p.provider.id if p.provider else None,
                    "academic_year": found.year,
                    "outcome": name,
                    "n": figure.n,
                    "value": figure.value,
                    "ci_low": interval[0] if interval else None,
                    "ci_high": interval[1] if interval else None,
                    "suppressed": figure.suppressed,
                    "band": figure.band,
                    "benchmark": figure.benchmark.value if figure.benchmark else None,
                    "detail": {
                        "successes": figure.successes,
                        "extra": figure.extra,
                        "pending": figure.pending,
                        "pupils": len(figure.pupils),
                        "benchmark_source": figure.benchmark.label if figure.benchmark else None,
                        "benchmark_kind": figure.benchmark.kind if figure.benchmark else None,
                        "context": asdict(p.context),
                        "on": found.on.isoformat(),
                        "withheld": figure.withheld,
                    },
                }
            )
    return rows


def keep_rows(session: Session, la_id: int, year: int, rows: Sequence[dict[str, object]]) -> int:
    """Keep an LA's year of scores (`score_rows`), replacing the last computation."""
    session.execute(Score.__table__.delete().where(Score.la_id == la_id, Score.academic_year == year))
    session.add_all(Score(**row) for row in rows)
    session.flush()
    return len(rows)


def store(session: Session, found: Scores) -> int:
    """Keep a year's scores as computed now, replacing the last computation."""
    return keep_rows(session, found.la.id, found.year, score_rows(found))


def stored(session: Session, la: LocalAuthority, year: int) -> Scores | None:
    """A year's scores as the nightly job last kept them, or None when there are none to read
    back whole (none stored, or stored before scores kept their detail). Each figure carries how
    many pupils are behind it, not who they are: the pupils page computes those as it is asked."""
    rows = session.scalars(
        select(Score).where(Score.la_id == la.id, Score.academic_year == year).options(joinedload(Score.provider))
    ).all()
    # Scores kept before they recorded what was withheld counted functional skills as GCSE grades
    # and knew no complementary suppression: they are computed again.
    if not rows or any(row.detail is None or "withheld" not in row.detail for row in rows):
        return None
    figures: dict[int | None, dict[str, Figure]] = defaultdict(dict)
    contexts: dict[int | None, Context] = {}
    providers: dict[int, Setting] = {}
    for row in rows:
        detail = row.detail or {}
        benchmark = (
            Benchmark(float(row.benchmark), detail["benchmark_source"], detail["benchmark_kind"])
            if row.benchmark is not None
            else None
        )
        figures[row.provider_id][row.outcome] = Figure(
            row.outcome,
            row.n,
            detail["successes"],
            benchmark,
            extra=detail["extra"],
            pending=detail["pending"],
            pupil_count=detail["pupils"],
            withheld=bool(detail["withheld"]),
        )
        contexts[row.provider_id] = Context(**detail["context"])
        if row.provider is not None:
            providers[row.provider.id] = row.provider
    if None not in figures or any(set(f) != set(OUTCOMES) for f in figures.values()):
        return None
    ordered = sorted(providers.values(), key=lambda s: s.name)
    return protect(
        Scores(
            la,
            year,
            date.fromisoformat(rows[0].detail["on"]),  # type: ignore[index]
            [ProviderScores(s, figures[s.id], contexts[s.id]) for s in ordered],
            ProviderScores(None, figures[None], contexts[None]),
            computed_at=max(row.computed_at for row in rows),
        )
    )


def kept_or_computed(session: Session, la: LocalAuthority, year: int) -> Scores:
    """What the comparison shows: the year as the nightly job kept it, or computed now when it
    kept none (a year it does not keep, or kept before scores kept their detail)."""
    return stored(session, la, year) or scores(session, la, year)
