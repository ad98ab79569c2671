"""The offline scenario (all requests available at once): batch time and throughput at each
batch size, the s(b) fit that shedding and the ideal batcher use, and the no-op core's
scheduling-overhead probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.bench.harness import (
    Bench,
    CancelFn,
    ProgressFn,
    frozen_heap,
    make_bench,
    raise_cancelled,
    unpadded,
)
from engine.bench.loadgen import core_offline
from engine.bench.stats import noise_probe
from engine.serving.batch_time import padded_times_ms, padding_plan
from engine.serving.policy import BatcherConfig
from engine.serving.workloads import WorkloadSpec


def fit_batch_time(sizes: Sequence[int], batch_times_ms: Sequence[float]) -> dict[str, float]:
    """Least-squares line s(b) = intercept + per_item * b, clamped to non-negative terms."""
    b = np.asarray(sizes, dtype=np.float64)
    s = np.asarray(batch_times_ms, dtype=np.float64)
    if b.size == 1:
        return {"intercept_ms": float(s[0]), "per_item_ms": 0.0, "r2": 1.0}
    per_item, intercept = np.polyfit(b, s, 1)
    per_item = max(0.0, float(per_item))
    intercept = max(0.0, float(intercept))
    pred = intercept + per_item * b
    ss_res = float(np.sum((s - pred) ** 2))
    ss_tot = float(np.sum((s - s.mean()) ** 2)) or 1.0
    return {
        "intercept_ms": round(intercept, 5),
        "per_item_ms": round(per_item, 6),
        "r2": round(1.0 - ss_res / ss_tot, 4),
    }


def shedding_fit(offline_result: dict[str, Any], min_batch_size: int = 4) -> dict[str, float]:
    """The s(b) line for admission and batch sizing: fitted on b >= ``min_batch_size``, the
    sizes an overloaded server runs. On CPUs b = 1-2 take a faster matrix-vector path that
    bends a fit over all sizes and makes it optimistic exactly where overload operates."""
    rows = [r for r in offline_result["batch_sizes"] if r["batch_size"] >= min_batch_size]
    if len(rows) < 2:
        return offline_result["fit"]
    return fit_batch_time([r["batch_size"] for r in rows], [r["batch_time_ms"] for r in rows])


def pad_batches(bench: Bench, offline_result: dict[str, Any], *, min_gain: float = 0.05) -> dict[str, Any]:
    """Make the bench's runner pad each batch size that a larger measured size beats by at
    least ``min_gain`` (``engine.serving.batch_time.padding_plan``) and return ``offline()``'s
    result as the padded runner runs it: the padded sizes at the time of the size they run as,
    marked ``padded_to``, and the plan under ``padding``. Everything fed from that result (the
    ideal batcher, the shedding model) then sees the batches the core really runs."""
    measured = {r["batch_size"]: r["batch_time_ms"] for r in offline_result["batch_sizes"]}
    plan = padding_plan(measured, bench.runner.max_batch_size, min_gain=min_gain)
    bench.runner.set_padding(plan)
    rows = []
    for b, ms in padded_times_ms(measured, plan).items():
        row = {"batch_size": b, "batch_time_ms": ms, "throughput_qps": round(b * 1000.0 / ms, 2) if ms else None}
        if b in plan:
            row["padded_to"] = plan[b]
        rows.append(row)
    return {**offline_result, "batch_sizes": rows, "padding": {str(b): m for b, m in sorted(plan.items())}}


def measured_points(offline_result: dict[str, Any]) -> list[tuple[int, float]]:
    return [(r["batch_size"], r["batch_time_ms"]) for r in offline_result["batch_sizes"]]


def bare_batches(bench: Bench, batch_size: int, batches: int) -> dict[str, float]:
    """The bare runner, batch after batch: throughput and the median batch time of the size
    as it is (never padded)."""
    with frozen_heap(), unpadded(bench.runner):
        return _bare_batches(bench, batch_size, batches)


def _bare_batches(bench: Bench, batch_size: int, batches: int) -> dict[str, float]:
    runner = bench.runner
    pool = bench.payloads
    clock = time.perf_counter
    times = []
    runner.run(pool[:batch_size])  # warm this size
    runner.synchronize()
    start = clock()
    for i in range(batches):
        lo = (i * batch_size) % max(1, len(pool) - batch_size)
        t = clock()
        runner.run(pool[lo : lo + batch_size])
        runner.synchronize()
        times.append(clock() - t)
    elapsed = clock() - start
    return {
        "batch_size": batch_size,
        "throughput_qps": round(batch_size * batches / elapsed, 2),
        "batch_time_ms": round(float(np.median(times)) * 1000.0, 4),
        "batches": batches,
    }


def through_core(
    bench: Bench,
    config: BatcherConfig,
    requests: int,
    *,
    chunk: int,
    warmup_requests: int,
    warmup_chunk: int | None = None,
) -> tuple[float, dict[str, Any]]:
    """Offline through a fresh core (all requests available at once), with the heap frozen:
    a warm-up that the metrics then forget, and ``requests`` measured in chunks of ``chunk``.
    Returns (elapsed seconds, the core's metrics). ``warmup_chunk`` None: ``core_offline``'s."""
    warmup = {} if warmup_chunk is None else {"chunk": warmup_chunk}

    async def go() -> tuple[float, dict[str, Any]]:
        core = bench.core(config)
        await core.start()
        try:
            await core_offline(core, bench.payloads, warmup_requests, **warmup)
            core.policy.metrics = type(core.policy.metrics)()
            elapsed = await core_offline(core, bench.payloads, requests, chunk=chunk)
        finally:
            await core.stop()
        return elapsed, core.metrics()

    with frozen_heap():
        return asyncio.run(go())


def core_batches(bench: Bench, batch_size: int, batches: int) -> dict[str, float]:
    """The same work through the serving core (offline: all requests available at once)."""
    config = BatcherConfig(
        max_batch_size=batch_size, max_queue_delay_ms=0.0,
        max_queue_size=batch_size * batches + 1,
    )
    # The warm-up runs this size in the worker thread: torch/MKL set up per-thread state on
    # first use.
    elapsed, metrics = through_core(
        bench, config, batch_size * batches, chunk=64, warmup_requests=batch_size * 5
    )
    return {
        "batch_size": batch_size,
        "throughput_qps": round(batch_size * batches / elapsed, 2),
        "mean_batch_size": metrics["mean_batch_size"],
        "batches": batches,
    }


def batches_for(batch_time_ms: float, min_time_s: float, min_batches: int = 5) -> int:
    return max(min_batches, int(min_time_s * 1000.0 / max(batch_time_ms, 1e-3)))


def offline(
    bench: Bench,
    batch_sizes: Sequence[int],
    *,
    min_time_s: float = 0.3,
    should_cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Throughput and batch time at each batch size (bare runner, never padded), and the
    s(b) fit."""
    rows = []
    for b in batch_sizes:
        if should_cancel is not None and should_cancel():
            raise_cancelled()
        probe = bare_batches(bench, b, 3)
        row = bare_batches(bench, b, batches_for(probe["batch_time_ms"], min_time_s))
        rows.append(row)
        if progress is not None:
            progress({"stage": "offline", "batch_size": b, **row})
    fit = fit_batch_time([r["batch_size"] for r in rows], [r["batch_time_ms"] for r in rows])
    return {
        "batch_sizes": rows,
        "fit": fit,
        "fit_coefficients": {"intercept_ms": fit["intercept_ms"], "per_item_ms": fit["per_item_ms"]},
    }


# -- scheduling overhead -------------------------------------------------------------------------
def noop_throughput(max_batch_size: int = 64, requests: int = 200_000) -> dict[str, Any]:
    """Requests/s through the core with a model that does nothing (in-process, offline)."""
    bench = make_bench(WorkloadSpec(family="noop"))
    config = BatcherConfig(
        max_batch_size=max_batch_size, max_queue_delay_ms=0.0, max_queue_size=requests + 1,
    )
    noise = noise_probe()
    chunk = max_batch_size * 4
    elapsed, metrics = through_core(
        bench, config, requests, chunk=chunk, warmup_requests=10_000, warmup_chunk=chunk
    )
    return {
        "max_batch_size": max_batch_size,
        "requests": requests,
        "elapsed_s": round(elapsed, 4),
        "requests_per_s": round(requests / elapsed, 1),
        "us_per_request": round(elapsed / requests * 1e6, 3),
        "mean_batch_size": metrics["mean_batch_size"],
        "noise": noise,
    }
