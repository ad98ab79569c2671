"""The shipped default checklist: coverage of the seed's topics, and real rules over real facts."""

import json
import pathlib

import pytest

from engine.checklist import compile_checklist, default_checklist, evaluate
from engine.checklist.jsonformat import dump_checklist, load_checklist
from engine.checklist.lens import checklist_to_lens, lens_to_checklist

import engine.design as design_module
import engine.facts as facts_module

PATH = pathlib.Path(__file__).parents[2] / "engine" / "data" / "default_checklist.json"
FACT_PATHS = [row["path"] for row in facts_module.fact_reference()]
REQUIRED_AUTOMATIC = {
    "req_p99_budget_online": "requirements",        # p99 budget defined for online workloads
    "rel_fallback_chain": "reliability",            # >= 2 fallbacks when availability >= 99.9 %
    "srv_circuit_breaker_sync": "serving",          # circuit breaker for synchronous serving
    "cost_spot_tolerant": "cost",                   # spot only for interruption-tolerant work
    "cost_within_budget": "cost",                   # monthly cost within the GPU budget
    "rev_measured_p99_within_budget": "review",     # measured p99 at peak within budget
}


@pytest.fixture(scope="module")
def checklist():
    return load_checklist(PATH.read_text())


@pytest.fixture(scope="module")
def compiled(checklist):
    return compile_checklist(checklist, FACT_PATHS)  # every rule reads only real fact paths


def assess(compiled, design, measurements=None):
    return evaluate(compiled, facts_module.build_facts(design, measurements=measurements).tree)


def test_it_covers_the_eight_topics_and_their_fit_with_at_least_60_items_half_automatic(checklist):
    # Issue 12 added the ninth section: cross-checks between requirements and architecture.
    assert [s.key for s in checklist.ordered_sections()] == [
        "requirements", "data", "serving", "scaling", "reliability", "cost", "operations", "review", "fit"]
    items = [item for _, item in checklist.iter_items()]
    assert len(items) >= 60
    assert sum(item.mode == "automatic" for item in items) * 2 >= len(items)
    for section in checklist.sections:
        assert len(section.items) >= 5, section.key
    for item in items:
        assert item.why.strip() and item.improvement_plan.strip() and item.question.strip(), item.key
        assert item.level in ("bronze", "silver", "gold"), item.key


def test_it_has_the_required_automatic_rules(checklist):
    for key, section_key in REQUIRED_AUTOMATIC.items():
        section = next(s for s in checklist.sections if any(i.key == key for i in s.items))
        assert (section.key, checklist.item(key).mode) == (section_key, "automatic")
    assert checklist.item("rev_measured_p99_within_budget").applies_when == "benchmark.available"


def test_the_file_is_in_canonical_form(checklist):
    assert json.loads(PATH.read_text()) == dump_checklist(checklist)
    assert default_checklist() == checklist


def test_the_demo_design_gets_a_mix_of_passes_and_findings_and_no_rule_errors(compiled):
    evaluation = assess(compiled, design_module.example_design())
    errors = [(f.item_key, f.message) for f in evaluation.findings if f.outcome == "rule_error"]
    assert errors == []
    assert evaluation.counts["pass"] >= 30
    assert evaluation.counts["fail"] >= 1
    assert evaluation.counts["not_applicable"] >= 1
    for finding in evaluation.findings:
        if finding.outcome == "fail":
            assert finding.improvement_plan
    assert evaluation.finding("rev_measured_p99_within_budget").outcome == "not_applicable"
    assert 0 < evaluation.score.overall < 100


def test_a_blank_design_gives_no_rule_errors(compiled):
    evaluation = assess(compiled, design_module.empty_design())
    assert [f.item_key for f in evaluation.findings if f.outcome == "rule_error"] == []
    assert evaluation.verdict == "not_ready"


def changed(**sections):
    design = design_module.example_design()
    for group, values in sections.items():
        design[group].update(values)
    return design


@pytest.mark.parametrize("key, change, outcome", [
    ("req_p99_budget_online", {"requirements": {"latency_p99_ms": None}}, "fail"),
    ("req_p99_budget_online", {"requirements": {"workload_timing": "batch"}}, "not_applicable"),
    ("rel_fallback_chain", {"architecture": {"fallback_chain": ["cache"]}}, "fail"),
    ("rel_fallback_chain", {"requirements": {"availability_target_pct": 99.5},
                            "architecture": {"fallback_chain": []}}, "not_applicable"),
    ("srv_circuit_breaker_sync", {"architecture": {"circuit_breaker": False}}, "fail"),
    ("srv_circuit_breaker_sync", {"architecture": {"inference_mode": "async", "circuit_breaker": False}}, "not_applicable"),
    ("cost_spot_tolerant", {"architecture": {"pricing_model": "spot"}}, "fail"),
    ("cost_spot_tolerant", {"architecture": {"pricing_model": "spot", "inference_mode": "async"}}, "pass"),
    ("cost_spot_tolerant", {"architecture": {"pricing_model": "on_demand"}}, "not_applicable"),
    ("cost_within_budget", {"requirements": {"monthly_gpu_budget_usd": 1000.0}}, "fail"),
])
def test_the_required_rules_react_to_the_design(compiled, key, change, outcome):
    evaluation = assess(compiled, changed(**change))
    assert evaluation.finding(key).outcome == outcome
    assert [f.item_key for f in evaluation.findings if f.outcome == "rule_error"] == []


@pytest.mark.parametrize("p99_ms, outcome", [(3000.0, "pass"), (90000.0, "fail")])
def test_measured_p99_applies_once_a_benchmark_exists(compiled, p99_ms, outcome):
    measurements = {"max_qps_at_p99": 20.0, "p50_ms_at_peak": 900.0, "p95_ms_at_peak": 2000.0,
                    "p99_ms_at_peak": p99_ms, "device": "cpu", "dtype": "fp8"}
    evaluation = assess(compiled, design_module.example_design(), measurements)
    finding = evaluation.finding("rev_measured_p99_within_budget")
    assert finding.outcome == outcome
    assert finding.trace[1].facts["benchmark.p99_ms_at_peak"] == p99_ms
    assert [f.item_key for f in evaluation.findings if f.outcome == "rule_error"] == []


def test_it_exports_as_a_lens_within_aws_limits_and_back(checklist):
    lens = checklist_to_lens(checklist)
    assert len(lens["pillars"]) == 9  # the eight lessons and the fit section (AWS allows 10)
    assert all(len(p["questions"]) <= 20 for p in lens["pillars"])
    assert checklist_to_lens(lens_to_checklist(lens)) == lens


def test_assessing_a_design_compiles_nothing_and_runs_each_rule_once_per_set_of_facts(checklist, monkeypatch):
    """What keeps an assessment cheap, counted rather than timed (a wall clock on a shared
    machine measures the neighbours): rules are compiled once, by compile_checklist; the first
    assessment converts the facts for CEL once and runs each rule at most once; assessing the
    same facts again runs no rule and converts nothing."""
    from engine.checklist import evaluation, expressions, memo

    facts = facts_module.build_facts(design_module.example_design()).tree
    compiled = compile_checklist(checklist, FACT_PATHS)
    calls = {"compile": 0, "context": 0, "run": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(expressions.cel, "compile", counting("compile", expressions.cel.compile))
    monkeypatch.setattr(memo, "make_context", counting("context", memo.make_context))
    monkeypatch.setattr(evaluation, "run", counting("run", evaluation.run))
    first = evaluate(compiled, facts)
    rules = sum(bool(item.applies_when) + bool(item.passes_when) for _, item in checklist.iter_items())
    assert calls["compile"] == 0
    assert calls["context"] == 1
    assert 0 < calls["run"] <= rules
    runs = calls["run"]
    for _ in range(20):
        assert evaluate(compiled, facts) == first
    assert calls == {"compile": 0, "context": 1, "run": runs}
