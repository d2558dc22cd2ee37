"""The layers keep to their direction: the rules, the use cases, the clock, the years and the
permissions import no web framework and no web layer, so every channel (pages, API, imports, CLI,
jobs) can call them and a test can run them without a request."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ap_register"
# Below the web: what every channel calls.
CORE = [
    *sorted((PACKAGE / "domain").glob("*.py")),
    *sorted((PACKAGE / "placements").glob("*.py")),
    *sorted((PACKAGE / "devdata").glob("*.py")),
    *sorted((PACKAGE / "models").glob("*.py")),
    PACKAGE / "clock.py",
    PACKAGE / "years.py",
    PACKAGE / "permissions.py",
]
WEB = ("flask", "flask_login", "flask_wtf", "werkzeug", "wtforms", "jinja2", "govuk_frontend_wtf")
WEB_LAYER = ("ap_register.blueprints", "ap_register.web", "ap_register.errors", "ap_register.extensions")


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
