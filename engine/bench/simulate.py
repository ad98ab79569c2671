"""Ideal-batcher simulation: the same dispatch rules with zero overhead and a deterministic
batch time s(b), on the same arrival schedule. Its capacity at a p99 bound is the limit the real
core is compared against (P2).

s(b) is either the fitted line a + c*b or, better, the measured batch times interpolated
piecewise-linearly (the line is poor at small b on CPUs, where b=1 takes a faster GEMV path):
``batch_time_table`` builds that from the offline measurements.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def batch_time_table(
    max_batch_size: int,
    *,
    intercept_ms: float,
    per_item_ms: float,
    sizes: Sequence[int] = (),
    batch_times_ms: Sequence[float] = (),
) -> np.ndarray:
    """s(b) in seconds for b = 0..max_batch_size: measured points interpolated, the fitted line
    beyond them (and everywhere when no points are given)."""
    b = np.arange(max_batch_size + 1, dtype=np.float64)
    line = (intercept_ms + per_item_ms * b) / 1000.0
    if len(sizes) == 0:
        return line
    xs = np.asarray(sizes, dtype=np.float64)
    ys = np.asarray(batch_times_ms, dtype=np.float64) / 1000.0
    order = np.argsort(xs)
    xs, ys = xs[order], ys[order]
    table = np.interp(b, xs, ys)
    above = b > xs[-1]
    table[above] = ys[-1] + per_item_ms / 1000.0 * (b[above] - xs[-1])
    return table


def simulate_latencies(
    arrivals_s: np.ndarray,
    batch_time_s: np.ndarray,
    *,
    max_batch_size: int,
    max_queue_delay_ms: float = 0.0,
    num_slots: int = 1,
) -> np.ndarray:
    """Latency of each request (s) under a zero-overhead batcher: when a slot is free, dispatch
    once ``max_batch_size`` requests are queued or the oldest has waited the queue delay.
    ``batch_time_s[b]`` is s(b) for b up to ``max_batch_size``."""
    t = np.asarray(arrivals_s, dtype=np.float64)
    n = t.size
    lat = np.empty(n)
    delay = max_queue_delay_ms / 1000.0
    slots = [0.0] * num_slots  # time each slot frees up
    i = 0
    while i < n:
        s_idx = min(range(num_slots), key=slots.__getitem__)
        start = max(slots[s_idx], t[i])
        full_at = t[i + max_batch_size - 1] if i + max_batch_size - 1 < n else np.inf
        go = max(start, min(full_at, t[i] + delay))
        j = min(int(np.searchsorted(t, go, side="right")), i + max_batch_size)
        end = go + batch_time_s[j - i]
        lat[i:j] = end - t[i:j]
        slots[s_idx] = end
        i = j
    return lat


def simulate_policy(
    arrivals_s: np.ndarray,
    config,
    batch_time_s,
    *,
    deadline_ms: float | None = None,
) -> dict:
    """Run the real ``BatchPolicy`` on a simulated clock: requests arrive at ``arrivals_s``
    (with a deadline ``deadline_ms`` after arrival, if given), each batch of b takes
    ``batch_time_s(b)`` seconds (deterministic, or any function, e.g. noisy, for tests), and
    nothing else costs time. With a deterministic s(b) equal to the policy's own model this is
    the ideal batcher under the same admission, shedding and dispatch rules (P4's reference).

    Returns per-request ``latency_s`` (NaN unless completed), ``status`` (the policy's), the
    policy's metrics and the margin it ended with."""
    import heapq

    from engine.serving.policy import DONE, BatchPolicy

    t = np.asarray(arrivals_s, dtype=np.float64)
    n = t.size
    now = [float(t[0]) if n else 0.0]
    policy = BatchPolicy(config, clock=lambda: now[0])
    latency = np.full(n, np.nan)
    status: list[str | None] = [None] * n
    running: list[tuple[float, int, object, float]] = []  # (end, batch id, batch, start)
    deadline = None if deadline_ms is None else deadline_ms / 1000.0
    i = 0
    wake_at = None
    while i < n or running or policy.queued:
        candidates = []
        if i < n:
            candidates.append(t[i])
        if running:
            candidates.append(running[0][0])
        if wake_at is not None:
            candidates.append(wake_at)
        if not candidates:
            break
        now[0] = max(now[0], min(candidates))
        while running and running[0][0] <= now[0]:
            end, _, batch, start = heapq.heappop(running)
            policy.complete(batch, started_s=start, finished_s=end)
            for req in batch.requests:
                status[req.payload] = req.status
                if req.status == DONE:
                    latency[req.payload] = end - t[req.payload]
        while i < n and t[i] <= now[0]:
            req = policy.submit(i, deadline_s=None if deadline is None else t[i] + deadline)
            status[i] = req.status
            i += 1
        while True:
            batch, expired, wake_at = policy.poll()
            for req in expired:
                status[req.payload] = req.status
            if batch is None:
                break
            for req in batch.requests:
                status[req.payload] = req.status
            end = now[0] + float(batch_time_s(len(batch.requests)))
            heapq.heappush(running, (end, batch.id, batch, now[0]))
        if wake_at is not None and wake_at <= now[0]:
            wake_at = now[0] + 1e-6  # due now but nothing to do until a slot frees
        if i >= n and not running and policy.queued and wake_at is None:
            break
    return {
        "latency_s": latency,
        "status": status,
        "metrics": policy.metrics.summary(),
        "shed_margin_s": policy.shed_margin_s,
    }
