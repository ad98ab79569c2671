"""Slow clients do not stall the web server (issue 27, item 2; docs/deployment.md, "The web server").

Twenty clients each open a connection to 127.0.0.1 and send a request's header lines one every 1 to
3 s, never finishing it; meanwhile a normal GET /healthz must answer in under 1 s. Both servers run
as they are deployed: gunicorn with the command docker-compose's web service runs (only the bind is
moved to a free loopback port), and the embedded default's `manage.py runserver` as scripts/run.sh
starts it. Every slow client stops by itself after SLOW_CLIENT_LIFETIME_S and sends at most
MAX_HEADER_LINES lines; nothing leaves loopback. No database beyond a fresh SQLite file. The same
gunicorn also shows that it believes no X-Forwarded-Proto from loopback (item 9).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import re
import secrets
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SLOW_CLIENTS = 20
HEADER_INTERVAL_S = (1.0, 3.0)
SLOW_CLIENT_LIFETIME_S = 12.0
MAX_HEADER_LINES = 10
PROBES = 5
PROBE_BUDGET_S = 1.0
PROBE_TIMEOUT_S = 5.0
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_healthz(port: int, timeout_s: float) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        return conn.getresponse().status
    finally:
        conn.close()


def wait_until_serving(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            get_healthz(port, timeout_s=2.0)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"server did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def warm_up(port: int) -> None:
    """Requests enough, at once, that every gunicorn worker has served one: a worker's first
    request imports the URLconf and views (a few hundred ms here), which is not what is measured."""
    for _ in range(3):
        workers = [threading.Thread(target=get_healthz, args=(port, START_TIMEOUT_S)) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


def slow_client(port: int, seed: int, stop: threading.Event) -> None:
    """One request's headers, a line every 1-3 s, never the blank line that ends them."""
    rng = random.Random(seed)
    deadline = time.monotonic() + SLOW_CLIENT_LIFETIME_S
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT_S) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            for line in range(MAX_HEADER_LINES):
                wait_s = min(rng.uniform(*HEADER_INTERVAL_S), deadline - time.monotonic())
                if wait_s <= 0 or stop.wait(wait_s):
                    return
                sock.sendall(f"X-Slow-{line}: {'a' * 20}\r\n".encode())
    except OSError:
        return  # the server closed it: that is its right


def probe_under_slow_clients(port: int) -> list[float]:
    """Seconds each normal request took while SLOW_CLIENTS trickle their headers."""
    stop = threading.Event()
    clients = [threading.Thread(target=slow_client, args=(port, seed, stop), daemon=True)
               for seed in range(SLOW_CLIENTS)]
    for client in clients:
        client.start()
    try:
        time.sleep(1.5)  # every slow client connected and holding what it holds
        elapsed_s = []
        for _ in range(PROBES):
            started = time.perf_counter()
            try:
                get_healthz(port, timeout_s=PROBE_TIMEOUT_S)
                elapsed_s.append(time.perf_counter() - started)
            except OSError:  # timed out: stalled
                elapsed_s.append(PROBE_TIMEOUT_S)
            time.sleep(0.5)
        return elapsed_s
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=SLOW_CLIENT_LIFETIME_S)


@contextlib.contextmanager
def serving(command: list[str], port: int, tmp_path: Path, **environ: str) -> Iterator[int]:
    """The server started by `command`, answering on `port`, stopped afterwards."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO", "DATABASE", "CELERY", "WEB_CONCURRENCY", "GUNICORN", "FORWARDED"))}
    env.update(DATA_DIR=str(tmp_path), PYTHONPATH=str(ROOT), **environ)
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        wait_until_serving(server, port, log)
        warm_up(port)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def compose_gunicorn_command() -> list[str]:
    """The gunicorn command of docker-compose's web service, as an argument list."""
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    command = web["command"] if isinstance(web["command"], str) else shlex.join(web["command"])
    (gunicorn,) = re.findall(r"\bgunicorn\b[^&;\"]*", command)
    return shlex.split(gunicorn)


@pytest.fixture(scope="module")
def compose_gunicorn(tmp_path_factory) -> Iterator[int]:
    """gunicorn as docker-compose's web service runs it, with its production environment (SQLite in
    place of PostgreSQL); the port it answers on."""
    port = free_port()
    args = compose_gunicorn_command()
    assert "--bind" not in args and "-b" not in args, "the test moves the bind; compose should not set one"
    # The command line's --bind overrides the config file's, and only that.
    command = [sys.executable, "-m", "gunicorn", *args[1:], "--bind", f"127.0.0.1:{port}"]
    with serving(command, port, tmp_path_factory.mktemp("gunicorn"), DJANGO_ENV="production",
                 SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="1") as port:
        yield port


def test_gunicorn_as_compose_runs_it_answers_beside_20_slow_clients(compose_gunicorn):
    elapsed_s = probe_under_slow_clients(compose_gunicorn)
    assert max(elapsed_s) < PROBE_BUDGET_S, elapsed_s


def test_gunicorn_believes_no_forwarded_proto_from_loopback(compose_gunicorn):
    """Item 9: gunicorn's default trusts X-Forwarded-Proto from 127.0.0.1, so a local process could
    pass a plain-HTTP request off as HTTPS; with gunicorn.conf.py the SSL redirect still happens."""
    conn = http.client.HTTPConnection("127.0.0.1", compose_gunicorn, timeout=PROBE_TIMEOUT_S)
    try:
        conn.request("GET", "/", headers={"Host": "127.0.0.1", "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        assert response.status == 301 and response.getheader("Location", "").startswith("https://")
    finally:
        conn.close()


def test_the_embedded_default_answers_beside_20_slow_clients(tmp_path):
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    (line,) = [line for line in run_sh.splitlines() if "manage.py runserver" in line]
    # runserver serves each connection in its own thread unless told not to.
    assert "--nothreading" not in line
    port = free_port()
    # --noreload: the autoreloader's child would outlive terminate(); it changes nothing else.
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with serving(command, port, tmp_path):
        elapsed_s = probe_under_slow_clients(port)
    assert max(elapsed_s) < PROBE_BUDGET_S, elapsed_s
