"""The multi-year AP budget: plans, variations, the booking gate, and utilisation reconciled with
a calculation by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from ap_register.budgets.outreach import log_session, start_engagement
from ap_register.budgets.rules import agree_plan, allocation, create_plan, set_line, utilisation, vary
from ap_register.coverage.alerts import findings
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import Destination, MovementKind, Registration, Role, Route, SettingKind, Tier
from ap_register.placements.rules import PlacementDraft, end_placement, start_placement
from tests import factories
from tests.factories import SYSTEM

ON = date(2025, 11, 21)


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks")
    academy = factories.setting(db, la, SettingKind.AP_ACADEMY, name="Riverbank")
    commissioner = Actor(user=factories.user(db, Role.COMMISSIONER, la), via="test")
    plan = create_plan(
        db,
        commissioner,
        la,
        name="AP budget 2025-28",
        first_year=2025,
        years=3,
        demand_policy="Growth beyond the plan is met from the reserve, then reviewed each term",
    )
    for year in (2025, 2026, 2027):
        set_line(
            db,
            commissioner,
            plan,
            year=year,
            provider=pru,
            place_type="time_limited",
            commissioned=Decimal(2),
            unit_cost=Decimal(18000),
        )
        set_line(
            db,
            commissioner,
            plan,
            year=year,
            provider=academy,
            place_type="time_limited",
            commissioned=Decimal(1),
            unit_cost=Decimal(20000),
        )
        set_line(
            db,
            commissioner,
            plan,
            year=year,
            provider=pru,
            place_type="outreach",
            commissioned=Decimal(100),
            unit_cost=Decimal(60),
        )
        set_line(
            db, commissioner, plan, year=year, place_type="reserve", commissioned=Decimal(50000), unit_cost=Decimal(1)
        )
    agree_plan(db, commissioner, plan)
    return {"la": la, "school": school, "pru": pru, "academy": academy, "plan": plan, "commissioner": commissioner}


def excluded(db: Session, area: dict):  # type: ignore[no-untyped-def,type-arg]
    from ap_register.placements.rules import record_roll_movement

    pupil = factories.pupil(db, area["la"], area["school"])
    record_roll_movement(
        db,
        SYSTEM,
        pupil,
        MovementKind.PERMANENT_EXCLUSION,
        date(2025, 10, 1),
        area["school"],
        reason="Assault",
        today=date(2025, 10, 1),
    )
    return pupil


def place(db: Session, pupil, where, start: date, sessions: str = "1" * 10, route=Route.LA_EXCLUSION, **fields):  # type: ignore[no-untyped-def]
    placement, _ = start_placement(
        db,
        SYSTEM,
        pupil,
        PlacementDraft(
            setting_id=where.id,
            route=route,
            registration=Registration.DUAL,
            sessions=sessions,
            start_date=start,
            tier=Tier.TIME_LIMITED,
            **{"planned_end_date": date(2027, 7, 16), "reintegration_plan": "Back to school by the summer", **fields},
        ),
    )
    return placement


def test_a_plan_spans_at_least_three_years_and_variations_give_reasons(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(DomainError) as refused:
        create_plan(db, area["commissioner"], area["la"], name="Short", first_year=2030, years=2, demand_policy="x")
    assert refused.value.errors[0].message.startswith("A budget plan spans at least 3 financial years")
    line = next(
        line
        for line in area["plan"].lines
        if line.year == 2025 and line.provider_id == area["pru"].id and line.place_type == "time_limited"
    )
    with pytest.raises(DomainError) as refused:
        vary(db, area["commissioner"], line, change=Decimal(1), reason="")
    assert [e.message for e in refused.value.errors] == [
        "A variation needs its reason: how demand changed, and why this line"
    ]


def test_utilisation_reconciles_with_a_hand_calculation(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    a, b = excluded(db, area), excluded(db, area)
    first = place(db, a, area["pru"], date(2025, 11, 3))
    end_placement(db, SYSTEM, first, end_date=date(2025, 11, 28), destination=Destination.NEW_MAINSTREAM_SCHOOL)
    place(db, b, area["pru"], date(2025, 11, 10), sessions="1111100000")
    engagement = start_engagement(
        db,
        SYSTEM,
        provider=area["pru"],
        school=area["school"],
        kind="coaching",
        started_on=date(2025, 10, 1),
        group_name="Year 9",
        today=ON,
    )
    log_session(db, SYSTEM, engagement, held_on=date(2025, 10, 1), minutes=60, staff="Lead", today=ON)
    log_session(db, SYSTEM, engagement, held_on=date(2025, 10, 8), minutes=90, staff="Lead", today=ON)

    year = utilisation(db, area["plan"], ON)[0]
    # School days in 2025-26 (1 April 2025 to 31 March 2026), by stretch of term: 4 (1 to 4 April,
    # the end of the spring term) + 23 + 37 (summer; 5 May a bank holiday) + 38 + 35 (autumn)
    # + 30 + 25 (spring) = 192.
    assert year.school_days == 192
    # So far, to Friday 21 November: 4 + 23 + 37 + 38 + 15 = 117; left: 75.
    assert year.school_days_so_far == 117
    pru = next(u for u in year.lines if u.line.provider_id == area["pru"].id and u.line.place_type == "time_limited")
    assert pru.capacity == Decimal(2) * 192  # 384 place-days
    # A: full time 3 to 21 November, 15 school days; B: 5 sessions of 10 from 10 November, 10 days.
    assert pru.used == Decimal("15") + Decimal("0.5") * 10
    assert pru.occupancy == Decimal("1.5")
    assert pru.forecast == Decimal("20") + Decimal("1.5") * 75  # 132.5
    assert pru.allocation == Decimal("36000.00")
    outreach = next(u for u in year.lines if u.line.place_type == "outreach")
    # 150 minutes: 2.5 hours in 117 school days, at that rate 75 more days: 2.5 + 2.5 / 117 * 75 = 4.10.
    assert (outreach.used, outreach.forecast) == (Decimal("2.5"), Decimal("4.1"))
    assert year.reserve_left == Decimal(50000)


def test_moving_a_pupil_changes_use_never_an_allocation(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    pupil = excluded(db, area)
    first = place(db, pupil, area["pru"], date(2025, 11, 3))
    before = {u.line.id: (u.allocation, u.used) for u in utilisation(db, area["plan"], ON)[0].lines}
    end_placement(db, SYSTEM, first, end_date=date(2025, 11, 14), destination=Destination.OTHER_AP)
    place(db, pupil, area["academy"], date(2025, 11, 17))
    after = {u.line.id: (u.allocation, u.used) for u in utilisation(db, area["plan"], ON)[0].lines}
    assert {k: v[0] for k, v in before.items()} == {k: v[0] for k, v in after.items()}
    assert [before[k][1] == after[k][1] for k in before] != [True] * len(before)


def test_a_placement_from_before_the_la_adopted_the_register_needs_no_free_place(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    for _ in range(2):
        place(db, excluded(db, area), area["pru"], date(2025, 11, 3))
    area["la"].adopted_on = date(2025, 12, 1)
    # The LA's old records hold a third pupil at The Oaks: it is history, brought in as it was.
    third = place(db, excluded(db, area), area["pru"], date(2025, 11, 10))
    assert (third.spot_purchase, third.from_old_records) == (False, True)
    # From the adoption date the budget's places gate every booking again.
    with pytest.raises(DomainError) as refused:
        place(db, excluded(db, area), area["pru"], date(2025, 12, 1))
    assert refused.value.errors[0].message.startswith("No free commissioned time-limited place at The Oaks")


def test_no_free_place_means_a_spot_purchase_from_the_reserve(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    for _ in range(2):
        place(db, excluded(db, area), area["pru"], date(2025, 11, 3))
    third = excluded(db, area)
    with pytest.raises(DomainError) as refused:
        place(db, third, area["pru"], date(2025, 11, 10))
    assert refused.value.errors[0].message == (
        "No free commissioned time-limited place at The Oaks on 10 November 2025 (2 of 2 in use): "
        "book it as a spot purchase, with its agreed cost"
    )
    spot = place(
        db,
        third,
        area["pru"],
        date(2025, 11, 10),
        spot_purchase=True,
        agreed_cost=Decimal("7500"),
        spot_reason="Only provision with a place before the sixth day",
    )
    assert spot.spot_purchase
    year = utilisation(db, area["plan"], ON)[0]
    assert year.reserve_left == Decimal(50000) - Decimal(7500)
    line = next(
        u.line for u in year.lines if u.line.provider_id == area["pru"].id and u.line.place_type == "time_limited"
    )
    vary(
        db,
        area["commissioner"],
        line,
        change=Decimal(1),
        reason="Exclusions up a third this autumn: one more place at The Oaks",
    )
    year = utilisation(db, area["plan"], ON)[0]
    assert year.reserve_left == Decimal(50000) - Decimal(7500) - Decimal(18000)
    assert allocation(line) == Decimal("54000.00")


def test_a_school_s_own_booking_is_not_paid_outside_the_la_s_plan(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """An off-site direction is the school's to commission and pay for: with no free place, it
    is told to ask the LA, and a spot purchase (the LA's money, from the reserve) is refused."""
    for _ in range(2):
        place(db, excluded(db, area), area["pru"], date(2025, 11, 3))
    pupil = factories.pupil(db, area["la"], area["school"])
    direction = dict(
        route=Route.OFF_SITE_DIRECTION,
        notice_date=date(2025, 10, 27),
        **factories.NOTICE,
    )
    with pytest.raises(DomainError) as refused:
        place(db, pupil, area["pru"], date(2025, 11, 10), **direction)
    assert [e.message for e in refused.value.errors] == [
        "No free commissioned time-limited place at The Oaks on 10 November 2025 (2 of 2 in use): only Leicestershire "
        "can pay for a place outside its plan: ask its commissioner"
    ]
    with pytest.raises(DomainError) as refused:
        place(
            db,
            pupil,
            area["pru"],
            date(2025, 11, 10),
            spot_purchase=True,
            agreed_cost=Decimal("7500"),
            spot_reason="The school will pay",
            **direction,
        )
    assert [e.message for e in refused.value.errors] == [
        "The school commissions this placement: only the local authority pays for a place outside its plan"
    ]


def test_a_line_forecast_over_its_places_raises_an_alert(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    # Riverbank has one place; one pupil full time there from 8 September 2025: within the plan.
    place(db, excluded(db, area), area["academy"], date(2025, 9, 8))
    found = [f for f in findings(db, area["la"], ON) if f.kind == "budget_over_plan"]
    assert found == []
    line = next(line for line in area["plan"].lines if line.year == 2025 and line.provider_id == area["academy"].id)
    vary(db, area["commissioner"], line, change=Decimal("-0.5"), reason="Half a place moved to outreach for the spring")
    found = [f for f in findings(db, area["la"], ON) if f.kind == "budget_over_plan"]
    assert [f.setting.name if f.setting else None for f in found] == ["Riverbank"]
    # Half a place is 96 place-days; used 35 (8 September to 24 October) + 15 (3 to 21 November)
    # = 50, and at one place for the 75 school days left the forecast is 125.
    assert found[0].message == (
        "Riverbank: time-limited places forecast at 125 place-days against 96 commissioned in 2025-26 (50 used so far)."
    )


def test_spending_beyond_the_reserve_raises_an_alert(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    # Two places in use at The Oaks, then three spot purchases at £20,000: £60,000 of a £50,000 reserve.
    for _ in range(2):
        place(db, excluded(db, area), area["pru"], date(2025, 11, 3))
    for _ in range(3):
        place(
            db,
            excluded(db, area),
            area["pru"],
            date(2025, 11, 10),
            spot_purchase=True,
            agreed_cost=Decimal(20000),
            spot_reason="No place anywhere else before the sixth day",
        )
    found = [f.message for f in findings(db, area["la"], ON) if f.kind == "budget_over_plan"]
    assert found == ["The 2025-26 reserve is overspent by £10,000.00 (variations £0.00, spot purchases £60,000.00)."]


def test_budget_lines_import_names_every_bad_line_and_writes_none(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    import io

    from ap_register.domain.imports import ImportRefused, run_import

    draft = create_plan(
        db, area["commissioner"], area["la"], name="Next plan", first_year=2028, years=3, demand_policy="x"
    )
    pru_ref = area["pru"].ref
    text = (
        "plan,year,place_type,provider_ref,commissioned,unit_cost\n"
        f"Next plan,2028-29,time_limited,{pru_ref},2,18000\n"  # good
        f"Next plan,2028-30,time_limited,{pru_ref},2,18000\n"  # not a financial year
        "Next plan,2028,time_limited,NOPE,2,18000\n"  # no such provider
        f"No such plan,2028,time_limited,{pru_ref},2,18000\n"
        f"Next plan,2029,outreach,{pru_ref},100,\n"  # no unit cost
        f"Next plan,2028,time_limited,{pru_ref},3,18000\n"  # the first line again
        f"Next plan,2031,time_limited,{pru_ref},2,18000\n"  # outside the plan's years
        f"AP budget 2025-28,2025,time_limited,{pru_ref},9,18000\n"  # an agreed plan
        f"Next plan,2028,transitional,{area['school'].ref},1,20000\n"  # not an AP provider
    )
    with pytest.raises(ImportRefused) as refused:
        run_import(db, SYSTEM, "budget-lines", io.BytesIO(text.encode()), la=area["la"])
    assert [(e.line, e.column, e.message) for e in refused.value.report.errors] == [
        (3, "year", "'2028-30' is not a financial year such as 2025 or 2025-26"),
        (4, "provider_ref", "No setting with reference NOPE in Leicestershire"),
        (5, "plan", "Leicestershire has no budget plan named 'No such plan': create it first"),
        (6, "unit_cost", "Enter the unit cost"),
        (7, "place_type", "This line is already in the file"),
        (8, "year", "The plan covers 2028-29 to 2030-31"),
        (9, "commissioned", "The plan is agreed: change a line by recording a variation"),
        (10, "provider_ref", "Meadow High is not an alternative provision provider of this area"),
    ]
    db.refresh(draft)
    assert draft.lines == []


def test_a_file_s_second_reserve_row_for_a_year_is_a_repeat_whatever_provider_it_names(
    db: Session,
    area: dict,  # type: ignore[type-arg]
) -> None:
    """The reserve is one line a year (set_line ignores a provider for it): a second row used to
    replace the first silently when it named another provider."""
    import io

    from ap_register.domain.imports import ImportRefused, run_import

    create_plan(db, area["commissioner"], area["la"], name="Next plan", first_year=2028, years=3, demand_policy="x")
    text = (
        "plan,year,place_type,provider_ref,commissioned,unit_cost\n"
        "Next plan,2028,reserve,,25000,\n"
        f"Next plan,2028,reserve,{area['pru'].ref},9000,\n"
    )
    with pytest.raises(ImportRefused) as refused:
        run_import(db, SYSTEM, "budget-lines", io.BytesIO(text.encode()), la=area["la"])
    assert [(e.line, e.message) for e in refused.value.report.errors] == [(3, "This line is already in the file")]
