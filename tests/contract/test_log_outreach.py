"""One use case, every channel: a session of outreach logged on the pages (start the engagement,
then log the session) and in an outreach file (one line) gives the same engagement, the same
session and the same refusals."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.budgets.outreach import start_engagement
from ap_register.domain.imports import ImportRefused, run_import
from ap_register.domain.vocab import Role
from ap_register.models import OutreachEngagement
from ap_register.permissions import Actor
from tests.contract.channels import through_import
from tests.pages import date_fields, errors, page, post, sign_in

DAY = date(2025, 11, 12)


def _page(client: Any, db: Session, area: dict[str, Any], group: str, day: date, minutes: str) -> list[str]:
    """The AP head starts the engagement on the day of its first session, then logs the session."""
    held = db.scalar(select(OutreachEngagement).where(OutreachEngagement.group_name == group))
    if held is None:
        response = post(
            client,
            "/outreach/new",
            {
                "school": str(area["school"].id),
                "kind": "coaching",
                "group_name": group,
                **date_fields("started_on", day),
            },
        )
        if response.status_code != 302:
            return errors(page(response))
        url = response.headers["Location"]
    else:
        url = f"/outreach/{held.id}"
    response = post(
        client,
        url,
        {
            **date_fields("session-held_on", day),
            "session-minutes": minutes,
            "session-staff": "Outreach lead",
            "session-submit": "Log",
        },
    )
    return [] if response.status_code == 302 else errors(page(response))


def _import(client: Any, db: Session, area: dict[str, Any], group: str, day: date, minutes: str) -> list[str]:
    text = (
        "provider_ref,school_ref,kind,date,minutes,staff,group\n"
        f"{area['pru'].ref},{area['school'].ref},coaching,{day.isoformat()},{minutes},Outreach lead,{group}\n"
    )
    return through_import(db, area["users"][Role.AP_HEAD], "outreach", text, area["la"])


CHANNELS = (_page, _import)


def _engagement(db: Session, group: str) -> tuple[Any, ...] | None:
    db.expire_all()
    found = db.scalar(select(OutreachEngagement).where(OutreachEngagement.group_name == group))
    if found is None:
        return None
    sessions = [(s.held_on, s.minutes, s.staff, s.recorded_by_id) for s in found.sessions]
    return found.provider_id, found.school_id, found.kind, found.started_on, found.created_by_id, sessions


def test_a_session_is_logged_alike_through_every_channel(client: Any, db: Session, world: dict[str, Any]) -> None:
    area = world["home"]
    head = area["users"][Role.AP_HEAD]
    sign_in(client, head.email)
    results = []
    for channel in CHANNELS:
        group = f"Year 8 group ({channel.__name__})"
        assert channel(client, db, area, group, DAY, "60") == []
        results.append(_engagement(db, group))
    assert (
        results[0]
        == results[1]
        == (area["pru"].id, area["school"].id, "coaching", DAY, head.id, [(DAY, 60, "Outreach lead", head.id)])
    )


REFUSALS = [
    (DAY, "0", ["Enter the minutes, from 1 to 480"]),
    (DAY, "481", ["Enter the minutes, from 1 to 480"]),
    (date(2026, 12, 7), "60", ["The start date is in the future"]),
]


@pytest.mark.parametrize(("day", "minutes", "messages"), REFUSALS, ids=["none", "too long", "future"])
def test_a_session_is_refused_alike_and_nothing_is_written(
    client: Any, db: Session, world: dict[str, Any], day: date, minutes: str, messages: list[str]
) -> None:
    area = world["home"]
    sign_in(client, area["users"][Role.AP_HEAD].email)
    for channel in CHANNELS:
        group = f"Year 9 group ({channel.__name__})"
        assert channel(client, db, area, group, day, minutes) == messages, channel.__name__
        engagement = _engagement(db, group)
        assert engagement is None or engagement[-1] == [], channel.__name__


def test_a_session_before_the_engagement_started_is_refused_alike(
    client: Any, db: Session, world: dict[str, Any]
) -> None:
    """The file used to move an engagement's start back to an earlier session, unchecked and
    unaudited; the page refuses it. Both refuse it now (a file still starts an engagement it
    creates on its earliest line)."""
    area = world["home"]
    head = Actor(user=area["users"][Role.AP_HEAD], via="test")
    sign_in(client, area["users"][Role.AP_HEAD].email)
    for channel in CHANNELS:
        group = f"Year 10 group ({channel.__name__})"
        start_engagement(
            db, head, provider=area["pru"], school=area["school"], kind="coaching", started_on=DAY, group_name=group
        )
        db.commit()
        assert channel(client, db, area, group, date(2025, 11, 5), "60") == [
            "The engagement started on 12 November 2025"
        ]
        assert _engagement(db, group) == (area["pru"].id, area["school"].id, "coaching", DAY, head.user_id, [])


def test_a_file_cannot_start_work_with_a_named_pupil_from_the_provider_alone(
    db: Session, world: dict[str, Any]
) -> None:
    """On the page a provider naming a pupil sends the school an offer; the file has no offer to
    send, so the line is refused with the rule's reason. (Sessions of work the school has agreed
    are logged by file as on the page.)"""
    area = world["home"]
    text = (
        "provider_ref,school_ref,kind,date,minutes,staff,upn\n"
        f"{area['pru'].ref},{area['school'].ref},one_to_one,{DAY.isoformat()},60,Outreach lead,{area['pupil'].upn}\n"
    )
    actor = Actor(user=area["users"][Role.AP_HEAD], via="import")
    with pytest.raises(ImportRefused) as refused:
        run_import(db, actor, "outreach", io.BytesIO(text.encode()), la=area["la"])
    assert [(e.line, e.message) for e in refused.value.report.errors] == [
        (2, "Offer outreach for a named pupil to their school: it starts once the school agrees")
    ]
