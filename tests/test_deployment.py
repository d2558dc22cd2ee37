"""The production shape, for real: two app servers (gunicorn, 2 workers each, in production mode)
behind a proxy that ends TLS and spreads requests between them, one database, and rate limits
kept in Redis. A person signed in on one server is signed in on the other; failed sign-ins
count towards one lock-out whichever server they reach (one client's, and the account's from
every client); signing out ends the session on both; each server answers the health check."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ap_register.config import PROJECT_ROOT
from ap_register.domain.vocab import Role
from ap_register.extensions import db
from tests import factories
from tests.conftest import build_app, free_port, make_database, unavailable

GUNICORN = Path(sys.executable).with_name("gunicorn")
REDIS = ("127.0.0.1", 6379)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class Proxy(ThreadingHTTPServer):
    """Round robin over the app servers, as a load balancer ending TLS does: it says the request
    came over HTTPS and from which client."""

    def __init__(self, backends: list[int]):
        self.backends, self.turn, self.served = backends, 0, [0] * len(backends)
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)


class ProxyHandler(BaseHTTPRequestHandler):
    server: Proxy

    def log_message(self, *args: Any) -> None:
        pass

    def forward(self) -> None:
        with self.server.lock:
            index = self.server.turn % len(self.server.backends)
            self.server.turn += 1
            self.server.served[index] += 1
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        client = self.client_address[0]
        headers.update({"X-Forwarded-For": client, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ap"})
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.backends[index], timeout=30)
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        answer = upstream.getresponse()
        content = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()

    do_GET = do_POST = forward


class Browser:
    """Keeps the session cookie by hand (it is Secure: marked for HTTPS, which the proxy ends).
    Each browser connects from its own loopback address, as people at different machines do."""

    def __init__(self, port: int, address: str = "127.0.0.1"):
        self.port, self.address, self.cookie = port, address, ""

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        from urllib.parse import urlencode

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(self.address, 0))
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://ap{path}"  # as a browser sends it (CSRF checks it over HTTPS)
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode()
        for key, value in answer.getheaders():
            if key.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";")[0]
        connection.close()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, text

    def sign_in(self, email: str, password: str) -> int:
        _, _, page = self.request("GET", "/sign-in")
        token = re.search(r'type="hidden" name="csrf_token" value="([^"]+)"', page)
        assert token, "the sign-in form carries a CSRF token"
        status, _, _ = self.request(
            "POST", "/sign-in", {"email": email, "password": password, "csrf_token": token.group(1)}
        )
        return status


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture()
def deployment(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not GUNICORN.exists():
        unavailable("gunicorn is not installed (make setup installs it)")
    try:
        socket.create_connection(REDIS, timeout=2).close()
    except OSError:
        unavailable(f"Redis is not reachable at {REDIS[0]}:{REDIS[1]}")
    url, drop = make_database("postgres", tmp_path)
    app = build_app(url)
    with app.app_context():
        la = factories.la(db.session, "855")
        officer = factories.user(db.session, Role.ATTENDANCE_OFFICER, la)
        email = officer.email
        db.session.commit()
        db.engine.dispose()
    env = {
        **os.environ,
        "AP_REGISTER_ENV": "production",
        "DATABASE_URL": url,
        "SECRET_KEY": uuid.uuid4().hex,
        "RATELIMIT_STORAGE_URI": f"redis://{REDIS[0]}:{REDIS[1]}/0",
        "RATELIMIT_KEY_PREFIX": f"ap_register_test_{uuid.uuid4().hex[:8]}",
        "TRUSTED_PROXIES": "1",
        "ACCOUNT_LOCKOUT_ALL_CLIENTS": "8 per 15 minutes",  # low, to see guessing from many clients locked
        "SERVICE_URL": "https://ap",  # the one host name production answers to (ALLOWED_HOSTS unset)
        # This checkout's code, whatever copy of the package the environment has installed.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
    }
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [
                str(GUNICORN),
                *("--config", str(PROJECT_ROOT / "gunicorn.conf.py")),
                *("--workers", "2", "--bind", f"127.0.0.1:{port}"),
                "ap_register:create_app()",
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    proxy = Proxy(ports)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        for port in ports:
            wait_for(port)
        yield {"proxy": proxy, "ports": ports, "email": email}
    finally:
        proxy.shutdown()
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        drop()


def as_the_proxy(port: int, path: str, host: str) -> tuple[int, str | None]:
    """A request as the proxy would pass it on, naming the host the client asked for."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Forwarded-For": "198.51.100.20", "X-Forwarded-Proto": "http", "X-Forwarded-Host": host}
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.status, answer.getheader("Location")


def test_two_app_servers_behind_a_proxy_share_sessions_lock_outs_and_sign_out(deployment: dict[str, Any]) -> None:
    proxy, email = deployment["proxy"], deployment["email"]
    for port in deployment["ports"]:
        status, headers, body = Browser(port).request("GET", "/health")
        assert status == 200 and '"status":"ok"' in body.replace(" ", ""), body
        assert "server" not in headers  # no banner naming the server software
        # Production answers only to SERVICE_URL's host: a forged one is refused, never redirected to.
        assert as_the_proxy(port, "/sign-in", "ap") == (302, "https://ap/sign-in")
        assert as_the_proxy(port, "/sign-in", "evil.example") == (400, None)

    person = Browser(proxy.server_port)
    assert person.sign_in(email, factories.PASSWORD) == 302
    statuses = [person.request("GET", "/pupils")[0] for _ in range(6)]
    assert statuses == [200] * 6  # answered by both servers in turn, on one session
    assert min(proxy.served) >= 3

    # Five failures from one client, spread over both servers and four workers, lock that client
    # out of the account on both (the address in capitals too) ...
    attacker = Browser(proxy.server_port, "127.0.0.2")
    failures = [attacker.sign_in(email, "not-the-password-at-all") for _ in range(5)]
    assert failures == [200] * 5
    assert attacker.sign_in(email, factories.PASSWORD) == 429
    assert Browser(proxy.server_port, "127.0.0.2").sign_in(email.upper(), factories.PASSWORD) == 429
    # ... but not the person at another machine.
    assert Browser(proxy.server_port, "127.0.0.3").sign_in(email, factories.PASSWORD) == 302
    # Guessing spread over clients locks the account for everyone once it adds up (8 here).
    other = Browser(proxy.server_port, "127.0.0.4")
    assert [other.sign_in(email, "not-the-password-at-all") for _ in range(3)] == [200] * 3
    assert Browser(proxy.server_port, "127.0.0.5").sign_in(email, factories.PASSWORD) == 429

    # Signing out through one server ends the session on both.
    stolen = person.cookie
    status, _, page = person.request("GET", "/pupils")
    token = re.search(r'type="hidden" name="csrf_token" value="([^"]+)"', page)
    assert token
    assert person.request("POST", "/sign-out", {"csrf_token": token.group(1)})[0] == 302
    copy = Browser(proxy.server_port)
    copy.cookie = stolen
    assert [copy.request("GET", "/pupils")[0] for _ in range(2)] == [302, 302]
