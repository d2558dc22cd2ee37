"""Referrals and panel meetings through the pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.actors import Actor
from ap_register.domain.vocab import Role, SettingKind
from ap_register.models import Decision, Placement, Referral
from ap_register.panels.rules import add_member
from tests import factories
from tests.pages import date_fields, errors, page, post, sign_in, text


def test_a_school_lead_refers_a_pupil_with_the_evidence(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    url = f"/pupils/{pupil.id}/referrals/new"
    soup = page(client.get(url))
    assert soup.h1.get_text(strip=True) == "Refer to the panel"
    base = {
        "move": "time_limited_ap",
        "route": "off_site_direction",
        "proposed_setting": str(home["pru"].id),
        "reasons": "Escalating behaviour",
        "best_interest": "Short time off-site, then back",
    }
    soup = page(post(client, url, {**base, "reason_codes": ["send"]}))
    assert errors(soup)[0].startswith("A pupil must not be moved only because of their special educational needs")
    assert "Give the support already tried, with its dates, or explain why none was tried" in errors(soup)
    response = post(
        client,
        url,
        {
            **base,
            "reason_codes": ["behaviour", "send"],
            "support_1": "Daily report card",
            **date_fields("support_1_started", date(2025, 9, 15)),
            "parent_views": "Supports it",
            "pupil_views": "Does not want to go",
        },
    )
    assert response.status_code == 302
    referral = db.scalars(select(Referral).order_by(Referral.id.desc())).first()
    assert referral is not None and referral.submitted_by_id == home["users"][Role.SCHOOL_LEAD].id
    soup = page(client.get(response.headers["Location"]))
    assert "Daily report card: from 15 September 2025, continuing" in text(soup)


def test_a_gated_route_sends_the_user_to_the_panel(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    home["la"].panel_routes = ["managed_move"]
    db.commit()
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    response = post(
        client,
        f"/pupils/{home['pupil'].id}/placements/new",
        {"route": "managed_move", "setting": str(home["second"].id)},
    )
    soup = page(
        post(
            client,
            response.headers["Location"],
            {
                "registration": "sole",
                **date_fields("start_date", date(2025, 12, 1)),
                "sessions": ["Mon AM"],
                "reason": "Fresh start",
            },
        )
    )
    assert errors(soup) == [
        "Managed move needs an approved decision of Leicestershire's panel before it starts: make a referral"
    ]


def test_the_chair_decides_a_case_at_the_meeting(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    chair = home["users"][Role.PANEL_CHAIR]
    member = home["users"][Role.PANEL_MEMBER]
    admin = Actor(user=home["users"][Role.LA_ADMIN], via="test")
    chair_row = add_member(db, admin, home["panel"], chair, chair=True)
    member_row = add_member(db, admin, home["panel"], member)
    db.commit()
    sign_in(client, chair.email)
    soup = page(client.get(f"/meetings/{home['meeting'].id}"))
    assert [a.get_text(strip=True) for a in soup.select("tbody a")] == ["Robin Homechild"]
    url = f"/meetings/{home['meeting'].id}/cases/{home['referral'].id}"
    soup = page(client.get(url))
    form = {
        "decision-outcome": "approve",
        "decision-reasons": "Support tried; agreed by all",
        f"vote-{chair_row.id}": "for",
        f"vote-{member_row.id}": "for",
        "decision-registration": "sole",
        **date_fields("decision-start_date", date(2025, 12, 1)),
        "decision-sessions": ["Mon AM", "Mon PM"],
        "decision-after_decision": "",
        "decision-submit": "Record the decision",
    }
    soup = page(post(client, url, {**form, f"vote-{member_row.id}": "absent"}))
    assert errors(soup) == ["The panel is not quorate: 1 members voted, 2 are needed"]
    # The votes cast are shown again as cast, with the rest of the form.
    assert soup.select_one(f"#vote-{chair_row.id} option[selected]")["value"] == "for"
    assert soup.select_one(f"#vote-{member_row.id} option[selected]")["value"] == "absent"
    response = post(client, url, form)
    assert response.status_code == 302
    decision = db.scalars(select(Decision)).one()
    placement = db.get(Placement, decision.placement_id)
    assert placement is not None and placement.sessions == "1100000000" and placement.setting_id == home["second"].id
    soup = page(client.get(f"/pupils/{home['pupil'].id}"))
    assert "Placement recorded: Home Academy" in text(soup)
    soup = page(client.get(f"/meetings/{home['meeting'].id}/papers"))
    assert "Case 1: Robin Homechild" in text(soup)
    response = client.get(f"/meetings/{home['meeting'].id}/export.csv")
    line = response.get_data(as_text=True).splitlines()[1]
    # In words, for the people reading the papers: never the register's own codes.
    assert ",Managed move,Home Academy," in line and ",Approve," in line and "managed_move" not in line


def test_an_approved_move_shows_its_day_and_the_school_keeps_its_pupil_until_then(  # type: ignore[type-arg]
    client: Any, world: dict, db: Session
) -> None:
    """Decided on 4 December to start on 14 December: the pupil's page says the roll moves on that
    day, the old school keeps its buttons meanwhile, and the off-site direction the move replaces
    ends the day before."""
    home = world["home"]
    chair = home["users"][Role.PANEL_CHAIR]
    admin = Actor(user=home["users"][Role.LA_ADMIN], via="test")
    chair_row = add_member(db, admin, home["panel"], chair, chair=True)
    member_row = add_member(db, admin, home["panel"], home["users"][Role.PANEL_MEMBER])
    db.commit()
    sign_in(client, chair.email)
    url = f"/meetings/{home['meeting'].id}/cases/{home['referral'].id}"
    response = post(
        client,
        url,
        {
            "decision-outcome": "approve",
            "decision-reasons": "Support tried; agreed by all",
            f"vote-{chair_row.id}": "for",
            f"vote-{member_row.id}": "for",
            "decision-registration": "sole",
            **date_fields("decision-start_date", date(2026, 12, 14)),
            "decision-sessions": ["Mon AM", "Mon PM"],
            "decision-after_decision": "",
            "decision-submit": "Record the decision",
        },
    )
    assert response.status_code == 302
    client.post("/sign-out")
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    soup = page(client.get(f"/pupils/{home['pupil'].id}"))
    assert "Home High School. Moves to Home Academy's roll on 14 December 2026" in text(soup)
    assert "Record a placement" in [a.get_text(strip=True) for a in soup.select(".govuk-button")]
    every = soup.find("caption", string="Every placement of Robin Homechild").find_parent("table")
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in every.select("tbody tr")]
    direction = ["Home PRU", "Off-site direction (s29A Education Act 2002)", "6 October 2025", "13 December 2026"]
    assert [*direction, "Active"] in rows


def test_a_decision_waits_for_the_meeting(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    """A meeting on 9 December takes no decision on 4 December: the chair is told when, and a
    decision sent early is refused, so no one is told the panel decided on a day it had not met."""
    from datetime import date as day

    from ap_register.panels.rules import build_agenda, schedule_meeting

    home = world["home"]
    chair = home["users"][Role.PANEL_CHAIR]
    admin = Actor(user=home["users"][Role.LA_ADMIN], via="test")
    chair_row = add_member(db, admin, home["panel"], chair, chair=True)
    add_member(db, admin, home["panel"], home["users"][Role.PANEL_MEMBER])
    later = schedule_meeting(db, admin, home["panel"], day(2026, 12, 9), "Town Hall")
    build_agenda(db, admin, later)
    db.commit()
    sign_in(client, chair.email)
    url = f"/meetings/{later.id}/cases/{home['referral'].id}"
    soup = page(client.get(url))
    assert "The panel meets on 9 December 2026: record its decision on or after that day" in text(soup)
    assert soup.select_one("#decision-reasons") is None
    soup = page(
        post(
            client,
            url,
            {
                "decision-outcome": "decline",
                "decision-reasons": "Not yet",
                "decision-registration": "dual",
                f"vote-{chair_row.id}": "for",
                "decision-after_decision": "",
                "decision-submit": "Record the decision",
            },
        )
    )
    assert errors(soup) == ["The panel meets on 9 December 2026: record its decision on or after that day"]
    assert db.scalars(select(Decision)).all() == []


def test_papers_are_for_la_officers(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.SCHOOL_LEAD].email)
    assert client.get(f"/meetings/{world['home']['meeting'].id}/papers").status_code == 403
    assert factories.PASSWORD


def test_fair_share_and_an_off_site_direction_ending_in_a_managed_move(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    from ap_register.domain.vocab import Registration, Route

    home = world["home"]
    newcomer = factories.pupil(db, home["la"], None, date_of_birth=date(2012, 3, 1))
    factories.placement(
        db,
        newcomer,
        home["second"],
        route=Route.FAIR_ACCESS,
        registration=Registration.SOLE,
        tier=None,
        start=date(2025, 11, 3),
    )
    # A period at another school first is an off-site direction, which may end in a managed move.
    move = factories.placement(
        db, home["bystander"], home["school"], tier=None, start=date(2025, 9, 15), notice_date=date(2025, 9, 10)
    )
    db.commit()
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    special = factories.setting(db, home["la"], SettingKind.SPECIAL, name="Home Special School")
    db.commit()
    soup = page(client.get("/panels/fair-share?year=2025"))
    row = next(tr for tr in soup.select("tbody tr") if "Home Academy" in tr.get_text())
    assert [td.get_text(strip=True) for td in row.select("td")][-1] == "1"
    # Fair access shares places at mainstream schools only: the Admissions Code does not cover
    # special schools (the case page and this page ask the same rule, panels.fair_share).
    listed = [tr.th.get_text(strip=True) if tr.th else tr.td.get_text(strip=True) for tr in soup.select("tbody tr")]
    assert special.name not in " ".join(listed) and "Home High School" in " ".join(listed)
    response = post(
        client,
        f"/placements/{move.id}/managed-move",
        {"outcome": "confirmed", **date_fields("on", date(2025, 11, 7)), "note": "Settled; both heads agree"},
    )
    assert response.status_code == 302
    db.refresh(home["bystander"])
    assert home["bystander"].home_school_id == home["school"].id


def test_a_head_on_the_panel_reads_its_papers(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    # The head of another school in the area: they see a child on the panel's agenda only once
    # they sit on the panel, and never the area's other children.
    head = factories.user(db, Role.SCHOOL_LEAD, home["second"])
    db.commit()
    child, bystander = home["pupil"], home["bystander"]
    sign_in(client, head.email)
    assert client.get(f"/meetings/{home['meeting'].id}/papers").status_code == 403
    assert client.get(f"/pupils/{child.id}").status_code == 404
    add_member(db, Actor(user=home["users"][Role.LA_ADMIN], via="test"), home["panel"], head)
    db.commit()
    soup = page(client.get(f"/meetings/{home['meeting'].id}/papers"))
    assert "Case 1: Robin Homechild" in text(soup)
    assert client.get(f"/pupils/{child.id}").status_code == 200
    assert client.get(f"/pupils/{world['other']['pupil'].id}").status_code == 404
    assert bystander.home_school_id == home["second"].id  # their own pupil, seen before and after


def test_the_referring_school_withdraws_a_referral(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    referral = home["referral"]
    referral.referring_setting_id = home["school"].id
    db.commit()
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    soup = page(post(client, f"/referrals/{referral.id}", {"reason": ""}))
    assert errors(soup) == ["Say why the referral is withdrawn"]
    post(client, f"/referrals/{referral.id}", {"reason": "The family moved out of the area"})
    db.refresh(referral)
    assert referral.status == "withdrawn"


def test_an_off_site_direction_is_approved_with_the_notice_given(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    from ap_register.domain.vocab import Route

    home = world["home"]
    chair = home["users"][Role.PANEL_CHAIR]
    admin = Actor(user=home["users"][Role.LA_ADMIN], via="test")
    chair_row = add_member(db, admin, home["panel"], chair, chair=True)
    member_row = add_member(db, admin, home["panel"], home["users"][Role.PANEL_MEMBER])
    home["referral"].route = Route.OFF_SITE_DIRECTION
    db.commit()
    sign_in(client, chair.email)
    url = f"/meetings/{home['meeting'].id}/cases/{home['referral'].id}"
    assert "Date written notice was given to the parents" in text(page(client.get(url)))
    form = {
        "decision-outcome": "approve",
        "decision-reasons": "Behaviour support tried all term",
        f"vote-{chair_row.id}": "for",
        f"vote-{member_row.id}": "for",
        "decision-registration": "dual",
        **date_fields("decision-start_date", date(2025, 12, 1)),
        "decision-sessions": ["Mon AM", "Mon PM"],
        "decision-submit": "Record the decision",
    }
    soup = page(post(client, url, form))
    assert errors(soup) == ["Enter the date written notice was given to the parents"]
    assert db.scalars(select(Decision)).first() is None
    response = post(client, url, {**form, **date_fields("decision-notice_date", date(2025, 11, 25))})
    assert response.status_code == 302
    decision = db.scalars(select(Decision)).one()
    placement = db.get(Placement, decision.placement_id)
    assert placement is not None and placement.route == Route.OFF_SITE_DIRECTION
    assert placement.notice_date == date(2025, 11, 25)


def test_only_people_are_offered_as_panel_members(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    import pytest

    from ap_register.domain.errors import DomainError

    home = world["home"]
    panel = home["panel"]
    script = home["tokens"][Role.PANEL_MEMBER].token.client  # an API client in a panel member's role
    admin = home["users"][Role.LA_ADMIN]
    sign_in(client, admin.email)
    soup = page(client.get(f"/panels/{panel.id}"))
    offered = [o.get_text() for o in soup.select("select[name=member-user] option") if o.get("value")]
    assert f"{home['users'][Role.PANEL_MEMBER].name}, {home['la'].name}" in offered
    assert not [name for name in offered if "script" in name]
    assert str(script.id) not in [o.get("value") for o in soup.select("select[name=member-user] option")]

    # Sent anyway, it is refused and the panel is unchanged.
    soup = page(post(client, f"/panels/{panel.id}", {"member-user": str(script.id), "member-submit": "1"}))
    assert errors(soup)
    db.refresh(panel)
    assert script.id not in [m.user_id for m in panel.members]
    with pytest.raises(DomainError) as refused:
        add_member(db, Actor(user=admin, via="test"), panel, script)
    assert [e.message for e in refused.value.errors] == [
        f"{script.name} is an API client, not a person: only people sit on a panel"
    ]


def test_a_fair_access_referral_its_category_and_the_la_s_agreement(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    pupil = home["pupil"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    url = f"/pupils/{pupil.id}/referrals/new"
    base = {
        "move": "fair_access",
        "route": "fair_access",
        "proposed_setting": str(home["second"].id),
        "reason_codes": ["no_school_place"],
        "reasons": "No place found through in-year admissions",
        "missing_support_reason": "New to the area: no school has worked with the family yet",
        "parent_views": "Wants a local school",
        "pupil_views": "Happy to start",
        "best_interest": "A school place near home",
    }
    soup = page(post(client, url, base))
    assert errors(soup) == [
        "Choose which of the Admissions Code's categories the child is in (para 3.17): only those children may be "
        "placed through the fair access protocol"
    ]
    response = post(client, url, {**base, "fair_access_category": "g"})
    assert response.status_code == 302
    referral_url = response.headers["Location"]
    soup = page(client.get(referral_url))
    assert "Homeless" in text(soup)
    assert "Not recorded yet: until it is, the 20 school days count from the referral" in text(soup)
    agreement = f"{referral_url}/fair-access-agreement"
    soup = page(post(client, agreement, date_fields("agreed_on", date(2099, 1, 5))))
    assert errors(soup) == ["The date of the agreement must be today or in the past"]
    referral = db.scalars(select(Referral).order_by(Referral.id.desc())).first()
    assert referral is not None and referral.fair_access_agreed_on is None
    response = post(client, agreement, date_fields("agreed_on", referral.submitted_on))
    assert response.status_code == 302
    soup = page(client.get(referral_url))
    assert f"{referral.submitted_on:%-d %B %Y}" in text(soup) and "Record the local authority's agreement" not in text(
        soup
    )
    # A school lead can read the referral but not record the LA's agreement.
    post(client, "/sign-out", {})
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    assert client.get(agreement).status_code == 403
