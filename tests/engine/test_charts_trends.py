"""The trend figure: a design's score, open risks and monthly cost over its milestones."""

import json
import math

import numpy as np
import plotly.graph_objects as go

from engine.charts import design_trend
from tests.engine.test_charts import assert_valid, trace

POINTS = [
    {"label": "M1 first draft", "score": 52.5, "high_risks": 3, "medium_risks": 5, "monthly_cost_usd": 21000.0},
    {"label": "M2 review", "score": 71.0, "high_risks": 1, "medium_risks": np.int64(4), "monthly_cost_usd": None},
    {"label": "M3 approved", "score": np.float64(88.0), "high_risks": 0, "medium_risks": 2,
     "monthly_cost_usd": 9000.0},
]


def test_one_point_per_milestone_in_order_on_each_line():
    figure = design_trend(POINTS)
    assert_valid(figure)
    assert trace(figure, "score")["x"] == ["M1 first draft", "M2 review", "M3 approved"]
    assert trace(figure, "score")["y"] == [52.5, 71.0, 88.0]
    assert trace(figure, "open high risks")["y"] == [3.0, 1.0, 0.0]
    assert trace(figure, "open medium risks")["y"] == [5.0, 4.0, 2.0]


def test_cost_is_on_its_own_right_axis_with_a_gap_where_unknown():
    figure = design_trend(POINTS)
    cost = trace(figure, "monthly cost")
    assert cost["yaxis"] == "y2" and cost["y"] == [21000.0, None, 9000.0]
    assert cost["connectgaps"] is False
    assert figure["layout"]["yaxis2"]["overlaying"] == "y" and figure["layout"]["yaxis2"]["side"] == "right"


def test_without_any_cost_there_is_no_cost_line_or_axis():
    figure = design_trend([{**p, "monthly_cost_usd": None} for p in POINTS])
    assert_valid(figure)
    assert [t["name"] for t in figure["data"]] == ["score", "open high risks", "open medium risks"]
    assert "yaxis2" not in figure["layout"]


def test_nan_and_strings_become_gaps_and_the_figure_stays_json_safe():
    figure = design_trend([{"label": "M1", "score": math.nan, "high_risks": "2", "medium_risks": math.inf,
                            "monthly_cost_usd": 5.0}, {"label": 2, "score": 60}])
    json.dumps(figure, allow_nan=False)
    go.Figure(figure)
    assert trace(figure, "score")["y"] == [None, 60.0]
    assert trace(figure, "score")["x"] == ["M1", "2"]
    assert trace(figure, "open high risks")["y"] == [None, None]


def test_nothing_to_draw_is_none():
    assert design_trend([]) is None
    assert design_trend([{"label": "M1"}, {"label": "M2", "score": None}]) is None
