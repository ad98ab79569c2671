"""Max QPS at a p99 bound: bracket by doubling/halving, bisect (geometrically) to a relative
tolerance, then confirm the answer with one more run (lowering it by a step while that fails).
The same procedure serves the real core, the HTTP fronts and the ideal-batcher simulation."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


class Cancelled(Exception):
    """The caller's cancel flag was raised."""


def max_qps_search(
    measure: Callable[[float], dict[str, Any]],
    *,
    p99_budget_ms: float,
    start_qps: float,
    min_qps: float | None = None,
    max_qps: float = 1e7,
    rel_tol: float = 0.03,
    max_steps: int = 16,
    confirm: bool = True,
    should_cancel: Callable[[], bool] | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """``measure(rate)`` must return a dict with ``p99_all_ms`` (None = failed) and ``valid``.
    Returns the highest passing rate, the p99 measured there and every step taken."""
    if not p99_budget_ms > 0:
        raise ValueError("p99_budget_ms must be > 0")
    if min_qps is None:
        min_qps = start_qps / 64.0  # bounded: a run at a tiny rate takes very long
    steps: list[dict[str, Any]] = []
    results: dict[float, dict[str, Any]] = {}

    def passes(rate: float) -> bool:
        if should_cancel is not None and should_cancel():
            raise Cancelled()
        r = measure(rate)
        if not r.get("valid", True):
            # An invalid run (the generator fell behind) says nothing about the server: retry once.
            r = measure(rate)
        p99 = r.get("p99_all_ms")
        ok = bool(r.get("valid", True)) and p99 is not None and p99 <= p99_budget_ms
        step = {"rate_qps": round(rate, 2), "p99_ms": p99, "valid": r.get("valid", True), "pass": ok}
        steps.append(step)
        results[rate] = r
        if on_step is not None:
            on_step(step)
        return ok

    lo = hi = None
    rate = min(max(start_qps, min_qps), max_qps)
    if passes(rate):
        lo = rate
        while hi is None and len(steps) < max_steps:
            rate = min(rate * 2.0, max_qps)
            if rate == lo:
                break
            if passes(rate):
                lo = rate
            else:
                hi = rate
    else:
        hi = rate
        while lo is None and len(steps) < max_steps:
            rate = rate / 2.0
            if rate < min_qps:
                break
            if passes(rate):
                lo = rate
            else:
                hi = rate
    if lo is None:
        return {"max_qps": 0.0, "p99_ms": None, "steps": steps, "confirmed": False, "result": None}
    while hi is not None and hi / lo - 1.0 > rel_tol and len(steps) < max_steps:
        mid = math.sqrt(lo * hi)
        if passes(mid):
            lo = mid
        else:
            hi = mid
    confirmed = not confirm
    best = results[lo]
    if confirm:
        # A noisy machine can pass a rate once by luck; the answer must pass twice. If the
        # confirmation keeps failing, the last rate tried is reported unconfirmed.
        for attempt in range(3):
            if passes(lo):
                confirmed = True
                best = results[lo]
                break
            if attempt < 2:
                lo = lo / (1.0 + rel_tol)
    return {
        "max_qps": round(lo, 2),
        "p99_ms": best.get("p99_all_ms"),
        "steps": steps,
        "confirmed": confirmed,
        "result": best,
    }
