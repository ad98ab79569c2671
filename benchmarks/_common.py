"""What the benchmark programs share: the log line, the commit a result was measured on, and a
database prepared as `make run` prepares one (the demo, prices, the default checklist, static files).

The programs run as `python benchmarks/<name>.py`, so this folder is on `sys.path`: `import _common`.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def git_commit() -> str:
    """The short commit, with "+changes" when tracked files differ from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return commit + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_result(out_prefix: Path, result: dict, render, *, echo: bool = False) -> str:
    """``out_prefix``.json (the result) and .md (``render(result)``); returns the Markdown and
    prints it when ``echo``."""
    import json

    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    out_prefix.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    md = render(result)
    out_prefix.with_suffix(".md").write_text(md)
    if echo:
        print(md)
    return md


def prepare_demo(env: dict[str, str], database_url: str) -> None:
    """A fresh database (a PostgreSQL one is dropped and created again) seeded with the demo."""
    if database_url.startswith("postgres"):
        name = urllib.parse.urlparse(database_url).path.lstrip("/")
        admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin_url, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
        subprocess.run(["psql", admin_url, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    for command in (["migrate", "--noinput", "-v0"], ["load_gpu_prices"], ["seed_demo"], ["load_default_checklist"],
                    ["collectstatic", "--noinput", "-v0"]):
        # The demo seed is development-only (it publishes passwords); the server stays production.
        command_env = {**env, "DJANGO_ENV": "development"} if command == ["seed_demo"] else env
        subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=command_env, check=True, stdout=subprocess.DEVNULL)


def start_gunicorn(env: dict[str, str], *, port: int, workers: int, extra: tuple[str, ...] = (),
                   wait_s: float = 30.0) -> subprocess.Popen:
    """gunicorn serving the app on loopback with sync workers, returned once the login page answers.

    Sync workers explicitly: gunicorn also reads the root's gunicorn.conf.py (gthread), and the
    published page and dashboard results were measured with sync workers."""
    import urllib.request

    server = subprocess.Popen([PY, "-m", "gunicorn", "reviewapp.wsgi", "-w", str(workers), "-b",
                               f"127.0.0.1:{port}", "--log-level", "warning", "--worker-class", "sync",
                               *extra], cwd=ROOT, env=env)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/").read()
            break
        except OSError:
            time.sleep(0.2)
    return server
