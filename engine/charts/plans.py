"""Figures from plain planning numbers (no benchmark result): how the p99 budget is shared out,
and what each pricing plan costs a month. For the review report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.charts._layout import (
    BLUE,
    COLOURWAY,
    GREY,
    axis,
    budget_vline,
    fmt,
    layout,
    num,
)

_BAR = "p99"  # the single stacked bar's category


def latency_budget_breakdown(
    parts: Sequence[tuple[str, float | None]], p99_budget_ms: float | None = None
) -> dict[str, Any] | None:
    """One horizontal bar stacking ``parts`` ((label, ms) in order, e.g. network, processing,
    queueing, model), with the p99 budget as a vertical line and any unallocated rest as
    "headroom". Parts that are None, not finite or not positive are left out: a negative model
    share means the rest already passes the budget, which the bar crossing the line shows.
    None when no part is left."""
    kept = [(str(label), ms) for label, value in parts if (ms := num(value)) is not None and ms > 0]
    if not kept:
        return None
    budget = num(p99_budget_ms)
    if budget is not None and budget <= 0:
        budget = None
    total = sum(ms for _, ms in kept)
    traces = [
        {
            "type": "bar", "orientation": "h", "name": label, "x": [ms], "y": [_BAR],
            "marker": {"color": COLOURWAY[i % len(COLOURWAY)]},
            "text": [f"{fmt(ms)} ms"], "textposition": "inside", "insidetextanchor": "middle",
            "textangle": 0, "hovertemplate": f"{label}: %{{x:.4g}} ms<extra></extra>",
        }
        for i, (label, ms) in enumerate(kept)
    ]
    if budget is not None and budget - total > 1e-9 * budget:
        traces.append({
            "type": "bar", "orientation": "h", "name": "headroom", "x": [budget - total], "y": [_BAR],
            "marker": {"color": "#E8EBEF", "line": {"color": GREY, "width": 1}},
            "text": [f"{fmt(budget - total)} ms"], "textposition": "inside",
            "insidetextanchor": "middle",
            "hovertemplate": "headroom: %{x:.4g} ms<extra></extra>",
        })
    shapes, notes = [], []
    title = f"Latency budget: {fmt(total)} ms allocated"
    if budget is not None:
        shape, note = budget_vline(budget)
        shapes.append(shape)
        notes.append(note)
        title += f" of {fmt(budget)} ms at p99"
    figure_layout = layout(
        title,
        xaxis=axis("latency (ms)", rangemode="tozero"),
        yaxis=axis("", showticklabels=False, showgrid=False, ticks=""),
        barmode="stack", height=260, shapes=shapes, annotations=notes,
        margin={"l": 30, "r": 30, "t": 70, "b": 60},
    )
    # Stacked bars list their legend last-first by default; keep the parts' order.
    figure_layout["legend"]["traceorder"] = "normal"
    return {"data": traces, "layout": figure_layout}


def cost_by_plan(
    rows: Sequence[tuple[str, float | None]], chosen: str | None = None
) -> dict[str, Any] | None:
    """Monthly cost (USD) of each pricing plan ((label, usd) in order), one bar each, the
    ``chosen`` plan's bar in colour and labelled. Plans whose cost is None (no price known) are
    left out; None when none is left."""
    kept = [(str(label), usd) for label, value in rows if (usd := num(value)) is not None]
    if not kept:
        return None
    is_chosen = [chosen is not None and label == str(chosen) for label, _ in kept]
    return {
        "data": [{
            "type": "bar", "name": "monthly cost (USD)",
            "x": [label for label, _ in kept], "y": [usd for _, usd in kept],
            "marker": {"color": [BLUE if c else GREY for c in is_chosen]},
            "text": [f"${usd:,.0f}" + ("<br>chosen" if c else "") for (_, usd), c in zip(kept, is_chosen)],
            "textposition": "outside", "cliponaxis": False,
            "hovertemplate": "%{x}: $%{y:,.0f} a month<extra></extra>",
        }],
        "layout": layout(
            "Monthly cost by pricing plan",
            xaxis=axis("pricing plan", type="category", showgrid=False),
            yaxis=axis("monthly cost (USD)", rangemode="tozero", tickprefix="$", tickformat=",.0f"),
            showlegend=False,
        ),
    }
