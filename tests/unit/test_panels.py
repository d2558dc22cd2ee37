"""Referrals, panels and decisions that gate the moves which need one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import MovementKind, Registration, Role, Route, SenStatus, SettingKind
from ap_register.models import Decision, Movement, Placement
from ap_register.panels.rules import (
    FAIR_ACCESS_CATEGORIES,
    GREEN_PAPER_REFUSAL,
    PlacementTerms,
    SupportItem,
    add_member,
    agree_fair_access,
    build_agenda,
    create_panel,
    decide,
    fair_access_clock,
    fair_access_counts,
    schedule_meeting,
    submit_referral,
)
from ap_register.placements.roll import reading_of
from ap_register.placements.rules import PlacementDraft, assess_placement, start_placement
from tests import factories
from tests.factories import SYSTEM

TODAY = date(2025, 11, 10)


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855", panels=True)
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High")
    other = factories.setting(db, la, SettingKind.MAINSTREAM, name="Castle Academy")
    pru = factories.setting(db, la, SettingKind.PRU, name="Riverside PRU")
    pupil = factories.pupil(db, la, school, first_name="Sam", last_name="Taylor")
    lead = factories.user(db, Role.SCHOOL_LEAD, school)
    chair = factories.user(db, Role.PANEL_CHAIR, la)
    members = [factories.user(db, Role.PANEL_MEMBER, la) for _ in range(2)]
    head_of_other = factories.user(db, Role.SCHOOL_LEAD, other)
    admin = factories.user(db, Role.LA_ADMIN, la)
    as_admin = Actor(user=admin, via="test")
    panel = create_panel(db, as_admin, la, "Fair Access Panel", quorum=3)
    chair_member = add_member(db, as_admin, panel, chair, chair=True)
    member_rows = [add_member(db, as_admin, panel, user) for user in members]
    other_member = add_member(db, as_admin, panel, head_of_other)
    meeting = schedule_meeting(db, as_admin, panel, date(2025, 11, 13), "County Hall")
    return {
        "la": la,
        "school": school,
        "other": other,
        "pru": pru,
        "pupil": pupil,
        "lead": lead,
        "chair": chair,
        "panel": panel,
        "meeting": meeting,
        "chair_member": chair_member,
        "members": member_rows,
        "other_member": other_member,
        "admin": as_admin,
    }


def refer(db: Session, area: dict, **changes):  # type: ignore[no-untyped-def,type-arg]
    values = dict(
        move="managed_move",
        route=Route.MANAGED_MOVE,
        proposed_setting=area["other"],
        reason_codes=["behaviour"],
        reasons="Repeated conflict with peers despite support",
        support=[
            SupportItem("Mentoring twice a week", date(2025, 9, 8), date(2025, 10, 24)),
            SupportItem("Outreach from the PRU", date(2025, 10, 1)),
        ],
        missing_support_reason=None,
        parent_views="Mum supports a fresh start",
        pupil_views="Sam wants to move",
        missing_views_reason=None,
        best_interest="A fresh start near home, with friends at Castle Academy",
        today=TODAY,
    )
    values.update(changes)
    return submit_referral(db, Actor(user=area["lead"], via="test"), area["pupil"], **values)


def refused(db: Session, area: dict, **changes) -> list[str]:  # type: ignore[no-untyped-def,type-arg]
    with pytest.raises(DomainError) as error:
        refer(db, area, **changes)
    return [e.message for e in error.value.errors]


def test_a_referral_needs_the_evidence_of_support_and_both_views(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    assert refused(db, area, support=[], parent_views=None, best_interest=" ") == [
        "Give the support already tried, with its dates, or explain why none was tried",
        "Give the parent's views and the pupil's own views, or explain why they are missing",
        "Say why this move is in the pupil's best interest",
    ]
    referral = refer(
        db,
        area,
        parent_views=None,
        missing_views_reason="Parents did not attend two meetings; letters sent 3 and 10 November",
    )
    assert referral.status == "submitted" and [s.description for s in referral.support] == [
        "Mentoring twice a week",
        "Outreach from the PRU",
    ]


def test_send_alone_is_never_a_reason_for_a_move(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    assert refused(db, area, reason_codes=["send", "awaiting_assessment"]) == [GREEN_PAPER_REFUSAL]
    assert refer(db, area, reason_codes=["send", "behaviour"]).reason_codes == ["send", "behaviour"]


def test_a_school_refers_only_its_own_pupils(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    outsider = factories.pupil(db, area["la"], area["other"])
    with pytest.raises(Exception) as error:
        submit_referral(
            db,
            Actor(user=area["lead"], via="test"),
            outsider,
            move="other",
            route=Route.LA_OTHER,
            proposed_setting=None,
            reason_codes=["behaviour"],
            reasons="x",
            support=[],
            missing_support_reason="x" * 30,
            parent_views="a",
            pupil_views="b",
            missing_views_reason=None,
            best_interest="y",
            today=TODAY,
        )
    assert type(error.value).__name__ == "NotFound"


def test_a_move_that_needs_a_decision_cannot_start_without_one(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    draft = PlacementDraft(
        setting_id=area["other"].id,
        route=Route.MANAGED_MOVE,
        registration=Registration.SOLE,
        sessions="1" * 10,
        start_date=date(2025, 11, 17),
    )
    with pytest.raises(DomainError) as error:
        start_placement(db, SYSTEM, area["pupil"], draft)
    assert error.value.errors[0].message == (
        "Managed move needs an approved decision of Leicestershire's panel before it starts: make a referral"
    )
    # A move that started before the LA adopted the register comes from its old records: not gated.
    area["la"].adopted_on = date(2026, 1, 1)
    placement, _ = start_placement(db, SYSTEM, area["pupil"], draft)
    assert (placement.route, placement.from_old_records) == (Route.MANAGED_MOVE, True)


def votes(area: dict, *, chair: str = "for", members: tuple[str, ...] = ("for", "for")) -> dict[int, str]:  # type: ignore[type-arg]
    cast = {area["chair_member"].id: chair}
    cast.update({m.id: v for m, v in zip(area["members"], members, strict=False)})
    return cast


def test_the_panel_approves_and_the_placement_starts_with_its_movements(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    referral = refer(db, area)
    assert build_agenda(db, area["admin"], area["meeting"]) == 1
    chair = Actor(user=area["chair"], via="test")
    decision = decide(
        db,
        chair,
        area["meeting"],
        referral,
        outcome="approve",
        reasons="Support tried; fresh start",
        votes=votes(area),
        terms=PlacementTerms(date(2025, 11, 17), "1" * 10, Registration.SOLE),
    )
    placement = db.get(Placement, decision.placement_id)
    assert placement is not None and placement.route == Route.MANAGED_MOVE and placement.setting_id == area["other"].id
    assert referral.status == "approved"
    started = db.scalars(select(Movement).where(Movement.placement_id == placement.id)).one()
    assert started.kind == MovementKind.PLACEMENT_STARTED and started.recorded_by_id == area["chair"].id
    # The case is decided: a second approval is refused, and nothing is doubled.
    with pytest.raises(DomainError):
        decide(
            db,
            chair,
            area["meeting"],
            referral,
            outcome="approve",
            reasons="again",
            votes=votes(area),
            terms=PlacementTerms(date(2025, 11, 17), "1" * 10, Registration.SOLE),
            after_decision_id=decision.id,
        )
    assert db.scalar(select(func.count()).select_from(Placement).where(Placement.route == Route.MANAGED_MOVE)) == 1


def test_an_approved_move_replaces_what_the_pupil_had_and_changes_the_roll_on_its_day(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """A move to another school's roll alone, approved on 13 November to start on 24 November:
    the off-site direction the old school made ends on the 23rd, so no week counts the child at
    two settings; the roll stays with the old school until the 24th, and the school lead keeps
    their part until then."""
    from ap_register import clock, permissions
    from ap_register.coverage.rules import week_coverage
    from ap_register.models import AuditEvent
    from ap_register.placements.roll import refresh_rolls, roll_ahead

    area["la"].panel_routes = []
    direction = factories.placement(db, area["pupil"], area["pru"], start=date(2025, 10, 6))
    area["la"].panel_routes = None
    referral = refer(db, area)
    build_agenda(db, area["admin"], area["meeting"])
    pupil, lead = area["pupil"], Actor(user=area["lead"], via="test")
    with clock.fixed(date(2025, 11, 13)):
        decision = decide(
            db,
            Actor(user=area["chair"], via="test"),
            area["meeting"],
            referral,
            outcome="approve",
            reasons="Support tried; fresh start",
            votes=votes(area),
            terms=PlacementTerms(date(2025, 11, 24), "1" * 10, Registration.SOLE),
        )
    assert direction.end_date == date(2025, 11, 23)
    assert direction.end_reason == "Replaced by sole registration at Castle Academy from 24 November 2025"
    ended = db.scalars(
        select(Movement).where(Movement.placement_id == direction.id, Movement.kind == MovementKind.PLACEMENT_ENDED)
    ).one()
    assert ended.date == date(2025, 11, 23) and ended.recorded_by_id == area["chair"].id
    assert db.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "end", AuditEvent.object_id == str(direction.id))
    ).one() == {"destination": "new_mainstream_school", "replaced_by": decision.placement_id, "via": "test"}
    # On the day of the decision the pupil is still the old school's, and the lead may act for them.
    assert pupil.home_school_id == area["school"].id
    assert permissions.can(db, lead, "placement.record", pupil)
    assert roll_ahead(db, pupil, date(2025, 11, 13)) == "Moves to Castle Academy's roll on 24 November 2025"
    # The week of the move: Monday is at Castle Academy only, ten sessions of ten, no overlap.
    week = week_coverage(db, SYSTEM, area["la"], date(2025, 11, 24), today=date(2025, 11, 13))
    row = next(w for w in week.pupils if w.pupil.id == pupil.id)
    assert (row.planned_sessions, row.overlaps) == (10, [])
    before = week_coverage(db, SYSTEM, area["la"], date(2025, 11, 17), today=date(2025, 11, 13))
    assert next(w for w in before.pupils if w.pupil.id == pupil.id).overlaps == []
    # The roll changes on its day, with the nightly job.
    assert refresh_rolls(db, date(2025, 11, 24)) >= 1
    assert pupil.home_school_id == area["other"].id and roll_ahead(db, pupil, date(2025, 11, 24)) is None
    assert not permissions.can(db, lead, "placement.record", pupil)


def test_quorum_conflicts_and_majority(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    referral = refer(db, area)
    build_agenda(db, area["admin"], area["meeting"])
    chair = Actor(user=area["chair"], via="test")
    terms = PlacementTerms(date(2025, 11, 17), "1" * 10, Registration.SOLE)

    def problems(**kwargs) -> list[str]:  # type: ignore[no-untyped-def]
        with pytest.raises(DomainError) as error:
            decide(
                db, chair, area["meeting"], referral, reasons=kwargs.pop("reasons", "Reasons"), terms=terms, **kwargs
            )
        return [e.message for e in error.value.errors]

    assert problems(outcome="approve", votes=votes(area, members=("for",))) == [
        "The panel is not quorate: 2 members voted, 3 are needed"
    ]
    # The head of the receiving school sits on the panel: a conflict, so no vote.
    conflicted = votes(area) | {area["other_member"].id: "for"}
    assert problems(outcome="approve", votes=conflicted) == [
        f"{area['other_member'].user.name} may not vote: from the receiving setting"
    ]
    assert problems(outcome="approve", votes=votes(area, chair="against", members=("against", "for"))) == [
        "An approval needs more votes for than against"
    ]
    with pytest.raises(Forbidden):
        decide(
            db,
            Actor(user=area["lead"], via="test"),
            area["meeting"],
            referral,
            outcome="decline",
            reasons="x",
            votes=votes(area),
        )


def test_decisions_are_superseded_never_edited(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    referral = refer(db, area)
    build_agenda(db, area["admin"], area["meeting"])
    chair = Actor(user=area["chair"], via="test")
    deferred = decide(
        db,
        chair,
        area["meeting"],
        referral,
        outcome="more_information",
        reasons="Ask for the outreach report",
        votes=votes(area),
    )
    assert referral.status == "submitted"
    with pytest.raises(DomainError, match="The decision was not recorded"):
        decide(db, chair, area["meeting"], referral, outcome="decline", reasons="Stale view", votes=votes(area))
    declined = decide(
        db,
        chair,
        area["meeting"],
        referral,
        outcome="decline",
        reasons="Report shows progress",
        votes=votes(area),
        after_decision_id=deferred.id,
    )
    assert declined.supersedes_id == deferred.id and referral.status == "declined"
    assert [d.outcome for d in db.scalars(select(Decision).order_by(Decision.id))] == ["more_information", "decline"]


def test_fair_access_allocations_by_school_and_year(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    area["la"].panel_routes = []
    newcomer = factories.pupil(db, area["la"], None, date_of_birth=date(2012, 3, 1))
    factories.placement(
        db,
        newcomer,
        area["other"],
        route=Route.FAIR_ACCESS,
        registration=Registration.SOLE,
        tier=None,
        start=date(2025, 11, 3),
    )
    counts = fair_access_counts(db, area["la"], date(2025, 9, 1), date(2026, 8, 31))
    assert counts == {area["other"].id: {9: 1}}  # born March 2012: Year 9 in 2025/26


def test_a_managed_move_is_permanent_from_its_first_day(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    """No trial (suspension and permanent exclusion guidance, 2026): the pupil joins the new
    school's roll on the move's first day and leaves the old one's."""
    area["la"].panel_routes = []
    draft = PlacementDraft(
        setting_id=area["other"].id,
        route=Route.MANAGED_MOVE,
        registration=Registration.DUAL,
        sessions="1" * 10,
        start_date=date(2025, 11, 17),
        planned_end_date=date(2026, 1, 16),
    )
    assert [e.message for e in assess_placement(db, area["pupil"], draft).errors] == [
        "A managed move is a permanent move: the pupil joins the new school's roll and leaves this one's (sole "
        "registration). For a period at the other school first, record an off-site direction, which may end in a "
        "managed move",
        "A managed move is permanent: it has no planned end",
    ]
    start_placement(db, SYSTEM, area["pupil"], replace(draft, registration=Registration.SOLE, planned_end_date=None))
    assert reading_of(db, area["pupil"]).on(date(2025, 11, 17), None) == area["other"].id


def test_an_off_site_direction_to_another_school_may_end_in_a_managed_move(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    from ap_register.panels.rules import conclude_managed_move

    area["la"].panel_routes = []
    placement = factories.placement(
        db, area["pupil"], area["other"], tier=None, start=date(2025, 9, 15), notice_date=date(2025, 9, 10)
    )
    assert placement.route == Route.OFF_SITE_DIRECTION
    lead = Actor(user=area["lead"], via="test")
    with pytest.raises(DomainError, match="The outcome was not recorded"):
        conclude_managed_move(db, lead, placement, "confirmed", date(2025, 11, 7), "")
    conclude_managed_move(db, lead, placement, "confirmed", date(2025, 11, 7), "Settled well; both heads agree")
    assert area["pupil"].home_school_id == area["other"].id
    kinds = [
        m.kind for m in db.scalars(select(Movement).where(Movement.pupil_id == area["pupil"].id).order_by(Movement.id))
    ]
    assert kinds[-3:] == [MovementKind.PLACEMENT_ENDED, MovementKind.REMOVED_FROM_ROLL, MovementKind.ADMITTED]
    # An off-site direction to an AP setting does not end in a managed move.
    pru = factories.setting(db, area["la"], SettingKind.PRU)
    at_pru = factories.placement(db, area["pupil"], pru, start=date(2025, 11, 10))
    with pytest.raises(DomainError) as refused:
        conclude_managed_move(db, lead, at_pru, "confirmed", date(2025, 12, 5), "Agreed")
    assert refused.value.errors[0].message == (
        "Only an off-site direction to another mainstream or special school ends in a managed move"
    )


def fair_access_referral(db: Session, area: dict, pupil, **fields):  # type: ignore[no-untyped-def,type-arg]
    values = dict(
        move="fair_access",
        route=Route.FAIR_ACCESS,
        proposed_setting=area["other"],
        reason_codes=["no_school_place"],
        reasons="Moved into the area in October",
        support=[],
        missing_support_reason="New to the area: no school has worked with them yet",
        parent_views="Wants a local school",
        pupil_views="Happy to start",
        missing_views_reason=None,
        best_interest="A school place near home",
        fair_access_category="l",
        today=date(2025, 11, 3),
    )
    values.update(fields)
    return submit_referral(db, SYSTEM, pupil, **values)


def test_a_fair_access_place_is_due_within_20_school_days_of_the_la_s_agreement(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    from ap_register.coverage.alerts import findings

    def deadlines(on: date) -> list:  # type: ignore[type-arg]
        return [f for f in findings(db, area["la"], on) if f.kind == "fair_access_deadline"]

    newcomer = factories.pupil(db, area["la"], None, first_name="Tomasz", last_name="Nowak")
    referral = fair_access_referral(db, area, newcomer)
    # Until the LA's agreement is recorded, the days count from the referral, Monday 3 November:
    # 20 school days later is Monday 1 December.
    (found,) = deadlines(date(2025, 11, 10))
    assert found.due == date(2025, 12, 1) and "is not recorded, so the days count from the referral" in found.message
    agree_fair_access(db, SYSTEM, referral, date(2025, 11, 5), today=date(2025, 11, 10))
    # Agreed Wednesday 5 November 2025: 20 school days later is Wednesday 3 December.
    (found,) = deadlines(date(2025, 11, 10))
    assert found.due == date(2025, 12, 3) and found.pupil is newcomer
    assert found.message == (
        "The local authority agreed on 5 November 2025 to consider Tomasz Nowak under the fair access protocol: a "
        "school place is due to be allocated by 3 December 2025 (20 school days) and has not been."
    )
    with pytest.raises(DomainError):
        agree_fair_access(db, SYSTEM, referral, date(2025, 11, 6), today=date(2025, 11, 10))
    # Where the LA places without a panel, the place's start shows the allocation was in time.
    area["la"].panel_routes = []
    factories.placement(
        db,
        newcomer,
        area["other"],
        route=Route.FAIR_ACCESS,
        registration=Registration.SOLE,
        tier=None,
        start=date(2025, 12, 1),
    )
    assert deadlines(date(2025, 12, 10)) == []
    clock_ = fair_access_clock(db, referral, today=date(2025, 12, 10))
    assert clock_ is not None and clock_.category == FAIR_ACCESS_CATEGORIES["l"] and clock_.due == date(2025, 12, 3)


def test_a_fair_access_referral_names_its_category_and_never_takes_a_child_with_an_ehc_plan(  # type: ignore[type-arg]
    db: Session, area: dict
) -> None:
    newcomer = factories.pupil(db, area["la"], None)
    with pytest.raises(DomainError) as refused:
        fair_access_referral(db, area, newcomer, fair_access_category=None)
    assert [e.field for e in refused.value.errors] == ["fair_access_category"]
    with_plan = factories.pupil(db, area["la"], None, first_name="Ava", last_name="Plan", sen_status=SenStatus.EHCP)
    with pytest.raises(DomainError) as refused:
        fair_access_referral(db, area, with_plan)
    assert refused.value.errors[0].message == (
        "Ava Plan has an EHC plan, so is admitted to the school the plan names (Children and Families Act 2014 s43), "
        "not placed through the fair access protocol (School Admissions Code 2021 para 3.17)"
    )
    # Nor can a place be recorded under the fair access route for her.
    draft = PlacementDraft(
        setting_id=area["other"].id,
        route=Route.FAIR_ACCESS,
        registration=Registration.SOLE,
        sessions="1111111111",
        start_date=date(2025, 11, 10),
    )
    assert [e.field for e in assess_placement(db, with_plan, draft).errors] == ["route"]


def test_only_the_la_s_officers_record_its_agreement(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    referral = fair_access_referral(db, area, factories.pupil(db, area["la"], None))
    lead = Actor(user=area["lead"], via="test")
    with pytest.raises((Forbidden, NotFound)):
        agree_fair_access(db, lead, referral, date(2025, 11, 4), today=date(2025, 11, 10))
    officer = Actor(user=factories.user(db, Role.COMMISSIONER, area["la"]), via="test")
    agree_fair_access(db, officer, referral, date(2025, 11, 4), today=date(2025, 11, 10))
    assert referral.fair_access_agreed_on == date(2025, 11, 4)
