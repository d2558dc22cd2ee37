"""`make test` shares its long tests between the two halves (`--share`): each shared test must run
in exactly one half, a browser file's tests together (they share one live server), and the rest
of the suite in both."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import elsewhere, left_out

pytestmark = pytest.mark.any_database


@dataclass(eq=False)
class Item:
    path: Path
    originalname: str
    case: str = ""
    markers: set[str] = field(default_factory=set)

    @property
    def nodeid(self) -> str:
        return f"{self.path}::{self.originalname}{self.case}"

    @property
    def name(self) -> str:
        return self.originalname + self.case

    def get_closest_marker(self, name: str) -> Any:
        return name if name in self.markers else None


def suite() -> list[Item]:
    items = []
    for journey in ("access", "coverage", "home", "panel", "timeout"):
        path = Path(f"tests/browser/test_{journey}_journey.py")
        items += [Item(path, f"test_{n}", markers={"browser"}) for n in range(3)]
    walk = Path("tests/security/test_route_walk.py")
    items += [Item(walk, "test_walk", f"[{role}]", {"shared"}) for role in ("a", "b", "c", "d", "e")]
    items += [Item(walk, "test_days", f"[{day}]", {"shared"}) for day in range(4)]
    items += [Item(Path("tests/unit/test_rules.py"), f"test_rule_{n}") for n in range(6)]
    items += [Item(Path("tests/test_wheel.py"), "test_wheel", markers={"any_database"})]
    return items


def test_each_shared_test_runs_in_one_half_and_every_other_test_in_both() -> None:
    items = suite()
    sqlite = [item for item in items if item not in left_out(items, "sqlite", share=True)]
    postgres = [item for item in items if item not in left_out(items, "postgres", share=True)]
    shared = [item for item in items if item.markers]
    assert set(sqlite) & set(postgres) == {item for item in items if not item.markers}
    assert set(sqlite) | set(postgres) == set(items)
    # Both halves take a share of each group, about half of it.
    for group in ("test_walk", "test_days"):
        cases = [item for item in shared if item.originalname == group]
        assert 0 < len([item for item in cases if item in sqlite]) < len(cases)
    journeys = {item.path for item in shared if "browser" in item.markers}
    assert 0 < len({item.path for item in sqlite if "browser" in item.markers}) < len(journeys)


def test_a_browser_file_runs_whole_in_one_half() -> None:
    items = suite()
    for kind in ("sqlite", "postgres"):
        kept = [item for item in items if item not in elsewhere(items, kind)]
        for path in {item.path for item in items if "browser" in item.markers}:
            tests = [item for item in items if item.path == path]
            assert all(t in kept for t in tests) or not any(t in kept for t in tests), path


def test_a_test_that_needs_no_database_of_its_own_runs_once_in_the_lighter_half() -> None:
    """The wheel's clean install: in the SQLite half of a whole run, and with --share (`make test`,
    whose SQLite half also carries the hostile walk) in the PostgreSQL half. Never in both."""
    items = suite()
    (wheel,) = [item for item in items if "any_database" in item.markers]
    for share, home in ((False, "sqlite"), (True, "postgres")):
        kept = {kind: wheel not in left_out(items, kind, share) for kind in ("sqlite", "postgres")}
        assert kept == {"sqlite": home == "sqlite", "postgres": home == "postgres"}, share
