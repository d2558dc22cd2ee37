"""Benchmark: how fast imports and exports run, and how much memory they take, as files grow.

    .venv/bin/python performance/bench_imports.py [--rows 20000] [--placements 2000] [--database-url URL]

Builds a fresh database (SQLite in a temporary folder unless --database-url names an empty
PostgreSQL database), loads a settings file, then a pupils file of --rows rows with home schools
(each writes a pupil, an admission movement and an audit event), then a placements file of an
off-site direction for each of the first --placements of them (2,000 unless given; each goes
through the register's rules: a placement, its movement, its review and its audit event), then
exports the pupils as CSV. The clock is fixed at a Monday in term, so every run makes the same
records.
Prints one JSON line per step and writes them to performance/results/. Speed targets live here,
never in the test suite.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from results_file import write_results  # noqa: E402

from ap_register import clock, create_app  # noqa: E402
from ap_register.config import TestConfig  # noqa: E402
from ap_register.domain import exports  # noqa: E402
from ap_register.domain.actors import Actor  # noqa: E402
from ap_register.domain.imports import run_import  # noqa: E402
from ap_register.domain.reference_data import load_into  # noqa: E402
from ap_register.domain.upn import make_upn  # noqa: E402
from ap_register.extensions import db  # noqa: E402
from ap_register.models import LocalAuthority  # noqa: E402

LA = "873"
SCHOOLS = 60
PRUS = 20
ON = date(2026, 1, 12)  # the day the files are imported: a Monday in the spring term


def settings_file() -> bytes:
    lines = ["ref,name,kind,la_code,urn"]
    lines += [f"{700000 + n},School {n},mainstream,{LA},{700000 + n}" for n in range(SCHOOLS)]
    lines += [f"{800000 + n},Unit {n},pru,{LA},{800000 + n}" for n in range(PRUS)]
    return ("\n".join(lines) + "\n").encode()


def pupils_file(rows: int) -> bytes:
    out = io.StringIO()
    out.write("upn,first_name,last_name,date_of_birth,home_la_code,home_school_ref,sen_status\n")
    for n in range(rows):
        upn = make_upn(f"{LA}{n // 1000:04d}12{n % 1000:03d}")
        out.write(f"{upn},First{n},Last{n},2012-{1 + n % 12:02d}-{1 + n % 28:02d},{LA},{700000 + n % SCHOOLS},N\n")
    return out.getvalue().encode()


def placements_file(rows: int) -> bytes:
    """An off-site direction for each pupil, from the Monday after they were admitted."""
    out = io.StringIO()
    out.write(
        "upn,setting_ref,route,registration,start_date,sessions,tier,notice_date,planned_end_date,reintegration_plan\n"
    )
    for n in range(rows):
        upn = make_upn(f"{LA}{n // 1000:04d}12{n % 1000:03d}")
        out.write(
            f"{upn},{800000 + n % PRUS},off_site_direction,dual,2026-01-19,1111111111,time_limited,2026-01-14,"
            "2026-03-27,Mornings back at school from week four\n"
        )
    return out.getvalue().encode()


def measure(step: str, rows: int, action: Any, trace: bool = False) -> dict[str, Any]:
    """Time a step. Python's own allocations are traced only when asked (`--trace-memory`):
    tracing slows code that makes many objects about twofold, so its rows a second are not
    comparable with an untraced run's."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    result = {
        "step": step,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds) if seconds else None,
        "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["python_peak_mb"] = round(peak / 1024 / 1024, 1)
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--database-url")
    parser.add_argument("--placements", type=int, default=2000, help="rows of the placements file (first pupils)")
    parser.add_argument("--trace-memory", action="store_true", help="also the peak of Python's allocations (slower)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="ap-register-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    actor = Actor.system(via="benchmark")
    results = []
    with app.app_context(), clock.fixed(ON):
        upgrade()
        load_into(db.session)
        db.session.commit()
        la = db.session.scalar(db.select(LocalAuthority).where(LocalAuthority.code == LA))
        data = settings_file()
        results.append(
            measure(
                "import settings", SCHOOLS, lambda: run_import(db.session, actor, "settings", io.BytesIO(data), la=la)
            )
        )
        db.session.commit()
        data = pupils_file(args.rows)

        def import_pupils() -> None:
            run_import(db.session, actor, "pupils", io.BytesIO(data), la=la)
            db.session.commit()

        results.append(measure("import pupils", args.rows, import_pupils, args.trace_memory))
        placements = min(args.placements, args.rows)
        data = placements_file(placements)

        def import_placements() -> None:
            report = run_import(db.session, actor, "placements", io.BytesIO(data), la=la)
            db.session.commit()
            assert report.imported == placements, report

        results.append(measure("import placements", placements, import_placements, args.trace_memory))

        def export_pupils() -> None:
            sink = io.BytesIO()
            exports.write("pupils", "csv", exports.rows(db.session, actor, "pupils", la), sink)

        results.append(measure("export pupils csv", args.rows, export_pupils, args.trace_memory))
    write_results("imports", url, f"-{args.rows}", results=results)


if __name__ == "__main__":
    main()
