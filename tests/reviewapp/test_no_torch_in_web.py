"""The web process and the `default` worker run without PyTorch (their image has none: only the
gpu-worker installs the `serving` extra; docs/deployment.md). Each check runs in a fresh Python
process whose import system refuses `torch` and records every attempt, so a guarded import
(`try: import torch`) counts too, and its own SQLite database, so it touches nobody's data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Prepended to each script: refuse torch, record who asked.
BLOCK_TORCH = """
import importlib.abc, sys
ATTEMPTS = []
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            ATTEMPTS.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: this process must not need torch)", name=name)
        return None
sys.meta_path.insert(0, _NoTorch())
"""

WEB = BLOCK_TORCH + """
import importlib, json, pkgutil
import django
django.setup()
from reviewapp.wsgi import application  # the WSGI app gunicorn serves
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Every URL's view, resolved (which imports its module).
views = 0
def walk(patterns):
    global views
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            walk(pattern.url_patterns)
        else:
            assert callable(pattern.callback)
            views += 1
walk(get_resolver().url_patterns)

# Every module of the app; none may need torch to import (the benchmark job imports it lazily).
import reviewapp
modules = [m.name for m in pkgutil.walk_packages(reviewapp.__path__, "reviewapp.")]
for name in modules:
    importlib.import_module(name)

# A few pages, as the demo user sees them after `make run`.
for command in ("migrate", "load_gpu_prices", "seed_demo", "load_default_checklist"):
    call_command(command, verbosity=0)
from django.contrib.auth import get_user_model
from reviewapp.designs.models import Design
user = get_user_model().objects.get(username="demo")
design = Design.objects.filter(team__memberships__user=user).order_by("pk").first()
client = Client()
client.force_login(user)
urls = [
    reverse("designs:list"), reverse("designs:detail", args=[design.pk]), reverse("designs:facts"),
    reverse("designs:methodology"), reverse("designs:requirements_md", args=[design.pk]),
    reverse("benchmarks:list", args=[design.pk]), reverse("benchmarks:new", args=[design.pk]),
    reverse("reports:list", args=[design.pk]), reverse("reports:draft", args=[design.pk]),
    reverse("reports:draft_md", args=[design.pk]), reverse("checklists:review", args=[design.pk]),
    "/api/v1/openapi.json", "/healthz",
]
statuses = {url: client.get(url).status_code for url in urls}
print(json.dumps({"attempts": ATTEMPTS, "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "torch"),
                  "views": views, "modules": len(modules), "statuses": statuses}))
"""

WORKER = BLOCK_TORCH + """
import json
import django
django.setup()
from reviewapp.celery import app
app.loader.import_default_modules()  # what `celery worker` does at start: autodiscovers tasks.py
tasks = sorted(name for name in app.tasks if name.startswith("reviewapp."))
queues = {name: app.amqp.router.route({}, name)["queue"].name for name in tasks}
# The default queue's tasks, their code paths imported as the worker would run them.
import reviewapp.reports.services, reviewapp.reports.render, reviewapp.reports.charts
from reviewapp.core.tasks import ping
pong = ping.apply(args=["x"]).get()["payload"]
before = list(ATTEMPTS)
# The gpu queue's job does need torch: its engine entry point fails here.
from engine.bench import run
try:
    run({"scenario": "offline"})
    bench = "ran"
except ModuleNotFoundError as exc:
    bench = exc.name
print(json.dumps({"attempts_before_bench": before, "tasks": tasks, "queues": queues, "pong": pong, "bench": bench}))
"""


def run_script(script: str, tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
        "DATA_DIR": str(tmp_path),
        # Its own database and broker, whatever the suite runs on.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'no-torch.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    env.pop("CACHE_URL", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_web_process_never_imports_torch(tmp_path):
    result = run_script(WEB, tmp_path)
    assert result["attempts"] == [] and result["loaded"] == []
    assert result["views"] > 50 and result["modules"] > 50
    assert set(result["statuses"].values()) == {200}, result["statuses"]


def test_the_default_worker_starts_and_runs_its_tasks_without_torch(tmp_path):
    result = run_script(WORKER, tmp_path)
    assert result["attempts_before_bench"] == []
    assert result["pong"] == "x"
    assert "reviewapp.reports.tasks.report_generate" in result["tasks"]
    assert "reviewapp.core.tasks.ping" in result["tasks"]
    # Only the benchmark job needs torch, and only it goes to the gpu queue.
    assert result["bench"] == "torch"
    assert {name for name, queue in result["queues"].items() if queue == "gpu"} == {
        "reviewapp.benchmarks.tasks.benchmark_run"}
    assert set(result["queues"].values()) == {"default", "gpu"}
