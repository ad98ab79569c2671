"""The serving benchmark's report (benchmarks/serving_report.py), read back from a committed
result: the machine's drift is stated, and a run cut short says so instead of passing for a
full one."""

import copy
import json
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import serving_report  # noqa: E402

RESULT = ROOT / "benchmarks" / "results" / "serving-cpu-amd-9repeats.json"


@pytest.fixture
def result():
    return json.loads(RESULT.read_text())


def _args(result):
    return types.SimpleNamespace(skip_http=False, skip_loadgen=False, **result["settings"])


def test_the_summary_gives_s1s_range_over_the_repeats(result):
    s1 = [r["offline"]["batch_time_ms"]["1"] for r in result["repeats"]]
    summary = serving_report.summarise(result["repeats"], _args(result))
    assert (summary["s1_ms_min"], summary["s1_ms_max"]) == (min(s1), max(s1))
    assert summary["s1_ms_min"] < summary["s1_ms_max"]  # that day's machine drifted
    result["summary"] = summary
    header = serving_report.render_markdown(result).splitlines()[2]
    assert f"s(1) over the repeats {min(s1)}-{max(s1)} ms" in header


def test_a_run_cut_short_says_how_many_repeats_of_how_many(result):
    finished = copy.deepcopy(result)
    finished["settings"]["repeats_planned"] = finished["settings"]["repeats"]
    assert "planned" not in serving_report.render_markdown(finished).splitlines()[2]

    cut = copy.deepcopy(result)
    cut["repeats"] = cut["repeats"][:2]
    cut["settings"].update(repeats=2, repeats_planned=9)
    cut["summary"] = serving_report.summarise(cut["repeats"], _args(cut))
    header = serving_report.render_markdown(cut).splitlines()[2]
    assert "medians of 2 interleaved repeats (of 9 planned" in header
