"""No page and no API answer shows a child without an audit event recording that this person saw
that child, in that request.

The walk takes every GET route of the app (its own URL map: a new route is covered the day it is
added) as every role of the home area, aimed at the home area's own records, and for every answer
that shows a child of the world by name checks that the request wrote a view of that child
by that person. Downloads (CSV, XLSX) are audited as exports, with their size, and are left out.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent
from tests.pages import sign_in
from tests.security.test_route_walk import PUBLIC, body_text, rules, url_values


def children(world: dict[str, Any]) -> list[Any]:
    return [world[area][key] for area in ("home", "other") for key in ("pupil", "bystander")]


def last_event(db: Session) -> int:
    return db.scalar(select(func.max(AuditEvent.id))) or 0


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_every_child_shown_is_an_audited_view(app: Flask, client: Any, world: dict, db: Session, role: Role) -> None:  # type: ignore[type-arg]
    user = world["home"]["users"][role]
    assert sign_in(client, user.email).status_code == 302
    token = world["home"]["tokens"][role]
    shown_somewhere = 0
    for rule in rules(app):
        if rule.endpoint in PUBLIC or "GET" not in rule.methods:
            continue
        url = rule.build(url_values(rule, world, db, area="home"))[1]
        headers = {"Authorization": f"Bearer {token.secret}"} if rule.endpoint.startswith("api.") else {}
        who = token.token.client.id if rule.endpoint.startswith("api.") else user.id
        before = last_event(db)
        response = client.get(url, headers=headers)
        body = body_text(response)  # read whole: a streamed download holds its request open until then
        if response.status_code != 200 or response.headers.get("Content-Disposition"):
            continue
        for child in children(world):
            # Each child of the world has a surname no other record holds: it marks them shown.
            # (A UPN alone is not counted: a provider's own offer repeats the UPN it typed.)
            if child.last_name in body:
                shown_somewhere += 1
                db.expire_all()
                seen = db.scalar(
                    select(AuditEvent.id).where(
                        AuditEvent.id > before, AuditEvent.user_id == who, AuditEvent.pupil_id == child.id
                    )
                )
                assert seen is not None, f"{url} showed {child.full_name} to a {role.value} without auditing the view"
    # The walk did see children: it is not vacuous for any role.
    assert shown_somewhere > 0


def test_a_view_that_cannot_be_audited_is_not_shown(app: Flask, client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    """If the audit event cannot be written, the page is refused rather than shown unrecorded."""
    from ap_register.accounts import audit
    from ap_register.web import _audit_children_shown  # noqa: F401 - the hook under test

    home = world["home"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    original = audit.record_many

    def broken(*args: Any, **kwargs: Any) -> Any:
        if args[2] == "view":
            raise RuntimeError("the audit trail is full")
        return original(*args, **kwargs)

    audit.record_many = broken  # type: ignore[assignment]
    try:
        response = client.get(f"/placements/{home['placement'].id}/review")
    finally:
        audit.record_many = original  # type: ignore[assignment]
    assert response.status_code == 503
    assert home["pupil"].last_name not in response.get_data(as_text=True)


def test_a_refusal_that_names_a_child_is_an_audited_view(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    """A refused file, a refused API write and an inbox entry can each name a child: each is a
    view. (A refused file's own audit events are rolled back with it, and must not count.)"""
    import io

    from ap_register.domain.notifications import notify
    from tests.pages import post

    home = world["home"]
    child = home["pupil"]
    admin = home["users"][Role.LA_ADMIN]
    sign_in(client, admin.email)

    def viewed_since(before: int, who: int) -> bool:
        db.expire_all()
        found = db.scalar(
            select(AuditEvent.id).where(
                AuditEvent.id > before, AuditEvent.user_id == who, AuditEvent.pupil_id == child.id
            )
        )
        return found is not None

    # A movements file: the child admitted elsewhere on line 2 (its audit event rolled back with
    # the file), then excluded from their old school on line 3: refused, naming them.
    content = (
        "upn,date,kind,setting_ref\n"
        f"{child.upn},2025-11-03,admitted,{home['second'].ref}\n"
        f"{child.upn},2025-11-04,permanent_exclusion,{home['school'].ref}\n"
    )
    # Sent as the form posts it, then as the page's script does (its result streamed after the
    # view has returned): each names the child, and each is audited as a view.
    for accept in ("text/html", "application/x-ndjson"):
        before = last_event(db)
        answer = post(
            client,
            "/admin/imports",
            {"kind": "movements", "file": (io.BytesIO(content.encode()), "movements.csv")},
            content_type="multipart/form-data",
            headers={"Accept": accept},
        )
        assert answer.mimetype == accept and child.last_name in answer.get_data(as_text=True)
        assert viewed_since(before, admin.id)
    # The API refusing the same placement again names the child in its 422.
    token = home["tokens"][Role.LA_ADMIN]
    placement = home["placement"]
    body = {
        "pupil_id": child.id,
        "setting_id": placement.setting_id,
        "route": placement.route.value,
        "registration": placement.registration.value,
        "tier": placement.tier.value,
        "sessions": placement.sessions,
        "start_date": placement.start_date.isoformat(),
        "notice_date": placement.notice_date.isoformat(),
    }
    before = last_event(db)
    refused = client.post("/api/v1/placements", json=body, headers={"Authorization": f"Bearer {token.secret}"})
    assert refused.status_code == 422 and child.last_name in refused.get_data(as_text=True)
    assert viewed_since(before, token.token.client.id)
    # A notification about the child, read in the inbox.
    notify(db, [admin], kind="test", subject="A decision", body=f"About {child.full_name}", pupil_id=child.id)
    db.commit()
    before = last_event(db)
    assert child.last_name in client.get("/inbox").get_data(as_text=True)
    assert viewed_since(before, admin.id)
