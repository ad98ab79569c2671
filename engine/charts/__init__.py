"""Plotly figures as plain data, shared by the web pages and the PDF report.

Each function returns a JSON-able dict ``{"data": [traces], "layout": {...}}`` that plotly.js
(``Plotly.newPlot(el, fig.data, fig.layout)``) or plotly.py (``go.Figure(fig)``) renders as is,
or None when its input lacks what it draws. Nothing here imports plotly (or numpy): the engine
runs on machines that have only torch and numpy. Numbers are plain finite floats; a missing,
NaN or infinite value becomes None or is left out, never an error. Layouts are template-free
(white, readable font, explicit margins) and need no external resource.

From an ``engine.bench.run(...)`` result dict:

- ``latency_vs_load(result)``: p50/p99 latency (ms) vs offered load (queries/s) from every
  server run (search probes, confirming run, target-rate run, overload run), the p99 budget
  line, the operating point at ``max_qps_at_p99`` and the ``target_qps`` marker.
- ``latency_percentiles(result)``: bars of p50/p90/p95/p99/max of the run at the target rate,
  with the budget line.
- ``batch_profile(result)``: offline throughput (items/s) and batch time (ms) vs batch size on
  two y axes, with the fitted s(b) = intercept + per_item * b.
- ``sweep_heatmap(result)``: capacity (QPS) over max batch size x max queue delay.
- ``benchmark_figures(result)``: those that apply, as ``[{"key", "title", "figure"}]``.

From plain planning numbers:

- ``latency_budget_breakdown(parts, p99_budget_ms)``: one stacked horizontal bar of
  ``[(label, ms)]`` (network, processing, queueing, model) against the budget line.
- ``cost_by_plan(rows, chosen)``: monthly USD of each ``[(plan, usd)]``, ``chosen`` highlighted.

From a design's milestones:

- ``design_trend(points)``: score, open high/medium risks and monthly cost, one point per milestone.
"""

from engine.charts.bench import (
    batch_profile,
    benchmark_figures,
    latency_percentiles,
    latency_vs_load,
    sweep_heatmap,
)
from engine.charts.plans import cost_by_plan, latency_budget_breakdown
from engine.charts.trends import design_trend

__all__ = [
    "batch_profile",
    "benchmark_figures",
    "cost_by_plan",
    "design_trend",
    "latency_budget_breakdown",
    "latency_percentiles",
    "latency_vs_load",
    "sweep_heatmap",
]
