"""The two years the register counts in, which are not the same year.

An **academic year** runs from 1 September to 31 August: cohorts, year groups, the five outcomes,
fair access counts and the census returns use it ("2025/26"). A **financial year** runs from
1 April to 31 March: the AP budget's commissioned places and costs use it ("2025-26"). Both are
kept in the database as the calendar year they start in; these value objects are the only place
that turns that number into days and labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The years the register takes: 2000/01 to 2098/99 (and the financial years alike).
FIRST, LAST = 2000, 2098


@dataclass(frozen=True, order=True)
class AcademicYear:
    """1 September `start` to 31 August of the next year."""

    start: int

    @classmethod
    def containing(cls, day: date) -> AcademicYear:
        return cls(day.year if day.month >= 9 else day.year - 1)

    @classmethod
    def last_ended(cls, on: date) -> AcademicYear:
        """The latest academic year that has ended by `on`."""
        return cls.containing(on).previous

    @classmethod
    def parse(cls, text: str) -> AcademicYear | None:
        """'2025/26' (or '2025') as the year starting in 2025; None for anything else, or a year
        outside the years the register takes."""
        text = text.strip()
        start: int | None = None
        if len(text) == 4 and text.isascii() and text.isdigit():
            start = int(text)
        elif len(text) == 7 and text[4] == "/" and text[:4].isdigit() and text[5:].isdigit() and text.isascii():
            first, second = int(text[:4]), int(text[5:])
            start = first if (first + 1) % 100 == second else None
        return cls(start) if start is not None and FIRST <= start <= LAST else None

    @property
    def first_day(self) -> date:
        return date(self.start, 9, 1)

    @property
    def last_day(self) -> date:
        return date(self.start + 1, 8, 31)

    @property
    def span(self) -> tuple[date, date]:
        return self.first_day, self.last_day

    @property
    def label(self) -> str:
        return f"{self.start}/{(self.start + 1) % 100:02d}"

    @property
    def previous(self) -> AcademicYear:
        return AcademicYear(self.start - 1)

    @property
    def next(self) -> AcademicYear:
        return AcademicYear(self.start + 1)

    def __contains__(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, order=True)
class FinancialYear:
    """1 April `start` to 31 March of the next year."""

    start: int

    @classmethod
    def containing(cls, day: date) -> FinancialYear:
        return cls(day.year if day.month >= 4 else day.year - 1)

    @property
    def first_day(self) -> date:
        return date(self.start, 4, 1)

    @property
    def last_day(self) -> date:
        return date(self.start + 1, 3, 31)

    @property
    def span(self) -> tuple[date, date]:
        return self.first_day, self.last_day

    @property
    def label(self) -> str:
        return f"{self.start}-{(self.start + 1) % 100:02d}"

    @property
    def next(self) -> FinancialYear:
        return FinancialYear(self.start + 1)

    def __contains__(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return self.label
