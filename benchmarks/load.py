"""A bounded load test on loopback: gunicorn with production settings, locust as the reviewers.

    .venv/bin/pip install -e '.[load]'     # locust, once
    .venv/bin/python benchmarks/load.py    # ~2 minutes: setup, 60 s of load, the table

Prepares a fresh SQLite database in a temporary folder (or the PostgreSQL database named by
LOAD_DATABASE_URL, which it empties), seeds the demo and the default checklist, collects static
files, starts gunicorn on 127.0.0.1 with DJANGO_ENV=production, then runs locust headless against
it (benchmarks/locustfile.py: log in, design page, typing preview, checklist review, benchmarks
list, designs list, /healthz) for a fixed number of users and seconds. It only ever talks to
127.0.0.1, stops the server itself, writes `<out>.json` and `<out>.md` and exits non-zero when any
request failed. Not part of `make test`: load figures belong in docs/load-test.md, not in CI.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from _common import PY, ROOT, log, prepare_demo


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(work: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": "load-test-only-" + "k" * 48,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # as behind a TLS proxy; the proxy is not what is measured
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "filesystem://",
        "DATA_DIR": str(work),
        "STATIC_ROOT": str(work / "static"),
        "LOG_LEVEL": "WARNING",
        # One address, many users: the login throttle counts failures only, and there are none.
        "AXES_FAILURE_LIMIT": "5",
    }


def wait_until_up(base: str, server: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer /healthz in time")


def read_stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    keep = ["Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
            "95%", "99%", "Max Response Time", "Requests/s"]
    return [{k: row[k] for k in keep} for row in rows]


def markdown(rows: list[dict], settings: dict) -> str:
    lines = [
        f"Load test, {settings['users']} users for {settings['seconds']} s on 127.0.0.1 "
        f"(gunicorn {settings['workers']} workers x {settings['threads']} threads, {settings['database']}, "
        f"{settings['cpus']} CPUs, {settings['when']}).",
        "",
        "| request | count | failures | median ms | p95 ms | p99 ms | max ms | req/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
                     f"{row['Median Response Time']} | {row['95%']} | {row['99%']} | "
                     f"{float(row['Max Response Time']):.0f} | {float(row['Requests/s']):.1f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "load")
    args = parser.parse_args()
    if not 1 <= args.users <= 200 or not 1 <= args.seconds <= 900:
        parser.error("bounded on purpose: 1-200 users, 1-900 seconds")

    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        work = Path(tmp)
        database_url = os.environ.get("LOAD_DATABASE_URL") or f"sqlite:///{work / 'db.sqlite3'}"
        env = server_env(work, database_url)
        log("preparing the database and static files")
        prepare_demo(env, database_url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log(f"starting gunicorn on {base}")
        server = subprocess.Popen(
            [PY, "-m", "gunicorn", "reviewapp.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
             "--threads", str(args.threads), "--timeout", "60", "--log-level", "warning",
             # Run from the root, gunicorn also reads gunicorn.conf.py (gthread, 24 threads): the
             # command line keeps this run's own settings (sync, or gthread when --threads > 1).
             "--worker-class", "sync"],
            cwd=ROOT, env=env, start_new_session=True,
        )
        try:
            wait_until_up(base, server)
            log(f"locust: {args.users} users for {args.seconds} s")
            prefix = work / "locust"
            locust = subprocess.run(
                [PY, "-m", "locust", "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless",
                 "--host", base, "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                 "--run-time", f"{args.seconds}s", "--stop-timeout", "10", "--csv", str(prefix),
                 "--only-summary", "--loglevel", "WARNING"],
                cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=args.seconds + 120,
            )
            rows = read_stats(prefix)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    settings = {"users": args.users, "spawn_rate": args.spawn_rate, "seconds": args.seconds,
                "workers": args.workers, "threads": args.threads, "cpus": os.cpu_count(),
                "database": "PostgreSQL" if database_url.startswith("postgres") else "SQLite",
                "python": platform.python_version(), "when": time.strftime("%Y-%m-%d")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"settings": settings, "stats": rows}, indent=2) + "\n")
    table = markdown(rows, settings)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    total = next(row for row in rows if row["Name"] == "Aggregated")
    failures = int(total["Failure Count"])
    log(f"{total['Request Count']} requests, {failures} failures (locust exit {locust.returncode})")
    return 1 if failures or locust.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
