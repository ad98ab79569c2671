"""Benchmark scenarios: offline, server, max QPS at a p99 bound, overload, sweep, and the
no-op scheduling-overhead probe. Each returns plain data; ``engine.bench.api`` assembles them
into a result with provenance.

Import order matters for CPU thread pools: callers pin threads (``engine.bench.threads``)
before the first import of this module, which imports torch through the runner.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from contextlib import contextmanager
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.bench.loadgen import core_offline, open_loop_run, poisson_offsets
from engine.bench.search import max_qps_search
from engine.bench.simulate import batch_time_table, simulate_latencies
from engine.bench.stats import MIN_QUERIES_FOR_P99, noise_probe
from engine.serving.core import ServingCore
from engine.serving.policy import BatcherConfig, BatchTimeModel
from engine.serving.workloads import WorkloadSpec

ProgressFn = Callable[[dict[str, Any]], None]
# A capacity run must last at least this many p99 budgets: a run much shorter than that is a
# burst, which even an overloaded server can finish within the budget.
RUN_BUDGETS = 20
# The in-process generator tops out around the no-op core's rate; searching above it is moot.
MAX_SEARCH_QPS = 250_000.0


MAX_QUERIES_PER_RUN = 500_000


def queries_for(
    rate_qps: float, queries: int, p99_budget_ms: float, run_budgets: float = RUN_BUDGETS
) -> int:
    """Measured queries for a run at ``rate_qps``: at least ``queries``, and enough for the run
    to last ``run_budgets`` p99 budgets (capped at ``MAX_QUERIES_PER_RUN``)."""
    wanted = int(math.ceil(rate_qps * run_budgets * p99_budget_ms / 1000.0))
    return max(queries, min(wanted, MAX_QUERIES_PER_RUN))


@contextmanager
def frozen_heap():
    """Move everything alive now out of the garbage collector's reach for a measurement.

    A full collection walks every live container; in a benchmark process that holds models,
    inputs and earlier results, those walks (triggered by the core's per-request allocations)
    cost the no-op core a third of its throughput. A server freezes its start-up heap the same
    way (``gc.freeze()`` after loading the model; ``engine.serving.http`` does).
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
CancelFn = Callable[[], bool]


@dataclass(slots=True)
class Bench:
    """A workload ready to run: the runner (model built, warmed up) and a pool of inputs."""

    spec: WorkloadSpec
    runner: Any  # engine.serving.runner.Runner, or the no-op stand-in
    payloads: list[Any]
    device: str

    @property
    def execute(self) -> Callable[[list[Any]], Sequence[Any]]:
        return self.runner.run

    def core(self, config: BatcherConfig) -> ServingCore:
        return ServingCore(self.execute, config, init_thread=self.runner.init_thread)


class NoopRunner:
    """Returns its inputs: what is left is the scheduling overhead."""

    threads = None

    def run(self, inputs: list[Any]) -> list[Any]:
        return inputs

    def init_thread(self) -> None:
        pass

    def synchronize(self) -> None:
        pass


def make_bench(
    spec: WorkloadSpec,
    *,
    device: str = "auto",
    threads: int | None = None,
    max_batch_size: int = 256,
    payload_pool: int = 1024,
    cuda_graph_batch_sizes: Sequence[int] = (),
    warmup_batch_sizes: Sequence[int] = (1, 8, 32),
) -> Bench:
    if spec.family == "noop":
        return Bench(spec, NoopRunner(), list(range(payload_pool)), "cpu")
    from engine.serving.runner import Runner, make_inputs

    runner = Runner(
        spec, device=device, threads=threads, max_batch_size=max_batch_size,
        cuda_graph_batch_sizes=cuda_graph_batch_sizes,
    )
    sizes = sorted({min(b, max_batch_size) for b in warmup_batch_sizes})
    runner.warmup(sizes)
    payloads = make_inputs(spec, max(payload_pool, max_batch_size), seed=spec.seed + 1)
    return Bench(spec, runner, payloads, str(runner.device))


# -- offline ---------------------------------------------------------------------------------
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


def measured_points(offline_result: dict[str, Any]) -> list[tuple[int, float]]:
    return [(r["batch_size"], r["batch_time_ms"]) for r in offline_result["batch_sizes"]]


def bare_batches(bench: Bench, batch_size: int, batches: int) -> dict[str, float]:
    """The bare runner, batch after batch: throughput and the median batch time."""
    with frozen_heap():
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


def core_batches(bench: Bench, batch_size: int, batches: int) -> dict[str, float]:
    """The same work through the serving core (offline: all requests available at once)."""
    config = BatcherConfig(
        max_batch_size=batch_size, max_queue_delay_ms=0.0,
        max_queue_size=batch_size * batches + 1,
    )

    async def go() -> tuple[float, dict[str, Any]]:
        core = bench.core(config)
        await core.start()
        try:
            # Warm this size in this worker thread: torch/MKL set up per-thread state on first use.
            await core_offline(core, bench.payloads, batch_size * 5)
            core.policy.metrics = type(core.policy.metrics)()
            elapsed = await core_offline(core, bench.payloads, batch_size * batches, chunk=64)
        finally:
            await core.stop()
        return elapsed, core.metrics()

    with frozen_heap():
        elapsed, metrics = asyncio.run(go())
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
    """Throughput and batch time at each batch size (bare runner), and the s(b) fit."""
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


def raise_cancelled() -> None:
    from engine.bench.search import Cancelled

    raise Cancelled()


# -- server ------------------------------------------------------------------------------------
def server(
    bench: Bench,
    config: BatcherConfig,
    rate_qps: float,
    *,
    queries: int = MIN_QUERIES_FOR_P99,
    warmup_queries: int | None = None,
    seed: int = 0,
    deadline_ms: float | None = None,
    should_cancel: CancelFn | None = None,
) -> dict[str, Any]:
    """One open-loop Poisson run at ``rate_qps`` on a fresh core."""
    if warmup_queries is None:
        warmup_queries = max(50, queries // 10)
    offsets = poisson_offsets(rate_qps, warmup_queries + queries, seed)

    async def go() -> dict[str, Any]:
        core = bench.core(config)
        await core.start()
        try:
            result = await open_loop_run(
                core, bench.payloads, offsets, warmup_queries=warmup_queries,
                deadline_ms=deadline_ms, should_cancel=should_cancel,
            )
        finally:
            await core.stop(drain=False)
        result["core"] = core.metrics()
        return result

    noise = noise_probe()
    with frozen_heap():
        result = asyncio.run(go())
    result["rate_qps"] = round(rate_qps, 2)
    result["noise"] = noise
    return result


def estimate_capacity_qps(fit: dict[str, float], max_batch_size: int) -> float:
    return max_batch_size / ((fit["intercept_ms"] + fit["per_item_ms"] * max_batch_size) / 1000.0)


def max_qps(
    bench: Bench,
    config: BatcherConfig,
    p99_budget_ms: float,
    *,
    start_qps: float,
    queries: int = MIN_QUERIES_FOR_P99,
    seed: int = 0,
    rel_tol: float = 0.03,
    run_budgets: float = RUN_BUDGETS,
    should_cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    def measure(rate: float) -> dict[str, Any]:
        n = queries_for(rate, queries, p99_budget_ms, run_budgets)
        return server(bench, config, rate, queries=n, seed=seed, should_cancel=should_cancel)

    def on_step(step: dict[str, Any]) -> None:
        if progress is not None:
            progress({"stage": "max-qps", **step})

    out = max_qps_search(
        measure, p99_budget_ms=p99_budget_ms, start_qps=min(start_qps, MAX_SEARCH_QPS),
        min_qps=start_qps / 8, max_qps=MAX_SEARCH_QPS, rel_tol=rel_tol,
        should_cancel=should_cancel, on_step=on_step,
    )
    out["p99_budget_ms"] = p99_budget_ms
    return out


def ideal_max_qps(
    offline_result: dict[str, Any],
    config: BatcherConfig,
    p99_budget_ms: float,
    *,
    start_qps: float,
    queries: int = MIN_QUERIES_FOR_P99,
    seed: int = 0,
    rel_tol: float = 0.03,
    run_budgets: float = RUN_BUDGETS,
) -> dict[str, Any]:
    """The ideal-batcher capacity, found by the same search on the same schedules, with s(b)
    from the offline measurements (``offline()``'s result)."""
    rows = offline_result["batch_sizes"]
    table = batch_time_table(
        config.max_batch_size, **offline_result["fit_coefficients"],
        sizes=[r["batch_size"] for r in rows], batch_times_ms=[r["batch_time_ms"] for r in rows],
    )

    def measure(rate: float) -> dict[str, Any]:
        n = queries_for(rate, queries, p99_budget_ms, run_budgets)
        arrivals = poisson_offsets(rate, max(50, n // 10) + n, seed)
        lat = simulate_latencies(
            arrivals, table, max_batch_size=config.max_batch_size,
            max_queue_delay_ms=config.max_queue_delay_ms, num_slots=config.num_slots,
        )[max(50, n // 10):]
        return {"p99_all_ms": float(np.percentile(lat, 99, method="higher")) * 1000.0, "valid": True}

    out = max_qps_search(
        measure, p99_budget_ms=p99_budget_ms, start_qps=min(start_qps, MAX_SEARCH_QPS),
        max_qps=MAX_SEARCH_QPS, rel_tol=rel_tol, confirm=False,
    )
    out.pop("result", None)
    return out


# -- overload ----------------------------------------------------------------------------------
def overload(
    bench: Bench,
    config: BatcherConfig,
    fit: dict[str, float],
    capacity_qps: float,
    p99_budget_ms: float,
    *,
    factor: float = 2.0,
    queries: int = MIN_QUERIES_FOR_P99,
    seed: int = 0,
    measured_ms: Sequence[tuple[int, float]] = (),
    safety_factor: float = 1.0,
    overhead_ms: float = 0.3,
    should_cancel: CancelFn | None = None,
) -> dict[str, Any]:
    """Offer ``factor`` x capacity with per-request deadlines = the budget and predictive
    shedding from s(b): goodput, rejections, timeouts, p99 of admitted requests and the count
    of requests executed after their deadline.

    The shedding model is ``fit`` (see ``shedding_fit``), through the offline ``measured_ms``
    points where given, plus ``overhead_ms`` per batch for collation and delivery, times
    ``safety_factor``; the policy scales it further by the observed
    quantile of real / modelled batch times (``BatcherConfig.batch_time_quantile``), since batches
    in a busy server run slower than alone."""
    shed = replace(
        config,
        batch_time_model=BatchTimeModel(
            fit["intercept_ms"] * safety_factor + overhead_ms, fit["per_item_ms"] * safety_factor,
            measured_ms=tuple((b, ms * safety_factor + overhead_ms) for b, ms in measured_ms),
        ),
        shed_predicted_misses=True,
    )
    total = int(queries * factor)  # same measured wall time as a run at capacity
    r = server(
        bench, shed, capacity_qps * factor, queries=total, seed=seed,
        deadline_ms=p99_budget_ms, should_cancel=should_cancel,
    )
    admitted_p99 = r["latency_ms"]["p99_ms"]
    return {
        "factor": factor,
        "capacity_qps": capacity_qps,
        "offered_qps": r["offered_qps"],
        "goodput_qps": r["goodput_qps"],
        "goodput_over_capacity": round(r["goodput_qps"] / capacity_qps, 4) if capacity_qps else None,
        "admitted_p99_ms": admitted_p99,
        "rejected": r["rejected"],
        "timed_out": r["timed_out"],
        "completed": r["completed"],
        "executed_after_deadline": r["core"]["executed_after_deadline"],
        "p99_budget_ms": p99_budget_ms,
        "shedding_model": {"intercept_ms": shed.batch_time_model.intercept_ms,
                           "per_item_ms": shed.batch_time_model.per_item_ms,
                           "measured_ms": [list(p) for p in shed.batch_time_model.measured_ms]},
        "run": r,
    }


# -- sweep -------------------------------------------------------------------------------------
def sweep(
    bench: Bench,
    base: BatcherConfig,
    fit: dict[str, float],
    p99_budget_ms: float,
    *,
    max_batch_sizes: Sequence[int],
    max_queue_delays_ms: Sequence[float],
    queries: int = MIN_QUERIES_FOR_P99,
    seed: int = 0,
    run_budgets: float = RUN_BUDGETS,
    should_cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Capacity at the p99 bound for each (max_batch_size, max_queue_delay_ms); recommend the
    setting with the highest capacity whose p99 stays within the bound (as Triton Model Analyzer
    does under a latency constraint)."""
    grid = []
    for b in max_batch_sizes:
        for d in max_queue_delays_ms:
            cfg = replace(base, max_batch_size=b, max_queue_delay_ms=d, preferred_batch_sizes=())
            found = max_qps(
                bench, cfg, p99_budget_ms, start_qps=0.7 * estimate_capacity_qps(fit, b),
                queries=queries, seed=seed, run_budgets=run_budgets, should_cancel=should_cancel,
            )
            row = {
                "max_batch_size": b, "max_queue_delay_ms": d, "max_qps": found["max_qps"],
                "p99_ms": found["p99_ms"], "confirmed": found["confirmed"],
            }
            grid.append(row)
            if progress is not None:
                progress({"stage": "sweep", **row})
    ok = [r for r in grid if r["confirmed"] and r["max_qps"] > 0]
    best = max(ok, key=lambda r: r["max_qps"]) if ok else None
    return {"grid": grid, "recommendation": best, "p99_budget_ms": p99_budget_ms}


# -- scheduling overhead -------------------------------------------------------------------------
def noop_throughput(max_batch_size: int = 64, requests: int = 200_000) -> dict[str, Any]:
    """Requests/s through the core with a model that does nothing (in-process, offline)."""
    bench = make_bench(WorkloadSpec(family="noop"))
    config = BatcherConfig(
        max_batch_size=max_batch_size, max_queue_delay_ms=0.0, max_queue_size=requests + 1,
    )

    async def go() -> tuple[float, dict[str, Any]]:
        core = bench.core(config)
        await core.start()
        try:
            await core_offline(core, bench.payloads, 10_000, chunk=max_batch_size * 4)
            core.policy.metrics = type(core.policy.metrics)()
            elapsed = await core_offline(core, bench.payloads, requests, chunk=max_batch_size * 4)
        finally:
            await core.stop()
        return elapsed, core.metrics()

    noise = noise_probe()
    with frozen_heap():
        elapsed, metrics = asyncio.run(go())
    return {
        "max_batch_size": max_batch_size,
        "requests": requests,
        "elapsed_s": round(elapsed, 4),
        "requests_per_s": round(requests / elapsed, 1),
        "us_per_request": round(elapsed / requests * 1e6, 3),
        "mean_batch_size": metrics["mean_batch_size"],
        "noise": noise,
    }
