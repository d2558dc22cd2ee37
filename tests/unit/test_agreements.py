"""Call-offs and individual placement agreements: lapsed evidence blocks a call-off; the agreement's
terms are checked; a change is a new version with its reason, accepted again by every party; who
may accept for whom; the PDF and the Word document say the same as the page."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from docx import Document as WordDocument
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register import clock, permissions
from ap_register.casework import letter_files
from ap_register.commissioning import agreements
from ap_register.commissioning.agreements import Terms, accept, call_off, change
from ap_register.commissioning.frameworks import apply, decide
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError, Forbidden, NotFound
from ap_register.domain.vocab import Destination, Role, Tier
from ap_register.models import AuditEvent, PlacementAgreement
from tests import factories
from tests.unit.test_frameworks import ON, evidence_for, market  # noqa: F401  (the fixture)

TODAY = date(2026, 3, 9)


def terms(**changed: Any) -> Terms:
    values: dict[str, Any] = {
        "objectives": [
            ("Attend at least 90% of sessions", "The provider's register, reviewed each half term"),
            ("Reach grade 4 in English", "Termly assessment against the GCSE specification"),
        ],
        "sessions": "1111111100",
        "hours_per_week": "20",
        "rate": "62.50",
        "rate_unit": "session",
        "pays_on": "attended",
        "payer": "school",
        "starts_on": TODAY,
        "review_on": date(2026, 5, 18),
        "safeguarding": "Designated safeguarding lead at The Oaks: Ms Rao, 01234 567000",
        "contacts": "Meadow High office 01234 500100; The Oaks reception 01234 567000",
    }
    return Terms(**{**values, **changed})


@pytest.fixture()
def placed(db: Session, market: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """A pupil of Meadow High placed at The Oaks, which is approved on lot 1 with its evidence in
    date until 30 April 2026 (14 days' grace)."""
    la, pru, school = market["la"], market["pru"], market["school"]
    evidence_for(db, market, pru, date(2026, 4, 30))
    approval = apply(db, market["commissioner"], market["lot"], pru, rate="62.50", rate_unit="session", today=ON)
    decide(db, market["commissioner"], approval, outcome="approved", rate=None, rate_unit=None, reason=None, today=ON)
    pupil = factories.pupil(db, la, school, first_name="Jordan", last_name="Reed")
    placement = factories.placement(db, pupil, pru, start=date(2026, 3, 9), tier=Tier.TIME_LIMITED)
    lead = Actor(user=factories.user(db, Role.SCHOOL_LEAD, school), via="test")
    db.flush()
    return {**market, "approval": approval, "placement": placement, "lead": lead, "pupil": pupil}


def test_lapsed_evidence_blocks_a_call_off_after_the_grace_period(db: Session, placed: dict[str, Any]) -> None:
    lead, placement, approval = placed["lead"], placed["placement"], placed["approval"]
    with pytest.raises(DomainError) as refused:
        call_off(db, lead, placement, approval, terms(), today=date(2026, 5, 15))
    assert "expired on 30 April 2026 and the grace period ended on 14 May 2026" in refused.value.errors[0].message
    assert db.scalar(select(PlacementAgreement)) is None
    made = call_off(db, lead, placement, approval, terms(), today=date(2026, 5, 14))  # the last day of grace
    assert made.current.number == 1 and made.current.rate == 62.5


def test_the_terms_are_checked_every_one_at_once(db: Session, placed: dict[str, Any]) -> None:
    bad = terms(
        objectives=[("Attend more", ""), ("", "")],
        sessions="0000000000",
        hours_per_week="40",
        rate="1e999",
        rate_unit="fortnight",
        pays_on="hoped",
        payer="pta",
        starts_on=date(2026, 3, 1),
        review_on=date(2026, 2, 1),
        safeguarding=" ",
        contacts="Ring \x00 us",
    )
    with pytest.raises(DomainError) as refused:
        call_off(db, placed["lead"], placed["placement"], placed["approval"], bad, today=TODAY)
    assert {e.field for e in refused.value.errors} == {
        "measure_1",
        "sessions",
        "hours_per_week",
        "rate",
        "rate_unit",
        "pays_on",
        "payer",
        "starts_on",
        "review_on",
        "safeguarding",
        "contacts",
    }


def test_who_may_call_off(db: Session, placed: dict[str, Any]) -> None:
    head = placed["head"]  # the provider does not call itself off
    with pytest.raises(Forbidden):
        call_off(db, head, placed["placement"], placed["approval"], terms(), today=TODAY)
    stranger = Actor(user=factories.user(db, Role.COMMISSIONER, placed["other_la"]), via="test")
    with pytest.raises(NotFound):
        call_off(db, stranger, placed["placement"], placed["approval"], terms(), today=TODAY)
    made = call_off(db, placed["commissioner"], placed["placement"], placed["approval"], terms(), today=TODAY)
    with pytest.raises(DomainError) as twice:
        call_off(db, placed["lead"], placed["placement"], placed["approval"], terms(), today=TODAY)
    assert twice.value.errors[0].message == "This placement was called off already"
    audited = select(AuditEvent.action, AuditEvent.pupil_id).where(
        AuditEvent.object_type == "placement_agreement", AuditEvent.object_id == str(made.id)
    )
    assert db.execute(audited).all() == [("call_off", placed["pupil"].id)]


def test_a_change_is_a_new_version_with_its_reason_accepted_again(db: Session, placed: dict[str, Any]) -> None:
    lead, head = placed["lead"], placed["head"]
    with clock.fixed(TODAY):
        made = call_off(db, lead, placed["placement"], placed["approval"], terms(), today=TODAY)
        accept(
            db, lead, made, version_number=1, party="school", name=None, how="in_register", signed_on=TODAY, today=TODAY
        )
        accept(
            db,
            head,
            made,
            version_number=1,
            party="provider",
            name=None,
            how="in_register",
            signed_on=TODAY,
            today=TODAY,
        )
        accept(
            db, head, made, version_number=1, party="parent", name="Sam Reed", how="in_person", signed_on=TODAY,
            today=TODAY,
        )  # fmt: skip
        assert agreements.agreed(made.current)
        assert [(s.party, s.name, s.how) for s in made.current.signatures] == [
            ("school", lead.user.name, "in_register"),  # type: ignore[union-attr]
            ("provider", head.user.name, "in_register"),  # type: ignore[union-attr]
            ("parent", "Sam Reed", "in_person"),
        ]
        with pytest.raises(DomainError) as unchanged:
            change(db, lead, made, terms(), reason="Nothing, really", version_number=1, today=TODAY)
        assert unchanged.value.errors[0].message == "Nothing in the agreement was changed"
        with pytest.raises(DomainError) as no_reason:
            change(
                db,
                lead,
                made,
                terms(sessions="1111111111", hours_per_week="25"),
                reason=" ",
                version_number=1,
                today=TODAY,
            )
        assert no_reason.value.errors[0].message == "Say why the agreement changes"
        second = change(
            db, head, made, terms(sessions="1111111111", hours_per_week="25"), reason="Full time from May",
            version_number=1, today=TODAY,
        )  # fmt: skip
        # Another change begun from version 1, saved after version 2: refused, not silently undoing it.
        with pytest.raises(DomainError) as lost:
            change(db, lead, made, terms(hours_per_week="15"), reason="Fewer hours", version_number=1, today=TODAY)
        assert lost.value.errors[0].message.startswith("The agreement changed while you read it: version 2")
    assert (second.number, second.reason, second.sessions) == (2, "Full time from May", "1111111111")
    assert made.versions[0].sessions == "1111111100" and len(made.versions[0].signatures) == 3  # kept as it was
    assert agreements.waiting_for(made.current) == ["school", "provider", "parent"]
    # Accepting the version one read, when a newer one was made meanwhile: refused.
    with clock.fixed(TODAY), pytest.raises(DomainError) as stale:
        accept(
            db, lead, made, version_number=1, party="school", name=None, how="in_register", signed_on=TODAY, today=TODAY
        )
    assert stale.value.errors[0].message == "The agreement changed while you read it: read version 2 and accept that"


def test_each_accepts_for_their_own_organisation_and_the_parent_only(db: Session, placed: dict[str, Any]) -> None:
    lead, head = placed["lead"], placed["head"]
    with clock.fixed(TODAY):
        made = call_off(db, lead, placed["placement"], placed["approval"], terms(), today=TODAY)

        def by(actor: Actor, party: str, how: str = "in_register", name: str | None = None) -> None:
            accept(db, actor, made, version_number=1, party=party, name=name, how=how, signed_on=TODAY, today=TODAY)

        with pytest.raises(Forbidden):
            by(lead, "provider", "on_paper", "Someone")
        with pytest.raises(DomainError) as not_theirs:
            by(lead, "parent", "in_register")
        assert not_theirs.value.errors[0].field == "how"
        with pytest.raises(DomainError) as nameless:
            by(lead, "parent", "by_email")
        assert nameless.value.errors[0].message == "Enter the name of the person who accepted it"
        by(placed["commissioner"], "provider", "on_paper", "D Whitfield")  # the LA records a paper signature
        with pytest.raises(DomainError) as again:
            by(head, "provider")
        assert again.value.errors[0].message == "The provider has accepted version 1 already"
        assert agreements.parties_for(db, head, made) == ["parent"]
        assert agreements.parties_for(db, placed["commissioner"], made) == ["school", "parent"]
    # Another provider's head reads nothing of it.
    other_head = Actor(user=factories.user(db, Role.AP_HEAD, placed["farm"]), via="test")
    scoped = permissions.scope_agreements(other_head, select(PlacementAgreement))
    assert db.scalars(scoped).all() == []
    assert db.scalars(permissions.scope_agreements(head, select(PlacementAgreement))).all() == [made]


def test_the_pdf_and_word_document_say_what_the_page_says(db: Session, placed: dict[str, Any]) -> None:
    with clock.fixed(TODAY):
        made = call_off(db, placed["lead"], placed["placement"], placed["approval"], terms(), today=TODAY)
        accept(
            db, placed["lead"], made, version_number=1, party="school", name=None, how="in_register", signed_on=TODAY,
            today=TODAY,
        )  # fmt: skip
    content = agreements.content(made, made.current)
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter_files.pdf(content))).pages)
    pdf = " ".join(pdf.split())
    word = WordDocument(io.BytesIO(letter_files.docx(content)))
    docx = " ".join([p.text for p in word.paragraphs] + [c.text for t in word.tables for r in t.rows for c in r.cells])
    for printed in (pdf, " ".join(docx.split())):
        assert "Individual placement agreement, version 1" in printed
        assert "Attend at least 90% of sessions" in printed and "Reach grade 4 in English" in printed
        assert "£62.50 per session" in printed and "The sessions the pupil attended" in printed
        assert f"Accepted for the school by {placed['lead'].user.name} on 9 March 2026" in printed
        assert "For the provider: The Oaks" in printed and "Yours sincerely" not in printed
    assert made.called_off_on == TODAY


def test_the_price_is_the_framework_s_and_only_the_la_commits_its_money(db: Session, placed: dict[str, Any]) -> None:
    lead = placed["lead"]
    with pytest.raises(DomainError) as refused:
        call_off(
            db, lead, placed["placement"], placed["approval"],
            terms(rate="70.00", payer="high_needs"), today=TODAY,
        )  # fmt: skip
    assert {e.field: e.message for e in refused.value.errors} == {
        "rate": "The rate cannot be more than the framework's, £62.50",
        "payer": "Only the local authority commits its own money or the high needs block's: choose the school, or "
        "ask the local authority",
    }
    with pytest.raises(DomainError) as unit:
        call_off(db, lead, placed["placement"], placed["approval"], terms(rate_unit="hour"), today=TODAY)
    assert unit.value.errors[0].message == "The framework's rate is per session: the agreement's is too"
    # A lower rate, paid by the LA, called off by the LA's commissioner: agreed.
    made = call_off(
        db, placed["commissioner"], placed["placement"], placed["approval"], terms(rate="55.00", payer="la"),
        today=TODAY,
    )  # fmt: skip
    assert (made.current.rate, made.current.payer) == (55, "la")


def test_an_agreement_is_kept_as_it_was_once_its_placement_ends(db: Session, placed: dict[str, Any]) -> None:
    lead = placed["lead"]
    with clock.fixed(TODAY):
        made = call_off(db, lead, placed["placement"], placed["approval"], terms(), today=TODAY)
    placed["placement"].end_date, placed["placement"].destination = date(2026, 4, 2), Destination.NOT_KNOWN
    db.flush()
    with pytest.raises(DomainError) as ended:
        change(db, lead, made, terms(hours_per_week="10"), reason="Fewer", version_number=1, today=date(2026, 4, 3))
    assert ended.value.errors[0].message == "The placement ended on 2 April 2026: its agreement is kept as it was"
    assert len(made.versions) == 1
