"""Outreach through the pages, and outreach as the support tried before a referral."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import OutreachEngagement, Referral
from tests.pages import date_fields, errors, page, post, sign_in, text


def test_an_ap_head_starts_logs_and_closes_an_engagement(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    sign_in(client, home["users"][Role.AP_HEAD].email)
    # The provider offers work with a named pupil; the school agrees before anything is seen.
    response = post(
        client,
        "/outreach/new",
        {
            "school": str(home["school"].id),
            "kind": "one_to_one",
            "upn": home["pupil"].upn,
            **date_fields("started_on", date(2025, 11, 3)),
        },
    )
    assert response.status_code == 302
    offer = response.headers["Location"]
    assert home["pupil"].last_name not in text(page(client.get(offer)))
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    response = post(client, offer, {"agree": "Agree"})
    assert response.status_code == 302
    sign_in(client, home["users"][Role.AP_HEAD].email)
    url = response.headers["Location"]
    post(
        client,
        url,
        {
            **date_fields("session-held_on", date(2025, 11, 5)),
            "session-minutes": "45",
            "session-staff": "Key worker",
            "session-submit": "Log",
        },
    )
    # People write durations as they say them; what cannot be read is asked for again.
    post(
        client,
        url,
        {
            **date_fields("session-held_on", date(2025, 11, 12)),
            "session-minutes": "1 hour 30",
            "session-staff": "Key worker",
            "session-submit": "Log",
        },
    )
    soup = page(
        post(
            client,
            url,
            {
                **date_fields("session-held_on", date(2025, 11, 13)),
                "session-minutes": "a while",
                "session-staff": "Key worker",
                "session-submit": "Log",
            },
        )
    )
    assert errors(soup) == ["Enter the minutes, from 1 to 480"]
    response = post(
        client,
        url,
        {
            "close-outcome": "sustained_in_mainstream",
            **date_fields("close-closed_on", date(2025, 11, 20)),
            "close-submit": "Close",
        },
    )
    assert response.status_code == 302
    engagement = db.scalars(select(OutreachEngagement).order_by(OutreachEngagement.id.desc())).first()
    assert engagement is not None and engagement.minutes == 45 + 90 and engagement.outcome == "sustained_in_mainstream"
    # The AP head sees the pupil they supported.
    assert client.get(f"/pupils/{home['pupil'].id}").status_code == 200
    assert "Sustained in mainstream" in text(page(client.get(url)))


def test_outreach_counts_as_support_tried_on_a_referral(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    sign_in(client, home["users"][Role.SCHOOL_LEAD].email)
    url = f"/pupils/{home['pupil'].id}/referrals/new"
    soup = page(client.get(url))
    assert "Outreach: coaching from Home PRU, 1 session (1.0 hours)" in text(soup)
    response = post(
        client,
        url,
        {
            "move": "time_limited_ap",
            "route": "off_site_direction",
            "reason_codes": ["behaviour"],
            "reasons": "Escalating incidents",
            "outreach": [str(home["engagement"].id)],
            "parent_views": "Agrees",
            "pupil_views": "Agrees",
            "best_interest": "Short time off-site",
        },
    )
    assert response.status_code == 302
    referral = db.scalars(select(Referral).order_by(Referral.id.desc())).first()
    assert referral is not None
    assert [(s.description, s.engagement_id) for s in referral.support] == [
        ("Outreach: coaching from Home PRU, 1 session (1.0 hours)", home["engagement"].id)
    ]
