"""Figures from an ``engine.bench.run(...)`` result dict. Each returns a plain Plotly figure
dict, or None when the result lacks the section it draws (another scenario, a failed run)."""

from __future__ import annotations

import re
from typing import Any

from engine.charts._layout import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    VERMILLION,
    axis,
    budget_hline,
    fmt,
    layout,
    num,
    section,
)

_PERCENTILE_KEY = re.compile(r"^p(\d+(?:\.\d+)?)_ms$")


def _run_point(run: dict[str, Any] | None) -> dict[str, float | None] | None:
    """(rate, p50, p99) of one slimmed server run. p99 is ``p99_all_ms``, which counts a failed,
    rejected or unanswered query as infinitely late (None when there were any), as the search does."""
    if run is None:
        return None
    rate = num(run.get("rate_qps"))
    if rate is None:
        return None
    latency = section(run, "latency_ms") or {}
    return {"rate": rate, "p50": num(latency.get("p50_ms")), "p99": num(run.get("p99_all_ms"))}


def latency_vs_load(result: dict[str, Any]) -> dict[str, Any] | None:
    """p50 and p99 latency (ms) against offered load (queries/s) from every server run in the
    result: the max-QPS search probes (``search.steps``), its confirming run (``search.result``),
    the run at the target rate (``server``) and the overload run (``overload.run``, admitted
    requests only, shedding on), with the p99 budget line, the operating point (``max_qps_at_p99``)
    and the target rate (``target_qps``). None when the result holds no server run."""
    search = section(result, "search")
    server = _run_point(section(result, "server"))
    overload = section(result, "overload")
    overload_run = section(overload, "run") if overload else None
    budget = num(result.get("latency_p99_budget_ms")) if isinstance(result, dict) else None

    p99_points: list[tuple[float, float, str]] = []  # (rate, p99, hover)
    unbounded: list[float] = []  # rates whose p99 was unbounded (failed queries)
    p50_points: list[tuple[float, float, str]] = []
    for step in (search or {}).get("steps") or []:
        if not isinstance(step, dict) or num(step.get("rate_qps")) is None:
            continue
        rate, p99 = num(step["rate_qps"]), num(step.get("p99_ms"))
        verdict = "passed" if step.get("pass") else "failed"
        if p99 is None:
            unbounded.append(rate)
        else:
            p99_points.append((rate, p99, f"search probe, {verdict}"))
    confirm = _run_point(section(search, "result")) if search else None
    if confirm is not None and confirm["p50"] is not None:
        p50_points.append((confirm["rate"], confirm["p50"], "confirming run"))
    if server is not None:
        if server["p99"] is None:
            unbounded.append(server["rate"])
        else:
            p99_points.append((server["rate"], server["p99"], "run at target rate"))
        if server["p50"] is not None:
            p50_points.append((server["rate"], server["p50"], "run at target rate"))
    if not (p99_points or unbounded or p50_points or overload_run):
        return None

    traces: list[dict[str, Any]] = []
    p99_points.sort()
    p50_points.sort()
    finite_y = [p[1] for p in p99_points] + [p[1] for p in p50_points]
    if p99_points:
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": "p99",
            "x": [p[0] for p in p99_points], "y": [p[1] for p in p99_points],
            "text": [p[2] for p in p99_points],
            "line": {"color": BLUE, "width": 1.5},
            "marker": {"color": BLUE, "size": 8,
                       "symbol": ["x" if "failed" in p[2] else "circle" for p in p99_points]},
            "hovertemplate": "%{x:,.0f} QPS: p99 %{y:.3g} ms (%{text})<extra></extra>",
        })
    if p50_points:
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": "p50",
            "x": [p[0] for p in p50_points], "y": [p[1] for p in p50_points],
            "text": [p[2] for p in p50_points],
            "line": {"color": GREEN, "width": 1.5}, "marker": {"color": GREEN, "size": 8},
            "hovertemplate": "%{x:,.0f} QPS: p50 %{y:.3g} ms (%{text})<extra></extra>",
        })
    if overload_run is not None:
        rate = num(overload_run.get("rate_qps"))
        latency = section(overload_run, "latency_ms") or {}
        ys = [(name, num(latency.get(f"{name}_ms"))) for name in ("p50", "p99")]
        ys = [(name, y) for name, y in ys if y is not None]
        if rate is not None and ys:
            finite_y += [y for _, y in ys]
            traces.append({
                "type": "scatter", "mode": "markers", "name": "overload run (admitted requests)",
                "x": [rate] * len(ys), "y": [y for _, y in ys], "text": [name for name, _ in ys],
                "marker": {"color": PURPLE, "size": 9, "symbol": "triangle-up"},
                "hovertemplate": "%{x:,.0f} QPS offered, shedding on: %{text} %{y:.3g} ms"
                                 "<extra></extra>",
            })

    top = max(finite_y + ([budget] if budget is not None else []), default=1.0) * 1.1 or 1.0
    if unbounded:
        # No finite p99 to plot: draw these at the top edge so the failed rates stay visible.
        traces.append({
            "type": "scatter", "mode": "markers", "name": "p99 unbounded (queries failed)",
            "x": sorted(unbounded), "y": [top] * len(unbounded),
            "marker": {"color": VERMILLION, "size": 10, "symbol": "x"},
            "hovertemplate": "%{x:,.0f} QPS: some queries rejected, timed out or unanswered"
                             "<extra></extra>",
        })

    max_qps = num(result.get("max_qps_at_p99"))
    if max_qps is not None and max_qps > 0:
        at = num(search.get("p99_ms")) if search else None
        confirmed = bool(result.get("max_qps_confirmed"))
        label = "max QPS at p99" + ("" if confirmed else " (unconfirmed)")
        traces.append({
            "type": "scatter", "mode": "markers+text", "name": "operating point: " + label,
            "x": [max_qps], "y": [at if at is not None else budget if budget is not None else top],
            "text": [f"{fmt(max_qps)} QPS"], "textposition": "top center",
            "marker": {"color": ORANGE, "size": 16, "symbol": "star",
                       "line": {"color": "#333333", "width": 1}},
            "hovertemplate": label + ": %{x:,.0f} QPS, p99 %{y:.3g} ms<extra></extra>",
        })
    target = num(result.get("target_qps"))
    if target is not None:
        at = num(result.get("p99_ms"))
        traces.append({
            "type": "scatter", "mode": "markers", "name": "target rate",
            "x": [target], "y": [at if at is not None else top],
            "marker": {"color": "#333333", "size": 16, "symbol": "diamond-open", "line": {"width": 2}},
            "hovertemplate": "target rate: %{x:,.0f} QPS, p99 %{y:.3g} ms<extra></extra>",
        })

    shapes, notes = [], []
    if budget is not None:
        shape, note = budget_hline(budget)
        shapes.append(shape)
        notes.append(note)
    return {
        "data": traces,
        "layout": layout(
            "Latency vs offered load",
            xaxis=axis("offered load (queries/s)", rangemode="tozero", tickformat=",.0f"),
            yaxis=axis("latency (ms)", rangemode="tozero"),
            shapes=shapes, annotations=notes,
        ),
    }


def batch_profile(result: dict[str, Any]) -> dict[str, Any] | None:
    """Offline throughput (items/s, left axis) and batch time (ms, right axis) against batch size
    (``offline.batch_sizes``), with the fitted line s(b) = intercept + per_item * b
    (``batch_time_fit``, else ``offline.fit``). None without an offline section."""
    offline = section(result, "offline")
    rows = []
    for row in (offline or {}).get("batch_sizes") or []:
        size = num(row.get("batch_size")) if isinstance(row, dict) else None
        if size is not None and size > 0:
            rows.append((size, num(row.get("throughput_qps")), num(row.get("batch_time_ms"))))
    if not rows:
        return None
    rows.sort(key=lambda r: r[0])
    sizes = [int(r[0]) if r[0].is_integer() else r[0] for r in rows]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter", "mode": "lines+markers", "name": "throughput (items/s)",
            "x": sizes, "y": [r[1] for r in rows], "yaxis": "y",
            "line": {"color": BLUE, "width": 2}, "marker": {"color": BLUE, "size": 8},
            "hovertemplate": "batch %{x}: %{y:,.0f} items/s<extra></extra>",
        },
        {
            "type": "scatter", "mode": "markers", "name": "batch time (ms), measured",
            "x": sizes, "y": [r[2] for r in rows], "yaxis": "y2",
            "marker": {"color": ORANGE, "size": 9, "symbol": "square"},
            "hovertemplate": "batch %{x}: %{y:.3g} ms per batch<extra></extra>",
        },
    ]
    fit = section(result, "batch_time_fit") or section(offline, "fit")
    intercept = num(fit.get("intercept_ms")) if fit else None
    per_item = num(fit.get("per_item_ms")) if fit else None
    if intercept is not None and per_item is not None:
        r2 = num(fit.get("r2"))
        name = f"fit s(b) = {fmt(intercept)} + {fmt(per_item)}·b ms" + (
            f" (R² {r2:.3f})" if r2 is not None else "")
        traces.append({
            "type": "scatter", "mode": "lines", "name": name,
            "x": sizes, "y": [intercept + per_item * b for b in sizes], "yaxis": "y2",
            "line": {"color": ORANGE, "width": 2, "dash": "dot"},
            "hovertemplate": "batch %{x}: fit %{y:.3g} ms<extra></extra>",
        })
    return {
        "data": traces,
        "layout": layout(
            "Offline throughput and batch time by batch size",
            # Batch sizes are usually powers of two: a log axis spaces them evenly.
            xaxis=axis("batch size (items)", type="log", tickmode="array", tickvals=sizes,
                       ticktext=[str(s) for s in sizes]),
            yaxis=axis("throughput (items/s)", colour=BLUE, rangemode="tozero", tickformat=",.0f"),
            yaxis2=axis("batch time (ms)", colour=ORANGE, overlaying="y", side="right",
                        rangemode="tozero", showgrid=False, tickmode="auto"),
            margin={"l": 80, "r": 80, "t": 60, "b": 60},
        ),
    }


def latency_percentiles(result: dict[str, Any]) -> dict[str, Any] | None:
    """Bars of the latency percentiles the run at the target rate reports (``server.latency_ms``:
    p50, p90, p95, p99, max, whichever are present, over completed queries), red where above the
    budget, with the p99 budget line. None without that run."""
    server = section(result, "server")
    latency = section(server, "latency_ms") if server else None
    if latency is None:
        return None
    bars: list[tuple[float, str, float]] = []
    for key, value in latency.items():
        match = _PERCENTILE_KEY.match(key)
        ms = num(value)
        if match and ms is not None:
            bars.append((float(match.group(1)), f"p{match.group(1)}", ms))
    ms = num(latency.get("max_ms"))
    if ms is not None:
        bars.append((float("inf"), "max", ms))
    if not bars:
        return None
    bars.sort(key=lambda b: b[0])
    budget = num(result.get("latency_p99_budget_ms"))
    colours = [VERMILLION if budget is not None and b[2] > budget else BLUE for b in bars]
    failed = sum(int(num(server.get(k)) or 0) for k in ("rejected", "timed_out", "failed", "unanswered"))
    title = "Latency percentiles"
    rate = num(result.get("target_qps")) or num(server.get("rate_qps"))
    if rate is not None:
        title += f" at {fmt(rate)} QPS"
    if failed:
        title += f" (completed queries; {failed} failed or unanswered)"
    shapes, notes = [], []
    if budget is not None:
        shape, note = budget_hline(budget)
        shapes.append(shape)
        notes.append(note)
    return {
        "data": [{
            "type": "bar", "name": "latency (ms)", "x": [b[1] for b in bars], "y": [b[2] for b in bars],
            "marker": {"color": colours}, "text": [f"{fmt(b[2])} ms" for b in bars],
            "textposition": "outside", "cliponaxis": False,
            "hovertemplate": "%{x}: %{y:.4g} ms<extra></extra>",
        }],
        "layout": layout(
            title, xaxis=axis("percentile", type="category", showgrid=False),
            yaxis=axis("latency (ms)", rangemode="tozero"),
            shapes=shapes, annotations=notes, showlegend=False,
        ),
    }


def sweep_heatmap(result: dict[str, Any]) -> dict[str, Any] | None:
    """Capacity (max QPS at the p99 budget) for each (max batch size, max queue delay) the sweep
    tried (``sweep.grid``), the recommended setting starred, unconfirmed cells marked. Rows are
    max batch sizes, columns max queue delays, both sorted. None when no sweep ran."""
    sweep = section(result, "sweep")
    cells: dict[tuple[float, float], dict[str, Any]] = {}
    for row in (sweep or {}).get("grid") or []:
        if not isinstance(row, dict):
            continue
        size, delay = num(row.get("max_batch_size")), num(row.get("max_queue_delay_ms"))
        if size is not None and delay is not None:
            cells[(size, delay)] = row
    if not cells:
        return None
    sizes = sorted({k[0] for k in cells})
    delays = sorted({k[1] for k in cells})
    best = section(sweep, "recommendation")
    best_key = (num(best.get("max_batch_size")), num(best.get("max_queue_delay_ms"))) if best else None
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for size in sizes:
        z_row, text_row = [], []
        for delay in delays:
            row = cells.get((size, delay))
            qps = num(row.get("max_qps")) if row else None
            z_row.append(qps)
            if row is None:
                text_row.append("not run")
                continue
            label = "n/a" if qps is None else f"{fmt(qps)}"
            if (size, delay) == best_key:
                label = "★ " + label
            if not row.get("confirmed"):
                label += "<br>unconfirmed"
            text_row.append(label)
        z.append(z_row)
        text.append(text_row)
    budget = num(result.get("latency_p99_budget_ms")) or num(sweep.get("p99_budget_ms"))
    title = "Capacity by batcher setting" + (f" (p99 ≤ {fmt(budget)} ms)" if budget is not None else "")

    def label(value: float) -> int | float:
        return int(value) if value.is_integer() else value

    return {
        "data": [{
            "type": "heatmap", "name": "capacity (QPS)",
            "x": [label(d) for d in delays], "y": [label(s) for s in sizes], "z": z,
            "text": text, "texttemplate": "%{text}", "textfont": {"size": 12},
            "colorscale": "Viridis", "zmin": 0, "xgap": 2, "ygap": 2,
            "colorbar": {"title": {"text": "capacity (QPS)"}, "tickformat": ",.0f"},
            "hovertemplate": "max batch %{y}, max delay %{x} ms: %{z:,.0f} QPS<extra></extra>",
        }],
        "layout": layout(
            title,
            # Categories: the grid's values are rarely evenly spaced (8, 32, 64).
            xaxis=axis("max queue delay (ms)", type="category", showgrid=False),
            yaxis=axis("max batch size (items)", type="category", showgrid=False),
            showlegend=False,
            # A caption that says what the star marks; the heat map itself has no legend.
            annotations=[{
                "xref": "paper", "x": 0, "xanchor": "left", "yref": "paper", "y": -0.2,
                "yanchor": "top", "showarrow": False, "font": {"size": 11, "color": GREY},
                "text": "★ recommended: the highest confirmed capacity within the budget",
            }] if best_key else [],
        ),
    }


FIGURES = (
    ("latency_vs_load", latency_vs_load),
    ("latency_percentiles", latency_percentiles),
    ("batch_profile", batch_profile),
    ("sweep_heatmap", sweep_heatmap),
)


def benchmark_figures(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures that apply to ``result``, in reading order, each as
    ``{"key": ..., "title": ..., "figure": {...}}``; an empty list when none does. A generative
    result gets ``engine.charts.generative``'s figures."""
    from engine.charts.generative import GENERATIVE_FIGURES

    generative = isinstance(result, dict) and str(result.get("scenario", "")).startswith("generate-")
    out = []
    for key, build in GENERATIVE_FIGURES if generative else FIGURES:
        figure = build(result)
        if figure is not None:
            out.append({"key": key, "title": figure["layout"]["title"]["text"], "figure": figure})
    return out
