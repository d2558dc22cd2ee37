"""The school-day calendar: term stretches less weekends and bank holidays."""

from __future__ import annotations

from datetime import date

import pytest

from ap_register.domain.calendar import SchoolCalendar, calendar_for
from ap_register.domain.errors import CalendarUnknown
from ap_register.domain.reference_data import bank_holidays
from tests import factories
from tests.factories import TERM_DATES

CALENDAR = SchoolCalendar(TERM_DATES, bank_holidays(date(2026, 12, 4)).keys(), name="Test LA")


def test_weekends_holidays_and_half_terms_are_not_school_days() -> None:
    assert CALENDAR.is_school_day(date(2025, 10, 24))  # Friday before half term
    assert not CALENDAR.is_school_day(date(2025, 10, 25))  # Saturday
    assert not CALENDAR.is_school_day(date(2025, 10, 28))  # half-term Tuesday
    assert not CALENDAR.is_school_day(date(2026, 5, 4))  # early May bank holiday, in term
    assert CALENDAR.is_school_day(date(2026, 5, 5))


def test_counting_a_full_week_and_a_week_with_a_bank_holiday() -> None:
    assert CALENDAR.count(date(2025, 11, 3), date(2025, 11, 7)) == 5
    assert CALENDAR.count(date(2026, 5, 4), date(2026, 5, 8)) == 4
    assert CALENDAR.count(date(2025, 10, 27), date(2025, 10, 31)) == 0


def test_sixth_school_day_of_an_exclusion_on_the_thursday_before_half_term() -> None:
    # Thursday 23 Oct 2025 is day 1, Friday day 2; the break; then Mon-Thu are days 3-6.
    assert CALENDAR.nth_school_day(date(2025, 10, 23), 6) == date(2025, 11, 6)


def test_a_day_that_is_not_a_school_day_is_not_counted_as_day_one() -> None:
    assert CALENDAR.nth_school_day(date(2025, 11, 1), 1) == date(2025, 11, 3)


def test_school_days_between_counts_the_days_a_notice_gives() -> None:
    # Notice on Monday for a Wednesday start gives Monday and Tuesday: 2 school days.
    assert CALENDAR.school_days_between(date(2025, 11, 3), date(2025, 11, 5)) == 2
    # Notice on the Friday before half term for the Monday after gives 1.
    assert CALENDAR.school_days_between(date(2025, 10, 24), date(2025, 11, 3)) == 1
    assert CALENDAR.school_days_between(date(2025, 11, 5), date(2025, 11, 5)) == 0


def test_add_school_days_skips_the_christmas_holiday() -> None:
    assert CALENDAR.add_school_days(date(2025, 12, 18), 3) == date(2026, 1, 6)


def test_outside_the_recorded_terms_the_calendar_says_so() -> None:
    with pytest.raises(CalendarUnknown, match="No term dates are recorded for Test LA on 1 September 2028"):
        CALENDAR.is_school_day(date(2028, 9, 1))
    with pytest.raises(CalendarUnknown):
        CALENDAR.nth_school_day(date(2027, 7, 20), 10)


def test_calendar_for_an_la_reads_its_term_dates(db) -> None:  # type: ignore[no-untyped-def]
    authority = factories.la(db, "855")
    calendar = calendar_for(db, authority)
    assert calendar.count(date(2026, 11, 2), date(2026, 11, 6)) == 5
    assert calendar.known_to == date(2027, 7, 21)


def test_the_last_school_day_on_or_before_a_day() -> None:
    assert CALENDAR.last_school_day(date(2025, 11, 5)) == date(2025, 11, 5)
    assert CALENDAR.last_school_day(date(2025, 10, 29)) == date(2025, 10, 24)  # half term
    assert CALENDAR.last_school_day(date(2026, 8, 20)) == date(2026, 7, 21)  # summer holiday


def test_the_span_of_school_days_before_a_day() -> None:
    # The ten school days before Monday 10 November 2025: the week of 3 November and, across the
    # half-term week, the week of 20 October.
    assert CALENDAR.span_before(date(2025, 11, 10), 10) == (date(2025, 10, 20), date(2025, 11, 7))
    # Before the first recorded day there are none; near it, as many as there are.
    assert CALENDAR.span_before(date(2024, 9, 4), 10) is None
    assert CALENDAR.span_before(date(2024, 9, 9), 10) == (date(2024, 9, 4), date(2024, 9, 6))
    with pytest.raises(CalendarUnknown):
        CALENDAR.span_before(date(2024, 8, 1), 10)


def test_bank_holidays_are_known_to_the_end_of_the_year_after_next() -> None:
    from ap_register.domain.reference_data import bank_holidays

    known = bank_holidays(date(2026, 12, 4))
    assert date(2028, 4, 14) in known and date(2028, 12, 25) in known  # Good Friday and Christmas 2028, by rule
    assert date(2023, 5, 8) in known  # announced one-off days (the coronation) are kept
    assert max(known).year == 2028
    assert max(bank_holidays(date(2027, 1, 4))).year == 2029


def test_a_calendar_refuses_school_days_past_the_last_known_bank_holiday() -> None:
    terms = [(date(2028, 9, 4), date(2028, 12, 20)), (date(2029, 1, 4), date(2029, 3, 29))]
    calendar = SchoolCalendar(terms, bank_holidays(date(2026, 12, 4)).keys(), holidays_known_to=date(2028, 12, 31))
    assert calendar.count(date(2028, 12, 18), date(2028, 12, 20)) == 3
    with pytest.raises(CalendarUnknown, match="bank holidays are recorded only to 31 December 2028"):
        calendar.count(date(2028, 12, 18), date(2029, 1, 8))
    with pytest.raises(CalendarUnknown, match="bank holidays are recorded only to 31 December 2028"):
        calendar.nth_school_day(date(2028, 12, 18), 6)  # the sixth day would be in January 2029
    assert not calendar.covers(date(2029, 1, 8))


def test_the_daily_job_records_the_next_year_s_bank_holidays_as_the_year_turns(db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from ap_register.jobs import daily_alerts
    from ap_register.models import BankHoliday, TermDate

    la = factories.la(db)
    for start, end in ((date(2028, 9, 4), date(2028, 12, 20)), (date(2029, 1, 4), date(2029, 3, 29))):
        db.add(TermDate(la_id=la.id, start_date=start, end_date=end))
    db.flush()
    assert db.scalar(select(func.max(BankHoliday.day))).year == 2028  # loaded in 2026: to the end of 2028
    with pytest.raises(CalendarUnknown, match="recorded only to 31 December 2028"):
        calendar_for(db, la).count(date(2029, 1, 4), date(2029, 1, 12))
    summary = daily_alerts(db, date(2027, 1, 4))
    assert summary["bank_holidays_added"] == 8  # 2029's eight
    assert calendar_for(db, la).count(date(2029, 1, 4), date(2029, 1, 12)) == 7
    assert calendar_for(db, la).is_school_day(date(2029, 3, 29)) and not calendar_for(db, la).covers(date(2029, 3, 30))
    assert "bank_holidays_added" not in daily_alerts(db, date(2027, 1, 5))
