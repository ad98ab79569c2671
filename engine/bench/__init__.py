"""Benchmark harness for the serving core: offline, server (open-loop Poisson), max QPS at a
p99 bound, overload, sweep; ``python -m engine.bench`` for the command line.

``run(spec, progress=..., should_cancel=...) -> dict`` is the plain-data entry point for job
runners; see ``engine.bench.api`` for the spec and result keys. Importing this package does not
import torch (``run`` pins CPU thread counts first, then imports it).
"""

from engine.bench.api import RESULT_KEYS, SCENARIOS, run

__all__ = ["RESULT_KEYS", "SCENARIOS", "run"]
