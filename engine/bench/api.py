"""The plain-data entry point: ``run(spec, progress=..., should_cancel=...) -> dict``.

This is what a job runner (the web app's Celery task) calls. ``spec`` is a JSON-able dict; the
result is a JSON-able dict. Nothing here imports Django or Celery.

spec keys (all optional)::

    scenario                "capacity" (default): offline s(b) fit, max QPS at the p99 budget,
                            and a server run at target_qps; or one of "offline", "server",
                            "max-qps", "overload", "sweep"
    workload                WorkloadSpec fields, e.g. {"family": "mlp", "hidden_dims": [2048]*3}
    model                   or a user's model description to approximate:
                            {"params": 110_000_000, "family": "transformer"|"mlp",
                             "dtype": "fp32"|"bf16"|"fp16"|"int8", "seq_len": 128}
    preset                  or "reference-mlp" | "bert-base" | "noop"
    device                  "auto" (CUDA when present) | "cpu" | "cuda"
    threads                 CPU intra-op threads (default: cores - 1)
    batcher                 BatcherConfig fields: max_batch_size, max_queue_delay_ms,
                            preferred_batch_sizes, max_queue_size, num_slots
    latency_p99_budget_ms   L; default 10 x s(1) measured
    target_qps              the rate to test (a design's peak QPS); default 0.5 x capacity
    queries                 measured queries per server run (default 2010; fewer is marked short)
    run_budgets             a capacity run also lasts at least this many p99 budgets (default 20:
                            a run much shorter than the budget is a burst that any server absorbs)
    seed                    arrival schedules and inputs (default 0)
    offline_batch_sizes     default 1, 2, 4, ... up to max_batch_size
    offline_min_time_s      per batch size (default 0.3)
    overload_factor         default 2.0
    sweep                   {"max_batch_sizes": [...], "max_queue_delays_ms": [...]}
    cuda_graph_batch_sizes  CUDA only: capture graphs for these batch sizes

    or a generative scenario: "generate-offline" | "generate-server" | "generate-max-qps",
    whose keys are ``engine.bench.generate.run``'s (TTFT, TPOT, goodput, max rate at both SLOs)

Result keys (always present; None when the scenario did not measure them)::

    status                  "ok" | "cancelled" | "failed"; error: message when failed
    scenario, workload, settings, provenance, seed, started_at, duration_s, notes
    latency_p99_budget_ms   L used
    max_qps_at_p99          highest Poisson rate whose p99 <= L (confirmed by a second run)
    max_qps_confirmed       whether the confirming run passed
    target_qps, p99_ms, p50_ms, p99_valid   the server run at target_qps
    batch_time_fit          {"intercept_ms", "per_item_ms", "r2"}: s(b) = a + c*b
    offline_max_qps         best offline throughput measured
    offline, search, server, overload, sweep    the detailed sections
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

from engine.bench.search import Cancelled

# The spec's vocabulary is spec_vocab's (re-exported here); run() checks a spec with spec_check.
from engine.bench.spec_vocab import BATCHER_FIELDS, GENERATIVE_SCENARIOS, PRESETS, SCENARIOS
from engine.bench.stats import MIN_QUERIES_FOR_P99, BenchResult, host_provenance, utc_now
from engine.bench.threads import pin_threads

RESULT_KEYS = (
    "latency_p99_budget_ms", "max_qps_at_p99", "max_qps_confirmed", "target_qps", "p99_ms",
    "p50_ms", "p99_valid", "batch_time_fit", "offline_max_qps", "offline", "search", "server",
    "overload", "sweep",
)


class _Cancelled(Exception):
    pass


def workload_from_spec(spec: dict[str, Any]):
    from engine.serving.workloads import WorkloadSpec, bert_base, from_description, reference_mlp

    given = [k for k in ("workload", "model", "preset") if spec.get(k) is not None]
    if len(given) > 1:
        raise ValueError("give only one of workload, model, preset")
    if "model" in given:  # checked by validate_spec (fields, params, limits)
        m = dict(spec["model"])
        m["params"] = int(m["params"])
        return from_description(**m)
    if "workload" in given:
        return WorkloadSpec.from_dict(dict(spec["workload"]))
    preset = spec.get("preset") or "reference-mlp"
    if preset == "reference-mlp":
        return reference_mlp()
    if preset == "bert-base":
        return bert_base()
    if preset == "noop":
        return WorkloadSpec(family="noop")
    raise ValueError(f"preset must be one of {PRESETS}")


def batcher_from_spec(spec: dict[str, Any]):
    from engine.serving.policy import BatcherConfig

    given = dict(spec.get("batcher") or {})
    unknown = set(given) - set(BATCHER_FIELDS)
    if unknown:
        raise ValueError(f"unknown batcher fields: {sorted(unknown)}")
    if "preferred_batch_sizes" in given:
        given["preferred_batch_sizes"] = tuple(given["preferred_batch_sizes"])
    given.setdefault("max_batch_size", 64)
    given.setdefault("max_queue_delay_ms", 0.0)
    return BatcherConfig(**given)


def run(
    spec: dict[str, Any],
    progress: Callable[[dict[str, Any]], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Run one benchmark described by ``spec``; see the module docstring for keys.

    Blocking. Called from a thread whose event loop is running (an async caller, a
    test under Playwright), it runs in a thread of its own, since the core needs
    an event loop of its own.

    Raises ValueError naming every field `validate_spec` refuses (unknown keys, wrong types,
    values outside `engine.bench.spec_vocab`'s limits): the one check, shared with the app.
    """
    from engine.bench.spec_check import validate_spec

    _, errors = validate_spec(spec)
    if errors:
        raise ValueError("invalid benchmark spec: " + "; ".join(f"{k}: {v}" for k, v in sorted(errors.items())))
    if spec.get("scenario") in GENERATIVE_SCENARIOS:
        from engine.bench.generate.run import run_generate

        return run_generate({**spec, "scenario": spec["scenario"][len("generate-"):]}, progress, should_cancel)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run(spec, progress, should_cancel)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bench") as pool:
        return pool.submit(_run, spec, progress, should_cancel).result()


def _run(
    spec: dict[str, Any],
    progress: Callable[[dict[str, Any]], None] | None,
    should_cancel: Callable[[], bool] | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    started_at = utc_now()
    scenario = spec.get("scenario", "capacity")
    threads = pin_threads(spec.get("threads"))
    workload = workload_from_spec(spec)
    config = batcher_from_spec(spec)
    seed = int(spec.get("seed", 0))
    queries = int(spec.get("queries", MIN_QUERIES_FOR_P99))
    run_budgets = float(spec.get("run_budgets", 20))
    out: dict[str, Any] = dict.fromkeys(RESULT_KEYS)
    notes: list[str] = []
    if queries < MIN_QUERIES_FOR_P99:
        notes.append(f"short runs: {queries} queries < {MIN_QUERIES_FOR_P99} needed for a p99 claim")
    status, error = "ok", None

    def report(event: dict[str, Any]) -> None:
        if progress is not None:
            progress(event)
        if should_cancel is not None and should_cancel():
            raise _Cancelled()

    def cancel_flag() -> bool:
        return should_cancel is not None and bool(should_cancel())

    provenance = host_provenance()
    settings = {
        "batcher": _config_dict(config),
        "device": spec.get("device", "auto"),
        "threads": threads,
        "queries": queries,
        "run_budgets": run_budgets,
    }
    try:
        from engine.bench import scenarios as sc

        report({"stage": "setup", "fraction": 0.0, "message": "building the model"})
        bench = sc.make_bench(
            workload, device=spec.get("device", "auto"), threads=threads,
            max_batch_size=max(config.max_batch_size, *(spec.get("offline_batch_sizes") or [1])),
            cuda_graph_batch_sizes=spec.get("cuda_graph_batch_sizes") or (),
        )
        if workload.family != "noop":
            from engine.serving.runner import provenance as torch_provenance

            provenance.update(torch_provenance(bench.runner.device))
        settings["device"] = bench.device
        sizes = spec.get("offline_batch_sizes") or _powers_of_two(config.max_batch_size)
        report({"stage": "offline", "fraction": 0.05, "message": "offline batch times"})
        off = sc.offline(
            bench, sizes, min_time_s=float(spec.get("offline_min_time_s", 0.3)),
            should_cancel=cancel_flag, progress=progress,
        )
        out["offline"] = off
        out["batch_time_fit"] = off["fit"]
        out["offline_max_qps"] = max(r["throughput_qps"] for r in off["batch_sizes"])
        s1 = off["batch_sizes"][0]["batch_time_ms"]
        budget = spec.get("latency_p99_budget_ms")
        budget = float(budget) if budget is not None else round(10.0 * s1, 3)
        if not budget > 0:
            raise ValueError("latency_p99_budget_ms must be > 0")
        out["latency_p99_budget_ms"] = budget
        estimate = sc.estimate_capacity_qps(off["fit"], config.max_batch_size)

        capacity = None
        if scenario in ("capacity", "max-qps", "overload"):
            report({"stage": "max-qps", "fraction": 0.2, "message": f"searching max QPS at p99 <= {budget} ms"})
            search = sc.max_qps(
                bench, config, budget, start_qps=0.5 * estimate, queries=queries, seed=seed,
                run_budgets=run_budgets, should_cancel=cancel_flag, progress=progress,
            )
            search["result"] = _slim_run(search.get("result"))
            out["search"] = search
            out["max_qps_at_p99"] = capacity = search["max_qps"]
            out["max_qps_confirmed"] = search["confirmed"]
        if scenario in ("capacity", "server"):
            target = spec.get("target_qps")
            target = float(target) if target is not None else 0.5 * (capacity or estimate)
            report({"stage": "server", "fraction": 0.8, "message": f"server run at {target:.0f} QPS"})
            srv = sc.server(bench, config, target, queries=queries, seed=seed, should_cancel=cancel_flag)
            out["server"] = _slim_run(srv)
            out["target_qps"] = round(target, 2)
            out["p99_ms"] = srv["p99_all_ms"]
            out["p50_ms"] = srv["latency_ms"]["p50_ms"]
            out["p99_valid"] = srv["valid"] and not srv["short_run"]
        if scenario == "overload":
            report({"stage": "overload", "fraction": 0.85, "message": "overload run"})
            ov = sc.overload(
                bench, config, sc.shedding_fit(off), capacity or estimate, budget,
                factor=float(spec.get("overload_factor", 2.0)), queries=queries, seed=seed,
                measured_ms=sc.measured_points(off),
                should_cancel=cancel_flag,
            )
            ov["run"] = _slim_run(ov["run"])
            out["overload"] = ov
        if scenario == "sweep":
            grid = spec.get("sweep") or {}
            sw = sc.sweep(
                bench, config, off["fit"], budget,
                max_batch_sizes=grid.get("max_batch_sizes", [8, 32, config.max_batch_size]),
                max_queue_delays_ms=grid.get("max_queue_delays_ms", [0.0, 2.0]),
                queries=queries, seed=seed, run_budgets=run_budgets, should_cancel=cancel_flag,
                progress=progress,
            )
            out["sweep"] = sw
            if sw["recommendation"] is not None:
                out["max_qps_at_p99"] = sw["recommendation"]["max_qps"]
                out["max_qps_confirmed"] = sw["recommendation"]["confirmed"]
        report({"stage": "done", "fraction": 1.0, "message": "done"})
    except (_Cancelled, Cancelled):
        status = "cancelled"
    except (ValueError, RuntimeError) as exc:
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        notes.append(traceback.format_exc(limit=3))

    result = BenchResult(
        scenario=scenario,
        workload=workload.to_dict(),
        settings=settings,
        provenance=provenance,
        seed=seed,
        started_at=started_at,
        duration_s=round(time.perf_counter() - started, 3),
        data=out,
        notes=notes,
    ).to_dict()
    data = result.pop("data")
    result.update(data)
    result["status"] = status
    result["error"] = error
    return result


def _powers_of_two(limit: int) -> list[int]:
    sizes, b = [], 1
    while b < limit:
        sizes.append(b)
        b *= 2
    sizes.append(limit)
    return sizes


def _config_dict(config) -> dict[str, Any]:
    d = {f.name: getattr(config, f.name) for f in fields(config)}
    if d.get("batch_time_model") is not None:
        d["batch_time_model"] = asdict(d["batch_time_model"])
    d["preferred_batch_sizes"] = list(d["preferred_batch_sizes"])
    return d


def _slim_run(run: dict[str, Any] | None) -> dict[str, Any] | None:
    """A server run without bulky per-size histograms (results stay small)."""
    if run is None:
        return None
    slim = dict(run)
    core = dict(slim.get("core") or {})
    core.pop("batch_size_counts", None)
    slim["core"] = core
    return slim
