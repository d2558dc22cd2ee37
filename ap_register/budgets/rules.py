"""The multi-year AP budget and how it is used.

The local partnership agrees "a multi-year budget to be spent on alternative provision (ideally
for a minimum of 3 years)": places of each type (outreach hours, time-limited and transitional
places) per provider and financial year at an agreed unit cost, and a reserve for changes in
demand. Funding follows the plan, not the pupil: a provider's allocation is its lines; pupils
moving change only how the places are used.

Place-days: a commissioned place for a year is one pupil full time on every school day of it.
A placement uses, each school day it is active, its weekly sessions out of ten.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload

from ap_register import permissions
from ap_register.accounts import audit
from ap_register.domain import week_pattern
from ap_register.domain.actors import Actor
from ap_register.domain.calendar import SchoolCalendar, calendar_for
from ap_register.domain.errors import CalendarUnknown, DomainError, FieldError, Forbidden, Refusal
from ap_register.domain.vocab import AP_KINDS, Tier
from ap_register.models import (
    BudgetLine,
    BudgetPlan,
    BudgetVariation,
    LocalAuthority,
    OutreachEngagement,
    OutreachSession,
    PaymentStatement,
    Placement,
    Pupil,
    Setting,
)
from ap_register.models.base import utcnow
from ap_register.placements.reads import Reads, places_in_use, plan_covering
from ap_register.years import FinancialYear

# The most a line holds: places, hours or pounds, and a unit cost (the columns keep 10 digits
# before the point; no AP budget line comes near).
LARGEST_LINE = Decimal(10_000_000)
PLACE_TYPES = {
    "outreach": "Outreach (hours)",
    "time_limited": "Time-limited places",
    "transitional": "Transitional places",
    "reserve": "Reserve",
}
MIN_YEARS = 3
# When an LA has not recorded a year's term dates: the school year in England is 190 days.
DEFAULT_SCHOOL_DAYS = 190
MIN_REASON = 10


def figure(value: Decimal | int | float) -> str:
    """A number as people write it: thousands separated, at most one decimal place, no ".0"."""
    text = f"{Decimal(value):,.1f}"
    return text[:-2] if text.endswith(".0") else text


def _require_commissioner(session: Session, actor: Actor) -> None:
    permissions.require(session, actor, "budgets.manage")


# --- plans, lines, variations ----------------------------------------------------------------


def create_plan(
    session: Session, actor: Actor, la: LocalAuthority, *, name: str, first_year: int, years: int, demand_policy: str
) -> BudgetPlan:
    _require_commissioner(session, actor)
    refusal = Refusal()
    if not name.strip():
        refusal.add("name", "Enter the plan's name")
    if years < MIN_YEARS:
        refusal.add(
            "years",
            f"A budget plan spans at least {MIN_YEARS} financial years: "
            "the local partnership agrees a multi-year budget (SEND and AP green paper, chapter 4)",
        )
    if not demand_policy.strip():
        refusal.add("demand_policy", "Say how changes in demand will be managed")
    overlapping = session.scalar(
        select(BudgetPlan).where(
            BudgetPlan.la_id == la.id,
            BudgetPlan.first_year <= first_year + years - 1,
            BudgetPlan.first_year + BudgetPlan.years - 1 >= first_year,
        )
    )
    if overlapping is not None:
        refusal.add("first_year", f"The plan '{overlapping.name}' already covers some of these years")
    refusal.raise_if_any("The plan was not created")
    plan = BudgetPlan(
        la_id=la.id, name=name.strip(), first_year=first_year, years=years, demand_policy=demand_policy.strip()
    )
    session.add(plan)
    session.flush()
    audit.record(session, actor, "create", "budget_plan", plan.id, detail={"first_year": first_year, "years": years})
    return plan


def set_line(
    session: Session,
    actor: Actor,
    plan: BudgetPlan,
    *,
    year: int,
    place_type: str,
    commissioned: Decimal,
    unit_cost: Decimal | None,
    provider: Setting | None = None,
) -> BudgetLine:
    """Add or change a line while the plan is a draft, from the plan's page or a budget lines
    file alike. For the reserve, `commissioned` is its amount in pounds (and the unit cost is 1);
    every other line has its unit cost (the tariff of a place for a year, or of an hour)."""
    _require_commissioner(session, actor)
    refusal = Refusal()
    if plan.agreed_at is not None:
        refusal.add("commissioned", "The plan is agreed: change a line by recording a variation")
    if not plan.first_year <= year <= plan.last_year:
        refusal.add(
            "year", f"The plan covers {FinancialYear(plan.first_year).label} to {FinancialYear(plan.last_year).label}"
        )
    if place_type not in PLACE_TYPES:
        refusal.add("place_type", "Choose the place type")
    if place_type == "reserve":
        provider, unit_cost = None, Decimal(1)
    else:
        if provider is None:
            refusal.add("provider", "Choose the provider")
        elif provider.kind not in AP_KINDS or provider.la_id != plan.la_id:
            refusal.add("provider", f"{provider.name} is not an alternative provision provider of this area")
        if unit_cost is None:
            refusal.add("unit_cost", "Enter the unit cost")
    if not commissioned.is_finite():  # NaN or infinity: a box's "NaN" reads as a Decimal
        refusal.add("commissioned", "Enter places, hours or an amount as a number")
    elif commissioned < 0:
        refusal.add("commissioned", "Places, hours or an amount cannot be negative")
    elif commissioned > LARGEST_LINE:
        refusal.add("commissioned", f"Enter places, hours or an amount up to {LARGEST_LINE:,}")
    if unit_cost is not None and not unit_cost.is_finite():
        refusal.add("unit_cost", "Enter the unit cost as a number")
    elif unit_cost is not None and unit_cost < 0:
        refusal.add("unit_cost", "A unit cost cannot be negative")
    elif unit_cost is not None and unit_cost > LARGEST_LINE:
        refusal.add("unit_cost", f"Enter a unit cost up to £{LARGEST_LINE:,}")
    refusal.raise_if_any("The line was not saved")
    assert unit_cost is not None
    line = session.scalar(
        select(BudgetLine).where(
            BudgetLine.plan_id == plan.id,
            BudgetLine.year == year,
            BudgetLine.place_type == place_type,
            BudgetLine.provider_id.is_(None) if provider is None else BudgetLine.provider_id == provider.id,
        )
    )
    if line is None:
        line = BudgetLine(
            plan_id=plan.id,
            year=year,
            provider_id=provider.id if provider else None,
            place_type=place_type,
            commissioned=commissioned,
            unit_cost=unit_cost,
        )
        session.add(line)
    else:
        line.commissioned, line.unit_cost = commissioned, unit_cost
    session.flush()
    session.refresh(plan, ["lines"])
    audit.record(
        session,
        actor,
        "set_line",
        "budget_plan",
        plan.id,
        detail={
            "year": year,
            "place_type": place_type,
            "provider_id": line.provider_id,
            "commissioned": str(commissioned),
            "unit_cost": str(unit_cost),
        },
    )
    return line


def agree_plan(session: Session, actor: Actor, plan: BudgetPlan) -> None:
    """The partnership agrees the plan: from now its lines change only by reasoned variations,
    and bookings beyond its places are spot purchases."""
    _require_commissioner(session, actor)
    refusal = Refusal()
    if plan.agreed_at is not None:
        refusal.add("plan", "The plan is already agreed")
    for year in range(plan.first_year, plan.last_year + 1):
        lines = [line for line in plan.lines if line.year == year]
        if not any(line.place_type != "reserve" for line in lines):
            refusal.add("plan", f"{FinancialYear(year).label} has no commissioned places")
        if not any(line.place_type == "reserve" for line in lines):
            refusal.add("plan", f"{FinancialYear(year).label} has no reserve for changes in demand")
    refusal.raise_if_any("The plan was not agreed")
    plan.agreed_by_id, plan.agreed_at = actor.user_id, utcnow()
    session.flush()
    audit.record(session, actor, "agree", "budget_plan", plan.id)


def vary(session: Session, actor: Actor, line: BudgetLine, *, change: Decimal, reason: str) -> BudgetVariation:
    """A reasoned change to an agreed line's places or hours; its cost or saving is met from the
    year's reserve."""
    _require_commissioner(session, actor)
    refusal = Refusal()
    plan = line.plan
    if plan.agreed_at is None:
        refusal.add("change", "The plan is still a draft: change the line itself")
    if line.place_type == "reserve":
        refusal.add("line", "The reserve changes as the variations it funds are recorded")
    if change == 0:
        refusal.add("change", "Enter the change in places or hours")
    if effective(line) + change < 0:
        refusal.add("change", f"The line has {effective(line)}: it cannot fall below none")
    if len(reason.strip()) < MIN_REASON:
        refusal.add("reason", "A variation needs its reason: how demand changed, and why this line")
    refusal.raise_if_any("The variation was not recorded")
    variation = BudgetVariation(
        plan_id=plan.id,
        line_id=line.id,
        change=change,
        reason=reason.strip(),
        approved_by_id=actor.user_id if actor.user_id is not None else plan.agreed_by_id,
    )
    if variation.approved_by_id is None:
        raise Forbidden("A variation is approved by a named person")
    session.add(variation)
    session.flush()
    session.refresh(plan, ["variations"])
    audit.record(session, actor, "vary", "budget_plan", plan.id, detail={"line_id": line.id, "change": str(change)})
    return variation


def effective(line: BudgetLine) -> Decimal:
    """A line's places or hours after its variations."""
    return Decimal(line.commissioned) + sum(
        (Decimal(v.change) for v in line.plan.variations if v.line_id == line.id), Decimal(0)
    )


def allocation(line: BudgetLine) -> Decimal:
    """What the line pays its provider for the year: places (or hours) at the agreed unit cost."""
    return (effective(line) * Decimal(line.unit_cost)).quantize(Decimal("0.01"))


def plan_for(session: Session, la: LocalAuthority, day: date) -> BudgetPlan | None:
    """The LA's agreed plan covering the financial year of a day, if any."""
    return plan_covering(session, la, FinancialYear.containing(day).start)


# --- the gate at booking ---------------------------------------------------------------------


def fte(sessions: str) -> Decimal:
    return Decimal(week_pattern.count(sessions)) / Decimal(10)


def occupancy(session: Session, provider_id: int, tier: Tier, day: date) -> Decimal:
    """Commissioned places in use at a provider on a day: full-time equivalents of its active
    placements of that tier (spot purchases excluded: they are paid from the reserve)."""
    return occupancy_on(places_in_use(session, provider_id, tier, day), day)


def occupancy_on(places: list[tuple[date, date | None, str]], day: date) -> Decimal:
    """Full-time equivalents of the places (start, end, sessions) in use on `day`."""
    return sum(
        (fte(sessions) for start, end, sessions in places if start <= day and (end is None or end >= day)),
        Decimal(0),
    )


def capacity_problem(
    session: Session,
    la: LocalAuthority,
    *,
    provider: Setting,
    tier: Tier | None,
    sessions: str,
    start: date,
    spot_purchase: bool,
    la_pays: bool = True,
    reads: Reads | None = None,
) -> str | None:
    """Why this booking needs to be a spot purchase, or None. Claims the plan's line (`claim_line`)
    so that two bookings cannot both take its last place. `la_pays`: the LA commissions it, so
    may pay for it outside the plan; a school's booking waits for a place the LA makes. `reads`:
    where the plan, its line and the places in use are read (an import's chunk reads them once)."""
    if tier is None or spot_purchase:
        return None
    reads = reads or Reads(session)
    year = FinancialYear.containing(start)
    plan = reads.plan(la, year.start)
    if plan is None:
        return None
    label = PLACE_TYPES[tier.value].lower()
    line = reads.line(plan, year.start, provider.id, tier)
    if line is not None:
        try:
            reads.claim(line)
        except OperationalError as error:
            raise DomainError(
                "The placement cannot be recorded",
                [
                    FieldError(
                        "spot_purchase",
                        f"Another booking at {provider.name} was being recorded at the same moment: try again",
                    )
                ],
            ) from error
    then = (
        "book it as a spot purchase, with its agreed cost"
        if la_pays
        else f"only {la.name} can pay for a place outside its plan: ask its commissioner"
    )
    if line is None:
        return f"{provider.name} has no commissioned {label} in {plan.name} for {year.label}: {then}"
    used = occupancy_on(reads.places(provider.id, tier, start), start)
    if used + fte(sessions) > effective(line):
        return (
            f"No free commissioned {label[:-1]} at {provider.name} on {start:%-d %B %Y} ({figure(used)} of "
            f"{figure(effective(line))} in use): {then}"
        )
    return None


# --- utilisation and forecast ----------------------------------------------------------------


@dataclass
class LineUse:
    line: BudgetLine
    commissioned: Decimal
    allocation: Decimal
    capacity: Decimal  # place-days, or outreach hours
    used: Decimal  # to the day asked about
    forecast: Decimal  # to the year's end, at the current rate
    occupancy: Decimal | None = None  # places in use on the day (places only)

    @property
    def over_plan(self) -> bool:
        return self.used > self.capacity or self.forecast > self.capacity

    @property
    def used_share(self) -> Decimal:
        return (self.used / self.capacity * 100).quantize(Decimal("1")) if self.capacity else Decimal(0)

    @property
    def forecast_share(self) -> Decimal:
        return (self.forecast / self.capacity * 100).quantize(Decimal("1")) if self.capacity else Decimal(0)

    def bar(self) -> dict[str, Decimal]:
        """Where the chart draws used, forecast and the commissioned mark, as percentages of a
        scale wide enough for whichever is largest."""
        scale = max(self.capacity, self.forecast, self.used, Decimal(1))

        def share(value: Decimal) -> Decimal:
            return (value / scale * 100).quantize(Decimal("0.1"))

        mark = max(share(self.capacity) - Decimal("0.8"), Decimal(0))  # the mark is 0.8 wide, ending there
        return {"used": share(self.used), "forecast": share(self.forecast), "mark": mark}


@dataclass
class YearUse:
    year: int
    school_days: int
    school_days_so_far: int
    lines: list[LineUse] = field(default_factory=list)
    reserve: Decimal = Decimal(0)
    variations_cost: Decimal = Decimal(0)
    spot_purchases: list[Placement] = field(default_factory=list)

    @property
    def spot_cost(self) -> Decimal:
        return sum((Decimal(p.agreed_cost or 0) for p in self.spot_purchases), Decimal(0))

    @property
    def reserve_left(self) -> Decimal:
        return self.reserve - self.variations_cost - self.spot_cost

    @property
    def allocated(self) -> Decimal:
        return sum((u.allocation for u in self.lines), Decimal(0))


def _school_days(calendar: SchoolCalendar, start: date, end: date) -> int:
    if end < start:
        return 0
    try:
        return calendar.count(start, end)
    except CalendarUnknown:
        # Part of the year has no term dates yet: count what is known, and the statutory 190 pro rata.
        whole = (end - start).days + 1
        return round(DEFAULT_SCHOOL_DAYS * whole / 365)


def utilisation(session: Session, plan: BudgetPlan, on: date) -> list[YearUse]:
    """Per year and line: commissioned against used place-days (or outreach hours) up to `on`,
    places in use on `on`, a forecast to the year's end from the current rate, and the reserve
    after variations and spot purchases."""
    la = session.get(LocalAuthority, plan.la_id)
    assert la is not None
    calendar = calendar_for(session, la)
    provider_ids = {line.provider_id for line in plan.lines if line.provider_id is not None}
    first, _ = FinancialYear(plan.first_year).span
    _, last = FinancialYear(plan.last_year).span
    placements = session.scalars(
        select(Placement)
        .join(Pupil, Placement.pupil_id == Pupil.id)
        .where(
            Pupil.home_la_id == la.id,
            or_(Placement.tier.is_not(None), Placement.spot_purchase.is_(True)),
            Placement.start_date <= last,
            or_(Placement.end_date.is_(None), Placement.end_date >= first),
        )
        .options(joinedload(Placement.setting))
    ).all()
    outreach = session.execute(
        select(OutreachEngagement.provider_id, OutreachSession.held_on, OutreachSession.minutes)
        .join(OutreachSession, OutreachSession.engagement_id == OutreachEngagement.id)
        .where(
            OutreachEngagement.provider_id.in_(provider_ids),
            OutreachSession.held_on >= first,
            OutreachSession.held_on <= last,
        )
    ).all()
    years = []
    for year in range(plan.first_year, plan.last_year + 1):
        start, end = FinancialYear(year).span
        upto = min(end, on)
        total_days = _school_days(calendar, start, end)
        days_so_far = _school_days(calendar, start, upto) if on >= start else 0
        remaining = total_days - days_so_far
        use = YearUse(year, total_days, days_so_far)
        use.spot_purchases = [p for p in placements if p.spot_purchase and start <= p.start_date <= end]
        for line in (line for line in plan.lines if line.year == year):
            if line.place_type == "reserve":
                use.reserve += Decimal(line.commissioned)
                continue
            commissioned = effective(line)
            change_cost = sum(
                (Decimal(v.change) * Decimal(line.unit_cost) for v in plan.variations if v.line_id == line.id),
                Decimal(0),
            )
            use.variations_cost += change_cost
            if line.place_type == "outreach":
                used = sum(
                    (Decimal(m) / 60 for pid, held, m in outreach if pid == line.provider_id and start <= held <= upto),
                    Decimal(0),
                )
                rate = used / days_so_far if days_so_far else Decimal(0)
                forecast = used + rate * remaining
                use.lines.append(
                    LineUse(
                        line,
                        commissioned,
                        allocation(line),
                        commissioned,
                        used.quantize(Decimal("0.1")),
                        forecast.quantize(Decimal("0.1")),
                    )
                )
                continue
            tier = Tier(line.place_type)
            mine = [
                p for p in placements if p.setting_id == line.provider_id and p.tier == tier and not p.spot_purchase
            ]
            used = Decimal(0)
            for p in mine:
                active_from, active_to = max(p.start_date, start), min(p.end_date or upto, upto)
                used += fte(p.sessions) * _school_days(calendar, active_from, active_to)
            now = sum(
                (fte(p.sessions) for p in mine if p.start_date <= upto and (p.end_date is None or p.end_date >= upto)),
                Decimal(0),
            )
            forecast = used + (now * remaining if start <= on <= end else 0)
            use.lines.append(
                LineUse(
                    line,
                    commissioned,
                    allocation(line),
                    commissioned * total_days,
                    used.quantize(Decimal("0.1")),
                    forecast.quantize(Decimal("0.1")),
                    now if start <= on <= end else None,
                )
            )
        years.append(use)
    return years


def paid_by_provider(session: Session, la_id: int, first: date, last: date) -> dict[int, list[tuple[date, Decimal]]]:
    """The LA's and the high needs block's share of each approved monthly statement
    (`commissioning.payments`) for months from `first` to `last`, by provider: (month, amount),
    oldest first. What the plan counts as spent: a school's share is recharged to the school."""
    found: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for provider_id, month, paid in session.execute(
        select(PaymentStatement.provider_id, PaymentStatement.month, PaymentStatement.la_paid)
        .where(PaymentStatement.la_id == la_id, PaymentStatement.month >= first, PaymentStatement.month <= last)
        .order_by(PaymentStatement.month)
    ):
        found[provider_id].append((month, Decimal(paid)))
    return found


@dataclass(frozen=True)
class ProviderSpend:
    """What the LA paid a provider in a year for what was delivered (its approved monthly
    statements' LA and high needs block share, `commissioning.payments`), against the allocation
    of its lines, and the year's spend forecast at the average month paid so far."""

    provider: Setting
    allocation: Decimal
    paid: Decimal
    months: int

    @property
    def forecast(self) -> Decimal | None:
        """Paid so far, and the average month paid for each month of the year not yet paid."""
        if not self.months:
            return None
        return (self.paid + self.paid / self.months * (12 - self.months)).quantize(Decimal("0.01"))

    @property
    def over(self) -> bool:
        return self.forecast is not None and self.forecast > self.allocation


def spend(session: Session, plan: BudgetPlan, year: int) -> list[ProviderSpend]:
    """Each provider's spend in a financial year of the plan against its allocation: the
    providers with lines that year or with a statement approved for a month of it."""
    first, last = FinancialYear(year).span
    paid = paid_by_provider(session, plan.la_id, first, last)
    allocated: dict[int, Decimal] = defaultdict(Decimal)
    for line in plan.lines:
        if line.year == year and line.provider_id is not None:
            allocated[line.provider_id] += allocation(line)
    found = []
    ids = set(allocated) | set(paid)
    providers = {s.id: s for s in session.scalars(select(Setting).where(Setting.id.in_(ids)))} if ids else {}
    for provider_id, provider in providers.items():
        months = paid.get(provider_id, [])
        found.append(
            ProviderSpend(
                provider, allocated.get(provider_id, Decimal(0)), sum((v for _, v in months), Decimal(0)), len(months)
            )
        )
    return sorted(found, key=lambda s: s.provider.name)


def by_provider(years: list[YearUse]) -> dict[int, list[LineUse]]:
    found: dict[int, list[LineUse]] = defaultdict(list)
    for year in years:
        for use in year.lines:
            assert use.line.provider_id is not None
            found[use.line.provider_id].append(use)
    return found


def over_plan(session: Session, la: LocalAuthority, on: date) -> list[tuple[str, BudgetLine | None, int, str]]:
    """(key, line, year, message) for each line forecast over its plan, and each reserve spent."""
    plan = plan_for(session, la, on)
    if plan is None:
        return []
    found: list[tuple[str, BudgetLine | None, int, str]] = []
    for year in utilisation(session, plan, on):
        if year.year != FinancialYear.containing(on).start:
            continue
        for use in year.lines:
            if use.over_plan:
                provider = use.line.provider.name if use.line.provider else "A provider"
                unit = "hours" if use.line.place_type == "outreach" else "place-days"
                found.append(
                    (
                        f"budget_over_plan:{use.line.id}",
                        use.line,
                        year.year,
                        f"{provider}: {PLACE_TYPES[use.line.place_type].lower()} forecast at {figure(use.forecast)} "
                        f"{unit} against {figure(use.capacity)} commissioned in {FinancialYear(year.year).label} "
                        f"({figure(use.used)} used so far).",
                    )
                )
        if year.reserve_left < 0:
            found.append(
                (
                    f"budget_over_plan:reserve:{year.year}",
                    None,
                    year.year,
                    f"The {FinancialYear(year.year).label} reserve is overspent by £{-year.reserve_left:,.2f} "
                    f"(variations £{year.variations_cost:,.2f}, spot purchases £{year.spot_cost:,.2f}).",
                )
            )
    return found


def year_end(year: int) -> date:
    return FinancialYear(year).span[1]


@dataclass(frozen=True)
class PlacesOn:
    """A provider's places of one tier in use on a day, against those commissioned."""

    day: date
    tier: Tier
    in_use: Decimal
    commissioned: Decimal


def places_over_the_year(session: Session, plan: BudgetPlan, provider_id: int, today: date) -> list[PlacesOn]:
    """The provider's places in use on the first day of each month of this financial year to
    today (and today), per tier it has commissioned places of, against the places commissioned."""
    year = FinancialYear.containing(today)
    start, _ = year.span
    lines = {
        Tier(line.place_type): effective(line)
        for line in plan.lines
        if line.provider_id == provider_id
        and line.year == year.start
        and line.place_type in ("time_limited", "transitional")
    }
    days = [date(start.year + (start.month - 1 + n) // 12, (start.month - 1 + n) % 12 + 1, 1) for n in range(12)]
    days = [d for d in days if d <= today] + ([today] if today.day != 1 else [])
    return [
        PlacesOn(day, tier, occupancy(session, provider_id, tier, day), places)
        for tier, places in lines.items()
        for day in days
    ]


def provider_lines(years: list[YearUse], provider_id: int) -> list[tuple[YearUse, LineUse]]:
    """A provider's own lines, year by year: what it sees of the plan."""
    return [(year, use) for year in years for use in year.lines if use.line.provider_id == provider_id]


def line_label(line: BudgetLine) -> str:
    provider = line.provider.name if line.provider else "Reserve"
    return f"{provider}: {PLACE_TYPES[line.place_type]} {FinancialYear(line.year).label}"


def workbook_sheets(
    plan: BudgetPlan, years: list[YearUse], on: date, spent: list[tuple[int, list[ProviderSpend]]] | None = None
) -> list[tuple[str, list[str], list[dict]]]:  # type: ignore[type-arg]
    """The plan and its utilisation as spreadsheet tables: the plan's lines, utilisation per line,
    the reserve per year, variations and spending outside the plan. Placements are named by their
    register number, never by the pupil."""
    plan_rows = []
    use_rows = []
    for year in years:
        for use in year.lines:
            line = use.line
            name = line.provider.name if line.provider else ""
            plan_rows.append(
                {
                    "financial_year": FinancialYear(year.year).label,
                    "provider": name,
                    "provider_ref": line.provider.ref if line.provider else "",
                    "place_type": PLACE_TYPES[line.place_type],
                    "commissioned": line.commissioned,
                    "after_variations": use.commissioned,
                    "unit_cost": line.unit_cost,
                    "allocation": use.allocation,
                }
            )
            use_rows.append(
                {
                    "financial_year": FinancialYear(year.year).label,
                    "provider": name,
                    "place_type": PLACE_TYPES[line.place_type],
                    "unit": "hours" if line.place_type == "outreach" else "place-days",
                    "capacity": use.capacity,
                    "used_to_date": use.used,
                    "used_percent": use.used_share,
                    "forecast_to_year_end": use.forecast,
                    "forecast_percent": use.forecast_share,
                    "places_in_use_now": use.occupancy,
                    "over_plan": "Y" if use.over_plan else "N",
                }
            )
    reserve_rows = [
        {
            "financial_year": FinancialYear(year.year).label,
            "school_days": year.school_days,
            "school_days_to_date": year.school_days_so_far,
            "allocated_to_providers": year.allocated,
            "reserve": year.reserve,
            "variations_cost": year.variations_cost,
            "spot_purchases": year.spot_cost,
            "reserve_left": year.reserve_left,
        }
        for year in years
    ]
    variation_rows = [
        {
            "financial_year": FinancialYear(v.line.year).label,
            "line": line_label(v.line),
            "change": v.change,
            "reason": v.reason,
            "approved_by": v.approved_by.name if v.approved_by else "",
            "approved_on": v.approved_at.date(),
        }
        for v in plan.variations
    ]
    spot_rows = [
        {
            "financial_year": FinancialYear(year.year).label,
            "placement": p.id,
            "provider": p.setting.name,
            "start_date": p.start_date,
            "end_date": p.end_date,
            "agreed_cost": p.agreed_cost,
            "reason": p.spot_reason,
        }
        for year in years
        for p in year.spot_purchases
    ]

    spend_rows = [
        {
            "financial_year": FinancialYear(year).label,
            "provider": found.provider.name,
            "provider_ref": found.provider.ref,
            "allocation": found.allocation,
            "paid_to_date": found.paid,
            "months_paid": found.months,
            "forecast_to_year_end": found.forecast,
            "over_allocation": "Y" if found.over else "N",
        }
        for year, spends in spent or []
        for found in spends
    ]

    def columns(rows: list[dict], fallback: list[str]) -> list[str]:  # type: ignore[type-arg]
        return list(rows[0]) if rows else fallback

    return [
        ("Plan", columns(plan_rows, ["financial_year"]), plan_rows),
        (f"Use to {on:%-d %b %Y}", columns(use_rows, ["financial_year"]), use_rows),
        ("Reserve", columns(reserve_rows, ["financial_year"]), reserve_rows),
        ("Variations", columns(variation_rows, ["financial_year", "line", "change", "reason"]), variation_rows),
        ("Outside the plan", columns(spot_rows, ["financial_year", "placement", "agreed_cost"]), spot_rows),
        ("Paid", columns(spend_rows, ["financial_year", "provider", "allocation", "paid_to_date"]), spend_rows),
    ]
