"""``python -m engine.bench {offline,server,max-qps,overload,sweep,capacity} ...``
``python -m engine.bench generate {offline,server,max-qps} ...`` (the generative core: TTFT,
TPOT, goodput; ``python -m engine.bench generate --help``)

Prints a readable table and writes the full result as JSON (``--out``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.bench.api import SCENARIOS, run


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _float_list(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.bench", description=__doc__)
    p.add_argument("scenario", choices=SCENARIOS)
    p.add_argument("--workload", default="reference-mlp",
                   help="reference-mlp | bert-base | noop | mlp | transformer")
    p.add_argument("--params", type=int, help="approximate a model with this many parameters")
    p.add_argument("--dtype", default="fp32", choices=("fp32", "bf16", "fp16", "int8"))
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--hidden-dims", type=_int_list, help="mlp: e.g. 2048,2048,2048")
    p.add_argument("--input-dim", type=int)
    p.add_argument("--output-dim", type=int)
    p.add_argument("--layers", type=int)
    p.add_argument("--d-model", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--ffn-dim", type=int)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--max-batch-size", type=int, default=64)
    p.add_argument("--max-queue-delay-ms", type=float, default=0.0)
    p.add_argument("--preferred-batch-sizes", type=_int_list)
    p.add_argument("--max-queue-size", type=int)
    p.add_argument("--num-slots", type=int)
    p.add_argument("--p99-budget-ms", type=float, help="L; default 10 x s(1)")
    p.add_argument("--rate", type=float, help="target QPS for the server run")
    p.add_argument("--queries", type=int, default=2010)
    p.add_argument("--run-budgets", type=float, default=20.0,
                   help="capacity runs last at least this many p99 budgets")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-sizes", type=_int_list, help="offline batch sizes")
    p.add_argument("--min-time-s", type=float, default=0.3, help="offline time per batch size")
    p.add_argument("--overload-factor", type=float, default=2.0)
    p.add_argument("--sweep-batch-sizes", type=_int_list, default=[8, 32, 64])
    p.add_argument("--sweep-delays-ms", type=_float_list, default=[0.0, 2.0])
    p.add_argument("--cuda-graph-batch-sizes", type=_int_list)
    p.add_argument("--out", type=Path, help="write the JSON result here")
    p.add_argument("--quiet", action="store_true")
    return p


def spec_from_args(args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scenario": args.scenario,
        "device": args.device,
        "threads": args.threads,
        "queries": args.queries,
        "run_budgets": args.run_budgets,
        "seed": args.seed,
        "offline_min_time_s": args.min_time_s,
        "overload_factor": args.overload_factor,
        "sweep": {"max_batch_sizes": args.sweep_batch_sizes, "max_queue_delays_ms": args.sweep_delays_ms},
    }
    batcher: dict[str, Any] = {
        "max_batch_size": args.max_batch_size, "max_queue_delay_ms": args.max_queue_delay_ms,
    }
    for name in ("preferred_batch_sizes", "max_queue_size", "num_slots"):
        if getattr(args, name) is not None:
            batcher[name] = getattr(args, name)
    spec["batcher"] = batcher
    if args.p99_budget_ms is not None:
        spec["latency_p99_budget_ms"] = args.p99_budget_ms
    if args.rate is not None:
        spec["target_qps"] = args.rate
    if args.batch_sizes:
        spec["offline_batch_sizes"] = args.batch_sizes
    if args.cuda_graph_batch_sizes:
        spec["cuda_graph_batch_sizes"] = args.cuda_graph_batch_sizes
    if args.params is not None:
        family = "mlp" if args.workload in ("mlp", "reference-mlp") else "transformer"
        spec["model"] = {"params": args.params, "family": family, "dtype": args.dtype, "seq_len": args.seq_len}
    elif args.workload in ("mlp", "transformer"):
        w: dict[str, Any] = {"family": args.workload, "dtype": args.dtype, "seq_len": args.seq_len}
        for name in ("hidden_dims", "input_dim", "output_dim", "layers", "d_model", "heads", "ffn_dim"):
            if getattr(args, name) is not None:
                w[name] = getattr(args, name)
        spec["workload"] = w
    elif args.workload == "reference-mlp" and args.dtype != "fp32":
        spec["workload"] = {"family": "mlp", "dtype": args.dtype}
    elif args.workload == "bert-base" and args.dtype != "fp32":
        spec["workload"] = {"family": "transformer", "dtype": args.dtype, "layers": 12, "d_model": 768,
                            "heads": 12, "ffn_dim": 3072, "seq_len": args.seq_len}
    else:
        spec["preset"] = args.workload
    return spec


def render_table(result: dict[str, Any]) -> str:
    lines = [
        f"scenario {result['scenario']}  status {result['status']}  "
        f"device {result['provenance'].get('device_name')}  torch {result['provenance'].get('torch_version')}  "
        f"dtype {result['workload']['dtype']}  threads {result['settings']['threads']}",
        f"workload {result['workload']['family']}  params {result['workload']['param_count']:,}  "
        f"batcher max_batch_size={result['settings']['batcher']['max_batch_size']} "
        f"max_queue_delay_ms={result['settings']['batcher']['max_queue_delay_ms']}",
    ]
    off = result.get("offline")
    if off:
        lines.append(f"{'batch':>6} {'batch_ms':>10} {'qps':>10}")
        for r in off["batch_sizes"]:
            lines.append(f"{r['batch_size']:>6} {r['batch_time_ms']:>10.3f} {r['throughput_qps']:>10.1f}")
        fit = off["fit"]
        lines.append(f"s(b) = {fit['intercept_ms']:.3f} ms + {fit['per_item_ms']:.4f} ms x b  (r2 {fit['r2']})")
    for key, label in (
        ("latency_p99_budget_ms", "p99 budget L (ms)"),
        ("max_qps_at_p99", "max QPS at p99 <= L"),
        ("max_qps_confirmed", "confirmed"),
        ("target_qps", "tested rate (QPS)"),
        ("p50_ms", "p50 at tested rate (ms)"),
        ("p99_ms", "p99 at tested rate (ms)"),
    ):
        if result.get(key) is not None:
            lines.append(f"{label:<28} {result[key]}")
    ov = result.get("overload")
    if ov:
        lines.append(
            f"overload x{ov['factor']}: goodput {ov['goodput_qps']} QPS ({ov['goodput_over_capacity']} x capacity), "
            f"admitted p99 {ov['admitted_p99_ms']} ms, rejected {ov['rejected']}, timed out {ov['timed_out']}, "
            f"executed after deadline {ov['executed_after_deadline']}"
        )
    sw = result.get("sweep")
    if sw:
        lines.append(f"{'max_batch':>9} {'delay_ms':>9} {'max_qps':>10} {'p99_ms':>9}")
        for r in sw["grid"]:
            lines.append(f"{r['max_batch_size']:>9} {r['max_queue_delay_ms']:>9} {r['max_qps']:>10} {r['p99_ms']!s:>9}")
        lines.append(f"recommendation: {sw['recommendation']}")
    return "\n".join(lines + footer_lines(result))


def footer_lines(result: dict[str, Any]) -> list[str]:
    """The error and the first line of each note, for the end of a printed table."""
    lines = [f"error: {result['error']}"] if result.get("error") else []
    return lines + [f"note: {note.splitlines()[0] if note else ''}" for note in result.get("notes", [])]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["generate"]:
        from engine.bench.generate.cli import main as generate_main

        return generate_main(argv[1:])
    args = build_parser().parse_args(argv)
    spec = spec_from_args(args)

    def progress(event: dict[str, Any]) -> None:
        if not args.quiet and "message" in event:
            print(f"[{event.get('stage')}] {event['message']}", file=sys.stderr, flush=True)

    result = run(spec, progress=progress)
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(render_table(result))
    return 0 if result["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
