"""School days: the statutory clocks count them, not calendar days.

A school day is a weekday inside one of the LA's term stretches that is not an England and
Wales bank holiday. Outside the stretches the LA has recorded, the calendar does not guess:
it raises CalendarUnknown, so that a missing year of term dates is noticed, not hidden. Nor
does it count past the last year whose bank holidays are recorded (`reference_data`: to the end
of the year after next): a day nobody has announced yet is refused, not miscounted.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ap_register.domain.errors import CalendarUnknown
from ap_register.models import BankHoliday, LocalAuthority, TermDate


class SchoolCalendar:
    def __init__(
        self,
        stretches: Iterable[tuple[date, date]],
        holidays: Iterable[date],
        name: str = "this LA",
        holidays_known_to: date | None = None,
    ):
        """`holidays_known_to`: the last day whose bank holidays are known (None: no limit)."""
        self.name = name
        self.stretches = sorted(stretches)
        self.holidays_known_to = holidays_known_to
        self.holidays = holiday_set = frozenset(holidays)
        days: set[date] = set()
        for start, end in self.stretches:
            day = start
            while day <= end:
                if (
                    day.weekday() < 5
                    and day not in holiday_set
                    and (holidays_known_to is None or day <= holidays_known_to)
                ):
                    days.add(day)
                day += timedelta(days=1)
        self._days = sorted(days)
        self.known_from = self.stretches[0][0] if self.stretches else None
        self.known_to = self.stretches[-1][1] if self.stretches else None
        if self.known_to is not None and holidays_known_to is not None:
            self.known_to = min(self.known_to, holidays_known_to)

    def _require_known(self, *days: date) -> None:
        for day in days:
            if self.holidays_known_to is not None and day > self.holidays_known_to:
                raise self._holidays_unknown(day)
            if self.known_from is None or self.known_to is None or not (self.known_from <= day <= self.known_to):
                raise CalendarUnknown(f"No term dates are recorded for {self.name} on {day:%-d %B %Y}")

    def _holidays_unknown(self, day: date) -> CalendarUnknown:
        if self.holidays_known_to == date.min:
            return CalendarUnknown("No bank holidays are recorded: run ap-register init-db to load them")
        return CalendarUnknown(
            f"England's bank holidays are recorded only to {self.holidays_known_to:%-d %B %Y}, so school days "
            f"on {day:%-d %B %Y} cannot be counted yet"
        )

    def covers(self, day: date) -> bool:
        return self.known_from is not None and self.known_to is not None and self.known_from <= day <= self.known_to

    def is_school_day(self, day: date) -> bool:
        self._require_known(day)
        index = bisect_left(self._days, day)
        return index < len(self._days) and self._days[index] == day

    def closed(self, day: date) -> str | None:
        """Why `day` is not a school day, as a sentence's end ("is a Saturday", "is a bank
        holiday", "is outside this LA's term dates"), or None: a school day, or a weekday the
        recorded term dates do not reach (the calendar does not guess)."""
        if day.weekday() > 4:
            return f"is a {day:%A}"
        if day in self.holidays:
            return "is a bank holiday"
        try:
            if not self.is_school_day(day):
                return f"is outside {self.name}'s term dates"
        except CalendarUnknown:
            return None
        return None

    def school_days(self, start: date, end: date) -> list[date]:
        """The school days from start to end, both included."""
        self._require_known(start, end)
        return self._days[bisect_left(self._days, start) : bisect_right(self._days, end)]

    def count(self, start: date, end: date) -> int:
        """How many school days from start to end, both included."""
        if end < start:
            return 0
        self._require_known(start, end)
        return bisect_right(self._days, end) - bisect_left(self._days, start)

    def school_days_between(self, earlier: date, later: date) -> int:
        """How many school days fall on or after `earlier` and before `later`: the school days
        a notice given on `earlier` gives before something starting on `later`."""
        if later <= earlier:
            return 0
        return self.count(earlier, later - timedelta(days=1))

    def nth_school_day(self, start: date, n: int) -> date:
        """The nth school day counting `start` as day 1 when it is a school day (otherwise the
        next school day is day 1). The sixth school day of an exclusion is nth_school_day(d, 6)."""
        if n < 1:
            raise ValueError("n counts from 1")
        self._require_known(start)
        index = bisect_left(self._days, start) + n - 1
        if index >= len(self._days):
            if self.holidays_known_to is not None and self.stretches and self.stretches[-1][1] > self.holidays_known_to:
                raise self._holidays_unknown(self.holidays_known_to + timedelta(days=1))
            raise CalendarUnknown(
                f"No term dates are recorded for {self.name} far enough after {start:%-d %B %Y} "
                f"to count {n} school days"
            )
        return self._days[index]

    def last_school_day(self, on: date) -> date:
        """The latest school day on or before `on` (the day itself in term time)."""
        self._require_known(on)
        index = bisect_right(self._days, on) - 1
        if index < 0:
            raise CalendarUnknown(f"No school days are recorded for {self.name} before {on:%-d %B %Y}")
        return self._days[index]

    def span_before(self, day: date, n: int) -> tuple[date, date] | None:
        """The first and the last of the n school days before `day` (of fewer when the recorded
        term dates start later; None when there are none)."""
        self._require_known(day)
        index = bisect_left(self._days, day)
        return (self._days[max(0, index - n)], self._days[index - 1]) if index else None

    def add_school_days(self, day: date, n: int) -> date:
        """The nth school day after `day` (not counting `day` itself)."""
        return self.nth_school_day(day + timedelta(days=1), n)


CACHE_KEY = "school_calendars"


def calendar_for(session: Session, la: LocalAuthority) -> SchoolCalendar:
    """The school calendar of one LA, from its recorded term dates and the bank holidays.
    Kept for the life of the session; `forget_calendars` clears it when term dates change."""
    return calendars_for(session, [la])[la.id]


def calendars_for(session: Session, las: Sequence[LocalAuthority]) -> dict[int, SchoolCalendar]:
    """The school calendars of many LAs (a nation's, for the nightly scores), those not yet kept
    read in two queries, all kept for the life of the session."""
    cache: dict[int, SchoolCalendar] = session.info.setdefault(CACHE_KEY, {})
    wanted = {la.id: la for la in las if la.id not in cache}
    if wanted:
        stretches: dict[int, list[tuple[date, date]]] = {la_id: [] for la_id in wanted}
        for la_id, start, end in session.execute(
            select(TermDate.la_id, TermDate.start_date, TermDate.end_date).where(TermDate.la_id.in_(list(wanted)))
        ):
            stretches[la_id].append((start, end))
        holidays = session.scalars(select(BankHoliday.day)).all()
        # Each year's bank holidays are recorded whole (every year has its Christmas ones), so
        # they are known to the end of the latest year recorded; with none recorded, to nothing.
        known_to = date(max(holidays).year, 12, 31) if holidays else date.min
        for la_id, la in wanted.items():
            cache[la_id] = SchoolCalendar(stretches[la_id], holidays, name=la.name, holidays_known_to=known_to)
    return {la.id: cache[la.id] for la in las}


def forget_calendars(session: Session) -> None:
    session.info.pop(CACHE_KEY, None)
