"""Benchmark: the register at LA and national scale, against the floor.

    .venv/bin/python performance/bench_scale.py --scale la|national [--database-url URL]

Into an empty database (SQLite in a temporary folder unless --database-url names an empty
PostgreSQL database; a database that already holds a generated register is reused), runs
`init-db` and `generate --scale ...`, then times:

- coverage of one LA's week, and of every LA's week (the nation), through the app's own code
  (`coverage/rules.py`), and the single hand-written SQL query that gives the same answer: each
  in-scope pupil's planned sessions and whether they are below full time. Both answers are
  compared, pupil by pupil, before any time counts; the ratio app / floor is the figure.

- scoring a year of every LA (`outcomes.scores_in_batches`, as the nightly job does), against the
  single hand-written SQL query that gives the same figures, provider by provider: the five
  outcomes' counts and their pupils' context (`scoring_floor.py`), compared before any time counts.

- an attendance file (each in-scope pupil's home-school registers for the last two school weeks,
  rows that are not in the register yet) through `ap-register import attendance`'s code (rolled
  back afterwards, so the benchmark can run again on the same database), against
  PostgreSQL's COPY of the same file into a table of the same columns (the floor), and that COPY
  followed by one INSERT ... SELECT of its rows into the register's marks table, unchecked.

Each figure is the median of several runs (the import runs once: it writes). Results are
printed as JSON lines and written to performance/results/. Speed targets live here and in
performance/README.md, never in the tests.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scoring_floor  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from results_file import write_results  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

from ap_register import (
    clock,
    create_app,  # noqa: E402
)
from ap_register.config import TestConfig  # noqa: E402
from ap_register.coverage.rules import week_coverage  # noqa: E402
from ap_register.devdata import synthetic  # noqa: E402
from ap_register.domain.actors import Actor  # noqa: E402
from ap_register.domain.calendar import calendar_for, forget_calendars  # noqa: E402
from ap_register.domain.pupils import of_compulsory_school_age  # noqa: E402
from ap_register.domain.reference_data import load_into  # noqa: E402
from ap_register.extensions import db  # noqa: E402
from ap_register.models import LocalAuthority, Pupil  # noqa: E402
from ap_register.years import AcademicYear

STEPS = ("coverage", "scoring", "import", "import-memory")
DEFAULT_STEPS = ("coverage", "scoring", "import")  # import-memory is asked for by name (national scale)
ROLL_KINDS = "('admitted', 'permanent_exclusion', 'removed_from_roll')"
LEFT = "('moved_out_of_area', 'elective_home_education')"

# The floor: one query. Slots are each LA's school days of the week, morning and afternoon; a slot
# is covered by the placements whose sessions include it, or, on a day with no arrangement at
# all, by the school whose roll the pupil is on (the latest roll movement on or before the day).
FLOOR = f"""
WITH days(d, i) AS (VALUES (:d0, 0), (:d1, 1), (:d2, 2), (:d3, 3), (:d4, 4)),
halves(h) AS (VALUES (0), (1)),
slots AS (
    SELECT t.la_id, days.d, days.i * 2 + halves.h AS slot
    FROM days CROSS JOIN halves
    JOIN term_date t ON days.d BETWEEN t.start_date AND t.end_date
    WHERE days.d NOT IN (SELECT day FROM bank_holiday)
),
active AS (
    SELECT p.pupil_id, u.home_la_id AS la_id, p.start_date, p.end_date, p.sessions
    FROM placement p JOIN pupil u ON u.id = p.pupil_id
    WHERE p.start_date <= :d4 AND (p.end_date IS NULL OR p.end_date >= :d0) {{la_pupil}}
),
roll AS (
    SELECT m.pupil_id, m.kind, m.date,
           LEAD(m.date) OVER (PARTITION BY m.pupil_id ORDER BY m.date, m.id) AS next_date
    FROM movement m JOIN pupil u ON u.id = m.pupil_id
    WHERE m.kind IN {ROLL_KINDS} {{la_pupil}}
),
last_ended AS (
    SELECT p.pupil_id, p.destination,
           ROW_NUMBER() OVER (PARTITION BY p.pupil_id ORDER BY p.end_date DESC, p.id DESC) AS n
    FROM placement p JOIN pupil u ON u.id = p.pupil_id
    WHERE p.end_date <= :d4 {{la_pupil}}
),
in_scope AS (
    SELECT DISTINCT pupil_id, la_id FROM active
    UNION
    SELECT u.id, u.home_la_id FROM pupil u
    WHERE u.date_of_birth BETWEEN :born_from AND :born_to {{la_pupil}}
      AND EXISTS (SELECT 1 FROM movement m WHERE m.pupil_id = u.id
                  AND m.kind IN ('permanent_exclusion', 'removed_from_roll') AND m.date <= :d4)
      AND NOT EXISTS (SELECT 1 FROM roll r WHERE r.pupil_id = u.id AND r.kind = 'admitted'
                      AND r.date <= :d4 AND (r.next_date IS NULL OR r.next_date > :d4))
      AND NOT EXISTS (SELECT 1 FROM last_ended e WHERE e.pupil_id = u.id AND e.n = 1 AND e.destination IN {LEFT})
),
cover AS (
    SELECT a.pupil_id, s.d, s.slot,
           SUM(CASE WHEN substr(a.sessions, s.slot + 1, 1) = '1' THEN 1 ELSE 0 END) AS n
    FROM active a
    JOIN slots s ON s.la_id = a.la_id AND s.d >= a.start_date AND (a.end_date IS NULL OR s.d <= a.end_date)
    GROUP BY a.pupil_id, s.d, s.slot
),
arranged AS (SELECT DISTINCT pupil_id, d FROM cover),
cells AS (
    SELECT c.pupil_id,
           CASE WHEN cv.n > 0 THEN cv.n
                WHEN ar.pupil_id IS NULL AND r.kind = 'admitted' THEN 1 ELSE 0 END AS planned
    FROM in_scope c JOIN slots s ON s.la_id = c.la_id
    LEFT JOIN cover cv ON cv.pupil_id = c.pupil_id AND cv.d = s.d AND cv.slot = s.slot
    LEFT JOIN arranged ar ON ar.pupil_id = c.pupil_id AND ar.d = s.d
    LEFT JOIN roll r ON r.pupil_id = c.pupil_id AND r.date <= s.d AND (r.next_date IS NULL OR r.next_date > s.d)
)
SELECT pupil_id, SUM(planned) AS planned, MIN(CASE WHEN planned > 0 THEN 1 ELSE 0 END) AS full_time
FROM cells GROUP BY pupil_id
"""


def floor_sql(la_id: int | None) -> str:
    # The LA is chosen through its pupils (its school days follow from them: filtering the slots
    # too gives the same answer and, on SQLite, a plan forty times slower).
    return FLOOR.format(la_pupil="" if la_id is None else "AND u.home_la_id = :la")


def compulsory_born_between(day: date) -> tuple[date, date]:
    """The dates of birth of compulsory school age on `day` (a parameter of the floor query)."""
    born = [day - timedelta(days=n) for n in range(365 * 4, 365 * 18)]
    of_age = [b for b in born if of_compulsory_school_age(b, day)]
    return min(of_age), max(of_age)


def timed(runs: int, action: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def report(step: str, **figures: Any) -> dict[str, Any]:
    line = {
        "step": step,
        **figures,
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(line), flush=True)
    return line


def attendance_file(session: Any, today: date, rows: int, weeks: int = 2) -> bytes:
    """Home-school registers (setting_ref, as the import reads it) for pupils of the generated
    areas, school days of the last `weeks` weeks before today, until the file has `rows` rows: pupils
    on their school's roll with nothing arranged elsewhere then, whom their school expects every
    session (the import refuses a mark for a pupil the setting does not expect, as the register
    page does)."""
    first_la = session.execute(text("SELECT home_la_id FROM pupil ORDER BY id LIMIT 1")).scalar_one()
    calendar = calendar_for(session, session.get(LocalAuthority, first_la))
    days = calendar.school_days(today - timedelta(days=7 * weeks), today - timedelta(days=1))
    wanted = session.execute(
        text(
            "SELECT u.upn, s.ref, u.home_la_id FROM pupil u JOIN setting s ON s.id = u.home_school_id "
            "WHERE NOT EXISTS (SELECT 1 FROM placement p WHERE p.pupil_id = u.id AND p.start_date <= :last "
            "AND (p.end_date IS NULL OR p.end_date >= :first)) "
            # ... and on that school's roll by the ledger (the generated nation records some
            # exclusions and removals without taking the pupil off the recorded roll)
            "AND NOT EXISTS (SELECT 1 FROM movement m WHERE m.pupil_id = u.id "
            "AND m.kind IN ('permanent_exclusion', 'removed_from_roll')) ORDER BY u.id"
        ),
        {"first": days[0], "last": days[-1]},
    ).all()
    out = io.StringIO()
    out.write("upn,setting_ref,date,session,code\n")
    written = 0
    for upn, ref, _ in wanted:
        for day in days:
            for half, present in (("AM", "/"), ("PM", "\\")):
                out.write(f"{upn},{ref},{day.isoformat()},{half},{present}\n")
                written += 1
                if written == rows:
                    return out.getvalue().encode()
    return out.getvalue().encode()


def import_against_copy(session: Any, actor: Actor, today: date, rows: int) -> dict[str, Any]:
    from ap_register.domain.imports import run_import

    data = attendance_file(session, today, rows)
    lines = data.count(b"\n") - 1
    session.rollback()
    # Once first with the file's first ten rows, undone: a process imports pandas and numpy
    # once (about 0.4 s here), and the figure is the import's own rate, not that.
    run_import(session, actor, "attendance", io.BytesIO(b"\n".join(data.split(b"\n")[:11]) + b"\n"))
    session.rollback()
    started = time.perf_counter()
    report_ = run_import(session, actor, "attendance", io.BytesIO(data))
    session.flush()
    import_seconds = time.perf_counter() - started
    session.rollback()  # measured up to the commit, then undone: the benchmark can run again
    assert report_.imported == lines, (report_.imported, lines)
    copy_seconds = register_seconds = None
    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(
                "CREATE TEMPORARY TABLE copied (upn text, setting_ref text, date date, session text, code text)"
            )
            started = time.perf_counter()
            with cursor.copy("COPY copied FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                copy.write(data)
            copy_seconds = time.perf_counter() - started
            # The same rows on into the register itself, in one statement with no checks at all:
            # what an import that checks in SQL after a COPY could at best approach (the marks
            # table's indexes, unique session and foreign keys are paid here, not by a bare COPY).
            started = time.perf_counter()
            cursor.execute(REGISTER_INSERT)
            register_seconds = copy_seconds + time.perf_counter() - started
            assert cursor.rowcount == lines, (cursor.rowcount, lines)
            raw.rollback()
        finally:
            raw.close()
    return report(
        "attendance import against COPY",
        rows=lines,
        import_seconds=round(import_seconds, 2),
        import_rows_per_second=round(lines / import_seconds),
        copy_seconds=round(copy_seconds, 3) if copy_seconds else None,
        copy_rows_per_second=round(lines / copy_seconds) if copy_seconds else None,
        share_of_copy=round(copy_seconds / import_seconds, 4) if copy_seconds else None,
        copy_into_register_seconds=round(register_seconds, 3) if register_seconds else None,
        copy_into_register_rows_per_second=round(lines / register_seconds) if register_seconds else None,
        share_of_copy_into_register=round(register_seconds / import_seconds, 4) if register_seconds else None,
    )


def import_memory(session: Any, today: date, url: str) -> dict[str, Any]:
    """The attendance import's memory as its file grows: files of 10,000, 100,000 and 1,000,000
    marks (the last two weeks' registers of as many children as it takes), each imported by the
    CLI with --dry-run (every check and every write, then undone) in a process of its own, and
    that process's peak RSS (`ChildPeak`)."""
    import subprocess

    figures: dict[str, Any] = {}
    cli = str(Path(sys.executable).parent / "ap-register")
    for rows in (10_000, 100_000, 1_000_000):
        data = attendance_file(session, today, rows)
        session.rollback()
        lines = data.count(b"\n") - 1
        children = len({line.split(b",", 1)[0] for line in data.split(b"\n")[1:] if line})
        with tempfile.NamedTemporaryFile(suffix=".csv") as file:
            file.write(data)
            file.flush()
            del data
            started = time.perf_counter()
            with ChildPeak() as peak:
                done = subprocess.run(
                    [cli, "import", "attendance", file.name, "--dry-run", "--format", "json"],
                    env={**os.environ, "DATABASE_URL": url},
                    capture_output=True,
                    check=False,
                )
            seconds = time.perf_counter() - started
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        figures[f"rows_{rows}"] = lines
        figures[f"children_{rows}"] = children
        figures[f"peak_rss_mb_{rows}"] = peak.peak_mb
        figures[f"seconds_{rows}"] = round(seconds, 1)  # the CLI process, from its start
    return report("attendance import memory (CLI, --dry-run)", **figures)


REGISTER_INSERT = """
INSERT INTO attendance_mark (pupil_id, setting_id, date, session, code, recorded_at)
SELECT u.id, s.id, c.date, c.session, c.code, now()
FROM copied c JOIN pupil u ON u.upn = c.upn JOIN setting s ON s.la_id = u.home_la_id AND s.ref = c.setting_ref
"""


# A part of scoring's answer, as a lower bound: the attendance outcome alone (the marks, most of
# what scoring reads), every provider's in one query. The floor proper is the whole answer.
ATTENDANCE_ONLY = """
SELECT m.setting_id, COUNT(DISTINCT m.pupil_id) AS n,
       SUM(CASE WHEN c.counts_as_attendance THEN 1 ELSE 0 END) AS attended, COUNT(*) AS possible
FROM attendance_mark m
JOIN attendance_code c ON c.code = m.code
JOIN setting s ON s.id = m.setting_id
WHERE s.kind IN :kinds AND m.date BETWEEN :first AND :last AND c.counts_in_possible_sessions
GROUP BY m.setting_id
"""


def scoring_against_floor(session: Any, las: list[LocalAuthority], today: date) -> dict[str, Any]:
    from sqlalchemy import bindparam

    from ap_register.outcomes import parallel
    from ap_register.outcomes import rules as outcomes

    year = AcademicYear.last_ended(today).start

    kept_rows: dict[int, Any] = {}

    def keeping(found: Any) -> Any:
        for scores in found:
            kept_rows[scores.la.id] = outcomes.score_rows(scores)
            yield scores

    def app_answer() -> dict[scoring_floor.Key, tuple[Any, ...]]:
        # As the nightly job scores them in one process: BATCH LAs at a time.
        answer = scoring_floor.answer_of(keeping(outcomes.scores_in_batches(session, las, year, today)))
        session.rollback()
        return answer

    workers = parallel.default_workers()

    def in_processes() -> dict[int, Any]:
        # As the nightly job scores them on PostgreSQL: the batches in one process a core.
        found = {la_id: rows for la_id, _, rows in parallel.scored_rows(session, las, [year], today, workers=workers)}
        session.rollback()
        return found

    def floor_answer() -> dict[scoring_floor.Key, tuple[Any, ...]]:
        found = scoring_floor.floor(session, year, today)
        session.rollback()
        return found

    def attendance_only() -> dict[int, tuple[int, int, int]]:
        first, last = AcademicYear(year).span
        query = text(ATTENDANCE_ONLY).bindparams(bindparam("kinds", expanding=True))
        kinds = [k.value for k in outcomes.SCORED_KINDS]
        found = session.execute(query, {"kinds": kinds, "first": first, "last": min(last, today)}).all()
        session.rollback()
        return {setting_id: (n, int(attended), possible) for setting_id, n, attended, possible in found}

    app_seconds, app_result = timed(3, app_answer)
    floor_seconds, floor_result = timed(3, floor_answer)
    differ = scoring_floor.compare(app_result, floor_result)
    if differ:
        raise SystemExit(f"scoring: the floor's answer differs in {len(differ)} figures, e.g. {differ[:5]}")
    with ChildPeak() as children:
        processes_seconds, processes_rows = timed(3, in_processes)
    if processes_rows != kept_rows:
        raise SystemExit("scoring: the processes' scores differ from one process's")
    part_seconds, part_result = timed(3, attendance_only)
    n, attended, possible = (scoring_floor.FIELDS.index(name) for name in ("attendance_n", "attended", "possible"))
    if part_result != {p: (f[n], f[attended], f[possible]) for (_, p), f in app_result.items() if p and f[n]}:
        raise SystemExit("scoring: the attendance-only query differs from the app's attendance figures")
    # One more run, split into the time its queries take (sent, run and their rows received) and
    # the rest (Python applying the rules).
    queries = QueryClock(db.engine)
    started = time.perf_counter()
    with queries:
        app_answer()
    split_seconds = time.perf_counter() - started
    return report(
        f"scoring a year ({AcademicYear(year).label}) of every LA",
        las=len(las),
        providers=sum(1 for _, provider_id in app_result if provider_id is not None),
        app_seconds=round(app_seconds, 2),
        floor_seconds=round(floor_seconds, 3),
        ratio=round(app_seconds / floor_seconds, 2) if floor_seconds else None,
        split_run_seconds=round(split_seconds, 2),
        split_run_query_seconds=round(queries.seconds, 2),
        split_run_queries=queries.count,
        queries_to_floor=round(queries.seconds / floor_seconds, 2) if floor_seconds else None,
        processes=min(workers, -(-len(las) // outcomes.BATCH))
        if session.get_bind().dialect.name == "postgresql"
        else 1,
        processes_seconds=round(processes_seconds, 2),
        processes_ratio=round(processes_seconds / floor_seconds, 2) if floor_seconds else None,
        # The peak RSS of the busiest scoring process (the 300 MB a process).
        scoring_process_peak_rss_mb=children.peak_mb if session.get_bind().dialect.name == "postgresql" else None,
        attendance_only_seconds=round(part_seconds, 3),
        ratio_to_attendance_only=round(app_seconds / part_seconds, 2) if part_seconds else None,
    )


class ChildPeak:
    """Inside `with`, the highest peak RSS of this process's children (the scoring processes), read
    from each one's /proc/PID/status (VmHWM) every 0.1 s while it lives. getrusage's figure for
    children will not do on Linux: it keeps the parent's size from the moment each child was forked,
    before it started Python afresh ("spawn"). The peak is a high-water mark, so the last reading
    before a process ends is its peak to within 0.1 s of growth."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @property
    def peak_mb(self) -> int:
        return round(self.peak_kb / 1024)

    def _watch(self) -> None:
        me = str(os.getpid())
        while not self._done.wait(0.1):
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/stat") as stat:
                        parent = stat.read().rsplit(")", 1)[1].split()[1]
                    if parent != me:
                        continue
                    with open(f"/proc/{entry.name}/status") as status:
                        for line in status:
                            if line.startswith("VmHWM:"):
                                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except (OSError, IndexError, ValueError):
                    continue  # a process that ended meanwhile

    def __enter__(self) -> ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        self._thread.join()


class QueryClock:
    """Inside `with`, the engine's statements: how many, and their seconds from sending each to
    its return, which on PostgreSQL is once every row has arrived (psycopg receives a result
    whole). SQLite makes rows as they are read, so there this counts less than the queries take."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.seconds, self.count = engine, 0.0, 0

    def _before(self, connection: Any, *args: Any) -> None:
        connection.info["query_started"] = time.perf_counter()

    def _after(self, connection: Any, *args: Any) -> None:
        self.seconds += time.perf_counter() - connection.info.pop("query_started")
        self.count += 1

    def __enter__(self) -> QueryClock:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=list(synthetic.SCALES), required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--import-rows", type=int, default=40_000, help="rows in the attendance file")
    parser.add_argument(
        "--steps",
        nargs="+",
        choices=STEPS,
        default=list(DEFAULT_STEPS),
        help="what to time (default: all but import-memory)",
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='ap-register-scale-')}/bench.db"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    actor = Actor.system(via="benchmark")
    scale = synthetic.SCALES[args.scale]
    today = clock.today()
    results: list[dict[str, Any]] = []
    with app.app_context():
        session = db.session
        upgrade()
        load_into(session)
        session.commit()
        empty = not session.scalar(select(func.count()).select_from(Pupil))
        session.rollback()  # the generator writes on its own connection (SQLite: one writer at a time)
        if empty:
            started = time.perf_counter()
            with db.engine.begin() as connection:
                rows = synthetic.generate(connection, scale, today)
            seconds = time.perf_counter() - started
            results.append(
                report(
                    "generate",
                    seconds=round(seconds, 1),
                    rows=rows,
                    rows_per_second=round(sum(rows.values()) / seconds),
                )
            )
        session.rollback()  # see what the generator's own connection wrote
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        las = session.scalars(
            select(LocalAuthority)
            .where(LocalAuthority.id.in_(select(Pupil.home_la_id).distinct()))
            .order_by(LocalAuthority.code)
        ).all()
        pupils = session.scalar(select(func.count()).select_from(Pupil))
        gc.freeze()  # as gunicorn.conf.py does in each worker once the app is loaded
        calendar = calendar_for(session, las[0])
        monday = today - timedelta(days=today.weekday() + 7)
        while len(calendar.school_days(monday, monday + timedelta(days=4))) < 5:
            monday -= timedelta(days=7)
        days = [monday + timedelta(days=n) for n in range(5)]
        born_from, born_to = compulsory_born_between(monday)
        params = {f"d{n}": day for n, day in enumerate(days)} | {"born_from": born_from, "born_to": born_to}

        def app_answer(chosen: list[LocalAuthority]) -> dict[int, tuple[int, bool]]:
            forget_calendars(session)
            answer = {}
            for la in chosen:
                for week in week_coverage(session, actor, la, monday, today).pupils:
                    answer[week.pupil.id] = (week.planned_sessions, "below_full_time" not in week.flags)
            session.rollback()
            return answer

        def floor_answer(la_id: int | None) -> dict[int, tuple[int, bool]]:
            found = session.execute(text(floor_sql(la_id)), params | ({"la": la_id} if la_id else {})).all()
            session.rollback()
            return {pupil_id: (int(planned), bool(full)) for pupil_id, planned, full in found}

        for label, chosen, la_id, runs in (
            ("coverage of one LA-week", las[:1], las[0].id, args.runs),
            ("coverage of the nation's week", las, None, max(1, args.runs // 2)),
        ):
            if "coverage" not in args.steps:
                break
            app_seconds, app_result = timed(runs, lambda chosen=chosen: app_answer(chosen))
            floor_seconds, floor_result = timed(runs, lambda la_id=la_id: floor_answer(la_id))
            if app_result != floor_result:
                differ = [k for k in set(app_result) | set(floor_result) if app_result.get(k) != floor_result.get(k)]
                raise SystemExit(f"{label}: the floor's answer differs for {len(differ)} pupils, e.g. {differ[:5]}")
            results.append(
                report(
                    label,
                    las=len(chosen),
                    pupils_in_scope=len(app_result),
                    week=monday.isoformat(),
                    app_seconds=round(app_seconds, 3),
                    floor_seconds=round(floor_seconds, 3),
                    ratio=round(app_seconds / floor_seconds, 2) if floor_seconds else None,
                    us_per_pupil=round(1e6 * app_seconds / max(1, len(app_result)), 1),
                )
            )
        if "scoring" in args.steps:
            results.append(scoring_against_floor(session, las, today))
        if "import" in args.steps:
            results.append(import_against_copy(session, actor, today, args.import_rows))
        if "import-memory" in args.steps:
            results.append(import_memory(session, today, url))
    # A run of some steps only is kept beside the full run's file, not over it.
    steps = "" if set(args.steps) >= set(DEFAULT_STEPS) else "-" + "-".join(args.steps)
    write_results("scale", url, f"-{args.scale}{steps}", scale=args.scale, pupils=pupils, results=results)


if __name__ == "__main__":
    main()
