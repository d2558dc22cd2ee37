"""An LA brings its history in: placements that started before the day it adopted the register
come from its old records. They load in full, without the checks that gate a new placement, and
say so; a dry run shows what a file would change and writes nothing."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.imports import ImportRefused, run_import
from ap_register.domain.vocab import SettingKind
from ap_register.models import AuditEvent, LocalAuthority, Placement
from tests import factories
from tests.conftest import ANCHOR
from tests.factories import SYSTEM

HEADER = "upn,setting_ref,route,registration,start_date,sessions,tier\n"
OLD_RECORDS = "(not required of a placement from the local authority's old records)"


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    # An LA new to the register: panels on, no adoption date yet.
    la = factories.la(db, "855", panels=True, adopted_on=None)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH1", urn="100001")
    factories.setting(db, la, SettingKind.MAINSTREAM, ref="SCH2", urn="100002")
    factories.setting(db, la, SettingKind.PRU, ref="PRU1", urn="100003")
    pupils = [factories.pupil(db, la, school) for _ in range(3)]
    return {"la": la, "pupils": pupils}


def history(area: dict) -> str:  # type: ignore[type-arg]
    moved, directed, part_time = (p.upn for p in area["pupils"])
    return HEADER + (
        # A managed move the panel never saw (the LA's panel rules name managed moves).
        f"{moved},SCH2,managed_move,sole,2025-11-17,1111111111,\n"
        # An off-site direction whose notice date, planned end and plan the old system never kept.
        f"{directed},PRU1,off_site_direction,dual,2025-11-05,1111111111,time_limited\n"
        # A part-time timetable with no recorded agreement, purpose or end.
        f"{part_time},SCH1,part_time_timetable,sole,2025-10-06,1111100000,\n"
    )


def load(db: Session, la: LocalAuthority, text: str, **options):  # type: ignore[no-untyped-def]
    return run_import(db, SYSTEM, "placements", io.BytesIO(text.encode()), la=la, **options)


def placements(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Placement)) or 0


def test_an_la_s_history_loads_in_full_from_its_old_records(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    report = load(db, area["la"], history(area))
    # The first import is the day the LA adopted the register.
    assert area["la"].adopted_on == report.adopted_on == clock.today() == ANCHOR
    assert (report.imported, report.old_records) == (3, 3)
    assert all(p.from_old_records for p in db.scalars(select(Placement)))
    # What the old records lacked is listed, line by line.
    assert [(w.line, w.message) for w in report.warnings if OLD_RECORDS in w.message] == [
        (3, f"Enter the date written notice was given to the parents {OLD_RECORDS}"),
        (3, f"A time-limited placement needs its planned end {OLD_RECORDS}"),
        (3, f"A time-limited placement needs a reintegration plan {OLD_RECORDS}"),
        (4, f"A part-time timetable is time-limited: enter its planned end {OLD_RECORDS}"),
        (
            4,
            f"A part-time timetable needs the parent's agreement: enter the day the parent agreed {OLD_RECORDS}",
        ),
        (4, f"Choose what the part-time timetable is for {OLD_RECORDS}"),
    ]
    assert "3 from the old records" in report.summary()


def test_from_the_adoption_date_every_check_applies_again(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    load(db, area["la"], history(area))
    pupil = factories.pupil(db, area["la"], db.scalars(select(Placement)).first().home_school)  # type: ignore[union-attr]
    with pytest.raises(ImportRefused) as refused:
        load(db, area["la"], HEADER + f"{pupil.upn},SCH2,managed_move,sole,2026-12-07,1111111111,\n")
    assert [(e.line, e.message) for e in refused.value.report.errors] == [
        (2, "Managed move needs an approved decision of Leicestershire's panel before it starts: make a referral")
    ]
    assert area["la"].adopted_on == ANCHOR  # set once, by the first import


def test_a_refused_first_import_sets_no_adoption_date(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ImportRefused):
        load(db, area["la"], history(area) + "A000000000000,SCH1,home_school,sole,2025-10-06,1111111111,\n")
    db.refresh(area["la"])
    assert (area["la"].adopted_on, placements(db)) == (None, 0)


def test_a_dry_run_says_what_the_file_would_change_and_writes_nothing(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    report = load(db, area["la"], history(area), dry_run=True)
    assert (report.dry_run, report.imported, report.old_records, report.adopted_on) == (True, 3, 3, ANCHOR)
    assert report.as_json()["dry_run"] is True
    db.refresh(area["la"])
    assert (area["la"].adopted_on, placements(db)) == (None, 0)
    # Only the fact that the file was checked is kept.
    checked = db.scalars(select(AuditEvent).where(AuditEvent.action == "import_checked")).one()
    assert checked.detail["imported"] == 3
    written = select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "placement")
    assert db.scalar(written) == 0
    # The same file then imports exactly as the check said.
    assert load(db, area["la"], history(area)).imported == 3


def test_a_placement_before_the_adoption_date_is_still_checked_for_the_law_s_coherence(
    db: Session,
    area: dict,  # type: ignore[type-arg]
) -> None:
    area["la"].adopted_on = date(2026, 9, 1)
    pupil = area["pupils"][0]
    with pytest.raises(ImportRefused) as refused:
        load(db, area["la"], HEADER + f"{pupil.upn},PRU1,off_site_direction,sole,2025-11-05,1111111111,time_limited\n")
    assert [e.column for e in refused.value.report.errors] == ["registration"]


def test_a_setting_cannot_dodge_the_checks_with_a_start_before_the_adoption_date(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    from ap_register.domain.actors import Actor
    from ap_register.domain.errors import DomainError
    from ap_register.domain.vocab import Registration, Role, Route
    from ap_register.models import Setting
    from ap_register.placements.rules import PlacementDraft, start_placement

    area["la"].adopted_on = date(2026, 9, 1)
    pupil = area["pupils"][0]
    draft = PlacementDraft(
        setting_id=db.scalar(select(Setting.id).where(Setting.ref == "SCH2")),
        route=Route.MANAGED_MOVE,
        registration=Registration.SOLE,
        sessions="1" * 10,
        start_date=date(2025, 11, 17),
    )
    # A school's lead recording a move that "started" last year is checked as new: the panel's
    # decision is still needed.
    lead = Actor(user=factories.user(db, Role.SCHOOL_LEAD, pupil.home_school), via="test")
    with pytest.raises(DomainError) as refused:
        start_placement(db, lead, pupil, draft)
    assert refused.value.errors[0].message.endswith("make a referral")
    # The LA's administrator brings the same history in from the old records.
    admin = Actor(user=factories.user(db, Role.LA_ADMIN, area["la"]), via="test")
    placement, _ = start_placement(db, admin, pupil, draft)
    assert placement.from_old_records


def test_an_la_already_recording_placements_is_not_adopted_by_an_import(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    area["la"].adopted_on = None
    from ap_register.models import Setting

    pru = db.scalars(select(Setting).where(Setting.ref == "PRU1")).one()
    factories.placement(db, area["pupils"][0], pru, start=date(2025, 11, 3))
    report = run_import(
        db, SYSTEM, "term-dates", io.BytesIO(b"la_code,start_date,end_date\n855,2027-01-04,2027-02-12\n"), la=area["la"]
    )
    assert (report.adopted_on, area["la"].adopted_on) == (None, None)


def test_an_adoption_date_is_never_in_the_future(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    from ap_register.domain.errors import DomainError
    from ap_register.placements.adoption import set_adoption_date

    with pytest.raises(DomainError) as refused:
        set_adoption_date(db, SYSTEM, area["la"], date(2026, 12, 7))
    assert refused.value.errors[0].message.startswith("The adoption date cannot be in the future: 4 December 2026")
    set_adoption_date(db, SYSTEM, area["la"], ANCHOR)
    assert area["la"].adopted_on == ANCHOR
