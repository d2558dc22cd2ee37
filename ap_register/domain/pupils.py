"""Facts derived from a pupil's record."""

from __future__ import annotations

from datetime import date


def academic_year_start(on: date) -> int:
    """The calendar year in which the academic year containing `on` began (1 September)."""
    return on.year if on.month >= 9 else on.year - 1


def academic_year_label(on: date) -> str:
    start = academic_year_start(on)
    return f"{start}/{str(start + 1)[-2:]}"


def year_group(date_of_birth: date, on: date) -> int:
    """National curriculum year on `on`: 0 is Reception, 11 is Year 11, 12 and 13 the sixth form.
    A child's year is their age on 31 August before the academic year starts, less 4."""
    start = academic_year_start(on)
    cutoff = date(start, 8, 31)
    age = cutoff.year - date_of_birth.year - ((cutoff.month, cutoff.day) < (date_of_birth.month, date_of_birth.day))
    return age - 4


def year_group_label(date_of_birth: date, on: date) -> str:
    year = year_group(date_of_birth, on)
    if year < 0:
        return "Nursery"
    if year == 0:
        return "Reception"
    return f"Year {year}"
