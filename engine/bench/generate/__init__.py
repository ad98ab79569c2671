"""Generative benchmarks (issue 24): workloads of token requests, the single-threaded driver,
TTFT/TPOT/ITL/E2EL and goodput, the max rate under both p99 SLOs, the ideal-scheduler
simulation on fitted step times, and KV holding (paged vs reserve-max).

``run_generate(spec)`` is the plain-data entry point (``python -m engine.bench generate ...``).
Importing this package does not import torch; only building a real runner does.
"""

from engine.bench.generate.run import GENERATE_SCENARIOS, run_generate

__all__ = ["GENERATE_SCENARIOS", "run_generate"]
