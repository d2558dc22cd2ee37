"""Tier 1 outreach: engagements, sessions and outcomes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from ap_register.budgets.outreach import close_engagement, describe, log_session, start_engagement
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden
from ap_register.domain.vocab import Role, SettingKind
from tests import factories

TODAY = date(2025, 11, 20)


@pytest.fixture()
def area(db: Session) -> dict:  # type: ignore[type-arg]
    la = factories.la(db, "855")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks")
    other_pru = factories.setting(db, la, SettingKind.PRU, name="Brook Centre")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High")
    pupil = factories.pupil(db, la, school, first_name="Sam", last_name="Taylor")
    head = Actor(user=factories.user(db, Role.AP_HEAD, pru), via="test")
    # Work with a named pupil starts from their school: its lead asks the provider for it.
    lead = Actor(user=factories.user(db, Role.SCHOOL_LEAD, school), via="test")
    return {"la": la, "pru": pru, "other_pru": other_pru, "school": school, "pupil": pupil, "head": head, "lead": lead}


def test_an_engagement_logs_sessions_and_closes_with_an_outcome(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    engagement = start_engagement(
        db,
        area["lead"],
        provider=area["pru"],
        school=area["school"],
        kind="coaching",
        started_on=date(2025, 10, 1),
        pupil=area["pupil"],
        today=TODAY,
    )
    log_session(db, area["head"], engagement, held_on=date(2025, 10, 8), minutes=60, staff="J. Khan", today=TODAY)
    log_session(db, area["head"], engagement, held_on=date(2025, 10, 15), minutes=90, staff="J. Khan", today=TODAY)
    assert engagement.minutes == 150
    assert describe(engagement) == "Outreach: coaching from The Oaks, 2 sessions (2.5 hours)"
    with pytest.raises(DomainError) as refused:
        close_engagement(
            db,
            area["head"],
            engagement,
            closed_on=date(2025, 10, 10),
            outcome="sustained_in_mainstream",
            note="",
            today=TODAY,
        )
    assert refused.value.errors[0].message == "A session was logged on 15 October 2025, after that date"
    close_engagement(
        db,
        area["head"],
        engagement,
        closed_on=date(2025, 11, 14),
        outcome="sustained_in_mainstream",
        note="Back in all lessons",
        today=TODAY,
    )
    assert engagement.outcome == "sustained_in_mainstream"
    with pytest.raises(DomainError, match="The session was not logged"):
        log_session(db, area["head"], engagement, held_on=date(2025, 11, 17), minutes=30, staff="J. Khan", today=TODAY)


def test_sessions_are_checked(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    engagement = start_engagement(
        db,
        area["head"],
        provider=area["pru"],
        school=area["school"],
        kind="self_regulation_group",
        started_on=date(2025, 10, 1),
        group_name="Year 8 self-regulation group",
        today=TODAY,
    )
    with pytest.raises(DomainError) as refused:
        log_session(db, area["head"], engagement, held_on=date(2025, 9, 1), minutes=0, staff=" ", today=TODAY)
    assert [e.message for e in refused.value.errors] == [
        "The engagement started on 1 October 2025",
        "Enter the minutes, from 1 to 480",
        "Enter who delivered it",
    ]


def test_a_provider_logs_only_its_own_outreach(db: Session, area: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(Forbidden):
        start_engagement(
            db,
            area["head"],
            provider=area["other_pru"],
            school=area["school"],
            kind="coaching",
            started_on=TODAY,
            group_name="Year 9",
            today=TODAY,
        )
    with pytest.raises(DomainError) as refused:
        start_engagement(
            db, area["head"], provider=area["pru"], school=area["pru"], kind="coaching", started_on=TODAY, today=TODAY
        )
    assert [e.message for e in refused.value.errors] == [
        "Outreach is support in a mainstream or special school",
        "Name the pupil or the group the outreach is for",
    ]
