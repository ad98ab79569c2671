"""Workload shapes (issue 12): batch and stream calculators against hand arithmetic, and the plan
moving the way common sense says it must."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.facts import build_facts
from engine.planning import plan_capacity, plan_cost, shipped_catalog
from engine.planning.workload import batch_rates, plan_batch, plan_stream, spot_assessment, stream_rates, with_costs

CATALOG = shipped_catalog()
GPU = {"label": "Test GPU", "memory_gb": 80, "bf16_tflops": 1000, "memory_bandwidth_gb_s": 2000,
       "price_usd_per_hour": {"on_demand": 4.0, "spot": 1.0, "reserved_1y": 3.0, "reserved_3y": 2.0}}
MONTH_DAYS = 365 / 12


# --- batch -----------------------------------------------------------------------------------------

def test_batch_rates_follow_from_the_shape():
    rates = batch_rates(records_per_run=7_200_000, runs_per_day=2, processing_window_h=4)
    assert rates.average_qps == pytest.approx(7_200_000 * 2 / 86_400)  # 166.7 records/s over a day
    assert rates.peak_qps == pytest.approx(7_200_000 / (4 * 3600))  # 500 records/s during a run
    assert rates.notes == ()


def test_overlapping_runs_are_said_out_loud():
    rates = batch_rates(records_per_run=1000, runs_per_day=8, processing_window_h=4)  # 8 x 4 h = 32 h
    assert [n.severity for n in rates.notes] == ["warning"] and "32 h" in rates.notes[0].message


def test_job_duration_and_the_fleet_the_window_needs():
    # 7.2M records, 100 records/s a replica: 72,000 replica-seconds = 20 replica-hours.
    plan = plan_batch(records_per_run=7_200_000, runs_per_day=1, processing_window_h=4, deadline_h=6,
                      per_replica_records_per_s=100, replicas=6, gpus_per_replica=2)
    assert plan.replicas_for_window == 5  # ceil(20 replica-hours / 4 h)
    assert plan.job_duration_h == pytest.approx(20 / 6)  # 3.33 h at 6 replicas
    assert plan.meets_window is True and plan.meets_deadline is True
    assert plan.slack_h == pytest.approx(6 - 20 / 6)
    assert plan.run_hours_per_day == pytest.approx(20 / 6)
    assert plan.gpu_hours_per_run == pytest.approx(6 * 2 * 20 / 6)  # 40 GPU-hours
    assert plan.runs_per_month == pytest.approx(MONTH_DAYS)


def test_a_fleet_too_small_for_the_window_misses_it():
    plan = plan_batch(records_per_run=7_200_000, processing_window_h=4, per_replica_records_per_s=100, replicas=4)
    assert plan.job_duration_h == pytest.approx(5.0)
    assert plan.meets_window is False and plan.meets_deadline is False  # no deadline: the window
    assert plan.deadline_h == 4
    assert "5.00 h, longer than the 4 h window (5 replicas would finish in time)" in plan.notes[0].message


def test_cost_per_run_divides_the_monthly_cost_by_the_runs():
    plan = plan_batch(records_per_run=1000, runs_per_day=2, processing_window_h=1, per_replica_records_per_s=1,
                      replicas=1)
    costed = with_costs(plan, {"on_demand": 608.33, "spot": None, "reserved_1y": 0.0, "reserved_3y": 1.0,
                               "mixed": 2.0, "selected": 608.33})
    assert costed.cost_per_run_usd.on_demand == pytest.approx(608.33 / (2 * MONTH_DAYS))  # 10.00 $ a run
    assert costed.cost_per_run_usd.spot is None


def test_spot_with_checkpoints():
    # 4 h job, 10 replicas, 5 %/h, restart 10 min, checkpoint every 30 min:
    # expected: 4 x (1 + 0.05 x (10 + 15) / 60) = 4.0833 h; worst single: 4 + (10 + 30) / 60 = 4.667 h.
    spot = spot_assessment(duration_h=4, replicas=10, deadline_h=5, interruption_rate_pct=5, restart_minutes=10,
                           checkpoint_interval_minutes=30)
    assert spot.expected_interruptions_per_run == pytest.approx(2.0)  # 10 x 4 h x 0.05
    assert spot.expected_duration_h == pytest.approx(4 + 4 * 0.05 * 25 / 60)
    assert spot.worst_case_duration_h == pytest.approx(4 + 40 / 60)
    assert spot.hours_factor == pytest.approx(1 + 0.05 * 25 / 60)
    assert spot.suitable is True


def test_spot_without_checkpoints_redoes_the_whole_share():
    # no checkpoints: average lost work = half the job (120 min), worst = all of it (240 min)
    spot = spot_assessment(duration_h=4, replicas=10, deadline_h=5, interruption_rate_pct=5, restart_minutes=10)
    assert spot.expected_duration_h == pytest.approx(4 * (1 + 0.05 * 130 / 60))  # 4.433 h
    assert spot.worst_case_duration_h == pytest.approx(4 + 250 / 60)  # 8.17 h: past the deadline
    assert spot.suitable is False


def test_spot_assumptions_default_and_stated():
    spot = spot_assessment(duration_h=1, replicas=1, deadline_h=None, interruption_rate_pct=None,
                           restart_minutes=None)
    assert (spot.interruption_rate_pct, spot.restart_minutes, spot.checkpoint_interval_minutes) == (5.0, 10.0, None)
    assert spot.suitable is None  # no deadline to judge against


def test_spot_pays_for_its_rework_on_a_batch_job():
    base = plan_cost(gpu=GPU, replicas=2, autoscaled=True, replicas_average=0, peak_hours_per_day=3)
    reworked = plan_cost(gpu=GPU, replicas=2, autoscaled=True, replicas_average=0, peak_hours_per_day=3,
                         spot_hours_factor=1.25)
    hours = 2 * 3 * MONTH_DAYS  # 2 replicas x 3 h a day
    assert base.monthly_usd.spot == pytest.approx(hours * 1.0)
    assert reworked.monthly_usd.spot == pytest.approx(hours * 1.25)
    assert reworked.monthly_usd.on_demand == pytest.approx(hours * 4.0)  # only spot pays the rework


# --- streaming ------------------------------------------------------------------------------------

def test_stream_rates_and_catch_up():
    assert stream_rates(events_per_second=200, peak_events_per_second=None).peak_qps == 200  # steady stream
    plan = plan_stream(events_per_second=200, peak_events_per_second=300, allowed_lag_s=5, per_replica_qps=100,
                       replicas=4)
    assert plan.fleet_events_per_second == 400
    assert plan.headroom_events_per_second == 100  # 400 - 300 at peak
    assert plan.catch_up_s_per_stalled_minute == pytest.approx(60 * 200 / 200)  # 12,000 events at 200/s spare


def test_a_stream_design_uses_the_lag_as_its_latency_budget():
    design = {"requirements": {"workload_timing": "streaming", "events_per_second": 100, "allowed_lag_s": 2,
                               "network_latency_ms": 20},
              "architecture": {}}
    facts = build_facts(design).tree
    assert facts["traffic"]["average_qps"] == 100 and facts["traffic"]["peak_qps"] == 100
    assert facts["latency_budget"]["p99_budget_ms"] == 2000
    assert facts["latency_budget"]["inference_budget_ms"] == 1980
    assert facts["streaming"]["allowed_lag_s"] == 2


# --- a batch design end to end --------------------------------------------------------------------

BATCH_DESIGN = {
    "requirements": {"workload_timing": "batch", "workload_type": "classify", "records_per_run": 36_000_000,
                     "runs_per_day": 1, "processing_window_h": 5, "deadline_h": 8, "record_size_kb": 2,
                     "model_params_billions": 0.35, "model_family": "encoder", "input_tokens_per_request": 256},
    "architecture": {"gpu_type": "l4-24gb", "batching_mode": "dynamic", "max_batch_size": 64,
                     "autoscaling_signal": "queue_depth", "pricing_model": "on_demand"},
}


def test_a_batch_design_sizes_its_fleet_for_the_window_and_pays_for_run_hours():
    facts = build_facts(BATCH_DESIGN).tree
    per_replica = facts["capacity"]["per_replica_qps"]
    assert facts["traffic"]["peak_qps"] == pytest.approx(36_000_000 / (5 * 3600))  # 2,000 records/s
    assert facts["traffic"]["average_qps"] == pytest.approx(36_000_000 / 86_400)
    assert facts["capacity"]["target_utilisation_pct"] == 100  # a batch job runs flat out
    replicas = facts["batch"]["replicas"]
    assert replicas == facts["capacity"]["replicas"] == -(-2000 // per_replica)
    duration = 36_000_000 / (replicas * per_replica) / 3600
    assert facts["batch"]["job_duration_h"] == pytest.approx(duration)
    # Autoscaled, min replicas blank: the fleet scales to zero between runs and pays the run hours.
    assert facts["capacity"]["replicas_average"] == 0 and facts["capacity"]["min_replicas_effective"] == 0
    price = CATALOG["gpus"]["l4-24gb"]["price_usd_per_hour"]["on_demand"]
    assert facts["cost"]["monthly_usd"]["on_demand"] == pytest.approx(replicas * duration * MONTH_DAYS * price)
    assert facts["batch"]["cost_per_run_usd"]["on_demand"] == pytest.approx(replicas * duration * price)
    # No P99 for a batch job: the estimate runs at the largest batch.
    assert facts["latency_budget"]["p99_budget_ms"] is None
    assert facts["capacity"]["estimate"]["batch_size"] == 64


def test_a_fixed_batch_fleet_pays_for_the_whole_month():
    design = {"requirements": dict(BATCH_DESIGN["requirements"]),
              "architecture": {**BATCH_DESIGN["architecture"], "autoscaling_signal": "none"}}
    facts = build_facts(design).tree
    replicas = facts["capacity"]["replicas"]
    price = CATALOG["gpus"]["l4-24gb"]["price_usd_per_hour"]["on_demand"]
    assert facts["cost"]["monthly_usd"]["on_demand"] == pytest.approx(replicas * 730 * price)
    assert facts["capacity"]["min_replicas_effective"] == replicas


def test_a_measured_batch_job_uses_the_offline_throughput():
    measured = {"max_qps_at_p99": 500.0, "offline_throughput_per_s": 4000.0, "p99_ms_at_peak": 50.0}
    facts = build_facts(BATCH_DESIGN, measurements=measured).tree
    assert facts["capacity"]["per_replica_qps"] == 4000.0
    assert facts["batch"]["replicas_for_window"] == 1  # 2,000 records/s needed


def test_max_replicas_caps_the_batch_fleet_and_the_job_takes_longer():
    design = {"requirements": {**BATCH_DESIGN["requirements"], "records_per_run": 3_600_000_000},
              "architecture": {**BATCH_DESIGN["architecture"], "max_replicas": 2}}
    facts = build_facts(design).tree
    assert facts["capacity"]["replicas"] > 2 and facts["batch"]["replicas"] == 2
    assert facts["batch"]["meets_window"] is False
    assert facts["batch"]["job_duration_h"] == pytest.approx(
        3_600_000_000 / (2 * facts["capacity"]["per_replica_qps"]) / 3600)


# --- fleet semantics and prices -------------------------------------------------------------------

def test_a_fixed_fleet_runs_its_planned_size_whatever_min_replicas_says():
    fixed = plan_capacity(peak_qps=100, per_replica_qps=10, target_utilisation_pct=50, autoscaled=False)
    assert fixed.replicas == 20 and fixed.min_replicas_effective == 20
    scaled = plan_capacity(peak_qps=100, per_replica_qps=10, target_utilisation_pct=50, autoscaled=True)
    assert scaled.min_replicas_effective is None  # the autoscaler's floor is not set
    floor = plan_capacity(peak_qps=100, per_replica_qps=10, target_utilisation_pct=50, autoscaled=True,
                          min_replicas=3)
    assert floor.min_replicas_effective == 3


def test_average_utilisation_of_the_peak_sized_fleet():
    plan = plan_capacity(peak_qps=90, average_qps=30, per_replica_qps=10, target_utilisation_pct=100)
    assert plan.replicas == 9
    assert plan.utilisation_average_pct == pytest.approx(30 / 90 * 100)


def test_negotiated_prices_override_the_catalog_for_their_plans_only():
    cost = plan_cost(gpu=GPU, replicas=1, negotiated_usd_per_hour={"on_demand": 2.5, "spot": None})
    assert cost.hourly_usd.on_demand == 2.5 and cost.hourly_usd.spot == 1.0
    assert cost.negotiated_plans == ["on_demand"]
    assert cost.monthly_usd.on_demand == pytest.approx(730 * 2.5)


def test_the_price_date_and_name_are_the_chosen_gpus():
    cost = plan_cost(gpu={**GPU, "as_of": "2026-03-01"}, gpu_type="test-gpu", price_as_of="2026-11-01", replicas=1)
    assert (cost.gpu_label, cost.price_as_of) == ("Test GPU", "2026-03-01")
    undated = plan_cost(gpu=GPU, gpu_type="test-gpu", price_as_of="2026-11-01", replicas=1)
    assert undated.price_as_of == "2026-11-01"  # the catalog's date when the entry has none


# --- properties -----------------------------------------------------------------------------------

records = st.integers(0, 10**10)
window = st.floats(min_value=0.05, max_value=200, allow_nan=False)
rate = st.floats(min_value=0.01, max_value=1e5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(records, rate, window, window)
def test_a_longer_window_never_needs_more_replicas(n, per_replica, a, b):
    short, long = sorted((a, b))

    def needed(hours):
        return plan_batch(records_per_run=n, processing_window_h=hours, per_replica_records_per_s=per_replica,
                          replicas=None).replicas_for_window

    assert needed(long) <= needed(short)


@settings(max_examples=300, deadline=None)
@given(records, records, rate, st.integers(1, 500), st.sampled_from(sorted(CATALOG["gpus"])))
def test_more_records_never_cost_less_per_run(a, b, per_replica, replicas, gpu_key):
    few, many = sorted((a, b))

    def cost_per_run(n):
        plan = plan_batch(records_per_run=n, processing_window_h=1, per_replica_records_per_s=per_replica,
                          replicas=replicas)
        cost = plan_cost(gpu=CATALOG["gpus"][gpu_key], replicas=replicas, replicas_average=0, autoscaled=True,
                         peak_hours_per_day=min(plan.run_hours_per_day, 24.0),
                         spot_hours_factor=plan.spot.hours_factor or 1.0)
        return with_costs(plan, {"on_demand": cost.monthly_usd.on_demand, "spot": cost.monthly_usd.spot}
                          ).cost_per_run_usd

    low, high = cost_per_run(few), cost_per_run(many)
    assert low.on_demand <= high.on_demand * (1 + 1e-9)
    assert low.spot <= high.spot * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1000, 10**9), st.integers(1000, 10**9))
def test_more_records_never_cost_less_for_a_batch_design(a, b):
    few, many = sorted((a, b))
    assume(few < many)

    def monthly(n):
        design = {"requirements": {**BATCH_DESIGN["requirements"], "records_per_run": n},
                  "architecture": dict(BATCH_DESIGN["architecture"])}
        return build_facts(design).tree["cost"]["monthly_usd"]

    low, high = monthly(few), monthly(many)
    for plan in ("on_demand", "spot", "reserved_1y", "reserved_3y", "mixed", "selected"):
        assert low[plan] <= high[plan] * (1 + 1e-9)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CATALOG["gpus"])), st.integers(0, 500), st.integers(1, 8), st.booleans(),
       st.floats(0, 24), st.floats(0, 1))
def test_spot_never_costs_more_than_on_demand_for_the_same_hours(gpu_key, replicas, gpus, autoscaled, hours, share):
    cost = plan_cost(gpu=CATALOG["gpus"][gpu_key], replicas=replicas, replicas_average=int(replicas * share),
                     gpus_per_replica=gpus, autoscaled=autoscaled, peak_hours_per_day=hours)
    assert cost.monthly_usd.spot <= cost.monthly_usd.on_demand


_shape_keys = st.sampled_from([
    "requirements.records_per_run", "requirements.runs_per_day", "requirements.processing_window_h",
    "requirements.deadline_h", "requirements.record_size_kb", "requirements.events_per_second",
    "requirements.peak_events_per_second", "requirements.allowed_lag_s", "architecture.max_replicas",
    "architecture.min_replicas", "architecture.autoscaling_signal", "architecture.pricing_model",
    "architecture.checkpoint_interval_minutes", "architecture.spot_interruption_rate_pct",
    "architecture.restart_minutes", "architecture.negotiated_prices", "architecture.negotiated_spot_usd_per_hour",
])
_shape_values = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**12),
                          st.sampled_from(["0", "1", "0.001", "none", "queue_depth", "spot", "mixed", "yes", "x"]))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["batch", "streaming"]), st.dictionaries(_shape_keys, _shape_values, max_size=12))
def test_shaped_designs_never_raise(timing, changes):
    design = {"requirements": {**BATCH_DESIGN["requirements"], "workload_timing": timing, "events_per_second": 50,
                               "allowed_lag_s": 1},
              "architecture": dict(BATCH_DESIGN["architecture"])}
    for key, value in changes.items():
        group, name = key.split(".")
        design[group][name] = value
    facts = build_facts(design)
    batch = facts.tree["batch"]
    if batch["job_duration_h"] is not None:
        assert batch["job_duration_h"] >= 0 and batch["spot"]["expected_duration_h"] >= batch["job_duration_h"]
    for plan in ("on_demand", "spot"):
        value = facts.tree["cost"]["monthly_usd"][plan]
        assert value is None or value >= 0
