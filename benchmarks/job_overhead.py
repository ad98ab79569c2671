"""What running a benchmark as a job costs: the job's wall time through a real Celery worker
against calling `engine.bench.run` directly on the same spec (issue 9; target: within 5 %).

    python benchmarks/job_overhead.py --out benchmarks/results/job-overhead [--repeats 5]
    python benchmarks/job_overhead.py --design generative --out benchmarks/results/job-overhead-generative

`--design generative` (issue 26) benchmarks the demo design (the example design, a decoder LLM)
instead: its derived generative spec with the "quick" preset and GENERATIVE_REQUESTS requests (a
2 M-parameter decoder, all requests at once, a few seconds on CPU), through the same two paths.

Uses a scratch database and broker of its own (SQLite and the filesystem broker in a temporary
DATA_DIR, the embedded default; or DATABASE_URL / CELERY_BROKER_URL when set, e.g. PostgreSQL and
Redis), migrates it, creates a team, a user and a design whose model is a 200k-parameter MLP, and
starts one `celery worker -P solo -Q gpu` as the gpu-worker service runs. After one warm-up of
each (torch's import and first kernels), it alternates, ABBA per pair so that drift on a shared
machine cancels: a direct `engine.bench.run(spec)` in this process, and a job requested through
`services.benchmark_request` and watched in the database every 20 ms until it ends.

Job wall time = from the request (row written, task published) to the run observed ended: what a
person waits. Also recorded: the job's execution time in the worker (started_at to finished_at)
and the engine's own duration_s on both sides. Writes `<out>.json` (every repeat, medians,
settings, machine) and `<out>.md` (the table). Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, git_commit, log

sys.path.insert(0, str(ROOT))

# The design benchmarked: small enough for a CPU, the "design" preset (2,010 queries per server run).
INPUTS = {
    "requirements": {
        "workload_timing": "online", "model_family": "mlp", "model_params_billions": 0.0002, "model_dtype": "fp32",
        "sequence_length_tokens": 16, "latency_p50_ms": 5.0, "latency_p95_ms": 12.0, "latency_p99_ms": 15.0,
        "average_qps": 700.0, "peak_qps": 2000.0,
    },
    "architecture": {"batching_mode": "dynamic", "max_batch_size": 8, "max_batch_delay_ms": 1.0,
                     "gpu_type": "l4-24gb"},
}  # fmt: skip


# The generative run: the quick preset with more requests, so the engine runs for several seconds as a
# design's job does (at 256 requests, 1.7 s, the job's fixed ~0.1 s of queue pickup is 6 %).
GENERATIVE_REQUESTS = 1024


def start_worker(log_path: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "reviewapp", "worker", "-Q", "gpu", "-P", "solo",
               "-n", f"job-overhead-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
               "--without-heartbeat", "-l", "INFO"]
    log_file = open(log_path, "w")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=log_file,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="writes <out>.json and <out>.md")
    parser.add_argument("--repeats", type=int, default=6, help="pairs (direct, job); even: ABBA order")
    parser.add_argument("--design", choices=("mlp", "generative"), default="mlp",
                        help="mlp: a 200k-parameter MLP's capacity spec; generative: the demo LLM design, quick")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="job-overhead-"))
    os.environ.setdefault("DATA_DIR", str(scratch))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from engine.bench import run as bench_run
    from engine.bench.design_spec import spec_from_facts
    from reviewapp.accounts.models import Membership, Team
    from reviewapp.benchmarks import services
    from engine.design import example_design
    from reviewapp.benchmarks.models import BenchmarkRun
    from reviewapp.benchmarks.specs import build_spec
    from reviewapp.designs.models import Design
    from reviewapp.designs.selectors import design_assessment

    database = settings.DATABASES["default"]
    log(f"database {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}, broker {settings.CELERY_BROKER_URL}")
    call_command("migrate", verbosity=0)
    team, _ = Team.objects.get_or_create(slug="job-overhead", defaults={"name": "Job overhead"})
    user, _ = get_user_model().objects.get_or_create(username="job-overhead")
    Membership.objects.get_or_create(user=user, team=team, defaults={"role": "owner"})
    inputs = example_design() if args.design == "generative" else INPUTS
    design, _ = Design.objects.update_or_create(team=team, name=f"Job overhead ({args.design})",
                                                defaults={"inputs": inputs})
    derived = spec_from_facts(design_assessment(design).facts.tree)
    spec = {**derived.spec, "device": "cpu"}
    if args.design == "generative":
        spec = build_spec(spec, "quick", {"requests": GENERATIVE_REQUESTS})
    log(f"spec {json.dumps(spec)}")

    worker = start_worker(scratch / "worker.log")
    rows: list[dict] = []
    try:
        def direct() -> dict:
            started = time.perf_counter()
            result = bench_run(dict(spec))
            wall = time.perf_counter() - started
            assert result["status"] == "ok", result.get("error")
            return {"wall_s": wall, "engine_duration_s": result["duration_s"],
                    "overhead_s": wall - result["duration_s"]}

        def job() -> dict:
            started = time.perf_counter()
            run = services.benchmark_request(design=design, user=user, spec=dict(spec), shape_key=derived.shape_key)
            while True:
                run.refresh_from_db(fields=["status"])
                if run.status in BenchmarkRun.ENDED:
                    break
                if time.perf_counter() - started > 600:
                    raise SystemExit("a job took more than 10 minutes")
                time.sleep(0.02)
            wall = time.perf_counter() - started
            run.refresh_from_db()
            assert run.status == BenchmarkRun.Status.SUCCEEDED, run.reason
            return {"wall_s": wall, "execution_s": (run.finished_at - run.started_at).total_seconds(),
                    "queued_s": (run.started_at - run.created_at).total_seconds(),
                    "engine_duration_s": run.result["duration_s"], "overhead_s": wall - run.result["duration_s"],
                    "run_id": run.pk}

        log("warm-up: one direct run and one job")
        direct()
        job()
        for i in range(args.repeats):
            order = ("direct", "job") if i % 2 == 0 else ("job", "direct")
            for kind in order:
                row = {"repeat": i, "kind": kind, **(direct() if kind == "direct" else job())}
                rows.append(row)
                log(f"repeat {i} {kind}: {row['wall_s']:.2f} s")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in rows if r["kind"] == kind)

    direct_wall, job_wall = median("direct", "wall_s"), median("job", "wall_s")
    ratios = [j["wall_s"] / d["wall_s"] for d, j in zip(
        [r for r in rows if r["kind"] == "direct"], [r for r in rows if r["kind"] == "job"])]
    summary = {
        "direct_wall_s": round(direct_wall, 3),
        "job_wall_s": round(job_wall, 3),
        "job_execution_s": round(median("job", "execution_s"), 3),
        "job_queued_s": round(median("job", "queued_s"), 3),
        "direct_engine_duration_s": round(median("direct", "engine_duration_s"), 3),
        "job_engine_duration_s": round(median("job", "engine_duration_s"), 3),
        "direct_overhead_s": round(median("direct", "overhead_s"), 3),
        "job_overhead_s": round(median("job", "overhead_s"), 3),
        "job_overhead_pct_of_direct_wall": round(100 * median("job", "overhead_s") / direct_wall, 2),
        "ratio_of_medians": round(job_wall / direct_wall, 4),
        "median_of_pair_ratios": round(statistics.median(ratios), 4),
        "pair_ratios": [round(r, 4) for r in ratios],
        "within_5_percent": job_wall / direct_wall <= 1.05,
    }
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "commit": git_commit(),
        "command": "python benchmarks/job_overhead.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "database": database["ENGINE"].rsplit(".", 1)[-1],
        "broker": settings.CELERY_BROKER_URL.split("://")[0],
        "worker": "celery worker -P solo -Q gpu (one process, as the gpu-worker service)",
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version()},
        "design": args.design,
        "spec": spec,
        "repeats": args.repeats,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({**meta, "summary": summary, "rows": rows}, indent=2) + "\n")
    verdict = "within" if summary["within_5_percent"] else "NOT within"
    table = [
        f"# Benchmark job overhead ({meta['when']}, commit {meta['commit']})",
        "",
        f"`{meta['command']}` — {args.repeats} interleaved pairs (ABBA) after one warm-up of each; "
        f"{meta['database']} + {meta['broker']} broker, {meta['worker']}; "
        f"{meta['machine']['platform']}, {meta['machine']['cpu_count']} cores (shared). Spec: " + (
            f"the demo LLM design's generative spec, quick preset ({spec.get('requests')} requests at once to a "
            "2 M-parameter decoder, prompts and outputs a sixteenth of the design's) on CPU."
            if args.design == "generative" else
            f"the design's derived capacity spec (200k-parameter MLP, {spec.get('queries')} queries per server run) "
            "on CPU."),
        "",
        "| measure | median |",
        "|---|---:|",
        f"| direct `engine.bench.run` wall time | {summary['direct_wall_s']:.2f} s |",
        f"| job wall time (request to ended, seen in the database) | {summary['job_wall_s']:.2f} s |",
        f"| job: waiting for the worker (created to started) | {summary['job_queued_s']:.2f} s |",
        f"| job: execution in the worker (started to finished) | {summary['job_execution_s']:.2f} s |",
        f"| engine's own duration_s, direct / job | {summary['direct_engine_duration_s']:.2f} / "
        f"{summary['job_engine_duration_s']:.2f} s |",
        f"| wall time minus the engine's duration_s, direct / job | {summary['direct_overhead_s']:.3f} / "
        f"{summary['job_overhead_s']:.3f} s ({summary['job_overhead_pct_of_direct_wall']:.1f} % of the direct wall) |",
        f"| **job / direct (ratio of medians)** | **{summary['ratio_of_medians']:.3f}** |",
        f"| job / direct (median of the pairs' ratios) | {summary['median_of_pair_ratios']:.3f} |",
        "",
        f"Target: the job within 5 % of the direct call — {verdict} "
        f"(pair ratios: {', '.join(f'{r:.3f}' for r in ratios)}).",
        "",
        "The engine's own run length varies from run to run (the max-QPS search takes more or fewer steps as "
        "noise moves each probe's p99), so the pair ratios scatter both ways; the job's own cost is the wall "
        "time minus the engine's duration_s: the wait for the worker, torch-free bookkeeping and the database "
        "writes.",
        "",
    ]
    args.out.with_suffix(".md").write_text("\n".join(table))
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
