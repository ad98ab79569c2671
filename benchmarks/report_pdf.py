"""P6: what a full PDF report costs against WeasyPrint alone (issue 11; target: at most 1.5 x).

    python benchmarks/report_pdf.py --out benchmarks/results/report-pdf [--repeats 7]

Uses a scratch SQLite database in a temporary DATA_DIR: migrates it, loads the GPU prices, the demo
team and design and the default checklist, adds a benchmark run in force (the tests' recorded tiny
result, so the report carries the three benchmark charts as well as the latency and cost ones) and
freezes milestone M1. Then:

- full: `reviewapp.reports.render.render_pdf(milestone_source(...))`, exactly what the job runs:
  the report context from the snapshot, the charts drawn as SVG by kaleido in the process's one
  Chromium (warm: started by a first, unmeasured render, as a worker's is after its first report),
  the template, and WeasyPrint.
- weasyprint alone: `pdf_from_html(html)` on the same HTML with the charts already made.

After one warm-up of each, the two alternate ABBA per pair so that drift on a shared machine
cancels; the ratio is of the medians. Also recorded: the pieces of the full render (context,
charts, template; medians of their own repeats) and what starting Chromium costs once (a cold
worker's first report pays it). Writes `<out>.json` and `<out>.md`. Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, git_commit, log

sys.path.insert(0, str(ROOT))
TARGET_RATIO = 1.5
RESULT_FILE = ROOT / "tests" / "reviewapp" / "data" / "benchmark-result-tiny.json"


def setup_django(data_dir: str) -> None:
    os.environ["DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings")
    import django

    django.setup()


def seed():
    """The demo design with a measured benchmark run in force, frozen as milestone M1."""
    from django.core.management import call_command
    from django.utils import timezone

    from engine.bench.design_spec import measurements_from_result
    from reviewapp.benchmarks.models import BenchmarkRun
    from reviewapp.benchmarks.selectors import design_shape_key
    from reviewapp.designs.models import Design
    from reviewapp.reviews.services import milestone_create

    for command in ("migrate", "load_gpu_prices", "seed_demo", "load_default_checklist"):
        call_command(command, verbosity=0)
    design = Design.objects.select_related("team", "created_by").get(name__startswith="Support")
    result = json.loads(RESULT_FILE.read_text())
    checked, errors = measurements_from_result(result)
    assert not errors, errors
    now = timezone.now()
    BenchmarkRun.objects.create(
        design=design, design_revision=design.revision, spec={}, status="succeeded", source="run",
        shape_key=design_shape_key(design.inputs), result=result, measurements=checked["measurements"],
        started_at=now, finished_at=now, heartbeat_at=now, progress=100.0, phase="done",
    )  # fmt: skip
    return milestone_create(design=design, user=design.created_by, name="P6 benchmark")


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "report-pdf"))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="report-pdf-bench-") as data_dir:
        setup_django(data_dir)
        from reviewapp.reports.charts import SvgRenderer, draw_charts, svg_renderer
        from reviewapp.reports.render import pdf_from_html, render_pdf, report_html, source_context
        from reviewapp.reports.selectors import milestone_source

        milestone = seed()
        source = milestone_source(milestone.design, milestone)
        log(f"seeded: milestone M{milestone.number} of {milestone.design.name}")

        cold = SvgRenderer(browser_path=svg_renderer().browser_path, timeout_s=svg_renderer().timeout_s)
        cold_start_s, _ = timed(lambda: cold.render([]))  # no figures: the browser start alone
        cold.close()

        # The HTML with its charts already made: what WeasyPrint alone is given.
        context = source_context(source)
        draw_charts(context["charts"])
        html = report_html(context, output="pdf")
        log(f"warm-up ({len(context['charts'])} charts, {len(html):,} characters of HTML)")
        warm_full = render_pdf(source)
        pdf_from_html(html)

        full, weasy = [], []
        for i in range(args.repeats):
            order = ("full", "weasy") if i % 2 == 0 else ("weasy", "full")
            for which in order:
                if which == "full":
                    seconds, rendered = timed(lambda: render_pdf(source))
                    full.append(seconds)
                else:
                    seconds, _ = timed(lambda: pdf_from_html(html))
                    weasy.append(seconds)
            log(f"repeat {i + 1}/{args.repeats}: full {full[-1]:.2f} s, weasyprint alone {weasy[-1]:.2f} s")

        pieces = {"context": [], "charts": [], "template": []}
        for _ in range(args.repeats):
            seconds, ctx = timed(lambda: source_context(source))
            pieces["context"].append(seconds)
            pieces["charts"].append(timed(lambda: draw_charts(ctx["charts"]))[0])
            pieces["template"].append(timed(lambda: report_html(ctx, output="pdf"))[0])
        svg_renderer().close()

    median_full, median_weasy = statistics.median(full), statistics.median(weasy)
    ratio = median_full / median_weasy
    # Each pair ran back to back: its ratio is less exposed to a neighbour's load than the medians.
    paired = statistics.median(f / w for f, w in zip(full, weasy))
    result = {
        "benchmark": "P6 report PDF: full render vs WeasyPrint alone on the same HTML with charts made",
        "target_ratio": TARGET_RATIO, "ratio": round(ratio, 3), "met": ratio <= TARGET_RATIO,
        "median_paired_ratio": round(paired, 3),
        "median_full_s": round(median_full, 3), "median_weasyprint_s": round(median_weasy, 3),
        "median_pieces_s": {k: round(statistics.median(v), 4) for k, v in pieces.items()},
        "chromium_cold_start_s": round(cold_start_s, 3),
        "full_s": [round(x, 3) for x in full], "weasyprint_s": [round(x, 3) for x in weasy],
        "pieces_s": {k: [round(x, 4) for x in v] for k, v in pieces.items()},
        "report": {"pages": warm_full.page_count, "pdf_bytes": len(warm_full.pdf), "charts": len(context["charts"]),
                   "html_characters": len(html)},
        "settings": {"repeats": args.repeats, "order": "ABBA per pair, after one warm-up of each"},
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "git_commit": git_commit()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    pieces_md = ", ".join(f"{k} {v:.3f} s" for k, v in result["median_pieces_s"].items())
    out.with_suffix(".md").write_text(f"""# P6: report PDF, full render vs WeasyPrint alone

| | median (s) | repeats (s) |
|---|---:|---|
| full render (context, SVG charts by the warm Chromium, template, WeasyPrint) | {median_full:.2f} | {', '.join(f'{x:.2f}' for x in full)} |
| WeasyPrint alone, same HTML, charts already made | {median_weasy:.2f} | {', '.join(f'{x:.2f}' for x in weasy)} |
| **ratio of the medians** (target ≤ {TARGET_RATIO}) | **{ratio:.3f}** | {'met' if ratio <= TARGET_RATIO else 'NOT met'} |
| median of the per-pair ratios | {paired:.3f} | |

Report: {warm_full.page_count} pages, {len(context['charts'])} charts, {len(warm_full.pdf):,} bytes of PDF.
Pieces of the full render (medians): {pieces_md}. Starting Chromium once (a cold worker's first report): \
{cold_start_s:.2f} s.
{args.repeats} repeats, ABBA per pair after one warm-up of each; {platform.platform()}, {os.cpu_count()} CPUs, \
commit {result['machine']['git_commit']}, {result['measured_at']}. Made by `python benchmarks/report_pdf.py`.
""")
    log(f"ratio {ratio:.3f}, paired {paired:.3f} (full {median_full:.2f} s / weasyprint {median_weasy:.2f} s) -> {out}.json, {out}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
