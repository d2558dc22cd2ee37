"""Retention: a child's records are kept until their 25th birthday (the usual schedule for pupil
and alternative provision records), then anonymised by the nightly job, each one audited.

Anonymising keeps what the statistics need (the placements, their routes, dates, sessions and
destinations; attendance marks; results; the year of birth, need and flags) and removes what
identifies the child: name, UPN, day and month of birth, and every free text written about them
(placement reasons and plans, reviews, referral evidence and views, panel decision reasons,
outreach notes, alert messages). The movement ledger and the audit trail are append-only and
keep their rows; the ledger's reasons are categories and dates, and the audit trail identifies
the pupil only by the internal id, which now leads to an anonymous record.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ap_register.accounts import audit
from ap_register.casework import caseloads, contacts, documents, letters
from ap_register.casework.documents import Store
from ap_register.commissioning import payments, progress
from ap_register.domain.actors import Actor
from ap_register.models import (
    Alert,
    CaseNote,
    Decision,
    OutreachEngagement,
    Placement,
    PlacementReview,
    Pupil,
    Referral,
    SupportTried,
)

RETENTION_YEARS = 25
REMOVED = "Removed under the retention policy"


def due(session: Session, on: date, years: int = RETENTION_YEARS) -> list[Pupil]:
    """Pupils past their retention date and not yet anonymised."""
    # Born on or before this day: the retention birthday has come.
    latest_birth = date(on.year - years, on.month, 28 if (on.month, on.day) == (2, 29) else on.day)
    return list(
        session.scalars(
            select(Pupil).where(Pupil.date_of_birth <= latest_birth, Pupil.anonymised_on.is_(None)).order_by(Pupil.id)
        )
    )


def anonymise(
    session: Session, actor: Actor, pupil: Pupil, on: date, years: int = RETENTION_YEARS, storage: Store | None = None
) -> None:
    upn = pupil.upn
    pupil.first_name = "Anonymised"
    pupil.last_name = "Pupil"
    pupil.upn = f"ANON{pupil.id:09d}"
    payments.forget(session, pupil, upn)
    pupil.date_of_birth = date(pupil.date_of_birth.year, 1, 1)
    pupil.home_address = pupil.home_postcode = None
    contacts.forget(session, pupil)
    letters.forget(session, pupil)
    documents.forget(session, pupil, storage)
    pupil.sex = pupil.ethnicity = pupil.uprn = pupil.fsm_start = pupil.fsm_end = None
    pupil.anonymised_on = on
    caseloads.release(session, actor, pupil, "record anonymised")
    session.execute(update(CaseNote).where(CaseNote.pupil_id == pupil.id).values(text=REMOVED))
    placement_ids = select(Placement.id).where(Placement.pupil_id == pupil.id)
    session.execute(
        update(Placement)
        .where(Placement.pupil_id == pupil.id)
        .values(
            reason=None,
            end_reason=None,
            reintegration_plan=None,
            destination_plan=None,
            spot_reason=None,
            unregistered_override_reason=None,
        )
    )
    session.execute(
        update(PlacementReview).where(PlacementReview.placement_id.in_(placement_ids)).values(notes=REMOVED)
    )
    referral_ids = select(Referral.id).where(Referral.pupil_id == pupil.id)
    session.execute(
        update(Referral)
        .where(Referral.pupil_id == pupil.id)
        .values(
            reasons=REMOVED,
            missing_support_reason=None,
            parent_views=None,
            pupil_views=None,
            missing_views_reason=None,
            best_interest=REMOVED,
        )
    )
    session.execute(update(SupportTried).where(SupportTried.referral_id.in_(referral_ids)).values(description=REMOVED))
    session.execute(update(Decision).where(Decision.referral_id.in_(referral_ids)).values(reasons=REMOVED))
    session.execute(update(OutreachEngagement).where(OutreachEngagement.pupil_id == pupil.id).values(outcome_note=None))
    session.execute(update(Alert).where(Alert.pupil_id == pupil.id).values(message=REMOVED, resolution=None))
    progress.forget(session, pupil)
    audit.record(session, actor, "anonymise", "pupil", pupil.id, pupil_id=pupil.id, detail={"retention_years": years})


def run(session: Session, on: date, years: int = RETENTION_YEARS, storage: Store | None = None) -> dict[str, int]:
    """The nightly job: anonymise every pupil past the retention date (their documents deleted
    from `storage` too)."""
    actor = Actor.system("retention", label="retention job")
    found = due(session, on, years)
    for pupil in found:
        anonymise(session, actor, pupil, on, years, storage)
    session.flush()
    return {"anonymised": len(found)}
