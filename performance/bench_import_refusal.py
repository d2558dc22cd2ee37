"""Benchmark: what a file of junk costs the register when an LA administrator uploads it.

    .venv/bin/python performance/bench_import_refusal.py [--lines 1400000] [--database-url URL]

Uploads, through the import page as an LA administrator, a pupils file of --lines bad lines
(`x,,,,`: five problems each; 1.4 million lines is 8.4 MB, the file an outside tester sent).
Reports the seconds to the refusal, the process's maximum RSS before and after, how many
problems were counted and listed, and, on SQLite, whether another connection could take the
write lock while the file was read (a thread tries every 50 ms with no waiting: each refusal
is a moment when another person's request would have waited or got a 503).
Writes its figures to performance/results/.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from results_file import write_results  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

from ap_register import create_app  # noqa: E402
from ap_register.accounts.users import hash_password  # noqa: E402
from ap_register.config import TestConfig  # noqa: E402
from ap_register.domain.reference_data import load_into  # noqa: E402
from ap_register.domain.vocab import Role  # noqa: E402
from ap_register.extensions import db  # noqa: E402
from ap_register.models import LocalAuthority, User  # noqa: E402

PASSWORD = "a long benchmark password 2026"


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_400_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        load_into(db.session)
        la = db.session.query(LocalAuthority).filter_by(code="873").one()
        db.session.add(
            User(
                email="bench.admin@example.org",
                name="Bench",
                password_hash=hash_password(PASSWORD),
                role=Role.LA_ADMIN,
                la_id=la.id,
            )
        )
        db.session.commit()
    content = b"upn,first_name,last_name,date_of_birth,home_la_code\n" + b"x,,,,\n" * args.lines
    client = app.test_client()
    client.post("/sign-in", data={"email": "bench.admin@example.org", "password": PASSWORD})

    tries = {"free": 0, "locked": 0}
    done = threading.Event()

    def try_the_lock() -> None:
        path = make_url(url).database
        while not done.is_set():
            connection = sqlite3.connect(path or "", timeout=0)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
                tries["free"] += 1
            except sqlite3.OperationalError:
                tries["locked"] += 1
            finally:
                connection.close()
            time.sleep(0.05)

    watcher = threading.Thread(target=try_the_lock) if url.startswith("sqlite") else None
    before = rss_mb()
    if watcher:
        watcher.start()
    started = time.perf_counter()
    answer = client.post(
        "/admin/imports",
        data={"kind": "pupils", "file": (io.BytesIO(content), "pupils.csv")},
        content_type="multipart/form-data",
    )
    seconds = time.perf_counter() - started
    done.set()
    if watcher:
        watcher.join()
    page = answer.get_data(as_text=True)
    result = {
        "lines": args.lines,
        "file_mb": round(len(content) / 1024 / 1024, 1),
        "status": answer.status_code,
        "refused": "The file was not imported" in page,
        "rows_listed": page.count('<tr class="govuk-table__row">') - 1,
        "seconds": round(seconds, 2),
        "max_rss_mb_before": before,
        "max_rss_mb_after": rss_mb(),
        "write_lock_free_while_reading": tries["free"] if watcher else None,
        "write_lock_held_while_reading": tries["locked"] if watcher else None,
    }
    print(json.dumps(result), flush=True)
    write_results("import-refusal", url, f"-{args.lines}", **result)


if __name__ == "__main__":
    main()
