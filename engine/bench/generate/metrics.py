"""Per-request token latencies and the run's summary, as vLLM's ``bench serve`` and MLPerf's LLM
scenarios define them.

For one request with scheduled arrival ``a`` and output token times ``t_1 .. t_n``:

- TTFT = t_1 - a (from the SCHEDULED arrival, so a server that falls behind cannot hide its
  queueing: no coordinated omission);
- E2EL = t_n - a;
- TPOT = (E2EL - TTFT) / (n - 1), undefined for n = 1 (such a request has no TPOT and meets any
  TPOT SLO, as in vLLM);
- ITL = every gap t_k - t_(k-1).

Percentiles are nearest-rank over the raw values (``stats.nearest_rank``). The SLO verdict is
MLPerf's LLM rule: TTFT p99 <= the TTFT SLO and TPOT p99 <= the TPOT SLO, where a request that
was rejected or never finished counts as infinitely late in both. Goodput (vLLM's
``--goodput``) is the rate of requests that finished and met both SLOs themselves, over the run's
duration (first scheduled arrival to last token).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.bench.stats import nearest_rank, nearest_rank_summary_ms


@dataclass(slots=True)
class RequestRecord:
    """What happened to one request: its scheduled arrival and the time of each output token."""

    request_id: str
    arrival_s: float
    input_tokens: int
    max_new_tokens: int
    token_times_s: list[float] = field(default_factory=list)
    rejected: bool = False

    @property
    def finished(self) -> bool:
        return not self.rejected and len(self.token_times_s) >= self.max_new_tokens

    @property
    def ttft_s(self) -> float | None:
        return self.token_times_s[0] - self.arrival_s if self.token_times_s else None

    @property
    def e2el_s(self) -> float | None:
        return self.token_times_s[-1] - self.arrival_s if self.token_times_s else None

    @property
    def tpot_s(self) -> float | None:
        n = len(self.token_times_s)
        if n < 2:
            return None
        return (self.token_times_s[-1] - self.token_times_s[0]) / (n - 1)

    @property
    def itl_s(self) -> list[float]:
        t = self.token_times_s
        return [b - a for a, b in zip(t, t[1:])]

    def meets(self, ttft_slo_s: float, tpot_slo_s: float) -> bool:
        """Finished, and within both SLOs (no TPOT for a one-token output: only TTFT counts)."""
        if not self.finished:
            return False
        tpot = self.tpot_s
        return self.ttft_s <= ttft_slo_s and (tpot is None or tpot <= tpot_slo_s)


def _p99_all(values: list[float | None], failed: int) -> float | None:
    """Nearest-rank p99 with each failed request counted as infinitely late."""
    v = [x for x in values if x is not None] + [math.inf] * failed
    return nearest_rank(v, 99)


def summarise_requests(
    records: list[RequestRecord],
    *,
    ttft_slo_ms: float,
    tpot_slo_ms: float,
) -> dict[str, Any]:
    """The run's metrics from its request records (see the module docstring)."""
    if not records:
        raise ValueError("no requests to summarise")
    ttft_slo_s, tpot_slo_s = ttft_slo_ms / 1000.0, tpot_slo_ms / 1000.0
    done = [r for r in records if r.finished]
    failed = len(records) - len(done)
    ttft = [r.ttft_s for r in done]
    tpot = [r.tpot_s for r in done if r.tpot_s is not None]
    itl = [g for r in done for g in r.itl_s]
    e2el = [r.e2el_s for r in done]
    start = min(r.arrival_s for r in records)
    ends = [r.token_times_s[-1] for r in records if r.token_times_s]
    duration_s = max(1e-9, (max(ends) if ends else start) - start)
    out_tokens = sum(len(r.token_times_s) for r in done)
    in_tokens = sum(r.input_tokens for r in done)
    good = sum(r.meets(ttft_slo_s, tpot_slo_s) for r in records)
    ttft_p99 = _p99_all(ttft, failed)
    # Only requests with 2+ tokens have a TPOT; a failed one is a miss either way.
    tpot_p99 = _p99_all(tpot, failed) if (tpot or failed) else None
    slo_ratio = max(
        (ttft_p99 / ttft_slo_s) if ttft_p99 is not None else 0.0,
        (tpot_p99 / tpot_slo_s) if tpot_p99 is not None else 0.0,
    )
    return {
        "requests": len(records),
        "completed": len(done),
        "rejected": sum(r.rejected for r in records),
        "unfinished": sum(1 for r in records if not r.rejected and not r.finished),
        "duration_s": round(duration_s, 4),
        "request_throughput_rps": round(len(done) / duration_s, 4),
        "output_tokens": out_tokens,
        "output_tokens_per_s": round(out_tokens / duration_s, 2),
        "total_tokens_per_s": round((in_tokens + out_tokens) / duration_s, 2),
        "ttft": nearest_rank_summary_ms(ttft),
        "tpot": nearest_rank_summary_ms(tpot),
        "itl": nearest_rank_summary_ms(itl),
        "e2el": nearest_rank_summary_ms(e2el),
        "ttft_p99_all_ms": _ms(ttft_p99),
        "tpot_p99_all_ms": _ms(tpot_p99),
        "ttft_slo_ms": ttft_slo_ms,
        "tpot_slo_ms": tpot_slo_ms,
        "good_requests": int(good),
        "goodput_rps": round(good / duration_s, 4),
        "good_fraction": round(good / len(records), 4),
        # max(TTFT p99 / SLO, TPOT p99 / SLO): <= 1 when both hold (the search's one number).
        "slo_ratio": round(slo_ratio, 4) if math.isfinite(slo_ratio) else None,
        "slo_met": bool(math.isfinite(slo_ratio) and slo_ratio <= 1.0),
    }


def _ms(value_s: float | None) -> float | None:
    if value_s is None or not math.isfinite(value_s):
        return None
    return round(value_s * 1000.0, 4)


def step_summary(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and means over the recorded engine steps (what the charts and the fit read)."""
    if not steps:
        return {"steps": 0}
    arr = {k: np.asarray([s[k] for s in steps if s.get(k) is not None], dtype=np.float64)
           for k in ("prefill_tokens", "decode_tokens", "seqs", "step_ms", "kv_blocks_used")}
    return {
        "steps": len(steps),
        "mixed_steps": sum(1 for s in steps if s["prefill_tokens"] and s["decode_tokens"]),
        "mean_seqs": round(float(arr["seqs"].mean()), 3),
        "max_seqs": int(arr["seqs"].max()),
        "mean_step_ms": round(float(arr["step_ms"].mean()), 4),
        "prefill_tokens": int(arr["prefill_tokens"].sum()),
        "decode_tokens": int(arr["decode_tokens"].sum()),
        "max_kv_blocks_used": int(arr["kv_blocks_used"].max()) if arr["kv_blocks_used"].size else None,
    }
