"""Throughput of the design page and the typing preview against a bare Django view (issue 8).

    apt-get install wrk            # the load generator (C, so it leaves the CPU to the server)
    python benchmarks/page.py --out benchmarks/results/page

Starts gunicorn with production settings (DJANGO_DEBUG=0) on a fresh PostgreSQL database, seeds
the demo, adds a second design scored with a 200-item checklist, logs in as the demo user and
measures with wrk, interleaved, in one run: the bare view (GET /accounts/login/, a small Django
template page through the same middleware), the design page (GET) and the typing preview (the
htmx POST the form sends while you type) of both designs. Every target is checked once before
the load (status 200 and the text it must show) and wrk's non-2xx count is recorded, so a run in
which every request was refused cannot pass for a fast one.

Writes ``<out>.json`` (every round, medians, settings, machine) and ``<out>.md`` (the table).
Ratios are medians over the rounds of (target req/s) / (bare req/s).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from _common import PY, ROOT, git_commit, log, prepare_demo, start_gunicorn


def server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "page-benchmark-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # as behind a TLS proxy; the proxy is not what we measure
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "filesystem://"),
        "DATA_DIR": os.environ.get("DATA_DIR", str(ROOT / "data" / "page-bench")),
        "LOG_LEVEL": "WARNING",
    }


def prepare_database(env: dict[str, str], database_url: str) -> dict:
    """A fresh database with the demo and a 200-item-checklist copy of the demo design."""
    prepare_demo(env, database_url)
    setup = r"""
import json, sys
import django
django.setup()
sys.path.insert(0, "tests/reviewapp")
from checklist_fixtures import scaled_default
from reviewapp.checklists import services as checklists
from reviewapp.designs import services as designs
from reviewapp.designs.models import Design
demo = Design.objects.get(name="Support assistant (RAG chat)")
version = checklists.checklist_import(data=scaled_default(200), publish=True)
big = designs.design_create(team=demo.team, name="Demo with a 200-item checklist", description="",
                            user=demo.created_by, inputs=demo.inputs)
review = checklists.review_for_design(design=big, user=demo.created_by)
checklists.review_repin(review=review, version=version, user=demo.created_by)
checklists.review_for_design(design=demo, user=demo.created_by)
print(json.dumps({"demo": demo.pk, "big": big.pk, "items": version.sections.values("items").count()}))
"""
    out = subprocess.run([PY, "-c", setup], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "reviewapp.settings"},
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def preview_body(env: dict[str, str], pk: int, csrf: str) -> str:
    """The form data the browser posts while typing: the design's saved values, as the form has them."""
    code = f"""
import django, urllib.parse
django.setup()
from reviewapp.designs.document import form_data
from reviewapp.designs.models import Design
d = Design.objects.get(pk={pk})
print(urllib.parse.urlencode(form_data(d.inputs, revision=d.revision), doseq=True))
"""
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "reviewapp.settings"},
                         check=True, capture_output=True, text=True)
    return out.stdout.strip() + "&" + urllib.parse.urlencode({"csrfmiddlewaretoken": csrf})


def login(base: str) -> tuple[str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/accounts/login/").read()
    # Production cookies are Secure; this loopback client reads them anyway.
    cookies = {c.name: c.value for c in jar}
    body = urllib.parse.urlencode({"username": "demo", "password": "demo-review-2026",
                                   "csrfmiddlewaretoken": cookies["csrftoken"]}).encode()
    request = urllib.request.Request(base + "/accounts/login/", data=body,
                                     headers={"Cookie": f"csrftoken={cookies['csrftoken']}"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(request)
    except urllib.error.HTTPError as exc:  # the 302 after a successful login
        set_cookie = " ".join(exc.headers.get_all("Set-Cookie") or [])
        session = re.search(r"sessionid=([^;]+)", set_cookie)
        csrf = re.search(r"csrftoken=([^;]+)", set_cookie)
        if exc.code == 302 and session:
            return session.group(1), csrf.group(1) if csrf else cookies["csrftoken"]
    raise SystemExit("login as demo failed")


def check_target(base: str, target: dict, cookie: str) -> int:
    request = urllib.request.Request(base + target["path"], data=target["body"].encode() if target["body"] else None,
                                     headers={"Cookie": cookie, **target["headers"]})
    with urllib.request.urlopen(request) as response:
        html = response.read().decode()
        if response.status != 200 or target["expect"] not in html:
            raise SystemExit(f"{target['name']}: status {response.status}, expected text missing")
        return len(html)


# A preview posts what the user is typing, so every request of the whole run carries a different
# peak QPS (each wrk run has its own decimals: 101.01, 102.01, ..., then 101.02, ...): the server
# can answer no body from its memo of engine results and no rule that reads the peak from the
# findings memo; the rules that do not read what changed are answered from it, as while typing.
WRK_SCRIPT = """
wrk.method = os.getenv("WRK_METHOD")
wrk.body = os.getenv("WRK_BODY") ~= "" and os.getenv("WRK_BODY") or nil
local run = os.getenv("WRK_RUN")
local counter = 100
request = function()
  if wrk.body == nil then return wrk.format() end
  counter = counter + 1
  local body = string.gsub(wrk.body, "requirements%.peak_qps=[^&]*", "requirements.peak_qps=" .. counter .. "." .. run)
  return wrk.format(nil, nil, nil, body)
end
"""


_runs = 0


def run_wrk(base: str, target: dict, cookie: str, *, duration_s: int, connections: int, lua: Path) -> dict:
    headers = []
    for name, value in {"Cookie": cookie, **target["headers"]}.items():
        headers += ["-H", f"{name}: {value}"]
    global _runs
    _runs += 1
    env = {**os.environ, "WRK_METHOD": "POST" if target["body"] else "GET", "WRK_BODY": target["body"] or "",
           "WRK_RUN": f"{_runs:02d}"}
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency", "-s", str(lua),
                          *headers, base + target["path"]], env=env, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))

    def pct(p: str) -> float | None:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    return {"rps": rps, "requests": total, "non_2xx": int(bad.group(1)) if bad else 0,
            "p50_ms": pct("50"), "p99_ms": pct("99")}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import django

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "django": django.get_version(),
            "commit": git_commit(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/page")
    p.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/reviewapp_page_bench")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=8, help="seconds of load per target per round")
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    p.add_argument("--port", type=int, default=8765)
    args = p.parse_args(argv)

    env = server_env(args.database_url)
    log("preparing a fresh database")
    ids = prepare_database(env, args.database_url)
    base = f"http://127.0.0.1:{args.port}"
    server = start_gunicorn(env, port=args.port, workers=args.workers, wait_s=20.0)
    try:
        session, csrf = login(base)
        cookie = f"sessionid={session}; csrftoken={csrf}"
        htmx = {"HX-Request": "true", "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded"}
        targets = [{"name": "bare view", "path": "/accounts/login/", "body": "", "headers": {}, "expect": 'name="username"'}]
        for label, pk in (("demo", ids["demo"]), ("200 items", ids["big"])):
            targets.append({"name": f"design page ({label})", "path": f"/designs/{pk}/", "body": "", "headers": {},
                            "expect": "Checklist findings"})
            targets.append({"name": f"preview ({label})", "path": f"/designs/{pk}/inputs/preview/",
                            "body": preview_body(env, pk, csrf), "headers": htmx, "expect": "design-numbers"})
        sizes = {t["name"]: check_target(base, t, cookie) for t in targets}
        log(f"targets answer 200 with their text; bytes: {sizes}")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(WRK_SCRIPT)
            lua = Path(fh.name)
        rounds = []
        for r in range(args.rounds):
            order = targets[r % len(targets):] + targets[:r % len(targets)]  # rotate: drift hits every target alike
            row = {}
            for t in order:
                row[t["name"]] = run_wrk(base, t, cookie, duration_s=args.duration, connections=args.connections, lua=lua)
                log(f"round {r + 1} {t['name']}: {row[t['name']]['rps']:.1f} req/s, non-2xx {row[t['name']]['non_2xx']}")
            rounds.append(row)
    finally:
        server.terminate()
        server.wait(timeout=30)

    summary = {}
    for t in targets:
        name = t["name"]
        rps = [row[name]["rps"] for row in rounds]
        ratios = [row[name]["rps"] / row["bare view"]["rps"] for row in rounds]
        summary[name] = {
            "rps_median": round(statistics.median(rps), 1),
            "ratio_to_bare_median": round(statistics.median(ratios), 3),
            "p50_ms_median": round(statistics.median(row[name]["p50_ms"] for row in rounds), 1),
            "p99_ms_median": round(statistics.median(row[name]["p99_ms"] for row in rounds), 1),
            "non_2xx_total": sum(row[name]["non_2xx"] for row in rounds),
            "html_bytes": sizes[name],
        }
    failed = [n for n, s in summary.items() if s["non_2xx_total"]]
    result = {
        "command": "python benchmarks/page.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {"rounds": args.rounds, "duration_s": args.duration, "connections": args.connections,
                     "gunicorn_workers": args.workers, "wrk_threads": 1, "database": "PostgreSQL",
                     "checklist_items": {"demo": 89, "200 items": ids["items"]}},
        "machine": machine(),
        "summary": summary,
        "rounds": rounds,
        "valid": not failed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Design page throughput ({result['machine']['date']}, commit {result['machine']['commit']})", "",
             f"`{result['command']}` — {args.rounds} interleaved rounds of {args.duration} s, wrk {args.connections} "
             f"connections, gunicorn {args.workers} workers, production settings, PostgreSQL; "
             f"{result['machine']['cpu']}, {result['machine']['cores']} cores (shared).", "",
             "| target | req/s (median) | × bare view (median) | p50 ms | p99 ms | HTML bytes | non-2xx |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in summary.items():
        lines.append(f"| {name} | {s['rps_median']} | {s['ratio_to_bare_median']} | {s['p50_ms_median']} | "
                     f"{s['p99_ms_median']} | {s['html_bytes']:,} | {s['non_2xx_total']} |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if failed:
        print(f"INVALID: non-2xx answers from {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
