"""The register's clock: the one place that asks the machine what day and time it is.

Statutory clocks, reviews due, the budget's financial year and the academic year all turn on
"today", and a local area in England keeps England's days: today is the date in Europe/London,
so a server on UTC does not start tomorrow an hour early in summer. Timestamps (audit events,
sign-ins, tokens) are instants, kept in UTC.

Nothing else reads the machine's clock (ruff's banned-api rule refuses `date.today()` and
`datetime.now()` elsewhere). Rules take the day as an argument where it matters; adapters (pages,
API, CLI, jobs, imports) ask `today()` here. Tests fix the clock with `fixed(...)`: the seam
holds across threads, so a browser test's server sees the same day as the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")

# While fixed: the instant the clock was fixed at, and the real instant that happened, so time
# still passes (a token that expires in a minute still expires) from the fixed starting point.
_fixed_at: datetime | None = None
_fixed_when: datetime | None = None


def machine_now() -> datetime:
    """What the machine's clock says, whatever a test fixed: the one reading of it."""
    return datetime.now(UTC)  # noqa: TID251 - the seam itself


def now() -> datetime:
    """This instant, timezone-aware in UTC."""
    if _fixed_at is not None and _fixed_when is not None:
        return _fixed_at + (machine_now() - _fixed_when)
    return machine_now()


def local_now() -> datetime:
    """This instant on England's clocks (GMT or BST)."""
    return now().astimezone(ENGLAND)


def today() -> date:
    """Today's date in England."""
    return local_now().date()


@contextmanager
def fixed(at: date | datetime) -> Iterator[None]:
    """Run the block as if it were `at` (a date means 10:00 in England that day). Time moves on
    from there as it does in the world; the clock is put back afterwards."""
    global _fixed_at, _fixed_when
    if isinstance(at, datetime):
        instant = at if at.tzinfo is not None else at.replace(tzinfo=ENGLAND)
    else:
        instant = datetime.combine(at, time(10, 0), tzinfo=ENGLAND)
    saved = (_fixed_at, _fixed_when)
    _fixed_at, _fixed_when = instant.astimezone(UTC), machine_now()
    try:
        yield
    finally:
        _fixed_at, _fixed_when = saved
