"""Imports: all or nothing, every bad line reported with its line and column."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.casework import contacts
from ap_register.domain.imports import KINDS, ImportRefused, run_import
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import ETHNICITIES, HomeSchoolCode, MovementKind, SenStatus, SettingKind
from ap_register.models import AttendanceMark, AuditEvent, Contact, Movement, Placement, Pupil, Setting, TermDate
from ap_register.placements.rules import school_on
from tests import factories
from tests.factories import SYSTEM

DATA = Path(__file__).parent.parent / "data"


def load(db: Session, kind: str, text: str | bytes, la_code: str | None = "855"):  # type: ignore[no-untyped-def]
    la = factories.la(db, la_code) if la_code else None
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return run_import(db, SYSTEM, kind, io.BytesIO(raw), la=la)


def refused(db: Session, kind: str, text: str, la_code: str | None = "855") -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRefused) as raised:
        load(db, kind, text, la_code)
    return [(e.line, e.column, e.message) for e in raised.value.report.errors]


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


GOOD = [make_upn(f"855300125{n:03d}") for n in range(1, 4)]
BAD_CHECK = "A" + GOOD[0][1:] if GOOD[0][0] != "A" else "B" + GOOD[0][1:]


def pupils_file(rows: list[str]) -> str:
    return (
        "upn,first_name,last_name,date_of_birth,home_la_code,sen_status,primary_need,extra_column\n"
        + "\n".join(rows)
        + "\n"
    )


def test_pupils_with_a_bad_upn_write_nothing_and_name_every_bad_line(db: Session) -> None:
    rows = [
        f"{GOOD[0]},Sam,Taylor,2012-03-14,855,K,SEMH,ignored",
        f"{BAD_CHECK},Ali,Khan,2012-05-01,855,N,,ignored",
        f"{GOOD[1]},Jo,Reid,2011-10-02,855,E,ASD,ignored",
        "X123,Kim,Lee,2012-01-01,855,N,,ignored",
        f"{GOOD[2]},Lou,Ng,2012-01-01,855,Q,,ignored",
    ]
    before = count(db, Pupil)
    problems = refused(db, "pupils", pupils_file(rows))
    assert problems == [
        (3, "upn", f"The check letter is wrong: a UPN ending {GOOD[0][1:]} starts with {GOOD[0][0]}"),
        (5, "upn", "A UPN must be 13 characters; this one has 4"),
        (6, "sen_status", "'Q' is not one of: N, K, E"),
    ]
    assert count(db, Pupil) == before
    report = load(db, "pupils", pupils_file([rows[0], rows[2]]))
    assert (report.imported, report.updated) == (2, 0)
    assert count(db, Pupil) == before + 2


def test_importing_the_same_pupils_again_changes_nothing(db: Session) -> None:
    text = pupils_file([f"{GOOD[0]},Sam,Taylor,2012-03-14,855,K,SEMH,"])
    load(db, "pupils", text)
    report = load(db, "pupils", text)
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 1)


def test_a_missing_required_column_refuses_the_file(db: Session) -> None:
    assert refused(db, "pupils", "upn,first_name\nA,B\n") == [
        (1, "last_name", "The required column last_name is missing"),
        (1, "date_of_birth", "The required column date_of_birth is missing"),
        (1, "home_la_code", "The required column home_la_code is missing"),
    ]


def test_a_bom_and_a_quoted_line_break_keep_line_numbers_right(db: Session) -> None:
    text = (
        "\ufeffupn,first_name,last_name,date_of_birth,home_la_code\n"
        f'{GOOD[0]},"Sam\nJames",Taylor,2012-03-14,855\n'
        f"{GOOD[1]},Jo,Reid,14/03/2012,855\n"
    )
    # A name is one line: the quoted line break is refused on the line the record starts on.
    assert refused(db, "pupils", text) == [
        (2, "first_name", "first_name must be on one line"),
        (4, "date_of_birth", "'14/03/2012' is not a date in the form YYYY-MM-DD"),
    ]


def test_rows_for_another_la_are_refused_when_importing_for_one(db: Session) -> None:
    factories.la(db, "856")
    assert refused(db, "pupils", pupils_file([f"{GOOD[0]},Sam,Taylor,2012-03-14,856,,,"])) == [
        (2, "home_la_code", "This import is for LA 855; this row is for 856")
    ]


def test_a_gias_extract_imports_with_the_right_kinds(db: Session) -> None:
    factories.la(db, "873", with_terms=False)
    report = load(db, "settings", (DATA / "gias_extract.csv").read_bytes(), la_code="873")
    assert report.imported == 10
    assert report.skipped == {"closed": 1, "outside_english_las": 1, "not_a_school_or_college": 1, "other_las": 1}
    kinds = {s.urn: s.kind for s in db.scalars(select(Setting).where(Setting.urn.like("9900%")))}
    assert kinds == {
        "990001": SettingKind.MAINSTREAM,
        "990002": SettingKind.PRU,
        "990003": SettingKind.AP_FREE_SCHOOL,
        "990004": SettingKind.AP_ACADEMY,
        "990005": SettingKind.AP_ACADEMY,
        "990006": SettingKind.SPECIAL,
        "990007": SettingKind.MAINSTREAM,
        "990008": SettingKind.SPECIAL,
        "990009": SettingKind.POST16,
        "990013": SettingKind.MAINSTREAM,
    }
    named = db.scalar(select(Setting).where(Setting.urn == "990013"))
    assert named is not None and named.name == "École Sainte-Thérèse’s Academy"
    phases = {
        s.urn: s.phase for s in db.scalars(select(Setting).where(Setting.urn.in_(["990001", "990007", "990006"])))
    }
    assert phases == {"990001": "primary", "990007": "all_through", "990006": None}
    # Numbers on roll, the base of schools' movement rates, where GIAS has one.
    rolls = {s.urn: s.pupils_on_roll for s in db.scalars(select(Setting).where(Setting.urn.in_(["990001", "990002"])))}
    assert rolls == {"990001": 212, "990002": None}


def test_an_la_s_choice_of_kind_survives_a_gias_reimport(db: Session) -> None:
    factories.la(db, "873", with_terms=False)
    load(db, "settings", (DATA / "gias_extract.csv").read_bytes(), la_code="873")
    horizon = db.scalar(select(Setting).where(Setting.urn == "990007"))
    assert horizon is not None and horizon.kind == SettingKind.MAINSTREAM
    horizon.kind, horizon.kind_set_by_admin = SettingKind.INDEPENDENT_AP, True
    report = load(db, "settings", (DATA / "gias_extract.csv").read_bytes(), la_code="873")
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 10)
    assert horizon.kind == SettingKind.INDEPENDENT_AP


def test_settings_file(db: Session) -> None:
    text = (
        "ref,name,kind,la_code,urn,ukprn,postcode\n"
        "UNREG-1,Hillside Farm,unregistered_ap,855,,,le1 1aa\n"
        "123456,Castle School,mainstream,855,123456,1234567,\n"
        "123457,Moat School,academy,855,123457,,\n"
    )
    assert refused(db, "settings", text) == [
        (3, "ukprn", "A UKPRN is 8 digits"),
        (
            4,
            "kind",
            "'academy' is not one of: mainstream, special, pru, ap_academy, ap_free_school, "
            "independent_ap, unregistered_ap, hospital, post16",
        ),
    ]


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH1", urn="100001")
    pru = factories.setting(db, la, SettingKind.PRU, ref="PRU1", urn="100002")
    child = factories.pupil(db, la, school, upn=GOOD[0])
    return {"la": la, "school": school, "pru": pru, "pupil": child}


PLACEMENT_HEADER = (
    "upn,setting_ref,route,registration,start_date,sessions,tier,notice_date,planned_end_date,reintegration_plan,"
    "end_date,destination\n"
)
PLAN = "2026-02-13,Mornings back at school from week four"


def test_placements_are_checked_by_the_register_s_rules(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    text = PLACEMENT_HEADER + (
        f"{GOOD[0]},PRU1,off_site_direction,sole,2025-11-05,1111111111,time_limited,2025-11-03,{PLAN},,\n"
        f"{GOOD[0]},NOPE,off_site_direction,dual,2025-11-05,1111111111,time_limited,2025-11-03,{PLAN},,\n"
        f"{GOOD[0]},PRU1,off_site_direction,dual,2025-11-05,11111,time_limited,2025-11-03,{PLAN},2025-12-01,\n"
    )
    assert refused(db, "placements", text) == [
        (
            2,
            "registration",
            (
                "An off-site direction is always dual registration at the receiving setting (code D at the home "
                "school): choose dual registration"
            ),
        ),
        (3, "setting_ref", "No setting with reference NOPE in Leicestershire"),
        (
            4,
            "sessions",
            "Sessions must be 10 characters of 0 or 1, for Mon AM, Mon PM, Tue AM, ... Fri PM "
            "(1111111111 is full time)",
        ),
        (4, "destination", "An ended placement needs its destination"),
    ]
    assert count(db, Placement) == 0
    assert count(db, Movement) == 1  # only the admission made by the fixture


def test_placements_import_with_their_movements_and_can_be_ended_by_a_later_file(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    row = f"{GOOD[0]},PRU1,off_site_direction,dual,2025-11-05,1111111111,time_limited,2025-11-03,{PLAN}"
    report = load(db, "placements", PLACEMENT_HEADER + row + ",,\n")
    assert report.imported == 1
    placement = db.scalars(select(Placement)).one()
    assert placement.home_school_code == HomeSchoolCode.D
    report = load(db, "placements", PLACEMENT_HEADER + row + ",2025-12-19,returned_home_school\n")
    assert (report.imported, report.updated) == (0, 1)
    assert placement.end_date == date(2025, 12, 19)
    kinds = [m.kind for m in db.scalars(select(Movement).where(Movement.placement_id == placement.id))]
    assert kinds == [MovementKind.PLACEMENT_STARTED, MovementKind.PLACEMENT_ENDED]


def test_movements_file(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    text = (
        "upn,date,kind,setting_ref,days,reason\n"
        f"{GOOD[0]},2025-11-06,suspension,SCH1,3,Fighting\n"
        f"{GOOD[0]},2025-11-20,permanent_exclusion,SCH1,,\n"
        f"{GOOD[0]},2025-11-20,expelled,SCH1,,\n"
    )
    assert refused(db, "movements", text) == [
        (3, "reason", "Enter the reason"),
        (
            4,
            "kind",
            "'expelled' is not one of: admitted, permanent_exclusion, suspension, removed_from_roll, "
            "exclusion_upheld, reinstated, review_requested, review_concluded",
        ),
    ]
    text = text.replace(",,\n", ",,Assault\n", 1).rsplit("\n", 2)[0] + "\n"
    report = load(db, "movements", text)
    assert report.imported == 2
    # Permanently excluded, and on the school's roll until the exclusion is over.
    school = area["pupil"].home_school
    assert school is not None and school.ref == "SCH1"


def test_attendance_marks(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """A file's marks meet the register's rules (`coverage.attendance`): a national code of the day,
    AM or PM, a weekday not in the future, a pupil the setting expects for the session."""
    factories.placement(db, area["pupil"], area["pru"])  # full time at the PRU, dual registered
    text = (
        "upn,setting_ref,date,session,code\n"
        f"{GOOD[0]},SCH1,2025-11-03,AM,/\n"
        f"{GOOD[0]},SCH1,2025-11-03,PM,ZZ\n"
        f"{GOOD[0]},SCH1,2025-11-04,EVE,/\n"
        f"{GOOD[0]},SCH1,2025-11-05,AM,H\n"
        f"{GOOD[0]},SCH1,2025-11-03,AM,L\n"
    )
    assert refused(db, "attendance", text) == [
        (3, "code", "'ZZ' is not a national attendance code"),
        (4, "session", "Session must be AM (morning) or PM (afternoon)"),
        (5, "code", "H is no longer in use from 19 August 2024"),
        (6, "session", "This session is also on line 2"),
    ]
    other = factories.pupil(db, area["la"], area["pru"])  # on the PRU's roll only
    header = "upn,setting_ref,date,session,code\n"
    assert refused(
        db,
        "attendance",
        header + f"{other.upn},SCH1,2025-11-03,AM,/\n{GOOD[0]},PRU1,2025-11-08,AM,/\n{GOOD[0]},PRU1,2099-01-05,AM,/\n",
    ) == [
        (2, "upn", "This pupil is not expected here for this session"),
        (3, "date", "8 November 2025 is a Saturday: registers are taken on school days"),
        (4, "date", "5 January 2099 is in the future: a register is taken on the day, for the session"),
    ]
    # Half term, and a bank holiday, in the LA's calendar.
    assert refused(db, "attendance", header + f"{GOOD[0]},SCH1,2025-10-27,AM,/\n{GOOD[0]},SCH1,2025-12-25,AM,/\n") == [
        (2, "date", "27 October 2025 is outside Leicestershire's term dates: registers are taken on school days"),
        (3, "date", "25 December 2025 is a bank holiday: registers are taken on school days"),
    ]
    report = load(db, "attendance", header + f"{GOOD[0]},SCH1,2025-11-03,AM,b\n{GOOD[0]},PRU1,2025-11-03,PM,\\\n")
    assert report.imported == 2 and count(db, AttendanceMark) == 2
    assert sorted(db.scalars(select(AttendanceMark.code))) == ["B", "\\"]


def test_a_large_register_file_is_written_in_chunks_and_can_be_sent_again(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """Over 5,000 rows (the importer's chunk): a session repeated across chunks is still named,
    and the same file sent again with some codes changed updates just those."""
    from datetime import date

    from ap_register.domain.calendar import calendar_for
    from ap_register.domain.imports import AttendanceImporter

    la, school = area["la"], area["school"]
    pupils = [area["pupil"]] + [factories.pupil(db, la, school) for _ in range(29)]
    # The 120 school days from their admission on 3 September (before it, not on the roll).
    days = calendar_for(db, la).school_days(date(2025, 9, 3), date(2026, 7, 17))[:120]
    lines = [
        f"{p.upn},SCH1,{d.isoformat()},{half},{'/' if half == 'AM' else chr(92)}"
        for p in pupils
        for d in days
        for half in ("AM", "PM")
    ]
    assert len(lines) == 7_200 > AttendanceImporter.CHUNK
    header = "upn,setting_ref,date,session,code\n"
    assert refused(db, "attendance", header + "\n".join(lines + [lines[1]]) + "\n", la_code=None) == [
        (7_202, "session", "This session is also on line 3")
    ]
    assert count(db, AttendanceMark) == 0
    report = load(db, "attendance", header + "\n".join(lines) + "\n", la_code=None)
    assert (report.imported, report.updated, report.unchanged) == (7_200, 0, 0)
    assert count(db, AttendanceMark) == 7_200
    changed = [line[:-1] + "O" if n % 100 == 0 else line for n, line in enumerate(lines)]
    report = load(db, "attendance", header + "\n".join(changed) + "\n", la_code=None)
    assert (report.imported, report.updated, report.unchanged) == (0, 72, 7_128)
    assert count(db, AttendanceMark) == 7_200
    assert db.scalar(select(func.count()).select_from(AttendanceMark).where(AttendanceMark.code == "O")) == 72
    stored = db.scalars(select(AttendanceMark).order_by(AttendanceMark.id)).first()
    assert stored is not None and stored.recorded_at.tzinfo is not None


def test_a_broken_line_late_in_an_attendance_file_is_named_by_its_own_number(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """Rows are read a chunk ahead of their checks: the line numbers still come out right."""
    from ap_register.domain.imports import AttendanceImporter

    veteran = factories.pupil(db, area["la"], area["school"], on=date(2004, 9, 1))  # on the roll since 2004
    good = f"{veteran.upn},SCH1,2025-11-03,AM,/"
    # A different session on each line, so that the broken line's are the file's only problems.
    weekdays = [d for n in range(4_200) if (d := date(2005, 1, 3) + timedelta(days=n)).weekday() < 5]
    lines = [
        good.replace("2025-11-03", day.isoformat()).replace(",AM,/", f",{half},{present}")
        for day in weekdays
        for half, present in (("AM", "/"), ("PM", "\\"))
    ][:6_000]
    lines[5_500] = "\xfe\xfa,,,,"
    assert len(lines) > AttendanceImporter.CHUNK
    raw = ("upn,setting_ref,date,session,code\n" + "\n".join(lines) + "\n").encode()
    with pytest.raises(ImportRefused) as raised:
        run_import(db, SYSTEM, "attendance", io.BytesIO(raw), la=area["la"])
    errors = raised.value.report.errors
    assert {e.line for e in errors if e.column != "session"} == {5_502}, errors[:3]
    assert count(db, AttendanceMark) == 0


def test_term_dates(db: Session) -> None:
    factories.la(db, "856", with_terms=False)
    text = (
        "la_code,start_date,end_date\n856,2025-09-03,2025-10-24\n856,2025-10-20,2025-12-19\n856,2026-01-05,2026-07-21\n"
    )
    assert refused(db, "term-dates", text, la_code=None) == [
        (3, "start_date", "Overlaps the stretch from 3 September 2025 to 24 October 2025"),
        (4, "end_date", "A stretch of school days is a half term or a term: this one is 198 days"),
    ]
    assert count(db, TermDate) == 0
    report = load(
        db,
        "term-dates",
        "la_code,start_date,end_date\n856,2025-09-03,2025-10-24\n856,2025-11-03,2025-12-19\n",
        la_code=None,
    )
    assert report.imported == 2


def test_a_file_that_is_not_text_is_refused_clearly(db: Session) -> None:
    problems = refused(db, "pupils", "")
    assert problems == [(1, "", "The file is empty: it needs a header row")]


def test_outreach_sessions_group_into_engagements(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    from ap_register.models import OutreachEngagement, OutreachSession

    text = (
        "provider_ref,school_ref,kind,date,minutes,staff,upn,group\n"
        f"PRU1,SCH1,coaching,2025-10-01,60,J Khan,{GOOD[0]},\n"
        f"PRU1,SCH1,coaching,2025-10-08,45,J Khan,{GOOD[0]},\n"
        "PRU1,SCH1,self_regulation_group,2025-10-02,50,Team,,Year 8 group\n"
        "PRU1,SCH1,yoga,2025-10-02,50,Team,,Year 8 group\n"
    )
    assert refused(db, "outreach", text) == [
        (5, "kind", "'yoga' is not one of: on_call_advice, coaching, self_regulation_group, one_to_one, staff_training")
    ]
    report = load(db, "outreach", text.rsplit("PRU1,SCH1,yoga", 1)[0])
    assert report.imported == 3
    assert count(db, OutreachEngagement) == 2 and count(db, OutreachSession) == 3


def test_a_placement_s_plans_are_checked_before_anything_is_written(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    long_plan = "x" * 2001
    text = PLACEMENT_HEADER + (
        f"{GOOD[0]},PRU1,off_site_direction,dual,2025-11-05,1111111111,time_limited,2025-11-03,"
        f"2026-02-13,{long_plan},,\n"
    )
    assert refused(db, "placements", text) == [
        (2, "reintegration_plan", "reintegration_plan must be 2000 characters or fewer")
    ]
    assert count(db, Placement) == 0


def test_a_date_beyond_the_years_the_register_takes_is_refused_as_on_a_page(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """Dates from 1900 to 2100, as the pages and the API take them (a year 9999 is a date to
    Python, but a statutory clock counted from it runs off the calendar)."""
    text = (
        "upn,date,kind,setting_ref,days,reason\n"
        f"{GOOD[0]},9999-12-31,suspension,SCH1,2,Fighting\n"
        f"{GOOD[0]},1066-10-14,suspension,SCH1,2,Fighting\n"
    )
    assert refused(db, "movements", text) == [
        (2, "date", "'9999-12-31' is not a date from 1900 to 2100"),
        (3, "date", "'1066-10-14' is not a date from 1900 to 2100"),
    ]


def test_a_pupils_file_records_when_a_year_11_pupil_s_exams_were_over(db: Session) -> None:
    """The day after it, the sixth-day duties do not apply to them (SI 2007/1870 reg 5(2)(a))."""
    header = "upn,first_name,last_name,date_of_birth,home_la_code,exams_over_on\n"
    assert refused(db, "pupils", header + f"{GOOD[0]},Ana,Reyes,2010-01-15,855,19 June\n") == [
        (2, "exams_over_on", "'19 June' is not a date in the form YYYY-MM-DD")
    ]
    load(db, "pupils", header + f"{GOOD[0]},Ana,Reyes,2010-01-15,855,2026-06-19\n{GOOD[1]},Ben,Ode,2010-02-01,855,\n")
    found = {p.upn: p.exams_over_on for p in db.scalars(select(Pupil).where(Pupil.upn.in_(GOOD[:2])))}
    assert found == {GOOD[0]: date(2026, 6, 19), GOOD[1]: None}


def parents(db: Session, pupil: Pupil) -> list[tuple[str, str | None]]:
    """The child's parents and carers as the register holds them: each name and address."""
    return [(c.name, c.address) for c in contacts.parents_of(db, [pupil.id]).get(pupil.id, [])]


def test_a_pupils_file_records_the_child_s_home_and_parents_and_a_file_without_them_keeps_them(db: Session) -> None:
    header = (
        "upn,first_name,last_name,date_of_birth,home_la_code,"
        "home_address,home_postcode,parent1_name,parent1_address,parent2_name\n"
    )
    row = f'{GOOD[0]},Sam,Taylor,2012-03-14,855,"4 Mill Lane, Ely",cb7 4aa,Jo Taylor,,Alex Reid\n'
    assert load(db, "pupils", header + row).imported == 1
    pupil = db.scalars(select(Pupil)).one()
    assert (pupil.home_address, pupil.home_postcode, parents(db, pupil)) == (
        "4 Mill Lane, Ely",
        "CB7 4AA",
        [("Jo Taylor", None), ("Alex Reid", None)],
    )
    # A file with none of the columns changes nothing of them.
    report = load(
        db, "pupils", f"upn,first_name,last_name,date_of_birth,home_la_code\n{GOOD[0]},Sam,Taylor,2012-03-14,855\n"
    )
    assert report.unchanged == 1 and parents(db, pupil) == [("Jo Taylor", None), ("Alex Reid", None)]
    # A later file gives a parent's address and names a new one; a parent it leaves out stays
    # (their phone, or a restriction, is never lost to a file of names).
    again = f'{GOOD[0]},Sam,Taylor,2012-03-14,855,"4 Mill Lane, Ely",CB7 4AA,Jo Taylor,"4 Mill Lane, Ely",Lee Ray\n'
    assert load(db, "pupils", header + again).updated == 1
    assert parents(db, pupil) == [("Jo Taylor", "4 Mill Lane, Ely"), ("Alex Reid", None), ("Lee Ray", None)]
    assert load(db, "pupils", header + again).unchanged == 1
    # An address without the parent's name is refused.
    assert refused(db, "pupils", "upn,first_name,last_name,date_of_birth,home_la_code,parent1_address\n"
                   f"{GOOD[1]},Kim,Lee,2013-01-20,855,1 High Street\n") == [
        (2, "parent1_address", "parent1_address is given without parent1_name")
    ]  # fmt: skip


def test_a_pupils_file_records_what_the_ap_census_asks_and_a_file_without_it_keeps_it(db: Session) -> None:
    header = "upn,first_name,last_name,date_of_birth,home_la_code,sex,ethnicity,fsm_start_date,fsm_end_date,uprn\n"
    row = f"{GOOD[0]},Sam,Taylor,2012-03-14,855,m,mwbc,2021-09-01,,100090012345\n"
    assert load(db, "pupils", header + row).imported == 1
    pupil = db.scalars(select(Pupil)).one()
    assert (pupil.sex, pupil.ethnicity, pupil.fsm_start, pupil.fsm_end, pupil.uprn) == (
        "M",
        "MWBC",
        date(2021, 9, 1),
        None,
        "100090012345",
    )
    # A file with none of the columns changes nothing of them.
    report = load(
        db, "pupils", f"upn,first_name,last_name,date_of_birth,home_la_code\n{GOOD[0]},Sam,Taylor,2012-03-14,855\n"
    )
    assert report.unchanged == 1 and pupil.ethnicity == "MWBC"
    # Each value outside its code set is refused on its line, and nothing is written.
    assert refused(
        db,
        "pupils",
        header
        + f"{GOOD[1]},Kim,Lee,2013-01-20,855,X,WENG,2024-09-01,2024-07-01,12-34\n"
        + f"{GOOD[2]},Lou,Ng,2013-01-20,855,F,WBRI,,2024-07-01,\n",
    ) == [
        (2, "sex", "'X' is not one of: M (Male), F (Female), U (Unknown)"),
        (2, "ethnicity", "'WENG' is not one of the DfE's main ethnicity codes (" + ", ".join(ETHNICITIES) + ")"),
        (2, "fsm_end_date", "fsm_end_date is before fsm_start_date"),
        (2, "uprn", "'12-34' is not a unique property reference number (1 to 12 digits)"),
        (3, "fsm_end_date", "fsm_end_date is given without fsm_start_date"),
    ]
    assert db.scalar(select(Pupil).where(Pupil.upn == GOOD[1])) is None


def test_a_pupils_file_changes_only_the_columns_it_has(db: Session) -> None:
    header = "upn,first_name,last_name,date_of_birth,home_la_code"
    load(
        db,
        "pupils",
        f"{header},sex,ethnicity,uprn,home_address,home_postcode,parent1_name\n"
        f"{GOOD[0]},Sam,Taylor,2012-03-14,855,F,WBRI,100090012345,4 Mill Lane,CB7 4AA,Jo Taylor\n",
    )
    report = load(db, "pupils", f"{header},sex,home_postcode\n{GOOD[0]},Sam,Taylor,2012-03-14,855,M,CB7 4AB\n")
    assert report.updated == 1
    pupil = db.scalars(select(Pupil)).one()
    assert (pupil.sex, pupil.ethnicity, pupil.uprn) == ("M", "WBRI", "100090012345")
    assert (pupil.home_address, pupil.home_postcode, parents(db, pupil)) == (
        "4 Mill Lane",
        "CB7 4AB",
        [("Jo Taylor", None)],
    )
    # The trail says ethnicity, sex and the UPRN changed, never to what.
    changed = load(db, "pupils", f"{header},ethnicity\n{GOOD[0]},Sam,Taylor,2012-03-14,855,BAFR\n")
    assert changed.updated == 1
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "update").order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.detail["changes"] == {
        "ethnicity": {"old": "not kept in the audit trail", "new": "not kept in the audit trail"}
    }
    assert "WBRI" not in str(event.detail) and "BAFR" not in str(event.detail)


def test_a_name_with_a_character_no_file_can_hold_is_refused(db: Session) -> None:
    header = "upn,first_name,last_name,date_of_birth,home_la_code,uprn\n"
    assert refused(db, "pupils", header + f"{GOOD[0]},Sam\ufffe,Taylor,2012-03-14,855,\u00b2\u00b3\n") == [
        (2, "first_name", "first_name must be readable text (found U+FFFE, which is not a character)"),
        (2, "uprn", "'²³' is not a unique property reference number (1 to 12 digits)"),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_s_template_holds_every_column_its_import_reads(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The template of a kind of file (Administration > Import a file) is its header row: the
    required columns first, then every column the import reads. A line of the template's columns
    is read, and no column the import looks for is missing from it."""
    from ap_register.domain import imports

    header = imports.template(kind)
    columns = header.strip().split(",")
    assert columns[: len(imports.REQUIRED[kind])] == list(imports.REQUIRED[kind])
    assert len(set(columns)) == len(columns)
    read: set[str] = set()

    class Noted(dict):  # type: ignore[type-arg]
        def __getitem__(self, key: str) -> str:
            read.add(key)
            return str(super().__getitem__(key))

        def get(self, key: str, default: object = None) -> object:
            read.add(key)
            return super().get(key, default)

        def __contains__(self, key: object) -> bool:
            read.add(str(key))
            return super().__contains__(key)

    # A kind read a column at a time is read here a row at a time: the same checks, by cell.
    monkeypatch.setattr(imports.IMPORTERS[kind], "columnwise", False)
    records = imports._records
    monkeypatch.setattr(imports, "_records", lambda reader, names: ((n, Noted(r)) for n, r in records(reader, names)))
    line = ",".join("x" for _ in columns)
    report = imports.check_file(kind, io.BytesIO((header + line + "\r\n").encode()), "855")
    assert not [e for e in report.errors if e.line == 1], report.errors  # the header is the format's
    assert read and read <= set(columns), sorted(read - set(columns))


def test_new_pupils_go_in_whole_a_chunk_at_a_time(db: Session) -> None:
    """A pupils file's new children are written together (COPY on PostgreSQL): each keeps what
    the file said, is admitted to their home school through the ledger, has their own audit
    event, and a child added later, one at a time, is given an id of their own."""
    la = factories.la(db, "855")
    school = factories.setting(db, la, name="Fen School", ref="SCH1")
    db.commit()
    upns = [make_upn(f"85530016{n:04d}") for n in range(1, 1002)]  # past one chunk of 500
    rows = [f"{upn},Pupil,Number{n},2012-03-14,855,SCH1,K" for n, upn in enumerate(upns)]
    rows[1] = f"{upns[1]},Kit,Ode,2011-09-02,855,,E"  # no home school
    report = load(db, "pupils", "upn,first_name,last_name,date_of_birth,home_la_code,home_school_ref,sen_status\n"
                  + "\n".join(rows) + "\n")  # fmt: skip
    assert (report.imported, report.updated) == (1001, 0)
    found = {p.upn: p for p in db.scalars(select(Pupil).where(Pupil.upn.in_(upns)))}
    assert len(found) == 1001 and len({p.id for p in found.values()}) == 1001
    kit = found[upns[1]]
    assert (kit.first_name, kit.last_name, kit.date_of_birth, kit.sen_status, kit.home_school_id) == (
        "Kit", "Ode", date(2011, 9, 2), SenStatus.EHCP, None
    )  # fmt: skip
    first = found[upns[0]]
    assert (first.home_school_id, first.sen_status, first.created_at is not None) == (
        school.id,
        SenStatus.SEN_SUPPORT,
        True,
    )
    admission = db.scalars(select(Movement).where(Movement.pupil_id == first.id)).one()
    assert (admission.kind, admission.setting_id, admission.date, admission.recorded_via) == (
        MovementKind.ADMITTED, school.id, clock.today(), SYSTEM.via
    )  # fmt: skip
    assert school_on(db, first, clock.today()) == school
    assert db.scalar(select(func.count()).select_from(Movement).where(Movement.pupil_id == kit.id)) == 0
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "import", AuditEvent.object_type == "pupil")
    ).all()
    assert sorted((e.pupil_id, e.object_id) for e in events) == sorted((p.id, p.upn) for p in found.values())
    assert events[0].detail == {"via": SYSTEM.via} and events[0].at is not None
    later = factories.pupil(db, la)
    db.commit()
    assert later.id not in {p.id for p in found.values()}


@pytest.mark.parametrize("rows", [1300, 1500])
def test_checking_stops_at_the_line_that_made_the_thousandth_problem(db: Session, rows: int) -> None:
    """Rows are checked against the register a chunk at a time; the report still says where
    checking stopped: the line of the thousandth problem, whether it falls in the middle of a
    chunk or in the file's last, shorter one. No line after it was checked."""
    factories.la(db, "855")
    db.commit()
    lines = [
        f"{make_upn(f'85530017{n:04d}')},Sam,Number{n},2012-03-14,855" + (",NOPE" if n >= 200 else ",")
        for n in range(rows)
    ]
    with pytest.raises(ImportRefused) as raised:
        load(
            db,
            "pupils",
            "upn,first_name,last_name,date_of_birth,home_la_code,home_school_ref\n" + "\n".join(lines) + "\n",
        )
    report = raised.value.report
    # Rows 200 on (lines 202 on) name a school nobody holds: the thousandth is line 1201.
    assert report.stopped_at == 1201
    assert report.errors[-1].line == 1201 and len(report.errors) == 1000
    assert report.problems_text().startswith("at least")


def test_a_contacts_file_adds_and_updates_the_people_around_each_child_and_refuses_by_line(
    db: Session, world: dict[str, Any]
) -> None:
    home = world["home"]
    pupil, school = home["pupil"], home["school"]
    header = (
        "upn,role,name,relationship,parental_responsibility,lives_with,organisation,setting_ref,phone,email,"
        "address,contact_by,preferences,restriction\n"
    )
    rows = (
        f"{pupil.upn},parent_carer,Jo Homechild,mother,Y,Y,,,07700 900123,jo@example.org,4 Mill Lane,phone,,\n"
        f"{pupil.upn},social_worker,Sam Reed,,,,Children's Social Care,,01632 960001,,,phone,,\n"
        f"{pupil.upn},senco,Ann Lee,,,,,{school.ref},,senco@example.org,,email,,\n"
    )
    report = load(db, "contacts", header + rows, la_code=home["la"].code)
    assert (report.imported, report.updated, report.unchanged) == (3, 0, 0)
    held = {c.name: c for c in db.scalars(select(Contact).where(Contact.pupil_id == pupil.id))}
    assert (held["Jo Homechild"].parental_responsibility, held["Jo Homechild"].lives_with) == (True, True)
    assert held["Ann Lee"].setting_id == school.id
    # The same file again changes nothing; a changed number updates the contact of that role and name.
    assert load(db, "contacts", header + rows, la_code=home["la"].code).unchanged == 3
    again = load(db, "contacts", header + rows.replace("07700 900123", "07700 900124"), la_code=home["la"].code)
    assert (again.updated, again.unchanged) == (1, 2)
    before = db.scalars(select(Contact.id)).all()
    assert refused(
        db,
        "contacts",
        header
        + f"{pupil.upn},uncle,Rae Doe,,,,,,,,,,,\n"
        + f"{pupil.upn},parent_carer,Rae Doe,aunt,maybe,,,,,,,post,,\n"
        + f"{pupil.upn},social_worker,Sam Two,,Y,,,,not a number,,,,,\n",
        la_code=home["la"].code,
    ) == [
        (2, "role", "'uncle' is not one of: parent_carer, social_worker, virtual_school_head, senco, key_worker"),
        (3, "relationship", "'aunt' is not one of: " + ", ".join(contacts.RELATIONSHIPS)),
        (3, "parental_responsibility", "'MAYBE' is not Y, N or blank (not known)"),
        (4, "parental_responsibility", "Parental responsibility is recorded for a parent or carer only"),
        (4, "phone", "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"),
    ]
    assert db.scalars(select(Contact.id)).all() == before
