"""The floor of scoring: one hand-written SQL query that gives the whole answer of
`outcomes.scores_for` for every LA, provider by provider: the five outcomes' counts (n, met,
pending and each outcome's extra figures) and the context of each provider's pupils, and of each
LA's (not the line for each pupil the pupils page shows). Each LA's school days (weekdays in its
term dates that are not bank holidays) are worked out in the query, each with the school day a
term and two terms on and two terms back (window functions), so that "n school days after" is a
join.

`answer_of(found)` reads the same figures out of the app's `Scores`; `floor(session, year, on)`
runs the query. `compare` says where they differ (nothing, when the app is right).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import bindparam, text

from ap_register.domain.bulk import roomy
from ap_register.domain.vocab import AP_KINDS
from ap_register.outcomes import rules as outcomes
from ap_register.years import AcademicYear

# (la_id, provider_id or None for the LA's own context) -> figures, in this order.
FIELDS = (
    "outreach_n",
    "outreach_met",
    "outreach_pending",
    "attendance_n",
    "attended",
    "possible",
    "change_n",
    "reintegration_n",
    "reintegration_met",
    "reintegration_pending",
    "english_maths_n",
    "strong",
    "both_1",
    "recorded",
    "post16_n",
    "post16_met",
    "post16_pending",
    "cohort",
    "ehcp",
    "semh",
    "child_in_need",
)
Key = tuple[int, int | None]

SQL = """
WITH RECURSIVE {series}
known AS (SELECT la_id, MIN(start_date) AS lo, MAX(end_date) AS hi FROM term_date GROUP BY la_id),
-- Every day each LA's term dates reach, and whether it is a school day: a weekday in a term that
-- is not a bank holiday. (A boolean: with no statistics for it, PostgreSQL guesses half the days
-- are school days; for a 0/1 column equal to 1 it guesses 1 in 200, and joins to them badly.)
term_day AS ({term_day}),
span AS (
    SELECT x.la_id, x.d, y.d IS NOT NULL AS is_school
    FROM ({span_day}) x
    LEFT JOIN (SELECT DISTINCT la_id, d FROM term_day WHERE {weekday} AND d NOT IN (SELECT day FROM bank_holiday)) y
           ON y.la_id = x.la_id AND y.d = x.d
),
-- Each school day with the 63rd and 126th counting it as the first, and the first of the 126
-- ending with it (the LA's first school day when there are fewer).
school AS (
    SELECT la_id, d, LEAD(d, :term - 1) OVER w AS day_term, LEAD(d, 2 * :term - 1) OVER w AS day_two_terms,
           COALESCE(LAG(d, 2 * :term - 1) OVER w, FIRST_VALUE(d) OVER w) AS back_two_terms
    FROM span WHERE is_school
    WINDOW w AS (PARTITION BY la_id ORDER BY d)
),
-- Each day: "n school days from this day" (the first school day on or after it, and n - 1 on)
-- and "the 126 school days before it" (to the last school day before it).
calendar_day AS (
    SELECT c.la_id, c.d, n.day_term, n.day_two_terms, p.d AS prior_school, p.back_two_terms
    FROM (
        SELECT la_id, d,
               MIN(CASE WHEN is_school THEN d END) OVER (PARTITION BY la_id ORDER BY d DESC) AS next_school,
               MAX(CASE WHEN is_school THEN d END)
                   OVER (PARTITION BY la_id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prior_school
        FROM span
    ) c
    LEFT JOIN school n ON n.la_id = c.la_id AND n.d = c.next_school
    LEFT JOIN school p ON p.la_id = c.la_id AND p.d = c.prior_school
),
provider AS (SELECT id, la_id FROM setting WHERE kind IN :scored),
-- The placements the measures read: of the pupil's home LA, touching last year or this one;
-- kind only when the setting is the home LA's own. (Not materialized: each use is planned with
-- the placement table's statistics.)
pl AS NOT MATERIALIZED (
    SELECT p.id, p.pupil_id, p.setting_id, p.start_date, p.end_date, p.tier, p.destination,
           u.home_la_id AS la_id, u.date_of_birth,
           CASE WHEN s.la_id = u.home_la_id THEN s.kind END AS kind
    FROM placement p JOIN pupil u ON u.id = p.pupil_id JOIN setting s ON s.id = p.setting_id
    WHERE (p.end_date IS NULL OR p.end_date >= :first) AND p.start_date <= :year_end
),
-- Outreach: one-to-one engagements closed in the year, checked 2 terms on.
engaged AS (
    SELECT e.pupil_id, e.provider_id, v.la_id, e.closed_on,
           CASE WHEN cd.day_two_terms <= :on THEN cd.day_two_terms END AS check_day
    FROM outreach_engagement e JOIN provider v ON v.id = e.provider_id
    LEFT JOIN calendar_day cd ON cd.la_id = v.la_id AND cd.d = {day_after_closed}
    WHERE e.pupil_id IS NOT NULL AND e.closed_on BETWEEN :year_start AND :year_end
),
outreach AS (
    SELECT provider_id, COUNT(check_day) AS n, SUM(CASE WHEN check_day IS NULL THEN 1 ELSE 0 END) AS pending,
           SUM(CASE WHEN check_day IS NOT NULL
                     AND EXISTS (SELECT 1 FROM setting x WHERE x.la_id = g.la_id AND x.kind = 'mainstream'
                                 AND x.id = ({roll_g}))
                     AND NOT EXISTS (SELECT 1 FROM movement m WHERE m.pupil_id = g.pupil_id
                                     AND m.kind = 'permanent_exclusion' AND m.date BETWEEN g.closed_on AND g.check_day)
                     AND NOT EXISTS (SELECT 1 FROM placement p JOIN setting s ON s.id = p.setting_id
                                     JOIN pupil u ON u.id = p.pupil_id
                                     WHERE p.pupil_id = g.pupil_id AND u.home_la_id = g.la_id AND s.la_id = g.la_id
                                     AND s.kind IN :ap AND p.start_date BETWEEN g.closed_on AND g.check_day)
                    THEN 1 ELSE 0 END) AS met
    FROM engaged g GROUP BY provider_id
),
-- Attendance: each pupil's sessions at each provider in the year so far.
rates AS (
    SELECT m.setting_id, m.pupil_id, SUM(CASE WHEN c.counts_as_attendance THEN 1 ELSE 0 END) AS attended,
           COUNT(*) AS possible
    FROM attendance_mark m JOIN attendance_code c ON c.code = m.code JOIN provider v ON v.id = m.setting_id
    WHERE m.date BETWEEN :year_start AND :upto AND c.counts_in_possible_sessions
    GROUP BY m.setting_id, m.pupil_id
),
first_placed AS (
    SELECT pupil_id, setting_id, la_id, MIN(start_date) AS start_date FROM pl WHERE kind IS NOT NULL
    GROUP BY pupil_id, setting_id, la_id
),
-- ... and in the 2 terms of school days before their first placement there, elsewhere (a
-- subquery for each window: read through the marks' pupil index, on both databases).
windows AS (
    SELECT f.pupil_id, f.setting_id, cd.back_two_terms AS low, cd.prior_school AS high
    FROM rates r JOIN first_placed f ON f.pupil_id = r.pupil_id AND f.setting_id = r.setting_id
    JOIN calendar_day cd ON cd.la_id = f.la_id AND cd.d = f.start_date
    WHERE cd.prior_school IS NOT NULL
),
befores AS (
    SELECT w.pupil_id, w.setting_id, (
        SELECT 100.0 * SUM(CASE WHEN c.counts_as_attendance THEN 1 ELSE 0 END) / COUNT(*)
        FROM attendance_mark m JOIN attendance_code c ON c.code = m.code
        WHERE m.pupil_id = w.pupil_id AND m.setting_id <> w.setting_id AND m.date BETWEEN w.low AND w.high
          AND c.counts_in_possible_sessions
    ) AS before
    FROM windows w
),
attendance AS (
    SELECT r.setting_id AS provider_id, COUNT(*) AS n, SUM(r.attended) AS attended, SUM(r.possible) AS possible,
           COUNT(b.before) AS change_n, SUM(100.0 * r.attended / r.possible - b.before) AS change_sum
    FROM rates r LEFT JOIN befores b ON b.pupil_id = r.pupil_id AND b.setting_id = r.setting_id
    GROUP BY r.setting_id
),
-- Reintegration: time-limited placements ended in the year, checked a term on.
ended AS (
    SELECT pl.pupil_id, pl.setting_id, pl.la_id, pl.destination,
           CASE WHEN cd.day_term <= :on THEN cd.day_term END AS check_day
    FROM pl
    LEFT JOIN calendar_day cd ON cd.la_id = pl.la_id AND cd.d = {day_after_end}
    WHERE pl.tier = 'time_limited' AND pl.end_date BETWEEN :year_start AND :year_end AND pl.kind IN :scored
),
reintegration AS (
    SELECT setting_id AS provider_id, COUNT(check_day) AS n,
           SUM(CASE WHEN check_day IS NULL THEN 1 ELSE 0 END) AS pending,
           SUM(CASE WHEN check_day IS NOT NULL AND destination IN :returns
                     AND EXISTS (SELECT 1 FROM setting x WHERE x.la_id = e.la_id AND x.kind = 'mainstream'
                                 AND x.id = ({roll_e}))
                    THEN 1 ELSE 0 END) AS met
    FROM ended e GROUP BY setting_id
),
-- Year 11 leavers of the year and of the year before: the latest scored provider each was
-- placed at from 1 January of Year 11 to its end.
leaver AS (
    SELECT pupil_id, setting_id, cohort,
           ROW_NUMBER() OVER (PARTITION BY cohort, pupil_id ORDER BY start_date DESC, id) AS latest
    FROM (
        SELECT pl.*, 0 AS cohort FROM pl
        WHERE pl.start_date <= :year_end AND (pl.end_date IS NULL OR pl.end_date >= :jan)
          AND pl.date_of_birth BETWEEN :year11_from AND :year11_to
        UNION ALL
        SELECT pl.*, 1 AS cohort FROM pl
        WHERE pl.start_date <= :last_year_end AND (pl.end_date IS NULL OR pl.end_date >= :last_jan)
          AND pl.date_of_birth BETWEEN :last_year11_from AND :last_year11_to
    ) y WHERE y.kind IN :scored
),
english_maths AS (
    SELECT l.setting_id AS provider_id, COUNT(*) AS n,
           SUM(CASE WHEN k.english IN :at_least_4 AND k.maths IN :at_least_4 THEN 1 ELSE 0 END) AS strong,
           SUM(CASE WHEN k.english IN :at_least_1 AND k.maths IN :at_least_1 THEN 1 ELSE 0 END) AS both_1,
           COUNT(k.pupil_id) AS recorded
    FROM leaver l LEFT JOIN ks4_result k ON k.pupil_id = l.pupil_id AND k.academic_year = :year
    WHERE l.cohort = 0 AND l.latest = 1
    GROUP BY l.setting_id
),
post16 AS (
    SELECT l.setting_id AS provider_id,
           CASE WHEN :march_due THEN COUNT(*) ELSE 0 END AS n,
           CASE WHEN :march_due THEN SUM(CASE WHEN o.activity IN :sustained AND m.activity IN :sustained
                                             THEN 1 ELSE 0 END) ELSE 0 END AS met,
           CASE WHEN :march_due THEN 0 ELSE COUNT(*) END AS pending
    FROM leaver l
    LEFT JOIN post16_check o ON o.pupil_id = l.pupil_id AND o.leaving_year = :last_year AND o.check_point = 'october'
    LEFT JOIN post16_check m ON m.pupil_id = l.pupil_id AND m.leaving_year = :last_year AND m.check_point = 'march'
    WHERE l.cohort = 1 AND l.latest = 1
    GROUP BY l.setting_id
),
-- Who each provider's pupils in the year are, and each LA's (all its providers).
cohort AS (
    SELECT DISTINCT pl.la_id, pl.setting_id, pl.pupil_id FROM pl
    WHERE pl.start_date <= :year_end AND (pl.end_date IS NULL OR pl.end_date >= :year_start) AND pl.kind IN :scored
),
contexts AS (
    SELECT c.la_id, c.setting_id AS provider_id, COUNT(*) AS cohort,
           SUM(CASE WHEN u.sen_status = 'E' THEN 1 ELSE 0 END) AS ehcp,
           SUM(CASE WHEN u.primary_need = 'SEMH' THEN 1 ELSE 0 END) AS semh,
           SUM(CASE WHEN u.child_in_need THEN 1 ELSE 0 END) AS child_in_need
    FROM cohort c JOIN pupil u ON u.id = c.pupil_id GROUP BY c.la_id, c.setting_id
    UNION ALL
    SELECT c.la_id, NULL, COUNT(*),
           SUM(CASE WHEN u.sen_status = 'E' THEN 1 ELSE 0 END),
           SUM(CASE WHEN u.primary_need = 'SEMH' THEN 1 ELSE 0 END),
           SUM(CASE WHEN u.child_in_need THEN 1 ELSE 0 END)
    FROM (SELECT DISTINCT la_id, pupil_id FROM cohort) c JOIN pupil u ON u.id = c.pupil_id GROUP BY c.la_id
)
SELECT v.la_id, v.id,
       o.n, o.met, o.pending, a.n, a.attended, a.possible, a.change_n, a.change_sum,
       r.n, r.met, r.pending, e.n, e.strong, e.both_1, e.recorded, p.n, p.met, p.pending,
       x.cohort, x.ehcp, x.semh, x.child_in_need
FROM provider v
LEFT JOIN outreach o ON o.provider_id = v.id
LEFT JOIN attendance a ON a.provider_id = v.id
LEFT JOIN reintegration r ON r.provider_id = v.id
LEFT JOIN english_maths e ON e.provider_id = v.id
LEFT JOIN post16 p ON p.provider_id = v.id
LEFT JOIN contexts x ON x.provider_id = v.id
UNION ALL
SELECT la_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, cohort, ehcp, semh, child_in_need
FROM contexts WHERE provider_id IS NULL
"""

# The latest roll movement of the pupil on or before the check day names the setting whose
# roll they are on, if it was an admission.
ROLL = """SELECT CASE WHEN m.kind = 'admitted' THEN m.setting_id END FROM movement m
          WHERE m.pupil_id = {t}.pupil_id AND m.date <= {t}.check_day
          AND m.kind IN ('admitted', 'permanent_exclusion', 'removed_from_roll')
          ORDER BY m.date DESC, m.id DESC LIMIT 1"""


# Every day from each LA's first term date to its last (span_day), and every day of each of its
# terms (term_day): PostgreSQL's generate_series (which the planner can count), a recursive
# series on SQLite.
SERIES = {
    "postgresql": {
        "series": "",
        "span_day": "SELECT k.la_id, CAST(g.d AS date) AS d FROM known k "
        "CROSS JOIN LATERAL generate_series(k.lo, k.hi, interval '1 day') AS g(d)",
        "term_day": "SELECT t.la_id, CAST(g.d AS date) AS d FROM term_date t "
        "CROSS JOIN LATERAL generate_series(t.start_date, t.end_date, interval '1 day') AS g(d)",
    },
    "sqlite": {
        "series": """series(d) AS (
            SELECT MIN(start_date) FROM term_date
            UNION ALL
            SELECT date(d, '+1 day') FROM series WHERE d < (SELECT MAX(end_date) FROM term_date)
        ),""",
        "span_day": "SELECT k.la_id, s.d FROM known k JOIN series s ON s.d BETWEEN k.lo AND k.hi",
        "term_day": "SELECT t.la_id, s.d FROM term_date t JOIN series s ON s.d BETWEEN t.start_date AND t.end_date",
    },
}


def sql(dialect: str) -> str:
    if dialect == "postgresql":
        day_after, weekday = "({} + 1)", "EXTRACT(ISODOW FROM d) < 6"
    else:
        day_after, weekday = "date({}, '+1 day')", "strftime('%w', d) NOT IN ('0', '6')"
    return SQL.format(
        **SERIES[dialect],
        day_after_closed=day_after.format("e.closed_on"),
        day_after_end=day_after.format("pl.end_date"),
        weekday=weekday,
        roll_g=ROLL.format(t="g"),
        roll_e=ROLL.format(t="e"),
    )


def year_11_born(year: int) -> tuple[date, date]:
    """The dates of birth of Year 11 in the academic year starting in `year`: 15 on 31 August."""
    return date(year - 16, 9, 1), date(year - 15, 8, 31)


def floor(session: Any, year: int, on: date) -> dict[Key, tuple[int, ...]]:
    start, end = AcademicYear(year).span
    last_start, last_end = AcademicYear(year - 1).span
    year11, last_year11 = year_11_born(year), year_11_born(year - 1)
    # GCSE grades only: a functional skills level is shown beside the measure, never counted in it.
    grades_4 = sorted(outcomes.GCSE_STRONG)
    grades_1 = sorted(outcomes.GCSE_PASS)
    query = text(sql(session.get_bind().dialect.name)).bindparams(
        *(
            bindparam(name, expanding=True)
            for name in ("scored", "ap", "returns", "at_least_4", "at_least_1", "sustained")
        )
    )
    params = {
        "scored": sorted(k.value for k in outcomes.SCORED_KINDS),
        "ap": sorted(k.value for k in AP_KINDS),
        "returns": sorted(d.value for d in outcomes.RETURNS),
        "at_least_4": grades_4,
        "at_least_1": grades_1,
        "sustained": sorted(outcomes.SUSTAINED),
        "first": last_start,
        "year_start": start,
        "year_end": end,
        "upto": min(end, on),
        "on": on,
        "year": year,
        "last_year": year - 1,
        "jan": date(year + 1, 1, 1),
        "last_jan": date(year, 1, 1),
        "last_year_end": last_end,
        "year11_from": year11[0],
        "year11_to": year11[1],
        "last_year11_from": last_year11[0],
        "last_year11_to": last_year11[1],
        "march_due": date(year + 1, 3, 31) <= on,
        "term": outcomes.TERM,
    }
    roomy(session)  # the room the app's own queries have on PostgreSQL
    if session.get_bind().dialect.name == "postgresql":
        # A query this size would spend longer compiling (JIT) than running.
        session.execute(text("SET LOCAL jit = off"))
    found: dict[Key, tuple[int, ...]] = {}
    for row in session.connection().execute(query, params):
        la_id, provider_id, *values = row
        change_sum = float(values.pop(7) or 0)  # a.change_sum: kept aside, for the mean
        figures = [int(v or 0) for v in values]
        change_n = figures[FIELDS.index("change_n")]
        if any(figures):
            found[(la_id, provider_id)] = (*figures, _change(change_sum, change_n))
    return found


def _change(total: float, n: int) -> float | None:
    return round(total / n, 1) if n >= outcomes.MIN_N else None


def answer_of(found: list[outcomes.Scores]) -> dict[Key, tuple[int, ...]]:
    """The floor's figures, read out of the app's scores."""
    answer: dict[Key, tuple[int, ...]] = {}
    for scores in found:
        for provider in scores.providers:
            f = provider.figures
            attendance = f["attendance"]
            possible = int(attendance.extra.get("sessions", 0))
            attended = round(attendance.successes * possible / attendance.n) if attendance.n else 0
            em = f["english_maths"].extra
            figures = (
                f["outreach"].n,
                int(f["outreach"].successes),
                f["outreach"].pending,
                attendance.n,
                attended,
                possible,
                int(attendance.extra.get("change_n", 0)),
                f["reintegration"].n,
                int(f["reintegration"].successes),
                f["reintegration"].pending,
                f["english_maths"].n,
                int(f["english_maths"].successes),
                int(em.get("grade_1_successes", 0)),
                int(em.get("recorded", 0)),
                f["post16"].n,
                int(f["post16"].successes),
                f["post16"].pending,
                *_context(provider.context),
            )
            if any(figures):
                answer[(scores.la.id, provider.provider.id)] = (*figures, attendance.extra.get("change"))
        area = _context(scores.area.context)
        if any(area):
            answer[(scores.la.id, None)] = (0,) * (len(FIELDS) - 4) + area + (None,)
    return answer


def _context(context: outcomes.Context) -> tuple[int, int, int, int]:
    return context.cohort, context.ehcp, context.semh, context.child_in_need


def compare(app: dict[Key, tuple[Any, ...]], floor: dict[Key, tuple[Any, ...]]) -> list[str]:
    """Where the app and the floor differ: (LA, provider) and the figure, with both values. The
    change in attendance (a mean of percentages, summed in a different order) may differ in its
    rounding to 0.1."""
    differ = []
    for key in sorted(set(app) | set(floor), key=str):
        mine, theirs = app.get(key), floor.get(key)
        if mine is None or theirs is None:
            differ.append(f"{key}: app {mine}, floor {theirs}")
            continue
        for name, a, b in zip((*FIELDS, "change"), mine, theirs, strict=True):
            same = a == b if name != "change" or a is None or b is None else math.isclose(a, b, abs_tol=0.10001)
            if not same:
                differ.append(f"{key} {name}: app {a}, floor {b}")
    return differ
