"""The default checklist's fit section (issue 12): cross-checks between requirements and
architecture. Each rule fires on a small design built here and passes on its corrected twin."""

import re

import pytest

from engine.checklist import compile_checklist, default_checklist, evaluate
from engine.facts import build_facts, fact_reference

CHECKLIST = default_checklist()
COMPILED = compile_checklist(CHECKLIST, [row["path"] for row in fact_reference()])
FIT_KEYS = [item.key for section in CHECKLIST.sections if section.key == "fit" for item in section.items]


def design(**values):
    """A small design from `group__name=value` keywords."""
    doc = {"requirements": {}, "architecture": {}}
    for key, value in values.items():
        group, name = key.split("__")
        doc[{"r": "requirements", "a": "architecture"}[group]][name] = value
    return doc


# A batch job with every number the batch calculators need (a small classifier on an L4).
BATCH = dict(r__workload_timing="batch", r__workload_type="classify", r__model_family="encoder",
             r__model_params_billions=0.35, r__input_tokens_per_request=256, a__gpu_type="l4-24gb",
             a__batching_mode="dynamic", a__max_batch_size=64, a__autoscaling_signal="queue_depth")
# An online service whose replicas measure 10 req/s each (so the fleet is known without a model).
SERVICE = dict(r__workload_timing="online", r__average_qps=10, r__peak_qps=100, a__gpu_type="h100-80gb")
MEASURED = {"max_qps_at_p99": 10.0, "p99_ms_at_peak": 100.0}

CASES = {
    # key: (design that fires it, its corrected twin, measurements)
    "fit_accelerator_for_model": (
        design(r__model_family="tree", r__workload_type="score", r__model_params_billions=0.01, r__average_qps=5,
               r__peak_qps=10, a__gpu_type="t4-16gb"),
        design(r__model_family="tree", r__workload_type="score", r__model_params_billions=0.01, r__average_qps=5,
               r__peak_qps=10, a__gpu_type="cpu-16vcpu"), None),
    "fit_batch_shape_stated": (
        design(r__workload_timing="batch", r__records_per_run=1000),
        design(r__workload_timing="batch", r__records_per_run=1000, r__processing_window_h=2), None),
    "fit_batch_meets_window": (
        design(**BATCH, r__records_per_run=3_600_000_000, r__processing_window_h=1, a__max_replicas=1),
        design(**BATCH, r__records_per_run=3_600_000_000, r__processing_window_h=1), None),
    "fit_streaming_pipeline": (
        design(r__workload_timing="streaming", a__pipeline_pattern="batch_only"),
        design(r__workload_timing="streaming", a__pipeline_pattern="kappa"), None),
    "fit_batch_results_fresh": (
        design(**BATCH, r__records_per_run=1_000_000, r__processing_window_h=2, r__feature_freshness_s=3600),
        design(**BATCH, r__records_per_run=1_000_000, r__processing_window_h=2, r__feature_freshness_s=100_000),
        None),
    "fit_batch_pipeline_simple": (
        design(r__workload_timing="batch", a__pipeline_pattern="kappa"),
        design(r__workload_timing="batch", a__pipeline_pattern="batch_only"), None),
    "fit_serving_mode_timing": (
        design(r__workload_timing="batch", a__inference_mode="sync"),
        design(r__workload_timing="batch", a__inference_mode="batch"), None),
    "fit_autoscaling_signal_model": (
        design(r__workload_type="generative", a__autoscaling_signal="gpu_utilisation"),
        design(r__workload_type="generative", a__autoscaling_signal="queue_depth"), None),
    "fit_canary_sample": (
        design(r__average_qps=1, a__rollout_strategy="canary", a__canary_traffic_pct=1),
        design(r__average_qps=100, a__rollout_strategy="canary", a__canary_traffic_pct=5), None),
    "fit_cache_hit_evidence": (
        design(a__caches=["result"], a__result_cache_hit_rate_pct=40, a__cache_hit_rate_basis="assumed"),
        design(a__caches=["result"], a__result_cache_hit_rate_pct=40, a__cache_hit_rate_basis="replayed_logs"),
        None),
    "fit_batching_mode_workload": (
        design(r__workload_type="generative", a__batching_mode="dynamic"),
        design(r__workload_type="generative", a__batching_mode="continuous"), None),
    "fit_static_batching_online": (
        design(r__workload_timing="online", a__batching_mode="static"),
        design(r__workload_timing="batch", a__batching_mode="static"), None),
    "fit_fixed_fleet_idle": (
        design(**SERVICE, a__autoscaling_signal="none"),
        design(**{**SERVICE, "r__average_qps": 80}, a__autoscaling_signal="none"), MEASURED),
    "fit_redundancy_availability": (
        design(r__availability_target_pct=99.95, a__redundancy="multi_zone", a__failure_domains=2,
               a__autoscaling_signal="queue_depth", a__min_replicas=1),
        design(r__availability_target_pct=99.95, a__redundancy="multi_zone", a__failure_domains=2,
               a__autoscaling_signal="queue_depth", a__min_replicas=2), None),
    "fit_rto_within_downtime_budget": (
        design(r__availability_target_pct=99.9, r__rto_minutes=60),  # 99.9 % allows 43.8 min a month
        design(r__availability_target_pct=99.9, r__rto_minutes=30), None),
    "fit_pricing_load_shape": (
        design(**SERVICE, a__autoscaling_signal="queue_depth", a__pricing_model="reserved_1y"),
        design(**SERVICE, a__autoscaling_signal="none", a__pricing_model="reserved_1y"), MEASURED),
    "fit_spot_batch_checkpoints": (
        design(**BATCH, r__records_per_run=3_000_000_000, r__processing_window_h=4, a__pricing_model="spot"),
        design(**BATCH, r__records_per_run=3_000_000_000, r__processing_window_h=4, r__deadline_h=6,
               a__pricing_model="spot", a__checkpoint_interval_minutes=10), None),
    "fit_quantization_quality": (
        design(a__quantization="int4", a__slos=["availability"]),
        design(a__quantization="int4", a__slos=["availability", "output_quality"]), None),
    "fit_tier_routing_used": (
        design(a__model_routing="rules", a__cheap_tier_share_pct=0),
        design(a__model_routing="rules", a__cheap_tier_share_pct=30), None),
    "fit_slos_monitored": (
        design(a__slos=["latency", "output_quality"], a__dashboards=["latency"]),
        design(a__slos=["latency", "output_quality"], a__dashboards=["latency", "quality"]), None),
    # Fleet semantics: a fixed fleet with min replicas blank runs its planned size (the issue's
    # 19-replica fleet used to fail here); an autoscaler whose floor is one replica fails.
    "scl_min_replicas_online": (
        design(**SERVICE, a__autoscaling_signal="queue_depth", a__min_replicas=1),
        design(**SERVICE, a__autoscaling_signal="none"), MEASURED),
}


def finding(doc, key, measurements=None):
    facts = build_facts(doc, measurements=measurements)
    assert not facts.validation.errors, facts.validation.errors
    evaluation = evaluate(COMPILED, facts.tree)
    assert [f.item_key for f in evaluation.findings if f.outcome == "rule_error"] == []
    return evaluation.finding(key)


def test_every_fit_rule_has_a_case():
    assert set(FIT_KEYS) <= set(CASES)
    assert len(FIT_KEYS) >= 15


@pytest.mark.parametrize("key", sorted(CASES))
def test_the_rule_fires_on_the_mismatch(key):
    fires, _, measurements = CASES[key]
    result = finding(fires, key, measurements)
    assert result.outcome == "fail", (result.outcome, result.message, result.trace)
    assert result.improvement_plan and result.trace[-1].field == "passes_when"


@pytest.mark.parametrize("key", sorted(CASES))
def test_the_rule_passes_on_the_fit(key):
    _, passes, measurements = CASES[key]
    result = finding(passes, key, measurements)
    assert result.outcome == "pass", (result.outcome, result.message, result.trace)


def test_a_fixed_fleet_of_nineteen_passes_the_two_replica_rule_with_min_replicas_blank():
    facts = build_facts(design(**{**SERVICE, "r__peak_qps": 133}, a__autoscaling_signal="none"),
                        measurements=MEASURED)
    assert facts.tree["capacity"]["replicas"] == 19 and facts.tree["architecture"]["min_replicas"] is None
    result = evaluate(COMPILED, facts.tree).finding("scl_min_replicas_online")
    assert result.outcome == "pass"
    assert result.trace[-1].facts["capacity.min_replicas_effective"] == 19


def test_each_fit_rule_says_why_plans_a_fix_and_names_its_lesson():
    lessons = set()
    for key in FIT_KEYS:
        item = CHECKLIST.item(key)
        assert item.mode == "automatic" and item.why and item.improvement_plan and item.question, key
        found = re.findall(r"lessons? (\d)(?: and (\d))?", item.why)
        assert found, key
        lessons.update(int(n) for pair in found for n in pair if n)
    assert lessons == set(range(1, 9))  # every lesson of the course


def test_the_section_comes_after_the_eight_lesson_sections():
    assert [s.key for s in CHECKLIST.ordered_sections()][-1] == "fit"
    assert next(s for s in CHECKLIST.sections if s.key == "fit").order == 9
