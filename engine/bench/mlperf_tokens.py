"""MLPerf LoadGen in token-latency mode (its LLM scenarios) over the generative engine.

LoadGen's Server scenario with ``use_token_latencies = True`` measures what MLPerf's llama2-70b
and llama3.1-405b rounds report: the time to the first token (the SUT calls
``lg.FirstTokenComplete`` with it) and the time per output token, (E2E - TTFT) / (tokens - 1),
from ``lg.QuerySamplesComplete`` with the output token count; both from the query's scheduled
issue time. A run is within its constraints when TTFT p99 <= ``ttft_latency`` and TPOT p99 <=
``tpot_latency`` ("Performance constraints satisfied"); "Result is : VALID" adds LoadGen's early
stopping (enough queries for a p99 claim).

The SUT is single-threaded like our driver: LoadGen's issue callback only queues the sample
(stamping ``arrival_s`` on the engine's clock); one engine thread adds queued samples, steps the
engine and answers LoadGen from the step's token events. G5 (``benchmarks/generative.py``) runs
it and our harness at each rate of a paired grid on the same engine, workload and SLOs.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.bench.generate.workload import GenRequest
from engine.bench.mlperf import _NUMBER, _common, _lg, parse_summary, start_test
from engine.bench.stats import noise_probe

_TOKEN_FIELDS = {
    "completed_tokens_per_s": r"^Completed tokens per second\s*:\s*" + _NUMBER,
    "ttft_p50_ns": r"^50\.00 percentile first token latency \(ns\)\s*:\s*" + _NUMBER,
    "ttft_p90_ns": r"^90\.00 percentile first token latency \(ns\)\s*:\s*" + _NUMBER,
    "ttft_p99_ns": r"^99\.00 percentile first token latency \(ns\)\s*:\s*" + _NUMBER,
    "tpot_p50_ns": r"^50\.00 percentile time to output token \(ns\)\s*:\s*" + _NUMBER,
    "tpot_p90_ns": r"^90\.00 percentile time to output token \(ns\)\s*:\s*" + _NUMBER,
    "tpot_p99_ns": r"^99\.00 percentile time to output token \(ns\)\s*:\s*" + _NUMBER,
    "ttft_latency_ns": r"^ttft_latency \(ns\)\s*:\s*" + _NUMBER,
    "tpot_latency_ns": r"^tpot_latency \(ns\)\s*:\s*" + _NUMBER,
}


def parse_token_summary(text: str) -> dict[str, Any]:
    """``parse_summary``'s fields plus the token-latency ones (TTFT and TPOT percentiles in ns
    and ms, completed tokens/s, the TTFT and TPOT limits)."""
    import re

    out = parse_summary(text)
    for key, pattern in _TOKEN_FIELDS.items():
        m = re.search(pattern, text, flags=re.MULTILINE)
        if m:
            out[key] = float(m.group(1))
    for key in [k for k in out if k.endswith("_ns") and (k.startswith("ttft") or k.startswith("tpot"))]:
        out[key[: -len("_ns")] + "_ms"] = round(out[key] / 1e6, 4)
    return out


class _TokenSUT:
    """LoadGen's callbacks and the engine thread that answers them."""

    def __init__(self, lg, engine: Any, requests: list[GenRequest], clock: Callable[[], float],
                 init_thread: Callable[[], None] | None = None):
        self.lg = lg
        self.engine = engine
        self.requests = requests
        self.clock = clock
        self.init_thread = init_thread
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.stop = threading.Event()
        self.pending: dict[str, tuple[int, int]] = {}  # request id -> (LoadGen sample id, tokens)
        self.answered = 0
        self.rejected = 0
        self.error: BaseException | None = None
        self.steps = 0
        # Response buffers must outlive the LoadGen calls that read them.
        self._keep: list[np.ndarray] = []
        self._serial = 0

    def issue_queries(self, query_samples) -> None:
        now = self.clock()
        for qs in query_samples:
            self.inbox.put((qs.id, qs.index, now))

    def flush_queries(self) -> None:
        pass

    def _respond(self, fn, sample_id: int, tokens: list[int], n_tokens: int | None = None) -> None:
        lg = self.lg
        buf = np.asarray(tokens or [0], dtype=np.int64)
        self._keep.append(buf)
        if n_tokens is None:
            fn([lg.QuerySampleResponse(sample_id, buf.ctypes.data, buf.nbytes)])
        else:
            fn([lg.QuerySampleResponse(sample_id, buf.ctypes.data, buf.nbytes, n_tokens)])

    def loop(self) -> None:
        lg = self.lg
        engine = self.engine
        try:
            if self.init_thread is not None:
                self.init_thread()
            while not self.stop.is_set():
                while True:
                    try:
                        sample_id, index, arrival = self.inbox.get_nowait()
                    except queue.Empty:
                        break
                    self._add(sample_id, index, arrival)
                if engine.has_unfinished():
                    out = engine.step()
                    self.steps += 1
                    for ev in out.events:
                        sample_id, _ = self.pending[ev.request_id]
                        if ev.index == 0:
                            self._respond(lg.FirstTokenComplete, sample_id, [ev.token_id])
                        if ev.finished:
                            n = ev.index + 1
                            del self.pending[ev.request_id]
                            self._respond(lg.QuerySamplesComplete, sample_id, [ev.token_id] * n, n)
                            self.answered += 1
                    continue
                try:
                    sample_id, index, arrival = self.inbox.get(timeout=0.01)
                except queue.Empty:
                    continue
                self._add(sample_id, index, arrival)
        except BaseException as exc:  # answered below: LoadGen would otherwise wait forever
            self.error = exc
            for sample_id, _ in list(self.pending.values()):
                self._respond(lg.QuerySamplesComplete, sample_id, [0], 1)
            self.pending.clear()
            while True:
                try:
                    sample_id, _, _ = self.inbox.get_nowait()
                except queue.Empty:
                    break
                self._respond(lg.QuerySamplesComplete, sample_id, [0], 1)

    def _add(self, sample_id: int, index: int, arrival: float) -> None:
        r = self.requests[index]
        self._serial += 1
        rid = f"lg{self._serial}"
        if self.engine.add_request(rid, list(r.prompt_token_ids), r.max_new_tokens, arrival_s=arrival):
            self.pending[rid] = (sample_id, r.max_new_tokens)
        else:
            # LoadGen has no "failed": a refused request is answered at once with one token, and
            # any refusal fails the run (``within_slo``), since LoadGen would count it as fast.
            self.rejected += 1
            self._respond(self.lg.FirstTokenComplete, sample_id, [0])
            self._respond(self.lg.QuerySamplesComplete, sample_id, [0], 1)


def loadgen_token_server(
    make_engine: Callable[[], Any],
    requests: list[GenRequest],
    *,
    target_qps: float,
    ttft_slo_ms: float,
    tpot_slo_ms: float,
    min_query_count: int,
    min_duration_ms: int = 1000,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    init_thread: Callable[[], None] | None = None,
    outdir: str | Path | None = None,
) -> dict[str, Any]:
    """One LoadGen Server run in token-latency mode over a fresh engine from ``make_engine``;
    the QSL serves ``requests`` by index. Returns the parsed summary plus ``within_slo``
    (LoadGen's "Performance constraints satisfied") and ``valid`` (its "Result is")."""
    if not target_qps > 0:
        raise ValueError("target_qps must be > 0")
    if not (ttft_slo_ms > 0 and tpot_slo_ms > 0):
        raise ValueError("ttft_slo_ms and tpot_slo_ms must be > 0")
    lg = _lg()
    sut_impl = _TokenSUT(lg, make_engine(), requests, clock, init_thread)
    sut = lg.ConstructSUT(sut_impl.issue_queries, sut_impl.flush_queries)
    count = len(requests)
    qsl = lg.ConstructQSL(count, count, lambda _s: None, lambda _s: None)
    ts = lg.TestSettings()
    ts.scenario = lg.TestScenario.Server
    ts.server_target_qps = float(target_qps)
    ts.use_token_latencies = True
    ts.ttft_latency = int(round(ttft_slo_ms * 1e6))
    ts.tpot_latency = int(round(tpot_slo_ms * 1e6))
    ts.server_target_latency_percentile = 0.99
    _common(lg, ts, min_duration_ms=min_duration_ms, min_query_count=min_query_count, seed=seed)
    noise = noise_probe()
    thread = threading.Thread(target=sut_impl.loop, name="loadgen-engine", daemon=True)
    thread.start()
    try:
        text = start_test(lg, sut, qsl, ts, outdir)
    finally:
        sut_impl.stop.set()
        thread.join(10.0)
        lg.DestroyQSL(qsl)
        lg.DestroySUT(sut)
    if sut_impl.error is not None:
        raise RuntimeError(f"the engine failed under LoadGen: {sut_impl.error!r}") from sut_impl.error
    result = parse_token_summary(text)
    result["within_slo"] = bool(result.get("performance_constraints_satisfied")) and sut_impl.rejected == 0
    result["requested_qps"] = round(float(target_qps), 4)
    result["ttft_slo_ms"] = ttft_slo_ms
    result["tpot_slo_ms"] = tpot_slo_ms
    result["rejected"] = sut_impl.rejected
    result["answered"] = sut_impl.answered
    result["engine_steps"] = sut_impl.steps
    result["noise"] = noise
    return result


__all__ = ["loadgen_token_server", "parse_token_summary"]
