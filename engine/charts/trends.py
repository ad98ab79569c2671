"""A design over its milestones: score, open risks and monthly cost, one point per milestone.
For the design page and the design report (the same figure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.charts._layout import BLUE, GREEN, ORANGE, VERMILLION, axis, layout, num


def design_trend(points: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Score (0-100), open high and medium risks and the chosen plan's monthly cost (USD) of each
    point, in the order given (oldest first). A point is ``{"label", "score", "high_risks",
    "medium_risks", "monthly_cost_usd"}``; a missing or non-finite value leaves a gap in its line,
    never an error. Risks share the score's left axis (counts and a 0-100 score read on one
    scale); cost has its own right axis. None when no point has any value (nothing to draw)."""
    labels = [str(p.get("label", "")) for p in points]
    series = {key: [num(p.get(key)) for p in points]
              for key in ("score", "high_risks", "medium_risks", "monthly_cost_usd")}
    if not any(v is not None for values in series.values() for v in values):
        return None

    def line(key: str, name: str, colour: str, *, yaxis: str = "y", dash: str = "solid", fmt: str = "%{y:.4g}"):
        return {"type": "scatter", "mode": "lines+markers", "name": name, "x": labels, "y": series[key],
                "yaxis": yaxis, "line": {"color": colour, "dash": dash, "width": 2}, "marker": {"size": 7},
                "connectgaps": False, "hovertemplate": f"%{{x}}: {fmt}<extra>{name}</extra>"}

    traces = [line("score", "score", BLUE), line("high_risks", "open high risks", VERMILLION, dash="dot"),
              line("medium_risks", "open medium risks", ORANGE, dash="dot")]
    has_cost = any(v is not None for v in series["monthly_cost_usd"])
    if has_cost:
        traces.append(line("monthly_cost_usd", "monthly cost (USD)", GREEN, yaxis="y2", dash="dash",
                           fmt="$%{y:,.0f}"))
    figure_layout = layout(
        "Score, open risks and monthly cost over the milestones",
        xaxis=axis("milestone", type="category", showgrid=False),
        yaxis=axis("score / open risks", rangemode="tozero"),
        height=360,
    )
    if has_cost:
        figure_layout["yaxis2"] = axis("monthly cost (USD)", colour=GREEN, overlaying="y", side="right",
                                       rangemode="tozero", tickprefix="$", tickformat=",.0f", showgrid=False)
        figure_layout["margin"] = {**figure_layout["margin"], "r": 90}
    return {"data": traces, "layout": figure_layout}
