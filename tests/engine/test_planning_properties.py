"""Property tests: the plan moves the way common sense says it must."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.design import example_design
from engine.facts import build_facts
from engine.planning import estimate_throughput, plan_capacity, plan_cost, shipped_catalog

CATALOG = shipped_catalog()
qps = st.floats(min_value=0, max_value=1e6, allow_nan=False)
per_replica = st.floats(min_value=0.01, max_value=1e5, allow_nan=False)
pct = st.floats(min_value=0, max_value=100, allow_nan=False)
utilisation = st.floats(min_value=1, max_value=100, allow_nan=False)
capacity_options = st.fixed_dictionaries({
    "per_replica_qps": per_replica,
    "cache_hit_rate_pct": pct,
    "cheap_tier_share_pct": pct,
    "target_utilisation_pct": utilisation,
    "gpus_per_replica": st.integers(1, 8),
    "min_replicas": st.one_of(st.none(), st.integers(0, 50)),
    "failure_domains": st.integers(1, 5),
    "n_plus_one": st.booleans(),
})


@settings(max_examples=300, deadline=None)
@given(qps, qps, capacity_options)
def test_more_peak_qps_never_needs_fewer_replicas(a, b, options):
    low, high = sorted((a, b))
    assert plan_capacity(peak_qps=low, **options).replicas <= plan_capacity(peak_qps=high, **options).replicas


@settings(max_examples=300, deadline=None)
@given(qps, utilisation, utilisation, capacity_options)
def test_a_higher_utilisation_target_never_needs_more_replicas(peak, a, b, options):
    low, high = sorted((a, b))
    options = {k: v for k, v in options.items() if k != "target_utilisation_pct"}
    assert (plan_capacity(peak_qps=peak, target_utilisation_pct=high, **options).replicas
            <= plan_capacity(peak_qps=peak, target_utilisation_pct=low, **options).replicas)


@settings(max_examples=300, deadline=None)
@given(qps, pct, pct, capacity_options)
def test_a_higher_cache_hit_rate_never_needs_more_replicas(peak, a, b, options):
    low, high = sorted((a, b))
    options = {k: v for k, v in options.items() if k != "cache_hit_rate_pct"}
    assert (plan_capacity(peak_qps=peak, cache_hit_rate_pct=high, **options).replicas
            <= plan_capacity(peak_qps=peak, cache_hit_rate_pct=low, **options).replicas)


cost_options = st.fixed_dictionaries({
    "gpu_key": st.sampled_from(sorted(CATALOG["gpus"])),
    "replicas": st.integers(0, 500),
    "average_fraction": st.floats(0, 1),
    "gpus_per_replica": st.integers(1, 8),
    "autoscaled": st.booleans(),
    "peak_hours_per_day": st.floats(0, 24),
    "reserved_term": st.sampled_from(["1y", "3y"]),
    "reserved_share_pct": pct,
    "spot_share_pct": pct,
})


def _cost(options):
    o = dict(options)
    key = o.pop("gpu_key")
    o["replicas_average"] = int(o["replicas"] * o.pop("average_fraction"))
    return plan_cost(gpu=CATALOG["gpus"][key], **o)


@settings(max_examples=300, deadline=None)
@given(cost_options)
def test_spot_never_costs_more_than_on_demand_with_the_shipped_catalog(options):
    m = _cost(options).monthly_usd
    assert m.spot <= m.on_demand


@settings(max_examples=300, deadline=None)
@given(cost_options)
def test_the_mixed_plan_lies_between_the_extremes(options):
    cost = _cost(options)
    m = cost.monthly_usd
    reserved = m.reserved_1y if options["reserved_term"] == "1y" else m.reserved_3y
    slack = 1e-9 * max(1.0, m.on_demand)
    assert m.spot - slack <= m.mixed <= max(m.on_demand, reserved) + slack
    assert min(m.on_demand, m.spot, m.reserved_1y, m.reserved_3y) - slack <= m.mixed


@settings(max_examples=60, deadline=None)
@given(pct, pct, pct, pct)
def test_a_higher_cache_hit_rate_never_costs_more(result_a, result_b, prompt_a, prompt_b):
    def monthly(result_hit, prompt_hit):
        design = example_design()
        design["architecture"]["result_cache_hit_rate_pct"] = result_hit
        design["architecture"]["prompt_cache_hit_rate_pct"] = prompt_hit
        return build_facts(design).tree["cost"]["monthly_usd"]

    low = monthly(min(result_a, result_b), min(prompt_a, prompt_b))
    high = monthly(max(result_a, result_b), max(prompt_a, prompt_b))
    for plan in ("on_demand", "spot", "reserved_1y", "reserved_3y", "mixed", "selected"):
        assert high[plan] <= low[plan] * (1 + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.1, 5000), st.floats(0.1, 5000))
def test_more_peak_traffic_never_costs_less(a, b):
    low, high = sorted((a, b))
    assume(low < high)

    def monthly(peak):
        design = example_design()
        design["requirements"]["average_qps"] = None
        design["requirements"]["peak_qps"] = peak
        return build_facts(design).tree["cost"]["monthly_usd"]["selected"]

    assert monthly(low) <= monthly(high) * (1 + 1e-9)


# --- LLM planning (issue 25): the KV cache and the load move the fleet one way only
GPU_KEYS = [key for key, gpu in CATALOG["gpus"].items() if gpu.get("kind", "gpu") == "gpu"]
llm_options = st.fixed_dictionaries({
    "gpu_key": st.sampled_from(GPU_KEYS),
    "params_billions": st.floats(0.5, 200),
    "dtype": st.sampled_from(["bf16", "fp16", "fp8", "int8", "int4"]),
    "gpus_per_replica": st.integers(1, 8),
    "input_tokens": st.integers(0, 32_000),
    "output_tokens": st.integers(1, 4_000),
    "max_batch_size": st.integers(1, 1024),
    "inference_budget_ms": st.one_of(st.none(), st.floats(50, 600_000)),
    "ttft_target_ms": st.one_of(st.none(), st.floats(5, 20_000)),
    "tpot_target_ms": st.one_of(st.none(), st.floats(2, 500)),
    "layers": st.integers(1, 128),
    "head_dim": st.sampled_from([64, 128, 256]),
    "prompt_cache_hit_rate_pct": pct,
})


def _llm(options, **changes):
    o = {**options, **changes}
    return estimate_throughput(gpu=CATALOG["gpus"][o.pop("gpu_key")], generative=True, **o)


def _replicas(estimate, peak_qps) -> float:
    """Replicas for the peak; a design that cannot run needs infinitely many."""
    plan = plan_capacity(peak_qps=peak_qps, per_replica_qps=estimate.per_replica_qps,
                         infeasible_reason=estimate.infeasible_reason)
    return float("inf") if plan.replicas is None else plan.replicas


@settings(max_examples=300, deadline=None)
@given(llm_options, st.integers(1, 64), st.integers(1, 64), st.floats(0.01, 1e4))
def test_a_larger_kv_cache_never_serves_more_or_needs_fewer_replicas(options, a, b, peak):
    few, many = sorted((a, b))
    small, large = _llm(options, kv_heads=few), _llm(options, kv_heads=many)
    assert (large.per_replica_qps or 0.0) <= (small.per_replica_qps or 0.0) * (1 + 1e-9)
    assert _replicas(large, peak) >= _replicas(small, peak)
    if small.memory.max_concurrent_sequences is not None:
        assert large.memory.max_concurrent_sequences <= small.memory.max_concurrent_sequences
    if large.feasible:
        assert small.feasible
        assert large.time_per_output_token_ms >= small.time_per_output_token_ms * (1 - 1e-9) or \
            large.batch_size < small.batch_size


@settings(max_examples=300, deadline=None)
@given(llm_options, st.integers(1, 64), st.floats(0.01, 1e4), st.floats(0.01, 1e4))
def test_more_load_never_needs_fewer_replicas_for_an_llm(options, kv_heads, a, b):
    low, high = sorted((a, b))
    estimate = _llm(options, kv_heads=kv_heads)
    assert _replicas(estimate, low) <= _replicas(estimate, high)


@settings(max_examples=300, deadline=None)
@given(llm_options, st.integers(1, 64))
def test_ttft_tpot_and_latency_are_one_model(options, kv_heads):
    est = _llm(options, kv_heads=kv_heads)
    if est.latency_ms is None:
        return
    tokens_out = options["output_tokens"]
    assert est.latency_ms == pytest.approx(est.time_to_first_token_ms
                                           + (tokens_out - 1) * est.time_per_output_token_ms)
    if est.feasible:
        assert est.batch_size <= options["max_batch_size"]
        assert est.batch_size <= max(est.memory.max_concurrent_sequences or est.batch_size, 1)
        assert est.memory.runs


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40_000), st.integers(1, 40_000), st.floats(1, 500))
def test_longer_prompts_never_shrink_the_demo_fleet(a, b, peak):
    """Through the whole facts tree: a longer prompt is a larger KV cache (and a longer prefill)."""
    short, long_ = sorted((a, b))

    def replicas(tokens: int) -> float:
        design = example_design()
        design["requirements"].update(input_tokens_per_request=tokens, peak_qps=peak, average_qps=peak / 3,
                                      sequence_length_tokens=None, latency_p99_ms=600_000.0)
        value = build_facts(design).get("capacity.replicas")
        return float("inf") if value is None else value

    assert replicas(short) <= replicas(long_)
