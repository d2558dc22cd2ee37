"""The JSON API as a script uses it: a token, a placement, a week of registers, the coverage read
back; the same calls from another organisation's token find nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.accounts.api_tokens import create_token
from ap_register.domain.vocab import Role
from ap_register.extensions import db as flask_db
from ap_register.models import ApiToken, AttendanceMark, AuditEvent, Placement
from ap_register.models.base import utcnow
from tests import factories
from tests.conftest import build_app, make_database
from tests.factories import SYSTEM
from tests.pages import csrf_token, sign_in

WEEK = "2025-12-01"  # a Monday in the tests' autumn term
DAYS = ["2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04", "2025-12-05"]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_script_places_a_pupil_records_a_week_and_reads_the_coverage(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    token = bearer(home["tokens"][Role.LA_ADMIN].secret)
    pupil_id, pru_id = home["bystander"].id, home["pru"].id

    # Find the pupil and the provider as a script would.
    found = client.get(f"/api/v1/pupils?q={home['bystander'].upn}", headers=token).get_json()
    assert [p["id"] for p in found["items"]] == [pupil_id]
    settings = client.get("/api/v1/settings?kind=pru", headers=token).get_json()
    assert [s["id"] for s in settings["items"]] == [pru_id]

    # Four days a week at the PRU, dual registered.
    created = client.post(
        "/api/v1/placements",
        headers=token,
        json={
            "pupil_id": pupil_id,
            "setting_id": pru_id,
            "route": "la_other",
            "registration": "dual",
            "tier": "time_limited",
            "sessions": "1111111100",
            "start_date": WEEK,
            "planned_end_date": "2026-02-13",
            "reason": "Health needs",
            "reintegration_plan": "Back to school part-time once the treatment allows",
        },
    )
    assert created.status_code == 201, created.get_json()
    placement = created.get_json()["placement"]
    assert (placement["status"], placement["home_school_code"], placement["setting_ref"]) == (
        "active",
        "D",
        home["pru"].ref,
    )
    assert db.get(Placement, placement["id"]) is not None

    # The week's registers at the PRU: present every session, but Wednesday afternoon absent.
    marks = [
        {
            "pupil_id": pupil_id,
            "setting_id": pru_id,
            "date": day,
            "session": half,
            "code": "/" if half == "AM" else "\\",
        }
        for day in DAYS[:4]
        for half in ("AM", "PM")
    ]
    marks[5]["code"] = "O"
    written = client.post("/api/v1/attendance", headers=token, json={"marks": marks})
    assert written.status_code == 200, written.get_json()
    assert written.get_json() == {"received": 8, "written": 8}
    # Sent again, nothing changes: the marks are idempotent.
    assert client.post("/api/v1/attendance", headers=token, json={"marks": marks}).get_json()["written"] == 0
    read = client.get(f"/api/v1/attendance?pupil_id={pupil_id}&date_from={WEEK}", headers=token).get_json()
    assert [(m["date"], m["session"], m["code"]) for m in read["items"]][4:6] == [
        ("2025-12-03", "AM", "/"),
        ("2025-12-03", "PM", "O"),
    ]

    coverage = client.get(f"/api/v1/pupils/{pupil_id}/coverage?week={WEEK}", headers=token).get_json()
    assert coverage["in_scope"] is True and coverage["required_sessions"] == 10
    # Eight sessions at the PRU, and nobody has recorded Friday: the script sees the gap.
    assert coverage["pupil"]["planned_sessions"] == 8
    assert coverage["pupil"]["gaps"] == ["Fri AM", "Fri PM"]
    assert coverage["pupil"]["flags"] == ["below_full_time"]

    # Another LA's token: the pupil, the placement and the provider do not exist for it.
    foreign = bearer(other["tokens"][Role.LA_ADMIN].secret)
    before = db.scalar(select(func.count()).select_from(AttendanceMark))
    assert client.get(f"/api/v1/pupils/{pupil_id}", headers=foreign).status_code == 404
    assert client.get(f"/api/v1/pupils/{pupil_id}/coverage?week={WEEK}", headers=foreign).status_code == 404
    assert client.get(f"/api/v1/placements/{placement['id']}", headers=foreign).status_code == 404
    refused = client.post(
        "/api/v1/placements",
        headers=foreign,
        json={
            "pupil_id": pupil_id,
            "setting_id": pru_id,
            "route": "la_other",
            "registration": "dual",
            "tier": "time_limited",
            "sessions": "0000000011",
            "start_date": WEEK,
        },
    )
    assert refused.status_code == 404
    assert client.post("/api/v1/attendance", headers=foreign, json={"marks": marks}).status_code == 404
    assert (
        client.post(
            f"/api/v1/placements/{placement['id']}/end", headers=foreign, json={"end_date": WEEK, "destination": "neet"}
        ).status_code
        == 404
    )
    assert db.scalar(select(func.count()).select_from(AttendanceMark)) == before
    assert client.get(f"/api/v1/pupils?q={home['bystander'].upn}", headers=foreign).get_json()["total"] == 0
    # So does a school in the same LA that has nothing to do with the pupil.
    school = bearer(home["tokens"][Role.SCHOOL_LEAD].secret)
    assert client.get(f"/api/v1/pupils/{pupil_id}", headers=school).status_code == 404

    # The script's views and changes are audited as the token's client.
    client_id = home["tokens"][Role.LA_ADMIN].token.client_id
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.user_id == client_id)))
    assert {"search", "create", "record_attendance", "view"} <= actions


def test_a_placement_is_reviewed_and_ended_through_the_api(client: Any, db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    token = bearer(home["tokens"][Role.AP_HEAD].secret)  # the PRU's head: a party to the placement
    placement_id = home["placement"].id
    reviewed = client.post(
        f"/api/v1/placements/{placement_id}/reviews",
        headers=token,
        json={"review_date": "2025-11-17", "notes": "Settled; attending well", "next_review_date": "2026-01-12"},
    )
    assert reviewed.status_code == 201, reviewed.get_json()
    assert reviewed.get_json()["next_review_date"] == "2026-01-12"
    ended = client.post(
        f"/api/v1/placements/{placement_id}/end",
        headers=token,
        json={"end_date": "2025-12-12", "destination": "returned_home_school"},
    )
    assert ended.status_code == 200
    assert (ended.get_json()["end_date"], ended.get_json()["destination"]) == ("2025-12-12", "returned_home_school")
    again = client.post(
        f"/api/v1/placements/{placement_id}/end", headers=token, json={"end_date": "2025-12-19", "destination": "neet"}
    )
    assert again.status_code == 422
    assert again.get_json()["error"]["errors"] == [
        {"field": "end_date", "message": "This placement already ended on 12 December 2025"}
    ]
    ledger = client.get(f"/api/v1/movements?pupil_id={home['pupil'].id}", headers=token).get_json()
    assert [m["kind"] for m in ledger["items"]][-2:] == ["placement_reviewed", "placement_ended"]
    # A panel member's token may read but not change a placement.
    member = bearer(home["tokens"][Role.PANEL_MEMBER].secret)
    assert (
        client.post(
            f"/api/v1/placements/{placement_id}/reviews",
            headers=member,
            json={"review_date": "2025-11-18", "notes": "Not theirs to record"},
        ).status_code
        == 403
    )


def test_bad_input_gets_a_json_error_and_changes_nothing(client: Any, db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    token = bearer(home["tokens"][Role.LA_ADMIN].secret)
    missing = client.get("/api/v1/pupils")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.get_json()["error"]["message"] == "Send a token: Authorization: Bearer <token>"
    assert client.get("/api/v1/pupils", headers=bearer("apr_not-a-real-token")).status_code == 401

    malformed = client.post(
        "/api/v1/placements", headers={**token, "Content-Type": "application/json"}, data="{not json"
    )
    assert (malformed.status_code, malformed.get_json()["error"]["message"]) == (400, "The body is not valid JSON")

    wrong = client.post(
        "/api/v1/placements",
        headers=token,
        json={"pupil_id": home["bystander"].id, "setting_id": home["pru"].id, "route": "teleport", "sessions": "11"},
    )
    assert wrong.status_code == 422
    fields = {e["field"] for e in wrong.get_json()["error"]["errors"]}
    assert {"route", "sessions", "registration", "start_date"} <= fields

    # One bad mark among good ones: none is written, and the bad one is named by its place.
    before = db.scalar(select(func.count()).select_from(AttendanceMark))
    marks = [
        {
            "pupil_id": home["pupil"].id,
            "setting_id": home["pru"].id,
            "date": "2025-11-17",
            "session": "AM",
            "code": "/",
        },
        {
            "pupil_id": home["pupil"].id,
            "setting_id": home["pru"].id,
            "date": "2025-11-17",
            "session": "PM",
            "code": "9",
        },
    ]
    refused = client.post("/api/v1/attendance", headers=token, json={"marks": marks})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["errors"] == [
        {"field": "marks.1", "message": "'9' is not a national attendance code"}
    ]
    assert db.scalar(select(func.count()).select_from(AttendanceMark)) == before
    extra = client.post("/api/v1/attendance", headers=token, json={"marks": marks[:1], "admin": True})
    assert extra.status_code == 422 and extra.get_json()["error"]["errors"][0]["field"] == "admin"
    huge = client.get("/api/v1/pupils/99999999999", headers=token)
    assert huge.status_code == 404
    assert client.get("/api/v1/pupils?per_page=1000", headers=token).status_code == 422


def test_lists_are_paginated(client: Any, world: dict[str, Any]) -> None:
    token = bearer(world["home"]["tokens"][Role.LA_ADMIN].secret)
    first = client.get("/api/v1/settings?per_page=2", headers=token).get_json()
    second = client.get("/api/v1/settings?per_page=2&page=2", headers=token).get_json()
    assert (first["total"], first["pages"], len(first["items"])) == (4, 2, 2)
    assert {s["id"] for s in first["items"]}.isdisjoint({s["id"] for s in second["items"]})
    assert client.get("/api/v1/settings?per_page=2&page=3", headers=token).get_json()["items"] == []


def test_an_la_admin_creates_and_revokes_a_token(client: Any, db: Session, world: dict[str, Any]) -> None:
    home = world["home"]
    admin = home["users"][Role.LA_ADMIN]
    assert sign_in(client, admin.email).status_code == 302
    page = client.get("/admin/api-tokens/new")
    assert page.status_code == 200
    refused = client.post(
        "/admin/api-tokens/new",
        data={"csrf_token": csrf_token(client), "name": "", "role": "ap_head", "organisation": "", "days": "400"},
    )
    assert "There is a problem" in refused.get_data(as_text=True)
    assert "Enter a number of days from 1 to 366" in refused.get_data(as_text=True)
    made = client.post(
        "/admin/api-tokens/new",
        data={
            "csrf_token": csrf_token(client),
            "name": "PRU MIS nightly export",
            "role": "ap_head",
            "organisation": f"setting:{home['pru'].id}",
            "days": "30",
        },
    )
    html = made.get_data(as_text=True)
    assert "Token created" in html
    secret = html.split('<code class="app-token">')[1].split("</code>")[0]
    assert secret.startswith("apr_") and len(secret) > 40
    stored = db.scalars(select(ApiToken)).all()
    assert all(secret not in (t.token_hash, t.prefix) for t in stored)  # only its hash is kept

    headers = bearer(secret)
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert (me["role"], me["organisation"]) == ("ap_head", home["pru"].name)
    listing = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "PRU MIS nightly export" in listing and secret not in listing

    token = db.scalar(select(ApiToken).where(ApiToken.prefix == secret[:10]))
    assert token is not None and token.last_used_at is not None
    client.post(f"/admin/api-tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client)})
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # The client account behind a token cannot sign in to the pages.
    client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    assert sign_in(client, token.client.email).status_code == 200


def test_an_expired_token_is_refused(client: Any, db: Session, world: dict[str, Any]) -> None:
    made = world["home"]["tokens"][Role.COMMISSIONER]
    assert client.get("/api/v1/me", headers=bearer(made.secret)).status_code == 200
    token = db.get(ApiToken, made.token.id)
    assert token is not None
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.flush()
    answer = client.get("/api/v1/me", headers=bearer(made.secret))
    assert (answer.status_code, answer.get_json()["error"]["message"]) == (
        401,
        "The token is unknown, expired or revoked",
    )


def test_each_token_is_rate_limited(db_kind: str, tmp_path: Path) -> None:
    url, drop = make_database(db_kind, tmp_path)  # its own database: the token is committed
    limited = build_app(url, API_RATE_LIMIT="3 per minute")
    try:
        with limited.app_context():
            la = factories.la(flask_db.session, "855")
            made = create_token(
                flask_db.session, SYSTEM, name="Busy script", organisation=la, role=Role.LA_ADMIN, days=1
            )
            flask_db.session.commit()
        client = limited.test_client()
        answers = [client.get("/api/v1/me", headers=bearer(made.secret)).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        refused = client.get("/api/v1/me", headers=bearer(made.secret)).get_json()
        assert refused["error"]["status"] == 429
    finally:
        with limited.app_context():
            flask_db.engine.dispose()
        drop()


def test_every_spelling_of_a_token_counts_against_one_limit(db_kind: str, tmp_path: Path) -> None:
    url, drop = make_database(db_kind, tmp_path)  # its own database: the token is committed
    limited = build_app(url, API_RATE_LIMIT="3 per minute")
    try:
        with limited.app_context():
            la = factories.la(flask_db.session, "855")
            made = create_token(
                flask_db.session, SYSTEM, name="Busy script", organisation=la, role=Role.LA_ADMIN, days=1
            )
            other = create_token(
                flask_db.session, SYSTEM, name="Quiet script", organisation=la, role=Role.LA_ADMIN, days=1
            )
            flask_db.session.commit()
        client = limited.test_client()
        spellings = [
            f"Bearer {made.secret}",
            f"bearer {made.secret}",
            f"Bearer   {made.secret}  ",
            f"BEARER \t{made.secret}",
        ]
        answers = [client.get("/api/v1/me", headers={"Authorization": s}).status_code for s in spellings]
        assert answers == [200, 200, 200, 429]
        # Another token is counted on its own, and unknown tokens by the caller's address.
        assert client.get("/api/v1/me", headers=bearer(other.secret)).status_code == 200
        unknown = [client.get("/api/v1/me", headers=bearer(f"apr_guess{n}")).status_code for n in range(4)]
        assert unknown == [401, 401, 401, 429]
    finally:
        with limited.app_context():
            flask_db.engine.dispose()
        drop()


def test_a_register_that_is_not_the_token_s_to_take_is_forbidden(client: Any, world: dict[str, Any]) -> None:
    """An AP head's script marking a school's register is refused whole with 403, as the page
    refuses the register (not 422 with a problem of no field)."""
    home = world["home"]
    mark = {"pupil_id": home["pupil"].id, "setting_id": home["school"].id, "date": "2025-11-17", "session": "AM"}
    token = bearer(home["tokens"][Role.AP_HEAD].secret)
    response = client.post("/api/v1/attendance", headers=token, json={"marks": [{**mark, "code": "/"}]})
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["message"] == "You can take the register of your own setting only"


def test_the_directing_school_records_the_notice_through_the_api(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    home, other = world["home"], world["other"]
    placement_id = home["placement"].id  # an off-site direction from Home High School to the PRU
    body = {
        "address": "Home PRU, 1 Mill Lane, Leicester",
        "report_to": "Mr B Lee, deputy head",
        "session_times": "9am to 12pm and 1pm to 3pm",
        "reasons": "To re-engage with learning and return by February",
    }
    # The receiving setting reads the notice but does not write it; another LA finds nothing.
    refused = client.post(
        f"/api/v1/placements/{placement_id}/notice", headers=bearer(home["tokens"][Role.AP_HEAD].secret), json=body
    )
    assert refused.status_code == 403
    hidden = client.post(
        f"/api/v1/placements/{placement_id}/notice", headers=bearer(other["tokens"][Role.LA_ADMIN].secret), json=body
    )
    assert hidden.status_code == 404
    # A line break in a one-line answer is refused as on the page.
    token = bearer(home["tokens"][Role.SCHOOL_LEAD].secret)
    broken = client.post(
        f"/api/v1/placements/{placement_id}/notice", headers=token, json={**body, "report_to": "Mr Lee\ndeputy"}
    )
    assert broken.status_code == 422
    done = client.post(f"/api/v1/placements/{placement_id}/notice", headers=token, json=body)
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["notice_missing"], db.get(Placement, placement_id).notice_report_to) == (  # type: ignore[union-attr]
        [],
        "Mr B Lee, deputy head",
    )
    # A blank part is recorded as not yet known, and said so.
    partial = client.post(f"/api/v1/placements/{placement_id}/notice", headers=token, json={**body, "reasons": None})
    assert partial.get_json()["notice_missing"] == ["the reasons for the direction and what it is meant to achieve"]


def test_the_people_around_a_pupil_through_the_api(client: Any, db: Session, world: dict[str, Any]) -> None:
    home, other = world["home"], world["other"]
    pupil, dad = home["pupil"], home["contact"]
    school = bearer(home["tokens"][Role.SCHOOL_LEAD].secret)
    added = client.post(
        "/api/v1/contacts",
        headers=school,
        json={"pupil_id": pupil.id, "role": "parent_carer", "name": "Jo Homechild", "relation": "mother",
              "lives_with": True, "phone": "07700 900123", "contact_by": "phone"},
    )  # fmt: skip
    assert added.status_code == 201, added.get_json()
    assert (added.get_json()["name"], added.get_json()["lives_with"]) == ("Jo Homechild", True)
    listed = client.get(f"/api/v1/pupils/{pupil.id}/contacts", headers=school).get_json()["items"]
    # The school reads the restriction on the father, not his number.
    shown = {c["name"]: (c["phone"], c["withheld"], c["restriction"]) for c in listed}
    assert shown == {
        dad.name: (None, True, "No contact: a court order"),
        "Jo Homechild": ("07700 900123", False, None),
    }
    officer = bearer(home["tokens"][Role.ATTENDANCE_OFFICER].secret)
    assert {
        c["name"]: c["phone"]
        for c in client.get(f"/api/v1/pupils/{pupil.id}/contacts", headers=officer).get_json()["items"]
    }[dad.name] == dad.phone
    # The same refusals as the page, as JSON; and nothing kept.
    refused = client.post(
        "/api/v1/contacts",
        headers=school,
        json={
            "pupil_id": pupil.id,
            "role": "parent_carer",
            "name": "Jo Homechild",
            "relation": "mother",
            "contact_by": "email",
        },
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["error"]["errors"]] == ["contact_by", "name"]
    assert (
        client.post(
            "/api/v1/contacts", headers=school, json={"pupil_id": pupil.id, "role": "uncle", "name": "X"}
        ).status_code
        == 422
    )
    assert client.get(f"/api/v1/pupils/{other['pupil'].id}/contacts", headers=school).status_code == 404
    elsewhere = {"pupil_id": other["pupil"].id, "role": "parent_carer", "name": "X", "relation": "mother"}
    assert client.post("/api/v1/contacts", headers=school, json=elsewhere).status_code == 404
    member = bearer(home["tokens"][Role.PANEL_MEMBER].secret)
    assert client.get(f"/api/v1/pupils/{pupil.id}/contacts", headers=member).status_code == 403
    viewed = db.scalars(select(AuditEvent).where(AuditEvent.object_type == "contacts")).all()
    assert {e.pupil_id for e in viewed} == {pupil.id}
