"""Generative core comparisons G1-G5 (issue 24), side by side in one run.

    python benchmarks/generative.py --out benchmarks/results/generative-cpu

writes ``generative-cpu.json`` (every measurement, settings, provenance, noise probes) and
``generative-cpu.md`` (the table of ratios). One torch thread, a ~1.5 M-parameter Llama-layout
decoder in fp32, a length-varied Poisson workload; a few minutes in all on a 2-core VM.

- G1  decode tokens/s of the core at a fixed full batch / a bare loop of the runner's decode
      step (no scheduler) on the same model and batch, in ABBA order          (>= 0.9)
- G2  goodput (requests/s meeting both SLOs) of the core / the best static batch size, on the
      same arrivals at each rate of a grid; best over the grid for each     (>= 3)
- G3  goodput of the core / an ideal scheduler, run by run over G5's rates: the same scheduler
      on a fake clock, the same arrivals, that run's own step times (fitted, and its measured /
      fitted ratios replayed in order); median over the rates                (>= 0.9)
- G4  at a fixed KV budget: sequences held, paged / reserve-max, and paged waste
      (allocated slots - tokens held) / tokens held                 (>= 2 and <= 10 %)
- G5  max rate by MLPerf LoadGen in token-latency mode / ours, on a paired grid of rates
      (each rate run by both, interleaved)                                (within 5 %)

SLOs are scaled to the model measured: TPOT SLO = 10 x step(1) (one sequence's decode step),
TTFT SLO = 10 x the TPOT SLO (MLPerf llama2-70b's 2,000 / 200 ms proportion), at least 3 x the
longest prompt's prefill alone.
"""

from __future__ import annotations

import argparse
import importlib.util

import numpy as np
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from engine.serving.threads import pin_threads  # noqa: E402  (before torch is imported)
from _common import log, write_result  # noqa: E402
from generative_report import render_markdown, summarise  # noqa: E402


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/generative-cpu",
                   help="path prefix for .json and .md")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dtype", default="fp32")
    p.add_argument("--params", type=int, default=2_000_000)
    p.add_argument("--requests", type=int, default=120, help="requests per server run")
    p.add_argument("--input-len-dist", default="lognormal:32,0.8,8-256")
    p.add_argument("--output-len-dist", default="lognormal:32,0.8,4-128")
    p.add_argument("--max-num-seqs", type=int, default=64)
    # A CPU prefills at decode's cost per token: a small step budget keeps the prefill chunks
    # that share a step with decodes from stretching TPOT (a GPU affords thousands).
    p.add_argument("--max-num-batched-tokens", type=int, default=64)
    p.add_argument("--block-size", type=int, default=16)
    p.add_argument("--g1-batch", type=int, default=32)
    p.add_argument("--g1-decode-steps", type=int, default=64)
    p.add_argument("--g1-pairs", type=int, default=5, help="ABBA pairs of core and bare loop")
    p.add_argument("--static-batch-sizes", type=_int_list, default=[1, 4, 16])
    p.add_argument("--g2-core-factors", type=lambda t: [float(x) for x in t.split(",")],
                   default=[0.5, 1.0, 1.5, 2.0],
                   help="G2 grid for the core: multiples of its measured max rate (above it too: the machine "
                        "may be faster by then)")
    p.add_argument("--g2-static-factors", type=lambda t: [float(x) for x in t.split(",")],
                   default=[0.25, 0.5, 1.0], help="G2 grid for each static batch size")
    p.add_argument("--g4-kv-fraction", type=float, default=0.25,
                   help="G4 KV budget: this share of the tokens all the workload's requests reach")
    p.add_argument("--g5-grid", type=lambda t: [float(x) for x in t.split(",")],
                   default=[round(0.7 * 1.05 ** k, 4) for k in range(31)],
                   help="G5 grid, ascending: multiples of the core's measured max rate (default 0.7 to 3 in "
                        "5 %% steps); it stops once both instruments failed at two rates in a row")
    p.add_argument("--skip-loadgen", action="store_true")
    p.add_argument("--max-drain-s", type=float, default=20.0,
                   help="a run is cut this long after its last scheduled arrival")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny run for smoke tests (not for results)")
    args = p.parse_args(argv)
    if not args.skip_loadgen and importlib.util.find_spec("mlperf_loadgen") is None:
        p.error("mlperf_loadgen not installed: pip install mlcommons-loadgen (or --skip-loadgen)")
    if args.quick:
        args.requests = 30
        args.g1_decode_steps, args.g1_pairs = 8, 1
        args.static_batch_sizes = args.static_batch_sizes[:1]
        args.g2_core_factors, args.g2_static_factors = [1.0], [1.0]
        args.g5_grid = [1.0]
        args.max_drain_s = 10.0

    threads = pin_threads(args.threads)
    from engine.bench.generate import g1, sim
    from engine.bench.generate.holding import compare_holding
    from engine.bench.generate.run import (
        MIN_SPAN_TTFT_SLOS,
        calibrate,
        default_slos,
        make_gen_bench,
        measure_at,
        run_workload,
        search_max_rate,
    )
    from engine.bench.generate.workload import LengthDist, lasting, make_workload
    from engine.bench.stats import host_provenance, noise_probe, utc_now
    from engine.serving.runner import provenance as torch_provenance

    started, started_at = time.perf_counter(), utc_now()
    input_len = LengthDist.parse(args.input_len_dist, field="--input-len-dist")
    output_len = LengthDist.parse(args.output_len_dist, field="--output-len-dist")
    max_len = input_len.high + output_len.high
    spec = {"params": args.params, "vocab_size": 256, "dtype": args.dtype, "device": args.device,
            "block_size": args.block_size, "max_num_seqs": args.max_num_seqs,
            "max_num_batched_tokens": args.max_num_batched_tokens, "seed": args.seed}
    bench = make_gen_bench(spec, max_len=max_len)
    vocab = bench.shape.vocab_size
    workload = make_workload(requests=args.requests, input_len=input_len, output_len=output_len,
                             vocab_size=vocab, rate_rps=1.0, seed=args.seed)
    r: dict[str, Any] = {}
    all_steps: list[dict[str, Any]] = []

    def write(final: bool) -> dict[str, Any]:
        result = {
            "schema_version": 1,
            "command": "python benchmarks/generative.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "started_at": started_at,
            "duration_s": round(time.perf_counter() - started, 1),
            "provenance": {**host_provenance(), **torch_provenance(bench.runner.device)},
            "workload": {**bench.shape.to_dict(), "dtype": bench.dtype},
            "settings": {
                "threads": threads, "device": bench.device, "scheduler": bench.config.to_dict(),
                "workload": workload.settings(), "static_batch_sizes": args.static_batch_sizes,
                "g1": {"batch": args.g1_batch, "decode_steps": args.g1_decode_steps, "pairs": args.g1_pairs},
                "g2_core_factors": args.g2_core_factors,
                "g2_static_factors": args.g2_static_factors, "g4_kv_fraction": args.g4_kv_fraction,
                "g5_grid": None if args.skip_loadgen else args.g5_grid, "max_drain_s": args.max_drain_s,
                "seed": args.seed, "quick": args.quick,
            },
            "summary": summarise(r),
            "results": r,
        }
        write_result(args.out, result, render_markdown, echo=final)
        return result

    log("warm-up and calibration")
    # The whole workload at once, twice, on other prompts: the batch and context shapes every
    # later run meets are then no longer first-time shapes for torch's CPU kernels.
    for k in range(1 if args.quick else 2):
        run_workload(bench, make_workload(requests=args.requests, input_len=input_len, output_len=output_len,
                                          vocab_size=vocab, seed=args.seed + 99 + k))
    for b in args.static_batch_sizes[:1]:
        run_workload(bench, make_workload(requests=b, input_len=input_len, output_len=LengthDist.fixed(4),
                                          vocab_size=vocab, seed=args.seed + 98), static_batch_size=b)
    cal = calibrate(bench, max(len(q.prompt_token_ids) for q in workload.requests))
    slo = default_slos(cal)
    r["calibration"], r["slo"] = cal, slo
    log(f"SLOs: TTFT {slo['ttft_slo_ms']} ms, TPOT {slo['tpot_slo_ms']} ms (step(1) {cal['step1_ms']} ms)")

    # G1: core vs bare loop, same batch, ABBA.
    log(f"G1: decode tokens/s at batch {args.g1_batch}, core vs bare loop")
    pairs = []
    for k in range(args.g1_pairs):
        noise = noise_probe()
        order = ["bare", "core", "core", "bare"] if k % 2 == 0 else ["core", "bare", "bare", "core"]
        tps: dict[str, list[float]] = {"bare": [], "core": []}
        for which in order:
            fn = g1.bare_decode if which == "bare" else g1.core_decode
            tps[which].append(fn(bench, args.g1_batch, args.g1_decode_steps, seed=k)["tokens_per_s"])
        pairs.append({"bare_tokens_per_s": round(statistics.fmean(tps["bare"]), 1),
                      "core_tokens_per_s": round(statistics.fmean(tps["core"]), 1),
                      "ratio": round(statistics.fmean(tps["core"]) / statistics.fmean(tps["bare"]), 4),
                      "noise": noise})
    r["g1"] = {"batch": args.g1_batch, "pairs": pairs}
    write(False)

    # Offline (all at once): tokens/s, and steps for the step-time fit.
    log("offline: all requests at once")
    off = measure_at(bench, workload.at_rate(None), slo, max_drain_s=args.max_drain_s)
    all_steps += off.pop("raw_steps")
    r["offline"] = off

    # The core's max rate at both SLOs (our harness, real time).
    start = 0.5 * off["metrics"]["request_throughput_rps"]
    log(f"core max rate search from {start:.1f} requests/s")

    steps_by_rate: dict[float, list[dict[str, Any]]] = {}
    min_span_s = MIN_SPAN_TTFT_SLOS * slo["ttft_slo_ms"] / 1000.0

    def wl_at(rate: float):
        return lasting(workload, rate, min_span_s)

    def core_at(rate: float) -> dict[str, Any]:
        m = measure_at(bench, wl_at(rate), slo, max_drain_s=args.max_drain_s)
        raw = m.pop("raw_steps")
        all_steps.extend(raw)
        steps_by_rate[round(rate, 2)] = raw  # the search reports its answer rounded so
        log(f"  core at {rate:.2f} req/s: TTFT p99 {m['metrics']['ttft_p99_all_ms']} ms, "
            f"TPOT p99 {m['metrics']['tpot_p99_all_ms']} ms, goodput {m['metrics']['goodput_rps']}")
        return m

    search = search_max_rate(core_at, start_rps=start, rel_tol=0.05, max_steps=4 if args.quick else 10,
                             confirm=not args.quick)
    r["core_search"] = search
    cap = search["max_rate_rps"] or start
    write(False)

    # G3 context: ideal max rates from step-time fits without the machine's variation, on the
    # core's max-rate run and on every core run so far. The verdict (paired run by run, after G5)
    # replays each run's own step times on its own arrivals.
    from engine.bench.generate.metrics import step_summary, summarise_requests

    cap_steps = steps_by_rate.get(round(cap, 2)) or all_steps
    paired, paired_fit = sim.fit_step_time(cap_steps)
    noise = sim.step_time_ratios(cap_steps, paired)
    model, fit = sim.fit_step_time(all_steps)
    r["step_time_fit_paired"], r["step_time_fit"] = paired_fit, fit
    r["paired_step_ratio_quantiles"] = {q: round(float(np.quantile(noise, q / 100)), 4) for q in (10, 50, 90, 99)}
    log(f"step-time fit on the max-rate run: {paired_fit}")

    def ideal_at(rate: float, m=paired, ratios=noise) -> dict[str, Any]:
        rec = sim.simulate(wl_at(rate), bench.config, m, vocab_size=vocab, noise=ratios, seed=args.seed)
        return {"rate_rps": rate, "metrics": summarise_requests(rec.records, **_slo_args(slo)),
                "steps": step_summary(rec.steps), "valid": True}

    ideal_kw = {"start_rps": cap, "rel_tol": 0.01, "max_steps": 20, "confirm": False}
    r["ideal_steady_search"] = search_max_rate(lambda x: ideal_at(x, paired, None), **ideal_kw)
    r["ideal_all_runs_search"] = search_max_rate(lambda x: ideal_at(x, model, None), **ideal_kw)
    write(False)

    # G2: core and static batch sizes on the same arrivals at a grid of rates.
    grid = []
    for f in sorted(set(args.g2_core_factors) | set(args.g2_static_factors)):
        rate = round(cap * f, 4)
        row: dict[str, Any] = {"rate_factor": f, "rate_rps": rate}
        if f in args.g2_core_factors:
            log(f"G2 at {rate:.2f} req/s: core")
            row["core"] = _slim(core_at(rate))
        for b in args.static_batch_sizes if f in args.g2_static_factors else ():
            log(f"G2 at {rate:.2f} req/s: static batch {b}")
            m = measure_at(bench, wl_at(rate), slo, static_batch_size=b, max_drain_s=args.max_drain_s)
            m.pop("raw_steps")
            row[f"static_{b}"] = _slim(m)
        grid.append(row)
        r["g2"] = {"grid": grid}
        write(False)

    # G4 (pure): paged vs reserve-max at a fixed KV budget.
    from dataclasses import replace

    demand = sum(len(q.prompt_token_ids) + q.max_new_tokens for q in workload.requests)
    g4_blocks = max(-(-max_len // args.block_size), int(demand * args.g4_kv_fraction / args.block_size))
    g4_cfg = replace(bench.config, num_blocks=g4_blocks, max_model_len=max_len, max_num_seqs=1024,
                     max_num_batched_tokens=4096)
    r["g4"] = compare_holding(workload.at_rate(None), g4_cfg)
    # The same token budget in blocks of other sizes: waste is about half a block per sequence.
    r["g4_block_sizes"] = {}
    for bs in sorted({8, 32} - {args.block_size}):
        cfg = replace(g4_cfg, block_size=bs, num_blocks=max(-(-max_len // bs), g4_blocks * args.block_size // bs))
        r["g4_block_sizes"][str(bs)] = compare_holding(workload.at_rate(None), cfg)
    log(f"G4: {r['g4']['seqs_held_ratio']} x sequences held, waste {r['g4']['paged_waste_over_tokens_held']}")
    write(False)

    # G5: LoadGen token-latency mode vs ours on a paired grid of rates.
    if not args.skip_loadgen:
        from engine.bench.mlperf_tokens import loadgen_token_server

        rows = []
        for k, f in enumerate(args.g5_grid):
            if all(_two_fails(rows, who) for who in ("ours", "loadgen")):
                break
            rate = round(cap * f, 4)
            pair: dict[str, Any] = {"rate_factor": f, "rate_rps": rate}
            for which in (("ours", "loadgen") if k % 2 == 0 else ("loadgen", "ours")):
                if which == "ours":
                    m = core_at(rate)["metrics"]
                    pair["ours"] = {"ttft_p99_ms": m["ttft_p99_all_ms"], "tpot_p99_ms": m["tpot_p99_all_ms"],
                                    "pass": m["slo_met"], "goodput_rps": m["goodput_rps"]}
                else:
                    lg = loadgen_token_server(
                        lambda: bench.engine(), list(workload.requests), target_qps=rate,
                        ttft_slo_ms=slo["ttft_slo_ms"], tpot_slo_ms=slo["tpot_slo_ms"],
                        min_query_count=args.requests, min_duration_ms=int(min_span_s * 1000), seed=args.seed + k,
                    )
                    pair["loadgen"] = {"ttft_p99_ms": lg.get("ttft_p99_ms"), "tpot_p99_ms": lg.get("tpot_p99_ms"),
                                       "pass": lg["within_slo"], "valid": lg["valid"],
                                       "scheduled_qps": lg.get("scheduled_qps"),
                                       "completed_tokens_per_s": lg.get("completed_tokens_per_s")}
                    log(f"  LoadGen at {rate:.2f}: TTFT p99 {lg.get('ttft_p99_ms')} ms, TPOT p99 "
                        f"{lg.get('tpot_p99_ms')} ms, within {lg['within_slo']}")
            rows.append(pair)
            r["g5"] = {"grid": rows}
            write(False)

    # G3: at every rate the core ran in G5, its goodput / the ideal's: the same scheduler on a
    # fake clock, the same arrivals, that run's own steps fitted and step k times the run's k-th
    # measured / fitted ratio (the same arrivals give the same sequence of steps, so the replay
    # lines up): the ideal is that run without the time between and around steps.
    paired_rows = []
    for row in (r.get("g5") or {}).get("grid", []):
        steps = steps_by_rate.get(round(row["rate_rps"], 2))
        if not steps or "ours" not in row:
            continue
        m_run, fit_run = sim.fit_step_time(steps)
        ideal = ideal_at(row["rate_rps"], m_run, sim.step_time_ratios(steps, m_run))["metrics"]
        paired_rows.append({"rate_rps": row["rate_rps"], "core_goodput_rps": row["ours"]["goodput_rps"],
                            "ideal_goodput_rps": ideal["goodput_rps"], "ideal_pass": ideal["slo_met"],
                            "fit_r2": fit_run["r2"]})
    r["g3_paired_grid"] = paired_rows
    r["noise_after"] = noise_probe()
    # The machine's drift over the run: step(1) and the prefill again, beside the start's.
    r["calibration_end"] = calibrate(bench, cal["longest_prompt_tokens"])
    write(True)
    return 0


def _two_fails(rows: list[dict[str, Any]], who: str) -> bool:
    return len(rows) >= 2 and not rows[-1][who]["pass"] and not rows[-2][who]["pass"]


def _slo_args(slo: dict[str, Any]) -> dict[str, float]:
    return {"ttft_slo_ms": slo["ttft_slo_ms"], "tpot_slo_ms": slo["tpot_slo_ms"]}


def _slim(m: dict[str, Any]) -> dict[str, Any]:
    keep = ("requests", "completed", "rejected", "unfinished", "duration_s", "goodput_rps", "good_fraction",
            "output_tokens_per_s", "ttft_p99_all_ms", "tpot_p99_all_ms", "slo_met", "slo_ratio")
    return {**{k: m["metrics"][k] for k in keep}, "ttft_p50_ms": m["metrics"]["ttft"]["p50_ms"],
            "tpot_p50_ms": m["metrics"]["tpot"]["p50_ms"], "mean_seqs": m["steps"].get("mean_seqs"),
            "cut_short": m.get("cut_short"), "noise": m.get("noise")}


if __name__ == "__main__":
    sys.exit(main())
