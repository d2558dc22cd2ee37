"""Weekly sessions: ten flags for Mon AM, Mon PM, Tue AM, ... Fri PM ("1111111111" is full time)."""

from __future__ import annotations

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
LABELS = tuple(f"{day} {half}" for day in DAYS for half in ("AM", "PM"))
FULL_TIME = "1" * 10
NONE = "0" * 10


def is_valid(sessions: str) -> bool:
    return len(sessions) == 10 and set(sessions) <= {"0", "1"}


def problem(sessions: str) -> str | None:
    """Why a sessions value is not valid, or None."""
    if is_valid(sessions):
        return None
    return "Sessions must be 10 characters of 0 or 1, for Mon AM, Mon PM, Tue AM, ... Fri PM (1111111111 is full time)"


def count(sessions: str) -> int:
    return sessions.count("1")


def labels(sessions: str) -> list[str]:
    """The sessions that are on, as 'Mon AM', 'Mon PM', ..."""
    return [label for label, flag in zip(LABELS, sessions, strict=True) if flag == "1"]


def from_labels(chosen: list[str]) -> str:
    return "".join("1" if label in chosen else "0" for label in LABELS)


def days_attended(sessions: str) -> int:
    """On how many weekdays at least one session is on."""
    return sum(1 for i in range(5) if "1" in sessions[2 * i : 2 * i + 2])


def describe(sessions: str) -> str:
    n = count(sessions)
    if n == 10:
        return "Full time (10 sessions)"
    if n == 0:
        return "No sessions"
    return f"{n} session{'s' if n != 1 else ''}: {', '.join(labels(sessions))}"


def grid(sessions: str) -> list[tuple[str, bool, bool]]:
    """(day name, AM on, PM on) for each weekday, to draw the sessions grid."""
    return [(DAY_NAMES[i], sessions[2 * i] == "1", sessions[2 * i + 1] == "1") for i in range(5)]
