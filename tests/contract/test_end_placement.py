"""One use case, every channel: ending a placement through the page, the JSON API and a
placements file gives the same record and the same refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import Movement, Placement
from tests import factories
from tests.contract.channels import through_import
from tests.pages import date_fields, errors, page, post, sign_in

START = date(2025, 10, 6)


def _placed(db: Session, area: dict[str, Any], name: str) -> Placement:
    child = factories.pupil(db, area["la"], area["school"], first_name="Sam", last_name=name)
    placement = factories.placement(db, child, area["pru"], start=START)
    db.commit()
    return placement


def _page(client: Any, db: Session, area: dict[str, Any], placement: Placement, end: date, to: str) -> list[str]:
    url = f"/placements/{placement.id}/end"
    response = post(client, url, {**date_fields("end_date", end), "destination": to, "reason": ""})
    return [] if response.status_code == 302 else errors(page(response))


def _api(client: Any, db: Session, area: dict[str, Any], placement: Placement, end: date, to: str) -> list[str]:
    token = area["tokens"][Role.LA_ADMIN].secret
    response = client.post(
        f"/api/v1/placements/{placement.id}/end",
        headers={"Authorization": f"Bearer {token}"},
        json={"end_date": end.isoformat(), "destination": to},
    )
    if response.status_code == 200:
        return []
    return [e["message"] for e in response.get_json()["error"]["errors"]]


def _import(client: Any, db: Session, area: dict[str, Any], placement: Placement, end: date, to: str) -> list[str]:
    header = "upn,setting_ref,route,registration,start_date,sessions,tier,notice_date,end_date,destination\n"
    row = (
        f"{placement.pupil.upn},{area['pru'].urn},{placement.route.value},{placement.registration.value},"
        f"{START.isoformat()},{placement.sessions},{placement.tier.value if placement.tier else ''},"
        f"{placement.notice_date.isoformat() if placement.notice_date else ''},{end.isoformat()},{to}\n"
    )
    return through_import(db, area["users"][Role.LA_ADMIN], "placements", header + row, area["la"])


def _ended(db: Session, placement: Placement) -> tuple[Any, ...]:
    db.expire_all()
    found = db.get(Placement, placement.id)
    assert found is not None
    kinds = db.scalars(select(Movement.kind).where(Movement.placement_id == found.id).order_by(Movement.id))
    return found.end_date, found.destination, [k.value for k in kinds]


def test_ending_a_placement_is_the_same_through_every_channel(client: Any, db: Session, world: dict[str, Any]) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    results = []
    for channel in (_page, _api, _import):
        placement = _placed(db, area, channel.__name__)
        assert channel(client, db, area, placement, date(2025, 12, 19), "returned_home_school") == []
        results.append(_ended(db, placement))
    assert (
        results[0]
        == results[1]
        == results[2]
        == (
            date(2025, 12, 19),
            results[0][1],
            ["placement_started", "placement_ended"],
        )
    )
    assert results[0][1].value == "returned_home_school"


def test_an_end_before_the_start_is_refused_alike_and_changes_nothing(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    for channel in (_page, _api, _import):
        placement = _placed(db, area, channel.__name__)
        refusals = channel(client, db, area, placement, date(2025, 9, 1), "returned_home_school")
        assert refusals == ["The end must be on or after the start"], (channel.__name__, refusals)
        assert _ended(db, placement) == (None, None, ["placement_started"])
