"""Every page a person reaches from another has a back link; the pages they start from (the
sections of the navigation, the home page, the account and the service's own pages) have none."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy.orm import Session

from ap_register.blueprints.navigation import SECTIONS
from ap_register.domain.vocab import Role
from tests.pages import sign_in
from tests.security.test_route_walk import rules, url_values

# Where a person starts: each section of the navigation, the home page, the header's pages and
# the service's own pages (footer), and sign-in.
STARTS = {s.endpoint for s in SECTIONS.values()} | {
    "main.home",
    "main.inbox",
    "main.accessibility",
    "main.cookies",
    "main.privacy",
    "auth.account",
    "auth.sign_in",
    "budgets.index",
    "register.settings",
    "outcomes.provider",  # an AP head's section "Outcomes"
    "budgets.provider",  # an AP head's "Budget" is their own places
}


def test_every_page_reached_from_another_has_a_back_link(app: Flask, client: Any, world: dict, db: Session) -> None:  # type: ignore[type-arg]
    missing: dict[str, str] = {}
    seen: set[str] = set()
    for role in (Role.LA_ADMIN, Role.COMMISSIONER, Role.PANEL_CHAIR, Role.AP_HEAD, Role.SCHOOL_LEAD):
        sign_in(client, world["home"]["users"][role].email)
        for rule in rules(app):
            if "GET" not in rule.methods or rule.endpoint in STARTS or rule.endpoint in seen:
                continue
            if rule.endpoint.startswith(("api.", "static")) or "fmt" in rule.arguments or "export" in rule.endpoint:
                continue
            url = rule.build(url_values(rule, world, db, "home"))[1] if rule.arguments else rule.rule
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response.content_type:
                continue
            seen.add(rule.endpoint)
            if BeautifulSoup(response.data, "html.parser").select_one("a.govuk-back-link") is None:
                missing[rule.endpoint] = url
    assert len(seen) > 40, sorted(seen)
    assert missing == {}, missing
