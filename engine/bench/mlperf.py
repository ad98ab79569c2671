"""Drive the serving core with MLPerf's own LoadGen (``mlcommons-loadgen``, the ``bench`` extra).

Our harness (``loadgen.py``) measures the way MLPerf's server scenario does; this module lets
MLPerf's instrument witness that claim on the same core, model and batcher settings:

- ``loadgen_server``: one LoadGen Server-scenario run at ``target_qps`` with a target latency
  at the 99th percentile; returns the parsed summary (VALID/INVALID, latencies, the scheduled
  and completed rates, the early-stopping verdict).
- ``loadgen_offline``: one Offline-scenario run (all samples issued at once).
- ``loadgen_max_qps``: the highest ``server_target_qps`` that LoadGen calls VALID, by the same
  bracket-and-bisect search as ours (``search.max_qps_search``).

The SUT wraps a ``ServingCore``: ``issue_queries`` submits each sample straight into the core
from LoadGen's issue thread (``submit_threadsafe``) and the core's completion callback answers
LoadGen (``QuerySamplesComplete``). The QSL hands out the bench's pre-made inputs by index. The
results are read from LoadGen's own summary log (``mlperf_log_summary.txt``), written to a
temporary directory.

``mlperf_loadgen`` is imported lazily: the engine, and every other scenario, work without it.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

from engine.bench.harness import Bench, frozen_heap
from engine.bench.search import max_qps_search
from engine.bench.stats import noise_probe
from engine.serving.core import ServingCore
from engine.serving.policy import BatcherConfig


class LoadGenMissing(RuntimeError):
    """``mlperf_loadgen`` is not installed (``pip install '.[bench]'``)."""


def _lg():
    try:
        import mlperf_loadgen
    except ImportError as exc:  # pragma: no cover - the bench extra is installed in CI
        raise LoadGenMissing("MLPerf LoadGen is not installed: pip install mlcommons-loadgen") from exc
    return mlperf_loadgen


def available() -> bool:
    try:
        _lg()
    except LoadGenMissing:
        return False
    return True


# -- the summary log -----------------------------------------------------------------------------
_NUMBER = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_FIELDS = {
    "scenario": (r"^Scenario\s*:\s*(\S+)", str),
    "mode": (r"^Mode\s*:\s*(\S+)", str),
    "scheduled_qps": (r"^Scheduled samples per second\s*:\s*" + _NUMBER, float),
    "completed_qps": (r"^Completed samples per second\s*:\s*" + _NUMBER, float),
    "samples_per_second": (r"^Samples per second\s*:\s*" + _NUMBER, float),
    "result": (r"^Result is\s*:\s*(\S+)", str),
    "min_duration_satisfied": (r"^\s*Min duration satisfied\s*:\s*(\S+)", str),
    "min_queries_satisfied": (r"^\s*Min queries satisfied\s*:\s*(\S+)", str),
    "early_stopping_satisfied": (r"^\s*Early stopping satisfied\s*:\s*(\S+)", str),
    "performance_constraints_satisfied": (r"^\s*Performance constraints satisfied\s*:\s*(\S+)", str),
    "min_latency_ns": (r"^Min latency \(ns\)\s*:\s*" + _NUMBER, float),
    "max_latency_ns": (r"^Max latency \(ns\)\s*:\s*" + _NUMBER, float),
    "mean_latency_ns": (r"^Mean latency \(ns\)\s*:\s*" + _NUMBER, float),
    "p50_latency_ns": (r"^50\.00 percentile latency \(ns\)\s*:\s*" + _NUMBER, float),
    "p90_latency_ns": (r"^90\.00 percentile latency \(ns\)\s*:\s*" + _NUMBER, float),
    "p99_latency_ns": (r"^99\.00 percentile latency \(ns\)\s*:\s*" + _NUMBER, float),
    "target_latency_ns": (r"^target_latency \(ns\)\s*:\s*" + _NUMBER, float),
    "target_qps": (r"^target_qps\s*:\s*" + _NUMBER, float),
    "min_query_count": (r"^min_query_count\s*:\s*" + _NUMBER, float),
    "min_duration_ms": (r"^min_duration \(ms\)\s*:\s*" + _NUMBER, float),
}


def parse_summary(text: str) -> dict[str, Any]:
    """The fields of ``mlperf_log_summary.txt`` this harness uses, as plain data. ``valid`` is
    LoadGen's own verdict ("Result is : VALID"); latencies are also given in ms. The
    early-stopping verdict lines (e.g. "Run successful.", or how many more queries a p99 claim
    would need) are ``early_stopping``."""
    out: dict[str, Any] = {}
    for key, (pattern, cast) in _FIELDS.items():
        m = re.search(pattern, text, flags=re.MULTILINE)
        if m:
            value = m.group(1)
            out[key] = cast(value) if cast is str else cast(float(value))
    for key in list(out):
        if key.endswith("_satisfied"):
            out[key] = out[key].lower() == "yes"
    es = re.search(r"^Early Stopping Result:\n((?:\s*\*.*\n?)+)", text, flags=re.MULTILINE)
    if es:
        out["early_stopping"] = [ln.strip()[1:].strip() for ln in es.group(1).splitlines() if ln.strip()]
    for key in [k for k in out if k.endswith("_latency_ns")]:
        out[key[: -len("_ns")] + "_ms"] = round(out[key] / 1e6, 4)
    out["valid"] = out.get("result") == "VALID"
    return out


# -- the SUT and QSL over a core ---------------------------------------------------------------
class _CoreSUT:
    """LoadGen's SUT callbacks over a started ``ServingCore``."""

    def __init__(self, lg, core: ServingCore, payloads: list[Any]):
        self.lg = lg
        self.core = core
        self.payloads = payloads
        self.errors = 0
        self._lock = threading.Lock()

    def issue_queries(self, query_samples) -> None:
        submit = self.core.submit_threadsafe
        payloads = self.payloads
        for qs in query_samples:
            submit(payloads[qs.index], callback=self._answer(qs.id))

    def _answer(self, sample_id: int):
        lg = self.lg

        def done(output: Any, error: Exception | None) -> None:
            # Errors are answered too (LoadGen waits for every sample) and counted.
            if error is not None:
                with self._lock:
                    self.errors += 1
            lg.QuerySamplesComplete([lg.QuerySampleResponse(sample_id, 0, 0)])

        return done

    def flush_queries(self) -> None:
        pass


def start_test(lg, sut, qsl, settings, outdir: str | Path | None = None) -> str:
    """Run LoadGen (blocking until the run ends) with its logs in ``outdir`` (default: a
    temporary directory) and return the text of its summary log."""
    with tempfile.TemporaryDirectory(prefix="mlperf-") as tmp:
        out = Path(outdir) if outdir is not None else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        log_settings = lg.LogSettings()
        log_settings.log_output.outdir = str(out)
        log_settings.log_output.copy_summary_to_stdout = False
        log_settings.log_output.copy_detail_to_stdout = False
        log_settings.enable_trace = False
        lg.StartTestWithLogSettings(sut, qsl, settings, log_settings)
        return (out / "mlperf_log_summary.txt").read_text()


def _run_loadgen(
    bench: Bench,
    config: BatcherConfig,
    settings_fn,
    *,
    outdir: str | Path | None = None,
    warmup_queries: int = 0,
) -> dict[str, Any]:
    lg = _lg()

    async def go() -> dict[str, Any]:
        core = ServingCore(bench.execute, config, init_thread=bench.runner.init_thread)
        await core.start()
        if warmup_queries:
            # LoadGen counts every query; a fresh core's first batches (thread start, torch's
            # per-thread set-up) are not what a long official run would see.
            size = config.max_batch_size
            for lo in range(0, warmup_queries, size):
                futures = [core.submit(bench.payloads[i % len(bench.payloads)])[1]
                           for i in range(lo, min(warmup_queries, lo + size))]
                await asyncio.gather(*futures)
            core.policy.metrics = type(core.policy.metrics)()
        sut_impl = _CoreSUT(lg, core, bench.payloads)
        sut = lg.ConstructSUT(sut_impl.issue_queries, sut_impl.flush_queries)
        count = len(bench.payloads)
        qsl = lg.ConstructQSL(count, count, lambda _s: None, lambda _s: None)
        try:
            # LoadGen blocks its caller until the run ends; the core's loop keeps running.
            text = await asyncio.to_thread(start_test, lg, sut, qsl, settings_fn(lg), outdir)
        finally:
            lg.DestroyQSL(qsl)
            lg.DestroySUT(sut)
            await core.stop(drain=False)
        result = parse_summary(text)
        result["errors"] = sut_impl.errors
        result["core"] = core.metrics()
        return result

    noise = noise_probe()
    with frozen_heap():
        result = asyncio.run(go())
    result["noise"] = noise
    return result


def _common(lg, ts, *, min_duration_ms: int, min_query_count: int, seed: int) -> None:
    ts.mode = lg.TestMode.PerformanceOnly
    ts.min_duration_ms = int(min_duration_ms)
    ts.max_duration_ms = 0  # no cap: the run ends when both minimums are met
    ts.min_query_count = int(min_query_count)
    ts.max_query_count = 0
    # Seeds make a run repeatable (LoadGen's defaults are the official ones, fixed per round).
    ts.schedule_rng_seed = int(seed) + 1
    ts.sample_index_rng_seed = int(seed) + 2
    ts.qsl_rng_seed = int(seed) + 3


def loadgen_server(
    bench: Bench,
    config: BatcherConfig,
    *,
    target_qps: float,
    target_latency_ms: float,
    min_duration_ms: int = 1000,
    min_query_count: int = 2010,
    seed: int = 0,
    outdir: str | Path | None = None,
    warmup_queries: int = 256,
) -> dict[str, Any]:
    """One LoadGen Server-scenario run (Poisson arrivals at ``target_qps``; p99 of latencies
    counted from the scheduled issue time must stay within ``target_latency_ms``)."""
    if not target_qps > 0:
        raise ValueError("target_qps must be > 0")
    if not target_latency_ms > 0:
        raise ValueError("target_latency_ms must be > 0")

    def settings(lg):
        ts = lg.TestSettings()
        ts.scenario = lg.TestScenario.Server
        ts.server_target_qps = float(target_qps)
        ts.server_target_latency_ns = int(round(target_latency_ms * 1e6))
        ts.server_target_latency_percentile = 0.99
        _common(lg, ts, min_duration_ms=min_duration_ms, min_query_count=min_query_count, seed=seed)
        return ts

    result = _run_loadgen(bench, config, settings, outdir=outdir, warmup_queries=warmup_queries)
    result["requested_qps"] = round(float(target_qps), 2)
    result["target_latency_ms"] = target_latency_ms
    # For the search: LoadGen's verdict, and its p99 (ms) to print beside it.
    result["p99_all_ms"] = result.get("p99_latency_ms")
    return result


def loadgen_offline(
    bench: Bench,
    config: BatcherConfig,
    *,
    expected_qps: float,
    min_duration_ms: int = 1000,
    min_query_count: int = 2010,
    seed: int = 0,
    outdir: str | Path | None = None,
    warmup_queries: int = 256,
) -> dict[str, Any]:
    """One LoadGen Offline-scenario run: every sample issued at once; samples per second."""

    def settings(lg):
        ts = lg.TestSettings()
        ts.scenario = lg.TestScenario.Offline
        ts.offline_expected_qps = float(expected_qps)
        _common(lg, ts, min_duration_ms=min_duration_ms, min_query_count=min_query_count, seed=seed)
        return ts

    return _run_loadgen(bench, config, settings, outdir=outdir, warmup_queries=warmup_queries)


def loadgen_max_qps(
    bench: Bench,
    config: BatcherConfig,
    target_latency_ms: float,
    *,
    start_qps: float,
    min_duration_ms: int = 1000,
    min_query_count: int = 2010,
    seed: int = 0,
    rel_tol: float = 0.03,
    max_steps: int = 12,
    confirm: bool = True,
    rule: str = "valid",
) -> dict[str, Any]:
    """The highest ``server_target_qps`` LoadGen passes at ``target_latency_ms``, by the same
    bracket, bisect and confirm as ours. ``rule`` "valid": LoadGen's verdict ("Result is :
    VALID": p99 within the target *and* its early-stopping bound met with this many queries);
    "p99": only LoadGen's own measured 99th percentile within the target (the instrument
    without the early-stopping rule, to compare like with like with our p99 rule)."""
    if rule not in ("valid", "p99"):
        raise ValueError("rule must be 'valid' or 'p99'")

    def measure(rate: float) -> dict[str, Any]:
        r = loadgen_server(
            bench, config, target_qps=rate, target_latency_ms=target_latency_ms,
            min_duration_ms=min_duration_ms, min_query_count=min_query_count, seed=seed,
        )
        # The search compares p99_all_ms with the budget: a run failing the rule reports an
        # infinite p99 to it.
        ok = r["valid"] if rule == "valid" else (
            r.get("p99_latency_ms") is not None and r["p99_latency_ms"] <= target_latency_ms
        )
        return {**r, "p99_all_ms": r.get("p99_latency_ms") if ok else float("inf"), "valid": True}

    # LoadGen runs until min_query_count queries were issued: a tiny rate takes very long, so the
    # search does not go below a quarter of where it started.
    out = max_qps_search(
        measure, p99_budget_ms=target_latency_ms, start_qps=start_qps, min_qps=start_qps / 4.0,
        rel_tol=rel_tol, max_steps=max_steps, confirm=confirm,
    )
    best = out.get("result") or {}
    out["result"] = {k: v for k, v in best.items() if k != "core"}
    out["target_latency_ms"] = target_latency_ms
    out["rule"] = rule
    return out


__all__ = [
    "LoadGenMissing",
    "available",
    "loadgen_max_qps",
    "loadgen_offline",
    "loadgen_server",
    "parse_summary",
    "start_test",
]
