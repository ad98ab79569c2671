"""``run_generate(spec) -> dict``: the generative scenarios with provenance, as
``engine.bench.api.run`` gives the others.

spec keys (all optional)::

    scenario                "offline" (all requests at once: tokens/s) | "server" (one open-loop
                            run at ``rate``) | "max-qps" (highest rate whose TTFT p99 and TPOT p99
                            both hold, MLPerf's LLM rule)
    params                  a decoder of about this many parameters (DecoderShape.from_params),
    shape                   or explicit DecoderShape fields
    vocab_size              with params (default 256: a tiny model's embedding is not its bulk)
    dtype, device, threads  "fp32"|"bf16"|"fp16"; "auto"|"cpu"|"cuda"; CPU intra-op threads
    input_len_dist, output_len_dist   "fixed:N" | "uniform:LO-HI" | "lognormal:MEDIAN,SIGMA,LO-HI"
    requests, rate, burstiness, seed  the workload (rate in requests/s; burstiness 1 = Poisson)
    block_size, num_blocks | kv_budget_mb, max_num_seqs, max_num_batched_tokens   the scheduler
    ttft_slo_ms, tpot_slo_ms          SLOs; default from the measured model (see ``default_slos``)
    static_batch_size       run the static-batching baseline with this batch size instead
    max_drain_s             a run is cut this long after its last scheduled arrival (default 60;
                            what is unfinished then counts as failed)

The result: status, scenario, workload (the decoder shape), settings, provenance, seed,
started_at, duration_s, notes, and ``slo`` (the SLOs and how they were set), ``calibration``
(step(1) and the longest prompt's prefill), ``metrics`` (the run's TTFT/TPOT/ITL/E2EL,
goodput, tokens/s), ``steps`` (per-step summary), ``search`` (max-qps), ``max_rate_rps``, ``probes`` (max-qps: each
search run's metrics and step summary), ``step_series`` (the measured run's engine steps,
thinned to MAX_STEP_SERIES: KV blocks and sequences over the run).
"""

from __future__ import annotations

import math
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.bench.generate.driver import RunRecord, drive
from engine.bench.generate.metrics import step_summary, summarise_requests
from engine.bench.generate.workload import LengthDist, Workload, lasting, make_workload
from engine.bench.search import Cancelled, max_qps_search
from engine.bench.stats import BenchResult, host_provenance, noise_probe, utc_now
from engine.bench.threads import pin_threads

GENERATE_SCENARIOS = ("offline", "server", "max-qps")
SPEC_KEYS = {
    "scenario", "params", "shape", "vocab_size", "dtype", "device", "threads", "input_len_dist",
    "output_len_dist", "requests", "rate", "burstiness", "seed", "block_size", "num_blocks",
    "kv_budget_mb", "max_num_seqs", "max_num_batched_tokens", "ttft_slo_ms", "tpot_slo_ms",
    "static_batch_size", "max_drain_s",
}
# SLOs scaled to the model measured: TPOT SLO = TPOT_SLO_STEPS x step(1), the single-sequence
# decode step (room for a batch and the prefill chunks that share its steps); TTFT SLO =
# TTFT_OVER_TPOT x the TPOT SLO, MLPerf llama2-70b server's proportion (2,000 ms / 200 ms), and
# never under TTFT_PREFILL_FACTOR x the longest prompt's prefill alone.
TPOT_SLO_STEPS = 10.0
TTFT_OVER_TPOT = 10.0
TTFT_PREFILL_FACTOR = 3.0
# A max-rate run's arrivals span at least this many TTFT SLOs (more requests at higher rates):
# a shorter run is a burst that any server absorbs.
MIN_SPAN_TTFT_SLOS = 20.0


@dataclass(slots=True)
class GenBench:
    """A decoder ready to serve: the shape, the runner (warm) and the scheduler settings."""

    shape: Any
    runner: Any
    config: Any
    device: str
    dtype: str

    def engine(self, *, static_batch_size: int | None = None, clock: Callable[[], float] = time.perf_counter,
               config=None):
        """A fresh scheduler (``config``, default the bench's) or the static baseline over the
        warm runner."""
        from engine.serving.generative import Scheduler
        from engine.serving.generative.engine import GenerativeEngine

        if static_batch_size is not None:
            from engine.serving.generative.static import StaticBatchEngine

            return StaticBatchEngine(self.runner.model, max_batch_size=static_batch_size, clock=clock,
                                     block_size=self.config.block_size)
        return GenerativeEngine(Scheduler(config or self.config), self.runner, clock=clock)


def make_gen_bench(spec: dict[str, Any], *, max_len: int) -> GenBench:
    """Shape, KV pool and runner from ``spec``; ``max_len`` (longest prompt + output of the
    workload) sizes a default pool that holds ``max_num_seqs`` such sequences."""
    from engine.serving.generative import DecoderShape, SchedulerConfig
    from engine.serving.generative.runner import GenerativeRunner, kv_blocks_for_budget

    if spec.get("shape") is not None and spec.get("params") is not None:
        raise ValueError("give params or shape, not both")
    if spec.get("shape") is not None:
        shape = DecoderShape(**dict(spec["shape"]))
    else:
        shape = DecoderShape.from_params(int(spec.get("params", 2_000_000)),
                                         vocab_size=int(spec.get("vocab_size", 256)))
    if max_len > shape.max_position:
        raise ValueError(f"the workload's longest sequence ({max_len} tokens) exceeds max_position {shape.max_position}")
    dtype = spec.get("dtype", "fp32")
    block_size = int(spec.get("block_size", 16))
    max_num_seqs = int(spec.get("max_num_seqs", 64))
    if spec.get("num_blocks") is not None and spec.get("kv_budget_mb") is not None:
        raise ValueError("give num_blocks or kv_budget_mb, not both")
    if spec.get("num_blocks") is not None:
        num_blocks = int(spec["num_blocks"])
    elif spec.get("kv_budget_mb") is not None:
        num_blocks = kv_blocks_for_budget(shape, memory_budget_bytes=int(float(spec["kv_budget_mb"]) * 2**20),
                                          block_size=block_size, dtype=dtype)
    else:
        num_blocks = max_num_seqs * -(-max_len // block_size)
    config = SchedulerConfig(
        block_size=block_size, num_blocks=num_blocks, max_num_seqs=max_num_seqs,
        max_num_batched_tokens=int(spec.get("max_num_batched_tokens", 512)),
    )
    runner = GenerativeRunner(shape, num_blocks=num_blocks, block_size=block_size,
                              device=spec.get("device", "auto"), dtype=dtype, seed=int(spec.get("seed", 0)))
    return GenBench(shape, runner, config, str(runner.device), dtype)


def run_workload(bench: GenBench, workload: Workload, *, static_batch_size: int | None = None,
                 max_wall_s: float | None = None,
                 on_finished: Callable[[int, int], None] | None = None) -> RunRecord:
    return drive(bench.engine(static_batch_size=static_batch_size), workload, max_wall_s=max_wall_s,
                 on_finished=on_finished)


# A result keeps at most this many engine steps per run (evenly thinned) for the KV and batch charts.
MAX_STEP_SERIES = 400


def step_series(steps: list[dict[str, Any]], limit: int = MAX_STEP_SERIES) -> list[dict[str, Any]]:
    """The run's engine steps, evenly thinned to ``limit`` (the first and last kept)."""
    if len(steps) <= limit:
        return list(steps)
    stride = (len(steps) - 1) / (limit - 1)
    return [steps[round(k * stride)] for k in range(limit)]


def calibrate(bench: GenBench, prompt_len: int, *, repeats: int = 3, decode_tokens: int = 16) -> dict[str, Any]:
    """step(1): the median decode step of one sequence alone; the prefill of a ``prompt_len``
    prompt alone (all its prefill steps). Medians over ``repeats`` single-request runs."""
    step1, prefill = [], []
    for k in range(repeats):
        w = Workload(
            (_request(f"cal{k}", prompt_len, decode_tokens, bench.shape.vocab_size, k),),
            None, 1.0, LengthDist.fixed(prompt_len), LengthDist.fixed(decode_tokens), k, bench.shape.vocab_size,
        )
        rec = run_workload(bench, w)
        dec = [s["step_ms"] for s in rec.steps if s["decode_tokens"] and not s["prefill_tokens"]]
        step1.append(statistics.median(dec))
        prefill.append(sum(s["step_ms"] for s in rec.steps if s["prefill_tokens"]))
    return {
        "step1_ms": round(statistics.median(step1), 4),
        "prefill_longest_prompt_ms": round(statistics.median(prefill), 4),
        "longest_prompt_tokens": prompt_len,
        "repeats": repeats,
    }


def _request(rid: str, prompt_len: int, max_new: int, vocab: int, seed: int):
    import numpy as np

    from engine.bench.generate.workload import GenRequest

    ids = np.random.default_rng([seed, 7]).integers(0, vocab, size=prompt_len)
    return GenRequest(rid, tuple(int(x) for x in ids), max_new, 0.0)


def default_slos(calibration: dict[str, Any], *, ttft_slo_ms: float | None = None,
                 tpot_slo_ms: float | None = None) -> dict[str, Any]:
    """The SLOs used and how each was set (given, or scaled to the model measured)."""
    tpot = tpot_slo_ms if tpot_slo_ms is not None else round(TPOT_SLO_STEPS * calibration["step1_ms"], 3)
    ttft = ttft_slo_ms if ttft_slo_ms is not None else round(max(
        TTFT_OVER_TPOT * tpot, TTFT_PREFILL_FACTOR * calibration["prefill_longest_prompt_ms"]), 3)
    if not (tpot > 0 and ttft > 0):
        raise ValueError("ttft_slo_ms and tpot_slo_ms must be > 0")
    return {
        "ttft_slo_ms": ttft,
        "tpot_slo_ms": tpot,
        "ttft_rule": "given" if ttft_slo_ms is not None else (
            f"max({TTFT_OVER_TPOT:g} x TPOT SLO, {TTFT_PREFILL_FACTOR:g} x prefill of the longest prompt alone)"),
        "tpot_rule": "given" if tpot_slo_ms is not None else f"{TPOT_SLO_STEPS:g} x step(1), one sequence's decode step",
    }


def measure_at(bench: GenBench, workload: Workload, slo: dict[str, Any], *,
               static_batch_size: int | None = None, max_drain_s: float | None = 60.0,
               on_finished: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """One run: metrics, step summary, the raw steps (for the step-time fit) and validity. The
    run is cut ``max_drain_s`` after its last scheduled arrival (None: never)."""
    max_wall_s = None if max_drain_s is None else workload.requests[-1].arrival_offset_s + max_drain_s
    noise = noise_probe(0.02)
    rec = run_workload(bench, workload, static_batch_size=static_batch_size, max_wall_s=max_wall_s,
                       on_finished=on_finished)
    metrics = summarise_requests(rec.records, ttft_slo_ms=slo["ttft_slo_ms"], tpot_slo_ms=slo["tpot_slo_ms"])
    return {
        "rate_rps": workload.rate_rps,
        "metrics": metrics,
        "steps": step_summary(rec.steps),
        "raw_steps": rec.steps,
        "wall_s": rec.wall_s,
        "cut_short": rec.cut_short,
        "late_adds": rec.late_adds,
        "valid": not rec.cut_short,
        "noise": noise,
    }


def search_max_rate(measure: Callable[[float], dict[str, Any]], *, start_rps: float, rel_tol: float = 0.05,
                    max_steps: int = 10, confirm: bool = True, should_cancel: Callable[[], bool] | None = None,
                    on_step: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """The highest rate whose TTFT p99 and TPOT p99 both hold: ``measure(rate)`` returns
    ``measure_at``'s dict; the search (``search.max_qps_search``) compares its ``slo_ratio``
    (max of the two p99 / SLO ratios) with 1."""
    def one(rate: float) -> dict[str, Any]:
        r = measure(rate)
        ratio = r["metrics"]["slo_ratio"]
        return {**r, "p99_all_ms": ratio if ratio is not None else math.inf}

    out = max_qps_search(one, p99_budget_ms=1.0, start_qps=start_rps, rel_tol=rel_tol, max_steps=max_steps,
                         confirm=confirm, should_cancel=should_cancel, on_step=on_step)
    out["max_rate_rps"] = out.pop("max_qps")
    out["slo_ratio"] = out.pop("p99_ms")
    for step in out["steps"]:
        step["rate_rps"] = step.pop("rate_qps")
        step["slo_ratio"] = step.pop("p99_ms")
    if out.get("result"):
        out["result"] = {k: v for k, v in out["result"].items() if k != "raw_steps"}
    return out


def run_generate(
    spec: dict[str, Any],
    progress: Callable[[dict[str, Any]], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Run one generative scenario described by ``spec`` (see the module docstring)."""
    started = time.perf_counter()
    started_at = utc_now()
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ValueError(f"unknown generate spec keys: {sorted(unknown)}")
    scenario = spec.get("scenario", "server")
    if scenario not in GENERATE_SCENARIOS:
        raise ValueError(f"scenario must be one of {GENERATE_SCENARIOS}")
    threads = pin_threads(spec.get("threads"))
    seed = int(spec.get("seed", 0))
    input_len = LengthDist.parse(str(spec.get("input_len_dist", "uniform:8-64")), field="input_len_dist")
    output_len = LengthDist.parse(str(spec.get("output_len_dist", "uniform:8-64")), field="output_len_dist")
    requests = int(spec.get("requests", 200))
    if requests < 1:
        raise ValueError("requests must be >= 1")
    burstiness = float(spec.get("burstiness", 1.0))
    rate = spec.get("rate")
    if scenario == "server" and rate is None:
        raise ValueError("the server scenario needs rate (requests/s)")
    static_b = spec.get("static_batch_size")
    static_b = None if static_b is None else int(static_b)
    max_drain_s = float(spec.get("max_drain_s", 60.0))
    if not max_drain_s > 0:
        raise ValueError("max_drain_s must be > 0")
    notes: list[str] = []
    out: dict[str, Any] = {k: None for k in ("slo", "calibration", "metrics", "steps", "search", "max_rate_rps",
                                                 "probes", "step_series")}
    provenance = host_provenance()
    settings: dict[str, Any] = {"threads": threads, "device": spec.get("device", "auto"),
                                "static_batch_size": static_b, "max_drain_s": max_drain_s}
    shape_dict: dict[str, Any] = {}
    status, error = "ok", None

    def report(stage: str, fraction: float, message: str, **counts: Any) -> None:
        if progress is not None:
            progress({"stage": stage, "fraction": fraction, "message": message, **counts})
        if should_cancel is not None and should_cancel():
            raise Cancelled()

    def counting(stage: str, low: float, high: float, label: str) -> Callable[[int, int], None]:
        """Progress within one run: requests done of total and an ETA from the pace so far."""
        began = time.perf_counter()

        def on_finished(done: int, total: int) -> None:
            elapsed = time.perf_counter() - began
            eta = elapsed / done * (total - done)
            report(stage, low + (high - low) * done / total,
                   f"{label}: {done} of {total} requests done, about {eta:.1f} s left",
                   requests_done=done, requests_total=total, eta_s=round(eta, 1))
        return on_finished

    try:
        probe = make_workload(requests=requests, input_len=input_len, output_len=output_len, vocab_size=2,
                              rate_rps=None, burstiness=burstiness, seed=seed)
        max_len = max(len(r.prompt_token_ids) + r.max_new_tokens for r in probe.requests)
        report("setup", 0.0, "building the decoder")
        bench = make_gen_bench(spec, max_len=max_len)
        shape_dict = {**bench.shape.to_dict(), "dtype": bench.dtype}
        from engine.serving.runner import provenance as torch_provenance

        provenance.update(torch_provenance(bench.runner.device))
        settings.update(device=bench.device, scheduler=bench.config.to_dict())
        vocab = bench.shape.vocab_size
        workload = make_workload(requests=requests, input_len=input_len, output_len=output_len, vocab_size=vocab,
                                 rate_rps=None if rate is None else float(rate), burstiness=burstiness, seed=seed)
        settings["workload"] = workload.settings()
        report("warmup", 0.05, "warm-up and calibration")
        longest = max(len(r.prompt_token_ids) for r in workload.requests)
        run_workload(bench, make_workload(requests=min(8, requests), input_len=input_len, output_len=output_len,
                                          vocab_size=vocab, seed=seed + 99), static_batch_size=static_b)
        cal = calibrate(bench, longest)
        out["calibration"] = cal
        slo = default_slos(cal, ttft_slo_ms=spec.get("ttft_slo_ms"), tpot_slo_ms=spec.get("tpot_slo_ms"))
        out["slo"] = slo
        if scenario == "offline":
            report("offline", 0.2, f"{requests} requests at once")
            r = measure_at(bench, workload.at_rate(None), slo, static_batch_size=static_b, max_drain_s=max_drain_s,
                           on_finished=counting("offline", 0.2, 0.99, "offline"))
            out["metrics"], out["steps"] = r["metrics"], r["steps"]
            out["step_series"] = step_series(r["raw_steps"])
            out["valid"] = r["valid"]
        elif scenario == "server":
            report("server", 0.2, f"{requests} requests at {float(rate):g} requests/s")
            r = measure_at(bench, workload, slo, static_batch_size=static_b, max_drain_s=max_drain_s,
                           on_finished=counting("server", 0.2, 0.99, f"server at {float(rate):g} requests/s"))
            out["metrics"], out["steps"] = r["metrics"], r["steps"]
            out["step_series"] = step_series(r["raw_steps"])
            out["valid"] = r["valid"]
        else:
            report("max-qps", 0.1, "offline rate to start the search from")
            off = measure_at(bench, workload.at_rate(None), slo, static_batch_size=static_b, max_drain_s=max_drain_s)
            start = float(rate) if rate is not None else 0.5 * off["metrics"]["request_throughput_rps"]

            min_span_s = MIN_SPAN_TTFT_SLOS * slo["ttft_slo_ms"] / 1000.0

            probes: list[dict[str, Any]] = []
            series: dict[float, list[dict[str, Any]]] = {}

            def measure(r_rps: float) -> dict[str, Any]:
                k = len(probes) + 1
                # The search has at most 10 probes (search_max_rate's max_steps): 0.1 .. 0.99.
                low = 0.1 + 0.089 * min(k - 1, 10)
                report("max-qps", low, f"probe {k}: run at {r_rps:.3g} requests/s")
                r = measure_at(bench, lasting(workload, r_rps, min_span_s), slo, static_batch_size=static_b,
                               max_drain_s=max_drain_s,
                               on_finished=counting("max-qps", low, low + 0.089, f"probe {k} at {r_rps:.3g} requests/s"))
                probes.append({"rate_rps": round(r_rps, 4), "metrics": r["metrics"], "steps": r["steps"],
                               "valid": r["valid"]})
                series[round(r_rps, 4)] = r["raw_steps"]
                return r

            search = search_max_rate(measure, start_rps=start, should_cancel=should_cancel)
            out["probes"] = probes
            best_rate = (search.get("result") or {}).get("rate_rps")
            if best_rate is not None and round(best_rate, 4) in series:
                out["step_series"] = step_series(series[round(best_rate, 4)])
            out["search"] = search
            out["max_rate_rps"] = search["max_rate_rps"]
            best = search.get("result") or {}
            out["metrics"], out["steps"] = best.get("metrics"), best.get("steps")
            out["offline_request_throughput_rps"] = off["metrics"]["request_throughput_rps"]
        if requests < 100:
            notes.append(f"short run: {requests} requests; a p99 over fewer than 100 is the maximum")
        report("done", 1.0, "done")
    except Cancelled:
        status = "cancelled"
    except (ValueError, RuntimeError) as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        notes.append(traceback.format_exc(limit=3))
    result = BenchResult(
        scenario=f"generate-{scenario}", workload=shape_dict, settings=settings, provenance=provenance,
        seed=seed, started_at=started_at, duration_s=round(time.perf_counter() - started, 3), data=out,
        notes=notes,
    ).to_dict()
    result.update(result.pop("data"))
    result["status"] = status
    result["error"] = error
    return result
