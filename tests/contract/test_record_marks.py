"""One rule, every channel: a register's marks taken on the register page, sent to the JSON API
and sent in an attendance file give the same marks, the same refusals and the same trail in each
child's audit record."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import MovementKind, Registration, Role
from ap_register.models import AttendanceMark, AuditEvent
from ap_register.placements.rules import record_roll_movement
from tests import factories
from tests.contract.channels import through_import
from tests.pages import errors, page, post, sign_in

MONDAY = date(2025, 11, 17)  # the child is placed at the PRU full time from 6 October 2025


def _page(
    client: Any, db: Session, area: dict[str, Any], at: str, pupil: Any, day: date, half: str, code: str
) -> list[str]:
    url = f"/attendance?setting={area[at].id}&day={day.day}&day={day.month}&day={day.year}&half={half}"
    response = post(client, url, {f"mark-{pupil.id}": code})
    return [] if response.status_code == 302 else errors(page(response))


def _api(
    client: Any, db: Session, area: dict[str, Any], at: str, pupil: Any, day: date, half: str, code: str
) -> list[str]:
    token = area["tokens"][Role.LA_ADMIN].secret
    mark = {"pupil_id": pupil.id, "setting_id": area[at].id, "date": day.isoformat(), "session": half, "code": code}
    response = client.post("/api/v1/attendance", headers={"Authorization": f"Bearer {token}"}, json={"marks": [mark]})
    if response.status_code == 200:
        return []
    return [e["message"] for e in response.get_json()["error"]["errors"]]


def _import(
    client: Any, db: Session, area: dict[str, Any], at: str, pupil: Any, day: date, half: str, code: str
) -> list[str]:
    text = f"upn,setting_ref,date,session,code\n{pupil.upn},{area[at].ref},{day.isoformat()},{half},{code}\n"
    return through_import(db, area["users"][Role.LA_ADMIN], "attendance", text, area["la"])


CHANNELS = (_page, _api, _import)


def _marks(db: Session) -> list[tuple[int, int, date, str, str]]:
    db.expire_all()
    return [
        (m.pupil_id, m.setting_id, m.date, m.session, m.code)
        for m in db.scalars(select(AttendanceMark).order_by(AttendanceMark.date, AttendanceMark.session))
    ]


def _clear(db: Session) -> None:
    for mark in db.scalars(select(AttendanceMark)):
        db.delete(mark)
    db.commit()


def test_a_register_is_recorded_alike_through_every_channel(client: Any, db: Session, world: dict[str, Any]) -> None:
    area = world["home"]
    admin = area["users"][Role.LA_ADMIN]
    sign_in(client, admin.email)
    pupil = area["pupil"]
    results = []
    for channel in CHANNELS:
        seen = db.scalar(select(func.max(AuditEvent.id))) or 0
        assert channel(client, db, area, "pru", pupil, MONDAY, "AM", "/") == []
        assert channel(client, db, area, "pru", pupil, MONDAY, "pm", "l") == []  # a late mark, in lower case
        results.append(_marks(db))
        trail = db.scalars(
            select(AuditEvent).where(
                AuditEvent.id > seen, AuditEvent.pupil_id == pupil.id, AuditEvent.action == "record_attendance"
            )
        ).all()
        assert trail, channel.__name__
        # Which marks changed, as the child's trail shows them (the page: one event a mark; a file:
        # one event a child, listing its marks).
        shown = sorted(
            (m["date"], m["session"], m["code"]) for e in trail for m in (e.detail.get("listed") or [e.detail])
        )
        assert shown == [("2025-11-17", "AM", "/"), ("2025-11-17", "PM", "L")], channel.__name__
        if channel is not _api:  # the API acts as its token, not as a person
            assert {e.user_id for e in trail} == {admin.id}, channel.__name__
        assert {e.detail["via"] for e in trail} == {"web" if channel is _page else channel.__name__[1:]}
        _clear(db)
    assert (
        results[0]
        == results[1]
        == results[2]
        == [
            (pupil.id, area["pru"].id, MONDAY, "AM", "/"),
            (pupil.id, area["pru"].id, MONDAY, "PM", "L"),
        ]
    )


REFUSALS = [
    ("pupil", MONDAY, "AM", "ZZ", "'ZZ' is not a national attendance code"),
    ("pupil", MONDAY, "AM", "H", "H is no longer in use from 19 August 2024"),
    ("pupil", MONDAY, "PM", "/", "/ is present in the morning (SI 2024/208 reg 10(2)): in this session it is \\"),
    ("pupil", date(2025, 11, 15), "AM", "/", "15 November 2025 is a Saturday: registers are taken on school days"),
    ("pupil", date(2025, 12, 25), "AM", "/", "25 December 2025 is a bank holiday: registers are taken on school days"),
    (
        "pupil",
        date(2025, 10, 27),
        "AM",
        "/",
        "27 October 2025 is outside Leicestershire's term dates: registers are taken on school days",
    ),
    (
        "pupil",
        date(2026, 12, 7),
        "AM",
        "/",
        "7 December 2026 is in the future: a register is taken on the day, for the session",
    ),
    ("bystander", MONDAY, "AM", "/", "This pupil is not expected here for this session"),
]


@pytest.mark.parametrize(("who", "day", "half", "code", "message"), REFUSALS, ids=[r[-1] for r in REFUSALS])
def test_a_mark_is_refused_alike_through_every_channel_and_nothing_is_written(
    client: Any, db: Session, world: dict[str, Any], who: str, day: date, half: str, code: str, message: str
) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    for channel in CHANNELS:
        refusals = channel(client, db, area, "pru", area[who], day, half, code)
        assert refusals == [message], (channel.__name__, refusals)
        assert _marks(db) == []


def _each_channel(client: Any, db: Session, area: dict[str, Any], *mark: Any) -> list[tuple[list[str], list[Any]]]:
    """The same mark through each channel, from nothing each time: (refusals, marks written)."""
    answers = []
    for channel in CHANNELS:
        answers.append((channel(client, db, area, *mark), _marks(db)))
        _clear(db)
    return answers


def test_the_home_school_marks_its_pupil_every_session_whatever_is_arranged_elsewhere(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    """A school records each of its registered pupils every session (SI 2024/208 reg 10(1)): a
    pupil at a farm on Monday mornings only is the school's to mark on Tuesday (here, C2 for a
    session of a part-time timetable), and on Monday morning too (B, away at the farm)."""
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    child = factories.pupil(db, area["la"], area["school"], first_name="Alex", last_name="Parttime")
    factories.placement(db, child, area["farm"], sessions="1000000000", registration=Registration.NONE)
    db.commit()
    tuesday = date(2025, 11, 18)
    for mark in (("school", child, tuesday, "AM", "C2"), ("school", child, MONDAY, "AM", "B")):
        answers = _each_channel(client, db, area, *mark)
        assert [refusals for refusals, _ in answers] == [[], [], []], mark
        assert answers[0][1] == answers[1][1] == answers[2][1] != [], mark


def test_a_past_session_is_the_roll_of_that_day(client: Any, db: Session, world: dict[str, Any]) -> None:
    """A child who moved to another school on 1 December: the old school still marks the weeks
    before, the new one only from its admission."""
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    child = factories.pupil(db, area["la"], area["school"], first_name="Alex", last_name="Mover", on=date(2025, 9, 3))
    record_roll_movement(db, factories.SYSTEM, child, MovementKind.ADMITTED, date(2025, 12, 1), area["second"])
    db.commit()
    for mark, refusals in (
        (("school", child, MONDAY, "AM", "/"), []),
        (("second", child, MONDAY, "AM", "/"), ["This pupil is not expected here for this session"]),
        (("second", child, date(2025, 12, 1), "AM", "/"), []),
        (("school", child, date(2025, 12, 1), "AM", "/"), ["This pupil is not expected here for this session"]),
    ):
        answers = _each_channel(client, db, area, *mark)
        assert [found for found, _ in answers] == [refusals] * 3, mark
        assert answers[0][1] == answers[1][1] == answers[2][1], mark


def test_a_register_whose_date_cannot_be_read_is_not_saved_for_today(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    """The page used to put today in place of a date it could not read (31 February) and save
    the register for today; a file and the API refuse such a date, and now so does the page."""
    area = world["home"]
    sign_in(client, area["users"][Role.LA_ADMIN].email)
    url = f"/attendance?setting={area['pru'].id}&day=31&day=2&day=2026&half=AM"
    soup = page(post(client, url, {f"mark-{area['pupil'].id}": "/"}))
    assert errors(soup) and _marks(db) == []
