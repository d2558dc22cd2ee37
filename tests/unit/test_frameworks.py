"""Frameworks and lots, providers' evidence and its expiry, approval onto a lot, and the call-off
gate that lapsed evidence closes once the LA's grace period has passed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.commissioning import frameworks
from ap_register.commissioning.frameworks import (
    CHECKS,
    Evidence,
    add_lot,
    apply,
    call_off_refusal,
    create_framework,
    decide,
    record_evidence,
    standing,
)
from ap_register.coverage.alerts import findings
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import Role, SettingKind
from ap_register.models import AuditEvent, LotApproval
from tests import factories

ON = date(2026, 3, 2)


def messages(error: pytest.ExceptionInfo[DomainError]) -> dict[str, str]:
    return {e.field: e.message for e in error.value.errors}


@pytest.fixture()
def market(db: Session) -> dict[str, Any]:
    la = factories.la(db, "855")
    other_la = factories.la(db, "856")
    pru = factories.setting(db, la, SettingKind.PRU, name="The Oaks")
    farm = factories.setting(db, la, SettingKind.UNREGISTERED_AP, name="Hillside Farm")
    school = factories.setting(db, la, SettingKind.MAINSTREAM, name="Meadow High")
    elsewhere = factories.setting(db, other_la, SettingKind.PRU, name="Far Away PRU")
    commissioner = Actor(user=factories.user(db, Role.COMMISSIONER, la), via="test")
    head = Actor(user=factories.user(db, Role.AP_HEAD, pru), via="test")
    framework = create_framework(
        db,
        commissioner,
        la,
        name="AP framework 2026-2030",
        kind="framework",
        starts_on=date(2026, 1, 5),
        ends_on=date(2030, 1, 4),
        grace_days=14,
    )
    lot = add_lot(
        db, commissioner, framework, name="Education and engagement", service="education_engagement", description=None
    )
    return {
        "la": la,
        "other_la": other_la,
        "pru": pru,
        "farm": farm,
        "school": school,
        "elsewhere": elsewhere,
        "commissioner": commissioner,
        "head": head,
        "framework": framework,
        "lot": lot,
    }


def evidence_for(db: Session, market: dict[str, Any], provider: Any, expires_on: date, **only: date) -> None:
    """Every kind of evidence, dated a year before it expires (`only` sets one kind's expiry)."""
    for kind in CHECKS:
        expiry = only.get(kind, expires_on)
        record_evidence(
            db,
            market["commissioner"],
            market["la"],
            provider,
            kind=kind,
            evidence_date=expiry - timedelta(days=365),
            expires_on=expiry,
            reference=None,
            note=None,
            today=ON,
        )


def test_evidence_is_good_through_its_expiry_then_in_grace_then_lapsed() -> None:
    insurance = Evidence("insurance", date(2025, 3, 31), date(2026, 3, 31))
    by_day = {
        day: {s.kind: s.state for s in standing([insurance], day, grace_days=10)}["insurance"]
        for day in (date(2026, 2, 28), date(2026, 3, 2), date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 10))
    }
    assert by_day == {
        date(2026, 2, 28): "current",  # 31 days before
        date(2026, 3, 2): "expiring",  # 29 days before
        date(2026, 3, 31): "expiring",  # its last day
        date(2026, 4, 1): "in_grace",
        date(2026, 4, 10): "in_grace",  # the tenth day of grace
    }
    lapsed = {s.kind: s for s in standing([insurance], date(2026, 4, 11), grace_days=10)}["insurance"]
    assert lapsed.state == "lapsed" and lapsed.blocks and lapsed.stops_on == date(2026, 4, 11)
    # The kinds nobody recorded are missing, and block too.
    assert {s.kind for s in standing([insurance], date(2026, 3, 2), 10) if s.state == "missing"} == set(CHECKS) - {
        "insurance"
    }


def test_newer_evidence_of_a_kind_counts_not_the_older() -> None:
    old = Evidence("dbs_confirmation", date(2024, 9, 1), date(2025, 8, 31))
    new = Evidence("dbs_confirmation", date(2025, 9, 1), date(2026, 8, 31))
    assert {s.kind: s.state for s in standing([new, old], date(2026, 1, 5), 0)}["dbs_confirmation"] == "current"
    # A mistyped expiry is put right by recording the same evidence again: the later record counts.
    slip = Evidence("insurance", date(2026, 1, 1), date(2030, 12, 31), recorded=7)
    corrected = Evidence("insurance", date(2026, 1, 1), date(2026, 2, 1), recorded=8)
    assert {s.kind: s.state for s in standing([corrected, slip], date(2026, 6, 1), 0)}["insurance"] == "lapsed"


def test_a_framework_runs_for_at_most_four_years_and_its_name_is_its_own(db: Session, market: dict[str, Any]) -> None:
    def create(**changed: Any) -> Any:
        values = {"name": "Too long", "kind": "framework", "starts_on": date(2026, 1, 5), "grace_days": 14}
        return create_framework(db, market["commissioner"], market["la"], **{**values, **changed})

    with pytest.raises(DomainError) as refused:
        create(ends_on=date(2030, 1, 5))
    assert "at most 4 years (Procurement Act 2023, section 47)" in messages(refused)["ends_on"]
    # A dynamic market has no such limit.
    assert create(name="Tuition market", kind="dynamic_market", ends_on=date(2032, 1, 4)).kind == "dynamic_market"
    with pytest.raises(DomainError) as twice:
        create(name="ap FRAMEWORK 2026-2030", ends_on=date(2027, 1, 4), grace_days=91)
    assert messages(twice) == {
        "name": "A framework of this name exists already: choose another name",
        "grace_days": "Enter a grace period from 0 to 90 days",
    }


def test_only_the_las_commissioners_keep_its_frameworks(db: Session, market: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        add_lot(db, market["head"], market["framework"], name="Tuition", service="tuition", description=None)
    stranger = Actor(user=factories.user(db, Role.COMMISSIONER, market["other_la"]), via="test")
    with pytest.raises(NotFound):
        add_lot(db, stranger, market["framework"], name="Tuition", service="tuition", description=None)
    second = add_lot(db, market["commissioner"], market["framework"], name="Tuition", service="tuition", description="")
    assert second.number == 2 and second.description is None


def test_a_provider_is_approved_onto_a_lot_only_with_every_piece_of_evidence_in_date(
    db: Session, market: dict[str, Any]
) -> None:
    lot, pru = market["lot"], market["pru"]
    applied = apply(db, market["head"], lot, pru, rate="62.50", rate_unit="session", today=ON)
    assert applied.status == "applied"
    # Insurance missing: no approval, and nothing changes.
    evidence_for(db, market, pru, date(2026, 9, 1))
    with pytest.raises(DomainError) as refused:
        decide(
            db,
            market["commissioner"],
            applied,
            outcome="approved",
            rate="60",
            rate_unit="session",
            reason=None,
            today=date(2026, 9, 2),
        )
    assert "cannot be approved until its evidence is in date" in messages(refused)["outcome"]
    assert db.get(LotApproval, applied.id).status == "applied"  # type: ignore[union-attr]
    decide(
        db, market["commissioner"], applied, outcome="approved", rate="60", rate_unit="session", reason=None, today=ON
    )
    assert (applied.status, applied.rate, applied.rate_unit, applied.decided_on) == (
        "approved",
        Decimal("60.00"),
        "session",
        ON,
    )
    with pytest.raises(DomainError) as again:
        decide(
            db,
            market["commissioner"],
            applied,
            outcome="approved",
            rate="60",
            rate_unit="session",
            reason=None,
            today=ON,
        )
    assert messages(again)["outcome"] == "This decision was made already"
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "lot_approval")))
    assert actions == {"apply", "approved"}
    # Declined, a provider may apply again (a dynamic market admits providers throughout its life).
    farm = apply(db, market["commissioner"], market["lot"], market["farm"], rate="40", rate_unit="hour", today=ON)
    decide(db, market["commissioner"], farm, outcome="declined", rate=None, rate_unit=None, reason="No DBS", today=ON)
    again = apply(db, market["commissioner"], market["lot"], market["farm"], rate="38", rate_unit="hour", today=ON)
    assert (again.id, again.status, again.rate, again.reason) == (farm.id, "applied", Decimal("38.00"), None)
    # Approving with a blank rate keeps the unit applied for; another unit needs its rate.
    with pytest.raises(DomainError) as unit:
        decide(db, market["commissioner"], again, outcome="approved", rate="", rate_unit="week", reason=None, today=ON)
    assert messages(unit)["rate"] == "Enter the rate for the unit you chose, or leave the unit as applied for"


def test_an_ap_head_applies_for_their_own_provider_only(db: Session, market: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        apply(db, market["head"], market["lot"], market["farm"], rate="40", rate_unit="hour", today=ON)
    with pytest.raises(DomainError) as school:
        apply(db, market["commissioner"], market["lot"], market["school"], rate="40", rate_unit="hour", today=ON)
    assert messages(school)["provider"] == "Meadow High is not an alternative provision provider"
    with pytest.raises(DomainError) as rate:
        apply(db, market["commissioner"], market["lot"], market["farm"], rate="1e30", rate_unit="fortnight", today=ON)
    assert messages(rate) == {
        "rate": "Enter a rate more than £0 and no more than £10,000",
        "rate_unit": "Choose what the rate is for",
    }


def test_lapsed_evidence_stops_new_call_offs_after_the_grace_period_and_raises_an_alert(
    db: Session, market: dict[str, Any]
) -> None:
    lot, pru, farm = market["lot"], market["pru"], market["farm"]
    evidence_for(db, market, pru, date(2026, 9, 1), insurance=date(2026, 3, 31))
    approval = apply(db, market["commissioner"], lot, pru, rate="60", rate_unit="session", today=ON)
    decide(
        db, market["commissioner"], approval, outcome="approved", rate=None, rate_unit="session", reason=None, today=ON
    )
    assert approval.rate == Decimal("60.00")  # the rate applied for, when none is given
    assert call_off_refusal(db, approval, date(2026, 3, 31)) is None
    assert call_off_refusal(db, approval, date(2026, 4, 14)) is None  # the 14th day of grace
    refusal = call_off_refusal(db, approval, date(2026, 4, 15))
    assert refusal == (
        "No new placement may be called off from The Oaks: Insurance (employer's and public liability) expired on "
        "31 March 2026 and the grace period ended on 14 April 2026"
    )
    # The alert: from the day after the expiry, for the LA, about the provider.
    found = [f for f in findings(db, market["la"], date(2026, 4, 1)) if f.kind == "provider_evidence_lapsed"]
    assert [(f.setting, f.due) for f in found] == [(pru, date(2026, 4, 15))]
    assert "Insurance (employer's and public liability) expired on 31 March 2026" in found[0].message
    assert not [f for f in findings(db, market["la"], date(2026, 3, 31)) if f.kind == "provider_evidence_lapsed"]
    # Newer insurance reopens it, and the alert goes.
    record_evidence(
        db,
        market["commissioner"],
        market["la"],
        pru,
        kind="insurance",
        evidence_date=date(2026, 4, 1),
        expires_on=date(2027, 3, 31),
        reference="Policy 1234",
        note=None,
        today=date(2026, 4, 15),
    )
    assert call_off_refusal(db, approval, date(2026, 4, 15)) is None
    assert not [f for f in findings(db, market["la"], date(2026, 4, 15)) if f.kind == "provider_evidence_lapsed"]
    # An unapproved provider is never called off.
    farm_applied = apply(db, market["commissioner"], lot, farm, rate="40", rate_unit="hour", today=ON)
    assert call_off_refusal(db, farm_applied, ON) == (
        "Hillside Farm is not approved on lot 1 (Education and engagement) of AP framework 2026-2030"
    )


def test_evidence_is_dated_and_expires_sensibly(db: Session, market: dict[str, Any]) -> None:
    def record(**values: Any) -> None:
        record_evidence(
            db,
            market["commissioner"],
            market["la"],
            market["pru"],
            **{"kind": "insurance", "reference": None, "note": None, "today": ON, **values},
        )

    with pytest.raises(DomainError) as refused:
        record(evidence_date=ON + timedelta(days=1), expires_on=ON + timedelta(days=400))
    assert messages(refused) == {"evidence_date": "The date of the evidence must be today or in the past"}
    with pytest.raises(DomainError) as backwards:
        record(evidence_date=ON, expires_on=ON, kind="gold_star", note="a\x00b")
    assert set(messages(backwards)) == {"kind", "expires_on", "note"}
    with pytest.raises(DomainError) as far:
        record(evidence_date=ON, expires_on=date(2099, 1, 1))
    assert "check the expiry date" in messages(far)["expires_on"]
    with pytest.raises(Forbidden):
        record_evidence(
            db,
            market["head"],
            market["la"],
            market["pru"],
            kind="insurance",
            evidence_date=ON,
            expires_on=date(2027, 3, 1),
            reference=None,
            note=None,
            today=ON,
        )
    assert frameworks.evidence_of(db, market["la"].id, market["pru"].id) == []
