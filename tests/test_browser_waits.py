"""The browser tests cannot read a page before it is there.

A click or a key press may start loading another page; a bare read straight after it (a title, a
heading's text, a count, or an axe-core run) can see the page before, or a page half built, on a
loaded machine. So in `tests/browser/`:

- a check of what a page shows is a waiting assertion, `expect(...)`, never `assert` over a read
  (a script's answer, `page.evaluate`, has no waiting assertion: it may be asserted once settled);
- after an action that may load a page, nothing is read (and axe-core is not run) until an
  `expect(...)`, `wait_for` or `wait_for_url` has seen the new page. `goto`, `reload` and `go_back`
  wait for the page's load themselves. (`wait_for_load_state` straight after a click does not: it
  answers at once for the page still there.)

This test reads the browser tests' source and names every line that breaks either rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

BROWSER = Path(__file__).resolve().parent / "browser"
# Reading the page: what a waiting assertion should do instead.
READS = {
    "inner_text",
    "inner_html",
    "text_content",
    "title",
    "is_visible",
    "is_hidden",
    "is_checked",
    "is_enabled",
    "is_disabled",
    "is_editable",
    "count",
    "input_value",
    "get_attribute",
    "all_inner_texts",
    "all_text_contents",
    "evaluate",
    "content",
    "check_page",  # axe-core's run over the page, through the fixture
}
# Actions that may start loading another page.
NAVIGATING = {"click", "dblclick", "press", "tap", "submit", "dispatch_event"}
# Waits that return only once the page they wait for is there (not wait_for_load_state: above).
SETTLING = {"goto", "reload", "go_back", "go_forward", "wait_for", "wait_for_url"}


def _calls(node: ast.AST) -> list[ast.Call]:
    return [child for child in ast.walk(node) if isinstance(child, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        if func.attr == "check" and isinstance(func.value, ast.Name) and func.value.id == "axe":
            return "check_page"
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _reads(node: ast.AST) -> list[str]:
    found = [_name(call) for call in _calls(node) if _name(call) in READS]
    page_url = any(
        isinstance(child, ast.Attribute)
        and child.attr == "url"
        and isinstance(child.value, ast.Name)
        and child.value.id == "page"
        for child in ast.walk(node)
    )
    return found + (["url"] if page_url else [])


def _settles(statement: ast.stmt) -> bool:
    names = {_name(call) for call in _calls(statement)}
    return "expect" in names or bool(names & SETTLING)


def _navigates(statement: ast.stmt) -> bool:
    return any(_name(call) in NAVIGATING for call in _calls(statement))


def _walk_block(body: list[ast.stmt], path: Path, problems: list[str], settled: bool = True) -> bool:
    for statement in body:
        where = f"{path.relative_to(BROWSER.parent.parent)}:{statement.lineno}"
        if isinstance(statement, ast.Assert):
            # A script's answer (evaluate) has no waiting assertion: it may be asserted once settled.
            reads = sorted(set(_reads(statement)) - ({"evaluate"} if settled else set()))
            if reads:
                problems.append(f"{where}: assert over a read ({', '.join(reads)})")
            continue
        if isinstance(statement, ast.If | ast.For | ast.While | ast.With | ast.Try):
            head = statement.test if isinstance(statement, ast.If | ast.While) else None
            if head is not None and _reads(head) and not settled:
                problems.append(f"{where}: a read after an action, before any wait")
            inner = [getattr(statement, field, []) for field in ("body", "orelse", "finalbody")]
            for block in inner:
                settled = _walk_block(block, path, problems, settled) if block else settled
            continue
        if isinstance(statement, ast.FunctionDef):
            _walk_block(statement.body, path, problems, True)
            continue
        if _settles(statement):
            settled = True
        elif _reads(statement) and not settled:
            problems.append(f"{where}: a read after an action, before any wait")
        if _navigates(statement) and not _settles(statement):
            settled = False
    return settled


def test_browser_tests_wait_for_the_page_before_reading_it() -> None:
    problems: list[str] = []
    files = sorted(BROWSER.glob("*.py"))
    assert len(files) >= 10, "the browser tests are where this test looks"
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        _walk_block(tree.body, path, problems)
    assert not problems, "Use a waiting assertion (expect) after an action:\n" + "\n".join(problems)


def test_the_check_finds_a_bare_read(tmp_path: Path) -> None:
    """The rule itself: a read straight after a click is named; the same read after an expect is not."""
    bad = ast.parse(
        "def test(page, axe):\n"
        "    page.get_by_role('button').click()\n"
        "    heading = page.locator('h1').inner_text()\n"
        "    axe.check(page)\n"
        "    assert page.title() == 'x'\n"
    )
    good = ast.parse(
        "def test(page, axe):\n"
        "    page.get_by_role('button').click()\n"
        "    expect(page).to_have_title('x')\n"
        "    heading = page.locator('h1').inner_text()\n"
        "    axe.check(page)\n"
    )
    found: list[str] = []
    _walk_block(bad.body, BROWSER / "example.py", found)
    assert [line.split(": ", 1)[1] for line in found] == [
        "a read after an action, before any wait",
        "a read after an action, before any wait",
        "assert over a read (title)",
    ]
    clean: list[str] = []
    _walk_block(good.body, BROWSER / "example.py", clean)
    assert clean == []
