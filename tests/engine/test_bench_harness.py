"""Harness pieces with no model work: statistics, schedules, the ideal batcher, the search."""

import numpy as np
import pytest

from engine.bench.loadgen import poisson_offsets, summarise_run, OK, REJECTED
from engine.bench.offline import fit_batch_time
from engine.bench.search import Cancelled, max_qps_search
from engine.bench.simulate import batch_time_table, simulate_latencies
from engine.bench.stats import BenchResult, latency_summary_ms, noise_probe


def test_percentiles_come_from_the_raw_latencies():
    lat = np.arange(1, 1001) / 1000.0  # 1..1000 ms
    s = latency_summary_ms(lat)
    assert s["count"] == 1000
    assert s["p50_ms"] == pytest.approx(501.0)  # "higher": always an observed latency
    assert s["p99_ms"] == pytest.approx(991.0, abs=1.0)
    assert s["max_ms"] == pytest.approx(1000.0)
    assert latency_summary_ms([])["p99_ms"] is None


def test_the_poisson_schedule_is_seeded_and_scales_with_the_rate():
    a = poisson_offsets(100.0, 5000, seed=7)
    b = poisson_offsets(200.0, 5000, seed=7)
    assert a[0] == 0.0 and np.all(np.diff(a) >= 0)
    assert np.allclose(a, 2 * b)
    assert 5000 / a[-1] == pytest.approx(100.0, rel=0.05)
    assert not np.allclose(a, poisson_offsets(100.0, 5000, seed=8))
    with pytest.raises(ValueError):
        poisson_offsets(0.0, 10, seed=0)


def test_a_run_counts_latency_from_the_schedule_and_failures_as_infinite():
    n = 300
    targets = np.arange(n) * 0.01
    sent = targets + 0.0001
    finished = targets + 0.002
    outcome = np.full(n, OK, dtype=np.int8)
    outcome[-5:] = REJECTED  # 5 of 250 measured = 2 % > 1 %: p99 over all is unbounded
    r = summarise_run(targets, sent, finished, outcome, warmup_queries=50, deadline_s=None,
                      late_tolerance_ms=5.0, run_timed_out=False)
    assert r["queries"] == 250 and r["rejected"] == 5 and r["short_run"] is True
    assert r["latency_ms"]["p99_ms"] == pytest.approx(2.0)
    assert r["p99_all_ms"] is None
    assert r["valid"] is True


def test_a_run_with_more_than_one_percent_late_sends_is_invalid():
    n = 100
    targets = np.arange(n) * 0.01
    sent = targets.copy()
    sent[:2] += 0.010  # 2 % late by 10 ms
    r = summarise_run(targets, sent, targets + 0.001, np.zeros(n, dtype=np.int8), warmup_queries=0,
                      deadline_s=None, late_tolerance_ms=5.0, run_timed_out=False)
    assert r["late_sends"] == 2 and r["valid"] is False


def test_the_ideal_batcher_batches_everything_queued_when_the_slot_frees():
    table = batch_time_table(4, intercept_ms=1.0, per_item_ms=1.0)  # s(b) = 1 + b ms
    arrivals = np.zeros(6)
    lat = simulate_latencies(arrivals, table, max_batch_size=4)
    # batch of 4 ends at 5 ms, then the remaining 2 end at 5 + 3 = 8 ms
    assert np.allclose(lat * 1000, [5, 5, 5, 5, 8, 8])


def test_the_ideal_batcher_waits_for_the_queue_delay():
    table = batch_time_table(8, intercept_ms=1.0, per_item_ms=0.0)
    lat = simulate_latencies(np.array([0.0, 0.001]), table, max_batch_size=8, max_queue_delay_ms=2.0)
    assert np.allclose(lat * 1000, [3.0, 2.0])


def test_the_batch_time_table_interpolates_measurements_and_extends_with_the_fit():
    table = batch_time_table(8, intercept_ms=1.0, per_item_ms=0.5, sizes=[1, 4], batch_times_ms=[2.0, 5.0])
    assert table[1] == pytest.approx(0.002) and table[4] == pytest.approx(0.005)
    assert table[2] == pytest.approx(0.003)
    assert table[8] == pytest.approx(0.005 + 4 * 0.0005)


def test_the_fit_recovers_a_line():
    fit = fit_batch_time([1, 2, 4, 8, 16], [4.2 + 0.17 * b for b in [1, 2, 4, 8, 16]])
    assert fit["intercept_ms"] == pytest.approx(4.2) and fit["per_item_ms"] == pytest.approx(0.17)
    assert fit["r2"] == pytest.approx(1.0)


def _threshold_measure(capacity, calls=None):
    def measure(rate):
        if calls is not None:
            calls.append(rate)
        return {"p99_all_ms": 5.0 if rate <= capacity else 50.0, "valid": True}
    return measure


def test_the_search_finds_the_capacity_within_tolerance_and_confirms_it():
    calls = []
    out = max_qps_search(_threshold_measure(1234.0, calls), p99_budget_ms=10.0, start_qps=100.0, rel_tol=0.02)
    assert 1234.0 / 1.03 <= out["max_qps"] <= 1234.0
    assert out["confirmed"] is True
    assert calls[-1] == pytest.approx(out["max_qps"], rel=1e-3)  # the confirming run


def test_the_search_goes_down_when_the_start_fails():
    out = max_qps_search(_threshold_measure(40.0), p99_budget_ms=10.0, start_qps=1000.0, rel_tol=0.05)
    assert 40.0 / 1.06 <= out["max_qps"] <= 40.0


def test_the_search_retries_an_invalid_run_once():
    seen = []

    def measure(rate):
        seen.append(rate)
        return {"p99_all_ms": 1.0, "valid": len(seen) % 2 == 0}

    out = max_qps_search(measure, p99_budget_ms=10.0, start_qps=100.0, max_qps=400.0)
    assert out["max_qps"] == 400.0 and seen[0] == seen[1]


def test_the_search_stops_on_cancel():
    with pytest.raises(Cancelled):
        max_qps_search(_threshold_measure(100.0), p99_budget_ms=10.0, start_qps=10.0, should_cancel=lambda: True)


def test_results_serialise_to_json_with_numpy_values():
    r = BenchResult(scenario="x", workload={}, settings={}, provenance={}, seed=0, started_at="t",
                    duration_s=1.0, data={"v": np.float64(1.5), "a": np.arange(2)})
    assert '"v": 1.5' in r.to_json()


def test_the_noise_probe_reports_a_stall_fraction():
    probe = noise_probe(0.01)
    assert 0.0 <= probe["stall_fraction"] <= 1.0 and probe["probe_ms"] >= 10.0


def test_a_capacity_run_lasts_long_enough_not_to_be_a_burst():
    from engine.bench.server import MAX_QUERIES_PER_RUN, queries_for

    assert queries_for(1000.0, 2010, p99_budget_ms=10.0) == 2010  # 20 x 10 ms = 200 queries
    assert queries_for(6000.0, 2010, p99_budget_ms=50.0) == 6000  # 1 s at 6000 QPS
    assert queries_for(1e9, 2010, p99_budget_ms=50.0) == MAX_QUERIES_PER_RUN
