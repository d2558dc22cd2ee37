from __future__ import annotations

from datetime import date

import pytest

from ap_register.domain.pupils import academic_year_label, year_group, year_group_label


@pytest.mark.parametrize(
    ("born", "on", "year"),
    [
        (date(2010, 8, 31), date(2025, 9, 3), 11),  # the youngest in Year 11
        (date(2010, 9, 1), date(2025, 9, 3), 10),  # the oldest in Year 10
        (date(2010, 9, 1), date(2026, 7, 1), 10),
        (date(2010, 9, 1), date(2026, 9, 3), 11),
        (date(2021, 3, 1), date(2025, 10, 1), 0),
    ],
)
def test_year_group_follows_the_31_august_cut_off(born: date, on: date, year: int) -> None:
    assert year_group(born, on) == year


def test_labels() -> None:
    assert year_group_label(date(2021, 3, 1), date(2025, 10, 1)) == "Reception"
    assert academic_year_label(date(2026, 11, 23)) == "2026/27"
    assert academic_year_label(date(2026, 3, 1)) == "2025/26"
