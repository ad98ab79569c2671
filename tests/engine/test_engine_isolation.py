"""engine/ is a library: importing it, and every module in it, loads no Django or Celery."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import importlib, pkgutil, sys
import engine
names = sorted(m.name for m in pkgutil.walk_packages(engine.__path__, 'engine.') if not m.name.endswith('__main__'))
for name in names:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # The LitServe peer of the benchmark script is an optional extra ("bench").
        if exc.name != "litserve":
            raise
leaked = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'celery', 'reviewapp'})
print(len(names), leaked)
"""


def test_import_engine_leaves_django_out():
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    count, leaked = result.stdout.strip().split(" ", 1)
    assert leaked == "[]"
    assert int(count) >= 1, "walked no engine modules"
