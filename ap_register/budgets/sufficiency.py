"""Sufficiency: the demand for AP places against the places commissioned, month by month over a
budget plan's years, by phase, district and framework lot, with a forecast and its uncertainty.

The local partnership's multi-year budget states "how changes in demand are managed" (SEND and AP
green paper, March 2022, ch. 4); an LA must secure suitable full-time education for the children
who need it (Education Act 1996 s19(1)). This module gives the commissioner the evidence to do both:

- **Referrals**: requests for a place in AP (a time-limited or transitional move) received in the
  month (`Referral.submitted_on`).
- **Placements started and ended** in the month: the placements of the LA's pupils in the AP tiers,
  and spot purchases.
- **Waiting time**: the school days from a referral being received to its placement starting (the
  school days on or after the referral and before the start), for the placements started in the
  month that came from a panel's decision.
- **Places in use**: the month's place-days used divided by its school days, the average number of
  full-time places in use (a placement uses, each school day it is active, its weekly sessions out
  of ten; the budget counts place-days the same way, `budgets.rules`).
- **Places commissioned** in the financial year of the month (the plan's time-limited and
  transitional lines, after variations), and **occupancy**: the commissioned places in use at
  those providers, whichever LA's pupils hold them, as the booking gate counts them
  (`placements.reads.places_in_use`; spot purchases apart: they are paid from the reserve), as a
  share of them.
- School days are counted where the LA's term dates reach, never guessed: a month they do not
  reach has no figure of places in use and is left out of the fit; a wait is counted only when
  they reach both its days. A month without school days (August) is not forecast.
- **A forecast** of places in use and of referrals for each month not yet over: a straight line
  fitted by least squares to the last 24 complete months (from the first whole month the register
  holds a placement or referral), with its 80% prediction interval
  (ŷ ± t(0.9, n−2) · s · √(1 + 1/n + (x − x̄)²/Σ(xᵢ − x̄)²)). It needs 6 months of history.

A filter by **phase** takes a child's national curriculum year in the month (for places, the
providers that teach it, as the directory lists them, `commissioning.directory.phase_taught`: an
all-through provider, or one whose phase is not recorded, counts in each); by **district**, the
child's home school's district (the referring school's, for a referral) and, for places, the
provider's; by **lot**, the placements called off under the lot and the places at the providers
approved on it (a referral is not made to a lot, so none is counted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from scipy.stats import t as student_t
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ap_register.budgets.rules import effective, fte
from ap_register.commissioning.directory import phase_taught
from ap_register.domain.calendar import SchoolCalendar, calendar_for
from ap_register.domain.pupils import year_group
from ap_register.domain.vocab import Tier
from ap_register.models import (
    BudgetPlan,
    Decision,
    Framework,
    FrameworkLot,
    LocalAuthority,
    LotApproval,
    Placement,
    PlacementAgreement,
    Pupil,
    Referral,
    Setting,
)
from ap_register.years import FinancialYear

PHASES = {
    "primary": "Primary (Reception to Year 6)",
    "secondary": "Secondary (Years 7 to 11)",
    "sixteen_plus": "16 plus (Years 12 and 13)",
}
PHASE_PUPILS = {"primary": "primary", "secondary": "secondary", "sixteen_plus": "16 plus"}
TIERS = {Tier.TIME_LIMITED: "Time-limited places", Tier.TRANSITIONAL: "Transitional places"}
HISTORY_MONTHS = 24
MIN_HISTORY = 6
INTERVAL = 0.8
NO_DISTRICT = "District not known"


def phase_of(year: int) -> str:
    """The phase of a national curriculum year (Reception is 0)."""
    if year <= 6:
        return "primary"
    return "secondary" if year <= 11 else "sixteen_plus"


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_end(first: date) -> date:
    return next_month(first) - timedelta(days=1)


def months_between(first: date, last: date) -> list[date]:
    """The first day of each month from `first`'s to `last`'s, both included."""
    found, day = [], month_start(first)
    while day <= last:
        found.append(day)
        day = next_month(day)
    return found


@dataclass(frozen=True)
class Filters:
    phase: str | None = None
    district: str | None = None
    lot_id: int | None = None
    tier: Tier | None = None

    @property
    def chosen(self) -> bool:
        return any(v is not None for v in (self.phase, self.district, self.lot_id, self.tier))

    def sides(self, lot_names: dict[int, str]) -> tuple[str, str]:
        """Whose demand, and which providers' places, these filters count, in words: demand is
        counted by the pupil (their year, their school's district), places by the provider."""
        pupils = f"{PHASE_PUPILS[self.phase]} pupils" if self.phase else "pupils"
        if self.district == NO_DISTRICT:
            pupils += " of schools whose district is not recorded"
        elif self.district:
            pupils += f" of schools in {self.district}"
        if pupils == "pupils":
            pupils = "the area's pupils"
        providers = "the plan's providers"
        if self.district == NO_DISTRICT:
            providers += " whose district is not recorded"
        elif self.district:
            providers += f" in {self.district}"
        if self.phase:
            providers += f" that teach {PHASE_PUPILS[self.phase]} pupils"
        if self.lot_id is not None:
            lot = lot_names.get(self.lot_id, "the lot")
            pupils += f" placed under {lot}"
            providers += f" approved on {lot}"
        if self.tier is not None:
            pupils += f" in {TIERS[self.tier].lower()}"
        return pupils, providers


@dataclass(frozen=True)
class _Place:
    start: date
    end: date | None
    fte: Decimal
    tier: Tier | None
    provider_id: int
    spot: bool
    born: date
    district: str | None
    lots: frozenset[int]
    referred_on: date | None


@dataclass(frozen=True)
class _Occupant:
    """A commissioned place in use at a provider of the plan (any LA's pupil, no spot purchase)."""

    start: date
    end: date | None
    fte: Decimal
    tier: Tier | None
    provider_id: int


@dataclass(frozen=True)
class _Referral:
    on: date
    tier: Tier | None
    born: date
    district: str | None


@dataclass(frozen=True)
class _Provider:
    id: int
    name: str
    district: str | None
    teaches: frozenset[str]  # the phases
    lots: frozenset[int]


@dataclass(frozen=True)
class _Line:
    year: int
    provider_id: int
    tier: Tier
    places: Decimal


@dataclass(frozen=True)
class Forecast:
    central: float
    low: float
    high: float


@dataclass(frozen=True)
class Fit:
    """A straight line through monthly figures and how far a month's figure may fall from it."""

    first: date
    last: date
    n: int
    intercept: float
    slope: float  # per month
    spread: float  # the residual standard error
    x_mean: float
    sxx: float
    t: float

    def at(self, month: date) -> Forecast:
        x = _index(month)
        central = self.intercept + self.slope * x
        margin = self.t * self.spread * math.sqrt(1 + 1 / self.n + (x - self.x_mean) ** 2 / self.sxx)
        return Forecast(max(central, 0.0), max(central - margin, 0.0), max(central + margin, 0.0))


def _index(month: date) -> int:
    return month.year * 12 + month.month - 1


def fit_line(points: list[tuple[date, float]]) -> Fit | None:
    """The least-squares line through (month, figure) points, or None with fewer than
    `MIN_HISTORY`. The interval is the `INTERVAL` prediction interval of a new month's figure."""
    if len(points) < MIN_HISTORY:
        return None
    xs = [float(_index(m)) for m, _ in points]
    ys = [y for _, y in points]
    n = len(points)
    x_mean, y_mean = sum(xs) / n, sum(ys) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = y_mean - slope * x_mean
    residuals = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    spread = math.sqrt(residuals / (n - 2))
    quantile = float(student_t.ppf(1 - (1 - INTERVAL) / 2, n - 2))
    return Fit(points[0][0], points[-1][0], n, intercept, slope, spread, x_mean, sxx, quantile)


@dataclass
class Month:
    first: date
    over: bool  # the month has ended
    begun: bool
    school_days: int | None  # None where the LA's term dates reach no day of the month
    referrals: int | None  # None when a lot is chosen (a referral is not made to a lot)
    starts: int
    ends: int
    waits: list[int]
    in_use: Decimal | None  # None before the month begins, or in a month without (known) school days
    commissioned: Decimal
    in_use_commissioned: Decimal | None
    forecast: Forecast | None = None
    referral_forecast: Forecast | None = None
    in_use_exact: Decimal | None = None  # before rounding to a tenth: what is compared

    @property
    def label(self) -> str:
        return f"{self.first:%B %Y}"

    @property
    def median_wait(self) -> float | None:
        return median(self.waits) if self.waits else None

    @property
    def occupancy(self) -> Decimal | None:
        if self.in_use_commissioned is None or not self.commissioned:
            return None
        return (self.in_use_commissioned / self.commissioned * 100).quantize(Decimal("1"))

    @property
    def short(self) -> str | None:
        """'short' when demand is above the places (so far, or forecast to be), 'may' when only the
        top of the forecast's interval is, None otherwise (and in a month without school days)."""
        if self.school_days == 0:
            return None
        if self.in_use_exact is not None and (self.over or self.in_use_exact > self.commissioned):
            return "short" if self.in_use_exact > self.commissioned else None
        if self.forecast is None:
            return None
        if self.forecast.central > self.commissioned:
            return "short"
        return "may" if self.forecast.high > self.commissioned else None


@dataclass
class Sufficiency:
    plan: BudgetPlan
    filters: Filters
    today: date
    months: list[Month]
    fit: Fit | None
    referral_fit: Fit | None
    waiting_now: int | None
    oldest_waiting: date | None
    notes: list[str] = field(default_factory=list)
    pupils: str = "the area's pupils"  # whose demand is counted, in words
    providers: str = "the plan's providers"  # whose places are

    @property
    def first_short(self) -> Month | None:
        """The first month not over whose central forecast passes the places commissioned."""
        return next((m for m in self.months if m.forecast and m.forecast.central > m.commissioned), None)

    @property
    def first_may_be_short(self) -> Month | None:
        """The first month not over where the top of the forecast's interval passes the places."""
        return next((m for m in self.months if m.forecast and m.forecast.high > m.commissioned), None)

    @property
    def ahead(self) -> bool:
        """Whether any month of the plan is not yet over: otherwise there is nothing to forecast."""
        return any(not m.over for m in self.months)

    @property
    def top(self) -> float:
        """The highest figure the chart draws."""
        values = [float(m.commissioned) for m in self.months]
        values += [float(m.in_use) for m in self.months if m.in_use is not None]
        values += [m.forecast.high for m in self.months if m.forecast is not None]
        return max([*values, 1.0])

    @property
    def axis_top(self) -> int:
        """The top of the chart's scale: the highest figure rounded up to an even number (to a
        multiple of 10 above 10), so that its half is a whole number too."""
        step = 2 if self.top <= 10 else 10
        return max(step, math.ceil(self.top / step) * step)


class Demand:
    """What sufficiency reads for a plan, read once (a few queries for the whole LA); `report`
    answers for any filter."""

    def __init__(self, session: Session, plan: BudgetPlan, today: date):
        la = session.get(LocalAuthority, plan.la_id)
        assert la is not None
        self.plan, self.today = plan, today
        self.calendar: SchoolCalendar = calendar_for(session, la)
        plan_first, _ = FinancialYear(plan.first_year).span
        _, self.plan_last = FinancialYear(plan.last_year).span
        self.plan_first = plan_first
        self.window_first = min(plan_first, _months_back(month_start(today), HISTORY_MONTHS))
        # A plan's years may be over: the trend is still fitted to the months to today.
        self.window_last = max(self.plan_last, today)
        self._school_days: dict[date, int | None] = {}

        districts = dict(session.execute(select(Setting.id, Setting.district).where(Setting.la_id == la.id)).all())
        lots_of_placement: dict[int, set[int]] = {}
        for placement_id, lot_id in session.execute(
            select(PlacementAgreement.placement_id, LotApproval.lot_id)
            .join(LotApproval, PlacementAgreement.approval_id == LotApproval.id)
            .join(FrameworkLot, LotApproval.lot_id == FrameworkLot.id)
            .join(Framework, FrameworkLot.framework_id == Framework.id)
            .where(Framework.la_id == la.id)
        ):
            lots_of_placement.setdefault(placement_id, set()).add(lot_id)
        referred = dict(
            session.execute(
                select(Decision.placement_id, Referral.submitted_on)
                .join(Referral, Decision.referral_id == Referral.id)
                .where(Referral.la_id == la.id, Decision.placement_id.is_not(None))
            ).all()
        )
        self.places = [
            _Place(
                start,
                end,
                fte(sessions),
                tier,
                setting_id,
                spot,
                born,
                _district(districts, placement_home or pupil_home),
                frozenset(lots_of_placement.get(placement_id, ())),
                referred.get(placement_id),
            )
            for placement_id, start, end, sessions, tier, setting_id, spot, born, placement_home, pupil_home in (
                session.execute(
                    select(
                        Placement.id,
                        Placement.start_date,
                        Placement.end_date,
                        Placement.sessions,
                        Placement.tier,
                        Placement.setting_id,
                        Placement.spot_purchase,
                        Pupil.date_of_birth,
                        Placement.home_school_id,
                        Pupil.home_school_id,
                    )
                    .join(Pupil, Placement.pupil_id == Pupil.id)
                    .where(
                        Pupil.home_la_id == la.id,
                        or_(Placement.tier.is_not(None), Placement.spot_purchase.is_(True)),
                        Placement.start_date <= self.window_last,
                        or_(Placement.end_date.is_(None), Placement.end_date >= self.window_first),
                    )
                )
            )
        ]
        self.referrals = [
            _Referral(on, tier, born, _district(districts, referring or home))
            for on, tier, born, referring, home in session.execute(
                select(
                    Referral.submitted_on,
                    Referral.tier,
                    Pupil.date_of_birth,
                    Referral.referring_setting_id,
                    Pupil.home_school_id,
                )
                .join(Pupil, Referral.pupil_id == Pupil.id)
                .where(
                    Referral.la_id == la.id,
                    Referral.tier.is_not(None),
                    Referral.submitted_on >= self.window_first,
                    Referral.submitted_on <= self.window_last,
                )
            )
        ]
        waiting = session.execute(
            select(Referral.submitted_on)
            .where(
                Referral.la_id == la.id,
                Referral.tier.is_not(None),
                Referral.status.in_(("submitted", "approved")),
                ~Referral.decisions.any(Decision.placement_id.is_not(None)),
            )
            .order_by(Referral.submitted_on)
        ).all()
        # The register holds nothing before its first record: the history (and the fit) begins at
        # the first whole month after it, not with months of no data counted as no demand.
        earliest = min([p.start for p in self.places] + [r.on for r in self.referrals], default=None)
        if earliest is None:
            self.records_from = next_month(today)
        else:
            self.records_from = earliest if earliest.day == 1 else next_month(earliest)
        self.waiting_now = len(waiting)
        self.oldest_waiting = waiting[0][0] if waiting else None

        self.lines = [
            _Line(line.year, line.provider_id, Tier(line.place_type), effective(line))
            for line in plan.lines
            if line.provider_id is not None and line.place_type in ("time_limited", "transitional")
        ]
        approvals: dict[int, set[int]] = {}
        self.lot_names: dict[int, str] = {}
        for lot_id, number, name, framework, provider_id, status in session.execute(
            select(
                FrameworkLot.id,
                FrameworkLot.number,
                FrameworkLot.name,
                Framework.name,
                LotApproval.provider_id,
                LotApproval.status,
            )
            .join(Framework, FrameworkLot.framework_id == Framework.id)
            .outerjoin(LotApproval, LotApproval.lot_id == FrameworkLot.id)
            .where(Framework.la_id == la.id)
            .order_by(Framework.name, FrameworkLot.number)
        ):
            self.lot_names[lot_id] = f"{framework}: lot {number}, {name}"
            if status == "approved" and provider_id is not None:
                approvals.setdefault(provider_id, set()).add(lot_id)
        provider_ids = {line.provider_id for line in self.lines}
        self.occupants = [
            _Occupant(start, end, fte(sessions), tier, setting_id)
            for start, end, sessions, tier, setting_id in session.execute(
                select(
                    Placement.start_date, Placement.end_date, Placement.sessions, Placement.tier, Placement.setting_id
                ).where(
                    Placement.setting_id.in_(provider_ids),
                    Placement.tier.is_not(None),
                    Placement.spot_purchase.is_(False),
                    Placement.start_date <= self.window_last,
                    or_(Placement.end_date.is_(None), Placement.end_date >= self.window_first),
                )
            )
        ]
        self.providers = {
            s.id: _Provider(
                s.id,
                s.name,
                s.district,
                frozenset(phase for phase in PHASES if phase_taught(s, phase)),
                frozenset(approvals.get(s.id, ())),
            )
            for s in session.scalars(select(Setting).where(Setting.id.in_(provider_ids)))
        }
        self.districts = sorted(
            {d for d in districts.values() if d} | {p.district for p in self.providers.values() if p.district}
        )
        # "District not known" is a choice where some pupil's school or some provider has none.
        if (
            any(p.district is None for p in self.places)
            or any(r.district is None for r in self.referrals)
            or any(p.district is None for p in self.providers.values())
        ):
            self.districts.append(NO_DISTRICT)

    # --- counting ---
    def school_days(self, first: date, last: date) -> int | None:
        """School days from first to last, both included, where the LA's term dates reach (the
        days before its first recorded term or after its last are not guessed at); None when
        they reach no day of the span."""
        if last < first:
            return 0
        known_from, known_to = self.calendar.known_from, self.calendar.known_to
        if known_from is None or known_to is None or last < known_from or first > known_to:
            return None
        return self.calendar.count(max(first, known_from), min(last, known_to))

    def month_days(self, first: date) -> int | None:
        if first not in self._school_days:
            self._school_days[first] = self.school_days(first, month_end(first))
        return self._school_days[first]

    def wait(self, referred_on: date, start: date) -> int | None:
        """School days on or after the referral and before the start; None unless the term
        dates reach both days."""
        if not (self.calendar.covers(referred_on) and self.calendar.covers(start)):
            return None
        return self.school_days(referred_on, start - timedelta(days=1))

    def _place_counts(self, place: _Place, filters: Filters, on: date) -> bool:
        if filters.tier is not None and place.tier != filters.tier:
            return False
        if filters.phase is not None and phase_of(year_group(place.born, on)) != filters.phase:
            return False
        if filters.district is not None and (place.district or NO_DISTRICT) != filters.district:
            return False
        return filters.lot_id is None or filters.lot_id in place.lots

    def _line_counts(self, line: _Line, filters: Filters) -> bool:
        if filters.tier is not None and line.tier != filters.tier:
            return False
        provider = self.providers.get(line.provider_id)
        if provider is None:
            return False
        if filters.phase is not None and filters.phase not in provider.teaches:
            return False
        if filters.district is not None and (provider.district or NO_DISTRICT) != filters.district:
            return False
        return filters.lot_id is None or filters.lot_id in provider.lots

    def _place_days(self, place: _Place | _Occupant, first: date, last: date) -> Decimal:
        start, end = max(place.start, first), min(place.end or last, last)
        return place.fte * (self.school_days(start, end) or 0) if start <= end else Decimal(0)

    def month(self, first: date, filters: Filters) -> Month:
        last = month_end(first)
        begun, over = first <= self.today, last < self.today
        upto = min(last, self.today)
        days = self.month_days(first)
        mine = [
            p
            for p in self.places
            if p.start <= last and (p.end is None or p.end >= first) and self._place_counts(p, filters, first)
        ]
        started = [p for p in mine if first <= p.start <= last and p.start <= self.today]
        lines = [line for line in self.lines if line.year == FinancialYear.containing(first).start]
        counted_lines = [line for line in lines if self._line_counts(line, filters)]
        commissioned = sum((line.places for line in counted_lines), Decimal(0))
        exact = in_use = in_use_commissioned = None
        days_so_far = self.school_days(first, upto) if begun else 0
        if begun and days_so_far:
            exact = sum((self._place_days(p, first, upto) for p in mine), Decimal(0)) / days_so_far
            in_use = exact.quantize(Decimal("0.1"))
            # Occupancy is the providers' side, as the budget's booking gate counts it: every
            # pupil's commissioned place there, from whichever district or LA the pupil comes.
            commissioned_at = {(line.provider_id, line.tier) for line in counted_lines}
            in_use_commissioned = (
                sum(
                    (
                        self._place_days(p, first, upto)
                        for p in self.occupants
                        if (p.provider_id, p.tier) in commissioned_at
                        and p.start <= last
                        and (p.end is None or p.end >= first)
                    ),
                    Decimal(0),
                )
                / days_so_far
            ).quantize(Decimal("0.1"))
        referrals = None
        if filters.lot_id is None:
            referrals = sum(1 for r in self.referrals if first <= r.on <= upto and self._referral_counts(r, filters))
        return Month(
            first,
            over,
            begun,
            days,
            referrals,
            len(started),
            sum(1 for p in mine if p.end is not None and first <= p.end <= min(last, self.today)),
            [
                wait
                for wait in (self.wait(p.referred_on, p.start) for p in started if p.referred_on is not None)
                if wait is not None
            ],
            in_use,
            commissioned,
            in_use_commissioned,
            in_use_exact=exact,
        )

    def _referral_counts(self, referral: _Referral, filters: Filters) -> bool:
        if filters.tier is not None and referral.tier != filters.tier:
            return False
        if filters.phase is not None and phase_of(year_group(referral.born, referral.on)) != filters.phase:
            return False
        return filters.district is None or (referral.district or NO_DISTRICT) == filters.district

    def report(self, filters: Filters) -> Sufficiency:
        """Each month of the plan's years for these filters, with the forecast for each month not
        yet over, fitted on the complete months before this one."""
        this_month = month_start(self.today)
        history_first = max(_months_back(this_month, HISTORY_MONTHS), self.records_from)
        history = {m: self.month(m, filters) for m in months_between(history_first, this_month - timedelta(days=1))}
        months = [history.get(m) or self.month(m, filters) for m in months_between(self.plan_first, self.plan_last)]
        fit = fit_line([(m.first, float(m.in_use)) for m in history.values() if m.in_use is not None])
        referral_fit = None
        if filters.lot_id is None:
            referral_fit = fit_line([(m.first, float(m.referrals or 0)) for m in history.values()])
        for month in months:
            if month.over or month.school_days == 0:  # a summer holiday needs no places forecast
                continue
            if fit is not None:
                month.forecast = fit.at(month.first)
            if referral_fit is not None:
                month.referral_forecast = referral_fit.at(month.first)
        notes = []
        unknown = [m for m in months if m.begun and m.school_days is None]
        if unknown:
            notes.append(
                f"No term dates are recorded for {_span(unknown)}, so places in use are not counted "
                "there: record them on the term dates page."
            )
        if fit is None:
            counted = sum(1 for m in history.values() if m.in_use is not None)
            notes.append(
                f"No forecast: it needs {MIN_HISTORY} complete months with school days of history, "
                f"and there {'is' if counted == 1 else 'are'} {counted}."
            )
        return Sufficiency(
            self.plan,
            filters,
            self.today,
            months,
            fit,
            referral_fit,
            None if filters.chosen else self.waiting_now,
            None if filters.chosen else self.oldest_waiting,
            notes,
            *filters.sides(self.lot_names),
        )


def _span(months: list[Month]) -> str:
    first, last = months[0].label, months[-1].label
    return first if first == last else f"{len(months)} months from {first} to {last}"


def _district(districts: dict[int, str | None], setting_id: int | None) -> str | None:
    return districts.get(setting_id) if setting_id is not None else None


def _months_back(first: date, n: int) -> date:
    index = _index(first) - n
    return date(index // 12, index % 12 + 1, 1)


def workbook_rows(found: Sufficiency) -> list[dict[str, object]]:
    """The sufficiency table as the plan's workbook gives it: a row a month (the forecasts'
    intervals are the `INTERVAL` prediction intervals)."""
    return [
        {
            "month": f"{m.first:%Y-%m}",
            "referrals": m.referrals if m.begun else None,
            "placements_started": m.starts if m.begun else None,
            "placements_ended": m.ends if m.begun else None,
            "median_wait_in_school_days": m.median_wait,
            "waits_counted": len(m.waits) if m.begun else None,
            "places_in_use": m.in_use,
            "places_commissioned": m.commissioned,
            "in_use_at_commissioned_providers": m.in_use_commissioned,
            "occupancy_percent": m.occupancy,
            "forecast_places": round(m.forecast.central, 1) if m.forecast else None,
            "forecast_places_interval_from": round(m.forecast.low, 1) if m.forecast else None,
            "forecast_places_interval_to": round(m.forecast.high, 1) if m.forecast else None,
            "forecast_referrals": round(m.referral_forecast.central, 1) if m.referral_forecast else None,
            "forecast_referrals_interval_from": round(m.referral_forecast.low, 1) if m.referral_forecast else None,
            "forecast_referrals_interval_to": round(m.referral_forecast.high, 1) if m.referral_forecast else None,
            "short_of_places": {"short": "Y", "may": "May be"}.get(m.short or "", "N"),
        }
        for m in found.months
    ]


def workbook_sheets(demand: Demand) -> list[tuple[str, list[str], list[dict[str, object]]]]:
    """The plan's workbook's sufficiency sheets: the whole area a row a month, then each
    district's months (demand from its schools' pupils, places at its providers)."""
    rows = workbook_rows(demand.report(Filters()))
    by_district = [
        {"district": district, **row}
        for district in demand.districts
        for row in workbook_rows(demand.report(Filters(district=district)))
    ]
    columns = list(rows[0]) if rows else ["month"]
    return [
        ("Sufficiency", columns, rows),
        ("Sufficiency by district", ["district", *columns], by_district),
    ]
