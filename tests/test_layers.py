"""The layers keep to their direction: the rules, the use cases, the clock, the years and the
permissions import no web framework and no web layer, so every channel (pages, API, imports, CLI,
jobs) can call them and a test can run them without a request."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ap_register"
# The capabilities: each holds its rules and use cases (below the web) and a `web` package (its
# blueprint: routes and forms).
CAPABILITIES = (
    "placements",
    "panels",
    "coverage",
    "budgets",
    "outcomes",
    "returns",
    "accounts",
    "casework",
    "commissioning",
)
# Below the web: what every channel calls.
CORE = [
    *sorted((PACKAGE / "domain").glob("*.py")),
    *(path for name in CAPABILITIES for path in sorted((PACKAGE / name).glob("*.py"))),
    *sorted((PACKAGE / "devdata").glob("*.py")),
    *sorted((PACKAGE / "home").glob("*.py")),
    *sorted((PACKAGE / "models").glob("*.py")),
    PACKAGE / "clock.py",
    PACKAGE / "years.py",
    PACKAGE / "permissions.py",
]
WEB = ("flask", "flask_login", "flask_wtf", "werkzeug", "wtforms", "jinja2", "govuk_frontend_wtf")
WEB_LAYER = (
    "ap_register.blueprints",
    "ap_register.web",
    "ap_register.errors",
    "ap_register.extensions",
    *(f"ap_register.{name}.web" for name in CAPABILITIES),
)


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_core_imports_no_web_framework_and_no_web_layer() -> None:
    assert len(CORE) > 40
    wrong = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in imported(path) if name.split(".")[0] in WEB or name.startswith(WEB_LAYER)
        )
        for path in CORE
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_each_capability_keeps_its_rules_and_its_pages_apart() -> None:
    """The layout shows the capabilities: each package has rules below the web, and its pages in
    its own `web` package, which no other capability's rules reach into."""
    for name in CAPABILITIES:
        package = PACKAGE / name
        assert [p.name for p in package.glob("*.py") if p.name != "__init__.py"], name
        assert (package / "web" / "__init__.py").is_file(), name
