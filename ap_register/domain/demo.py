"""The demo area: one real LA (by its DfE code) with fictional schools, providers, people and
two years of history, built through the same rules the service uses."""

from __future__ import annotations

from datetime import date

# Term stretches (half terms) in the pattern most English LAs publish; INSET days fall between.
TERM_DATES: tuple[tuple[date, date], ...] = (
    (date(2024, 9, 4), date(2024, 10, 25)),
    (date(2024, 11, 4), date(2024, 12, 20)),
    (date(2025, 1, 6), date(2025, 2, 14)),
    (date(2025, 2, 24), date(2025, 4, 4)),
    (date(2025, 4, 22), date(2025, 5, 23)),
    (date(2025, 6, 2), date(2025, 7, 22)),
    (date(2025, 9, 3), date(2025, 10, 24)),
    (date(2025, 11, 3), date(2025, 12, 19)),
    (date(2026, 1, 5), date(2026, 2, 13)),
    (date(2026, 2, 23), date(2026, 3, 27)),
    (date(2026, 4, 13), date(2026, 5, 22)),
    (date(2026, 6, 1), date(2026, 7, 21)),
    (date(2026, 9, 3), date(2026, 10, 23)),
    (date(2026, 11, 2), date(2026, 12, 18)),
    (date(2027, 1, 4), date(2027, 2, 12)),
    (date(2027, 2, 22), date(2027, 3, 25)),
    (date(2027, 4, 12), date(2027, 5, 28)),
    (date(2027, 6, 7), date(2027, 7, 21)),
)
