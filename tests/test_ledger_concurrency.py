"""A double click, a retried request or two people at once: every write that must happen once
happens once, and the others are told it is already recorded (never a server error).

Real concurrent requests against the real database: 8 workers, each with its own connection,
released at the same instant. On PostgreSQL each worker loads what it will write about first
(as a request does) and then races; on SQLite a transaction holds the write lock from its first
statement, so the workers are released before it and take turns."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ap_register.accounts.api_tokens import create_token
from ap_register.budgets.outreach import close_engagement, start_engagement
from ap_register.domain.actors import Actor
from ap_register.domain.errors import DomainError
from ap_register.domain.vocab import Destination, MovementKind, Registration, Role, Route, SettingKind, Tier
from ap_register.extensions import db
from ap_register.models import (
    AuditEvent,
    Movement,
    OutreachEngagement,
    Placement,
    PlacementReview,
    Pupil,
    Setting,
    User,
)
from ap_register.panels.rules import conclude_managed_move
from ap_register.placements import drafts
from ap_register.placements.rules import (
    PlacementDraft,
    convert_to_transitional,
    end_placement,
    record_roll_movement,
    review_placement,
    start_placement,
)
from tests import factories
from tests.conftest import build_app, make_database
from tests.pages import page, sign_in, text

WORKERS = 8
DAY = date(2025, 11, 10)  # a Monday; every date here is fixed, none is today's


@pytest.fixture(scope="module")
def ledger_app(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url, drop = make_database(db_kind, tmp_path_factory.mktemp("once"))
    # A connection for each worker: the pool must not be what makes them take turns.
    app = build_app(url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": WORKERS + 5, "max_overflow": 0})
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


def make(app: Flask, build: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Records for one test, committed, returned as ids."""
    with app.app_context():
        ids = build(db.session)
        db.session.commit()
        db.session.remove()
    return ids


def area(session: Any) -> dict[str, Any]:
    la = factories.la(session, "855")
    return {
        "la": la,
        "school": factories.setting(session, la, SettingKind.MAINSTREAM),
        "other_school": factories.setting(session, la, SettingKind.MAINSTREAM),
        "pru": factories.setting(session, la, SettingKind.PRU),
        "officer": factories.user(session, Role.LA_ADMIN, la),
    }


def excluded(session: Any, la: Any, school: Any) -> Pupil:
    """Permanently excluded in September, and off the school's roll once the parents wrote that
    they will not ask for a review: the LA places them on the PRU's roll alone in October."""
    pupil = factories.pupil(session, la, school)
    for kind, day, reason in (
        (MovementKind.PERMANENT_EXCLUSION, date(2025, 9, 10), "Assault"),
        (MovementKind.EXCLUSION_UPHELD, date(2025, 9, 12), None),
        (MovementKind.REMOVED_FROM_ROLL, date(2025, 9, 15), "The parents wrote: no review"),
    ):
        record_roll_movement(session, factories.SYSTEM, pupil, kind, day, school, reason=reason, today=day)
    return pupil


def la_placement(pru_id: int, registration: Registration = Registration.SOLE) -> PlacementDraft:
    return PlacementDraft(
        setting_id=pru_id,
        route=Route.LA_EXCLUSION,
        registration=registration,
        sessions="1" * 10,
        start_date=date(2025, 10, 6),
        tier=Tier.TIME_LIMITED,
        planned_end_date=date(2026, 2, 13),
        reintegration_plan="Back to a mainstream school after February",
    )


def race(app: Flask, officer_id: int, load: Callable[[Any], Any], write: Callable[[Any, Actor, Any], Any]) -> list[str]:
    """WORKERS requests at once: each loads with `load`, then writes with `write` and commits.
    Returns each one's answer: "done", or the first message of its refusal."""
    barrier = threading.Barrier(WORKERS, timeout=60)
    answers: list[str] = []

    def worker() -> None:
        with app.app_context():
            sqlite = db.engine.dialect.name == "sqlite"
            session = db.session
            try:
                if sqlite:
                    barrier.wait()
                officer = session.get(User, officer_id)
                loaded = load(session)
                if not sqlite:
                    barrier.wait()
                write(session, Actor(user=officer, via="test"), loaded)
                session.commit()
                answers.append("done")
            except DomainError as refused:
                session.rollback()
                answers.append(refused.errors[0].message)
            except Exception as error:  # noqa: BLE001 - reported by the test, never a hang
                session.rollback()
                answers.append(f"server error: {error!r}")
            finally:
                session.remove()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == WORKERS, "every worker answered"
    return answers


def once(answers: list[str], refusal: str) -> None:
    """One worker wrote; every other was told, in these words, that it was already done."""
    assert answers.count("done") == 1, Counter(answers)
    others = [a for a in answers if a != "done"]
    assert len(others) == WORKERS - 1 and all(refusal in a for a in others), Counter(answers)


def ledger(app: Flask, pupil_id: int) -> Counter[tuple[str, int | None]]:
    """The pupil's movements, counted by kind and setting."""
    with app.app_context():
        rows = db.session.execute(select(Movement.kind, Movement.setting_id).where(Movement.pupil_id == pupil_id)).all()
        db.session.remove()
    return Counter((kind.value, setting_id) for kind, setting_id in rows)


def count(app: Flask, stmt: Any) -> int:
    with app.app_context():
        found = db.session.scalar(stmt)
        db.session.remove()
    return int(found or 0)


# --- the roll -------------------------------------------------------------------------------


def test_eight_people_recording_the_same_admission_at_once_admit_the_pupil_once(ledger_app: Flask) -> None:
    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = factories.pupil(session, made["la"], made["school"])
        return {
            "officer": made["officer"].id,
            "pupil": pupil.id,
            "from": made["school"].id,
            "to": made["other_school"].id,
        }

    ids = make(ledger_app, build)

    def load(session: Any) -> Any:
        pupil = session.get(Pupil, ids["pupil"])
        _ = pupil.home_school, pupil.home_la
        return pupil, session.get(Setting, ids["to"])

    answers = race(
        ledger_app,
        ids["officer"],
        load,
        lambda session, actor, loaded: record_roll_movement(
            session, actor, loaded[0], MovementKind.ADMITTED, DAY, loaded[1], today=DAY
        ),
    )
    once(answers, "already recorded")
    moves = ledger(ledger_app, ids["pupil"])
    assert moves[("admitted", ids["to"])] == 1
    assert moves[("removed_from_roll", ids["from"])] == 1
    assert count(ledger_app, select(Pupil.home_school_id).where(Pupil.id == ids["pupil"])) == ids["to"]


@pytest.mark.parametrize(
    ("kind", "days", "reason"),
    [(MovementKind.PERMANENT_EXCLUSION, None, "Assault"), (MovementKind.SUSPENSION, 5, "Threats")],
)
def test_eight_people_recording_the_same_exclusion_at_once_record_it_once(
    ledger_app: Flask, kind: MovementKind, days: int | None, reason: str
) -> None:
    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = factories.pupil(session, made["la"], made["school"])
        return {"officer": made["officer"].id, "pupil": pupil.id, "school": made["school"].id}

    ids = make(ledger_app, build)

    def load(session: Any) -> Any:
        pupil = session.get(Pupil, ids["pupil"])
        _ = pupil.home_school, pupil.home_la
        return pupil, session.get(Setting, ids["school"])

    answers = race(
        ledger_app,
        ids["officer"],
        load,
        lambda session, actor, loaded: record_roll_movement(
            session, actor, loaded[0], kind, DAY, loaded[1], days=days, reason=reason, today=DAY
        ),
    )
    once(answers, "already recorded")
    assert ledger(ledger_app, ids["pupil"])[(kind.value, ids["school"])] == 1


# --- placements -----------------------------------------------------------------------------


def test_eight_requests_starting_the_same_placement_at_once_make_one(ledger_app: Flask) -> None:
    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = excluded(session, made["la"], made["school"])
        return {"officer": made["officer"].id, "pupil": pupil.id, "pru": made["pru"].id}

    ids = make(ledger_app, build)

    def load(session: Any) -> Any:
        pupil = session.get(Pupil, ids["pupil"])
        _ = pupil.home_school, pupil.home_la
        return pupil

    answers = race(
        ledger_app,
        ids["officer"],
        load,
        lambda session, actor, pupil: start_placement(session, actor, pupil, la_placement(ids["pru"])),
    )
    once(answers, "already recorded")
    assert count(ledger_app, select(func.count()).select_from(Placement).where(Placement.pupil_id == ids["pupil"])) == 1
    moves = ledger(ledger_app, ids["pupil"])
    assert moves[("placement_started", ids["pru"])] == 1
    assert moves[("admitted", ids["pru"])] == 1


def placed(session: Any, registration: Registration = Registration.SOLE) -> dict[str, Any]:
    """An excluded pupil in a time-limited place at the PRU."""
    made = area(session)
    pupil = excluded(session, made["la"], made["school"])
    placement, _ = start_placement(session, factories.SYSTEM, pupil, la_placement(made["pru"].id, registration))
    return {"officer": made["officer"].id, "pupil": pupil.id, "pru": made["pru"].id, "placement": placement.id}


def load_placement(placement_id: int) -> Callable[[Any], Placement]:
    def load(session: Any) -> Placement:
        placement = session.get(Placement, placement_id)
        _ = placement.pupil.home_school, placement.pupil.home_la, placement.setting
        return placement  # type: ignore[no-any-return]

    return load


def test_eight_people_ending_the_same_placement_at_once_end_it_once(ledger_app: Flask) -> None:
    ids = make(ledger_app, placed)
    answers = race(
        ledger_app,
        ids["officer"],
        load_placement(ids["placement"]),
        lambda session, actor, placement: end_placement(
            session, actor, placement, end_date=date(2025, 12, 19), destination=Destination.NEW_MAINSTREAM_SCHOOL
        ),
    )
    once(answers, "already ended on 19 December 2025")
    moves = ledger(ledger_app, ids["pupil"])
    assert moves[("placement_ended", ids["pru"])] == 1
    # The sole registration ends: the pupil leaves the PRU's roll, once.
    assert moves[("removed_from_roll", ids["pru"])] == 1


def test_eight_people_recording_the_same_review_at_once_record_one(ledger_app: Flask) -> None:
    ids = make(ledger_app, placed)
    answers = race(
        ledger_app,
        ids["officer"],
        load_placement(ids["placement"]),
        lambda session, actor, placement: review_placement(
            session, actor, placement, review_date=DAY, notes="Settled; attending every session", today=DAY
        ),
    )
    once(answers, "already recorded")
    assert (
        count(
            ledger_app,
            select(func.count()).select_from(PlacementReview).where(PlacementReview.placement_id == ids["placement"]),
        )
        == 1
    )
    assert ledger(ledger_app, ids["pupil"])[("placement_reviewed", ids["pru"])] == 1


def test_eight_people_converting_the_same_placement_at_once_convert_it_once(ledger_app: Flask) -> None:
    ids = make(ledger_app, placed)
    answers = race(
        ledger_app,
        ids["officer"],
        load_placement(ids["placement"]),
        lambda session, actor, placement: convert_to_transitional(
            session, actor, placement, on=date(2026, 1, 5), reason="Needs a longer stay before a new school"
        ),
    )
    once(answers, "already converted")
    assert count(ledger_app, select(func.count()).select_from(Placement).where(Placement.pupil_id == ids["pupil"])) == 2
    assert (
        count(
            ledger_app,
            select(func.count()).select_from(Placement).where(Placement.converted_from_id == ids["placement"]),
        )
        == 1
    )
    moves = ledger(ledger_app, ids["pupil"])
    assert moves[("placement_ended", ids["pru"])] == 1
    assert moves[("placement_started", ids["pru"])] == 2  # the time-limited place, then the transitional one


def test_eight_people_confirming_the_same_managed_move_at_once_confirm_it_once(ledger_app: Flask) -> None:
    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = factories.pupil(session, made["la"], made["school"])
        move = factories.placement(
            session,
            pupil,
            made["other_school"],
            route=Route.OFF_SITE_DIRECTION,
            registration=Registration.DUAL,
            start=date(2025, 10, 6),
            tier=None,
        )
        return {
            "officer": made["officer"].id,
            "pupil": pupil.id,
            "placement": move.id,
            "from": made["school"].id,
            "to": made["other_school"].id,
        }

    ids = make(ledger_app, build)
    answers = race(
        ledger_app,
        ids["officer"],
        load_placement(ids["placement"]),
        lambda session, actor, placement: conclude_managed_move(
            session, actor, placement, "confirmed", DAY, "Settled well; both heads agree"
        ),
    )
    once(answers, "already ended")
    moves = ledger(ledger_app, ids["pupil"])
    assert moves[("placement_ended", ids["to"])] == 1
    assert moves[("admitted", ids["to"])] == 1
    assert moves[("removed_from_roll", ids["from"])] == 1


# --- outreach -------------------------------------------------------------------------------


def test_eight_people_closing_the_same_outreach_at_once_close_it_once(ledger_app: Flask) -> None:
    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = factories.pupil(session, made["la"], made["school"])
        engagement = start_engagement(
            session,
            factories.SYSTEM,
            provider=made["pru"],
            school=made["school"],
            kind="coaching",
            started_on=date(2025, 9, 8),
            pupil=pupil,
            today=DAY,
        )
        return {"officer": made["officer"].id, "engagement": engagement.id}

    ids = make(ledger_app, build)

    def load(session: Any) -> Any:
        engagement = session.get(OutreachEngagement, ids["engagement"])
        _ = engagement.provider, engagement.sessions
        return engagement

    answers = race(
        ledger_app,
        ids["officer"],
        load,
        lambda session, actor, engagement: close_engagement(
            session, actor, engagement, closed_on=DAY, outcome="sustained_in_mainstream", note="", today=DAY
        ),
    )
    once(answers, "already closed")
    closes = (
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "close",
            AuditEvent.object_type == "outreach",
            AuditEvent.object_id == str(ids["engagement"]),
        )
    )
    assert count(ledger_app, closes) == 1


# --- the placement pages and the API --------------------------------------------------------


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released at the same instant; their answers, in order."""
    barrier = threading.Barrier(len(calls), timeout=60)
    answers: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        answers[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_a_double_click_on_confirm_records_the_placement_once(ledger_app: Flask) -> None:
    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = excluded(session, made["la"], made["school"])
        user = made["officer"]
        draft = drafts.start(
            session,
            user,
            "placement",
            {
                "pupil_id": pupil.id,
                "route": Route.LA_EXCLUSION.value,
                "setting_id": made["pru"].id,
                "registration": Registration.SOLE.value,
                "tier": Tier.TIME_LIMITED.value,
                "start_date": "2025-10-06",
                "planned_end_date": "2026-02-13",
                "sessions": "1" * 10,
                "reason": "Permanently excluded: the LA's sixth-day provision",
                "reintegration_plan": "Back to a mainstream school after February",
                "commissioner_la_id": made["la"].id,
            },
        )
        return {"email": user.email, "pupil": pupil.id, "pru": made["pru"].id, "token": draft.token}

    ids = make(ledger_app, build)
    check_url = f"/placements/new/{ids['token']}/check"
    first = ledger_app.test_client()
    assert sign_in(first, ids["email"]).status_code == 302
    soup = page(first.get(check_url))
    field = soup.select_one("input[name=csrf_token]")
    assert field is not None
    token = str(field["value"])
    cookie = first.get_cookie("session")
    assert cookie is not None
    # One person's browser, one session: the same form sent eight times at once.
    clients = []
    for _ in range(WORKERS):
        client = ledger_app.test_client()
        client.set_cookie("session", cookie.value)
        clients.append(client)
    responses = at_once([lambda c=c: c.post(check_url, data={"csrf_token": token}) for c in clients])
    assert [r.status_code for r in responses] == [302] * WORKERS
    places = {r.headers["Location"] for r in responses}
    assert len(places) == 1 and places.pop().endswith("/confirmation")
    shown = [text(page(c.get(r.headers["Location"]))) for c, r in zip(clients, responses, strict=True)]
    assert all("Placement recorded" in s for s in shown)
    assert sum("You confirmed this placement already" in s for s in shown) == WORKERS - 1
    # Back to the check page afterwards: the placement, not a form to send again.
    again = clients[0].get(check_url)
    assert again.status_code == 302 and again.headers["Location"] == responses[0].headers["Location"]
    assert count(ledger_app, select(func.count()).select_from(Placement).where(Placement.pupil_id == ids["pupil"])) == 1
    moves = ledger(ledger_app, ids["pupil"])
    assert moves[("placement_started", ids["pru"])] == 1
    assert moves[("admitted", ids["pru"])] == 1


def test_an_api_client_sending_the_same_placement_and_end_at_once_writes_each_once(ledger_app: Flask) -> None:
    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = excluded(session, made["la"], made["school"])
        made_token = create_token(
            session, factories.SYSTEM, name="Case system", organisation=made["la"], role=Role.LA_ADMIN, days=30
        )
        return {"secret": made_token.secret, "pupil": pupil.id, "pru": made["pru"].id}

    ids = make(ledger_app, build)
    headers = {"Authorization": f"Bearer {ids['secret']}"}
    assert ledger_app.test_client().get("/api/v1/me", headers=headers).status_code == 200
    body = {
        "pupil_id": ids["pupil"],
        "setting_id": ids["pru"],
        "route": "la_exclusion",
        "registration": "sole",
        "tier": "time_limited",
        "sessions": "1" * 10,
        "start_date": "2025-10-06",
        "planned_end_date": "2026-02-13",
        "reintegration_plan": "Back to a mainstream school after February",
    }
    clients = [ledger_app.test_client() for _ in range(WORKERS)]
    made = at_once([lambda c=c: c.post("/api/v1/placements", headers=headers, json=body) for c in clients])
    assert sorted(r.status_code for r in made) == [201] + [422] * (WORKERS - 1)
    refused = [r.get_json()["error"]["errors"][0]["message"] for r in made if r.status_code == 422]
    assert all("already recorded" in message for message in refused), refused
    placement_id = next(r.get_json()["placement"]["id"] for r in made if r.status_code == 201)
    end = {"end_date": "2025-12-19", "destination": "new_mainstream_school"}
    ended = at_once(
        [lambda c=c: c.post(f"/api/v1/placements/{placement_id}/end", headers=headers, json=end) for c in clients]
    )
    assert sorted(r.status_code for r in ended) == [200] + [422] * (WORKERS - 1)
    refused = [r.get_json()["error"]["errors"][0]["message"] for r in ended if r.status_code == 422]
    assert all("already ended on 19 December 2025" in message for message in refused), refused
    assert count(ledger_app, select(func.count()).select_from(Placement).where(Placement.pupil_id == ids["pupil"])) == 1
    moves = ledger(ledger_app, ids["pupil"])
    assert moves[("placement_started", ids["pru"])] == 1
    assert moves[("admitted", ids["pru"])] == 1
    assert moves[("placement_ended", ids["pru"])] == 1
    assert moves[("removed_from_roll", ids["pru"])] == 1


def test_a_page_form_sent_eight_times_at_once_does_its_work_once(ledger_app: Flask) -> None:
    """The forms no rule can tell a repeat of (a referral, an outreach session) are done once:
    the single-use token of the page they were drawn on is taken by the first to arrive."""
    from ap_register.models import Referral

    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = factories.pupil(session, made["la"], made["school"])
        lead = factories.user(session, Role.SCHOOL_LEAD, made["school"])
        head = factories.user(session, Role.AP_HEAD, made["pru"])
        engagement = start_engagement(
            session,
            factories.SYSTEM,
            provider=made["pru"],
            school=made["school"],
            kind="coaching",
            started_on=date(2025, 9, 8),
            group_name="Year 8 group",
            today=DAY,
        )
        return {"lead": lead.email, "head": head.email, "pupil": pupil.id, "engagement": engagement.id}

    ids = make(ledger_app, build)

    def eight_at_once(email: str, url: str, data: dict[str, Any]) -> list[Any]:
        first = ledger_app.test_client()
        assert sign_in(first, email).status_code == 302
        soup = page(first.get(url))
        form = {"csrf_token": str(soup.select_one("input[name=csrf_token]")["value"])}
        form["submission"] = str(soup.select_one("input[name=submission]")["value"])
        cookie = first.get_cookie("session")
        assert cookie is not None
        clients = []
        for _ in range(WORKERS):
            client = ledger_app.test_client()
            client.set_cookie("session", cookie.value)
            clients.append(client)
        return at_once([lambda c=c: c.post(url, data={**form, **data}) for c in clients])

    sent = eight_at_once(
        ids["lead"],
        f"/pupils/{ids['pupil']}/referrals/new",
        {
            "move": "time_limited_ap",
            "route": "off_site_direction",
            "reason_codes": ["behaviour"],
            "reasons": "Escalating incidents",
            "support_1": "Mentoring",
            "support_1_started": ["8", "9", "2025"],
            "parent_views": "Agrees",
            "pupil_views": "Agrees",
            "best_interest": "Short time off-site",
        },
    )
    from tests.pages import errors

    assert sorted(r.status_code for r in sent) == [200] * (WORKERS - 1) + [302], [errors(page(r)) for r in sent][:2]
    assert all("You sent this form already" in r.get_data(as_text=True) for r in sent if r.status_code == 200)
    assert count(ledger_app, select(func.count()).select_from(Referral).where(Referral.pupil_id == ids["pupil"])) == 1

    logged = eight_at_once(
        ids["head"],
        f"/outreach/{ids['engagement']}",
        {
            "session-held_on": ["5", "11", "2025"],
            "session-minutes": "45",
            "session-staff": "Key worker",
            "session-submit": "Log",
        },
    )
    assert sorted(r.status_code for r in logged) == [200] * (WORKERS - 1) + [302]
    from ap_register.models import OutreachSession

    assert (
        count(
            ledger_app,
            select(func.count()).select_from(OutreachSession).where(OutreachSession.engagement_id == ids["engagement"]),
        )
        == 1
    )


def test_a_request_for_a_child_s_record_is_decided_once(ledger_app: Flask) -> None:
    """Releases, declines and the asking LA's withdrawal of one request, sent at once: one
    decision, the others told it was already decided. Then two LAs' requests for one child,
    released at once: the child goes to one of them, and nothing else is released."""
    from itertools import count as counter

    from ap_register.models import PupilTransfer
    from ap_register.placements.transfers import decline, release, request_transfer, withdraw

    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        first, second = (factories.pupil(session, made["la"], made["school"]) for _ in range(2))
        asking = [factories.la(session, code) for code in ("856", "857")]
        asker = factories.user(session, Role.LA_ADMIN, asking[0])

        def ask(la: Any, pupil: Pupil) -> int:
            return request_transfer(
                session,
                factories.SYSTEM,
                la,
                upn=pupil.upn,
                date_of_birth=pupil.date_of_birth,
                reason="Moved",
                today=DAY,
            ).id

        return {
            "officer": made["officer"].id,
            "asker": asker.id,
            "first": ask(asking[0], first),
            "second": [ask(asking[0], second), ask(asking[1], second)],
            "second_pupil": second.id,
        }

    ids = make(ledger_app, build)
    turn = counter()

    def decide(session: Any, actor: Actor, transfer: Any) -> None:
        n = next(turn) % 3
        if n == 0:
            release(session, actor, transfer)
        elif n == 1:
            decline(session, actor, transfer, note="Not yet")
        else:
            withdraw(session, Actor(user=session.get(User, ids["asker"]), via="test"), transfer)

    answers = race(ledger_app, ids["officer"], lambda s: s.get(PupilTransfer, ids["first"]), decide)
    once(answers, "This request has already been decided")

    def release_one_of_two(session: Any, actor: Actor, loaded: Any) -> None:
        release(session, actor, loaded[next(turn) % 2])

    answers = race(
        ledger_app,
        ids["officer"],
        lambda s: [s.get(PupilTransfer, i) for i in ids["second"]],
        release_one_of_two,
    )
    assert answers.count("done") == 1 and not [a for a in answers if a.startswith("server error")], answers
    with ledger_app.app_context():
        requests = [db.session.get(PupilTransfer, i) for i in ids["second"]]
        released = [r for r in requests if r.status == "released"]
        assert len(released) == 1
        assert db.session.get(Pupil, ids["second_pupil"]).home_la_id == released[0].to_la_id
        db.session.remove()


def test_an_offer_of_outreach_is_answered_once_and_a_record_asked_for_once(ledger_app: Flask) -> None:
    """Eight answers to one offer at once make one engagement; eight requests by one LA for one
    child's record at once make one request."""
    from ap_register.budgets.outreach import agree, propose
    from ap_register.models import OutreachProposal, PupilTransfer
    from ap_register.placements.transfers import request_transfer

    def build(session: Any) -> dict[str, Any]:
        made = area(session)
        pupil = factories.pupil(session, made["la"], made["school"])
        offer = propose(
            session,
            factories.SYSTEM,
            provider=made["pru"],
            school=made["school"],
            kind="coaching",
            started_on=DAY,
            upn=pupil.upn,
            today=DAY,
        )
        asking = factories.la(session, "856")
        return {
            "officer": made["officer"].id,
            "offer": offer.id,
            "pupil": pupil.id,
            "asking": asking.id,
            "asker": factories.user(session, Role.LA_ADMIN, asking).id,
        }

    ids = make(ledger_app, build)
    answers = race(
        ledger_app,
        ids["officer"],
        lambda s: s.get(OutreachProposal, ids["offer"]),
        lambda s, actor, offer: agree(s, actor, offer, today=DAY),
    )
    once(answers, "This offer has already been answered")
    engaged = select(func.count()).select_from(OutreachEngagement).where(OutreachEngagement.pupil_id == ids["pupil"])
    assert count(ledger_app, engaged) == 1

    def ask(session: Any, actor: Actor, loaded: Any) -> None:
        la, pupil = loaded
        request_transfer(
            session, actor, la, upn=pupil.upn, date_of_birth=pupil.date_of_birth, reason="Moved", today=DAY
        )

    from ap_register.models import LocalAuthority

    answers = race(
        ledger_app,
        ids["asker"],
        lambda s: (s.get(LocalAuthority, ids["asking"]), s.get(Pupil, ids["pupil"])),
        ask,
    )
    once(answers, "A request for this UPN is already waiting")
    assert (
        count(ledger_app, select(func.count()).select_from(PupilTransfer).where(PupilTransfer.pupil_id == ids["pupil"]))
        == 1
    )
