"""The retention job: a child's records are anonymised once they are 25, each one audited, and
what the statistics need is kept."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain import retention
from ap_register.domain.vocab import Route, SettingKind
from ap_register.models import Alert, AuditEvent, Contact, Movement, Placement, PlacementReview, Pupil
from tests import factories

TODAY = date(2026, 11, 23)


def test_records_past_the_retention_date_are_anonymised_and_audited(db: Session) -> None:
    la = factories.la(db)
    school = factories.setting(db, la, SettingKind.MAINSTREAM)
    pru = factories.setting(db, la, SettingKind.PRU)
    old = factories.pupil(
        db,
        la,
        school,
        first_name="Morgan",
        last_name="Oldcase",
        date_of_birth=date(2001, 11, 23),
        home_address="4 Mill Lane, Ely",
        home_postcode="CB7 4AA",
        sex="F",
        ethnicity="WIRT",
        fsm_start=date(2015, 9, 1),
        uprn="100090000001",
        parents=[("Jo Oldcase", None)],
    )
    young = factories.pupil(db, la, school, first_name="Riley", last_name="Youngcase", date_of_birth=date(2001, 11, 24))
    placement = factories.placement(db, old, pru, reason="Morgan Oldcase hit a teacher")
    db.add(PlacementReview(placement_id=placement.id, review_date=date(2025, 11, 3), notes="Morgan is settling"))
    db.add(
        Alert(
            la_id=la.id,
            kind="review_overdue",
            key="old",
            pupil_id=old.id,
            due=date(2016, 3, 1),
            last_found_on=date(2016, 3, 1),
            message="A review of Oldcase's placement is overdue",
        )
    )
    db.flush()
    ledger_before = len(db.scalars(select(Movement).where(Movement.pupil_id == old.id)).all())

    assert retention.run(db, TODAY) == {"anonymised": 1}  # 25 today; the other is 25 tomorrow
    db.expire_all()
    gone = db.get(Pupil, old.id)
    assert gone is not None
    assert (gone.first_name, gone.last_name, gone.upn) == ("Anonymised", "Pupil", f"ANON{old.id:09d}")
    assert gone.date_of_birth == date(2001, 1, 1) and gone.anonymised_on == TODAY
    assert (gone.home_address, gone.home_postcode) == (None, None)
    assert db.scalars(select(Contact).where(Contact.pupil_id == old.id)).all() == []
    assert (gone.sex, gone.ethnicity, gone.fsm_start, gone.uprn) == (None, None, None, None)
    kept = db.get(Placement, placement.id)
    assert kept is not None and kept.reason is None
    assert (kept.route, kept.start_date, kept.sessions) == (Route.OFF_SITE_DIRECTION, date(2025, 10, 6), "1111111111")
    assert db.scalar(select(PlacementReview.notes).where(PlacementReview.placement_id == placement.id)) == (
        retention.REMOVED
    )
    assert db.scalar(select(Alert.message).where(Alert.pupil_id == old.id)) == retention.REMOVED
    # The ledger keeps every row; the audit trail records the anonymising, without the name.
    assert len(db.scalars(select(Movement).where(Movement.pupil_id == old.id)).all()) == ledger_before
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "anonymise", AuditEvent.pupil_id == old.id))
    assert event is not None and event.actor == "retention job" and "Oldcase" not in str(event.detail)

    untouched = db.get(Pupil, young.id)
    assert untouched is not None and untouched.last_name == "Youngcase"
    # Run again the same day: nothing more to do.
    assert retention.run(db, TODAY) == {"anonymised": 0}
    assert retention.run(db, date(2026, 11, 24)) == {"anonymised": 1}
