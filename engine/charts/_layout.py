"""The shared look of every chart (white, readable, no template) and the small helpers that keep
figures JSON-safe: numbers become plain finite floats or None, never numpy scalars or NaN."""

from __future__ import annotations

import math
import numbers
from typing import Any

# Okabe-Ito: distinguishable with the common colour-vision deficiencies and in greyscale print.
BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
GREY = "#9AA3AE"
INK = "#222222"
BUDGET_COLOUR = "#C0392B"
COLOURWAY = [BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, "#F0E442", INK]
FONT_FAMILY = "Helvetica Neue, Helvetica, Arial, sans-serif"


def num(value: Any) -> float | None:
    """``value`` as a plain finite float, else None (None, NaN, inf, bools, strings)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def section(mapping: Any, key: str) -> dict[str, Any] | None:
    """``mapping[key]`` when both are dicts, else None: a result may lack any section."""
    if not isinstance(mapping, dict):
        return None
    value = mapping.get(key)
    return value if isinstance(value, dict) else None


def fmt(value: float, digits: int = 3) -> str:
    """A short human number: 0.0227, 4.07, 115,760."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def axis(title: str, *, colour: str | None = None, **extra: Any) -> dict[str, Any]:
    """An axis titled with its unit; ``colour`` ties the title to the series it measures."""
    out = {
        "title": {"text": title, **({"font": {"color": colour}} if colour else {})},
        "showgrid": True,
        "gridcolor": "#E6E6E6",
        "zeroline": False,
        "showline": True,
        "linecolor": "#888888",
        "ticks": "outside",
        "tickcolor": "#888888",
        "automargin": True,
    }
    out.update(extra)
    return out


def layout(title: str, *, xaxis: dict[str, Any], yaxis: dict[str, Any], height: int = 420,
           **extra: Any) -> dict[str, Any]:
    """A template-free layout: the same everywhere plotly.js or plotly.py (PDF) renders it."""
    out: dict[str, Any] = {
        # An empty template: plotly.py would otherwise apply its grey default theme.
        "template": {},
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 16}},
        "font": {"family": FONT_FAMILY, "size": 13, "color": INK},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": COLOURWAY,
        "margin": {"l": 70, "r": 30, "t": 60, "b": 60},
        "height": height,
        "hovermode": "closest",
        "showlegend": True,
        # Below everything, in the container's frame: it pushes the bottom margin instead of
        # overlapping the x axis title, however tall the figure is.
        "legend": {"orientation": "h", "x": 0.0, "xanchor": "left", "yref": "container", "y": 0.0,
                   "yanchor": "bottom"},
        "xaxis": xaxis,
        "yaxis": yaxis,
    }
    out.update(extra)
    return out


def budget_hline(budget_ms: float, label: str = "p99 budget") -> tuple[dict[str, Any], dict[str, Any]]:
    """A horizontal line across the whole plot at ``budget_ms`` and its label, as a
    (shape, annotation) pair: a shape spans the width however the x axis scales."""
    shape = {
        "type": "line", "name": label, "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
        "y0": budget_ms, "y1": budget_ms, "line": {"color": BUDGET_COLOUR, "width": 2, "dash": "dash"},
    }
    note = {
        # At the left, where low-load points sit well under the line.
        "xref": "paper", "x": 0, "xanchor": "left", "yref": "y", "y": budget_ms, "yanchor": "bottom",
        "text": f"{label} {fmt(budget_ms)} ms", "showarrow": False, "font": {"color": BUDGET_COLOUR},
    }
    return shape, note


def budget_vline(budget_ms: float, label: str = "p99 budget") -> tuple[dict[str, Any], dict[str, Any]]:
    """The vertical counterpart of ``budget_hline``, for horizontal bars."""
    shape = {
        "type": "line", "name": label, "yref": "paper", "y0": 0, "y1": 1, "xref": "x",
        "x0": budget_ms, "x1": budget_ms, "line": {"color": BUDGET_COLOUR, "width": 2, "dash": "dash"},
    }
    note = {
        "yref": "paper", "y": 1, "yanchor": "bottom", "xref": "x", "x": budget_ms, "xanchor": "center",
        "text": f"{label} {fmt(budget_ms)} ms", "showarrow": False, "font": {"color": BUDGET_COLOUR},
    }
    return shape, note
