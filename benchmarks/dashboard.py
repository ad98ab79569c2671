"""Throughput of the team dashboard with 200 designs against a bare Django view (issue 28, done-when 3).

    python benchmarks/dashboard.py --out benchmarks/results/dashboard

The method of benchmarks/page.py: gunicorn with production settings (DJANGO_DEBUG=0) on a fresh
database seeded with the demo, plus 200 designs in the demo team (each a copy of the demo design
with its own peak load, so each is its own engine computation; every other one pinned to the
checklist); logged in as the demo user; interleaved rounds of load on the bare view (GET
/accounts/login/, a small template page through the same middleware) and on each target; each
target checked once first (status 200 and the text it must show) and non-2xx answers counted, so
a refused run cannot pass for a fast one. The ratio is, as there, the median over the rounds of
(target req/s) / (bare req/s); done-when 3 reads "the dashboard renders within 0.3 x a bare view"
as that ratio being at least 0.3, the same reading page.py's table gives its "x bare view" column.

Load comes from wrk where it is installed (as page.py); else from benchmarks/httpload.c, built
here with the system C compiler: like wrk, C threads on a new connection per request (gunicorn's
sync workers close every connection), so the client leaves the CPU to the server. Before the
rounds, every worker is warmed (the first dashboard a worker serves runs the engine for all 200
designs; later ones read its memo): that first request's time is recorded on its own, as
`cold_first_request_ms`.

Writes ``<out>.json`` (every round, medians, settings, machine) and ``<out>.md`` (the table).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PY, ROOT, log, prepare_demo, start_gunicorn
from page import WRK_SCRIPT, check_target, login, machine, run_wrk, server_env

DESIGNS = 200
TARGETS = (
    # (name, path, htmx, the text it must show)
    ("dashboard", "/portfolio/", False, 'data-testid="portfolio-table"'),
    ("dashboard sorted by cost (htmx fragment)", "/portfolio/?sort=cost&desc=1", True, 'id="portfolio-results"'),
    ("consolidated report (JSON)", "/portfolio/report.json", False, '"format": "ai-design-review/portfolio-report"'),
)


def prepare_database(env: dict[str, str], database_url: str, designs: int) -> dict:
    prepare_demo(env, database_url)
    setup = f"""
import copy, json
import django
django.setup()
from reviewapp.checklists import services as checklists
from reviewapp.designs.models import Design
demo = Design.objects.get(name="Support assistant (RAG chat)")
peak = demo.inputs["requirements"]["peak_qps"]
made = []
for i in range({designs} - Design.objects.filter(team=demo.team).count()):
    inputs = copy.deepcopy(demo.inputs)
    inputs["requirements"]["peak_qps"] = round(peak * (1 + i / 50), 2)
    made.append(Design(team=demo.team, name=f"Portfolio design {{i:03d}}", description="benchmark copy",
                       created_by=demo.created_by, inputs=inputs))
made = Design.objects.bulk_create(made)
for design in made[::2]:
    checklists.review_for_design(design=design, user=demo.created_by)
print(json.dumps({{"designs": Design.objects.filter(team=demo.team).count()}}))
"""
    out = subprocess.run([PY, "-c", setup], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "reviewapp.settings"},
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_httpload(directory: Path) -> Path:
    """benchmarks/httpload.c compiled with the system C compiler (for machines without wrk)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("neither wrk nor a C compiler is installed: install wrk (apt-get install wrk)")
    binary = directory / "httpload"
    subprocess.run([compiler, "-O2", "-pthread", "-o", str(binary), str(ROOT / "benchmarks" / "httpload.c")],
                   check=True)
    return binary


def run_httpload(binary: Path, base: str, target: dict, cookie: str, *, duration_s: int, connections: int) -> dict:
    host, port = base.removeprefix("http://").split(":")
    headers = "".join(f"{k}: {v}\r\n" for k, v in {"Cookie": cookie, **target["headers"]}.items())
    with tempfile.NamedTemporaryFile("wb", suffix=".http", delete=False) as fh:
        fh.write(f"GET {target['path']} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n".encode())
    out = json.loads(subprocess.run([str(binary), host, port, str(duration_s), str(connections), fh.name],
                                    check=True, capture_output=True, text=True).stdout)
    Path(fh.name).unlink()
    latencies = sorted(out["latencies_ms"])

    def pct(p: float) -> float | None:  # nearest rank, as engine.bench
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, max(0, math.ceil(p / 100 * len(latencies)) - 1))], 1)

    return {"rps": out["requests"] / out["seconds"], "requests": out["requests"],
            "non_2xx": out["non_2xx"] + out["errors"], "p50_ms": pct(50), "p99_ms": pct(99)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/dashboard")
    p.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/reviewapp_dashboard_bench")
    p.add_argument("--designs", type=int, default=DESIGNS)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=8, help="seconds of load per target per round")
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    p.add_argument("--port", type=int, default=8766)
    p.add_argument("--client", choices=("auto", "wrk", "httpload"), default="auto")
    args = p.parse_args(argv)
    client = ("wrk" if shutil.which("wrk") else "httpload") if args.client == "auto" else args.client
    build_dir = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    httpload = build_httpload(build_dir) if client == "httpload" else None

    env = server_env(args.database_url)
    env["DATA_DIR"] = str(ROOT / "data" / "dashboard-bench")
    log("preparing a fresh database")
    prepared = prepare_database(env, args.database_url, args.designs)
    base = f"http://127.0.0.1:{args.port}"
    server = start_gunicorn(env, port=args.port, workers=args.workers, extra=("--timeout", "120"))
    try:
        session, csrf = login(base)
        cookie = f"sessionid={session}; csrftoken={csrf}"
        targets = [{"name": "bare view", "path": "/accounts/login/", "body": "", "headers": {},
                    "expect": 'name="username"'}]
        for name, path, htmx, expect in TARGETS:
            targets.append({"name": name, "path": path, "body": "", "headers": {"HX-Request": "true"} if htmx else {},
                            "expect": expect})
        started = time.perf_counter()
        check_target(base, targets[1], cookie)
        cold_ms = (time.perf_counter() - started) * 1000.0
        # Every worker computes the 200 assessments once (a request lands on whichever is free).
        for _ in range(args.workers * 4):
            check_target(base, targets[1], cookie)
        sizes = {t["name"]: check_target(base, t, cookie) for t in targets}
        log(f"targets answer 200 with their text; first dashboard {cold_ms:.0f} ms; bytes: {sizes}")
        lua = None
        if client == "wrk":
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                fh.write(WRK_SCRIPT)
                lua = Path(fh.name)
        rounds = []
        for r in range(args.rounds):
            order = targets[r % len(targets):] + targets[:r % len(targets)]  # rotate: drift hits every target alike
            row = {}
            for t in order:
                if client == "wrk":
                    row[t["name"]] = run_wrk(base, t, cookie, duration_s=args.duration, connections=args.connections,
                                             lua=lua)
                else:
                    row[t["name"]] = run_httpload(httpload, base, t, cookie, duration_s=args.duration,
                                                  connections=args.connections)
                got = row[t["name"]]
                log(f"round {r + 1} {t['name']}: {got['rps']:.1f} req/s, non-2xx {got['non_2xx']}")
            rounds.append(row)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(build_dir, ignore_errors=True)

    summary = {}
    for t in targets:
        name = t["name"]
        summary[name] = {
            "rps_median": round(statistics.median(row[name]["rps"] for row in rounds), 1),
            "ratio_to_bare_median": round(statistics.median(row[name]["rps"] / row["bare view"]["rps"]
                                                            for row in rounds), 3),
            "p50_ms_median": round(statistics.median(row[name]["p50_ms"] for row in rounds), 1),
            "p99_ms_median": round(statistics.median(row[name]["p99_ms"] for row in rounds), 1),
            "non_2xx_total": sum(row[name]["non_2xx"] for row in rounds),
            "html_bytes": sizes[name],
        }
    failed = [n for n, s in summary.items() if s["non_2xx_total"]]
    dashboard = summary[TARGETS[0][0]]["ratio_to_bare_median"]
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    result = {
        "command": "python benchmarks/dashboard.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {"designs": prepared["designs"], "rounds": args.rounds, "duration_s": args.duration,
                     "connections": args.connections, "gunicorn_workers": args.workers, "client": client,
                     "database": database},
        "machine": machine(),
        "cold_first_request_ms": round(cold_ms, 1),
        "summary": summary,
        "rounds": rounds,
        "target": {"ratio_to_bare_at_least": 0.3, "dashboard_ratio": dashboard, "met": dashboard >= 0.3},
        "valid": not failed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    m = result["machine"]
    lines = [f"# Team dashboard throughput ({m['date']}, commit {m['commit']})", "",
             f"`{result['command']}` — {prepared['designs']} designs in the team, {args.rounds} interleaved rounds of "
             f"{args.duration} s, {args.connections} connections ({client} client), gunicorn {args.workers} sync "
             f"workers, production settings, {database}; {m['cpu']}, {m['cores']} cores (shared).", "",
             "| target | req/s (median) | × bare view (median) | p50 ms | p99 ms | bytes | non-2xx |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in summary.items():
        lines.append(f"| {name} | {s['rps_median']} | {s['ratio_to_bare_median']} | {s['p50_ms_median']} | "
                     f"{s['p99_ms_median']} | {s['html_bytes']:,} | {s['non_2xx_total']} |")
    lines += ["", f"Target (issue 28): the dashboard at ≥ 0.3 × the bare view's req/s: "
                  f"{'met' if dashboard >= 0.3 else 'NOT met'} ({dashboard}). "
                  f"The first dashboard a fresh worker serves (the engine for every design): {cold_ms:.0f} ms."]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if failed:
        print(f"INVALID: non-2xx answers from {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
