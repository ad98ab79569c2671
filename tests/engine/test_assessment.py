import datetime as dt

import engine
from engine.checklist import compile_checklist, default_checklist
from engine.design import example_design


def test_assess_returns_facts_and_findings_for_the_demo():
    result = engine.assess(example_design(), compile_checklist(default_checklist()), today=dt.date(2026, 11, 27))
    assert result.facts.tree["requirements"]["latency_p99_ms"] == example_design()["requirements"]["latency_p99_ms"]
    outcomes = {f.outcome for f in result.evaluation.findings}
    assert {"pass", "fail"} <= outcomes
    assert result.evaluation.rule_error_count == 0


def test_assess_without_a_checklist_gives_only_facts():
    result = engine.assess({"requirements": {"latency_p99_ms": "not a number"}})
    assert result.evaluation is None
    assert result.facts.tree["requirements"]["latency_p99_ms"] is None
    assert "requirements.latency_p99_ms" in result.facts.validation.errors


def test_a_measurement_replaces_the_estimate():
    estimated = engine.assess(example_design())
    # One request per second per replica is far below the estimate: more replicas.
    measured = engine.assess(example_design(), measurements={"max_qps_at_p99": 1.0, "device": "test"})
    assert measured.facts.tree["benchmark"]["max_qps_at_p99"] == 1.0
    assert estimated.facts.meta["capacity.replicas"]["provenance"] == "estimated"
    assert measured.facts.meta["capacity.replicas"]["provenance"] == "derived"
    assert measured.facts.tree["capacity"]["replicas"] > estimated.facts.tree["capacity"]["replicas"]
