"""The AP census as a file: one record per child, who is in it, the XML, and the check that lists
every failure by pupil before anyone downloads it. The 2025/26 census: census day Thursday
15 January 2026, the period from 17 January 2025."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import Destination, Registration, Route, SenStatus, SettingKind
from ap_register.placements.rules import end_placement
from ap_register.returns import ap_census
from ap_register.returns import rules as returns
from tests import factories
from tests.factories import SYSTEM

CENSUS_DAY = date(2026, 1, 15)
PERIOD_START = date(2025, 1, 17)
REASONS = frozenset(code for _, code in returns.CENSUS_REASONS.values())


@pytest.fixture()
def area(db: Session) -> dict[str, Any]:
    la = factories.la(db)
    return {
        "la": la,
        "school": factories.setting(db, la, SettingKind.MAINSTREAM, name="Hill School"),
        "independent": factories.setting(db, la, SettingKind.INDEPENDENT_AP, name="Horizon School"),
        "tutors": factories.setting(
            db,
            la,
            SettingKind.UNREGISTERED_AP,
            name="Home Tutors Ltd",
            urn=None,
            census_setting_type="one_to_one_tuition",
        ),
        # By their GIAS type: an independent special school (10), a non-maintained special school
        # (8), and a community special school (7) the LA maintains.
        "independent_special": factories.setting(db, la, SettingKind.SPECIAL, name="Meadowside", gias_type_code=10),
        "non_maintained": factories.setting(db, la, SettingKind.SPECIAL, name="St Anne's", gias_type_code=8),
        "maintained_special": factories.setting(db, la, SettingKind.SPECIAL, name="Willow Bank", gias_type_code=7),
        "hospital": factories.setting(db, la, SettingKind.HOSPITAL, name="Children's Hospital School"),
        "pru": factories.setting(db, la, SettingKind.PRU, name="Riverside PRU"),
    }


def _place(db: Session, pupil: Any, setting: Any, route: Route, start: date, **fields: Any) -> Any:
    if route == Route.EHCP_NAMED:
        registration = Registration.SOLE
    elif setting.kind in (SettingKind.UNREGISTERED_AP, SettingKind.POST16):
        registration = Registration.NONE  # not a school: no roll to be on
    else:
        registration = Registration.DUAL
    if setting.kind == SettingKind.UNREGISTERED_AP:  # no more than four sessions a week there
        fields.setdefault("sessions", "1100110000")
    reason = fields.pop("census_reason", None)
    placed = factories.placement(db, pupil, setting, route, registration, start=start, **fields)
    if reason:
        returns.set_census_reason(db, SYSTEM, placed, reason)
    return placed


def test_one_record_per_child_for_the_latest_or_last_placement_in_the_period(db: Session, area: dict[str, Any]) -> None:
    la = area["la"]
    moved_on = factories.pupil(db, la, area["school"], on=date(2024, 9, 4), last_name="MovedOn")
    first = _place(db, moved_on, area["tutors"], Route.LA_EXCLUSION, date(2025, 3, 3))
    end_placement(db, SYSTEM, first, end_date=date(2025, 6, 27), destination=Destination.OTHER_AP)
    now = _place(db, moved_on, area["independent"], Route.LA_EXCLUSION, date(2025, 9, 8))
    left = factories.pupil(db, la, area["school"], on=date(2024, 9, 4), last_name="Left")
    earlier = _place(
        db, left, area["tutors"], Route.LA_HEALTH, date(2025, 2, 3), census_reason="medical_physical_health"
    )
    end_placement(db, SYSTEM, earlier, end_date=date(2025, 4, 4), destination=Destination.OTHER_AP)
    last = _place(
        db, left, area["independent"], Route.LA_HEALTH, date(2025, 4, 21), census_reason="medical_mental_health"
    )
    end_placement(db, SYSTEM, last, end_date=date(2025, 12, 19), destination=Destination.RETURNED_HOME_SCHOOL)

    found = returns.build(db, SYSTEM, la, "ap-census", 2025)

    rows = {row["last_name"]: row for row in found.rows}
    assert len(found.rows) == 2
    # Still in AP on census day: the current placement. No longer in AP: the last one.
    assert (rows["MovedOn"]["placement_id"], rows["MovedOn"]["leaving_date"]) == (now.id, None)
    assert (rows["Left"]["placement_id"], rows["Left"]["leaving_date"]) == (last.id, "2025-12-19")
    assert rows["Left"]["primary_reason"] == "MHN"
    assert (rows["MovedOn"]["placements_in_period"], rows["Left"]["placements_in_period"]) == (2, 2)
    # The URN of the school the child attended before: the home school.
    assert rows["MovedOn"]["previous_urn"] == area["school"].urn
    assert found.gaps == []


def test_who_is_in_it_follows_the_census_guide(db: Session, area: dict[str, Any]) -> None:
    la = area["la"]

    def child(name: str, **fields: Any) -> Any:
        return factories.pupil(db, la, area["school"], last_name=name, sen_status=SenStatus.EHCP, **fields)

    start = date(2025, 10, 6)
    # In: schools the LA does not maintain whose fees it pays, and education otherwise than at school.
    _place(db, child("IndependentSpecial"), area["independent_special"], Route.EHCP_NAMED, start, tier=None)
    _place(db, child("NonMaintained"), area["non_maintained"], Route.EHCP_NAMED, start, tier=None)
    _place(db, child("Tutored"), area["tutors"], Route.LA_EXCLUSION, start)
    # Out: a school the LA maintains, a hospital school and a PRU make their own returns.
    _place(db, child("MaintainedSpecial"), area["maintained_special"], Route.EHCP_NAMED, start, tier=None)
    _place(db, child("Hospital"), area["hospital"], Route.LA_HEALTH, start, census_reason="medical_physical_health")
    _place(db, child("AtPru"), area["pru"], Route.LA_EXCLUSION, start)
    # Out: older than the census's ages (born before 1 September 2006 for the 2026 census).
    _place(db, child("TooOld", date_of_birth=date(2006, 8, 31)), area["tutors"], Route.LA_OTHER, start)
    _place(db, child("JustInAge", date_of_birth=date(2006, 9, 1)), area["tutors"], Route.LA_OTHER, start)
    # Out: arranged by the school, not the LA.
    _place(db, child("SchoolArranged"), area["independent"], Route.SCHOOL_ARRANGED, start)

    found = returns.build(db, SYSTEM, la, "ap-census", 2025)

    assert {row["last_name"] for row in found.rows} == {"IndependentSpecial", "NonMaintained", "Tutored", "JustInAge"}
    # The youngest: born by 31 December three years before (the 2025 census: by 31 December 2022).
    assert ap_census.born_in_scope(date(2022, 12, 31), 2025) is True
    assert ap_census.born_in_scope(date(2023, 1, 1), 2025) is False


def test_the_file_holds_each_item_and_passes_its_check(db: Session, area: dict[str, Any]) -> None:
    la = area["la"]
    pupil = factories.pupil(
        db,
        la,
        area["school"],
        first_name="Rowan",
        last_name="Ashby",
        date_of_birth=date(2011, 5, 2),
        sex="M",
        ethnicity="MWBC",
        fsm_start=date(2022, 9, 1),
        uprn="100090012345",
        home_postcode="CB4 1ZZ",
        sen_status=SenStatus.SEN_SUPPORT,
    )
    _place(db, pupil, area["tutors"], Route.LA_EXCLUSION, date(2025, 11, 3))

    found = returns.build(db, SYSTEM, la, "ap-census", 2025)

    assert found.xml is not None and found.gaps == []
    root = ET.fromstring(found.xml)
    assert root.tag == "Message"
    header = {
        e.tag: e.text for e in root.iter() if e.tag in ("Collection", "Year", "ReferenceDate", "LEA", "SourceLevel")
    }
    assert header == {
        "Collection": "AP",
        "Year": "2026",
        "ReferenceDate": "2026-01-15",
        "LEA": la.code,
        "SourceLevel": "L",
    }
    (record,) = root.iterfind("Pupils/Pupil")
    items = {e.tag: e.text for e in record.iter() if len(e) == 0}
    assert items == {
        "UPN": pupil.upn,
        "Surname": "Ashby",
        "Forename": "Rowan",
        "DOB": "2011-05-02",
        "Sex": "M",
        "Ethnicity": "MWBC",
        "FSMstartDate": "2022-09-01",
        "SENprovision": "K",
        "PostCode": "CB4 1ZZ",
        "UPRN": "100090012345",
        "SettingType": "OOT",  # no URN or UKPRN: the type of setting, and only that
        "PrimaryReason": "PEX",
        "EntryDate": "2025-11-03",
        "SessionsPerWeek": "4",
        "PreviousURN": area["school"].urn,
    }


def _row(**changes: Any) -> dict[str, Any]:
    row = {
        "upn": make_upn("873200125001"),
        "first_name": "Sam",
        "last_name": "Field",
        "date_of_birth": "2011-05-02",
        "sex": "F",
        "ethnicity": "WBRI",
        "fsm_start": None,
        "fsm_end": None,
        "sen_provision": "N",
        "postcode": "CB1 2AB",
        "uprn": None,
        "urn": None,
        "ukprn": None,
        "setting_type": "OOT",
        "primary_reason": "OTH",
        "entry_date": "2025-11-03",
        "leaving_date": None,
        "sessions_per_week": 4,
        "previous_urn": None,
    }
    row.update(changes)
    return row


def _check(rows: list[dict[str, Any]], la_code: str = "873", census_day: date = CENSUS_DAY) -> list[Any]:
    xml = ap_census.to_xml(la_code, census_day, rows, datetime(2026, 1, 20, 9, 30), "1.0")
    return ap_census.check(xml, REASONS, PERIOD_START)


def test_a_complete_record_passes() -> None:
    assert _check([_row()]) == []


@pytest.mark.parametrize(
    ("changes", "item", "words"),
    [
        ({"upn": "A873200125001"}, "upn", "check letter is wrong"),
        ({"sex": None}, "sex", "Sex is required"),
        ({"sex": "X"}, "sex", "Sex is required"),
        ({"ethnicity": None}, "ethnicity", "record NOBT"),
        ({"ethnicity": "WXYZ"}, "ethnicity", "not a DfE code"),
        ({"date_of_birth": "2005-08-31"}, "date_of_birth", "born from 1 September 2006 to 31 December 2023"),
        ({"last_name": None}, "last_name", "surname is missing"),
        ({"sen_provision": "S"}, "sen_provision", "E (EHC plan), K (SEN support) or N"),
        ({"fsm_start": "2026-02-01"}, "fsm_start", "starts after census day"),
        ({"fsm_start": "2024-09-01", "fsm_end": "2024-07-01"}, "fsm_end", "ends before it starts"),
        ({"postcode": "NOT A CODE"}, "postcode", "not a UK postcode"),
        ({"uprn": "12AB"}, "uprn", "1 to 12 digits"),
        ({"setting_type": None}, "setting_type", "Give the setting's URN, or its UKPRN"),
        ({"urn": "873403"}, "setting_type", "only one of"),
        ({"setting_type": "HOS"}, "setting_type", "NFE, OOT, OTH, WBP"),
        ({"setting_type": None, "ukprn": "20012345"}, "ukprn", "eight digits starting with 1"),
        ({"primary_reason": None}, "primary_reason", "missing or not a census code"),
        ({"entry_date": "2026-01-16"}, "entry_date", "after census day"),
        ({"leaving_date": "2025-10-31"}, "leaving_date", "before the date of entry"),
        ({"entry_date": "2024-11-04", "leaving_date": "2025-01-16"}, "leaving_date", "outside the census period"),
        ({"sessions_per_week": 0}, "sessions_per_week", "1 to 10"),
        ({"sessions_per_week": 11}, "sessions_per_week", "1 to 10"),
        ({"previous_urn": "12345"}, "previous_urn", "six digits"),
    ],
)
def test_each_rule_names_the_pupil_and_the_item(changes: dict[str, Any], item: str, words: str) -> None:
    failures = _check([_row(), _row(**{"upn": make_upn("873200125002"), **changes})])
    assert [(f.record, f.item) for f in failures] == [(2, item)]
    assert words in failures[0].message


def test_a_missing_postcode_is_a_check_not_an_error() -> None:
    (failure,) = _check([_row(postcode=None)])
    assert (failure.item, failure.severity) == ("postcode", "query")


def test_a_child_twice_and_a_wrong_header_are_found() -> None:
    twice = _check([_row(), _row()])
    assert [(f.record, f.item) for f in twice] == [(2, "upn")] and "also on record 1" in twice[0].message
    wrong = _check([_row()], la_code="999", census_day=date(2026, 1, 22))
    assert {f.item for f in wrong} == {"la_code", "census_day"} and {f.record for f in wrong} == {0}


def test_a_placement_another_la_commissioned_is_that_la_s_to_return(db: Session, area: dict[str, Any]) -> None:
    la = area["la"]
    other = factories.la(db, "856")
    child = factories.pupil(db, la, area["school"], last_name="Moved")
    placed = _place(db, child, area["tutors"], Route.LA_EXCLUSION, date(2025, 10, 6))
    placed.commissioner_la_id = other.id  # paid for by the LA the family lived in then
    db.flush()
    assert returns.build(db, SYSTEM, la, "ap-census", 2025).rows == []


def test_free_school_meals_are_sent_only_when_they_fall_in_the_census_period(db: Session, area: dict[str, Any]) -> None:
    la = area["la"]
    periods = {
        "Current": (date(2021, 9, 1), None),
        "EndedInPeriod": (date(2021, 9, 1), date(2025, 3, 31)),
        "EndedBefore": (date(2019, 9, 1), date(2024, 12, 20)),
        "StartsAfterCensusDay": (date(2026, 2, 2), None),
    }
    for name, (start, end) in periods.items():
        child = factories.pupil(db, la, area["school"], last_name=name, fsm_start=start, fsm_end=end)
        _place(db, child, area["tutors"], Route.LA_EXCLUSION, date(2025, 10, 6))

    found = returns.build(db, SYSTEM, la, "ap-census", 2025)

    sent = {row["last_name"]: (row["fsm_start"], row["fsm_end"]) for row in found.rows}
    assert sent == {
        "Current": ("2021-09-01", None),
        "EndedInPeriod": ("2021-09-01", "2025-03-31"),
        "EndedBefore": (None, None),
        "StartsAfterCensusDay": (None, None),
    }
    assert found.gaps == []  # a true date after census day is no error in the file


def test_a_file_that_is_not_well_formed_is_one_failure_not_a_crash() -> None:
    (failure,) = ap_census.check(b"<Message><Header>", REASONS, PERIOD_START)
    assert (failure.record, failure.item) == (0, "file") and "not well-formed XML" in failure.message


@pytest.mark.parametrize("uprn", ["\u0661\u0662\u0663", "\u00b2\u00b3", "0", "000000000001", "1234567890123"])
def test_a_uprn_is_one_to_twelve_ascii_digits(uprn: str) -> None:
    (failure,) = _check([_row(uprn=uprn)])
    assert failure.item == "uprn"


def test_a_child_s_own_details_link_to_their_page(db: Session, area: dict[str, Any]) -> None:
    child = factories.pupil(db, area["la"], area["school"], ethnicity=None)
    _place(db, child, area["tutors"], Route.LA_EXCLUSION, date(2025, 10, 6))
    (gap,) = returns.build(db, SYSTEM, area["la"], "ap-census", 2025).gaps
    assert (gap.item, gap.pupil_id) == ("ethnicity", child.id)
