"""Serving-core comparisons P1-P4 (issue 5), side by side in one run.

    python benchmarks/serving.py --out benchmarks/results/serving-cpu

writes ``serving-cpu.json`` (summary: medians, per-repeat values, noise probes, provenance)
and ``serving-cpu.md`` (the table of ratios). The variants of each comparison are interleaved
and repeated (three times by default); ratios are medians over the repeats, and every
measurement carries a noise probe (share of wall time the machine stalled right beside it).

- P1  offline throughput through the core / bare runner, same batch size      (>= 0.95)
- P2  core capacity at p99 <= L / ideal-batcher simulation with the same s(b)  (>= 0.95)
      and server/offline at L = 10 x s(1)                                      (aim >= 0.9)
- P3  no-op model through the core, requests/s at max_batch_size 64            (>= 150,000)
      HTTP front capacity at p99 <= 50 ms / LitServe's, same model and settings (>= 3)
- P4  at 2 x capacity: goodput / capacity (>= 0.9), admitted p99 <= L, zero executed late;
      goodput also against the ideal batcher under the same overload schedule
- LG  our max QPS at p99 <= L vs. MLPerf LoadGen's Server-scenario max QPS (its VALID verdict,
      early stopping included) on the same core, model and settings      (within 5 %)

s(b) is measured at every batch size up to 8, then in steps of 2, 4, 8 and 16 (the ideal
batcher interpolates between the measured sizes; powers of two alone left it up to 10 %
optimistic at the sizes a tight budget runs, see docs/benchmarks.md). The ideal capacity from
the powers of two alone is reported beside it.
"""

from __future__ import annotations

import argparse
import importlib.util
from dataclasses import replace
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.serving.threads import pin_threads  # noqa: E402  (before torch is imported)
from _common import write_result  # noqa: E402
from serving_report import render_markdown, summarise  # noqa: E402


DENSE_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128,
               160, 192, 224, 256)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/serving-cpu",
                   help="path prefix for .json and .md")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--max-batch-size", type=int, default=128, help="P2/P4 batcher setting")
    p.add_argument("--http-max-batch-size", type=int, default=64)
    p.add_argument("--http-max-queue-delay-ms", type=float, default=1.0)
    p.add_argument("--http-budget-ms", type=float, default=50.0)
    p.add_argument("--queries", type=int, default=2010)
    p.add_argument("--noop-requests", type=int, default=200_000)
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--skip-loadgen", action="store_true", help="no MLPerf LoadGen comparison")
    p.add_argument("--loadgen-min-duration-ms", type=int, default=1000)
    p.add_argument("--p4-margin-quantile", type=float, default=0.998,
                   help="P4 calibrated shedding: share of admitted requests the margin keeps on time")
    p.add_argument("--p4-queries", type=int, default=4020,
                   help="P4 measured queries per unit of the overload factor (2 x this are offered): "
                        "about half are shed, and the p99 of admitted requests needs 2,010 completions")
    p.add_argument("--no-padding", action="store_true",
                   help="P2/P4/LoadGen: run every batch as it is (default: pad a batch size that a larger "
                        "measured size beats by 5 %% to that size)")
    p.add_argument("--quick", action="store_true", help="tiny run for smoke tests (not for results)")
    args = p.parse_args(argv)
    # Fail before a 10-minute run, not after its first repeat, when an optional peer is missing.
    needed = {"litserve": not args.skip_http, "mlperf_loadgen": not args.skip_loadgen}
    missing = [name for name, wanted in needed.items() if wanted and importlib.util.find_spec(name) is None]
    if missing:
        p.error(f"{', '.join(missing)} not installed: pip install -e '.[bench]' (or --skip-http / --skip-loadgen)")

    threads = pin_threads(args.threads)
    from engine.bench import scenarios as sc
    from engine.bench.stats import host_provenance, noise_probe, utc_now
    from engine.serving.policy import BatcherConfig
    from engine.serving.runner import provenance as torch_provenance
    from engine.serving.workloads import reference_mlp

    if args.quick:
        args.repeats = min(args.repeats, 1)
        args.queries = 300
        args.p4_queries = 300
        args.noop_requests = 20_000
    started, started_at = time.perf_counter(), utc_now()
    spec = reference_mlp()
    max_b = args.max_batch_size
    bench = sc.make_bench(spec, device=args.device, threads=threads, max_batch_size=max(max_b, 128),
                          warmup_batch_sizes=(1, 8, 32, max_b))
    sizes = [b for b in DENSE_SIZES if b <= max_b]
    sparse_sizes = {b for b in (1, 2, 4, 8, 16, 32, 64, 128, 256) if b <= max_b}
    p1_sizes = [b for b in (1, 8, 32, 128) if b <= max_b]
    offline_time = 0.05 if args.quick else 0.15
    pair_time = 0.05 if args.quick else 0.25
    config = BatcherConfig(max_batch_size=max_b, max_queue_delay_ms=0.0, max_queue_size=8192)
    reps: list[dict[str, Any]] = []
    http_start = {"ours": 600.0, "litserve": 150.0}

    def write(final: bool) -> dict[str, Any]:
        """The result so far, after every repeat: a run cut short (a device lease, a timeout)
        still leaves the medians of the repeats it finished."""
        summary = summarise(reps, args)
        result = {
            "schema_version": 1,
            "command": "python benchmarks/serving.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "started_at": started_at,
            "duration_s": round(time.perf_counter() - started, 1),
            "provenance": {**host_provenance(), **torch_provenance(bench.runner.device)},
            "workload": spec.to_dict(),
            "settings": {
                "threads": threads, "repeats": len(reps), "repeats_planned": args.repeats, "queries_per_server_run": args.queries,
                "p4_measured_queries": 2 * args.p4_queries,
                "p2_p4_batcher": {"max_batch_size": max_b, "max_queue_delay_ms": 0.0, "num_slots": 1},
                "offline_batch_sizes": sizes,
                "padding": None if args.no_padding else {"min_gain": 0.05, "for": "P2, P4 and LoadGen (not P1, not HTTP)"},
                "p4_shedding": {"calibrated": {"batch_time_quantile": None,
                                               "shed_margin_quantile": args.p4_margin_quantile,
                                               "shed_margin_step_ms": 2.0, "shed_margin_start_batches": 32},
                                "former": {"batch_time_quantile": 0.95, "shed_margin_quantile": None},
                                "overhead_ms": 0.3},
                "loadgen": None if args.skip_loadgen else {
                    "scenario": "Server", "target_latency_percentile": 0.99,
                    "min_query_count": args.queries, "min_duration_ms": args.loadgen_min_duration_ms,
                    "warmup_queries": 256,
                    "search": "bracket, bisect to 3 %, confirm; pass = VALID (and, separately, p99 <= L)",
                },
                "http_batcher": {"max_batch_size": args.http_max_batch_size,
                                 "max_queue_delay_ms": args.http_max_queue_delay_ms},
                "http_p99_budget_ms": args.http_budget_ms, "noop_requests": args.noop_requests,
                "seeds": [r["repeat"] for r in reps], "late_send_tolerance_ms": 5.0,
            },
            "summary": summary,
            "repeats": reps,
        }
        write_result(args.out, result, render_markdown, echo=final)
        return result

    for rep in range(args.repeats):
        r: dict[str, Any] = {"repeat": rep}
        bench.runner.set_padding({})  # P1 compares the core and the bare runner batch for batch
        log(f"repeat {rep + 1}/{args.repeats}: offline s(b)")
        off = sc.offline(bench, sizes, min_time_s=offline_time)
        s1 = off["batch_sizes"][0]["batch_time_ms"]
        budget = round(10.0 * s1, 3)
        r["offline"] = {"fit": off["fit"], "batch_time_ms": {str(x["batch_size"]): x["batch_time_ms"] for x in off["batch_sizes"]},
                        "throughput_qps": {str(x["batch_size"]): x["throughput_qps"] for x in off["batch_sizes"]}}
        offline_best = max(x["throughput_qps"] for x in off["batch_sizes"])
        r["latency_p99_budget_ms"] = budget
        # The same offline measurement restricted to powers of two: the ideal batcher's former
        # input, to show what the denser s(b) changes.
        sparse_rows = [x for x in off["batch_sizes"] if x["batch_size"] in sparse_sizes]
        sparse_fit = sc.fit_batch_time([x["batch_size"] for x in sparse_rows],
                                       [x["batch_time_ms"] for x in sparse_rows])
        off_sparse = {"batch_sizes": sparse_rows, "fit": sparse_fit,
                      "fit_coefficients": {k: sparse_fit[k] for k in ("intercept_ms", "per_item_ms")}}

        # P1: bare runner and core in ABBA order (cancels a linear drift in machine speed),
        # starting with the other one on odd repeats.
        log("P1 offline: core vs bare runner")
        p1 = {}
        for b in p1_sizes:
            n = sc.batches_for(float(r["offline"]["batch_time_ms"][str(b)]), pair_time)
            noise = noise_probe()
            order = ["bare", "core", "core", "bare"] if rep % 2 == 0 else ["core", "bare", "bare", "core"]
            qps: dict[str, list[float]] = {"bare": [], "core": []}
            for which in order:
                run = sc.bare_batches if which == "bare" else sc.core_batches
                qps[which].append(run(bench, b, n)["throughput_qps"])
            bare_qps, core_qps = statistics.fmean(qps["bare"]), statistics.fmean(qps["core"])
            p1[str(b)] = {"bare_qps": round(bare_qps, 2), "core_qps": round(core_qps, 2),
                          "ratio": round(core_qps / bare_qps, 4), "noise": noise}
        r["p1"] = p1

        # From here on, a batch size that a larger measured size beats by 5 % runs padded to it
        # (this CPU's s(b) is not monotone: the BLAS kernel depends on the shape), and the core,
        # LoadGen's SUT, the replays, the shedding model and the ideal batcher all see the
        # padded s(b).
        if not args.no_padding:
            off = sc.pad_batches(bench, off)
        r["padding"] = off.get("padding", {})

        # P2: ideal simulation and the real core at the same L, same settings, same schedules;
        # at L = 10 x s(1) (also the server/offline ratio) and at the HTTP budget.
        estimate = sc.estimate_capacity_qps(off["fit"], max_b)
        r["p2"] = {}
        for label, L in (("L_10_s1", budget), ("L_http", args.http_budget_ms)):
            log(f"P2 capacity at p99 <= {L} ms: ideal simulation and core")
            ideal = sc.ideal_max_qps(off, config, L, start_qps=0.5 * estimate, queries=args.queries, seed=rep)
            ideal_sparse = sc.ideal_max_qps(off_sparse, config, L, start_qps=0.5 * estimate,
                                            queries=args.queries, seed=rep)
            with_lg = label == "L_10_s1" and not args.skip_loadgen
            lg_first = with_lg and rep % 2 == 1  # alternate which harness goes first
            if lg_first:
                r["loadgen"] = loadgen_capacity(bench, config, L, ideal["max_qps"], args, seed=rep)
            core_search = sc.max_qps(bench, config, L, start_qps=0.9 * ideal["max_qps"] or estimate,
                                     queries=args.queries, seed=rep, replay=True)
            cap = core_search["max_qps"]
            # The same ideal with s(b) as the machine ran it during the search: each run's
            # batches replayed alone right after it (engine.bench.replay).
            paired = sc.paired_ideal_max_qps(off, config, L, core_search, start_qps=0.5 * estimate,
                                             queries=args.queries, seed=rep)
            if with_lg and not lg_first:
                r["loadgen"] = loadgen_capacity(bench, config, L, cap, args, seed=rep)
            best_run = core_search.get("result") or {}
            r["p2"][label] = {
                "latency_p99_budget_ms": L,
                "ideal_max_qps": ideal["max_qps"],
                "ideal_max_qps_powers_of_two": ideal_sparse["max_qps"],
                "core_max_qps": cap,
                "confirmed": core_search["confirmed"],
                "ratio_core_over_ideal": round(cap / ideal["max_qps"], 4) if ideal["max_qps"] else None,
                "ideal_paired_max_qps": paired["max_qps"],
                "ratio_core_over_ideal_paired": round(cap / paired["max_qps"], 4) if paired["max_qps"] else None,
                "replay": paired["replay"],
                "offline_max_qps": offline_best,
                "server_over_offline": round(cap / offline_best, 4) if offline_best else None,
                "core_p99_ms_at_max": core_search["p99_ms"],
                "core_mean_batch_at_max": (best_run.get("core") or {}).get("mean_batch_size"),
                "steps": core_search["steps"],
                "noise": best_run.get("noise"),
            }
        cap = r["p2"]["L_10_s1"]["core_max_qps"]
        if "loadgen" in r:
            ours = cap
            theirs = r["loadgen"]["max_qps"]
            r["loadgen"]["ours_max_qps"] = ours
            r["loadgen"]["ratio_loadgen_over_ours"] = round(theirs / ours, 4) if ours else None
            r["loadgen"]["paired"] = paired_grid(bench, config, budget, ours or estimate, args, seed=rep)

        # P4: 2 x the capacity just measured, deadlines = L, predictive shedding from s(b).
        # Two shedding variants, interleaved: the calibrated margin (the model as measured, the
        # margin steered online) and the former one (the model scaled by the 0.95 quantile of
        # observed / modelled batch times, no margin).
        log("P4 overload at 2 x capacity: calibrated margin and 0.95-quantile scale")
        variants = {
            "calibrated": replace(config, batch_time_quantile=None,
                                  shed_margin_quantile=args.p4_margin_quantile),
            "scale_q95": replace(config, batch_time_quantile=0.95, shed_margin_quantile=None),
        }
        runs = {}
        for name in (list(variants) if rep % 2 == 0 else list(reversed(variants))):
            runs[name] = sc.overload(bench, variants[name], sc.shedding_fit(off), cap or estimate, budget,
                                     factor=2.0, measured_ms=sc.measured_points(off),
                                     queries=args.p4_queries, seed=rep)
        ov = runs["calibrated"]
        old = runs["scale_q95"]
        ideal_ov = sc.ideal_overload(off, config, cap or estimate, budget, factor=2.0,
                                     queries=args.p4_queries, seed=rep)
        r["p4"] = {k: ov[k] for k in ("offered_qps", "goodput_qps", "goodput_over_capacity", "admitted_p99_ms",
                                      "rejected", "timed_out", "completed", "executed_after_deadline")}
        r["p4"]["ideal"] = ideal_ov
        r["p4"]["goodput_over_ideal"] = (
            round(ov["goodput_qps"] / ideal_ov["goodput_qps"], 4) if ideal_ov["goodput_qps"] else None
        )
        core_m = ov["run"]["core"]
        r["p4"]["mean_batch_size"] = core_m.get("mean_batch_size")
        r["p4"]["batch_time_scale"] = core_m.get("batch_time_scale")
        r["p4"]["shed_margin_ms"] = core_m.get("shed_margin_ms")
        r["p4"]["noise"] = ov["run"]["noise"]
        r["p4"]["scale_q95"] = {
            k: old[k] for k in ("goodput_qps", "goodput_over_capacity", "admitted_p99_ms", "timed_out",
                                "executed_after_deadline")
        }
        r["p4"]["scale_q95"]["batch_time_scale"] = old["run"]["core"].get("batch_time_scale")

        # P3a: scheduling overhead with a no-op model.
        log("P3 no-op scheduling overhead")
        noop64 = sc.noop_throughput(64, args.noop_requests)
        noop8 = sc.noop_throughput(8, args.noop_requests // 2)
        # Cost model t = per_request + per_batch / b, from the two batch sizes.
        t64, t8 = noop64["us_per_request"], noop8["us_per_request"]
        per_batch = (t8 - t64) / (1 / 8 - 1 / 64)
        r["p3_noop"] = {"requests_per_s_b64": noop64["requests_per_s"], "requests_per_s_b8": noop8["requests_per_s"],
                        "us_per_request": round(t64 - per_batch / 64, 3), "us_per_batch": round(per_batch, 1),
                        "noise": noop64["noise"]}

        # P3b: HTTP fronts, started one at a time (never both up), order alternating.
        if not args.skip_http:
            r["p3_http"] = {}
            order = ["ours", "litserve"] if rep % 2 == 0 else ["litserve", "ours"]
            for name in order:
                log(f"P3 HTTP capacity at p99 <= {args.http_budget_ms} ms: {name}")
                res = http_capacity(name, args, threads, start_qps=http_start[name], quick=args.quick, seed=rep)
                http_start[name] = max(20.0, res["max_qps"] or http_start[name])
                r["p3_http"][name] = res
            ours, lit = r["p3_http"]["ours"]["max_qps"], r["p3_http"]["litserve"]["max_qps"]
            r["p3_http"]["ratio_ours_over_litserve"] = round(ours / lit, 3) if lit else None
        reps.append(r)
        write(final=False)

    result = write(final=True)
    log(f"done in {result['duration_s']} s")
    return 0


def loadgen_capacity(bench, config, L: float, start_qps: float, args, *, seed: int) -> dict[str, Any]:
    """MLPerf LoadGen's Server-scenario max QPS at target latency L (p99), same core."""
    from engine.bench import mlperf

    out: dict[str, Any] = {"noise": noise_probe_here()}
    for rule in ("valid",):
        log(f"LoadGen Server scenario: max QPS at p99 <= {L} ms, rule {rule}")
        found = mlperf.loadgen_max_qps(
            bench, config, L, start_qps=start_qps, min_duration_ms=args.loadgen_min_duration_ms,
            min_query_count=args.queries, seed=seed, rule=rule,
        )
        best = found.get("result") or {}
        out[rule] = {
            "max_qps": found["max_qps"], "confirmed": found["confirmed"],
            "p99_ms_at_max": best.get("p99_latency_ms"), "result_at_max": best.get("result"),
            "early_stopping_at_max": best.get("early_stopping"),
            "completed_qps_at_max": best.get("completed_qps"),
            "scheduled_qps_at_max": best.get("scheduled_qps"), "steps": found["steps"],
        }
        start_qps = found["max_qps"] or start_qps
    out["max_qps"] = out["valid"]["max_qps"]
    return out


def paired_grid(bench, config, L: float, center_qps: float, args, *, seed: int) -> dict[str, Any]:
    """Both harnesses at the same rates, back to back at each rate (order alternating), so a
    noisy stretch of the shared machine hits both: rates center x 1.04^k, k = -6..6. Ours passes
    at p99 <= L (valid run); LoadGen's one run at that rate is judged by its VALID verdict and,
    separately, by its measured p99 <= L. Each harness's capacity is its highest passing rate."""
    from engine.bench import mlperf
    from engine.bench import scenarios as sc

    log(f"paired grid at p99 <= {L} ms: ours and LoadGen back to back")
    rows = []
    for i, k in enumerate(range(-6, 7)):
        rate = center_qps * 1.04 ** k
        order = ("ours", "loadgen") if i % 2 == 0 else ("loadgen", "ours")
        row: dict[str, Any] = {"rate_qps": round(rate, 2)}
        for which in order:
            if which == "ours":
                r = sc.server(bench, config, rate, queries=sc.queries_for(rate, args.queries, L), seed=seed)
                row["ours_p99_ms"] = r["p99_all_ms"]
                row["ours_pass"] = bool(r["valid"]) and r["p99_all_ms"] is not None and r["p99_all_ms"] <= L
            else:
                r = mlperf.loadgen_server(
                    bench, config, target_qps=rate, target_latency_ms=L,
                    min_duration_ms=args.loadgen_min_duration_ms, min_query_count=args.queries, seed=seed,
                )
                row["loadgen_p99_ms"] = r.get("p99_latency_ms")
                row["loadgen_valid"] = bool(r["valid"])
                row["loadgen_p99_pass"] = r.get("p99_latency_ms") is not None and r["p99_latency_ms"] <= L
        rows.append(row)

    def highest(key: str) -> float | None:
        passing = [row["rate_qps"] for row in rows if row[key]]
        return max(passing) if passing else None

    out = {"rows": rows, "ours_max_qps": highest("ours_pass"),
           "loadgen_valid_max_qps": highest("loadgen_valid"),
           "loadgen_p99_max_qps": highest("loadgen_p99_pass")}
    for key in ("loadgen_valid_max_qps", "loadgen_p99_max_qps"):
        out[key.replace("_max_qps", "_over_ours")] = (
            round(out[key] / out["ours_max_qps"], 4) if out[key] and out["ours_max_qps"] else None
        )
    return out



def noise_probe_here() -> dict[str, float]:
    from engine.bench.stats import noise_probe

    return noise_probe()


def http_capacity(name: str, args, threads: int, *, start_qps: float, quick: bool, seed: int) -> dict[str, Any]:
    import numpy as np

    from engine.bench.http_load import ServerProcess, free_port, http_max_qps
    from engine.serving.http import encode_input

    port = free_port()
    module = "engine.serving.http" if name == "ours" else "engine.bench.litserve_app"
    cmd = ["-m", module, "--port", str(port), "--threads", str(threads),
           "--max-batch-size", str(args.http_max_batch_size),
           "--max-queue-delay-ms", str(args.http_max_queue_delay_ms)]
    rng = np.random.default_rng(1234)
    bodies = [encode_input(rng.standard_normal(512).astype(np.float32)) for _ in range(128)]
    env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    with ServerProcess(cmd, port, env=env):
        startup = time.perf_counter() - t0
        found = http_max_qps(
            port, bodies, args.http_budget_ms, start_qps=start_qps, seed=seed,
            seconds_per_step=0.5 if quick else 1.5, min_queries=100 if quick else 250,
            max_steps=4 if quick else 10,
        )
    best = found.get("result") or {}
    return {
        "max_qps": found["max_qps"], "confirmed": found["confirmed"], "p99_ms": found["p99_ms"],
        "queries_at_max": best.get("queries"), "short_run": best.get("short_run"),
        "startup_s": round(startup, 1), "steps": found["steps"], "noise": best.get("noise"),
    }


if __name__ == "__main__":
    sys.exit(main())
