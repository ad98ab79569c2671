"""The facts tree: complete, documented, CEL-friendly, and robust to half-filled or bad designs."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.design import FIELDS, example_design
from engine.facts import PROVENANCES, build_facts, fact_reference, main, reference_markdown
from engine.planning import shipped_catalog

ROOT = Path(__file__).resolve().parents[2]
MEASURED = {"max_qps_at_p99": 12.5, "p50_ms_at_peak": 2100.0, "p95_ms_at_peak": 5000.0, "p99_ms_at_peak": 7000.0,
            "p99_budget_ms": 7750.0, "device": "NVIDIA H100 80GB HBM3", "dtype": "fp8", "torch_version": "2.13.0",
            "max_batch_size": 64, "seed": 1, "duration_s": 60.0, "measured_at": "2026-11-27T10:00:00Z",
            "unrelated": "ignored"}


def leaf_paths(tree, prefix=""):
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from leaf_paths(value, path + ".")
        else:
            yield path


def reference_paths():
    return [row["path"] for row in fact_reference()]


@pytest.mark.parametrize("inputs, measurements", [
    (example_design(), None), (example_design(), MEASURED), ({}, None), ({"requirements.peak_qps": "x"}, None),
])
def test_the_reference_covers_every_fact_and_nothing_else(inputs, measurements):
    facts = build_facts(inputs, measurements=measurements)
    assert sorted(leaf_paths(facts.tree)) == sorted(reference_paths())
    assert set(facts.meta) == set(reference_paths())


def test_reference_rows_are_unique_and_complete():
    rows = fact_reference()
    assert len({r["path"] for r in rows}) == len(rows)
    for row in rows:
        assert set(row) == {"path", "unit", "description", "type"}
        assert row["description"] and row["type"]
    tops = {r["path"].split(".")[0] for r in rows}
    assert tops == {"requirements", "architecture", "traffic", "latency_budget", "data_volume", "memory", "capacity",
                    "cost", "batch", "streaming", "benchmark"}
    by_path = {r["path"]: r for r in rows}
    assert by_path["requirements.latency_p99_ms"]["unit"] == "ms"
    assert by_path["cost.monthly_usd.spot"]["unit"] == "USD/month"
    assert by_path["capacity.replicas"]["type"] == "int?"
    assert by_path["architecture.fallback_chain"]["type"] == "list(string)"


def test_the_committed_reference_is_current():
    assert (ROOT / "docs" / "facts.md").read_text(encoding="utf-8") == reference_markdown()


def test_the_example_has_real_numbers_and_no_errors():
    facts = build_facts(example_design())
    assert [w for w in facts.warnings if w["severity"] != "info"] == []
    t = facts.tree
    assert t["requirements"]["latency_p99_ms"] == 8000.0
    assert t["traffic"]["peak_qps"] == 70.0
    assert t["capacity"]["replicas"] >= 2 and t["capacity"]["per_replica_qps_source"] == "estimated"
    for plan in ("on_demand", "spot", "reserved_1y", "reserved_3y", "mixed", "selected"):
        assert t["cost"]["monthly_usd"][plan] > 0
    assert t["cost"]["within_budget"] is True
    assert t["benchmark"]["available"] is False and t["benchmark"]["max_qps_at_p99"] is None
    assert facts.get("cost.monthly_usd.selected") == t["cost"]["monthly_usd"]["mixed"]
    assert facts.get("no.such.path", "x") == "x"


def test_meta_labels_provenance():
    facts = build_facts(example_design())
    assert set(m["provenance"] for m in facts.meta.values()) <= set(PROVENANCES)
    assert facts.meta["requirements.latency_p99_ms"]["provenance"] == "entered"
    assert facts.meta["traffic.peak_qps"]["provenance"] == "entered"
    assert facts.meta["traffic.concurrency_peak"]["provenance"] == "derived"
    assert facts.meta["capacity.per_replica_qps"]["provenance"] == "estimated"
    assert facts.meta["capacity.replicas"]["provenance"] == "estimated"
    assert facts.meta["cost.hourly_usd.spot"]["provenance"] == "entered"
    derived = build_facts({"requirements.daily_active_users": "1000", "requirements.requests_per_user_per_day": "5"})
    assert derived.meta["traffic.average_qps"]["provenance"] == "derived"


def test_measurements_replace_the_estimate():
    facts = build_facts(example_design(), measurements=MEASURED)
    t = facts.tree
    assert t["benchmark"]["available"] is True
    assert t["benchmark"]["max_qps_at_p99"] == 12.5 and t["benchmark"]["device"] == "NVIDIA H100 80GB HBM3"
    assert t["benchmark"]["meets_p99_target"] is True  # 7000 <= 8000
    assert t["capacity"]["per_replica_qps"] == 12.5
    assert t["capacity"]["per_replica_qps_source"] == "measured"
    assert facts.meta["capacity.per_replica_qps"]["provenance"] == "measured"
    assert facts.meta["capacity.replicas"]["provenance"] == "derived"
    assert facts.meta["benchmark.max_qps_at_p99"]["provenance"] == "measured"
    # 70 x 0.85 x 0.7 = 41.65 req/s at the model; ceil(41.65 / (12.5 x 0.7)) = 5; 2 zones: 2 x 5 = 10; N+1: 11
    assert t["capacity"]["replicas"] == 11
    assert t["cost"]["levers"]["quantization_savings_usd"] is None


def test_bad_measurements_are_ignored_with_a_warning():
    facts = build_facts(example_design(), measurements={"max_qps_at_p99": "fast", "seed": 1.5, "device": ["x"]})
    assert facts.tree["benchmark"]["available"] is False
    assert facts.tree["capacity"]["per_replica_qps_source"] == "estimated"
    assert {w["path"] for w in facts.warnings} >= {"benchmark.max_qps_at_p99", "benchmark.seed"}


def test_a_half_filled_design_still_has_facts():
    facts = build_facts({"requirements.peak_qps": "40", "architecture.gpu_type": "l4-24gb"})
    assert facts.tree["traffic"]["peak_qps"] == 40.0
    assert facts.tree["capacity"]["replicas"] is None
    assert facts.tree["cost"]["monthly_usd"]["spot"] is None
    assert facts.tree["cost"]["hourly_usd"]["spot"] == shipped_catalog()["gpus"]["l4-24gb"]["price_usd_per_hour"]["spot"]


def test_field_errors_become_error_warnings_on_the_field():
    facts = build_facts({"requirements.latency_p99_ms": "soon"})
    assert {"path": "requirements.latency_p99_ms", "message": "P99 latency: expects a number.",
            "severity": "error"} in facts.warnings
    assert facts.to_dict()["errors"] == {"requirements.latency_p99_ms": ["P99 latency: expects a number."]}


def test_the_budget_gap_warning():
    design = example_design()
    selected = build_facts(design).tree["cost"]["monthly_usd"]["selected"]
    design["requirements"]["monthly_gpu_budget_usd"] = selected / 1.4
    facts = build_facts(design)
    assert facts.tree["cost"]["budget_gap_pct"] == pytest.approx(40.0)
    assert any("exceeds the GPU budget" in w["message"] and "by 40 %" in w["message"] for w in facts.warnings)


def test_assumed_defaults_are_said_out_loud():
    design = example_design()
    design["architecture"]["target_utilisation_pct"] = None
    facts = build_facts(design)
    assert facts.tree["architecture"]["target_utilisation_pct"] is None  # inputs stay as entered
    assert facts.tree["capacity"]["target_utilisation_pct"] == 70.0
    assert {"path": "architecture.target_utilisation_pct", "severity": "info",
            "message": "Target utilisation is not set; the plan assumes 70 %."} in facts.warnings


def test_a_staff_catalog_changes_prices():
    catalog = shipped_catalog()
    catalog["gpus"]["h100-80gb"]["price_usd_per_hour"]["on_demand"] *= 2
    base = build_facts(example_design()).tree["cost"]["monthly_usd"]["on_demand"]
    doubled = build_facts(example_design(), gpu_catalog=catalog).tree["cost"]["monthly_usd"]["on_demand"]
    assert doubled == pytest.approx(2 * base, rel=1e-3)
    broken = build_facts(example_design(), gpu_catalog={"gpus": {}})
    assert broken.tree["cost"]["monthly_usd"]["on_demand"] == pytest.approx(base)
    assert any(w["path"] == "cost.gpu_type" for w in broken.warnings)


def _assert_cel_friendly(value):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            _assert_cel_friendly(item)
    elif isinstance(value, list):
        for item in value:
            _assert_cel_friendly(item)
    else:
        assert value is None or type(value) in (bool, int, float, str), repr(value)
        if isinstance(value, float):
            assert math.isfinite(value)


def test_the_tree_is_plain_json():
    facts = build_facts(example_design(), measurements=MEASURED)
    _assert_cel_friendly(facts.tree)
    json.dumps(facts.to_dict(), allow_nan=False)


def test_rules_can_read_the_tree_with_cel():
    import cel  # a required dependency (common-expression-language): missing is a failure, not a skip

    tree = build_facts(example_design()).tree
    assert cel.evaluate("requirements.latency_p99_ms <= 10000 && size(architecture.fallback_chain) >= 2", tree)
    assert cel.evaluate("cost.monthly_usd.spot < cost.monthly_usd.on_demand", tree)
    assert cel.evaluate("'readiness' in architecture.health_checks && capacity.replicas >= 2", tree)
    assert cel.evaluate("benchmark.available == false && benchmark.max_qps_at_p99 == null", tree)


_field_keys = st.sampled_from([f.key for f in FIELDS])
_raw = st.one_of(st.none(), st.text(max_size=12), st.integers(-10**12, 10**12),
                 st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                 st.lists(st.text(max_size=8), max_size=3),
                 st.sampled_from(["0", "100", "generative", "dynamic", "mixed", "h100-80gb", "cpu-16vcpu", "multi_zone",
                                  "result,prompt", "embed", "on", "batch", "streaming", "none", "spot"]))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_field_keys, _raw, max_size=40))
def test_build_facts_never_raises(inputs):
    facts = build_facts(inputs)
    _assert_cel_friendly(facts.tree)
    assert sorted(leaf_paths(facts.tree)) == sorted(reference_paths())
    for warning in facts.warnings:
        assert warning["severity"] in ("info", "warning", "error") and warning["message"]


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_field_keys, _raw, max_size=40))
def test_build_facts_never_raises_around_the_example(changes):
    design = example_design()
    for key, value in changes.items():
        group, name = key.split(".")
        design[group][name] = value
    _assert_cel_friendly(build_facts(design).tree)


def test_the_command_line_prints_the_reference(capsys):
    assert main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["path"] == "requirements.use_case"
    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == reference_markdown()
    assert main(["--example"]) == 0
    assert json.loads(capsys.readouterr().out)["tree"]["traffic"]["peak_qps"] == 70.0


def test_the_engine_needs_no_django():
    code = ("import sys, engine.design, engine.planning, engine.facts; "
            "bad = [m for m in ('django', 'celery', 'reviewapp') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
