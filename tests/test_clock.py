"""The register's clock: England's date, fixed by tests, and time still passing while fixed."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from ap_register import clock
from tests.conftest import ANCHOR


def test_the_suite_runs_on_its_fixed_day_whatever_the_machine_says() -> None:
    assert clock.today() == ANCHOR


def test_today_is_england_s_date_not_the_server_s() -> None:
    # 23:30 UTC on a summer evening is already tomorrow in England (BST); in winter it is not.
    with clock.fixed(datetime(2027, 7, 1, 23, 30, tzinfo=UTC)):
        assert clock.today() == date(2027, 7, 2)
    with clock.fixed(datetime(2027, 1, 14, 23, 30, tzinfo=UTC)):
        assert clock.today() == date(2027, 1, 14)


def test_a_fixed_clock_still_moves_and_is_put_back() -> None:
    with clock.fixed(date(2030, 3, 1)):
        first = clock.now()
        assert first.astimezone(clock.ENGLAND).hour == 10 and clock.today() == date(2030, 3, 1)
        time.sleep(0.01)
        assert clock.now() > first  # an expiry a minute away still arrives
        with clock.fixed(date(2031, 1, 1)):
            assert clock.today() == date(2031, 1, 1)
        assert clock.today() == date(2030, 3, 1)
    assert clock.today() == ANCHOR
