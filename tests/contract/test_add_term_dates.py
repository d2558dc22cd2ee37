"""One use case, every channel: a stretch of school days added on the term dates page and in a
term dates file gives the same calendar, the same refusals and the same audit record."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, TermDate
from tests.contract.channels import through_import
from tests.pages import date_fields, errors, page, post, sign_in


def _page(client: Any, db: Session, area: dict[str, Any], start: date, end: date) -> list[str]:
    response = post(client, "/admin/term-dates", {**date_fields("start_date", start), **date_fields("end_date", end)})
    return [] if response.status_code == 302 else errors(page(response))


def _import(client: Any, db: Session, area: dict[str, Any], start: date, end: date) -> list[str]:
    text = f"la_code,start_date,end_date\n{area['la'].code},{start.isoformat()},{end.isoformat()}\n"
    return through_import(db, area["users"][Role.LA_ADMIN], "term-dates", text, area["la"])


CHANNELS = (_page, _import)
SPRING = (date(2028, 1, 4), date(2028, 2, 11))  # a half term after the test area's own terms


def _calendar(db: Session, area: dict[str, Any]) -> list[tuple[date, date]]:
    db.expire_all()
    stretches = db.execute(
        select(TermDate.start_date, TermDate.end_date)
        .where(TermDate.la_id == area["la"].id)
        .order_by(TermDate.start_date)
    )
    return [tuple(s) for s in stretches]  # type: ignore[misc]


def _forget(db: Session, area: dict[str, Any]) -> None:
    db.execute(delete(TermDate).where(TermDate.la_id == area["la"].id, TermDate.start_date >= SPRING[0]))
    db.commit()


def test_a_stretch_is_added_alike_through_every_channel(client: Any, db: Session, world: dict[str, Any]) -> None:
    area = world["home"]
    admin = area["users"][Role.LA_ADMIN]
    sign_in(client, admin.email)
    before = _calendar(db, area)
    results = []
    for channel in CHANNELS:
        seen = db.scalar(select(func.max(AuditEvent.id))) or 0
        assert channel(client, db, area, *SPRING) == []
        results.append(_calendar(db, area))
        trail = db.scalars(select(AuditEvent).where(AuditEvent.id > seen, AuditEvent.object_type == "term_date")).all()
        assert [(e.action, e.user_id, e.detail["start"]) for e in trail] == [("create", admin.id, "2028-01-04")], (
            channel.__name__
        )
        _forget(db, area)
    assert results[0] == results[1] == sorted([*before, SPRING])


REFUSALS = {
    "an end before the start": ((date(2028, 2, 11), date(2028, 1, 4)), "The end is before the start"),
    "longer than a term": (
        (date(2028, 1, 4), date(2028, 7, 19)),
        "A stretch of school days is a half term or a term: this one is 198 days",
    ),
    "overlapping": (
        (date(2028, 2, 1), date(2028, 3, 24)),
        "Overlaps the stretch from 4 January 2028 to 11 February 2028",
    ),
}


@pytest.mark.parametrize(("stretch", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_stretch_is_refused_alike_and_nothing_is_written(
    client: Any, db: Session, world: dict[str, Any], stretch: tuple[date, date], message: str
) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    db.add(TermDate(la_id=area["la"].id, start_date=SPRING[0], end_date=SPRING[1]))
    db.commit()
    before = _calendar(db, area)
    for channel in CHANNELS:
        assert channel(client, db, area, *stretch) == [message], channel.__name__
        assert _calendar(db, area) == before
