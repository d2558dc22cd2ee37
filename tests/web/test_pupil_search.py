"""The pupil search's suggestions (asked for by the autocomplete as a person types): only the
children this person may see, each audited as viewed, and bad input refused in words."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ap_register.domain.vocab import Role
from ap_register.models import AuditEvent
from tests.pages import sign_in


def _events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_suggestions_name_only_the_pupils_a_person_may_see(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    home, other = world["home"], world["other"]
    # The AP head sees the child placed at their PRU; not the other area's Robin, not a bystander.
    sign_in(client, home["users"][Role.AP_HEAD].email)
    answer = client.get("/pupils/suggest?q=robin")
    assert answer.status_code == 200
    assert answer.get_json() == {
        "pupils": [{"upn": home["pupil"].upn, "name": "Robin Homechild", "school": "Home High School"}]
    }
    assert [e.pupil_id for e in _events(db, "view")] == [home["pupil"].id]
    search = _events(db, "search")[-1]
    assert search.detail["query"] == "robin" and search.detail["suggested"] == 1

    # The area's attendance officer finds both of its children by part of their surname, in
    # the order of the register's lists; the other area's children never.
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    names = [p["name"] for p in client.get("/pupils/suggest?q=HOME").get_json()["pupils"]]
    assert names == ["Casey Homebystander", "Robin Homechild"]
    assert client.get(f"/pupils/suggest?q={other['pupil'].upn}").get_json() == {"pupils": []}
    # A UPN typed in full (in any case, with spaces) finds its child.
    spaced = " ".join(home["bystander"].upn.lower())
    assert [p["upn"] for p in client.get("/pupils/suggest", query_string={"q": spaced}).get_json()["pupils"]] == [
        home["bystander"].upn
    ]


def test_a_letter_suggests_nothing_and_bad_input_is_refused_in_words(client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    sign_in(client, world["home"]["users"][Role.LA_ADMIN].email)
    before = db.scalar(select(func.count()).select_from(AuditEvent))
    assert client.get("/pupils/suggest?q=r").get_json() == {"pupils": []}
    assert client.get("/pupils/suggest", query_string={"q": "rob\x00in"}).status_code == 400  # as on every page
    bell = client.get("/pupils/suggest", query_string={"q": "rob\x07in"})
    assert bell.status_code == 400
    assert bell.get_json() == {"error": "The search must not contain control characters (found U+0007)"}
    long = client.get("/pupils/suggest", query_string={"q": "9" * 101})
    assert long.status_code == 400
    assert long.get_json() == {"error": "The search must be 100 characters or fewer"}
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_suggestions_need_a_signed_in_person(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    answer = client.get("/pupils/suggest?q=robin")
    assert answer.status_code == 302
    assert "/sign-in" in answer.headers["Location"]


def test_a_search_that_finds_nothing_is_audited_and_wildcards_are_letters(
    client: Any, world: dict, db: Session
) -> None:  # type: ignore[type-arg]
    home = world["home"]
    sign_in(client, home["users"][Role.AP_HEAD].email)
    # A guess at a child out of scope leaves its trace, though it names nobody.
    assert client.get("/pupils/suggest?q=Otherchild").get_json() == {"pupils": []}
    assert _events(db, "search")[-1].detail["query"] == "Otherchild"
    # "%" and "_" are what was typed, not "any letters": they list nobody.
    sign_in(client, home["users"][Role.ATTENDANCE_OFFICER].email)
    assert client.get("/pupils/suggest", query_string={"q": "__"}).get_json() == {"pupils": []}
    assert client.get("/pupils/suggest", query_string={"q": "%%"}).get_json() == {"pupils": []}


def test_a_suggestion_answered_late_cannot_undo_the_form_just_sent(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    """The page asks for suggestions as the person types; one of them may be answered after the
    form has been sent and its answer has set a new session cookie (its "Offer sent" message). A
    suggestion's answer sets no cookie, so it cannot put the old session back and lose the message."""
    sign_in(client, world["home"]["users"][Role.AP_HEAD].email)
    before = client.get_cookie("session")
    assert before is not None
    answer = client.get("/pupils/suggest?q=robin")
    assert answer.status_code == 200 and answer.get_json()["pupils"]
    assert "Set-Cookie" not in answer.headers
    # Replayed with the cookie as it was before a later answer changed it: still nothing set.
    client.set_cookie("session", before.value)
    assert "Set-Cookie" not in client.get("/pupils/suggest?q=robin").headers
    # A page's answer still refreshes the session, as it always did.
    assert "Set-Cookie" in client.get("/pupils").headers


def test_a_page_file_fetched_late_cannot_undo_the_form_just_sent(client: Any, world: dict) -> None:  # type: ignore[type-arg]
    """The browser may fetch a page's icon or style sheet after the next form was sent, or after
    the person signed out. Those answers set no cookie, so they cannot put an older session back."""
    sign_in(client, world["home"]["users"][Role.AP_HEAD].email)
    for path in ("/static/images/favicon.svg", "/static/css/main.css"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers, path
