"""Rules that misjudged (issue 27, item 6), each case read as an expert reviewer would: the design
that should get a finding gets it, and its corrected twin (or the design the rule does not concern)
does not. No database."""

import pytest

from engine.checklist import compile_checklist, default_checklist, evaluate
from engine.design import field, validate
from engine.facts import build_facts, fact_reference

COMPILED = compile_checklist(default_checklist(), [row["path"] for row in fact_reference()])


def design(**values):
    """A small design from `group__name=value` keywords (r: requirements, a: architecture)."""
    doc = {"requirements": {}, "architecture": {}}
    for key, value in values.items():
        group, name = key.split("__")
        doc[{"r": "requirements", "a": "architecture"}[group]][name] = value
    return doc


# An online service whose replicas measure 10 req/s each, so the fleet is known without a model.
SERVICE = dict(r__workload_timing="online", r__average_qps=10, r__peak_qps=100, a__gpu_type="h100-80gb")
MEASURED = {"max_qps_at_p99": 10.0, "p99_ms_at_peak": 100.0}
# A batch job with every number the batch calculators need (a small classifier on an L4).
BATCH = dict(r__workload_timing="batch", r__workload_type="classify", r__model_family="encoder",
             r__model_params_billions=0.35, r__input_tokens_per_request=256, a__gpu_type="l4-24gb",
             a__batching_mode="dynamic", a__max_batch_size=64, a__autoscaling_signal="queue_depth")
STREAM = dict(r__workload_timing="streaming", r__events_per_second=100, r__allowed_lag_s=2,
              a__gpu_type="h100-80gb")


def assess(doc, measurements=None):
    facts = build_facts(doc, measurements=measurements)
    assert not facts.validation.errors, facts.validation.errors
    evaluation = evaluate(COMPILED, facts.tree)
    assert [(f.item_key, f.message) for f in evaluation.findings if f.outcome == "rule_error"] == []
    return facts, evaluation


def outcome(doc, key, measurements=None):
    return assess(doc, measurements)[1].finding(key).outcome


# --- timeouts x attempts against the budget, and a retry budget ------------------------------

def test_three_attempts_of_250_ms_do_not_fit_a_300_ms_p99_budget():
    online = dict(r__workload_timing="online", r__latency_p99_ms=300, a__inference_mode="sync")
    assert outcome(design(**online, a__request_timeout_ms=250, a__max_retries=2),
                   "rel_retries_within_budget") == "fail"
    # The older rule (timeout within 3x the budget) still passes it: that was the gap.
    assert outcome(design(**online, a__request_timeout_ms=250, a__max_retries=2),
                   "rel_timeout_near_budget") == "pass"
    assert outcome(design(**online, a__request_timeout_ms=100, a__max_retries=2),
                   "rel_retries_within_budget") == "pass"
    assert outcome(design(**online, a__request_timeout_ms=250, a__max_retries=0),
                   "rel_retries_within_budget") == "not_applicable"


def test_a_stream_spends_its_attempts_from_the_allowed_lag():
    stream = dict(**STREAM, a__max_retries=2)
    assert outcome(design(**stream, a__request_timeout_ms=1000), "rel_retries_within_budget") == "fail"
    assert outcome(design(**stream, a__request_timeout_ms=500), "rel_retries_within_budget") == "pass"


def test_retries_without_a_retry_budget_get_a_finding():
    assert field("architecture.retry_budget_pct").unit == "%"
    assert outcome(design(a__max_retries=2), "rel_retry_budget") == "fail"
    assert outcome(design(a__max_retries=2, a__retry_budget_pct=50), "rel_retry_budget") == "fail"
    assert outcome(design(a__max_retries=2, a__retry_budget_pct=10), "rel_retry_budget") == "pass"
    assert outcome(design(a__max_retries=0), "rel_retry_budget") == "not_applicable"


# --- the canary split the generated manifests make --------------------------------------------

def test_a_five_percent_canary_beside_one_stable_replica_is_a_fifty_percent_canary():
    small = design(**{**SERVICE, "r__average_qps": 2, "r__peak_qps": 5}, a__autoscaling_signal="none",
                   a__rollout_strategy="canary", a__canary_traffic_pct=5)
    facts, evaluation = assess(small, MEASURED)
    assert facts.tree["capacity"]["rollout"] == {"stable_replicas": 1, "canary_replicas": 1,
                                                 "canary_traffic_pct": 50.0}
    assert evaluation.finding("srv_canary_small").outcome == "fail"
    # The manifests really generate that split.
    from engine.deploy.manifests import _Reader, plan
    assert plan(_Reader(small, facts.tree)).canary_replicas == 1


def test_a_five_percent_canary_beside_a_large_stable_track_passes():
    large = design(**{**SERVICE, "r__average_qps": 200, "r__peak_qps": 400}, a__autoscaling_signal="none",
                   a__rollout_strategy="canary", a__canary_traffic_pct=5)
    facts, evaluation = assess(large, MEASURED)
    rollout = facts.tree["capacity"]["rollout"]
    assert rollout["canary_traffic_pct"] == pytest.approx(
        100 * rollout["canary_replicas"] / (rollout["canary_replicas"] + rollout["stable_replicas"]))
    assert rollout["canary_traffic_pct"] <= 10.0
    assert evaluation.finding("srv_canary_small").outcome == "pass"


def test_the_canary_sample_counts_the_traffic_the_canary_really_gets():
    # 1 req/s on average: 5 % asked is 180 requests an hour, but one canary beside one stable
    # replica gets half, 1,800 an hour.
    quiet = design(**{**SERVICE, "r__average_qps": 1, "r__peak_qps": 5}, a__autoscaling_signal="none",
                   a__rollout_strategy="canary", a__canary_traffic_pct=5)
    assert outcome(quiet, "fit_canary_sample", MEASURED) == "pass"
    assert outcome(quiet, "srv_canary_small", MEASURED) == "fail"


# --- a blank autoscaling signal is a fixed fleet ------------------------------------------------

@pytest.mark.parametrize("signal", [None, "none"])
def test_a_fixed_fleet_at_23_percent_average_load_gets_the_idle_fleet_finding(signal):
    # 15 replicas at peak (100 req/s at 70 % of 10 req/s each); 35 req/s on average is 23 %.
    doc = design(**{**SERVICE, "r__average_qps": 35}, a__pricing_model="on_demand")
    if signal is not None:
        doc["architecture"]["autoscaling_signal"] = signal
    facts, evaluation = assess(doc, MEASURED)
    assert facts.tree["capacity"]["autoscaled"] is False
    assert facts.tree["capacity"]["utilisation_average_pct"] == pytest.approx(100 * 35 / (15 * 10))
    assert evaluation.finding("fit_fixed_fleet_idle").outcome == "fail"


def test_an_autoscaled_fleet_is_not_judged_as_a_fixed_one():
    doc = design(**{**SERVICE, "r__average_qps": 32}, a__autoscaling_signal="queue_depth", a__min_replicas=2,
                 a__max_replicas=20)
    assert outcome(doc, "fit_fixed_fleet_idle", MEASURED) == "not_applicable"


def test_the_form_says_why_min_and_max_replicas_are_not_asked_for_a_fixed_fleet():
    hidden = set(validate(design(a__autoscaling_signal="none")).hidden)
    assert {"architecture.min_replicas", "architecture.max_replicas"} <= hidden
    help_text = field("architecture.autoscaling_signal").help.lower()
    assert "fixed fleet" in help_text and "min and max replicas" in help_text and "blank" in help_text


# --- workload shapes: units and the peak factor -------------------------------------------------

def test_a_flat_stream_gets_no_peak_factor_finding_but_a_flat_online_service_does():
    facts, evaluation = assess(design(**STREAM))
    assert facts.tree["traffic"]["peak_factor"] == 1.0
    assert evaluation.finding("req_peak_factor_realistic").outcome == "not_applicable"
    assert outcome(design(r__workload_timing="online", r__average_qps=100, r__peak_qps=100),
                   "req_peak_factor_realistic") == "fail"


@pytest.mark.parametrize("shape, extra, unit", [
    ("streaming", STREAM, "events/s"),
    ("batch", dict(BATCH, r__records_per_run=1_000_000, r__processing_window_h=2), "records/s"),
    ("online", SERVICE, "req/s"),
])
def test_rates_are_counted_in_the_shapes_own_unit(shape, extra, unit):
    facts = build_facts(design(**extra))
    for path in ("traffic.average_qps", "traffic.peak_qps", "capacity.per_replica_qps", "capacity.model_peak_qps"):
        assert facts.meta[path]["unit"] == unit, path
    noun = {"events/s": "events", "records/s": "records", "req/s": "requests"}[unit]
    assert facts.meta["cost.per_1k_requests_usd.selected"]["unit"] == f"USD/1k {noun}"
    # The inputs keep their own units.
    assert facts.meta["requirements.peak_qps"]["unit"] == "req/s"


# --- batch jobs: headroom and SLOs --------------------------------------------------------------

def test_a_batch_job_is_not_asked_for_headroom_or_request_slos_but_for_a_completion_slo():
    batch = dict(BATCH, r__records_per_run=1_000_000, r__processing_window_h=2)
    facts, evaluation = assess(design(**batch, a__slos=[]))
    assert facts.tree["capacity"]["target_utilisation_pct"] == 100.0  # flat out, by design
    assert evaluation.finding("scl_headroom").outcome == "not_applicable"
    assert evaluation.finding("rel_slos").outcome == "not_applicable"
    assert evaluation.finding("rel_batch_completion_slo").outcome == "fail"
    assert evaluation.finding("rel_batch_completion_slo").severity == "medium"
    assert outcome(design(**batch, a__slos=["completion"]), "rel_batch_completion_slo") == "pass"


def test_an_online_service_still_needs_headroom_and_request_slos():
    _, evaluation = assess(design(**SERVICE, a__target_utilisation_pct=95, a__slos=["error_rate"]), MEASURED)
    assert evaluation.finding("scl_headroom").outcome == "fail"
    assert evaluation.finding("rel_slos").outcome == "fail"
    assert evaluation.finding("rel_batch_completion_slo").outcome == "not_applicable"


# --- GPU rules on CPU designs -------------------------------------------------------------------

@pytest.mark.parametrize("key", ["ops_gpu_dashboard", "srv_batching_on_gpu"])
def test_gpu_rules_do_not_apply_to_a_cpu_only_design(key):
    assert outcome(design(a__gpu_type="cpu-16vcpu", a__dashboards=["latency"], a__batching_mode="none"),
                   key) == "not_applicable"
    assert outcome(design(a__gpu_type="l4-24gb", a__dashboards=["latency"], a__batching_mode="none"),
                   key) == "fail"


# --- a spot batch job whose expected duration passes its window ---------------------------------

def spot_batch(**extra):
    """One replica scoring for 1.9 h of a 2 h window, results due at 6 h, on spot."""
    probe = build_facts(design(**BATCH, r__records_per_run=1_000_000, r__processing_window_h=2))
    rate = probe.tree["batch"]["per_replica_records_per_s"]
    return design(**BATCH, r__records_per_run=int(rate * 3600 * 1.9), r__processing_window_h=2, r__deadline_h=6,
                  a__pricing_model="spot", **extra)


def test_a_spot_batch_job_late_on_average_gets_a_finding_though_the_deadline_absorbs_it():
    facts, evaluation = assess(spot_batch())
    spot = facts.tree["batch"]
    assert spot["replicas"] == 1 and spot["job_duration_h"] == pytest.approx(1.9, rel=1e-3)
    assert spot["spot"]["expected_duration_h"] > 2.0 >= spot["job_duration_h"]
    # The worst single interruption still meets the deadline: the old rule has nothing to say.
    assert evaluation.finding("fit_spot_batch_checkpoints").outcome == "pass"
    assert evaluation.finding("cost_spot_batch_window").outcome == "fail"


def test_a_checkpointing_spot_batch_job_finishes_within_its_window():
    facts, evaluation = assess(spot_batch(a__checkpoint_interval_minutes=10))
    assert facts.tree["batch"]["spot"]["expected_duration_h"] <= 2.0
    assert evaluation.finding("cost_spot_batch_window").outcome == "pass"
    assert outcome(dict(spot_batch(), architecture={**spot_batch()["architecture"], "pricing_model": "on_demand"}),
                   "cost_spot_batch_window") == "not_applicable"
