"""A form's answers kept when the session lapses: sent by the page a moment before, kept for
that person alone, put back once on the page after they sign in again; refused when the session
is still in use elsewhere or the answers are not a form's."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register import clock
from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent, FormDraft
from tests.pages import csrf_token, sign_in

FIELDS = [
    ["csrf_token", "old"],
    ["submission", "old"],
    ["new_password", "a secret typed with Show"],
    ["code", "123456"],
    ["reasons", "Escalating incidents this term,\nsince September."],
    ["reason_codes", "behaviour"],
    ["reason_codes", "attendance"],
]


def _keep(client: Any, path: str, fields: Any, at_minutes: float = 59.95, action: str | None = None) -> Any:
    """The page's request a moment before the lapse (the session lasts 60 minutes here)."""
    token = csrf_token(client)
    with clock.fixed(clock.now() + timedelta(minutes=at_minutes)):
        return client.post(
            "/account/kept-answers",
            data=json.dumps({"path": path, "action": action or path, "fields": fields}),
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )


def _kept_on(client: Any, path: str) -> Any:
    soup = BeautifulSoup(client.get(path).data, "html.parser")
    data = soup.select_one("script#kept-answers")
    return (json.loads(data.string) if data else None), soup


def test_answers_are_kept_through_the_lapse_and_put_back_once(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home = world["home"]
    lead = home["users"][Role.SCHOOL_LEAD]
    path = f"/pupils/{home['pupil'].id}/referrals/new"
    sign_in(client, lead.email)
    client.get(path)
    answer = _keep(client, path, FIELDS)
    assert answer.status_code == 204
    # Signed out, as the lapse would have done.
    assert "/sign-in" in client.get(path).headers["Location"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "sign_out")).all()[-1]
    assert event.detail["lapsed"] is True and event.detail["answers_kept_for"] == path

    # Another person signing in on the same page gets nothing of it.
    sign_in(client, home["users"][Role.LA_ADMIN].email)
    assert _kept_on(client, path)[0] is None

    sign_in(client, lead.email)
    kept, soup = _kept_on(client, path)
    # The page's own tokens are drawn afresh and secrets never kept: the rest, for its form.
    assert kept == {"action": path, "fields": FIELDS[4:]}
    assert "Your answers were kept" in soup.select_one("#kept-answers-banner").get_text()
    # Once: a second look at the page finds them gone, and nothing of them is left stored.
    assert _kept_on(client, path)[0] is None
    assert db.scalar(select(func.count()).select_from(FormDraft).where(FormDraft.kind.like("kept:%"))) == 0


def test_a_session_still_in_use_keeps_nothing_and_stays_signed_in(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    lead = world["home"]["users"][Role.SCHOOL_LEAD]
    sign_in(client, lead.email)
    path = f"/pupils/{world['home']['pupil'].id}/referrals/new"
    # Used a minute ago in another tab: this page's count is wrong, the session is not lapsing.
    answer = _keep(client, path, FIELDS, at_minutes=1)
    assert answer.status_code == 409
    assert "still signed in" in answer.get_json()["error"]
    assert 58 * 60 <= answer.get_json()["seconds_left"] <= 59 * 60  # when the page should ask again
    assert client.get(path).status_code == 200
    assert db.scalar(select(func.count()).select_from(FormDraft).where(FormDraft.kind.like("kept:%"))) == 0


def test_what_is_not_a_forms_answers_is_refused_and_nothing_changes(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    lead = world["home"]["users"][Role.SCHOOL_LEAD]
    sign_in(client, lead.email)
    path = f"/pupils/{world['home']['pupil'].id}/referrals/new"
    cases = {
        "The path must be one of this service's pages": [
            ("//evil.example/x", FIELDS),
            ("https://x.example/", FIELDS),
            ("/a\\b", FIELDS),
        ],
        "Each field must be a name and a value": [(path, [["reasons"]]), (path, [["reasons", 5]]), (path, ["x"])],
        "Send at most 200 fields, each a name and a value": [(path, [["a", "b"]] * 201), (path, "reasons")],
        "A field must not contain control characters (found U+0007)": [(path, [["reasons", "a\x07b"]])],
        "Each field's name must be 1 to 100 characters and its value 10000 or fewer": [
            (path, [["n" * 101, "x"]]),
            (path, [["reasons", "x" * 10_001]]),
        ],
    }
    for message, attempts in cases.items():
        for where, fields in attempts:
            answer = _keep(client, where, fields)
            assert answer.status_code == 400, (where, fields)
            assert answer.get_json() == {"error": message}
    # A body far larger than any form is refused before it is read.
    big = _keep(client, path, [["reasons", "x" * 10_000]] * 400)
    assert big.status_code == 413
    # Still signed in, and nothing kept.
    assert client.get(path).status_code == 200
    assert db.scalar(select(func.count()).select_from(FormDraft).where(FormDraft.kind.like("kept:%"))) == 0


def test_answers_are_kept_only_with_the_forms_csrf_token(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.SCHOOL_LEAD].email)
    with clock.fixed(clock.now() + timedelta(minutes=59.95)):
        answer = client.post(
            "/account/kept-answers", data=json.dumps({"path": "/", "fields": []}), content_type="application/json"
        )
    assert answer.status_code == 400
    assert db.scalar(select(func.count()).select_from(FormDraft).where(FormDraft.kind.like("kept:%"))) == 0


def test_answers_are_for_the_page_with_its_query_and_wait_for_a_page_that_puts_them_back(
    client: Any,
    world: dict,  # type: ignore[type-arg]
) -> None:
    """A register's day and half are in its address: the answers go back to that register, not
    to today's; a page that answered with a redirect or an error put nothing back, so they wait."""
    home = world["home"]
    sign_in(client, home["users"][Role.AP_HEAD].email)
    register = f"/attendance?setting={home['pru'].id}&day=2025-11-03&half=AM"
    assert _keep(client, register, [[f"mark-{home['pupil'].id}", "/"]]).status_code == 204
    sign_in(client, home["users"][Role.AP_HEAD].email)
    assert _kept_on(client, "/attendance")[0] is None
    assert _kept_on(client, register)[0] == {"action": register, "fields": [[f"mark-{home['pupil'].id}", "/"]]}
    assert _kept_on(client, register)[0] is None
