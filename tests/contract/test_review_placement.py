"""One use case, every channel that offers it: a review through the page and through the JSON
API moves the placement on alike, and is refused alike."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import Placement, PlacementReview
from tests import factories
from tests.pages import date_fields, errors, page, post, sign_in


def _placed(db: Session, area: dict[str, Any], name: str) -> Placement:
    child = factories.pupil(db, area["la"], area["school"], first_name="Sam", last_name=name)
    placement = factories.placement(db, child, area["pru"], start=date(2025, 10, 6))
    db.commit()
    return placement


def _page(client: Any, area: dict[str, Any], placement: Placement, day: date, notes: str) -> list[str]:
    response = post(client, f"/placements/{placement.id}/review", {**date_fields("review_date", day), "notes": notes})
    return [] if response.status_code == 302 else errors(page(response))


def _api(client: Any, area: dict[str, Any], placement: Placement, day: date, notes: str) -> list[str]:
    token = area["tokens"][Role.LA_ADMIN].secret
    response = client.post(
        f"/api/v1/placements/{placement.id}/reviews",
        headers={"Authorization": f"Bearer {token}"},
        json={"review_date": day.isoformat(), "notes": notes},
    )
    return [] if response.status_code == 201 else [e["message"] for e in response.get_json()["error"]["errors"]]


def _state(db: Session, placement: Placement) -> tuple[Any, ...]:
    db.expire_all()
    found = db.get(Placement, placement.id)
    assert found is not None
    reviews = db.scalars(select(PlacementReview.notes).where(PlacementReview.placement_id == found.id)).all()
    return found.last_review_date, found.next_review_date, list(reviews)


def test_a_review_moves_the_placement_on_alike_and_a_review_before_the_start_is_refused_alike(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    states, refusals = [], []
    for channel in (_page, _api):
        placement = _placed(db, area, channel.__name__)
        assert channel(client, area, placement, date(2025, 11, 17), "Settling well; attendance 92%") == []
        states.append(_state(db, placement))
        refusals.append(channel(client, area, placement, date(2025, 9, 1), "Before it began"))
        assert _state(db, placement) == states[-1]  # the refusal changed nothing
    assert states[0] == states[1]
    assert states[0][0] == date(2025, 11, 17) and states[0][2] == ["Settling well; attendance 92%"]
    assert states[0][1] is not None and states[0][1] > date(2025, 11, 17)
    assert refusals[0] == refusals[1] and refusals[0], refusals
