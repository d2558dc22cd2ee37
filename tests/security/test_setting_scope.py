"""A setting's user sees a child only through a relationship that someone with authority over
the child created, and cannot widen what they see on their own.

The attack this guards against: an AP head started an outreach engagement naming the UPN of a
pupil on any school's roll; the child became visible to them (full record, EHC plan), and they
could then record movements on the child.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.budgets import outreach
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Forbidden
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import Role
from ap_register.models import OutreachEngagement, OutreachProposal, Pupil
from tests.conftest import build_app, make_database
from tests.pages import page, post, sign_in, text

NOBODYS = make_upn("855999925998")


def offer(client: Any, world: dict, upn: str, school_id: int) -> Any:  # type: ignore[type-arg]
    return post(
        client,
        "/outreach/new",
        {
            "provider": str(world["home"]["pru"].id),
            "school": str(school_id),
            "kind": "coaching",
            "upn": upn,
            "started_on": ["3", "11", "2025"],
        },
        follow_redirects=True,
    )


def sees(client: Any, pupil: Pupil) -> bool:
    if client.get(f"/pupils/{pupil.id}").status_code == 200:
        return True
    return pupil.last_name in client.get(f"/pupils?q={pupil.upn}").get_data(as_text=True)


def test_an_offer_for_a_guessed_upn_reveals_nothing(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    target = home["bystander"]  # on Home Academy's roll: nothing to do with the PRU
    sign_in(client, home["users"][Role.AP_HEAD].email)
    assert not sees(client, target)
    answers = []
    for upn in (target.upn, NOBODYS):
        soup = page(offer(client, world, upn, home["second"].id))
        shown = text(soup)
        assert target.first_name not in shown and target.last_name not in shown
        answers.append(shown.replace(upn, "UPN").split("Status")[0])
    assert answers[0] == answers[1]
    assert not sees(client, target)
    assert (
        db.scalar(select(func.count()).select_from(OutreachEngagement).where(OutreachEngagement.pupil_id == target.id))
        == 0
    )
    # The rule itself refuses a provider starting named work alone, whatever the channel.
    with pytest.raises(Forbidden):
        outreach.start_engagement(
            db,
            Actor(user=home["users"][Role.AP_HEAD], via="test"),
            provider=home["pru"],
            school=home["second"],
            kind="coaching",
            started_on=target.created_at.date(),
            pupil=target,
        )


def test_the_school_agrees_and_only_then_the_provider_sees_the_pupil(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    target = home["pupil"]  # on Home High School's roll
    sign_in(client, home["users"][Role.AP_HEAD].email)
    offer(client, world, home["bystander"].upn, home["school"].id)  # not on that school's roll
    offer(client, world, NOBODYS, home["school"].id)
    page(offer(client, world, target.upn, home["school"].id))
    proposal = db.scalar(select(OutreachProposal).where(OutreachProposal.upn == target.upn))
    assert proposal is not None and proposal.engagement_id is None
    # Another school's lead does not even see the offer.
    other_school_lead = world["other"]["users"][Role.SCHOOL_LEAD]
    sign_in(client, other_school_lead.email)
    assert client.get(f"/outreach/proposals/{proposal.id}").status_code == 404
    # The pupil's school sees who is meant, and agrees.
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    soup = page(client.get(f"/outreach/proposals/{proposal.id}"))
    assert target.full_name in text(soup)
    stranger = db.scalar(select(OutreachProposal).where(OutreachProposal.upn == home["bystander"].upn))
    assert "No pupil with this UPN is on" in text(page(client.get(f"/outreach/proposals/{stranger.id}")))
    assert home["bystander"].last_name not in text(page(client.get(f"/outreach/proposals/{stranger.id}")))
    page(post(client, f"/outreach/proposals/{proposal.id}", {"agree": "Agree"}, follow_redirects=True))
    db.expire_all()
    assert db.get(OutreachProposal, proposal.id).status == "agreed"
    sign_in(client, home["users"][Role.AP_HEAD].email)
    assert sees(client, target)


def test_seeing_a_child_through_outreach_does_not_let_a_provider_change_their_roll(
    client: Any,
    world: dict,  # type: ignore[type-arg]
    db: Session,
) -> None:
    home = world["home"]
    target = home["bystander"]
    # The pupil's school asked for outreach (recorded here by the system): the provider sees the child.
    outreach.start_engagement(
        db,
        Actor.system("test"),
        provider=home["pru"],
        school=home["second"],
        kind="coaching",
        started_on=target.created_at.date(),
        pupil=target,
    )
    db.commit()
    sign_in(client, home["users"][Role.AP_HEAD].email)
    assert sees(client, target)
    before = target.home_school_id
    assert client.get(f"/pupils/{target.id}/movements/new").status_code == 403
    answer = post(
        client,
        f"/pupils/{target.id}/movements/new",
        {"kind": "admitted", "setting": str(home["pru"].id), "date": ["3", "11", "2025"], "reason": "Taken"},
    )
    assert answer.status_code == 403
    assert client.get(f"/pupils/{target.id}/placements/new").status_code in (403, 404)
    db.expire_all()
    assert db.get(Pupil, target.id).home_school_id == before


def test_offers_are_throttled(db_kind: str, tmp_path: Any) -> None:
    from ap_register.domain.vocab import SettingKind
    from ap_register.extensions import db as flask_db
    from tests import factories

    url, drop = make_database(db_kind, tmp_path)
    limited = build_app(url, PROPOSAL_RATE_LIMIT="3 per hour", WTF_CSRF_ENABLED=False)
    try:
        with limited.app_context():
            la = factories.la(flask_db.session, "855")
            school = factories.setting(flask_db.session, la, SettingKind.MAINSTREAM)
            pru = factories.setting(flask_db.session, la, SettingKind.PRU)
            head = factories.user(flask_db.session, Role.AP_HEAD, pru)
            flask_db.session.commit()
            email, school_id, pru_id = head.email, school.id, pru.id
        client = limited.test_client()
        client.post("/sign-in", data={"email": email, "password": factories.PASSWORD})
        codes = []
        for n in range(4):
            upn = make_upn(f"8559999259{n:02d}")
            data = {
                "provider": pru_id,
                "school": school_id,
                "kind": "coaching",
                "upn": upn,
                "started_on": ["3", "11", "2025"],
            }
            codes.append(client.post("/outreach/new", data=data).status_code)
        assert codes == [302, 302, 302, 429]
    finally:
        with limited.app_context():
            flask_db.engine.dispose()
        drop()


def test_a_school_does_not_take_onto_its_roll_a_pupil_only_placed_with_it(
    client: Any,
    world: dict,  # type: ignore[type-arg]
    db: Session,
) -> None:
    """An off-site direction to a school lets it see the pupil; the move onto its roll is a
    managed move the off-site direction ends in, never the school's own admission."""
    from ap_register.domain.vocab import Registration, Route
    from tests import factories

    home = world["home"]
    pupil = home["bystander"]  # on Home Academy's roll
    factories.placement(db, pupil, home["school"], Route.OFF_SITE_DIRECTION, Registration.DUAL, tier=None)
    db.commit()
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)  # Home High School's lead
    assert client.get(f"/pupils/{pupil.id}").status_code == 200
    assert client.get(f"/pupils/{pupil.id}/movements/new").status_code == 403
    answer = post(
        client,
        f"/pupils/{pupil.id}/movements/new",
        {"kind": "admitted", "setting": str(home["school"].id), "date": ["3", "11", "2025"]},
    )
    assert answer.status_code == 403
    db.expire_all()
    assert db.get(Pupil, pupil.id).home_school_id == home["second"].id
