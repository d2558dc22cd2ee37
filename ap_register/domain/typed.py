"""Numbers, record ids and dates as a person types them into a box or a link, read one way
everywhere and never beyond what the register keeps.

Record ids are INTEGER columns (32 bits on PostgreSQL): a larger number names no record, and the
database driver would refuse to even ask. Digits are ASCII: str.isdigit() also says yes to "²"
and other characters int() cannot read. A date's year is from 1900 to 2100: a year 9999 is a
real date to Python, and a day added to its last one is not.
"""

from __future__ import annotations

from datetime import date

MAX_ID = 2**31 - 1
FIRST_YEAR = 1900
LAST_YEAR = 2100
_MOST_DIGITS = 15


def whole_number(text: str | None) -> int | None:
    """'42' as 42; None for anything else (a sign, a space inside, other digits, 16 digits or more)."""
    text = (text or "").strip()
    if not text or len(text) > _MOST_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def record_id(text: str | int | None) -> int | None:
    """A record's id from a filter, a select or a hidden field; None when it cannot be one (the
    filter is then not applied, and a form's choice is refused as not one of its choices)."""
    number = text if isinstance(text, int) else whole_number(text)
    return number if number is not None and 1 <= number <= MAX_ID else None


def year_in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def iso_day(text: str | None) -> date | None:
    """'2025-12-01' as that day; None when it is not a date of the years the register takes."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if year_in_range(day.year) else None
