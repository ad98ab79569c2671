"""Load generation against an in-process ServingCore.

- ``poisson_offsets``: a seeded, precomputed open-loop schedule. The unit-rate schedule depends
  only on the seed and is scaled by 1/rate, so every rate (and the ideal-batcher simulation)
  sees the same arrival pattern.
- ``open_loop_run``: the server scenario. A sender thread sleeps until each scheduled arrival and
  submits it straight into the core (``submit_threadsafe``); latency is counted from the
  *scheduled* arrival, so a stalled server or sender cannot hide queueing (no coordinated
  omission). A send more than ``late_tolerance_ms`` after its schedule is late; a run with more
  than 1 % late sends is invalid.
- ``core_offline``: all requests available at once (offline scenario) through the core.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from engine.bench.stats import MIN_QUERIES_FOR_P99, latency_summary_ms
from engine.serving.core import RequestRejected, RequestTimedOut, ServingCore

OK, REJECTED, TIMED_OUT, FAILED, PENDING = 0, 1, 2, 3, 4
MAX_LATE_FRACTION = 0.01
# A send later than this after its scheduled time is late. Lateness never flatters a result
# (latency counts from the schedule); the rule only flags runs where the generator itself,
# not the server, was the bottleneck. 5 ms rides out scheduler stalls of a shared machine.
DEFAULT_LATE_TOLERANCE_MS = 5.0


def poisson_offsets(rate_qps: float, count: int, seed: int) -> np.ndarray:
    """Arrival offsets (s) of ``count`` Poisson arrivals at ``rate_qps``, first one at 0."""
    if not rate_qps > 0:
        raise ValueError("rate_qps must be > 0")
    gaps = np.random.default_rng(seed).standard_exponential(count) / rate_qps
    gaps[0] = 0.0
    return np.cumsum(gaps)


async def open_loop_run(
    core: ServingCore,
    payloads: Sequence[Any],
    offsets_s: np.ndarray,
    *,
    warmup_queries: int = 0,
    deadline_ms: float | None = None,
    priority: int | None = None,
    late_tolerance_ms: float = DEFAULT_LATE_TOLERANCE_MS,
    max_wall_s: float | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Drive ``core`` with the open-loop schedule; stats cover queries after the warm-up."""
    loop = asyncio.get_running_loop()
    clock = core.clock
    n = len(offsets_s)
    if n <= warmup_queries:
        raise ValueError("need more queries than warm-up queries")
    finished = np.full(n, np.nan)
    sent = np.full(n, np.nan)
    outcome = np.full(n, PENDING, dtype=np.int8)
    deadline_s = None if deadline_ms is None else deadline_ms / 1000.0
    remaining = [n]
    count_lock = threading.Lock()
    all_done = asyncio.Event()
    stop = threading.Event()
    t0 = clock() + 0.005
    targets = t0 + np.asarray(offsets_s, dtype=np.float64)
    n_payloads = len(payloads)
    submit = core.submit_threadsafe

    def on_done(k: int, output: Any, error: Exception | None) -> None:
        # Called from a core thread the moment the batch finishes (no event-loop hop).
        finished[k] = clock()
        if error is None:
            outcome[k] = OK
        elif isinstance(error, RequestRejected):
            outcome[k] = REJECTED
        elif isinstance(error, RequestTimedOut):
            outcome[k] = TIMED_OUT
        else:
            outcome[k] = FAILED
        with count_lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            loop.call_soon_threadsafe(all_done.set)

    def sender() -> None:
        # Submits straight into the core from this thread: a request is queued within the
        # sleep's overshoot of its scheduled arrival, with no event-loop hop in between.
        i = 0
        while i < n and not stop.is_set():
            now = clock()
            if targets[i] > now:
                time.sleep(targets[i] - now)
                continue
            target = targets[i]
            sent[i] = clock()
            submit(
                payloads[i % n_payloads],
                callback=partial(on_done, i),
                priority=priority,
                deadline_s=None if deadline_s is None else target + deadline_s,
            )
            i += 1
            if should_cancel is not None and i % 256 == 0 and should_cancel():
                stop.set()

    thread = threading.Thread(target=sender, name="loadgen-sender", daemon=True)
    thread.start()
    span = float(offsets_s[-1])
    limit = max_wall_s if max_wall_s is not None else 2.0 * span + 10.0
    timed_out = False
    try:
        await asyncio.wait_for(all_done.wait(), limit)
    except TimeoutError:
        timed_out = True
    stop.set()
    await asyncio.to_thread(thread.join, 5.0)
    if timed_out or (should_cancel is not None and should_cancel()):
        # Give requests already sent a moment to finish, then count the rest as failed.
        await asyncio.sleep(0.05)

    return summarise_run(
        targets, sent, finished, outcome, warmup_queries=warmup_queries,
        deadline_s=deadline_s, late_tolerance_ms=late_tolerance_ms, run_timed_out=timed_out,
    )


def summarise_run(
    targets: np.ndarray,
    sent: np.ndarray,
    finished: np.ndarray,
    outcome: np.ndarray,
    *,
    warmup_queries: int,
    deadline_s: float | None,
    late_tolerance_ms: float,
    run_timed_out: bool,
) -> dict[str, Any]:
    """Server-run statistics from raw per-query times (s) and outcomes; warm-up excluded."""
    n = targets.size
    timed_out = run_timed_out
    m = slice(warmup_queries, n)
    out_m = outcome[m]
    lat = finished[m] - targets[m]
    ok = out_m == OK
    lateness = sent[m] - targets[m]
    was_sent = ~np.isnan(lateness)
    late = int(np.sum(lateness[was_sent] > late_tolerance_ms / 1000.0))
    measured = n - warmup_queries
    # p99 over all measured queries, a failed or unanswered one counting as infinitely late.
    lat_all = np.where(ok, lat, np.inf)
    p99_all = float(np.percentile(lat_all, 99, method="higher"))
    t_first = targets[warmup_queries]
    t_last = np.nanmax(finished[m]) if np.any(~np.isnan(finished[m])) else t_first
    window_s = max(1e-9, float(t_last - t_first))
    in_deadline = ok if deadline_s is None else ok & (lat <= deadline_s)
    result: dict[str, Any] = {
        "offered_qps": round(measured / max(1e-9, float(targets[-1] - t_first)), 2),
        "queries": measured,
        "warmup_queries": warmup_queries,
        "short_run": measured < MIN_QUERIES_FOR_P99,
        "duration_s": round(float(targets[-1] - targets[0]), 3),
        "completed": int(ok.sum()),
        "rejected": int(np.sum(out_m == REJECTED)),
        "timed_out": int(np.sum(out_m == TIMED_OUT)),
        "failed": int(np.sum(out_m == FAILED)),
        "unanswered": int(np.sum(out_m == PENDING)),
        "goodput_qps": round(int(in_deadline.sum()) / window_s, 2),
        "late_sends": late,
        "late_fraction": round(late / measured, 5),
        "latency_ms": latency_summary_ms(lat[ok]),
        "p99_all_ms": round(p99_all * 1000.0, 4) if math.isfinite(p99_all) else None,
        "run_timed_out": timed_out,
    }
    result["valid"] = (
        result["late_fraction"] <= MAX_LATE_FRACTION and not timed_out and result["unanswered"] == 0
    )
    return result



async def core_offline(
    core: ServingCore, payloads: Sequence[Any], count: int, *, chunk: int = 512
) -> float:
    """Offline scenario through the core: ``count`` requests submitted as fast as the loop
    allows (in chunks, so execution starts while later requests are still arriving). Returns
    the elapsed seconds until the last response."""
    loop = asyncio.get_running_loop()
    clock = core.clock
    remaining = [count]
    done = loop.create_future()
    n_payloads = len(payloads)
    errors: list[BaseException] = []

    def on_done(fut: asyncio.Future) -> None:
        if fut.cancelled() or fut.exception() is not None:
            errors.append(fut.exception() if not fut.cancelled() else asyncio.CancelledError())
        remaining[0] -= 1
        if remaining[0] == 0 and not done.done():
            done.set_result(None)

    submit = core.submit
    start = clock()
    k = 0
    while k < count:
        end = min(count, k + chunk)
        for i in range(k, end):
            submit(payloads[i % n_payloads])[1].add_done_callback(on_done)
        k = end
        await asyncio.sleep(0)
    await done
    elapsed = clock() - start
    if errors:
        raise RuntimeError(f"{len(errors)} offline requests failed: {errors[0]!r}")
    return elapsed
