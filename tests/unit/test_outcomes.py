"""The five outcomes reproduced by hand from a provider's pupils: the definitions, the n, the
Wilson interval, suppression below 6 and the band against the benchmark."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from ap_register.budgets.outreach import close_engagement, start_engagement
from ap_register.domain.calendar import forget_calendars
from ap_register.domain.vocab import Destination, MovementKind, SettingKind, Tier
from ap_register.models import AttendanceMark, Ks4Result, Post16Check, Pupil, TermDate
from ap_register.outcomes import rules as outcomes
from ap_register.outcomes.rules import (
    MIN_N,
    Scores,
    national_benchmarks,
    scores,
    scores_for,
    scores_in_batches,
    wilson,
)
from ap_register.placements.rules import end_placement, record_roll_movement
from ap_register.years import AcademicYear
from tests import factories
from tests.factories import SYSTEM, TERM_DATES

ON = date(2026, 10, 1)
YEAR = 2025  # 2025/26
YEAR_11_IN_2025 = date(2010, 3, 1)
YEAR_11_IN_2024 = date(2009, 3, 1)


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    return {
        "la": la,
        "school": factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High"),
        "pru": factories.setting(db, la, SettingKind.PRU, name="The Oaks"),
        "academy": factories.setting(db, la, SettingKind.AP_ACADEMY, name="Riverbank"),
    }


def placed(db: Session, area: dict, born: date, start: date, where: str = "pru", **fields):  # type: ignore[no-untyped-def,type-arg]
    pupil = factories.pupil(db, area["la"], area["school"], on=date(2024, 9, 4), date_of_birth=born)
    fields.setdefault("notice_date", start - timedelta(days=14))
    placement = factories.placement(db, pupil, area[where], start=start, **fields)
    return pupil, placement


def supported_until(db: Session, area: dict, pupil: Pupil, closed_on: date) -> None:  # type: ignore[type-arg]
    """One to one outreach by the area's PRU at its school from 8 September 2025 to `closed_on`."""
    engagement = start_engagement(
        db,
        SYSTEM,
        provider=area["pru"],
        school=area["school"],
        kind="coaching",
        started_on=date(2025, 9, 8),
        pupil=pupil,
        today=ON,
    )
    close_engagement(db, SYSTEM, engagement, closed_on=closed_on, outcome="sustained_in_mainstream", note="", today=ON)


def test_the_wilson_interval_matches_published_values() -> None:
    # Newcombe (1998), table I: 0 of 10 gives 0 to 0.2775; 5 of 10 gives 0.2366 to 0.7634.
    assert [round(x, 4) for x in wilson(0, 10)] == [0.0, 0.2775]
    assert [round(x, 4) for x in wilson(5, 10)] == [0.2366, 0.7634]
    assert AcademicYear.parse("2025/26") == AcademicYear(2025) and AcademicYear.parse("2025/27") is None
    assert AcademicYear.parse("0000/01") is None and AcademicYear.parse("9999") is None


def test_english_and_maths_for_one_provider_by_hand(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    grades = [("5", "4"), ("4", "L2"), ("3", "4"), ("L1", "2"), ("U", "3"), None, ("9", "7")]
    for grade in grades:
        pupil, _ = placed(db, area, YEAR_11_IN_2025, date(2026, 1, 5))
        if grade:
            db.add(Ks4Result(pupil_id=pupil.id, academic_year=YEAR, english=grade[0], maths=grade[1]))
    # Placed in the autumn and back in school before 1 January of Year 11: not the provider's leaver.
    _, autumn = placed(db, area, YEAR_11_IN_2025, date(2025, 9, 8))
    end_placement(db, SYSTEM, autumn, end_date=date(2025, 12, 19), destination=Destination.RETURNED_HOME_SCHOOL)
    # A Year 10 pupil placed in the spring is not a leaver either.
    placed(db, area, date(2011, 3, 1), date(2026, 1, 5))
    db.flush()
    the_oaks = next(p for p in scores(db, area["la"], YEAR, ON).providers if p.provider.name == "The Oaks")
    figure = the_oaks.figures["english_maths"]
    # GCSE 4+ in both: 5/4 and 9/7 (a functional skills Level 2 is not a GCSE grade 4): 2 of 7 = 28.6%.
    # Wilson, z = 1.96, p = 2/7: (p + z²/2n ± z√(p(1-p)/n + z²/4n²)) / (1 + z²/n) = 8.2% to 64.1%.
    assert (figure.n, figure.value, figure.interval) == (7, 28.6, (8.2, 64.1))
    # The 2018/19 national figure, 4.5%, is below the whole interval: above; its label says which year.
    assert figure.benchmark is not None and figure.benchmark.value == 4.5 and figure.band == "above"
    assert "2018/19" in figure.benchmark.label and "2019/20" in national_benchmarks()["post16"].label
    # Beside it: GCSE 1+ in both (5/4, 3/4, 9/7: 3 of 7), and 4+ or a Level 2 in each (5/4, 4/L2, 9/7).
    assert figure.extra["grade_1_or_above"] == 42.9 and figure.extra["grade_4_or_level_2"] == 42.9
    assert figure.extra["recorded"] == 6
    assert sorted(r.detail for r in figure.pupils if not r.met) == [
        "English 3, maths 4",
        "English 4, maths L2",
        "English L1, maths 2",
        "English U, maths 3",
        "No result recorded",
    ]
    # Riverbank has no leavers: nothing to show, never a zero.
    riverbank = next(p for p in scores(db, area["la"], YEAR, ON).providers if p.provider.name == "Riverbank")
    assert riverbank.figures["english_maths"].as_json()["value"] is None
    assert riverbank.figures["english_maths"].band == "not enough data"


def test_four_leavers_suppress_the_post16_figure(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    for activity in ("education", "apprenticeship", "neet", "education"):
        pupil, _ = placed(db, area, YEAR_11_IN_2024, date(2025, 2, 3))
        db.add(Post16Check(pupil_id=pupil.id, leaving_year=YEAR - 1, check_point="october", activity=activity))
        db.add(Post16Check(pupil_id=pupil.id, leaving_year=YEAR - 1, check_point="march", activity=activity))
    db.flush()
    the_oaks = next(p for p in scores(db, area["la"], YEAR, ON).providers if p.provider.name == "The Oaks")
    assert the_oaks.figures["post16"].as_json() == {
        "value": None,
        "n": None,  # the count of pupils is the small number itself
        "ci_low": None,
        "ci_high": None,
        "suppressed": True,
        "band": "not enough data",
        "benchmark": 55.0,
        "benchmark_source": national_benchmarks()["post16"].label,
    }
    # Two more leavers, one sustained and one not checked in March: 4 of 6 sustained.
    for march in ("education", None):
        pupil, _ = placed(db, area, YEAR_11_IN_2024, date(2025, 2, 3))
        db.add(Post16Check(pupil_id=pupil.id, leaving_year=YEAR - 1, check_point="october", activity="education"))
        if march:
            db.add(Post16Check(pupil_id=pupil.id, leaving_year=YEAR - 1, check_point="march", activity=march))
    db.flush()
    the_oaks = next(p for p in scores(db, area["la"], YEAR, ON).providers if p.provider.name == "The Oaks")
    figure = the_oaks.figures["post16"]
    assert (figure.n, figure.value, figure.suppressed, figure.band) == (MIN_N, 66.7, False, "in line")
    # Four leavers at Riverbank: its figure is suppressed, and The Oaks' is withheld beside it, or
    # Riverbank's would be the LA's total less The Oaks'.
    for activity in ("education", "neet", "education", "education"):
        pupil, _ = placed(db, area, YEAR_11_IN_2024, date(2025, 2, 3), where="academy")
        for point in ("october", "march"):
            db.add(Post16Check(pupil_id=pupil.id, leaving_year=YEAR - 1, check_point=point, activity=activity))
    db.flush()
    found = scores(db, area["la"], YEAR, ON)
    by_name = {p.provider.name: p.figures["post16"] for p in found.providers}
    assert (by_name["Riverbank"].suppressed, by_name["Riverbank"].band) == (True, "not enough data")
    assert (by_name["The Oaks"].suppressed, by_name["The Oaks"].band, by_name["The Oaks"].value) == (
        True,
        "withheld",
        None,
    )
    assert (found.area.figures["post16"].n, found.area.figures["post16"].suppressed) == (10, False)
    # On The Oaks' own page, the LA's total less its own six would be Riverbank's four: withheld there.
    oaks = next(p for p in found.providers if p.provider.name == "The Oaks")
    riverbank = next(p for p in found.providers if p.provider.name == "Riverbank")
    assert outcomes.area_beside(found, oaks)["post16"].withheld
    assert not outcomes.area_beside(found, riverbank)["post16"].withheld  # the rest is six
    # Kept by the nightly job and read back, the figure stays withheld.
    outcomes.store(db, found)
    kept = outcomes.stored(db, area["la"], YEAR)
    assert kept is not None and {p.provider.name: p.figures["post16"].band for p in kept.providers} == {
        "Riverbank": "not enough data",
        "The Oaks": "withheld",
    }
    # Before the March check of the year after leaving, there is nothing to count yet.
    early = next(p for p in scores(db, area["la"], YEAR, date(2026, 3, 1)).providers if p.provider.name == "The Oaks")
    assert (early.figures["post16"].n, early.figures["post16"].pending) == (0, 6)


def test_reintegration_needs_a_return_that_lasts_a_term(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    returned = []
    for destination in (Destination.RETURNED_HOME_SCHOOL, Destination.NEW_MAINSTREAM_SCHOOL, Destination.OTHER_AP):
        pupil, placement = placed(
            db,
            area,
            date(2012, 3, 1),
            date(2025, 11, 3),
            tier=Tier.TIME_LIMITED,
            planned_end_date=date(2026, 2, 13),
            reintegration_plan="Back by half term",
        )
        end_placement(db, SYSTEM, placement, end_date=date(2026, 2, 13), destination=destination)
        returned.append(pupil)
    # The second is permanently excluded in March: not on a mainstream roll a term after returning.
    record_roll_movement(
        db, SYSTEM, returned[1], MovementKind.PERMANENT_EXCLUSION, date(2026, 3, 10), area["school"], reason="x"
    )
    # One ending in July: its term has not passed by 1 October.
    _, late = placed(
        db,
        area,
        date(2012, 3, 1),
        date(2026, 4, 20),
        tier=Tier.TIME_LIMITED,
        planned_end_date=date(2026, 7, 17),
        reintegration_plan="Back in September",
    )
    end_placement(db, SYSTEM, late, end_date=date(2026, 7, 17), destination=Destination.RETURNED_HOME_SCHOOL)
    db.flush()
    the_oaks = next(p for p in scores(db, area["la"], YEAR, ON).providers if p.provider.name == "The Oaks")
    figure = the_oaks.figures["reintegration"]
    assert (figure.n, figure.successes, figure.pending, figure.suppressed) == (3, 1, 1, True)
    assert [r.detail for r in figure.pupils] == [
        "Ended 13 Feb 2026; returned and still in mainstream",
        "Ended 13 Feb 2026; returned, but not on a mainstream roll a term later",
        "Ended 13 Feb 2026; ended: other alternative provision",
    ]


def test_outreach_counts_pupils_still_in_mainstream_two_terms_on(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    supported = []
    for n in range(4):
        pupil = factories.pupil(db, area["la"], area["school"], on=date(2024, 9, 4))
        supported_until(db, area, pupil, date(2026, 7, 10) if n == 3 else date(2025, 10, 10))
        supported.append(pupil)
    record_roll_movement(
        db, SYSTEM, supported[1], MovementKind.PERMANENT_EXCLUSION, date(2026, 1, 12), area["school"], reason="x"
    )
    factories.placement(db, supported[2], area["academy"], start=date(2026, 2, 2))
    db.flush()
    the_oaks = next(p for p in scores(db, area["la"], YEAR, ON).providers if p.provider.name == "The Oaks")
    figure = the_oaks.figures["outreach"]
    # Closed Friday 10 October 2025; 126 school days on, in the tests' term dates: 10 in October,
    # 35 to Christmas, 30 to February half term, 25 to Easter, then 26 from 13 April with the 4 May
    # bank holiday: Tuesday 19 May 2026. The fourth closed in July: not due by 1 October.
    assert (figure.n, figure.successes, figure.pending) == (3, 1, 1)
    assert [r.detail for r in figure.pupils] == [
        "Closed 10 Oct 2025; in mainstream on 19 May 2026",
        "Closed 10 Oct 2025; permanently excluded on 19 May 2026",
        "Closed 10 Oct 2025; placed in alternative provision on 19 May 2026",
    ]


def test_outreach_sees_a_placement_in_ap_that_begins_after_the_year_but_before_its_check(
    db: Session,
    area: dict,  # type: ignore[type-arg]
) -> None:
    pupil = factories.pupil(db, area["la"], area["school"], on=date(2024, 9, 4))
    supported_until(db, area, pupil, date(2026, 5, 22))
    # Closed in May 2026 (this year): its check falls two terms on, in January 2027. A placement
    # in AP from October 2026 began after the year ended, and before the check.
    factories.placement(db, pupil, area["academy"], start=date(2026, 10, 5))
    db.flush()
    later = date(2027, 3, 1)
    the_oaks = next(p for p in scores(db, area["la"], YEAR, later).providers if p.provider.name == "The Oaks")
    figure = the_oaks.figures["outreach"]
    assert (figure.n, figure.successes) == (1, 0)
    assert figure.pupils[0].detail.startswith("Closed 22 May 2026; placed in alternative provision on ")


def test_attendance_at_the_provider_and_the_change_from_before(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    days = [date(2025, 11, 3) + timedelta(days=d) for d in range(5)]  # Monday to Friday
    attended = [10, 9, 8, 10, 5, 6]
    pupils = []
    for present in attended:
        pupil, _ = placed(db, area, date(2012, 3, 1), date(2025, 11, 3))
        pupils.append(pupil)
        for i, (day, half) in enumerate((d, h) for d in days for h in ("AM", "PM")):
            code = "/" if i < present else "O"
            db.add(AttendanceMark(pupil_id=pupil.id, setting_id=area["pru"].id, date=day, session=half, code=code))
    # The first pupil's home school marked them at half their sessions in a week before.
    for day in (date(2025, 10, 13) + timedelta(days=d) for d in range(5)):
        for half in ("AM", "PM"):
            code = "/" if half == "AM" else "O"
            db.add(
                AttendanceMark(pupil_id=pupils[0].id, setting_id=area["school"].id, date=day, session=half, code=code)
            )
    db.flush()
    the_oaks = next(p for p in scores(db, area["la"], YEAR, ON).providers if p.provider.name == "The Oaks")
    figure = the_oaks.figures["attendance"]
    # 48 of 60 sessions: 80.0%, n = 6 pupils; Wilson on 0.8 of 6 gives 40.7% to 95.9%, which holds
    # the national PRU figure: in line.
    assert (figure.n, figure.value, figure.interval, figure.band) == (6, 80.0, (40.7, 95.9), "in line")
    assert figure.benchmark is not None and figure.benchmark.value == national_benchmarks()["attendance"].value
    # Only one pupil has marks from before: too few for a change figure, but counted.
    assert (figure.extra["change"], figure.extra["change_n"]) == (None, 1)
    # Each pupil counts by their sessions, never as met or not met.
    assert ("10 of 10 sessions attended", "100.0% of their possible sessions; 50.0% in the two terms before") in [
        (r.counted, r.detail) for r in figure.pupils
    ]
    assert all((r.counted or "").endswith(" sessions attended") for r in figure.pupils)


def _answers(found: Scores) -> dict[str, object]:
    """Every figure of an LA's scores as a user reads them: value, n, pending, band, the pupils."""
    return {
        f"{p.provider.name if p.provider else 'all'} {name}": (
            p.figures[name].as_json(),
            p.figures[name].pending,
            p.figures[name].extra,
            [(r.pupil_id, r.met, r.detail) for r in p.figures[name].pupils],
            p.context,
        )
        for p in [*found.providers, found.area]
        for name in p.figures
    }


def test_many_las_scored_together_score_as_each_does_alone(
    db: Session,
    area: dict,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A second LA whose autumn term of 2025 ends a week later than the first's: its clocks run
    # on its own calendar. Pupils of each LA are placed at the other's providers too.
    other = factories.la(db, "926", with_terms=False)
    for start, end in TERM_DATES:
        if start == date(2025, 11, 3):
            end = date(2025, 12, 31)
        db.add(TermDate(la_id=other.id, start_date=start, end_date=end))
    db.flush()
    forget_calendars(db)
    there = {
        "la": other,
        "school": factories.setting(db, other, SettingKind.MAINSTREAM, name="Hill School"),
        "pru": factories.setting(db, other, SettingKind.PRU, name="The Elms"),
    }
    for here, away in ((area, there), (there, area)):
        for n in range(8):
            where = here if n < 6 else away
            pupil = factories.pupil(db, here["la"], here["school"], on=date(2024, 9, 4), date_of_birth=date(2012, 3, 1))
            placement = factories.placement(
                db,
                pupil,
                where["pru"],
                start=date(2025, 11, 3),
                notice_date=date(2025, 10, 20),
                tier=Tier.TIME_LIMITED,
                planned_end_date=date(2026, 2, 13),
                reintegration_plan="Back by half term",
            )
            end_placement(
                db,
                SYSTEM,
                placement,
                end_date=date(2026, 2, 13),
                destination=Destination.RETURNED_HOME_SCHOOL if n % 2 else Destination.OTHER_AP,
            )
            for day in (date(2025, 11, 3) + timedelta(days=d) for d in range(5)):
                for half in ("AM", "PM"):
                    code = "/" if n % 3 else "O"
                    db.add(
                        AttendanceMark(pupil_id=pupil.id, setting_id=where["pru"].id, date=day, session=half, code=code)
                    )
                    db.add(
                        AttendanceMark(
                            pupil_id=pupil.id,
                            setting_id=here["school"].id,
                            date=day - timedelta(days=14),
                            session=half,
                            code="/",
                        )
                    )
            supported_until(db, here, pupil, date(2025, 10, 10))
    db.flush()
    alone = [_answers(scores(db, la, YEAR, ON)) for la in (area["la"], other)]
    together = [_answers(found) for found in scores_for(db, [area["la"], other], YEAR, ON)]
    assert together == alone
    # The nightly job's batches: one LA a batch here, the same answers.
    monkeypatch.setattr(outcomes, "BATCH", 1)
    assert [_answers(found) for found in scores_in_batches(db, [area["la"], other], YEAR, ON)] == alone
    # Not an empty comparison: each LA's PRU has figures for its own pupils.
    for answers, pru in zip(alone, ("The Oaks", "The Elms"), strict=True):
        assert answers[f"{pru} reintegration"][0]["n"] == 6
        assert answers[f"{pru} attendance"][0]["n"] == 8 and answers[f"{pru} outreach"][0]["n"] == 8
