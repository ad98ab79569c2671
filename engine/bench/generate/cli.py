"""``python -m engine.bench generate {offline,server,max-qps} ...``: prints a table and writes the
full result as JSON (``--out``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.bench.generate.run import GENERATE_SCENARIOS, run_generate


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.bench generate", description=__doc__)
    p.add_argument("scenario", choices=GENERATE_SCENARIOS)
    p.add_argument("--params", type=int, help="a Llama-layout decoder of about this many parameters")
    p.add_argument("--vocab-size", type=int, default=256)
    for name in ("layers", "d-model", "heads", "kv-heads", "head-dim", "ffn-dim", "max-position"):
        p.add_argument(f"--{name}", type=int, help="explicit shape (instead of --params)")
    p.add_argument("--dtype", default="fp32", choices=("fp32", "bf16", "fp16"))
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int)
    p.add_argument("--input-len-dist", default="uniform:8-64",
                   help="fixed:N | uniform:LO-HI | lognormal:MEDIAN,SIGMA,LO-HI")
    p.add_argument("--output-len-dist", default="uniform:8-64")
    p.add_argument("--rate", type=float, help="requests/s (server; max-qps: where the search starts)")
    p.add_argument("--burstiness", type=float, default=1.0, help="gamma shape of the gaps; 1 = Poisson")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--block-size", type=int, default=16)
    pool = p.add_mutually_exclusive_group()
    pool.add_argument("--num-blocks", type=int)
    pool.add_argument("--kv-budget-mb", type=float)
    p.add_argument("--max-num-seqs", type=int, default=64)
    p.add_argument("--max-num-batched-tokens", type=int, default=512)
    p.add_argument("--ttft-slo-ms", type=float, help="default: scaled to the model measured")
    p.add_argument("--tpot-slo-ms", type=float, help="default: scaled to the model measured")
    p.add_argument("--static-batch-size", type=int, help="run the static-batching baseline instead")
    p.add_argument("--max-drain-s", type=float, default=60.0,
                   help="a run is cut this long after its last scheduled arrival")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="write the JSON result here")
    p.add_argument("--quiet", action="store_true")
    return p


def spec_from_args(args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scenario": args.scenario, "dtype": args.dtype, "device": args.device, "threads": args.threads,
        "input_len_dist": args.input_len_dist, "output_len_dist": args.output_len_dist,
        "requests": args.requests, "burstiness": args.burstiness, "seed": args.seed,
        "block_size": args.block_size, "max_num_seqs": args.max_num_seqs,
        "max_num_batched_tokens": args.max_num_batched_tokens, "max_drain_s": args.max_drain_s,
    }
    for name in ("rate", "num_blocks", "kv_budget_mb", "ttft_slo_ms", "tpot_slo_ms", "static_batch_size"):
        if getattr(args, name) is not None:
            spec[name] = getattr(args, name)
    explicit = {k: getattr(args, k) for k in ("layers", "d_model", "heads", "kv_heads", "head_dim", "ffn_dim",
                                              "max_position")
                if getattr(args, k) is not None}
    if explicit:
        if args.params is not None:
            raise ValueError("give --params or an explicit shape, not both")
        spec["shape"] = {"vocab_size": args.vocab_size, **explicit}
    else:
        spec["params"] = args.params if args.params is not None else 2_000_000
        spec["vocab_size"] = args.vocab_size
    return spec


def _ms(summary: dict[str, Any] | None, key: str) -> str:
    v = (summary or {}).get(key)
    return "-" if v is None else f"{v:.2f}"


def render_table(result: dict[str, Any]) -> str:
    w = result.get("workload") or {}
    prov = result["provenance"]
    lines = [
        f"scenario {result['scenario']}  status {result['status']}  device {prov.get('device_name')}  "
        f"torch {prov.get('torch_version')}  dtype {w.get('dtype')}  threads {result['settings'].get('threads')}",
    ]
    if w:
        lines.append(f"decoder layers {w['layers']} d_model {w['d_model']} heads {w['heads']}/{w['kv_heads']} "
                     f"ffn {w['ffn_dim']} vocab {w['vocab_size']}  params {w['param_count']:,}")
    wl = result["settings"].get("workload")
    if wl:
        lines.append(f"workload {wl['requests']} requests, {wl['arrivals']}, input {wl['input_len_dist']}, "
                     f"output {wl['output_len_dist']}")
    slo = result.get("slo")
    if slo:
        lines.append(f"SLOs TTFT {slo['ttft_slo_ms']} ms ({slo['ttft_rule']}), TPOT {slo['tpot_slo_ms']} ms "
                     f"({slo['tpot_rule']})")
    m = result.get("metrics")
    if m:
        lines.append(f"{'metric':<6} {'p50_ms':>9} {'p90_ms':>9} {'p99_ms':>9} {'mean_ms':>9}")
        for key in ("ttft", "tpot", "itl", "e2el"):
            s = m[key]
            lines.append(f"{key.upper():<6} {_ms(s, 'p50_ms'):>9} {_ms(s, 'p90_ms'):>9} {_ms(s, 'p99_ms'):>9} "
                         f"{_ms(s, 'mean_ms'):>9}")
        lines.append(f"completed {m['completed']}/{m['requests']}  output tokens/s {m['output_tokens_per_s']}  "
                     f"requests/s {m['request_throughput_rps']}  goodput {m['goodput_rps']} requests/s  "
                     f"SLOs met (p99) {m['slo_met']}")
    if result.get("max_rate_rps") is not None:
        lines.append(f"max rate with TTFT p99 and TPOT p99 within SLO: {result['max_rate_rps']} requests/s "
                     f"(confirmed {result['search']['confirmed']})")
    from engine.bench.__main__ import footer_lines

    return "\n".join(lines + footer_lines(result))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        spec = spec_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))

    def progress(event: dict[str, Any]) -> None:
        if not args.quiet and "message" in event:
            print(f"[{event.get('stage')}] {event['message']}", file=sys.stderr, flush=True)

    try:
        result = run_generate(spec, progress=progress)
    except ValueError as exc:
        parser.error(str(exc))
    text = json.dumps(result, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(render_table(result))
    return 0 if result["status"] == "ok" else 1
