"""One use case, every channel: a change to a school's roll recorded on the pupil's page and in a
movements file gives the same ledger, the same roll and the same refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import Movement, Pupil
from tests import factories
from tests.contract.channels import through_import
from tests.pages import date_fields, errors, page, post, sign_in

DAY = date(2025, 11, 12)


def _page(client: Any, db: Session, area: dict[str, Any], pupil: Pupil, change: dict[str, Any]) -> list[str]:
    form = {
        "kind": change["kind"],
        **date_fields("date", change["date"]),
        "setting": str(area[change["setting"]].id),
        "days": change.get("days", ""),
        "reason": change.get("reason", ""),
    }
    response = post(client, f"/pupils/{pupil.id}/movements/new", form)
    return [] if response.status_code == 302 else errors(page(response))


def _import(client: Any, db: Session, area: dict[str, Any], pupil: Pupil, change: dict[str, Any]) -> list[str]:
    text = (
        "upn,date,kind,setting_ref,days,reason\n"
        f"{pupil.upn},{change['date'].isoformat()},{change['kind']},{area[change['setting']].ref},"
        f"{change.get('days', '')},{change.get('reason', '')}\n"
    )
    return through_import(db, area["users"][Role.LA_ADMIN], "movements", text, area["la"])


CHANNELS = (_page, _import)


def _ledger(db: Session, pupil: Pupil) -> tuple[Any, ...]:
    db.expire_all()
    found = db.get(Pupil, pupil.id)
    assert found is not None
    movements = db.scalars(select(Movement).where(Movement.pupil_id == pupil.id).order_by(Movement.id))
    return found.home_school_id, [(m.kind.value, m.date, m.setting_id, m.days, m.reason) for m in movements]


def _child(db: Session, area: dict[str, Any], name: str) -> Pupil:
    child = factories.pupil(db, area["la"], area["school"], first_name="Alex", last_name=name, on=date(2025, 9, 3))
    db.commit()
    return child


CHANGES = {
    "suspension": {"kind": "suspension", "date": DAY, "setting": "school", "days": "3", "reason": "Fighting"},
    "admission elsewhere": {"kind": "admitted", "date": DAY, "setting": "second"},
    "permanent exclusion": {"kind": "permanent_exclusion", "date": DAY, "setting": "school", "reason": "Assault"},
}


def test_an_exclusion_s_steps_are_recorded_alike_through_every_channel(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    """Excluded, the board will not reinstate, a review asked for: the same ledger, and the
    pupil still on the school's roll, whichever channel recorded the steps."""
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    steps = (
        {"kind": "permanent_exclusion", "date": date(2025, 11, 3), "setting": "school", "reason": "Assault"},
        {"kind": "exclusion_upheld", "date": date(2025, 11, 10), "setting": "school"},
        {"kind": "review_requested", "date": DAY, "setting": "school"},
    )
    results = []
    for channel in CHANNELS:
        child = _child(db, area, channel.__name__)
        before = _ledger(db, child)[1]
        for step in steps:
            assert channel(client, db, area, child, step) == [], (channel.__name__, step["kind"])
        home_school, ledger = _ledger(db, child)
        results.append((home_school, ledger[len(before) :]))
    assert results[0] == results[1]
    assert results[0][0] == area["school"].id
    assert [kind for kind, *_ in results[0][1]] == ["permanent_exclusion", "exclusion_upheld", "review_requested"]


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_to_the_roll_is_recorded_alike_through_every_channel(
    client: Any, db: Session, world: dict[str, Any], change: dict[str, Any]
) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    results = []
    for channel in CHANNELS:
        child = _child(db, area, channel.__name__)
        before = _ledger(db, child)[1]
        assert channel(client, db, area, child, change) == [], channel.__name__
        home_school, ledger = _ledger(db, child)
        results.append((home_school, ledger[len(before) :]))
    assert results[0] == results[1]
    assert results[0][1], "the change is on the ledger"


REFUSALS = {
    "in the future": (
        {"kind": "suspension", "date": date(2026, 12, 7), "setting": "school", "days": "2", "reason": "x"},
        ["A movement is recorded once it has happened: the date is in the future"],
    ),
    "a suspension of no days": (
        {"kind": "suspension", "date": DAY, "setting": "school", "days": "0"},
        ["Enter the length of the suspension in school days (1 to 45)"],
    ),
    "a suspension of 46 days": (
        {"kind": "suspension", "date": DAY, "setting": "school", "days": "46"},
        ["Enter the length of the suspension in school days (1 to 45)"],
    ),
    "an exclusion without a reason": (
        {"kind": "permanent_exclusion", "date": DAY, "setting": "school"},
        ["Enter the reason"],
    ),
    "an exclusion from a school the child is not on the roll of": (
        {"kind": "permanent_exclusion", "date": DAY, "setting": "second", "reason": "Assault"},
        ["Alex {name} is not on Home Academy's roll"],
    ),
    "a board's decision with no exclusion": (
        {"kind": "exclusion_upheld", "date": DAY, "setting": "school"},
        ["Alex {name} has no permanent exclusion from {school} recorded on or before 12 November 2025"],
    ),
}


@pytest.mark.parametrize(("change", "messages"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_change_to_the_roll_is_refused_alike_and_nothing_is_written(
    client: Any, db: Session, world: dict[str, Any], change: dict[str, Any], messages: list[str]
) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    for channel in CHANNELS:
        child = _child(db, area, channel.__name__)
        before = _ledger(db, child)
        expected = [m.format(name=channel.__name__, school=area["school"].name) for m in messages]
        assert channel(client, db, area, child, change) == expected, channel.__name__
        assert _ledger(db, child) == before
