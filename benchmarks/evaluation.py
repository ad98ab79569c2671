"""What one checklist evaluation costs while someone types: the default checklist (and a copy grown
to 200 items) evaluated over facts that differ in one input per call (the peak QPS, as the typing
preview posts it), with the findings memo (each item answered from the memo unless a fact its rules
read changed) against the same evaluation with the memo emptied before every call. No Django (the
200-item copy is the tests' `scaled_default`, as benchmarks/page.py grows it).

    python benchmarks/evaluation.py [--calls 300] [--out benchmarks/results/evaluation]

Prints medians in microseconds, interleaved call by call so the machine's drift hits both alike,
and the memo's hits and misses per call; --out writes .json and .md with the settings and hardware.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reviewapp"))

from _common import git_commit, log  # noqa: E402
from checklist_fixtures import scaled_default  # noqa: E402

from engine import design as design_module  # noqa: E402
from engine import facts as facts_module  # noqa: E402
from engine.checklist import compile_checklist, default_checklist, load_checklist  # noqa: E402
from engine.checklist.evaluation import evaluate  # noqa: E402
from engine.checklist.memo import FindingMemo  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    inputs = design_module.example_design()
    trees = []
    for i in range(args.calls + 1):
        inputs["requirements"]["peak_qps"] = 100 + i
        trees.append(facts_module.build_facts(inputs).tree)
    checklists = {"default": default_checklist(), "200 items": load_checklist(scaled_default(200))}
    results = {}
    for name, checklist in checklists.items():
        warm, cold = compile_checklist(checklist), compile_checklist(checklist)
        evaluate(warm, trees[0])
        times = {"with the memo": [], "memo emptied each call": []}
        hits = misses = 0
        for tree in trees[1:]:
            before = (warm.memo.hits, warm.memo.misses)
            started = time.perf_counter()
            with_memo = evaluate(warm, tree)
            times["with the memo"].append((time.perf_counter() - started) * 1e6)
            hits += warm.memo.hits - before[0]
            misses += warm.memo.misses - before[1]
            object.__setattr__(cold, "memo", FindingMemo())
            started = time.perf_counter()
            without = evaluate(cold, tree)
            times["memo emptied each call"].append((time.perf_counter() - started) * 1e6)
            if with_memo != without:
                raise SystemExit(f"{name}: the memo changed a result")
        results[name] = {
            "items": len(warm.items),
            "median_us": {k: round(statistics.median(v), 1) for k, v in times.items()},
            "memo_hits_per_call": round(hits / args.calls, 1),
            "memo_misses_per_call": round(misses / args.calls, 1),
        }
        log(f"{name}: {results[name]}")
    report = {
        "command": "python benchmarks/evaluation.py " + " ".join(sys.argv[1:]),
        "commit": git_commit(),
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "calls": args.calls,
        "results": results,
    }
    lines = [f"# Checklist evaluation while typing ({report['measured_at']}, commit {report['commit']})", "",
             f"`{report['command']}` — {report['machine']}; {args.calls} calls, each on facts with another peak QPS, "
             "interleaved; every result checked equal with and without the memo.", "",
             "| checklist | items | with the memo µs | memo emptied each call µs | ratio | memo hits / misses per call |",
             "|---|---:|---:|---:|---:|---|"]
    for name, r in results.items():
        warm, cold = r["median_us"]["with the memo"], r["median_us"]["memo emptied each call"]
        lines.append(f"| {name} | {r['items']} | {warm} | {cold} | {warm / cold:.2f} | "
                     f"{r['memo_hits_per_call']} / {r['memo_misses_per_call']} |")
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
        args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
