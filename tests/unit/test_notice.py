"""The written notice of an off-site direction (SI 2010/1156 reg 3): the register keeps what it
said, raises an alert while it is incomplete, and makes the letter from it, on the LA's school days."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from ap_register.coverage.alerts import findings
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden
from ap_register.domain.vocab import Destination, Registration, Role, Route, SenStatus, SettingKind, Tier
from ap_register.placements.notice import NoticeContents
from ap_register.placements.rules import (
    PlacementDraft,
    end_placement,
    notice_letter,
    record_notice,
    start_placement,
)
from tests import factories
from tests.factories import SYSTEM

ON = date(2025, 11, 4)
FULL = NoticeContents(
    address="Riverside Centre, 1 Mill Lane, Leicester",
    report_to="Ms A Khan, head of centre",
    session_times="9am to 12pm and 12:45pm to 3pm",
    reasons="Repeated disruption in lessons; to re-engage with learning and return by February half term",
)


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High School")
    pru = factories.setting(db, la, SettingKind.PRU, name="Riverside PRU")
    child = factories.pupil(db, la, school, first_name="Sam", last_name="Taylor", date_of_birth=date(2011, 5, 2))
    return {"la": la, "school": school, "pru": pru, "pupil": child}


def direct(db: Session, area: dict, pupil=None, **fields):  # type: ignore[no-untyped-def,type-arg]
    values = dict(
        setting_id=area["pru"].id,
        route=Route.OFF_SITE_DIRECTION,
        registration=Registration.DUAL,
        sessions="1111111100",
        start_date=date(2025, 11, 5),
        tier=Tier.TIME_LIMITED,
        notice_date=date(2025, 11, 3),
        planned_end_date=date(2025, 12, 19),
        reintegration_plan="Back to the home school by the new year",
    )
    values.update(fields)
    return start_placement(db, SYSTEM, pupil or area["pupil"], PlacementDraft(**values))  # type: ignore[arg-type]


def notice_alerts(db: Session, area: dict) -> list[str]:  # type: ignore[type-arg]
    return [f.message for f in findings(db, area["la"], ON) if f.kind == "off_site_notice_incomplete"]


def test_a_direction_without_its_notice_is_recorded_with_a_warning_and_an_alert(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement, assessment = direct(db, area)
    assert (
        "The written notice must also state the address where the pupil is to attend; who the pupil reports to on "
        "the first day; the times of the sessions; the reasons for the direction and what it is meant to achieve "
        "(SI 2010/1156 reg 3(4))"
    ) in assessment.warnings[0]
    assert notice_alerts(db, area) == [
        "The written notice of the off-site direction to Riverside PRU from 5 November 2025 is not recorded in "
        "full: it must state the address where the pupil is to attend; who the pupil reports to on the first day; "
        "the times of the sessions; the reasons for the direction and what it is meant to achieve "
        "(SI 2010/1156 reg 3(4))."
    ]
    record_notice(db, SYSTEM, placement, FULL, today=ON)
    assert placement.notice_missing == []
    assert notice_alerts(db, area) == []


def test_the_letter_is_made_from_the_notice_on_the_la_s_school_days(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement, _ = direct(
        db,
        area,
        notice_address=FULL.address,
        notice_report_to=FULL.report_to,
        notice_session_times=FULL.session_times,
        notice_reasons=FULL.reasons,
    )
    letter = notice_letter(db, placement)
    # 5 November to 19 December 2025: seven school weeks less the Monday and Tuesday of the first.
    assert (letter.school, letter.pupil, letter.first_day, letter.last_day, letter.school_days) == (
        "Meadow High School",
        "Sam Taylor",
        date(2025, 11, 5),
        date(2025, 12, 19),
        33,
    )
    assert letter.sessions[3:] == [("Thursday", True, True), ("Friday", False, False)]
    assert (letter.to_pupil, letter.copy_to, letter.review_weeks) == (False, None, 10)


def test_a_pupil_with_an_ehc_plan_s_notice_goes_to_the_la_too(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    area["pupil"].sen_status = SenStatus.EHCP
    placement, _ = direct(db, area)
    record_notice(db, SYSTEM, placement, FULL, today=ON)
    assert placement.notice_missing == [
        "the day written notice was given to the local authority (the pupil has an EHC plan)"
    ]
    with pytest.raises(DomainError) as refused:
        record_notice(
            db, SYSTEM, placement, NoticeContents(**{**FULL.__dict__, "la_notice_date": date(2025, 11, 6)}), today=ON
        )
    assert [e.message for e in refused.value.errors] == [
        "The day notice went to the local authority cannot be in the future"
    ]
    record_notice(
        db, SYSTEM, placement, NoticeContents(**{**FULL.__dict__, "la_notice_date": date(2025, 11, 3)}), today=ON
    )
    assert placement.notice_missing == []
    assert notice_letter(db, placement).copy_to == "Leicestershire"


def test_the_receiving_setting_reads_the_notice_but_only_the_directing_school_and_la_write_it(
    db: Session,
    area: dict,  # type: ignore[type-arg]
) -> None:
    placement, _ = direct(db, area)
    head = Actor(user=factories.user(db, Role.AP_HEAD, area["pru"]), via="test")
    with pytest.raises(Forbidden):
        record_notice(db, head, placement, FULL, today=ON)
    lead = Actor(user=factories.user(db, Role.SCHOOL_LEAD, area["school"]), via="test")
    record_notice(db, lead, placement, FULL, today=ON)
    assert placement.notice_report_to == FULL.report_to


def test_a_notice_is_only_an_off_site_direction_s_and_closes_with_it(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    placement, _ = direct(db, area)
    end_placement(db, SYSTEM, placement, end_date=date(2025, 11, 28), destination=Destination.RETURNED_HOME_SCHOOL)
    with pytest.raises(DomainError) as refused:
        record_notice(db, SYSTEM, placement, FULL, today=ON)
    assert refused.value.errors[0].message == "The direction has ended: its notice can no longer be changed"
    other = factories.pupil(db, area["la"], area["school"])
    la_place, _ = start_placement(
        db,
        SYSTEM,
        other,
        PlacementDraft(
            setting_id=area["pru"].id,
            route=Route.LA_OTHER,
            registration=Registration.DUAL,
            sessions="1" * 10,
            start_date=date(2025, 11, 5),
            tier=Tier.TRANSITIONAL,
        ),
    )
    with pytest.raises(DomainError) as refused:
        record_notice(db, SYSTEM, la_place, FULL, today=ON)
    assert refused.value.message == "Only an off-site direction has a written notice"


def test_a_direction_from_the_la_s_old_records_raises_no_notice_alert(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    area["la"].adopted_on = date(2026, 1, 5)
    placement, assessment = direct(db, area, notice_date=None)
    assert placement.from_old_records
    assert not any("written notice must also state" in w for w in assessment.warnings)
    assert notice_alerts(db, area) == []


def test_a_placements_file_completes_the_notice_of_a_direction_already_recorded(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    import io

    from ap_register.domain.imports import run_import

    placement, _ = direct(db, area, notice_report_to="Ms A Khan, head of centre")
    area["pru"].ref = "PRU1"
    header = (
        "upn,setting_ref,route,registration,start_date,sessions,notice_address,notice_session_times,notice_reasons\n"
    )
    row = (
        f'{area["pupil"].upn},PRU1,off_site_direction,dual,2025-11-05,1111111100,"1 Mill Lane, Leicester",'
        f'9am to 3pm,"To re-engage, and return by February"\n'
    )
    report = run_import(db, SYSTEM, "placements", io.BytesIO((header + row).encode()), la=area["la"])
    assert (report.imported, report.updated) == (0, 1)
    # The cells given are recorded; the one left out keeps what was there.
    assert (placement.notice_address, placement.notice_report_to, placement.notice_missing) == (
        "1 Mill Lane, Leicester",
        "Ms A Khan, head of centre",
        [],
    )
    again = run_import(db, SYSTEM, "placements", io.BytesIO((header + row).encode()), la=area["la"])
    assert (again.updated, again.unchanged) == (0, 1)
