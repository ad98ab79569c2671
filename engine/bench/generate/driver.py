"""The single-threaded driver: one loop that feeds due arrivals to an engine and steps it.

Each turn adds every request whose scheduled arrival has passed (with ``arrival_s`` = the
scheduled time, so the engine's own deadlines and TTFT admission see the schedule, not the
driver's lateness), then calls ``engine.step()`` while the engine has work, else sleeps to the
next arrival. Token times come from the engine's events (stamped on its clock after the step's
device synchronisation), so no thread hop sits between a token and its timestamp.

The engine is anything with ``add_request(request_id, prompt_token_ids, max_new_tokens,
arrival_s) -> bool``, ``step() -> StepOutput`` and ``has_unfinished()``: the generative core,
the static baseline, or the core on a fake clock (the ideal simulation).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.bench.generate.metrics import RequestRecord
from engine.bench.generate.workload import Workload


@dataclass(slots=True)
class RunRecord:
    """A driven run: every request's record, every step, and the wall span it took."""

    records: list[RequestRecord]
    steps: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    cut_short: bool = False
    late_adds: int = 0


def drive(
    engine: Any,
    workload: Workload,
    *,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
    max_wall_s: float | None = None,
    start_delay_s: float = 0.002,
    late_tolerance_ms: float = 5.0,
    on_finished: Callable[[int, int], None] | None = None,
) -> RunRecord:
    """Run ``workload`` through ``engine`` on ``clock`` (real or fake; ``sleep`` must advance
    it). Stops ``max_wall_s`` after the start (what is left counts as unfinished: ``cut_short``).
    ``on_finished(done, total)`` is called after each step in which a request finished (progress
    for a job page; it may raise to stop the run)."""
    reqs = workload.requests
    t0 = clock() + start_delay_s
    records = {
        r.request_id: RequestRecord(r.request_id, t0 + r.arrival_offset_s, len(r.prompt_token_ids), r.max_new_tokens)
        for r in reqs
    }
    steps: list[dict[str, Any]] = []
    n = len(reqs)
    i = 0
    late = 0
    tolerance_s = late_tolerance_ms / 1000.0
    cut = False
    finished = 0
    limit = None if max_wall_s is None else t0 + max_wall_s
    while i < n or engine.has_unfinished():
        now = clock()
        if limit is not None and now > limit:
            cut = True
            break
        while i < n and t0 + reqs[i].arrival_offset_s <= now:
            r = reqs[i]
            target = t0 + r.arrival_offset_s
            late += now - target > tolerance_s
            if not engine.add_request(r.request_id, list(r.prompt_token_ids), r.max_new_tokens, arrival_s=target):
                records[r.request_id].rejected = True
            i += 1
        if engine.has_unfinished():
            out = engine.step()
            if out is not None and (out.num_seqs or out.events):
                before = finished
                for ev in out.events:
                    rec = records[ev.request_id]
                    rec.token_times_s.append(ev.time_s)
                    finished += len(rec.token_times_s) == rec.max_new_tokens
                steps.append({
                    "start_s": round(out.step_start_s - t0, 6),
                    "step_ms": round((out.step_end_s - out.step_start_s) * 1000.0, 4),
                    "prefill_tokens": out.num_prefill_tokens,
                    "decode_tokens": out.num_decode_tokens,
                    "seqs": out.num_seqs,
                    # The static baseline has no paged context to report.
                    "kv_tokens": getattr(out, "num_kv_tokens", None),
                    "kv_blocks_used": out.kv_blocks_used,
                })
                if on_finished is not None and finished != before:
                    on_finished(finished, n)
                continue
            if i >= n:
                raise RuntimeError("the engine has unfinished requests but scheduled nothing")
        if i < n:
            wait = t0 + reqs[i].arrival_offset_s - clock()
            if wait > 0:
                sleep(wait)
    return RunRecord(
        records=[records[r.request_id] for r in reqs],
        steps=steps,
        wall_s=round(clock() - t0, 4),
        cut_short=cut,
        late_adds=late,
    )
