"""One use case, every channel: recording a placement through the pages, the JSON API and the
placements import gives the same record, the same refusals and the same warnings.

Each request below is sent three times, once through each channel, for three children in the
same position (on the roll of the same school, nothing else recorded), by the same LA officer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain import week_pattern
from ap_register.domain.imports import ImportRefused, run_import
from ap_register.domain.vocab import MovementKind, Role, SettingKind
from ap_register.models import Movement, Placement, Pupil
from ap_register.permissions import Actor
from tests import factories
from tests.pages import date_fields, errors, page, post, sign_in, text

START = date(2025, 12, 1)  # a Monday of the tests' autumn term


@dataclass
class Request:
    """A placement as a person asks for it, before any channel's spelling."""

    route: str
    setting: str  # a key of the test area
    registration: str
    sessions: str = "1111111111"
    tier: str | None = None
    planned_end_date: date | None = None
    notice_date: date | None = None
    reintegration_plan: str | None = None
    reason: str = "Support in school has been tried and recorded"
    spot: dict[str, str] = field(default_factory=dict)  # agreed_cost, spot_reason


@dataclass
class Answer:
    recorded: Placement | None
    refusals: list[str]
    warnings: list[str]


def _page(client: Any, area: dict[str, Any], pupil: Pupil, request: Request) -> Answer:
    setting = area[request.setting]
    response = post(client, f"/pupils/{pupil.id}/placements/new", {"route": request.route, "setting": str(setting.id)})
    assert response.status_code == 302, response.data[:300]
    details = {
        "registration": request.registration,
        "tier": request.tier or "",
        **date_fields("start_date", START),
        "sessions": week_pattern.labels(request.sessions),
        "reason": request.reason,
        "reintegration_plan": request.reintegration_plan or "",
    }
    if request.planned_end_date:
        details.update(date_fields("planned_end_date", request.planned_end_date))
    if request.notice_date:
        details.update(date_fields("notice_date", request.notice_date))
    if request.spot:
        details.update({"spot_purchase": "y", **request.spot})
    response = post(client, response.headers["Location"], details)
    if response.status_code == 200:
        return Answer(None, errors(page(response)), [])
    check_url = response.headers["Location"]
    check = page(client.get(check_url))
    warnings = [w.get_text(" ", strip=True).removeprefix("! Warning ") for w in check.select(".govuk-warning-text")]
    response = post(client, check_url, {})
    assert response.status_code == 302, text(page(response))
    return Answer(_latest(client.test_session, pupil), [], warnings)


def _api(client: Any, area: dict[str, Any], pupil: Pupil, request: Request) -> Answer:
    body: dict[str, Any] = {
        "pupil_id": pupil.id,
        "setting_id": area[request.setting].id,
        "route": request.route,
        "registration": request.registration,
        "tier": request.tier,
        "sessions": request.sessions,
        "start_date": START.isoformat(),
        "reason": request.reason,
        "reintegration_plan": request.reintegration_plan,
        "planned_end_date": request.planned_end_date.isoformat() if request.planned_end_date else None,
        "notice_date": request.notice_date.isoformat() if request.notice_date else None,
    }
    if request.spot:
        body.update({"spot_purchase": True, "spot_reason": request.spot.get("spot_reason")})
        if request.spot.get("agreed_cost"):
            body["agreed_cost"] = request.spot["agreed_cost"]
    token = area["tokens"][Role.LA_ADMIN].secret
    response = client.post("/api/v1/placements", headers={"Authorization": f"Bearer {token}"}, json=body)
    found = response.get_json()
    if response.status_code != 201:
        assert response.status_code in (400, 404, 422), found
        return Answer(None, [e["message"] for e in found["error"]["errors"]] or [found["error"]["message"]], [])
    return Answer(_latest(client.test_session, pupil), [], found["warnings"])


def _import(db: Session, area: dict[str, Any], pupil: Pupil, request: Request) -> Answer:
    columns = {
        "upn": pupil.upn,
        "setting_ref": area[request.setting].urn,
        "route": request.route,
        "registration": request.registration,
        "start_date": START.isoformat(),
        "sessions": request.sessions,
        "tier": request.tier or "",
        "planned_end_date": request.planned_end_date.isoformat() if request.planned_end_date else "",
        "notice_date": request.notice_date.isoformat() if request.notice_date else "",
        "reintegration_plan": request.reintegration_plan or "",
        "reason": request.reason,
    }
    csv = ",".join(columns) + "\n" + ",".join(columns.values()) + "\n"
    actor = Actor(user=area["users"][Role.LA_ADMIN], via="import")
    try:
        report = run_import(db, actor, "placements", io.BytesIO(csv.encode()), la=area["la"])
    except ImportRefused as refused:
        return Answer(None, [e.message for e in refused.report.errors], [])
    return Answer(_latest(db, pupil), [], [w.message for w in report.warnings])


def _latest(db: Session, pupil: Pupil) -> Placement | None:
    db.expire_all()
    return db.scalars(select(Placement).where(Placement.pupil_id == pupil.id).order_by(Placement.id.desc())).first()


def _record(db: Session, placement: Placement | None) -> dict[str, Any] | None:
    """What a person reading the register sees of a placement, without who or which child."""
    if placement is None:
        return None
    commissioner = placement.commissioner_la.name if placement.commissioner_la else None
    if placement.commissioner_setting is not None:
        commissioner = placement.commissioner_setting.name
    movements = db.scalars(select(Movement.kind).where(Movement.pupil_id == placement.pupil_id).order_by(Movement.id))
    return {
        "setting": placement.setting.name,
        "route": placement.route.value,
        "registration": placement.registration.value,
        "tier": placement.tier.value if placement.tier else None,
        "home_school_code": placement.home_school_code.value if placement.home_school_code else None,
        "sessions": placement.sessions,
        "dates": (placement.start_date, placement.planned_end_date, placement.notice_date, placement.next_review_date),
        "commissioner": commissioner,
        "plans": (placement.reintegration_plan, placement.reason),
        "spot": (placement.spot_purchase, placement.agreed_cost),
        "movements": [kind.value for kind in movements if kind != MovementKind.ADMITTED],
    }


@pytest.fixture()
def area(world: dict[str, Any], db: Session) -> dict[str, Any]:
    home = dict(world["home"])
    for setting, urn in ((home["school"], "855001"), (home["pru"], "855002"), (home["farm"], "855003")):
        setting.urn = urn
    home["special"] = factories.setting(db, home["la"], SettingKind.SPECIAL, name="Home Special School", urn="855004")
    db.commit()
    return home


def through_every_channel(client: Any, db: Session, area: dict[str, Any], request: Request) -> list[Answer]:
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    answers = []
    for channel in (_page, _api):
        child = factories.pupil(db, area["la"], area["school"], first_name="Sam", last_name=channel.__name__)
        db.commit()
        answers.append(channel(client, area, child, request))
    child = factories.pupil(db, area["la"], area["school"], first_name="Sam", last_name="import")
    db.commit()
    answers.append(_import(db, area, child, request))
    return answers


def same_everywhere(db: Session, answers: list[Answer]) -> Answer:
    page_answer, api_answer, import_answer = answers
    records = [_record(db, a.recorded) for a in answers]
    assert records[0] == records[1] == records[2], records
    assert sorted(page_answer.refusals) == sorted(api_answer.refusals) == sorted(import_answer.refusals), answers
    assert page_answer.warnings == api_answer.warnings == import_answer.warnings, answers
    return page_answer


def test_an_off_site_direction_is_recorded_alike_and_commissioned_by_the_home_school(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    request = Request(
        route="off_site_direction",
        setting="pru",
        registration="dual",
        tier="time_limited",
        planned_end_date=date(2026, 2, 13),
        notice_date=date(2025, 11, 24),
        reintegration_plan="Mornings back at school from week four",
    )
    answer = same_everywhere(db, through_every_channel(client, db, area, request))
    record = _record(db, answer.recorded)
    assert record is not None and record["commissioner"] == "Home High School"
    assert record["home_school_code"] == "D" and record["movements"] == ["placement_started"]


def test_school_arranged_ap_is_commissioned_by_the_school_whoever_records_it(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    # The drift this layer ended: an LA token's placement named the LA, where the page named the school.
    request = Request(
        route="school_arranged",
        setting="pru",
        registration="dual",
        tier="transitional",
        sessions="1111100000",
    )
    answer = same_everywhere(db, through_every_channel(client, db, area, request))
    record = _record(db, answer.recorded)
    assert record is not None and record["commissioner"] == "Home High School"
    # A transitional place without a destination plan is recorded, with the same warning everywhere.
    assert answer.warnings == ["A transitional placement should have a destination plan: a named school or post-16"]


def test_an_la_placement_is_commissioned_by_the_la(client: Any, db: Session, area: dict[str, Any]) -> None:
    request = Request(
        route="la_health",
        setting="pru",
        registration="dual",
        tier="time_limited",
        planned_end_date=date(2026, 3, 27),
        reintegration_plan="Back to school as the treatment allows",
    )
    answer = same_everywhere(db, through_every_channel(client, db, area, request))
    record = _record(db, answer.recorded)
    assert record is not None and record["commissioner"] == area["la"].name and record["tier"] == "time_limited"


def test_a_time_limited_placement_without_its_end_or_plan_is_refused_everywhere(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    # The drift: an error on the page, a warning in the domain, so the API answered 201.
    request = Request(route="la_other", setting="pru", registration="dual", tier="time_limited")
    answer = same_everywhere(db, through_every_channel(client, db, area, request))
    assert answer.recorded is None
    assert sorted(answer.refusals) == [
        "A time-limited placement needs a reintegration plan",
        "A time-limited placement needs its planned end",
    ]


def test_an_incoherent_placement_is_refused_with_every_problem_everywhere(
    client: Any, db: Session, area: dict[str, Any]
) -> None:
    request = Request(route="managed_move", setting="pru", registration="dual")
    answer = same_everywhere(db, through_every_channel(client, db, area, request))
    assert answer.recorded is None
    assert sorted(answer.refusals) == [
        "A managed move is a permanent move: the pupil joins the new school's roll and leaves this one's (sole "
        "registration). For a period at the other school first, record an off-site direction, which may end in a "
        "managed move",
        "A managed move is to another mainstream or special school",
    ]


def test_a_child_outside_the_actor_s_area_is_not_found_by_any_channel(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    """Another LA's child: the page and the API answer 404, the import names no such pupil;
    nothing is recorded for them."""
    home, other = world["home"], world["other"]
    stranger = other["bystander"]
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    assert client.get(f"/pupils/{stranger.id}/placements/new").status_code == 404
    body = {
        "pupil_id": stranger.id,
        "setting_id": home["pru"].id,
        "route": "la_other",
        "registration": "dual",
        "tier": "transitional",
        "sessions": "1111111111",
        "start_date": START.isoformat(),
    }
    token = home["tokens"][Role.LA_ADMIN].secret
    assert client.post("/api/v1/placements", headers={"Authorization": f"Bearer {token}"}, json=body).status_code == 404
    csv = (
        "upn,setting_ref,route,registration,start_date,sessions,tier\n"
        f"{stranger.upn},X,la_other,dual,2025-12-01,1111111111,transitional\n"
    )
    actor = Actor(user=home["users"][Role.LA_ADMIN], via="import")
    with pytest.raises(ImportRefused) as refused:
        run_import(db, actor, "placements", io.BytesIO(csv.encode()), la=home["la"])
    assert f"No pupil with UPN {stranger.upn}" in refused.value.report.errors[0].message
    assert db.scalars(select(Placement).where(Placement.pupil_id == stranger.id)).all() == []


@pytest.mark.parametrize(
    ("cost", "refusals"),
    [
        ("1200.50", []),
        ("1500000", ["Enter the agreed cost of the spot purchase, from £1 to £1,000,000"]),
        ("0.50", ["Enter the agreed cost of the spot purchase, from £1 to £1,000,000"]),
    ],
    ids=["recorded", "above a million", "below a pound"],
)
def test_a_spot_purchase_s_cost_is_one_rule_on_the_page_and_in_the_api(
    client: Any, db: Session, area: dict[str, Any], cost: str, refusals: list[str]
) -> None:
    """The placements file has no spot purchase columns; the page and the API do. The page's form
    and the API's type each had their own limit and message for the cost."""
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    request = Request(
        route="la_other",
        setting="pru",
        registration="dual",
        tier="transitional",
        spot={"agreed_cost": cost, "spot_reason": "No commissioned place is free this term"},
    )
    answers = []
    for channel in (_page, _api):
        child = factories.pupil(db, area["la"], area["school"], first_name="Sam", last_name=channel.__name__)
        db.commit()
        answers.append(channel(client, area, child, request))
    assert [a.refusals for a in answers] == [refusals, refusals]
    records = [_record(db, a.recorded) for a in answers]
    assert records[0] == records[1]
    if not refusals:
        assert records[0] is not None and records[0]["spot"] == (True, Decimal(cost))
