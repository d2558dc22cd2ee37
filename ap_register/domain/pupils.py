"""Facts derived from a pupil's record."""

from __future__ import annotations

from datetime import date, timedelta

from ap_register.years import AcademicYear


def year_group(date_of_birth: date, on: date) -> int:
    """National curriculum year on `on`: 0 is Reception, 11 is Year 11, 12 and 13 the sixth form.
    A child's year is their age on 31 August before the academic year starts, less 4."""
    start = AcademicYear.containing(on).start
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


def _last_friday_of_june(year: int) -> date:
    day = date(year, 6, 30)
    return day - timedelta(days=(day.weekday() - 4) % 7)


def compulsory_school_age_span(date_of_birth: date) -> tuple[date, date]:
    """The first and last day of compulsory school age (Education Act 1996 s8): from the
    prescribed day (31 March, 31 August or 31 December) on or after the fifth birthday, to the
    last Friday in June of the school year in which the child turns 16."""
    fifth = _birthday(date_of_birth, 5)
    prescribed = sorted(
        d for year in (fifth.year, fifth.year + 1) for d in (date(year, 3, 31), date(year, 8, 31), date(year, 12, 31))
    )
    start = next(d for d in prescribed if d >= fifth)
    sixteenth = _birthday(date_of_birth, 16)
    school_year_end = sixteenth.year if sixteenth.month < 9 else sixteenth.year + 1
    return start, _last_friday_of_june(school_year_end)


def of_compulsory_school_age(date_of_birth: date, day: date) -> bool:
    start, end = compulsory_school_age_span(date_of_birth)
    return start <= day <= end


def _birthday(date_of_birth: date, age: int) -> date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + age)
    except ValueError:  # born on 29 February
        return date(date_of_birth.year + age, 3, 1)


def has_turned(date_of_birth: date, age: int, day: date) -> bool:
    """Whether a child born on `date_of_birth` is `age` or older on `day` (a 29 February birthday
    falls on 1 March in other years)."""
    return day >= _birthday(date_of_birth, age)
