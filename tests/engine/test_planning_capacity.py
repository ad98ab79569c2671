"""Per-replica throughput estimate and capacity plan against hand-computed examples."""

import pytest

from engine.planning import estimate_throughput, plan_capacity

# A round-numbered GPU so the arithmetic is easy to follow.
GPU = {"memory_gb": 80, "bf16_tflops": 1000, "fp8_tflops": 2000, "int8_tops": 2000, "memory_bandwidth_gb_s": 2000,
       "price_usd_per_hour": {"on_demand": 4, "spot": 1, "reserved_1y": 3, "reserved_3y": 2}}


def test_it_estimates_a_batched_encoder():
    est = estimate_throughput(gpu=GPU, params_billions=0.1, dtype="bf16", input_tokens=128, max_batch_size=32,
                              inference_budget_ms=5)
    # weights 0.1e9 x 2 B = 0.2 GB; read = 0.2e9 / (2000e9 x 0.6) = 0.1667 ms
    # compute rate = 1000e12 x 0.4 = 4e14 FLOP/s; one request = 2 x 1e8 x 128 = 2.56e10 FLOP = 0.064 ms
    # t(32) = max(0.1667, 32 x 0.064) + 1 ms overhead = 3.048 ms <= 5 ms budget -> B = 32
    assert est.batch_size == 32
    assert est.latency_ms == pytest.approx(3.048)
    assert est.per_replica_qps == pytest.approx(32 / 3.048e-3)  # 10,498.7 req/s
    assert est.bound == "compute"
    assert est.weights_gb == pytest.approx(0.2)
    assert est.fits_in_memory and est.meets_budget


def test_the_budget_limits_the_batch():
    est = estimate_throughput(gpu=GPU, params_billions=0.1, dtype="bf16", input_tokens=128, max_batch_size=32,
                              inference_budget_ms=2)
    # 0.064 B + 1 <= 2  ->  B <= 15.6  ->  B = 15, t = 0.96 + 1 = 1.96 ms
    assert est.batch_size == 15
    assert est.per_replica_qps == pytest.approx(15 / 1.96e-3)  # 7,653 req/s


# A 10 B decoder with an explicit shape: KV bytes per token = 2 x 40 x 8 x 128 x 2 B = 163,840 B.
SHAPE = {"layers": 40, "kv_heads": 8, "head_dim": 128}


def test_it_estimates_llm_decode():
    est = estimate_throughput(gpu=GPU, params_billions=10, dtype="bf16", generative=True, input_tokens=1000,
                              output_tokens=100, max_batch_size=64, inference_budget_ms=3000, **SHAPE)
    # weights 20 GB, read at 2000e9 x 0.6 = 1.2e12 B/s: 16.667 ms; each sequence adds its KV cache,
    # (1000 + 100 / 2) tokens x 163,840 B = 172 MB, 0.14336 ms a step
    # compute: 2 x 1e10 x B x (1 + 1000 / 100) / 4e14 = 0.55 B ms (chunked prefill rides the steps)
    # TPOT(B) = max(16.667 + 0.14336 B, 0.55 B); prefill = max(16.667, 2 x 1e10 x 1000 / 4e14 = 50) ms
    # latency(B) = 50 + TPOT(B) + 99 x TPOT(B) <= 3000  ->  TPOT <= 29.5  ->  B = 53 (compute bound)
    assert est.batch_size == 53
    assert est.time_per_output_token_ms == pytest.approx(0.55 * 53)
    assert est.time_to_first_token_ms == pytest.approx(50 + 0.55 * 53)
    assert est.latency_ms == pytest.approx(50 + 100 * 0.55 * 53)
    assert est.per_replica_qps == pytest.approx(53 / 2.965)  # 17.9 req/s
    assert est.output_tokens_per_s == pytest.approx(53 / 2.965 * 100)
    assert est.bound == "compute" and est.kv_capped is False and est.feasible is True


def test_the_decode_step_reads_the_batch_kv_cache():
    est = estimate_throughput(gpu=GPU, params_billions=10, dtype="bf16", generative=True, input_tokens=1000,
                              output_tokens=100, max_batch_size=32, inference_budget_ms=3000, **SHAPE)
    # B = 32 (the max): memory 16.667 + 32 x 0.14336 = 21.254 ms > compute 17.6 ms
    assert est.batch_size == 32 and est.bound == "memory"
    assert est.time_per_output_token_ms == pytest.approx(20e9 / 1.2e9 + 32 * 1050 * 163_840 / 1.2e9)


def test_quantization_speeds_up_the_estimate():
    est = estimate_throughput(gpu=GPU, params_billions=10, dtype="fp8", generative=True, input_tokens=1000,
                              output_tokens=100, max_batch_size=64, inference_budget_ms=3000, **SHAPE)
    # fp8: weights 10 GB (8.333 ms), KV 1 B per element (0.0717 ms per sequence), compute 8e14: 0.275 B ms
    # latency(64) = 25 (prefill) + 100 x max(8.333 + 4.588, 17.6) = 1785 ms <= 3000 -> B = 64 (the max)
    assert est.batch_size == 64
    assert est.per_replica_qps == pytest.approx(64 / 1.785, rel=1e-6)  # 35.9 req/s
    assert est.serving_dtype == "fp8"


def test_it_flags_a_model_that_does_not_fit():
    est = estimate_throughput(gpu=GPU, params_billions=70, dtype="bf16", generative=True, input_tokens=100,
                              output_tokens=10)
    # 140 GB of weights > 0.9 x 80 GB: it cannot run, so there is no throughput at all
    assert est.fits_in_memory is False and est.feasible is False and est.per_replica_qps is None
    assert [n.severity for n in est.notes if n.path == "capacity.estimate.feasible"] == ["error"]
    assert est.infeasible_reason.startswith("the weights (140.0 GB in bf16)")
    two = estimate_throughput(gpu=GPU, params_billions=70, dtype="bf16", gpus_per_replica=2, generative=True,
                              input_tokens=100, output_tokens=10)
    assert two.fits_in_memory is True and two.replica_memory_gb == 160 and two.feasible is True


def test_it_says_when_even_batch_one_misses_the_budget():
    est = estimate_throughput(gpu=GPU, params_billions=10, generative=True, input_tokens=1000, output_tokens=100,
                              max_batch_size=8, inference_budget_ms=1000, **SHAPE)
    # latency(1) = 50 + 100 x (16.667 + 0.143) = 1731 ms > 1000 ms: no batch meets the budget
    assert est.batch_size == 1 and est.meets_budget is False
    assert est.feasible is False and est.per_replica_qps is None
    assert est.latency_ms == pytest.approx(50 + 100 * (20e9 + 1050 * 163_840) / 1.2e9)
    assert any(n.message.startswith("Cannot run as designed: even one request") for n in est.notes)


def test_it_needs_a_gpu_and_a_size():
    assert estimate_throughput(gpu=None, params_billions=1).available is False
    assert estimate_throughput(gpu=GPU, params_billions=None).per_replica_qps is None
    assert estimate_throughput(gpu=GPU, params_billions=1, generative=True, output_tokens=None).available is False


def test_it_sizes_replicas_with_redundancy():
    plan = plan_capacity(peak_qps=100, average_qps=40, per_replica_qps=10, target_utilisation_pct=50,
                         gpus_per_replica=2, failure_domains=3, n_plus_one=True, max_replicas=40)
    # load = ceil(100 / (10 x 0.5)) = 20; survive losing 1 of 3 zones: 3 x ceil(20 / 2) = 30; N+1 -> 31
    assert plan.replicas_for_load == 20
    assert plan.replicas == 31
    assert plan.gpus == 62  # 31 x 2
    # average: ceil(40 / 5) = 8 -> 3 x ceil(8 / 2) = 12 -> + 1 = 13
    assert plan.replicas_average == 13
    assert plan.utilisation_at_peak_pct == pytest.approx(100 / (31 * 10) * 100)
    assert plan.within_max_replicas is True
    assert plan.notes == ()


def test_caches_and_tiers_reduce_model_load():
    plan = plan_capacity(peak_qps=100, per_replica_qps=10, target_utilisation_pct=50, cache_hit_rate_pct=20,
                         cheap_tier_share_pct=25)
    # 100 x (1 - 0.2) x (1 - 0.25) = 60 req/s -> ceil(60 / 5) = 12
    assert plan.model_peak_qps == pytest.approx(60)
    assert plan.replicas == 12


def test_a_cheaper_tier_is_its_own_fleet_with_its_own_minimum():
    plan = plan_capacity(peak_qps=100, average_qps=10, per_replica_qps=10, target_utilisation_pct=50,
                         gpus_per_replica=2, cache_hit_rate_pct=20, cheap_tier_share_pct=25,
                         cheap_tier_cost_ratio_pct=10, failure_domains=2)
    # 100 x 0.8 x 0.25 = 20 req/s to the cheap tier; one cheap GPU serves 10 / 2 / 0.1 = 50 req/s
    assert plan.cheap_tier_peak_qps == pytest.approx(20)
    assert plan.cheap_tier_per_replica_qps == pytest.approx(50)
    # ceil(20 / (50 x 0.5)) = 1, survive losing one of 2 zones: 2 x ceil(1 / 1) = 2
    assert plan.cheap_tier_replicas == 2
    # 2 req/s on average still keeps one replica in each zone: the tier's own minimum
    assert plan.cheap_tier_replicas_average == 2
    none = plan_capacity(peak_qps=100, per_replica_qps=10, cheap_tier_share_pct=0)
    assert none.cheap_tier_replicas is None


def test_min_and_max_replicas():
    plan = plan_capacity(peak_qps=1, per_replica_qps=10, min_replicas=3, max_replicas=2)
    assert plan.replicas == 3  # the floor
    assert plan.within_max_replicas is False
    assert "max replicas is 2" in plan.notes[0].message


def test_exact_multiples_do_not_round_up():
    plan = plan_capacity(peak_qps=21, per_replica_qps=10, target_utilisation_pct=70)
    assert plan.replicas == 3  # 21 / 7 = 3 exactly, despite float noise


def test_unknown_throughput_gives_none():
    plan = plan_capacity(peak_qps=100, per_replica_qps=None)
    assert plan.replicas is None and plan.gpus is None and plan.per_replica_qps_source is None
