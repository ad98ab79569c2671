"""Figures from a generative result (``engine.bench.run`` with scenario "generate-..."): plain
Plotly dicts, or None when the result lacks what a figure draws.

- ``ttft_vs_load`` / ``tpot_vs_load``: p50 and p99 against offered load (requests/s) over every
  run of the result (the max-rate search's probes, else the one run), with the SLO line;
- ``tokens_vs_concurrency``: output tokens/s against the mean number of sequences running;
- ``kv_blocks_over_run``: KV blocks in use at each engine step of the measured run, with the pool;
- ``steps_over_run``: every engine step (every batch) of the measured run: sequences in it and
  its time.
"""

from __future__ import annotations

from typing import Any

from engine.charts._layout import BLUE, GREEN, ORANGE, VERMILLION, axis, budget_hline, layout, num, section

_RUN_LABEL = {"generate-offline": "all at once", "generate-server": "one run", "generate-max-qps": "probe"}


def _runs(result: dict[str, Any]) -> list[dict[str, Any]]:
    """(rate, metrics, steps) of each run the result holds: the search's probes, else the run
    itself (offline: its achieved request rate stands for the load offered)."""
    out = []
    for probe in result.get("probes") or []:
        if isinstance(probe, dict) and isinstance(probe.get("metrics"), dict):
            out.append({"rate": num(probe.get("rate_rps")), "metrics": probe["metrics"],
                        "steps": probe.get("steps") or {}})
    metrics = section(result, "metrics")
    if not out and metrics:
        rate = num(((result.get("settings") or {}).get("workload") or {}).get("rate_rps"))
        out.append({"rate": rate if rate is not None else num(metrics.get("request_throughput_rps")),
                    "metrics": metrics, "steps": section(result, "steps") or {}})
    return [r for r in out if r["rate"] is not None]


def _token_time_vs_load(result: dict[str, Any], kind: str, title: str) -> dict[str, Any] | None:
    if not isinstance(result, dict) or not str(result.get("scenario", "")).startswith("generate-"):
        return None
    runs = sorted(_runs(result), key=lambda r: r["rate"])
    if not runs:
        return None
    rates = [r["rate"] for r in runs]
    p50 = [num((r["metrics"].get(kind) or {}).get("p50_ms")) for r in runs]
    # p99 over all requests (a failed one infinitely late, so None): what the SLO verdict reads.
    p99 = [num(r["metrics"].get(f"{kind}_p99_all_ms")) for r in runs]
    traces = [
        {"type": "scatter", "mode": "lines+markers", "name": f"{kind.upper()} p50", "x": rates, "y": p50,
         "line": {"color": BLUE, "width": 2}, "hovertemplate": "%{x:.3g} req/s: p50 %{y:.3g} ms<extra></extra>"},
        {"type": "scatter", "mode": "lines+markers", "name": f"{kind.upper()} p99", "x": rates, "y": p99,
         "line": {"color": VERMILLION, "width": 2},
         "hovertemplate": "%{x:.3g} req/s: p99 %{y:.3g} ms<extra></extra>"},
    ]
    shapes, notes = [], []
    slo = num((section(result, "slo") or {}).get(f"{kind}_slo_ms"))
    if slo is not None:
        shape, note = budget_hline(slo, f"{kind.upper()} SLO")
        shapes.append(shape)
        notes.append(note)
    best = num(result.get("max_rate_rps"))
    if best:
        shapes.append({"type": "line", "xref": "x", "x0": best, "x1": best, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"color": GREEN, "width": 2, "dash": "dot"}})
        notes.append({"xref": "x", "x": best, "yref": "paper", "y": 1, "yanchor": "bottom", "showarrow": False,
                      "text": f"max rate {best:.3g} req/s", "font": {"color": GREEN}})
    return {"data": traces, "layout": layout(
        title, xaxis=axis("offered load (requests/s)", rangemode="tozero"),
        yaxis=axis(f"{kind.upper()} (ms)", rangemode="tozero"), shapes=shapes, annotations=notes)}


def ttft_vs_load(result: dict[str, Any]) -> dict[str, Any] | None:
    return _token_time_vs_load(result, "ttft", "Time to first token against offered load")


def tpot_vs_load(result: dict[str, Any]) -> dict[str, Any] | None:
    return _token_time_vs_load(result, "tpot", "Time per output token against offered load")


def tokens_vs_concurrency(result: dict[str, Any]) -> dict[str, Any] | None:
    if not isinstance(result, dict) or not str(result.get("scenario", "")).startswith("generate-"):
        return None
    points = sorted((p for p in ((num(r["steps"].get("mean_seqs")), num(r["metrics"].get("output_tokens_per_s")),
                                  r["rate"]) for r in _runs(result)) if p[0] is not None and p[1] is not None))
    if not points:
        return None
    return {"data": [{
        "type": "scatter", "mode": "lines+markers", "name": "output tokens/s",
        "x": [p[0] for p in points], "y": [p[1] for p in points], "text": [f"{p[2]:.3g} req/s" for p in points],
        "line": {"color": BLUE, "width": 2},
        "hovertemplate": "%{x:.3g} sequences (%{text}): %{y:,.0f} tokens/s<extra></extra>",
    }], "layout": layout("Output tokens/s against concurrency",
                         xaxis=axis("sequences running (mean per step)", rangemode="tozero"),
                         yaxis=axis("output tokens/s", rangemode="tozero", tickformat=",.0f"))}


def _series(result: dict[str, Any], key: str) -> tuple[list[float], list[float]] | None:
    steps = [s for s in (result.get("step_series") or []) if isinstance(s, dict)] if isinstance(result, dict) else []
    pairs = [(num(s.get("start_s")), num(s.get(key))) for s in steps]
    pairs = [p for p in pairs if p[0] is not None and p[1] is not None]
    if not pairs:
        return None
    return [p[0] for p in pairs], [p[1] for p in pairs]


def kv_blocks_over_run(result: dict[str, Any]) -> dict[str, Any] | None:
    series = _series(result, "kv_blocks_used")
    if series is None:
        return None
    shapes, notes = [], []
    pool = num((((result.get("settings") or {}).get("scheduler")) or {}).get("num_blocks"))
    if pool is not None:
        shape, note = budget_hline(pool, "KV pool")
        note["text"] = f"KV pool {pool:,.0f} blocks"
        shapes.append(shape)
        notes.append(note)
    return {"data": [{
        "type": "scatter", "mode": "lines", "name": "KV blocks in use", "x": series[0], "y": series[1],
        "line": {"color": ORANGE, "width": 2, "shape": "hv"},
        "hovertemplate": "%{x:.3f} s: %{y:,.0f} blocks<extra></extra>",
    }], "layout": layout("KV-cache blocks in use over the run", xaxis=axis("time into the run (s)"),
                         yaxis=axis("KV blocks", rangemode="tozero"), shapes=shapes, annotations=notes)}


def steps_over_run(result: dict[str, Any]) -> dict[str, Any] | None:
    seqs = _series(result, "seqs")
    times = _series(result, "step_ms")
    if seqs is None or times is None:
        return None
    label = _RUN_LABEL.get(str(result.get("scenario")), "run")
    return {"data": [
        {"type": "bar", "name": "sequences in the step", "x": seqs[0], "y": seqs[1], "yaxis": "y",
         "marker": {"color": BLUE}, "hovertemplate": "%{x:.3f} s: %{y} sequences<extra></extra>"},
        {"type": "scatter", "mode": "markers", "name": "step time (ms)", "x": times[0], "y": times[1], "yaxis": "y2",
         "marker": {"color": VERMILLION, "size": 5}, "hovertemplate": "%{x:.3f} s: %{y:.3g} ms<extra></extra>"},
    ], "layout": layout(f"Every engine step of the measured run ({label})", xaxis=axis("time into the run (s)"),
                        yaxis=axis("sequences", colour=BLUE, rangemode="tozero"),
                        yaxis2=axis("step time (ms)", colour=VERMILLION, overlaying="y", side="right",
                                    rangemode="tozero", showgrid=False),
                        margin={"l": 70, "r": 80, "t": 60, "b": 60})}


GENERATIVE_FIGURES = (
    ("ttft_vs_load", ttft_vs_load),
    ("tpot_vs_load", tpot_vs_load),
    ("tokens_vs_concurrency", tokens_vs_concurrency),
    ("kv_blocks_over_run", kv_blocks_over_run),
    ("steps_over_run", steps_over_run),
)
