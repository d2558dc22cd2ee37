from __future__ import annotations

from datetime import date, timedelta

import pytest

from ap_register.domain.pupils import (
    compulsory_school_age_span,
    of_compulsory_school_age,
    year_group,
    year_group_label,
)
from ap_register.years import AcademicYear


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
    assert AcademicYear.containing(date(2026, 11, 23)).label == "2026/27"
    assert AcademicYear.containing(date(2026, 3, 1)).label == "2025/26"


@pytest.mark.parametrize(
    ("born", "first", "last"),
    [
        # Fifth birthday on 10 May 2017: from 31 August 2017; 16 on 10 May 2028: leaves on 30 June 2028.
        (date(2012, 5, 10), date(2017, 8, 31), date(2028, 6, 30)),
        # 16 on 15 August 2026, after the last Friday in June: leaves on 26 June 2026 all the same.
        (date(2010, 8, 15), date(2015, 8, 31), date(2026, 6, 26)),
        # 16 on 2 September 2026: the next school year's June.
        (date(2010, 9, 2), date(2015, 12, 31), date(2027, 6, 25)),
    ],
)
def test_compulsory_school_age(born: date, first: date, last: date) -> None:
    assert compulsory_school_age_span(born) == (first, last)
    assert of_compulsory_school_age(born, last) and not of_compulsory_school_age(born, last + timedelta(days=1))
