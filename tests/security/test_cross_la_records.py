"""One LA can neither change nor learn of another LA's children through a file, and a child's
record moves between LAs only by a transfer the holding LA releases.

The attack this guards against: an administrator of one LA uploaded a pupils file holding the
UPN of another LA's child with their own LA's code; the import said "Updated 1", overwrote the
child's names, took the child into their LA and out of the other's.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.imports import ImportRefused, run_import
from ap_register.domain.upn import make_upn
from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, Notification, Placement, Pupil, PupilTransfer
from ap_register.placements.pupils import NOT_YOURS
from tests.factories import SYSTEM
from tests.pages import date_fields, errors, page, post, sign_in, text

PUPILS_HEADER = "upn,first_name,last_name,date_of_birth,home_la_code\n"
# A UPN nobody holds, of the same shape as the world's children's.
NOBODYS = make_upn("856999925998")


def upload(client: Any, kind: str, content: str) -> Any:
    return post(
        client,
        "/admin/imports",
        {"kind": kind, "file": (io.BytesIO(content.encode()), f"{kind}.csv")},
        content_type="multipart/form-data",
    )


def problems(soup: Any) -> list[list[str]]:
    return [[td.get_text(strip=True) for td in tr.select("td")] for tr in soup.select("tbody tr")]


def snapshot(db: Session, pupil: Pupil) -> tuple[Any, ...]:
    db.expire_all()
    found = db.get(Pupil, pupil.id)
    assert found is not None
    return (found.first_name, found.last_name, found.date_of_birth, found.home_la_id, found.home_school_id)


def test_a_pupils_file_cannot_take_over_another_las_child(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home, other = world["home"], world["other"]
    child = home["pupil"]
    before = snapshot(db, child)
    sign_in(client, other["users"][Role.LA_ADMIN].email)
    content = PUPILS_HEADER + f"{child.upn},Taken,Over,2012-03-14,{other['la'].code}\n"
    soup = page(upload(client, "pupils", content))
    assert soup.h1.get_text(strip=True) == "The file was not imported"
    assert problems(soup) == [["2", "upn", NOT_YOURS]]
    shown = text(soup)
    for secret in (child.first_name, child.last_name, home["la"].name, home["school"].name):
        assert secret not in shown
    assert "updated" not in shown.lower()
    assert snapshot(db, child) == before
    # The child is still the home LA's, with their placements, and not the other's.
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    assert child.last_name in text(page(client.get(f"/pupils/{child.id}")))
    # The attempt is in the holding LA's audit trail, against the child.
    attempt = db.scalar(
        select(AuditEvent).where(AuditEvent.pupil_id == child.id, AuditEvent.action == "refused_import")
    )
    assert attempt is not None and attempt.detail["by_la"] == other["la"].code
    # ... and its administrators are told, in their inbox.
    told = db.scalar(
        select(Notification).where(
            Notification.user_id == home["users"][Role.LA_ADMIN].id, Notification.kind == "import_named_your_pupils"
        )
    )
    assert told is not None and child.upn in told.body and other["la"].name in told.subject


def test_the_refusal_is_the_same_whoever_holds_the_upn(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    """A file cannot be used to learn which UPNs another LA holds: the row of a held UPN and
    the row naming the same LA's (refused) code read alike, and neither names the holder."""
    home, other = world["home"], world["other"]
    sign_in(client, other["users"][Role.LA_ADMIN].email)
    held = problems(page(upload(client, "pupils", PUPILS_HEADER + f"{home['pupil'].upn},A,B,2012-03-14,856\n")))
    also_held = problems(
        page(upload(client, "pupils", PUPILS_HEADER + f"{home['bystander'].upn},C,D,2011-01-01,856\n"))
    )
    assert held == also_held == [["2", "upn", NOT_YOURS]]
    # Every other kind of file answers a held UPN exactly as a UPN nobody holds.
    for kind, row in (
        ("placements", "{upn},{pru},off_site_direction,dual,2025-10-06,1111111111"),
        ("movements", "{upn},2025-10-06,admitted,{pru}"),
        ("attendance", "{upn},{pru},2025-10-06,AM,/"),
        ("ks4-results", "{upn},2025/26,4,4"),
        ("destinations", "{upn},2025/26,october,education"),
    ):
        header = {
            "placements": "upn,setting_ref,route,registration,start_date,sessions\n",
            "movements": "upn,date,kind,setting_ref\n",
            "attendance": "upn,setting_ref,date,session,code\n",
            "ks4-results": "upn,academic_year,english,maths\n",
            "destinations": "upn,leaving_year,check_point,activity\n",
        }[kind]
        answers = []
        for upn in (home["pupil"].upn, NOBODYS):
            soup = page(upload(client, kind, header + row.format(upn=upn, pru=other["pru"].ref) + "\n"))
            answers.append([[cell.replace(upn, "UPN") for cell in line] for line in problems(soup)])
        assert answers[0] == answers[1], kind
        assert answers[0][0][1] == "upn", (kind, answers[0])


def test_an_operators_import_for_an_la_does_not_move_another_las_child(world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home, other = world["home"], world["other"]
    child = home["pupil"]
    before = snapshot(db, child)
    content = PUPILS_HEADER + f"{child.upn},Taken,Over,2012-03-14,856\n"
    with pytest.raises(ImportRefused) as refused:
        run_import(db, SYSTEM, "pupils", io.BytesIO(content.encode()), la=other["la"])
    assert [(e.line, e.column) for e in refused.value.report.errors] == [(2, "upn")]
    assert "transfer" in refused.value.report.errors[0].message
    # Without --la the row names its LA: still not a way to move a child.
    with pytest.raises(ImportRefused):
        run_import(db, SYSTEM, "pupils", io.BytesIO(content.encode()))
    assert snapshot(db, child) == before


def test_an_update_keeps_every_old_and_new_value_in_the_audit_trail(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    child = home["pupil"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    content = PUPILS_HEADER + f"{child.upn},Robyn,{child.last_name},2012-03-15,855\n"
    soup = page(upload(client, "pupils", content))
    assert soup.h1.get_text(strip=True) == "File imported"
    event = db.scalar(select(AuditEvent).where(AuditEvent.pupil_id == child.id, AuditEvent.action == "update"))
    assert event is not None
    assert event.detail["changes"] == {
        "first_name": {"old": "Robin", "new": "Robyn"},
        "date_of_birth": {"old": "2012-03-14", "new": "2012-03-15"},
    }


def test_a_placement_file_cannot_name_another_la_as_commissioner(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home, other = world["home"], world["other"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    content = (
        "upn,setting_ref,route,registration,start_date,sessions,tier,commissioner_ref\n"
        f"{home['bystander'].upn},{home['pru'].ref},la_other,dual,2025-11-03,1111111111,time_limited,{other['la'].code}\n"
    )
    soup = page(upload(client, "placements", content))
    assert soup.h1.get_text(strip=True) == "The file was not imported"
    assert problems(soup)[0][2] == "A placement is commissioned by the pupil's own local authority"
    assert db.scalar(select(Placement).where(Placement.pupil_id == home["bystander"].id)) is None


# --- the transfer: asked for by the receiving LA, released by the holding LA ------------------


def ask(client: Any, upn: str, born: date = date(2012, 3, 14)) -> Any:
    return post(
        client,
        "/admin/transfers",
        {"upn": upn, **date_fields("date_of_birth", born), "reason": "The family moved to our area on 3 November"},
        follow_redirects=True,
    )


def test_a_request_reads_the_same_whether_anyone_holds_the_upn(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home, other = world["home"], world["other"]
    sign_in(client, other["users"][Role.LA_ADMIN].email)
    answers = []
    for upn in (home["pupil"].upn, NOBODYS):
        soup = page(ask(client, upn))
        listed = [r for r in problems(soup) if r and r[0] == upn]
        answers.append((soup.select_one(".govuk-notification-banner").get_text(" ", strip=True), listed[0][1:]))
        assert home["pupil"].last_name not in text(soup)
    assert answers[0][0] == answers[1][0]
    assert answers[0][1][1] == answers[1][1][1] == "Waiting for the holding LA"
    # A request for a child they already hold, or without a check letter, is simply refused.
    assert errors(page(ask(client, other["pupil"].upn))) == [
        "This child is already one of your local authority's pupils"
    ]


def test_the_holding_la_releases_and_the_child_moves(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home, other = world["home"], world["other"]
    child = home["pupil"]
    sign_in(client, other["users"][Role.LA_ADMIN].email)
    ask(client, child.upn)
    transfer = db.scalar(select(PupilTransfer).where(PupilTransfer.upn == child.upn))
    assert transfer is not None
    # The receiving LA's page shows nothing of the child before the release.
    shown = text(page(client.get(f"/admin/transfers/{transfer.id}")))
    assert child.last_name not in shown and home["la"].name not in shown
    assert client.get(f"/pupils/{child.id}").status_code == 404
    # The holding LA's administrators are told, and decide.
    admin = home["users"][Role.LA_ADMIN]
    assert db.scalar(
        select(Notification).where(Notification.user_id == admin.id, Notification.kind == "transfer_requested")
    )
    sign_in(client, admin.email)
    soup = page(client.get(f"/admin/transfers/{transfer.id}"))
    assert child.full_name in text(soup) and "Does the date of birth match? Yes" in text(soup)
    page(
        post(
            client,
            f"/admin/transfers/{transfer.id}",
            {"note": "", "release": "Release the record"},
            follow_redirects=True,
        )
    )
    db.expire_all()
    assert db.get(Pupil, child.id).home_la_id == other["la"].id
    assert client.get(f"/pupils/{child.id}").status_code == 404
    # What they released, they no longer see, not even on the request's page.
    assert child.last_name not in text(page(client.get(f"/admin/transfers/{transfer.id}")))
    sign_in(client, other["users"][Role.LA_ADMIN].email)
    assert child.last_name in text(page(client.get(f"/pupils/{child.id}")))
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "release", AuditEvent.pupil_id == child.id))


def test_a_decline_keeps_the_child_and_only_the_holder_decides(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home, other = world["home"], world["other"]
    child = home["pupil"]
    sign_in(client, other["users"][Role.LA_ADMIN].email)
    ask(client, child.upn)
    transfer = db.scalar(select(PupilTransfer).where(PupilTransfer.upn == child.upn))
    assert transfer is not None
    # The asking LA cannot release a record to itself.
    post(client, f"/admin/transfers/{transfer.id}", {"note": "", "release": "Release the record"})
    db.expire_all()
    assert db.get(Pupil, child.id).home_la_id == home["la"].id
    # Nor can anyone of the holding LA but its administrators.
    sign_in(client, home["users"][Role.COMMISSIONER].email)
    assert client.get(f"/admin/transfers/{transfer.id}").status_code == 403
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    soup = page(post(client, f"/admin/transfers/{transfer.id}", {"note": "", "decline": "Decline"}))
    assert errors(soup) == ["Say why, so that the other local authority knows what to do next"]
    post(client, f"/admin/transfers/{transfer.id}", {"note": "The child still lives here", "decline": "Decline"})
    db.expire_all()
    assert db.get(Pupil, child.id).home_la_id == home["la"].id
    assert db.get(PupilTransfer, transfer.id).status == "declined"


def test_after_a_release_the_la_that_let_the_child_go_sees_and_changes_nothing_of_them(
    client: Any,
    world: dict,  # type: ignore[type-arg]
    db: Session,
) -> None:
    """The child's outreach, their case on the old LA's panel and its papers go with the record:
    the LA that released it (and a school's lead sitting on its panel) no longer reach them."""
    from ap_register.models import PanelMember, Referral
    from ap_register.placements.transfers import release, request_transfer
    from tests import factories
    from tests.factories import SYSTEM

    home, other = world["home"], world["other"]
    child = home["pupil"]
    # A school's lead of another school sits on the home panel, and reads its papers.
    reader = factories.user(db, Role.SCHOOL_LEAD, home["second"])
    db.add(PanelMember(panel_id=home["panel"].id, user_id=reader.id, active=True))
    db.commit()
    transfer = request_transfer(
        db,
        SYSTEM,
        other["la"],
        upn=child.upn,
        date_of_birth=child.date_of_birth,
        reason="Moved",
        today=date(2025, 11, 10),
    )
    release(db, SYSTEM, transfer)
    db.commit()
    assert db.get(Referral, home["referral"].id).status == "withdrawn"
    engagement, meeting = home["engagement"], home["meeting"]
    for role in (Role.LA_ADMIN, Role.COMMISSIONER, Role.PANEL_CHAIR, Role.PANEL_MEMBER):
        sign_in(client, home["users"][role].email)
        for url in ("/outreach/", f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/papers"):
            answer = client.get(url)
            assert child.last_name not in answer.get_data(as_text=True), (role, url)
        assert child.upn not in client.get(f"/meetings/{meeting.id}/export.csv").get_data(as_text=True)
        assert client.get(f"/outreach/{engagement.id}").status_code == 404
        logged = post(
            client,
            f"/outreach/{engagement.id}",
            {
                "session-held_on": ["5", "11", "2025"],
                "session-minutes": "30",
                "session-staff": "x",
                "session-submit": "y",
            },
        )
        assert logged.status_code == 404, role
    sign_in(client, reader.email)
    assert client.get(f"/pupils/{child.id}").status_code == 404  # (the child's own school still sees them)
    assert child.last_name not in client.get(f"/meetings/{meeting.id}/papers").get_data(as_text=True)
    # The provider that worked with the child keeps what it saw; the new LA sees it all.
    sign_in(client, other["users"][Role.LA_ADMIN].email)
    assert client.get(f"/pupils/{child.id}").status_code == 200
