"""Browser tests: the real app served on localhost, driven by Debian's Chromium through Playwright
(no browser download: executable_path is /usr/bin/chromium, or $CHROMIUM). Each page visited is
checked with axe-core against WCAG 2.0, 2.1 and 2.2 A and AA."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from ap_register.extensions import db
from tests.conftest import build_app, copy_database, make_database, unavailable

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
STATIC = Path(__file__).resolve().parents[2] / "ap_register" / "static" / "css" / "main.css"


def setting_box(page: Any, label: str) -> Any:
    """A setting's autocomplete box, once the script has made it (a select is a combobox too,
    until the script hides it: typing into that would race the script)."""
    return page.get_by_role("combobox", name=label).and_(page.locator("input"))


def choose(page: Any, label: str, option: str) -> None:
    """Choose a setting from its autocomplete as a person does: type part of its name, then pick
    it from the list; the select behind the box then holds it."""
    from playwright.sync_api import expect

    box = setting_box(page, label)
    box.fill(option[:8])
    page.get_by_role("option", name=option, exact=True).click()
    expect(box).to_have_value(option)


def fill_date(page: Any, name: str, day: Any) -> None:
    """A GOV.UK date input's three boxes, as a person types them."""
    page.fill(f"#{name}-day", str(day.day))
    page.fill(f"#{name}-month", str(day.month))
    page.fill(f"#{name}-year", str(day.year))


@pytest.fixture(scope="module")
def live_app(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app on its own database (a live server cannot share the tests' transaction)."""
    if not STATIC.exists():
        unavailable("The GOV.UK assets are not built: run `npm ci && npm run build` (make setup does)")
    url, drop = make_database(db_kind, tmp_path_factory.mktemp("browser"))
    app = build_app(url, WTF_CSRF_ENABLED=True)
    yield app
    with app.app_context():
        db.engine.dispose()
    drop()


@pytest.fixture(scope="module")
def server(live_app: Any) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def demo(live_app: Any, demo_template: str) -> None:
    """The demo area in the module's live app: its database made a copy of the run's demo
    database (before anything else is written to it; a module may define its own)."""
    copy_database(demo_template, live_app)


def sign_in(page: Any, email: str, password: str) -> None:
    """Sign in through the page, as a person does, and wait for the home page."""
    from playwright.sync_api import expect

    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Your work today")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture()
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    tab = context.new_page()
    # A CSP violation or a script error is a failure, not a console message to ignore.
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: problems.append(str(error) + " at " + tab.url + " " + str(error.stack)[:600]))
    tab.console_errors = problems  # a test that visits a missing page on purpose clears its 404
    yield tab
    context.close()
    assert problems == [], f"the browser reported errors: {problems}"


class Accessibility:
    """Runs axe-core on each page a journey visits and keeps what it finds."""

    def __init__(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.checked: list[str] = []

    def check(self, page: Any) -> None:
        results = self.axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        self.checked.append(page.url)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.fixture()
def axe() -> Accessibility:
    return Accessibility()
