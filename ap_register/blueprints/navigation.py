"""The service navigation: the few sections each role works in, in the order of their work, on
one row of the GOV.UK service navigation. Everything else is reached from these pages and from
the home page; the account, the inbox and signing out are in the header."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request, url_for

from ap_register import permissions
from ap_register.domain.vocab import Role
from ap_register.models import User


@dataclass(frozen=True)
class Section:
    text: str
    endpoint: str
    action: str  # the permission the section's page asks for
    # The pages that belong to the section: endpoints, or whole blueprints ("panels.").
    owns: tuple[str, ...]
    args: Callable[[User], dict[str, Any]] = lambda user: {}


SECTIONS = {
    "pupils": Section(
        "Find a pupil",
        "register.find_pupil",
        "pupil.view",
        ("register.find_pupil", "register.pupil", "register.placement_new", "register.movement_new"),
    ),
    "placements": Section(
        "Placements",
        "register.placements",
        "register.view",
        ("register.placement", "register.settings", "register.setting"),
    ),
    "coverage": Section(
        "Coverage", "coverage.coverage", "coverage.view", ("coverage.coverage", "coverage.coverage_term")
    ),
    "alerts": Section("Alerts", "coverage.alerts", "alerts.view", ("coverage.alert",)),
    "registers": Section("Registers", "coverage.attendance", "attendance.record", ("coverage.attendance",)),
    "outreach": Section("Outreach", "outreach.engagements", "outreach.record", ("outreach.",)),
    "panels": Section("Panels", "panels.panels", "panels.view", ("panels.",)),
    "referrals": Section("Referrals", "panels.referrals", "referral.submit", ("panels.",)),
    "budget": Section("Budget", "budgets.index", "budgets.provider", ("budgets.",)),
    "commissioning": Section("Commissioning", "commissioning.index", "framework.manage", ("commissioning.",)),
    "directory": Section(
        "Find a provider", "commissioning.directory_search", "directory.view", ("commissioning.directory_search",)
    ),
    "outcomes": Section("Outcomes", "outcomes.compare", "outcomes.compare", ("outcomes.",)),
    "own_outcomes": Section(
        "Outcomes",
        "outcomes.provider",
        "outcomes.provider",
        ("outcomes.",),
        lambda user: {"setting_id": user.setting_id},
    ),
    "returns": Section("Returns", "returns.index", "returns.view", ("returns.",)),
    "admin": Section("Administration", "admin.index", "admin.users", ("admin.",)),
}

# Each role's sections, in the order of its work: no more than seven, so they fit one row.
ROLE_SECTIONS: dict[Role, tuple[str, ...]] = {
    Role.ATTENDANCE_OFFICER: ("pupils", "coverage", "alerts", "registers", "placements", "returns"),
    Role.AP_HEAD: ("pupils", "registers", "placements", "outreach", "own_outcomes", "budget", "alerts"),
    Role.SCHOOL_LEAD: ("pupils", "placements", "referrals", "directory", "registers", "returns", "alerts"),
    Role.PANEL_CHAIR: ("pupils", "panels", "placements", "budget", "alerts"),
    Role.PANEL_MEMBER: ("pupils", "panels", "placements", "alerts"),
    Role.COMMISSIONER: ("pupils", "placements", "commissioning", "budget", "outcomes", "panels", "returns"),
    Role.LA_ADMIN: ("pupils", "placements", "coverage", "alerts", "panels", "returns", "admin"),
}


def _owns(section: Section, endpoint: str) -> bool:
    """Whether a page is in this section: its own page, or one whose endpoint starts with what the
    section owns (a blueprint, "panels.", or a family of pages, "register.placement")."""
    return endpoint == section.endpoint or any(endpoint.startswith(owned) for owned in section.owns)


def sections(user: User) -> list[dict[str, Any]]:
    """The service navigation's items for this person, the current page's section marked."""
    endpoint = request.endpoint or ""
    items = []
    marked = False  # one section is current: the first that owns the page
    for key in ROLE_SECTIONS.get(user.role, ()):
        section = SECTIONS[key]
        if not permissions.role_allows(user, section.action):
            continue
        args = section.args(user)
        if any(value is None for value in args.values()):
            continue
        active = not marked and _owns(section, endpoint)
        marked = marked or active
        items.append({"text": section.text, "href": url_for(section.endpoint, **args), "active": active})
    return items
