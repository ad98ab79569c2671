"""Benchmark scenarios, in one namespace: offline, server, max QPS at a p99 bound, overload,
sweep, and the no-op scheduling-overhead probe. Each returns plain data; ``engine.bench.api``
assembles them into a result with provenance.

They live in ``offline`` (offline runs, the s(b) fit, the no-op probe) and ``server``
(open-loop runs and what builds on them), on what ``harness`` provides (``Bench``, the no-op
runner, the frozen heap).

Import order matters for CPU thread pools: callers pin threads (``engine.bench.threads``)
before ``make_bench`` first imports torch through the runner.
"""

from engine.bench.harness import (
    Bench,
    CancelFn,
    NoopRunner,
    ProgressFn,
    frozen_heap,
    make_bench,
    raise_cancelled,
)
from engine.bench.offline import (
    bare_batches,
    batches_for,
    core_batches,
    fit_batch_time,
    measured_points,
    noop_throughput,
    offline,
    pad_batches,
    shedding_fit,
    through_core,
)
from engine.bench.server import (
    MAX_QUERIES_PER_RUN,
    MAX_SEARCH_QPS,
    RUN_BUDGETS,
    default_warmup_queries,
    estimate_capacity_qps,
    ideal_max_qps,
    ideal_overload,
    max_qps,
    offline_table,
    overload,
    paired_ideal_max_qps,
    queries_for,
    server,
    sweep,
)

__all__ = [
    "MAX_QUERIES_PER_RUN",
    "MAX_SEARCH_QPS",
    "RUN_BUDGETS",
    "Bench",
    "CancelFn",
    "NoopRunner",
    "ProgressFn",
    "bare_batches",
    "batches_for",
    "core_batches",
    "default_warmup_queries",
    "estimate_capacity_qps",
    "fit_batch_time",
    "frozen_heap",
    "ideal_max_qps",
    "ideal_overload",
    "make_bench",
    "max_qps",
    "measured_points",
    "noop_throughput",
    "offline",
    "offline_table",
    "overload",
    "pad_batches",
    "paired_ideal_max_qps",
    "queries_for",
    "raise_cancelled",
    "server",
    "shedding_fit",
    "sweep",
    "through_core",
]
