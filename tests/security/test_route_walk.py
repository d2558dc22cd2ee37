"""Every URL of the app, as every role, pointed at another area's records: nothing leaks.

The walk reads the app's own URL map, so a new route is covered the day it is added; a route
with a parameter the walker does not know fails the test until the walker is taught it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import (
    Alert,
    AttendanceMark,
    AuditEvent,
    BudgetLine,
    BudgetPlan,
    BudgetVariation,
    ComplianceCheck,
    Contact,
    Decision,
    FrameworkLot,
    LotApproval,
    Movement,
    OutreachSession,
    Panel,
    Placement,
    Pupil,
    Referral,
    Setting,
    TermDate,
    User,
)
from ap_register.placements import drafts
from tests.pages import csrf_token, sign_in

PUBLIC = {
    "main.home",
    "main.accessibility",
    "main.cookies",
    "main.privacy",
    "auth.sign_in",
    "static",
    "api.openapi_json",
    "main.health",
}


def rules(app: Flask) -> list[Any]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def url_values(rule: Any, world: dict[str, Any], db: Session, area: str = "other") -> dict[str, Any]:  # type: ignore[type-arg]
    """Values for a rule's parameters that point at one area's records (the other area's, unless
    told)."""
    other = world[area]
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if name == "pupil_id":
            values[name] = other["pupil"].id
        elif name == "placement_id":
            values[name] = other["placement"].id
        elif name == "setting_id":
            values[name] = other["farm"].id
        elif name == "user_id":
            values[name] = other["users"][Role.LA_ADMIN].id
        elif name == "stretch_id":
            values[name] = db.scalars(select(TermDate.id).where(TermDate.la_id == other["la"].id)).first()
        elif name == "token":
            draft = drafts.start(
                db,
                other["users"][Role.LA_ADMIN],
                "placement",
                {"pupil_id": other["pupil"].id, "route": "la_other", "setting_id": other["pru"].id},
            )
            db.commit()
            values[name] = draft.token
        elif name == "fmt":
            values[name] = "csv"
        elif name == "kind":
            values[name] = "pupils"
        elif name == "alert_id":
            values[name] = other["alert"].id
        elif name == "panel_id":
            values[name] = other["panel"].id
        elif name == "meeting_id":
            values[name] = other["meeting"].id
        elif name == "referral_id":
            values[name] = other["referral"].id
        elif name == "engagement_id":
            values[name] = other["engagement"].id
        elif name == "plan_id":
            values[name] = other["plan"].id
        elif name == "line_id":
            values[name] = other["plan_line"].id
        elif name == "outcome":
            values[name] = "reintegration"
        elif name == "proposal_id":
            values[name] = other["proposal"].id
        elif name == "transfer_id":
            values[name] = other["transfer"].id
        elif name == "note_id":
            values[name] = other["note"].id
        elif name == "contact_id":
            values[name] = other["contact"].id
        elif name == "document_id":
            values[name] = other["document"].id
        elif name == "letter_id":
            values[name] = other["letter"].id
        elif name == "framework_id":
            values[name] = other["framework"].id
        elif name == "lot_id":
            values[name] = other["lot"].id
        elif name == "agreement_id":
            values[name] = other["agreement"].id
        elif name == "number":
            values[name] = 1
        elif name == "report_id":
            values[name] = other["report"].id
        elif name == "approval_id":
            values[name] = other["application"].id
        elif name == "suffix":
            values[name] = "pdf"
        elif name == "provider_id":
            values[name] = other["pru"].id
        elif name == "month":
            values[name] = "2026-10"
        elif name == "role":
            values[name] = "parent_carer"
        elif name == "token_id":
            values[name] = other["tokens"][Role.AP_HEAD].token.id
        else:
            pytest.fail(f"The route walk does not know the parameter {name!r} of {rule.rule}: teach it")
    return values


def api_body(endpoint: str, world: dict[str, Any], target: str = "other") -> dict[str, Any]:
    """A well-formed API write aimed at the target area's records."""
    other = world[target]
    day = "2025-12-01"
    if endpoint == "api.create_placement":
        return {
            "pupil_id": other["pupil"].id,
            "setting_id": other["pru"].id,
            "route": "la_other",
            "registration": "dual",
            "tier": "time_limited",
            "sessions": "1111111111",
            "start_date": day,
        }
    if endpoint == "api.record_marks":
        return {
            "marks": [
                {
                    "pupil_id": other["pupil"].id,
                    "setting_id": other["pru"].id,
                    "date": day,
                    "session": "AM",
                    "code": "/",
                }
            ]
        }
    if endpoint == "api.add_contact":
        return {
            "pupil_id": other["pupil"].id,
            "role": "parent_carer",
            "name": "Walk Parent",
            "relation": "mother",
            "phone": "07700 900999",
        }
    if endpoint == "api.review":
        return {"review_date": day, "notes": "Reviewed from another area"}
    if endpoint == "api.end":
        return {"end_date": day, "destination": "not_known"}
    if endpoint == "api.record_notice":
        return {"address": "1 Mill Lane", "report_to": "Ms Khan", "session_times": "9am to 3pm", "reasons": "To reset"}
    pytest.fail(f"The route walk has no API body for {endpoint}: teach it")


def secrets_of(world: dict[str, Any], target: str = "other") -> list[str]:
    """What no user of another area may ever read: the target area's children."""
    other = world[target]
    return [
        other["pupil"].upn,
        other["pupil"].last_name,
        other["bystander"].upn,
        other["bystander"].last_name,
        other["farm"].name,
        other["plan"].name,
        other["note"].text,
        other["contact"].name,
        other["contact"].phone,
        other["document"].filename,
        other["framework"].name,
        other["agreement"].current.safeguarding,
    ]


def body_text(response: Any) -> str:
    """What a response holds, as text: a workbook's cells, a PDF's or a Word document's words, or
    the body itself."""
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages)
    if response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        from docx import Document as WordDocument

        doc = WordDocument(io.BytesIO(response.get_data()))
        cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
        return "\n".join([p.text for p in doc.paragraphs] + cells)
    if response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return str(response.get_data(as_text=True))


def shown(body: str) -> str:
    """What a page shows, less the echo of the user's own search: input values and the query
    strings of links (which repeat the search), but every text and other attribute."""
    soup = BeautifulSoup(body, "html.parser")
    for field in soup.find_all("input"):
        field.attrs.pop("value", None)
    for link in soup.find_all("a", href=True):
        link["href"] = link["href"].split("?")[0]
    return str(soup)


def fingerprint(db: Session, world: dict[str, Any], target: str = "other") -> tuple[Any, ...]:
    other = world[target]
    db.expire_all()
    pupil = db.get(Pupil, other["pupil"].id)
    placement = db.get(Placement, other["placement"].id)
    farm = db.get(Setting, other["farm"].id)
    admin = db.get(User, other["users"][Role.LA_ADMIN].id)
    assert pupil and placement and farm and admin
    return (
        db.scalar(select(func.count()).select_from(Movement)),
        db.scalar(select(func.count()).select_from(Placement)),
        db.scalar(select(func.count()).select_from(TermDate).where(TermDate.la_id == other["la"].id)),
        pupil.home_school_id,
        placement.end_date,
        db.scalar(select(func.count()).select_from(AttendanceMark)),
        tuple(db.scalars(select(Alert.status).order_by(Alert.id))),
        tuple(db.scalars(select(Referral.status).order_by(Referral.id))),
        db.scalar(select(func.count()).select_from(Decision).join(Referral).where(Referral.la_id == other["la"].id)),
        db.scalar(select(func.count()).select_from(Panel).where(Panel.la_id == other["la"].id)),
        db.scalar(select(func.count()).select_from(OutreachSession)),
        placement.last_review_date,
        farm.contact_name,
        farm.kind,
        admin.active,
        db.scalar(select(func.count()).select_from(BudgetPlan)),
        db.scalar(select(func.sum(BudgetLine.commissioned)).where(BudgetLine.plan_id == other["plan"].id)),
        db.scalar(select(func.count()).select_from(BudgetVariation)),
        tuple(db.execute(select(Contact.id, Contact.name, Contact.phone, Contact.restriction).order_by(Contact.id))),
        tuple(db.execute(select(LotApproval.id, LotApproval.status, LotApproval.rate).order_by(LotApproval.id))),
        db.scalar(select(func.count()).select_from(ComplianceCheck)),
        db.scalar(select(func.count()).select_from(FrameworkLot)),
    )


def test_anonymous_visitors_see_only_public_pages(app: Flask, client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    for rule in rules(app):
        url = rule.build(url_values(rule, world, db))[1] if rule.arguments else rule.rule
        response = client.get(url)
        if rule.endpoint in PUBLIC:
            assert response.status_code == 200, url
        elif rule.endpoint.startswith("api."):
            method = "POST" if "POST" in rule.methods else "GET"
            response = client.open(
                url, method=method, json=api_body(rule.endpoint, world) if method == "POST" else None
            )
            assert response.status_code == 401, f"{url} answered {response.status_code}"
            assert response.get_json()["error"]["status"] == 401
        elif "GET" in rule.methods:
            assert response.status_code in (302, 404), f"{url} answered {response.status_code}"
            if response.status_code == 302:
                assert "/sign-in" in response.headers["Location"]


@pytest.mark.shared
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_no_role_reaches_another_area_s_records(app: Flask, client: Any, world: dict, db: Session, role: Role) -> None:  # type: ignore[type-arg]
    walk_against(app, client, world, db, world["home"]["users"][role], world["home"]["tokens"][role], "other")


def walk_against(app: Flask, client: Any, world: dict, db: Session, user: Any, token: Any, target: str) -> None:  # type: ignore[type-arg]
    """Every route, as this user (and their API token), aimed at the target area's records, with
    GET filters and well-formed POST forms and API bodies naming them: nothing of the target
    area is shown, changed or recorded as viewed, and nothing answers a server error."""
    role = user.role
    assert sign_in(client, user.email).status_code == 302
    # The same role's API token rides along: pages ignore it, the API reads nothing else.
    api_client = token.token.client
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token.secret}"
    secrets = secrets_of(world, target)
    other = world[target]
    before = fingerprint(db, world, target)
    walked = 0
    for rule in rules(app):
        url = rule.build(url_values(rule, world, db, target))[1]
        # Lists and exports are also asked, by their filters, for the other area's records.
        queries = [""]
        if not rule.arguments or rule.endpoint.endswith("export"):
            queries += [
                f"?q={other['pupil'].upn}",
                f"?q={other['pupil'].last_name}",
                f"?setting={other['pru'].id}",
                f"?setting={other['school'].id}",
            ]
        if rule.endpoint.startswith("api."):
            queries += [
                "?week=2025-12-01",
                f"?pupil_id={other['pupil'].id}",
                f"?setting_id={other['pru'].id}",
                f"?q={other['pupil'].upn}",
            ]
        for query in queries:
            if "GET" in rule.methods:
                response = client.get(url + query)
                body = body_text(response)
                if "html" in response.content_type:
                    body = shown(body)
                # 204: "stay signed in" answers with nothing, only renewing the session.
                allowed = (200, 403, 404, 422) if rule.endpoint.startswith("api.") else (200, 204, 302, 403, 404)
                assert response.status_code in allowed, f"GET {url}{query}: {response.status_code}"
                if response.status_code == 302:
                    assert "/sign-in" not in response.headers["Location"], f"GET {url} signed {role} out"
                for secret in secrets:
                    assert secret not in body, f"GET {url}{query} as {role.value} shows {secret}"
                walked += 1
        if "POST" in rule.methods and rule.endpoint.startswith("api."):
            response = client.post(url, json=api_body(rule.endpoint, world, target))
            assert response.status_code in (400, 403, 404, 422), f"POST {url}: {response.status_code}"
            for secret in secrets:
                assert secret not in body_text(response), f"POST {url} as {role.value} shows {secret}"
            walked += 1
        elif "POST" in rule.methods and rule.endpoint != "auth.sign_out":
            token = csrf_token(client)
            form = {
                "csrf_token": token,
                "route": "la_other",
                "setting": str(other["pru"].id),
                "kind": "admitted",
                "registration": "none",
                "tier": "time_limited",
                "sessions": ["Mon AM"],
                "notes": "x",
                "destination": "not_known",
                "contact_name": "Changed",
                "start_date": ["1", "12", "2025"],
                "end_date": ["2", "12", "2025"],
                "review_date": ["1", "12", "2025"],
                "date": ["1", "12", "2025"],
                "reason": "x",
                "ack-submit": "y",
                "resolve-note": "Resolved from another area",
                f"mark-{other['pupil'].id}": "/",
                "decision-outcome": "decline",
                "decision-reasons": "Declined from another area",
                "decision-submit": "y",
                "move": "other",
                "best_interest": "x",
                "name": "Another panel",
                "quorum": "1",
                "session-minutes": "30",
                "session-staff": "Someone else",
                "session-submit": "y",
                "first_year": "2030",
                "years": "3",
                "demand_policy": "Another area's policy",
                "year": "2030",
                "place_type": "time_limited",
                "provider": str(other["pru"].id),
                "commissioned": "9",
                "unit_cost": "100",
                "change": "2",
            }
            response = client.post(url, data=form)
            body = shown(response.get_data(as_text=True))
            # Keeping answers at a lapse is about the person's own session: in use, it says so (409).
            lapse = (409,) if url == "/account/kept-answers" else ()
            assert response.status_code in (200, 302, 400, 403, 404, *lapse), f"POST {url}: {response.status_code}"
            for secret in secrets:
                assert secret not in body, f"POST {url} as {role.value} shows {secret}"
            walked += 1
    assert walked > 30
    assert fingerprint(db, world, target) == before, f"{role.value} changed another area's records"
    # Nothing about the other area's pupils was viewed: no audit event names them.
    viewed = db.scalars(
        select(AuditEvent).where(
            AuditEvent.pupil_id.in_([other["pupil"].id, other["bystander"].id]),
            AuditEvent.user_id.in_([user.id, api_client.id]),
        )
    ).all()
    assert viewed == []
    client.environ_base.pop("HTTP_AUTHORIZATION", None)


def test_a_school_sees_only_pupils_it_has_had(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    """A school lead of one school cannot see, by any URL or export, a pupil never on its roll
    or placed by it: the bystander is in the same LA, on another school's roll."""
    home = world["home"]
    lead = home["users"][Role.SCHOOL_LEAD]
    sign_in(client, lead.email)
    bystander = home["bystander"]
    assert client.get(f"/pupils/{bystander.id}").status_code == 404
    assert bystander.upn not in shown(client.get(f"/pupils?q={bystander.upn}").get_data(as_text=True))
    assert bystander.upn not in client.get("/placements/export.csv").get_data(as_text=True)
    assert home["pupil"].upn in client.get("/placements/export.csv").get_data(as_text=True)
    # The AP head sees the pupil placed with them, and not the bystander.
    client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    sign_in(client, home["users"][Role.AP_HEAD].email)
    assert client.get(f"/pupils/{home['pupil'].id}").status_code == 200
    assert client.get(f"/pupils/{bystander.id}").status_code == 404


def test_a_permission_declared_on_a_route_refuses_every_role_without_it(
    app: Flask, client: Any, world: dict[str, Any], db: Session
) -> None:
    """`@allowed(action)` on a view: every role the permissions module does not give the action
    is refused before the view runs (403, or 404 where even the page's existence is withheld),
    and the action is one the module knows (a typo would refuse everyone)."""
    from ap_register.permissions import ACTIONS

    declared = [
        (rule, getattr(app.view_functions[rule.endpoint], "required_permission", None))
        for rule in rules(app)
        if "GET" in (rule.methods or ()) and not rule.arguments
    ]
    declared = [(rule, action) for rule, action in declared if action]
    assert len(declared) >= 8, "the views that need no record declare their permission"
    for role, user in world["home"]["users"].items():
        sign_in(client, user.email)
        for rule, action in declared:
            assert action in ACTIONS, (rule.endpoint, action)
            status = client.get(rule.rule).status_code
            if role in ACTIONS[action]:
                assert status in (200, 302), (role, rule.rule, status)
            else:
                assert status in (403, 404), (role, rule.rule, status)
