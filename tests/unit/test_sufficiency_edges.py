"""The sufficiency rules at their edges (budgets/sufficiency.py): months the term dates do not
reach, a plan whose years are over, other LAs' pupils in the plan's places, the month under way,
a district not recorded and a month without school days. Found by an outside review; each
figure is worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ap_register.budgets import rules, sufficiency
from ap_register.budgets.sufficiency import Demand, Filters
from ap_register.domain.vocab import Destination, SettingKind, Tier
from ap_register.placements.rules import end_placement
from tests import factories


def month_of(found: sufficiency.Sufficiency, first: date) -> sufficiency.Month:
    return next(m for m in found.months if m.first == first)


# --- Months the LA's term dates do not reach: counted where they reach, never guessed


def past_the_term_dates(db: Session) -> sufficiency.Sufficiency:
    """The tests' term dates end on Wednesday 21 July 2027 (the LA has not yet recorded 2027/28).
    Two pupils full time at The Oaks from Monday 7 September 2026; one leaves on the last day of
    the summer term, Wednesday 21 July 2027; the other stays. Read on Monday 20 September 2027."""
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 3)], first_year=2026)
    leaver = factories.pupil(db, la, school, date_of_birth=date(2012, 3, 1))
    stayer = factories.pupil(db, la, school, date_of_birth=date(2012, 3, 1))
    left = factories.placement(db, leaver, pru, start=date(2026, 9, 7), notice_date=date(2026, 9, 1))
    factories.placement(db, stayer, pru, start=date(2026, 9, 7), notice_date=date(2026, 9, 1))
    end_placement(db, factories.SYSTEM, left, end_date=date(2027, 7, 21), destination=Destination.RETURNED_HOME_SCHOOL)
    db.flush()
    return Demand(db, plan, date(2027, 9, 20)).report(Filters())


def test_the_last_month_of_the_term_dates_counts_its_school_days_only(db: Session) -> None:
    july = month_of(past_the_term_dates(db), date(2027, 7, 1))
    # July 2027 has 15 school days (Thursday 1 to Wednesday 21 July) and both pupils were at The
    # Oaks on every one of them: 30 place-days over 15 school days, 2 places in use (counting
    # the month's 22 weekdays, as the first version did, gave 37 / 22 = 1.7).
    assert july.in_use == Decimal("2.0")


def test_a_summer_past_the_term_dates_is_not_a_month_of_full_use(db: Session) -> None:
    august = month_of(past_the_term_dates(db), date(2027, 8, 1))
    # August 2027: no school day the LA has recorded (and none expected). It must not show 1
    # place in use (the stayer over August's 22 weekdays), nor feed the fit.
    assert august.in_use is None


def test_a_wait_over_the_summer_is_not_counted_in_weekdays(db: Session) -> None:
    # A referral received on Thursday 1 July 2027, its placement starting Monday 6 September
    # 2027, before the LA has recorded 2027/28's term dates. Counting every weekday from 1 July
    # to 3 September (the first version) gave 47, the whole summer holiday among them. The
    # start's school day is not known, so the wait is not counted at all, and no month's term
    # dates are guessed: September says so.
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 3)], first_year=2027)
    pupil = factories.pupil(db, la, school, date_of_birth=date(2012, 3, 1))
    placed = factories.placement(db, pupil, pru, start=date(2027, 9, 6), notice_date=date(2027, 7, 1))
    factories.ap_referral(db, pupil, school, date(2027, 7, 1), placement=placed)

    found = Demand(db, plan, date(2027, 9, 20)).report(Filters())
    september = month_of(found, date(2027, 9, 1))
    assert september.starts == 1
    assert september.waits == [] and september.school_days is None and september.in_use is None
    assert found.notes[0].startswith("No term dates are recorded for 2 months from August 2027 to September 2027")


# --- A plan whose years are over: its trend counts every placement of the months it fits


def test_the_trend_of_a_past_plan_counts_every_placement_of_the_months_it_fits(db: Session) -> None:
    # A plan for 2022-23 to 2024-25 (it ended on 31 March 2025), read on Friday 4 December 2026.
    # Its trend is fitted to the whole months January 2025 to November 2026.
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 2)], first_year=2022)
    # One pupil full time from Monday 2 December 2024; three more from Monday 8 September 2025,
    # Monday 5 January 2026 and Monday 13 April 2026, all still there: 1 place in use to August
    # 2025, 2 in the autumn, 3 in the spring, 4 from the summer term: a rising line, about 4 by
    # November 2026.
    for start in (date(2024, 12, 2), date(2025, 9, 8), date(2026, 1, 5), date(2026, 4, 13)):
        pupil = factories.pupil(db, la, school, on=date(2024, 9, 4), date_of_birth=date(2012, 3, 1))
        factories.placement(db, pupil, pru, start=start, notice_date=start.replace(day=1))

    found = Demand(db, plan, date(2026, 12, 4)).report(Filters())
    # The first version loaded placements only to the plan's last day, so it saw 1 place in use
    # each month, a level line. The true trend rises to about 4.
    assert found.fit is None or found.fit.at(date(2026, 11, 1)).central > 3


# --- Occupancy counts the pupils of other LAs that hold the plan's commissioned places


def test_occupancy_counts_every_pupil_in_a_commissioned_place_as_the_budget_does(db: Session) -> None:
    la = factories.la(db)
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 1)])
    # A pupil of another LA (873, which has no budget plan, so the booking is not a spot
    # purchase) full time in a time-limited place at The Oaks from Monday 3 November 2025.
    other = factories.la(db, "873")
    away_school = factories.setting(db, other, SettingKind.MAINSTREAM, name="Far School")
    visitor = factories.pupil(db, other, away_school, date_of_birth=date(2011, 3, 1))
    booked = factories.placement(db, visitor, pru, start=date(2025, 11, 3))
    assert not booked.spot_purchase
    # The budget's own count of The Oaks's places in use (the plan's page, and the gate that
    # refuses the LA's next booking there unless it is a spot purchase): 1 of its 1 place.
    assert rules.occupancy(db, pru.id, Tier.TIME_LIMITED, date(2025, 11, 17)) == Decimal(1)

    november = month_of(Demand(db, plan, date(2025, 12, 10)).report(Filters()), date(2025, 11, 1))
    # "Occupancy: the places in use at those providers (spot purchases apart) as a share of
    # them": The Oaks's one place was in use every school day of November, 100% full, as the
    # booking gate counts it (the first version said 0%).
    assert november.in_use_commissioned == Decimal("1.0")
    assert november.occupancy == Decimal(100)


# --- The month under way: more places in use than commissioned is marked short


def test_the_month_under_way_is_marked_short_when_its_places_in_use_pass_the_places(db: Session) -> None:
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 2)])
    # Three pupils full time at The Oaks from Monday 3 November 2025, the register's first
    # records, so no forecast (a month of history).
    for _ in range(3):
        pupil = factories.pupil(db, la, school, date_of_birth=date(2011, 3, 1))
        factories.placement(db, pupil, pru, start=date(2025, 11, 3))
    found = Demand(db, plan, date(2025, 12, 10)).report(Filters())
    assert found.fit is None
    december = month_of(found, date(2025, 12, 1))
    # 1 to 10 December: 8 school days, 3 pupils on every one: 3 places in use so far against 2
    # commissioned. The chart already draws December's bar as "more than commissioned"; the
    # table's Short column must say so too (November, with the same figures, is marked Short).
    assert december.in_use == Decimal("3.0") and december.commissioned == Decimal(2)
    assert month_of(found, date(2025, 11, 1)).short == "short"
    assert december.short == "short"


# --- The workbook's sheet by district accounts for the pupils whose school's district is not known


def test_the_sheet_by_district_accounts_for_every_pupil(db: Session) -> None:
    la = factories.la(db)
    fenland = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    unknown = factories.setting(db, la, SettingKind.MAINSTREAM, name="Elm School")  # no district
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 2)])
    for school in (fenland, unknown):
        pupil = factories.pupil(db, la, school, date_of_birth=date(2011, 3, 1))
        factories.placement(db, pupil, pru, start=date(2025, 11, 3))
    sheets = dict((name, rows) for name, _, rows in sufficiency.workbook_sheets(Demand(db, plan, date(2025, 12, 10))))
    # November: 2 places in use in the area, 1 from a Fenland school, 1 from a school whose
    # district is not known. The districts' rows must add up to the area's: a row for "District
    # not known" (as the page's district filter offers) with the other place.
    area = next(r for r in sheets["Sufficiency"] if r["month"] == "2025-11")
    districts = [r for r in sheets["Sufficiency by district"] if r["month"] == "2025-11"]
    assert area["places_in_use"] == Decimal("2.0")
    assert sum(r["places_in_use"] for r in districts) == area["places_in_use"]


# --- August: no school days, so no forecast of places in use and no "Short" tag


def test_a_month_without_school_days_is_neither_forecast_nor_short(db: Session) -> None:
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="March High", district="Fenland")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks", district="Fenland")
    plan = factories.budget_plan(db, la, [(pru, "time_limited", 12)])
    # One more pupil full time at The Oaks each month, from Monday 8 September 2025 to Monday 13
    # April 2026: places in use rise by about one a month, October 2025 to April 2026, 7 months
    # of history, enough for a forecast. Read on Friday 15 May 2026.
    starts = [date(2025, 9, 8), date(2025, 10, 6), date(2025, 11, 3), date(2025, 12, 1)]
    starts += [date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2), date(2026, 4, 13)]
    for start in starts:
        pupil = factories.pupil(db, la, school, date_of_birth=date(2011, 3, 1))
        factories.placement(db, pupil, pru, start=start, notice_date=date(2025, 9, 1))
    found = Demand(db, plan, date(2026, 5, 15)).report(Filters())
    assert found.fit is not None and found.fit.slope > 0.5
    # August 2026 has no school days (the summer term ends on 21 July, the autumn term begins on
    # 3 September): no place is used in it, and the fit leaves every August out of its history.
    # The first version forecast 12.1 places "in use" in August against 12 commissioned and said
    # demand passed the places then, when no child is taught. The first month short is
    # September 2026 (about 13).
    august = month_of(found, date(2026, 8, 1))
    assert august.school_days == 0
    assert august.forecast is None
    assert august.short is None
    assert found.first_short is not None and found.first_short.first == date(2026, 9, 1)
