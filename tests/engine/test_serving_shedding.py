"""Overload shedding with an online-calibrated margin, on a simulated clock.

The real ``BatchPolicy`` runs in ``engine.bench.simulate.simulate_policy``: Poisson arrivals at
twice the capacity, deadlines = L, batches that take s(b) times a seeded noise. The guarantees
(admitted p99 <= L, nothing executed after its deadline) must hold; the margin must follow the
model's errors both ways: up when batches run slower than predicted, below zero when the model
is pessimistic.
"""

import numpy as np
import pytest

from engine.bench.loadgen import poisson_offsets
from engine.bench.simulate import batch_time_table, simulate_policy
from engine.serving.batch_time import BatchTimeModel
from engine.serving.policy import (
    DONE,
    PREDICTED_MISS,
    QUEUED,
    REJECTED,
    BatchPolicy,
    BatcherConfig,
)

# The reference MLP's s(b) on the 2-core CPU (ms), from benchmarks/results/serving-cpu.json.
POINTS = {1: 1.58, 2: 1.61, 4: 3.10, 8: 4.65, 16: 6.05, 32: 8.27, 64: 12.38, 128: 21.08}
TABLE = batch_time_table(128, intercept_ms=2.61, per_item_ms=0.148, sizes=list(POINTS),
                         batch_times_ms=list(POINTS.values()))
L_MS = 15.8
CAPACITY_QPS = 2800.0  # about what the core sustains at p99 <= L on that CPU
WARMUP = 600


def shed_config(**kwargs) -> BatcherConfig:
    model = BatchTimeModel(2.61, 0.148, measured_ms=tuple(POINTS.items()))
    kwargs.setdefault("batch_time_quantile", None)
    return BatcherConfig(max_batch_size=128, max_queue_delay_ms=0.0, max_queue_size=8192,
                         batch_time_model=model, shed_predicted_misses=True, **kwargs)


def overload(config: BatcherConfig, factor_of_model: float, noise_sigma: float = 0.0, seed: int = 1):
    """Run 2 x capacity through the policy; batches take factor x s(b) x lognormal noise."""
    rng = np.random.default_rng(seed)
    arrivals = poisson_offsets(2 * CAPACITY_QPS, 6000, seed)

    def batch_time(b: int) -> float:
        noise = rng.lognormal(0.0, noise_sigma) if noise_sigma else 1.0
        return TABLE[b] * factor_of_model * noise

    r = simulate_policy(arrivals, config, batch_time, deadline_ms=L_MS)
    lat = r["latency_s"][WARMUP:]
    done = lat[~np.isnan(lat)]
    span = arrivals[-1] - arrivals[WARMUP]
    return {
        "admitted_p99_ms": float(np.percentile(done, 99, method="higher")) * 1000.0,
        "goodput_qps": float(np.sum(done <= L_MS / 1000.0)) / span,
        "late": r["metrics"]["executed_after_deadline"],
        "margin_ms": r["shed_margin_s"] * 1000.0,
        "statuses": r["status"],
    }


def test_batches_slower_than_the_model_grow_the_margin_and_keep_p99_within_the_budget():
    slow = overload(shed_config(shed_margin_quantile=0.998), factor_of_model=1.25, noise_sigma=0.05)
    assert slow["margin_ms"] > 0.5
    assert slow["admitted_p99_ms"] <= L_MS
    assert slow["late"] == 0


def test_without_the_margin_the_same_slow_batches_miss_the_budget():
    # The control for the test above: the model alone (no scale, no margin) is too optimistic.
    slow = overload(shed_config(), factor_of_model=1.25, noise_sigma=0.05)
    assert slow["admitted_p99_ms"] > L_MS


def test_a_pessimistic_model_gives_a_negative_margin_and_more_goodput_within_the_budget():
    calibrated = overload(shed_config(shed_margin_quantile=0.995), factor_of_model=0.75)
    model_only = overload(shed_config(), factor_of_model=0.75)
    assert calibrated["margin_ms"] < 0
    # It admits more: bigger batches, more goodput, latencies closer to (but within) L.
    assert calibrated["goodput_qps"] > model_only["goodput_qps"]
    assert calibrated["admitted_p99_ms"] > model_only["admitted_p99_ms"] + 1.0
    assert calibrated["admitted_p99_ms"] <= L_MS
    assert calibrated["late"] == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_noisy_batches_keep_the_guarantees_and_goodput_near_capacity(seed):
    r = overload(
        shed_config(shed_margin_quantile=0.995), factor_of_model=1.0, noise_sigma=0.12, seed=seed,
    )
    assert r["admitted_p99_ms"] <= L_MS
    assert r["late"] == 0
    # This noisy system's own capacity at p99 <= L is 2,700-3,050 QPS depending on the seed.
    assert r["goodput_qps"] >= 0.75 * CAPACITY_QPS


def test_overload_sheds_by_prediction_not_by_running_late():
    r = overload(shed_config(shed_margin_quantile=0.99), factor_of_model=1.0, noise_sigma=0.1)
    statuses = r["statuses"]
    assert statuses.count(REJECTED) > 0.3 * len(statuses)
    assert statuses.count(DONE) > 0.3 * len(statuses)


def overload_after_a_stall(config: BatcherConfig, stalled_batches: int, stall_s: float, seed: int = 1):
    """2 x capacity where the first ``stalled_batches`` batches each take ``stall_s`` longer
    (a cold start, a neighbour's burst), then s(b) exactly."""
    arrivals = poisson_offsets(2 * CAPACITY_QPS, 6000, seed)
    count = [0]

    def batch_time(b: int) -> float:
        count[0] += 1
        return TABLE[b] + (stall_s if count[0] <= stalled_batches else 0.0)

    r = simulate_policy(arrivals, config, batch_time, deadline_ms=L_MS)
    lat = r["latency_s"][WARMUP:]
    done = lat[~np.isnan(lat)]
    return {
        "goodput_qps": float(np.sum(done <= L_MS / 1000.0)) / (arrivals[-1] - arrivals[WARMUP]),
        "admitted_p99_ms": float(np.percentile(done, 99, method="higher")) * 1000.0 if done.size else None,
        "late": r["metrics"]["executed_after_deadline"],
        "margin_ms": r["shed_margin_s"] * 1000.0,
        "probes": r["metrics"]["margin_probes"],
    }


@pytest.mark.parametrize("start_batches", [32, 0])
def test_a_margin_grown_past_the_budget_by_a_stall_cannot_lock_admission_out(start_batches):
    # Three batches 30 ms late, twice L: the start quantile (or the steering, once every
    # admitted request of those batches missed) takes the margin past what any request can
    # meet. Without probes no batch runs again, so nothing ever brings it back (a run of the
    # committed benchmark served nothing for a whole repeat that way).
    config = shed_config(shed_margin_quantile=0.995, shed_margin_start_batches=start_batches,
                         shed_margin_step_ms=12.0 if start_batches == 0 else 2.0)
    r = overload_after_a_stall(config, stalled_batches=3, stall_s=0.030)
    assert r["probes"] > 0
    assert r["margin_ms"] < 5.0
    assert r["goodput_qps"] >= 0.75 * CAPACITY_QPS
    assert r["admitted_p99_ms"] <= L_MS
    assert r["late"] == 0


def test_no_probe_is_admitted_while_the_margin_leaves_room():
    r = overload_after_a_stall(shed_config(shed_margin_quantile=0.995), stalled_batches=0, stall_s=0.0)
    assert r["probes"] == 0


class FakeClock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def run_batches(policy, clock, batches: int, size: int, late_by_s: float, deadline_in_s: float = 1.0):
    """Admit ``size`` requests, run them as one batch that ends ``late_by_s`` after s(size)."""
    for _ in range(batches):
        for _ in range(size):
            policy.submit(None, deadline_s=clock.now + deadline_in_s)
        batch, _, _ = policy.poll()
        clock.now += TABLE[size] + late_by_s
        policy.complete(batch)


def test_the_margin_starts_from_the_first_batches_prediction_errors():
    clock = FakeClock()
    policy = BatchPolicy(shed_config(shed_margin_quantile=0.99, shed_margin_start_batches=8), clock)
    run_batches(policy, clock, 6, 4, late_by_s=0.005)  # every batch ends 5 ms after its prediction
    assert policy.shed_margin_s == pytest.approx(0.005, abs=1e-6)
    # Alone, s(1) = 1.58 ms: a 4 ms deadline passes the model but not model + 5 ms.
    req = policy.submit(None, deadline_s=clock.now + 0.004)
    assert req.status == REJECTED and req.reason == PREDICTED_MISS


def test_after_the_start_misses_push_the_margin_up_and_on_time_requests_pull_it_down():
    clock = FakeClock()
    policy = BatchPolicy(
        shed_config(shed_margin_quantile=0.99, shed_margin_start_batches=0, shed_margin_step_ms=0.1),
        clock,
    )
    assert policy.shed_margin_s == 0.0
    # A batch of 4 that ends after its deadlines: +0.1 ms x (4/4 missed - 0.01).
    run_batches(policy, clock, 1, 4, late_by_s=0.010, deadline_in_s=0.010)
    assert policy.shed_margin_s == pytest.approx(0.0001 * 0.99, rel=1e-6)
    up = policy.shed_margin_s
    # 25 on-time batches: each -0.1 ms x 0.01.
    run_batches(policy, clock, 25, 4, late_by_s=0.0)
    assert policy.shed_margin_s == pytest.approx(up - 25 * 0.0001 * 0.01, rel=1e-6)


def test_a_request_admitted_then_timed_out_in_the_queue_counts_as_a_miss():
    clock = FakeClock()
    policy = BatchPolicy(
        shed_config(shed_margin_quantile=0.99, shed_margin_start_batches=0), clock
    )
    policy.submit(None, deadline_s=clock.now + 1.0)
    running, _, _ = policy.poll()  # occupies the only slot
    req = policy.submit(None, deadline_s=clock.now + 0.030)
    assert req.status == QUEUED
    clock.now += 0.031
    assert req in policy.expire()
    # Counted with the next batch: 1 of its 2 admitted requests (the running one on time) missed.
    policy.complete(running)
    assert policy.shed_margin_s == pytest.approx(0.002 * (0.5 - 0.01), rel=1e-6)  # default step


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shed_margin_quantile": 1.0},
        {"shed_margin_quantile": 0.2},
        {"shed_margin_step_ms": 0.0},
        {"shed_margin_step_ms": float("nan")},
        {"shed_margin_start_batches": -1},
    ],
)
def test_bad_margin_settings_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        BatcherConfig(**kwargs)


def test_an_idle_server_probes_after_eight_refusals_in_a_row_and_a_probe_on_time_halves_the_margin():
    from engine.serving.policy import PROBE_AFTER_REFUSALS

    clock = FakeClock()
    policy = BatchPolicy(shed_config(shed_margin_quantile=0.99, shed_margin_start_batches=8), clock)
    run_batches(policy, clock, 6, 4, late_by_s=0.005)
    assert policy.shed_margin_s == pytest.approx(0.005, abs=1e-6)
    refused = [policy.submit(None, deadline_s=clock.now + 0.004) for _ in range(PROBE_AFTER_REFUSALS)]
    assert all(r.status == REJECTED and r.reason == PREDICTED_MISS for r in refused)
    probe = policy.submit(None, deadline_s=clock.now + 0.004)
    assert probe.status == QUEUED and probe.probe
    assert policy.metrics.summary()["margin_probes"] == 1
    # While it is queued the server is not idle: the next request is refused, not probed.
    assert policy.submit(None, deadline_s=clock.now + 0.004).status == REJECTED
    batch, _, _ = policy.poll()
    clock.now += TABLE[1]  # on time, exactly as modelled: error 0
    policy.complete(batch)
    assert policy.shed_margin_s == pytest.approx(0.0025, abs=1e-6)


def test_a_probe_that_misses_its_deadline_does_not_lower_the_margin():
    from engine.serving.policy import PROBE_AFTER_REFUSALS

    clock = FakeClock()
    policy = BatchPolicy(shed_config(shed_margin_quantile=0.99, shed_margin_start_batches=8), clock)
    run_batches(policy, clock, 6, 4, late_by_s=0.005)
    for _ in range(PROBE_AFTER_REFUSALS):
        policy.submit(None, deadline_s=clock.now + 0.004)
    probe = policy.submit(None, deadline_s=clock.now + 0.004)
    assert probe.probe
    batch, _, _ = policy.poll()
    clock.now += TABLE[1] + 0.005  # as late as the margin said
    policy.complete(batch)
    assert policy.shed_margin_s >= 0.005 - 1e-6
