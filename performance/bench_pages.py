"""Benchmark: the key pages as people load them, served by gunicorn, from another process.

    .venv/bin/python performance/bench_pages.py --database-url URL [--workers 2] [--clients 4]

Needs a generated register at URL (run bench_scale.py first; it leaves one). Starts the app under
gunicorn (production serving, --workers sync workers) and, the same way, a bare Flask endpoint.
Signs in as an LA administrator of the first generated LA, then for each key page (register
search, a pupil's timeline, the panel's queue, the coverage week, the providers' outcomes, read
from the scores the nightly job keeps: the benchmark keeps the LA's first; and, as a yardstick of
the app's own fixed cost, a page of text with no data of its own):

- single user: --requests requests one after another, p50 and p95 in milliseconds;
- under load: --clients processes requesting the page for --seconds, pages a second, and that as
  a share of what the bare endpoint serves the same way;
- the peak RSS of the busiest gunicorn worker afterwards.

Results are printed as JSON lines and written to performance/results/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ap_register.years import AcademicYear

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results_file import write_results  # noqa: E402

GUNICORN = Path(sys.executable).with_name("gunicorn")
PASSWORD = "benchmark-password-2026"
LOGS = Path(tempfile.gettempdir()) / "ap-register-bench-logs"  # the servers' own logs, for a failure
LOGS.mkdir(exist_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str, cookie: str = "") -> tuple[int, str, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    answer = connection.getresponse()
    body = answer.read().decode(errors="replace")
    connection.close()
    return answer.status, body, {k.lower(): v for k, v in answer.getheaders()}


def sign_in(port: int, email: str) -> str:
    status, page, headers = get(port, "/sign-in")
    cookie = headers.get("set-cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(
        "POST",
        "/sign-in",
        body=urlencode({"email": email, "password": PASSWORD, "csrf_token": token.group(1)}),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 302, f"sign-in answered {answer.status}"
    return str(answer.getheader("Set-Cookie")).split(";")[0]


def hammer(port: int, path: str, cookie: str, seconds: float, out: Any) -> None:
    """One client process: the page again and again for `seconds`; sends back how many it got,
    or what went wrong (so that the benchmark stops rather than waits)."""
    done, deadline = 0, time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            status, body, _ = get(port, path, cookie)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:200]!r}")
            done += 1
    except Exception as error:  # noqa: BLE001 - any failure is reported to the parent
        out.put(f"{type(error).__name__}: {error}")
        return
    out.put(done)


def throughput(port: int, path: str, cookie: str, clients: int, seconds: float) -> float:
    queue: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=hammer, args=(port, path, cookie, seconds, queue)) for _ in range(clients)
    ]
    for w in workers:
        w.start()
    answers = [queue.get(timeout=seconds + 300) for _ in workers]
    for w in workers:
        w.join()
    failures = [a for a in answers if isinstance(a, str)]
    if failures:
        raise SystemExit(f"under load: {failures[0]} (the servers' logs are in {LOGS})")
    return sum(answers) / seconds


def worker_peak_rss_mb(master: int) -> float:
    """The highest peak RSS (VmHWM) among the gunicorn master's worker processes."""
    peaks = []
    for task in Path(f"/proc/{master}/task").iterdir():
        for child in (task / "children").read_text().split():
            status = Path(f"/proc/{child}/status").read_text()
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            if found:
                peaks.append(int(found.group(1)) / 1024)
    return round(max(peaks), 1) if peaks else 0.0


def serve(app: str, port: int, workers: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [str(GUNICORN), "--config", str(ROOT / "gunicorn.conf.py"), "--workers", str(workers)]
        + ["--bind", f"127.0.0.1:{port}", "--timeout", "300", "--access-logfile", "/dev/null", app],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=(LOGS / f"{app.split(':')[0]}-{port}.log").open("w"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{app} did not start")


def prepare(url: str) -> tuple[str, dict[str, str]]:
    """A benchmark user (an LA administrator of the first generated LA) and the pages' paths."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from ap_register import clock, create_app
    from ap_register.accounts.users import create_user
    from ap_register.config import TestConfig
    from ap_register.domain.actors import Actor
    from ap_register.domain.vocab import Role
    from ap_register.extensions import db
    from ap_register.models import LocalAuthority, Pupil, User
    from ap_register.outcomes import rules as outcomes

    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()  # a register generated by an older revision
        session = db.session
        la = session.scalars(
            select(LocalAuthority)
            .where(LocalAuthority.id.in_(select(Pupil.home_la_id).distinct()))
            .order_by(LocalAuthority.code)
        ).first()
        assert la is not None, "no generated register here: run bench_scale.py first"
        email = f"bench-{la.code}@example.org"
        if session.scalar(select(func.count()).select_from(User).where(User.email == email)) == 0:
            create_user(
                session,
                Actor.system(via="benchmark"),
                email=email,
                name="Benchmark",
                role=Role.LA_ADMIN,
                organisation=la,
                password=PASSWORD,
            )
            session.commit()
        # This LA's scores of the year the comparison page shows first, kept as the nightly job
        # keeps them: the page reads those (as in production).
        year = AcademicYear.last_ended(clock.today()).start
        outcomes.store(session, outcomes.scores(session, la, year))
        session.commit()
        pupil = session.scalars(select(Pupil).where(Pupil.home_la_id == la.id).order_by(Pupil.id)).first()
        assert pupil is not None
        monday = clock.today() - timedelta(days=clock.today().weekday() + 7)
        paths = {
            "register search": f"/pupils?q={pupil.last_name}",
            "pupil timeline": f"/pupils/{pupil.id}",
            "panel queue": "/referrals",
            "coverage week": f"/coverage?week={monday.day}&week={monday.month}&week={monday.year}",
            "provider comparison": "/outcomes/",
            # No data of its own: what every page costs before its own work (the session, the
            # person, the inbox count, the GOV.UK layout).
            "a page of text (accessibility statement)": "/accessibility",
        }
        db.engine.dispose()
    return email, paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    email, paths = prepare(args.database_url)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": uuid.uuid4().hex,
        "SIGN_IN_FAILURES_PER_ADDRESS": "1000 per minute",
        "EXPORT_RATE_LIMIT": "1000 per minute",
    }
    app_port, bare_port = free_port(), free_port()
    app = serve("ap_register:create_app()", app_port, args.workers, env, ROOT)
    bare = serve("bare:app", bare_port, args.workers, env, ROOT / "performance")
    results: list[dict[str, Any]] = []
    try:
        cookie = sign_in(app_port, email)
        bare_rate = throughput(bare_port, "/", "", args.clients, args.seconds)
        results.append({"page": "bare Flask endpoint", "pages_per_second": round(bare_rate, 1)})
        print(json.dumps(results[-1]), flush=True)
        for name, path in paths.items():
            for _ in range(3):
                status, _, _ = get(app_port, path, cookie)
                assert status == 200, f"{name} ({path}) answered {status}"
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                get(app_port, path, cookie)
                times.append(1000 * (time.perf_counter() - started))
            rate = throughput(app_port, path, cookie, args.clients, args.seconds)
            results.append(
                {
                    "page": name,
                    "path": path,
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(statistics.quantiles(times, n=20)[-1], 1),
                    "pages_per_second": round(rate, 1),
                    "share_of_bare": round(rate / bare_rate, 4),
                }
            )
            print(json.dumps(results[-1]), flush=True)
        results.append({"page": "worker peak RSS", "mb": worker_peak_rss_mb(app.pid)})
        print(json.dumps(results[-1]), flush=True)
    finally:
        for process in (app, bare):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    write_results("pages", args.database_url, args.label, workers=args.workers, clients=args.clients, results=results)


if __name__ == "__main__":
    main()
