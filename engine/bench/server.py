"""The server scenario (open-loop Poisson arrivals) and what builds on it: max QPS at a p99
bound (and the ideal batcher's, simulated on the same schedules), overload with predictive
shedding, and the batcher-settings sweep.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from engine.bench.harness import Bench, CancelFn, ProgressFn, frozen_heap
from engine.bench.loadgen import open_loop_run, poisson_offsets
from engine.bench.offline import measured_points
from engine.bench.replay import BatchRecorder, replay_alone, replay_factor
from engine.bench.search import max_qps_search
from engine.bench.simulate import batch_time_table, simulate_latencies, simulate_policy
from engine.bench.stats import MIN_QUERIES_FOR_P99, noise_probe
from engine.serving.batch_time import BatchTimeModel
from engine.serving.policy import BatcherConfig

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


def default_warmup_queries(queries: int) -> int:
    """The warm-up before ``queries`` measured ones: 10 %, at least 50. The ideal-batcher
    simulation uses the same rule, so both see the same arrival schedule."""
    return max(50, queries // 10)


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
    replay: bool = False,
) -> dict[str, Any]:
    """One open-loop Poisson run at ``rate_qps`` on a fresh core. With ``replay`` the run's
    batches are then run again alone (``engine.bench.replay``), under ``result["replay"]``."""
    if warmup_queries is None:
        warmup_queries = default_warmup_queries(queries)
    offsets = poisson_offsets(rate_qps, warmup_queries + queries, seed)
    recorder = BatchRecorder(bench.execute) if replay else None

    async def go() -> dict[str, Any]:
        core = bench.core(config, execute=recorder)
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
        if recorder is not None:
            result["replay"] = replay_alone(bench.runner, recorder)
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
    replay: bool = False,
) -> dict[str, Any]:
    """The core's capacity at the p99 bound. With ``replay`` every run's batches are replayed
    alone right after it, returned under ``replays`` (for ``paired_ideal_max_qps``)."""
    replays: list[dict[str, Any]] = []

    def measure(rate: float) -> dict[str, Any]:
        n = queries_for(rate, queries, p99_budget_ms, run_budgets)
        r = server(bench, config, rate, queries=n, seed=seed, should_cancel=should_cancel, replay=replay)
        if replay:
            replays.append({"rate_qps": rate, **r.pop("replay")})
        return r

    def on_step(step: dict[str, Any]) -> None:
        if progress is not None:
            progress({"stage": "max-qps", **step})

    out = max_qps_search(
        measure, p99_budget_ms=p99_budget_ms, start_qps=min(start_qps, MAX_SEARCH_QPS),
        min_qps=start_qps / 8, max_qps=MAX_SEARCH_QPS, rel_tol=rel_tol,
        should_cancel=should_cancel, on_step=on_step,
    )
    out["p99_budget_ms"] = p99_budget_ms
    if replay:
        out["replays"] = replays
    return out


def offline_table(offline_result: dict[str, Any], max_batch_size: int) -> np.ndarray:
    """s(b) in seconds for b = 0..max_batch_size from ``offline()``'s result."""
    rows = offline_result["batch_sizes"]
    return batch_time_table(
        max_batch_size, **offline_result["fit_coefficients"],
        sizes=[r["batch_size"] for r in rows], batch_times_ms=[r["batch_time_ms"] for r in rows],
    )


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
    batch_time_scale: float = 1.0,
) -> dict[str, Any]:
    """The ideal-batcher capacity, found by the same search on the same schedules, with s(b)
    from the offline measurements (``offline()``'s result), times ``batch_time_scale``."""
    if not batch_time_scale > 0:
        raise ValueError("batch_time_scale must be > 0")
    table = offline_table(offline_result, config.max_batch_size) * batch_time_scale

    def measure(rate: float) -> dict[str, Any]:
        n = queries_for(rate, queries, p99_budget_ms, run_budgets)
        warmup = default_warmup_queries(n)
        arrivals = poisson_offsets(rate, warmup + n, seed)
        lat = simulate_latencies(
            arrivals, table, max_batch_size=config.max_batch_size,
            max_queue_delay_ms=config.max_queue_delay_ms, num_slots=config.num_slots,
        )[warmup:]
        return {"p99_all_ms": float(np.percentile(lat, 99, method="higher")) * 1000.0, "valid": True}

    out = max_qps_search(
        measure, p99_budget_ms=p99_budget_ms, start_qps=min(start_qps, MAX_SEARCH_QPS),
        max_qps=MAX_SEARCH_QPS, rel_tol=rel_tol, confirm=False,
    )
    out.pop("result", None)
    return out


def paired_ideal_max_qps(
    offline_result: dict[str, Any],
    config: BatcherConfig,
    p99_budget_ms: float,
    core_search: dict[str, Any],
    *,
    start_qps: float,
    queries: int = MIN_QUERIES_FOR_P99,
    seed: int = 0,
    run_budgets: float = RUN_BUDGETS,
) -> dict[str, Any]:
    """The ideal batcher with s(b) as the machine ran it during ``core_search`` (a ``max_qps``
    made with ``replay=True``): the offline s(b) times the replay factor of the runs near the
    core's answer (``engine.bench.replay``). ``replay`` in the result says what was used."""
    if "replays" not in core_search:
        raise ValueError("the core's search was made without replay=True")
    table = offline_table(offline_result, config.max_batch_size)
    factor = replay_factor(table, core_search["replays"], core_search["max_qps"])
    if factor["factor"] is None:
        return {"max_qps": None, "replay": factor}
    out = ideal_max_qps(
        offline_result, config, p99_budget_ms, start_qps=start_qps, queries=queries, seed=seed,
        run_budgets=run_budgets, batch_time_scale=factor["factor"],
    )
    out["replay"] = factor
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


def ideal_overload(
    offline_result: dict[str, Any],
    config: BatcherConfig,
    capacity_qps: float,
    p99_budget_ms: float,
    *,
    factor: float = 2.0,
    queries: int = MIN_QUERIES_FOR_P99,
    seed: int = 0,
) -> dict[str, Any]:
    """The ideal batcher under ``overload()``'s schedule: the same arrivals (rate, count, seed,
    warm-up), the same deadlines and the same policy (admission, shedding, dispatch), with every
    batch taking exactly the measured s(b) and nothing else costing time; its shedding model is
    that s(b) itself, so its predictions are exact. Goodput is counted as ``summarise_run``
    does: completions within the deadline over the measured window."""
    table = offline_table(offline_result, config.max_batch_size)
    fit = offline_result["fit_coefficients"]
    exact = replace(
        config,
        batch_time_model=BatchTimeModel(
            fit["intercept_ms"], fit["per_item_ms"],
            measured_ms=tuple(measured_points(offline_result)),
        ),
        shed_predicted_misses=True, batch_time_quantile=None, shed_margin_quantile=None,
    )
    total = int(queries * factor)
    warmup = default_warmup_queries(total)
    arrivals = poisson_offsets(capacity_qps * factor, warmup + total, seed)
    sim = simulate_policy(
        arrivals, exact, lambda b: float(table[min(b, len(table) - 1)]), deadline_ms=p99_budget_ms
    )
    lat = sim["latency_s"][warmup:]
    done = ~np.isnan(lat)
    finish = (arrivals[warmup:] + np.where(done, lat, 0.0))[done]
    window = max(1e-9, float(finish.max() - arrivals[warmup])) if finish.size else 1e-9
    good = int(np.sum(lat[done] <= p99_budget_ms / 1000.0))
    return {
        "offered_qps": round(total / max(1e-9, float(arrivals[-1] - arrivals[warmup])), 2),
        "goodput_qps": round(good / window, 2),
        "admitted_p99_ms": (
            round(float(np.percentile(lat[done], 99, method="higher")) * 1000.0, 4) if done.any() else None
        ),
        "executed_after_deadline": sim["metrics"]["executed_after_deadline"],
        "mean_batch_size": sim["metrics"]["mean_batch_size"],
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
