"""Before a session lapses the person is warned, and may stay signed in; done nothing, they are
taken to sign in again, told why, and brought back to the page they were on. The session here
lasts 12 seconds with a warning 8 seconds before it ends (SESSION_MINUTES is 60 in use)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register.domain.vocab import Role
from ap_register.extensions import db
from tests import factories
from tests.browser.conftest import sign_in
from tests.conftest import build_app, build_world, make_database

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_app(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url, drop = make_database(db_kind, tmp_path_factory.mktemp("timeout"))
    app = build_app(
        url, WTF_CSRF_ENABLED=True, PERMANENT_SESSION_LIFETIME=timedelta(seconds=12), SESSION_WARNING_SECONDS=8
    )
    with app.app_context():
        world = build_world(db.session)
        factories.user(db.session, Role.ATTENDANCE_OFFICER, world["home"]["la"], email="officer@example.org")
        db.session.commit()
        app.config["TEST_AREA"] = {
            "lead": world["home"]["users"][Role.SCHOOL_LEAD].email,
            "pupil_id": world["home"]["pupil"].id,
        }
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


def test_a_person_is_warned_before_the_session_lapses_and_may_stay(page: Any, axe: Any) -> None:
    sign_in(page, "officer@example.org", factories.PASSWORD)
    page.goto("/alerts")
    dialog = page.get_by_role("dialog", name="You’re about to be signed out")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    axe.check(page)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    # Staying renewed the session: past the time it would have lapsed, the next page is still
    # the signed-in person's.
    page.wait_for_timeout(9_000)
    page.goto("/alerts")
    expect(page.locator("h1")).to_have_text("Alerts")
    # Done nothing, the warning comes back, and then the sign-in page, saying why.
    expect(dialog).to_be_visible(timeout=12_000)
    expect(page).to_have_url(re.compile(r"/sign-in\?.*lapsed=1"), timeout=15_000)
    expect(page.locator("main")).to_contain_text("You were signed out because you did nothing for a while")
    page.fill("#email", "officer@example.org")
    page.fill("#password", factories.PASSWORD)
    page.click("button:has-text('Sign in')")
    expect(page.locator("h1")).to_have_text("Alerts")


def test_a_form_half_done_when_the_session_lapses_is_kept_for_after_signing_in(
    page: Any, axe: Any, live_app: Any
) -> None:
    area = live_app.config["TEST_AREA"]
    sign_in(page, area["lead"], factories.PASSWORD)
    form = f"/pupils/{area['pupil_id']}/referrals/new"
    page.goto(form)
    page.get_by_label("Time-limited alternative provision").check()
    page.get_by_label("Behaviour that has not improved with support").check()
    page.fill("#reasons", "Escalating incidents this term,\ndespite a pastoral support plan.")
    # Done nothing: the warning, then the sign-in page, saying why.
    expect(page).to_have_url(re.compile(r"/sign-in\?.*lapsed=1"), timeout=20_000)
    page.fill("#email", area["lead"])
    page.fill("#password", factories.PASSWORD)
    page.click("button:has-text('Sign in')")
    # Back on the form, with what was typed and chosen put back, and a banner saying so.
    expect(page).to_have_url(re.compile(re.escape(form) + "$"))
    banner = page.locator("#kept-answers-banner")
    expect(banner).to_contain_text("Your answers were kept")
    expect(banner).to_be_focused()
    expect(page.locator("#reasons")).to_have_value("Escalating incidents this term,\ndespite a pastoral support plan.")
    expect(page.get_by_label("Time-limited alternative provision")).to_be_checked()
    expect(page.get_by_label("Behaviour that has not improved with support")).to_be_checked()
    axe.check(page)
