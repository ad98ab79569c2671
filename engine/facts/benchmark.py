"""Benchmark measurements as facts: what one run measured for one replica, checked and cleaned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from engine.planning.common import Note, fact, finite


@dataclass(frozen=True, slots=True)
class BenchmarkFacts:
    """What a benchmark run measured for one replica (all None until a run exists).

    `build_facts(..., measurements=...)` takes a plain dict with these keys (others are ignored).
    A generative run (continuous batching) reports its capacity at the TTFT / TPOT SLO as
    `goodput_rps` and/or `output_tokens_per_s`; for a generative design that measurement replaces
    the estimate (goodput first, else output tokens/s / output tokens per request), as
    `max_qps_at_p99` does for the others.
    """

    available: bool = fact(None, "True once a benchmark measured a capacity: max QPS at the P99 budget, or "
                                 "(generative) goodput or output tokens/s at the SLO.", default=False)
    max_qps_at_p99: float | None = fact("req/s", "Highest arrival rate one replica sustains with P99 within "
                                                 "the budget (server scenario search).", default=None)
    goodput_rps: float | None = fact("req/s", "Generative: highest request rate one replica sustains with TTFT "
                                              "p99 and TPOT p99 within their targets.", default=None)
    output_tokens_per_s: float | None = fact("tokens/s", "Generative: output tokens per second one replica "
                                                         "sustains at the SLO.", default=None)
    ttft_p99_ms: float | None = fact("ms", "Generative: measured time to first token, p99, at that rate.",
                                     default=None)
    tpot_p99_ms: float | None = fact("ms", "Generative: measured time per output token, p99, at that rate.",
                                     default=None)
    p50_ms_at_peak: float | None = fact("ms", "Measured P50 latency at that rate.", default=None)
    p95_ms_at_peak: float | None = fact("ms", "Measured P95 latency at that rate.", default=None)
    p99_ms_at_peak: float | None = fact("ms", "Measured P99 latency at that rate.", default=None)
    p99_budget_ms: float | None = fact("ms", "P99 budget the search used.", default=None)
    offline_throughput_per_s: float | None = fact("items/s", "Best offline throughput (all requests available "
                                                             "at once).", default=None)
    device: str | None = fact(None, "Device the run used, e.g. 'NVIDIA H100 80GB HBM3' or 'cpu'.", default=None)
    dtype: str | None = fact(None, "Precision the run used.", default=None)
    torch_version: str | None = fact(None, "PyTorch version of the run.", default=None)
    max_batch_size: int | None = fact("requests", "Batcher max batch size.", default=None)
    max_queue_delay_ms: float | None = fact("ms", "Batcher max queue delay.", default=None)
    seed: int | None = fact(None, "Random seed of the arrivals.", default=None)
    duration_s: float | None = fact("s", "Length of the measured run.", default=None)
    measured_at: str | None = fact(None, "When the run finished (ISO 8601).", default=None)
    meets_p99_target: bool | None = fact(None, "Measured P99 at peak <= requirements.latency_p99_ms.", default=None)


# What a generative run (continuous batching at a TTFT / TPOT SLO) reports; a server-scenario run has none.
GENERATIVE_MEASUREMENTS = ("goodput_rps", "output_tokens_per_s", "ttft_p99_ms", "tpot_p99_ms")
_BENCH_NUMBERS = ("max_qps_at_p99", *GENERATIVE_MEASUREMENTS, "p50_ms_at_peak", "p95_ms_at_peak", "p99_ms_at_peak",
                  "p99_budget_ms", "offline_throughput_per_s", "max_queue_delay_ms", "duration_s")
_BENCH_INTS = ("max_batch_size", "seed")
_BENCH_TEXTS = ("device", "dtype", "torch_version", "measured_at")


def benchmark_facts(measurements: Any, p99_target: float | None) -> tuple[BenchmarkFacts, list[Note]]:
    """The measurements as `BenchmarkFacts`, plus a warning for each invalid value (dropped)."""
    if not isinstance(measurements, Mapping) or not measurements:
        return BenchmarkFacts(), []
    notes: list[Note] = []
    clean: dict[str, Any] = {}
    for key in _BENCH_NUMBERS:
        raw = measurements.get(key)
        number = finite(raw)
        if raw is not None and (number is None or number < 0):
            notes.append(Note(f"benchmark.{key}", f"Ignored an invalid measurement {key}={raw!r}.", "warning"))
            number = None
        clean[key] = number
    for key in _BENCH_INTS:
        raw = measurements.get(key)
        ok = isinstance(raw, int) and not isinstance(raw, bool)
        if raw is not None and not ok:
            notes.append(Note(f"benchmark.{key}", f"Ignored an invalid measurement {key}={raw!r}.", "warning"))
        clean[key] = raw if ok else None
    for key in _BENCH_TEXTS:
        raw = measurements.get(key)
        clean[key] = str(raw)[:200] if isinstance(raw, (str, int, float)) and not isinstance(raw, bool) else None
    available = any((clean[key] or 0) > 0 for key in ("max_qps_at_p99", "goodput_rps", "output_tokens_per_s"))
    meets = None
    if clean["p99_ms_at_peak"] is not None and finite(p99_target) is not None:
        meets = clean["p99_ms_at_peak"] <= p99_target
    return BenchmarkFacts(available=available, meets_p99_target=meets, **clean), notes


def measured_per_replica_qps(bench: BenchmarkFacts, *, batch: bool, generative: bool,
                             output_tokens: float | None) -> float | None:
    """The measured requests/s one replica serves, as the capacity plan uses it (None: estimate it).

    A batch job reads the offline throughput; a generative design its goodput at the SLO, else
    its output tokens/s divided by the output tokens per request; every design falls back to
    `max_qps_at_p99`."""
    if not bench.available:
        return None
    if batch and bench.offline_throughput_per_s:
        return bench.offline_throughput_per_s
    if generative:
        if bench.goodput_rps:
            return bench.goodput_rps
        tokens = finite(output_tokens)
        if bench.output_tokens_per_s and tokens and tokens > 0:
            return bench.output_tokens_per_s / tokens
    return bench.max_qps_at_p99 or None
