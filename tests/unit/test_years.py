"""The academic year (September to August) and the financial year (April to March)."""

from __future__ import annotations

from datetime import date

from ap_register.years import AcademicYear, FinancialYear


def test_the_academic_year_turns_on_1_september() -> None:
    assert AcademicYear.containing(date(2026, 8, 31)) == AcademicYear(2025)
    assert AcademicYear.containing(date(2026, 9, 1)) == AcademicYear(2026)
    year = AcademicYear(2025)
    assert (year.label, year.span) == ("2025/26", (date(2025, 9, 1), date(2026, 8, 31)))
    assert date(2026, 7, 1) in year and date(2026, 9, 1) not in year
    assert AcademicYear(2099 - 1).label == "2098/99" and AcademicYear(1999).label == "1999/00"
    # Scores are reported by default for the latest year that has ended.
    assert AcademicYear.last_ended(date(2026, 12, 4)) == AcademicYear(2025)
    assert AcademicYear.last_ended(date(2026, 8, 31)) == AcademicYear(2024)


def test_the_financial_year_turns_on_1_april() -> None:
    assert FinancialYear.containing(date(2027, 3, 31)) == FinancialYear(2026)
    assert FinancialYear.containing(date(2027, 4, 1)) == FinancialYear(2027)
    year = FinancialYear(2026)
    assert (year.label, year.span) == ("2026-27", (date(2026, 4, 1), date(2027, 3, 31)))
    # The same number is a different stretch of days in each kind of year.
    assert AcademicYear(2026).span != FinancialYear(2026).span


def test_an_academic_year_is_read_as_people_write_it() -> None:
    assert AcademicYear.parse(" 2025/26 ") == AcademicYear.parse("2025") == AcademicYear(2025)
    assert AcademicYear.parse("2099/00") is None  # beyond the years the register takes
    for junk in ("2025/27", "25/26", "2025-26", "２０２５", "", "1999"):
        assert AcademicYear.parse(junk) is None, junk
