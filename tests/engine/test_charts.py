"""Plotly figures as plain data, from a real tiny benchmark result and from hand-made dicts."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from engine.bench import run
from engine.charts import (
    batch_profile,
    benchmark_figures,
    cost_by_plan,
    latency_budget_breakdown,
    latency_percentiles,
    latency_vs_load,
    sweep_heatmap,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = {"family": "mlp", "input_dim": 16, "hidden_dims": [32], "output_dim": 8}
BENCH_FIGURES = (latency_vs_load, latency_percentiles, batch_profile, sweep_heatmap)


@pytest.fixture(scope="module")
def real_result():
    """One tiny capacity run (a few seconds): offline, max-QPS search, run at the target rate."""
    result = run({
        "workload": TINY,
        "device": "cpu",
        "threads": 1,
        "batcher": {"max_batch_size": 8, "max_queue_delay_ms": 0.0},
        "latency_p99_budget_ms": 200.0,  # generous: a loaded machine must still find a capacity
        "queries": 200,
        "run_budgets": 0.5,
        "offline_batch_sizes": [1, 4, 8],
        "offline_min_time_s": 0.02,
        "target_qps": 200.0,
    })
    assert result["status"] == "ok", result["error"]
    return result


def hand_made_result():
    """Every section, in the shapes ``engine.bench.run`` produces, with the awkward values a real
    result can hold: a probe whose p99 is unbounded (None), numpy scalars, a NaN."""
    def server_run(rate, p50, p99, **extra):
        return {
            "rate_qps": rate, "offered_qps": rate * 0.98, "p99_all_ms": p99,
            "latency_ms": {"count": 2000, "p50_ms": p50, "p90_ms": p50 * 2, "p95_ms": p50 * 3,
                           "p99_ms": p99, "max_ms": None if p99 is None else p99 * 1.5,
                           "mean_ms": p50 * 1.2},
            "rejected": 0, "timed_out": 0, "failed": 0, "unanswered": 0, "valid": True,
            "short_run": False, "core": {"mean_batch_size": 4.0}, **extra,
        }

    return {
        "status": "ok", "error": None, "scenario": "capacity",
        "latency_p99_budget_ms": 20.0,
        "max_qps_at_p99": 1500.0,
        "max_qps_confirmed": True,
        "target_qps": 750.0,
        "p99_ms": 6.5,
        "p50_ms": 2.0,
        "p99_valid": True,
        "batch_time_fit": {"intercept_ms": 1.5, "per_item_ms": 0.25, "r2": 0.99},
        "offline_max_qps": 3000.0,
        "offline": {
            "batch_sizes": [
                {"batch_size": np.int64(1), "throughput_qps": 570.0, "batch_time_ms": 1.75, "batches": 50},
                {"batch_size": 4, "throughput_qps": np.float64(1600.0), "batch_time_ms": 2.5, "batches": 50},
                {"batch_size": 16, "throughput_qps": 2900.0, "batch_time_ms": float("nan"), "batches": 50},
            ],
            "fit": {"intercept_ms": 1.5, "per_item_ms": 0.25, "r2": 0.99},
        },
        "search": {
            "max_qps": 1500.0, "p99_ms": 18.0, "confirmed": True, "p99_budget_ms": 20.0,
            "steps": [
                {"rate_qps": 1000.0, "p99_ms": 9.0, "valid": True, "pass": True},
                {"rate_qps": 2000.0, "p99_ms": None, "valid": True, "pass": False},
                {"rate_qps": 1700.0, "p99_ms": 35.0, "valid": True, "pass": False},
                {"rate_qps": 1500.0, "p99_ms": 17.0, "valid": True, "pass": True},
                {"rate_qps": 1500.0, "p99_ms": 18.0, "valid": True, "pass": True},
            ],
            "result": server_run(1500.0, 8.0, 18.0),
        },
        "server": server_run(750.0, 2.0, 6.5),
        "overload": {"factor": 2.0, "run": server_run(3000.0, 12.0, None)},
        "sweep": {
            "p99_budget_ms": 20.0,
            "grid": [
                {"max_batch_size": 8, "max_queue_delay_ms": 0.0, "max_qps": 1200.0, "p99_ms": 19.0,
                 "confirmed": True},
                {"max_batch_size": 8, "max_queue_delay_ms": 2.0, "max_qps": 1300.0, "p99_ms": 19.5,
                 "confirmed": False},
                {"max_batch_size": 32, "max_queue_delay_ms": 0.0, "max_qps": 1500.0, "p99_ms": 18.0,
                 "confirmed": True},
                {"max_batch_size": 32, "max_queue_delay_ms": 2.0, "max_qps": 1450.0, "p99_ms": 17.0,
                 "confirmed": True},
                # (64, 2.0) never ran: its cell stays empty.
                {"max_batch_size": 64, "max_queue_delay_ms": 0.0, "max_qps": 0.0, "p99_ms": None,
                 "confirmed": False},
            ],
            "recommendation": {"max_batch_size": 32, "max_queue_delay_ms": 0.0, "max_qps": 1500.0,
                               "p99_ms": 18.0, "confirmed": True},
        },
    }


def assert_plain(value, path="figure"):
    """Only JSON's own types (no numpy scalar hiding as a float subclass) and no NaN."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, path
            assert_plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_plain(item, f"{path}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{path}: {type(value)}"
        if type(value) is float:
            assert math.isfinite(value), path


def assert_valid(figure):
    assert set(figure) == {"data", "layout"}
    go.Figure(figure)  # raises on any invalid property
    json.dumps(figure, allow_nan=False)
    assert_plain(figure)
    layout = figure["layout"]
    assert layout["title"]["text"]
    assert layout["paper_bgcolor"] == layout["plot_bgcolor"] == "white"
    for name in ("xaxis", "yaxis"):
        assert name in layout


def trace(figure, name):
    """The trace called ``name``, else the one whose name starts with it."""
    names = [t.get("name", "") for t in figure["data"]]
    (found,) = [t for t, n in zip(figure["data"], names) if n == name] or [
        t for t, n in zip(figure["data"], names) if n.startswith(name)]
    return found


def budget_line(figure):
    (shape,) = [s for s in figure["layout"]["shapes"] if s["name"] == "p99 budget"]
    return shape


# -- import isolation ------------------------------------------------------------------------------
def test_importing_engine_charts_loads_no_plotly_numpy_or_django():
    check = (
        "import sys, engine.charts\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'plotly', 'numpy', 'torch', 'django', 'celery', 'reviewapp'}))"
    )
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- a real result ---------------------------------------------------------------------------------
def test_a_real_capacity_result_gives_valid_figures(real_result):
    figures = benchmark_figures(real_result)
    assert [f["key"] for f in figures] == ["latency_vs_load", "latency_percentiles", "batch_profile"]
    for item in figures:
        assert item["title"] == item["figure"]["layout"]["title"]["text"]
        assert_valid(item["figure"])
    json.dumps(figures, allow_nan=False)
    assert sweep_heatmap(real_result) is None  # a capacity run has no sweep


def test_real_latency_vs_load_marks_budget_operating_point_and_target(real_result):
    figure = latency_vs_load(real_result)
    assert budget_line(figure)["y0"] == budget_line(figure)["y1"] == real_result["latency_p99_budget_ms"]
    if real_result["max_qps_at_p99"] > 0:
        assert trace(figure, "operating point")["x"] == [real_result["max_qps_at_p99"]]
    assert trace(figure, "target rate")["x"] == [real_result["target_qps"]]
    # Every search probe appears, on the p99 line or as unbounded.
    steps = real_result["search"]["steps"]
    p99 = trace(figure, "p99")
    unbounded = [t for t in figure["data"] if t["name"].startswith("p99 unbounded")]
    plotted = len(p99["x"]) + sum(len(t["x"]) for t in unbounded)
    assert plotted == len(steps) + 1  # + the run at the target rate
    assert p99["x"] == sorted(p99["x"])


def test_real_percentiles_are_the_target_runs(real_result):
    figure = latency_percentiles(real_result)
    bars = figure["data"][0]
    latency = real_result["server"]["latency_ms"]
    assert bars["x"] == ["p50", "p90", "p95", "p99", "max"]
    assert bars["y"] == [latency[k] for k in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms")]
    assert budget_line(figure)["y0"] == real_result["latency_p99_budget_ms"]


def test_real_batch_profile_draws_the_fitted_line(real_result):
    figure = batch_profile(real_result)
    sizes = [r["batch_size"] for r in real_result["offline"]["batch_sizes"]]
    assert trace(figure, "throughput")["x"] == sizes
    rows = real_result["offline"]["batch_sizes"]
    assert trace(figure, "throughput")["y"] == [r["throughput_qps"] for r in rows]
    fit = real_result["batch_time_fit"]
    line = trace(figure, "fit")
    assert line["yaxis"] == "y2" and figure["layout"]["yaxis2"]["overlaying"] == "y"
    assert line["x"] == sizes
    assert line["y"] == pytest.approx([fit["intercept_ms"] + fit["per_item_ms"] * b for b in sizes])


# -- hand-made results ---------------------------------------------------------------------------
def test_a_hand_made_result_with_every_section_gives_four_valid_figures():
    figures = benchmark_figures(hand_made_result())
    assert [f["key"] for f in figures] == [
        "latency_vs_load", "latency_percentiles", "batch_profile", "sweep_heatmap",
    ]
    for item in figures:
        assert_valid(item["figure"])


def test_latency_vs_load_places_budget_operating_point_and_unbounded_probes():
    result = hand_made_result()
    figure = latency_vs_load(result)
    assert budget_line(figure)["y0"] == 20.0
    point = trace(figure, "operating point")
    assert point["x"] == [result["max_qps_at_p99"]] and point["y"] == [18.0]
    assert trace(figure, "target rate")["x"] == [750.0] and trace(figure, "target rate")["y"] == [6.5]
    p99 = trace(figure, "p99")
    assert p99["x"] == [750.0, 1000.0, 1500.0, 1500.0, 1700.0]
    assert p99["marker"]["symbol"][-1] == "x"  # the failed probe at 1700 QPS
    unbounded = trace(figure, "p99 unbounded")
    assert unbounded["x"] == [2000.0] and unbounded["y"][0] > 35.0  # above everything plotted
    assert trace(figure, "p50")["x"] == [750.0, 1500.0]
    overload = trace(figure, "overload run")
    assert overload["x"] == [3000.0] and overload["y"] == [12.0]  # its p99 is unbounded: left out


def test_an_unconfirmed_or_zero_capacity_is_labelled_or_left_out():
    result = hand_made_result()
    result["max_qps_confirmed"] = False
    assert trace(latency_vs_load(result), "operating point")["name"].endswith("(unconfirmed)")
    result["max_qps_at_p99"] = 0.0
    assert not [t for t in latency_vs_load(result)["data"] if t["name"].startswith("operating point")]


def test_batch_profile_fit_matches_intercept_plus_per_item_and_skips_nan():
    figure = batch_profile(hand_made_result())
    assert_valid(figure)
    assert trace(figure, "fit")["y"] == [1.5 + 0.25 * b for b in (1, 4, 16)]
    assert trace(figure, "batch time")["y"] == [1.75, 2.5, None]  # NaN became None
    assert figure["layout"]["xaxis"]["tickvals"] == [1, 4, 16]
    assert type(figure["layout"]["xaxis"]["tickvals"][0]) is int  # numpy int64 became int


def test_batch_profile_falls_back_to_the_offline_fit_and_draws_without_one():
    result = hand_made_result()
    result["batch_time_fit"] = None
    assert trace(batch_profile(result), "fit")["y"][0] == 1.75
    result["offline"]["fit"] = None
    figure = batch_profile(result)
    assert_valid(figure)
    assert not [t for t in figure["data"] if t["name"].startswith("fit")]


def test_percentiles_over_the_budget_are_red_and_failures_are_named():
    result = hand_made_result()
    result["latency_p99_budget_ms"] = 6.2  # p99 6.5 and max 9.75 are over it, p95 6.0 is not
    result["server"]["rejected"] = 3
    figure = latency_percentiles(result)
    colours = figure["data"][0]["marker"]["color"]
    assert colours[:3] == [colours[0]] * 3 and colours[3] == colours[4] != colours[0]
    assert "3 failed" in figure["layout"]["title"]["text"]
    assert budget_line(figure)["y0"] == 6.2


def test_sweep_heatmap_is_batch_sizes_by_delays_with_empty_cells():
    figure = sweep_heatmap(hand_made_result())
    assert_valid(figure)
    heat = figure["data"][0]
    assert heat["y"] == [8, 32, 64] and heat["x"] == [0, 2]
    assert len(heat["z"]) == 3 and all(len(row) == 2 for row in heat["z"])
    assert heat["z"] == [[1200.0, 1300.0], [1500.0, 1450.0], [0.0, None]]
    assert heat["text"][1][0].startswith("★")  # the recommendation
    assert "unconfirmed" in heat["text"][0][1]
    assert heat["text"][2][1] == "not run"


def test_a_real_sized_sweep_grid_matches_its_dimensions():
    grid = [{"max_batch_size": b, "max_queue_delay_ms": d, "max_qps": float(b * 10 + d), "confirmed": True}
            for b in (8, 32, 64, 128) for d in (0.0, 0.5, 2.0)]
    figure = sweep_heatmap({"sweep": {"grid": grid, "recommendation": None}})
    assert_valid(figure)
    heat = figure["data"][0]
    assert (len(heat["z"]), len(heat["z"][0])) == (4, 3)
    assert heat["x"] == [0, 0.5, 2]
    assert not figure["layout"]["annotations"]  # no recommendation, no star caption


# -- missing sections ------------------------------------------------------------------------------
@pytest.mark.parametrize("result", [
    {},
    None,
    "not a result",
    {"status": "failed", "error": "RuntimeError: boom", "offline": None, "search": None,
     "server": None, "overload": None, "sweep": None, "latency_p99_budget_ms": None},
    {"offline": "garbage", "search": [], "server": 3, "sweep": {"grid": None}},
    {"offline": {"batch_sizes": []}, "server": {"latency_ms": {}}, "sweep": {"grid": [{"max_qps": 1}]}},
])
def test_missing_sections_give_none_not_errors(result):
    for build in BENCH_FIGURES:
        assert build(result) is None
    assert benchmark_figures(result) == []


def test_an_offline_only_result_gives_only_the_batch_profile():
    result = hand_made_result()
    for key in ("search", "server", "overload", "sweep", "max_qps_at_p99", "target_qps", "p99_ms"):
        result[key] = None
    assert [f["key"] for f in benchmark_figures(result)] == ["batch_profile"]


def test_a_sweep_result_has_no_latency_curve_but_a_heatmap():
    result = hand_made_result()
    for key in ("search", "server", "overload", "target_qps", "p99_ms"):
        result[key] = None
    assert latency_vs_load(result) is None
    assert [f["key"] for f in benchmark_figures(result)] == ["batch_profile", "sweep_heatmap"]


def test_latency_vs_load_without_a_budget_draws_no_line():
    result = hand_made_result()
    result["latency_p99_budget_ms"] = None
    figure = latency_vs_load(result)
    assert_valid(figure)
    assert figure["layout"]["shapes"] == []


# -- planning figures ------------------------------------------------------------------------------
def test_latency_budget_breakdown_stacks_parts_with_headroom_and_the_budget_line():
    parts = [("network", 20.0), ("processing", 15.0), ("queueing", 5.0), ("model", 60.0)]
    figure = latency_budget_breakdown(parts, 150.0)
    assert_valid(figure)
    assert figure["layout"]["barmode"] == "stack"
    assert [t["name"] for t in figure["data"]] == ["network", "processing", "queueing", "model", "headroom"]
    assert [t["x"][0] for t in figure["data"]] == [20.0, 15.0, 5.0, 60.0, 50.0]
    assert all(t["orientation"] == "h" for t in figure["data"])
    line = budget_line(figure)
    assert line["x0"] == line["x1"] == 150.0


def test_latency_budget_breakdown_skips_blank_and_negative_parts():
    parts = [("network", None), ("processing", float("nan")), ("queueing", np.float64(10.0)),
             ("model", -5.0)]
    figure = latency_budget_breakdown(parts, 8.0)  # overrun: no headroom
    assert_valid(figure)
    assert [t["name"] for t in figure["data"]] == ["queueing"]
    no_budget = latency_budget_breakdown(parts, None)
    assert_valid(no_budget)
    assert no_budget["layout"]["shapes"] == []
    assert latency_budget_breakdown([("network", None)], 100.0) is None
    assert latency_budget_breakdown([], 100.0) is None


def test_cost_by_plan_highlights_the_chosen_plan():
    rows = [("on-demand", 12000.0), ("spot", 4000.0), ("1-year reserved", None), ("mixed", np.float64(7000))]
    figure = cost_by_plan(rows, "spot")
    assert_valid(figure)
    bars = figure["data"][0]
    assert bars["x"] == ["on-demand", "spot", "mixed"] and bars["y"] == [12000.0, 4000.0, 7000.0]
    colours = bars["marker"]["color"]
    assert colours[1] != colours[0] == colours[2]
    assert "chosen" in bars["text"][1] and "chosen" not in bars["text"][0]
    assert figure["layout"]["yaxis"]["title"]["text"] == "monthly cost (USD)"


def test_cost_by_plan_without_a_known_choice_or_rows():
    figure = cost_by_plan([("on-demand", 10.0), ("spot", 3.0)], None)
    assert len(set(figure["data"][0]["marker"]["color"])) == 1
    assert len(set(cost_by_plan([("spot", 3.0)], "nope")["data"][0]["marker"]["color"])) == 1
    assert cost_by_plan([("spot", None)], "spot") is None
    assert cost_by_plan([], None) is None
