"""An attack by one organisation on another's children, tried on every way in.

Two local authorities, East (855) and West (856), are loaded the way a real area is: through
the public import files below (settings, term dates, pupils, their admissions, placements,
attendance, outreach, results and destinations), then given people in every role, a panel, a
budget plan and API tokens. Two more setting users join East: the head of a second provider,
and the lead of a school that never had either of East's children.

Then each of them tries to change or reveal what is not theirs, by naming it:

- every person of each LA against the other LA, on every route: pages, forms and API writes
  naming the other's ids (the route walk of test_route_walk.py, run on these imported areas);
- every LA administrator with a file of every kind naming the other LA's UPNs and references;
- the two setting users against the children of their own LA they have nothing to do with, by
  UPN (an offer of outreach, a search) and by id (every page and form of the pupil).

Nothing of the target may change, nothing about its children may appear in an answer (beyond
the UPN the attacker typed), and nothing may answer a server error.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.accounts.api_tokens import create_token
from ap_register.domain.imports import ImportRefused, run_import
from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, OutreachEngagement, OutreachProposal, Placement, Pupil, Setting
from tests import factories
from tests.conftest import area_records
from tests.factories import SYSTEM, TERM_DATES
from tests.pages import page, post, sign_in, text
from tests.security.test_route_walk import fingerprint, secrets_of, shown, walk_against

AREAS = {"east": ("855", "East"), "west": ("856", "West")}


def area_files(code: str, name: str) -> dict[str, str]:
    """The public import files of one area, as its LA would send them."""
    upn_child, upn_bystander = upns(code)
    return {
        "settings": (
            "ref,name,kind,la_code,urn\n"
            f"{code}101,{name} High School,mainstream,{code},{code}101\n"
            f"{code}102,{name} Academy,mainstream,{code},{code}102\n"
            f"{code}103,{name} PRU,pru,{code},{code}103\n"
            f"{code}104,{name} Hillside Centre,pru,{code},{code}104\n"
            f"{code}105,{name} Primary,mainstream,{code},{code}105\n"
            f"FARM{code},{name} Farm Project,unregistered_ap,{code},\n"
        ),
        "term-dates": "la_code,start_date,end_date\n"
        + "".join(f"{code},{start.isoformat()},{end.isoformat()}\n" for start, end in TERM_DATES),
        "pupils": (
            "upn,first_name,last_name,date_of_birth,home_la_code,sen_status,primary_need\n"
            f"{upn_child},Robin,{name}child,2012-03-14,{code},E,SEMH\n"
            f"{upn_bystander},Casey,{name}bystander,2011-11-02,{code},N,\n"
        ),
        "movements": (
            "upn,date,kind,setting_ref\n"
            f"{upn_child},2025-09-03,admitted,{code}101\n"
            f"{upn_bystander},2025-09-03,admitted,{code}102\n"
        ),
        "placements": (
            "upn,setting_ref,route,registration,start_date,sessions,tier,notice_date,planned_end_date,reintegration_plan\n"
            f"{upn_child},{code}103,off_site_direction,dual,2025-10-06,1111111111,time_limited,2025-09-29,"
            "2026-02-13,Mornings back at school from week four\n"
        ),
        "attendance": f"upn,setting_ref,date,session,code\n{upn_child},{code}103,2025-10-06,AM,/\n",
        "outreach": (
            "provider_ref,school_ref,kind,date,minutes,staff,upn\n"
            f"{code}103,{code}101,coaching,2025-09-15,60,Outreach lead,{upn_child}\n"
        ),
        "ks4-results": f"upn,academic_year,english,maths\n{upn_bystander},2024/25,4,3\n",
        "destinations": f"upn,leaving_year,check_point,activity\n{upn_bystander},2024/25,october,education\n",
    }


def upns(code: str) -> tuple[str, str]:
    from ap_register.domain.upn import make_upn

    return make_upn(f"{code}300125001"), make_upn(f"{code}300125002")


@pytest.fixture()
def areas(db: Session) -> dict[str, Any]:
    """East and West, loaded through the imports, with their people and paperwork."""
    made: dict[str, Any] = {}
    for key, (code, name) in AREAS.items():
        la = factories.la(db, code, with_terms=False)
        for kind, content in area_files(code, name).items():
            run_import(db, SYSTEM, kind, io.BytesIO(content.encode()), la=la)

        def setting(ref: str, la_id: int = la.id) -> Setting:
            found = db.scalar(select(Setting).where(Setting.la_id == la_id, Setting.ref == ref))
            assert found is not None
            return found

        child, bystander = (db.scalar(select(Pupil).where(Pupil.upn == upn)) for upn in upns(code))
        placement = db.scalar(select(Placement).where(Placement.pupil_id == child.id))
        engagement = db.scalar(select(OutreachEngagement).where(OutreachEngagement.pupil_id == child.id))
        made[key] = area_records(
            db,
            key,
            la,
            setting(f"{code}101"),
            setting(f"{code}102"),
            setting(f"{code}103"),
            setting(f"FARM{code}"),
            child,
            bystander,
            placement,
            engagement,
        )
        made[key]["hillside"] = setting(f"{code}104")
        made[key]["primary"] = setting(f"{code}105")
    # Two more setting users in East, with no relationship with East's two children.
    east = made["east"]
    for role, where in ((Role.AP_HEAD, east["hillside"]), (Role.SCHOOL_LEAD, east["primary"])):
        person = factories.user(db, role, where)
        east["users"][f"second {role.value}"] = person
        east["tokens"][f"second {role.value}"] = create_token(
            db, SYSTEM, name=f"second {role.value} script", organisation=where, role=role, days=30
        )
    db.commit()
    return made


ATTACKERS = [(attacker, role) for attacker in AREAS for role in Role]


@pytest.mark.shared
@pytest.mark.parametrize(
    ("attacker", "role"), ATTACKERS, ids=[f"{attacker}-{role.value}" for attacker, role in ATTACKERS]
)
def test_every_person_of_one_la_against_the_other_on_every_route(
    app: Flask,
    client: Any,
    areas: dict,  # type: ignore[type-arg]
    db: Session,
    attacker: str,
    role: Role,
) -> None:
    target = "west" if attacker == "east" else "east"
    walk_against(app, client, areas, db, areas[attacker]["users"][role], areas[attacker]["tokens"][role], target)


def test_files_naming_the_other_las_children_and_settings_change_and_reveal_nothing(
    client: Any,
    areas: dict,  # type: ignore[type-arg]
    db: Session,
) -> None:
    for attacker, target in (("east", "west"), ("west", "east")):
        own_code = AREAS[attacker][0]
        their_code, their_name = AREAS[target]
        before = fingerprint(db, areas, target)
        # A refusal may repeat the UPN the file gave, never anything the file did not.
        secrets = [s for s in secrets_of(areas, target) if s not in upns(their_code)]
        sign_in(client, areas[attacker]["users"][Role.LA_ADMIN].email)
        # Every kind of file the other LA would send, sent by this LA: as it is, and with this
        # LA's own code put where the file names an LA (the way a takeover is attempted).
        for kind, content in area_files(their_code, their_name).items():
            for attempt in (content, content.replace(f",{their_code},", f",{own_code},")):
                response = post(
                    client,
                    "/admin/imports",
                    {"kind": kind, "file": (io.BytesIO(attempt.encode()), f"{kind}.csv")},
                    content_type="multipart/form-data",
                )
                assert response.status_code == 200, (kind, response.status_code)
                body = text(page(response))
                for secret in secrets:
                    assert secret not in body, f"a {kind} file from {attacker} revealed {secret}"
        assert fingerprint(db, areas, target) == before, f"{attacker}'s files changed {target}'s records"
        # Their children are still theirs, with their names as they were.
        for upn in upns(their_code):
            child = db.scalar(select(Pupil).where(Pupil.upn == upn))
            assert child is not None and child.home_la_id == areas[target]["la"].id
            assert child.last_name.startswith(their_name)


def test_the_operator_s_import_for_one_la_refuses_the_other_s_children(areas: dict, db: Session) -> None:  # type: ignore[type-arg]
    """The CLI's operator importing for East (--la 855) a file of West's children, with East's
    code: refused, as a transfer is the only way a child moves between LAs."""
    west_file = area_files(*AREAS["west"])["pupils"].replace(",856,", ",855,")
    with pytest.raises(ImportRefused) as refused:
        run_import(db, SYSTEM, "pupils", io.BytesIO(west_file.encode()), la=areas["east"]["la"])
    assert {e.column for e in refused.value.report.errors} == {"upn"}
    assert all(
        c.home_la_id == areas["west"]["la"].id for c in db.scalars(select(Pupil).where(Pupil.upn.in_(upns("856"))))
    )


@pytest.mark.parametrize("who", ["second ap_head", "second school_lead"])
def test_a_setting_user_cannot_reach_children_of_their_own_la_they_do_not_work_with(
    client: Any,
    areas: dict,  # type: ignore[type-arg]
    db: Session,
    who: str,
) -> None:
    east = areas["east"]
    user = east["users"][who]
    children = [east["pupil"], east["bystander"]]
    sign_in(client, user.email)
    count_before = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.user_id == user.id))
    for child in children:
        # By UPN: a search, and (for a provider) an offer of outreach to the child's school.
        assert child.last_name not in shown(client.get(f"/pupils?q={child.upn}").get_data(as_text=True))
        if who == "second ap_head":
            answer = post(
                client,
                "/outreach/new",
                {
                    "provider": str(east["hillside"].id),
                    "school": str(child.home_school_id),
                    "kind": "one_to_one",
                    "upn": child.upn,
                    "started_on": ["3", "11", "2025"],
                },
                follow_redirects=True,
            )
            assert answer.status_code == 200 and child.last_name not in answer.get_data(as_text=True)
        # By id: the pupil's page, their placements, a new placement, a movement, a referral.
        for url in (
            f"/pupils/{child.id}",
            f"/pupils/{child.id}/placements/new",
            f"/pupils/{child.id}/movements/new",
            f"/pupils/{child.id}/referrals/new",
        ):
            assert client.get(url).status_code == 404, url
            answer = post(
                client,
                url,
                {
                    "kind": "admitted",
                    "setting": str(user.setting_id),
                    "route": "school_arranged",
                    "date": ["3", "11", "2025"],
                    "reason": "Taken",
                },
            )
            assert answer.status_code in (404, 405), (url, answer.status_code)
    # Nothing was linked to either child: no engagement for the provider, no roll change, no view.
    assert (
        db.scalar(
            select(func.count())
            .select_from(OutreachEngagement)
            .where(OutreachEngagement.provider_id == user.setting_id)
        )
        == 0
    )
    db.expire_all()
    assert [db.get(Pupil, c.id).home_school_id for c in children] == [east["school"].id, east["second"].id]
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.user_id == user.id, AuditEvent.pupil_id.in_([c.id for c in children]))
        )
        == 0
    )
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.user_id == user.id)) >= count_before
    if who == "second ap_head":
        # The offers wait for the schools, linking no child.
        offers = db.scalars(select(OutreachProposal).where(OutreachProposal.provider_id == user.setting_id)).all()
        assert {o.status for o in offers} == {"waiting"} and all(o.engagement_id is None for o in offers)


def test_the_areas_were_loaded_by_their_files(areas: dict, db: Session) -> None:  # type: ignore[type-arg]
    """The attacks above run on what the imports made, not on hand-made records."""
    for key, (code, name) in AREAS.items():
        area = areas[key]
        assert area["pupil"].upn == upns(code)[0] and area["pupil"].home_school_id == area["school"].id
        assert area["placement"].start_date == date(2025, 10, 6)
        assert area["engagement"].minutes == 60
        assert area["farm"].name == f"{name} Farm Project"
