"""The generative harness without torch: metric definitions on hand-made timelines, the
workload generator, the driver and the ideal simulation on the fake runner, the step-time fit,
the max-rate search, and G4's holding counts."""

import math

import numpy as np
import pytest

from engine.bench.generate.holding import compare_holding, holding
from engine.bench.generate.metrics import RequestRecord, summarise_requests
from engine.bench.generate.run import search_max_rate
from engine.bench.generate.sim import FakeClock, StepTimeModel, fake_engine, fit_step_time, simulate
from engine.bench.generate.driver import drive
from engine.bench.generate.workload import LengthDist, arrival_offsets, make_workload
from engine.bench.stats import nearest_rank
from engine.serving.generative import SchedulerConfig

MODEL = StepTimeModel(base_ms=2.0, per_prefill_token_ms=0.02, per_decode_seq_ms=0.1, per_kv_token_ms=0.001)


# -- metric definitions ---------------------------------------------------------------------
def test_nearest_rank_is_the_ceil_p_n_th_smallest_value():
    values = list(range(10, 0, -1))  # 10..1, unsorted
    assert nearest_rank(values, 50) == 5
    assert nearest_rank(values, 90) == 9
    assert nearest_rank(values, 99) == 10
    hundred = list(range(1, 101))
    assert nearest_rank(hundred, 99) == 99  # not the maximum
    assert nearest_rank(hundred, 100) == 100
    assert nearest_rank([], 99) is None
    with pytest.raises(ValueError):
        nearest_rank([1.0], 0)


def test_ttft_counts_from_the_scheduled_arrival_and_tpot_excludes_the_first_token():
    r = RequestRecord("a", arrival_s=10.0, input_tokens=5, max_new_tokens=4,
                      token_times_s=[10.5, 10.6, 10.8, 11.1])
    assert r.ttft_s == pytest.approx(0.5)
    assert r.e2el_s == pytest.approx(1.1)
    # (E2E - TTFT) / (n - 1) = 0.6 / 3
    assert r.tpot_s == pytest.approx(0.2)
    assert r.itl_s == pytest.approx([0.1, 0.2, 0.3])
    assert r.meets(0.5, 0.2) and not r.meets(0.49, 0.2) and not r.meets(0.5, 0.19)


def test_a_one_token_output_has_no_tpot_and_meets_any_tpot_slo():
    r = RequestRecord("a", 0.0, 3, 1, [0.05])
    assert r.tpot_s is None and r.itl_s == []
    assert r.meets(ttft_slo_s=0.05, tpot_slo_s=1e-9)
    s = summarise_requests([r], ttft_slo_ms=50.0, tpot_slo_ms=1e-6)
    assert s["tpot"]["count"] == 0 and s["tpot_p99_all_ms"] is None
    assert s["slo_met"] and s["good_requests"] == 1


def test_summary_counts_failed_requests_as_infinitely_late_and_goodput_per_second():
    recs = [RequestRecord(f"r{i}", float(i), 4, 2, [i + 0.1, i + 0.15]) for i in range(99)]
    recs.append(RequestRecord("late", 99.0, 4, 2, [99.0 + 0.3, 99.0 + 0.5]))  # misses TTFT and TPOT
    s = summarise_requests(recs, ttft_slo_ms=200.0, tpot_slo_ms=100.0)
    # 100 values: nearest-rank p99 is the 99th, so one miss still passes.
    assert s["ttft"]["p99_ms"] == pytest.approx(100.0) and s["slo_met"]
    assert s["good_requests"] == 99
    assert s["duration_s"] == pytest.approx(99.5)
    assert s["goodput_rps"] == pytest.approx(99 / 99.5, rel=1e-3)
    assert s["output_tokens_per_s"] == pytest.approx(200 / 99.5, rel=1e-3)
    recs[0] = RequestRecord("r0", 0.0, 4, 2, rejected=True)
    recs[1] = RequestRecord("r1", 1.0, 4, 2, [1.1])  # never finished
    s = summarise_requests(recs, ttft_slo_ms=200.0, tpot_slo_ms=100.0)
    assert s["rejected"] == 1 and s["unfinished"] == 1 and s["completed"] == 98
    assert s["ttft_p99_all_ms"] is None and not s["slo_met"]  # 2 of 100 infinitely late
    assert s["good_requests"] == 97


# -- workloads ------------------------------------------------------------------------------
def test_length_distributions_parse_sample_in_bounds_and_name_the_field_on_error():
    rng = np.random.default_rng(0)
    assert set(LengthDist.parse("fixed:7").sample(20, rng)) == {7}
    u = LengthDist.parse("uniform:3-5").sample(500, rng)
    assert set(u) == {3, 4, 5}
    ln = LengthDist.parse("lognormal:32,1.0,4-200").sample(5000, rng)
    assert ln.min() >= 4 and ln.max() <= 200 and 25 <= np.median(ln) <= 40
    assert (ln == 200).any()  # the tail is long enough to reach the clip
    with pytest.raises(ValueError, match="input_len_dist"):
        LengthDist.parse("uniform:9", field="input_len_dist")
    with pytest.raises(ValueError, match="high must be"):
        LengthDist.parse("uniform:9-3")


def test_arrivals_are_seeded_scaled_by_rate_and_burstier_below_one():
    a = arrival_offsets(10.0, 4000, seed=1)
    assert a[0] == 0.0 and np.all(np.diff(a) >= 0)
    assert np.mean(np.diff(a)) == pytest.approx(0.1, rel=0.05)
    assert np.allclose(arrival_offsets(20.0, 4000, seed=1), a / 2)
    cv = lambda x: np.std(np.diff(x)) / np.mean(np.diff(x))  # noqa: E731
    assert cv(a) == pytest.approx(1.0, abs=0.08)  # Poisson
    assert cv(arrival_offsets(10.0, 4000, seed=1, burstiness=0.25)) > 1.6
    assert cv(arrival_offsets(10.0, 4000, seed=1, burstiness=4.0)) < 0.6
    assert not arrival_offsets(None, 5, seed=1).any()


def test_a_workload_is_reproducible_and_keeps_its_requests_across_rates():
    kw = dict(requests=30, input_len=LengthDist.parse("uniform:2-9"), output_len=LengthDist.fixed(3),
              vocab_size=50, rate_rps=5.0, seed=3)
    w = make_workload(**kw)
    assert w == make_workload(**kw)
    fast = w.at_rate(10.0)
    assert [r.prompt_token_ids for r in fast.requests] == [r.prompt_token_ids for r in w.requests]
    assert fast.requests[-1].arrival_offset_s == pytest.approx(w.requests[-1].arrival_offset_s / 2)
    assert make_workload(**{**kw, "seed": 4}).requests != w.requests


def test_a_run_at_a_high_rate_gets_enough_requests_to_last_its_minimum_span():
    from engine.bench.generate.workload import lasting

    w = make_workload(requests=10, input_len=LengthDist.fixed(3), output_len=LengthDist.fixed(2), vocab_size=9, seed=1)
    slow = lasting(w, 2.0, min_span_s=1.0)
    assert len(slow.requests) == 10 and slow.rate_rps == 2.0  # 10 requests at 2/s span ~5 s
    fast = lasting(w, 1000.0, min_span_s=1.0)
    assert len(fast.requests) == 1001 and fast.requests[-1].arrival_offset_s == pytest.approx(1.0, rel=0.15)
    assert all(max(r.prompt_token_ids) < 9 for r in fast.requests)


# -- driver and the ideal simulation on the fake runner --------------------------------------
def _workload(n=60, rate=40.0, seed=0):
    return make_workload(requests=n, input_len=LengthDist.parse("uniform:4-40"),
                         output_len=LengthDist.parse("uniform:1-20"), vocab_size=256, rate_rps=rate, seed=seed)


def test_every_request_gets_exactly_its_tokens_and_steps_mix_prefill_with_decode():
    w = _workload()
    cfg = SchedulerConfig(block_size=4, num_blocks=400, max_num_seqs=16, max_num_batched_tokens=24)
    rec = simulate(w, cfg, MODEL)
    assert [len(r.token_times_s) for r in rec.records] == [r.max_new_tokens for r in w.requests]
    assert all(r.finished for r in rec.records)
    assert any(s["prefill_tokens"] and s["decode_tokens"] for s in rec.steps)
    assert all(s["prefill_tokens"] + s["decode_tokens"] <= 24 and s["seqs"] <= 16 for s in rec.steps)
    # Each step took exactly what the model says (the simulation adds no overhead).
    s = rec.steps[0]
    assert s["step_ms"] == pytest.approx(MODEL.step_ms(s["prefill_tokens"], s["decode_tokens"], s["kv_tokens"]))
    # Times are monotone and no token precedes its request's scheduled arrival.
    for r in rec.records:
        assert r.token_times_s[0] > r.arrival_s and r.token_times_s == sorted(r.token_times_s)


def test_a_late_engine_cannot_hide_queueing_ttft_counts_from_the_schedule():
    # Steps of 50 ms, a request every 1 ms: the later ones wait behind the first steps.
    slow = StepTimeModel(base_ms=50.0)
    w = make_workload(requests=5, input_len=LengthDist.fixed(4), output_len=LengthDist.fixed(2),
                      vocab_size=16, rate_rps=1000.0, seed=0)
    cfg = SchedulerConfig(block_size=4, num_blocks=64, max_num_seqs=1, max_num_batched_tokens=8)
    rec = simulate(w, cfg, slow)
    ttfts = [r.ttft_s for r in rec.records]
    # One sequence at a time: request k's first token comes after 2k + 1 steps.
    for k, t in enumerate(ttfts):
        assert t >= (2 * k + 1) * 0.050 - w.requests[k].arrival_offset_s - 1e-9


def test_the_step_time_fit_recovers_the_model_from_simulated_steps():
    rec = simulate(_workload(n=120), SchedulerConfig(block_size=4, num_blocks=800, max_num_batched_tokens=32), MODEL)
    model, fit = fit_step_time(rec.steps)
    assert fit["r2"] > 0.999 and fit["median_rel_error"] < 1e-6
    assert model.per_decode_seq_ms == pytest.approx(MODEL.per_decode_seq_ms, rel=1e-3)
    assert model.per_prefill_token_ms == pytest.approx(MODEL.per_prefill_token_ms, rel=1e-3)
    # A term that only hurts the fit comes out as zero, never negative.
    steps = [{**s, "step_ms": 1.0 + 0.1 * s["decode_tokens"] - 0.0 * s["kv_tokens"]} for s in rec.steps]
    m2, _ = fit_step_time(steps)
    assert m2.per_kv_token_ms >= 0 and m2.per_decode_seq_ms == pytest.approx(0.1, rel=1e-3)
    with pytest.raises(ValueError, match=">= 5 measured steps"):
        fit_step_time(rec.steps[:3])


def test_stalled_steps_are_trimmed_from_the_fit_and_counted():
    rec = simulate(_workload(n=120), SchedulerConfig(block_size=4, num_blocks=800, max_num_batched_tokens=32), MODEL)
    steps = [dict(s) for s in rec.steps]
    for s in steps[::10]:
        s["step_ms"] += 40.0  # a neighbour took the core for 40 ms
    model, fit = fit_step_time(steps, trim_mads=3.0)
    assert fit["trimmed_steps"] == len(steps[::10])
    assert model.per_decode_seq_ms == pytest.approx(MODEL.per_decode_seq_ms, rel=1e-3)
    assert model.base_ms == pytest.approx(MODEL.base_ms, rel=1e-3)
    raw, raw_fit = fit_step_time(steps)
    assert raw_fit["trimmed_steps"] == 0 and raw.base_ms > MODEL.base_ms + 1.0


def test_the_driver_sleeps_to_the_next_arrival_on_the_engines_clock():
    w = make_workload(requests=3, input_len=LengthDist.fixed(2), output_len=LengthDist.fixed(1),
                      vocab_size=8, rate_rps=1.0, seed=2)
    cfg = SchedulerConfig(block_size=4, num_blocks=8)
    engine, clock = fake_engine(cfg, StepTimeModel(base_ms=1.0), vocab_size=8)
    rec = drive(engine, w, clock=clock, sleep=clock.sleep, start_delay_s=0.0)
    assert [r.ttft_s for r in rec.records] == pytest.approx([0.001] * 3)
    assert clock() == pytest.approx(w.requests[-1].arrival_offset_s + 0.001)
    assert rec.late_adds == 0 and not rec.cut_short


def test_max_rate_search_on_the_fake_runner_finds_the_edge_of_the_slos():
    base = _workload(n=150, rate=1.0, seed=5)
    cfg = SchedulerConfig(block_size=4, num_blocks=1200, max_num_seqs=32, max_num_batched_tokens=64)
    slo = {"ttft_slo_ms": 40.0, "tpot_slo_ms": 6.0}

    def measure(rate):
        rec = simulate(base.at_rate(rate), cfg, MODEL)
        return {"metrics": summarise_requests(rec.records, **slo), "valid": True}

    out = search_max_rate(measure, start_rps=20.0, rel_tol=0.05)
    best = out["max_rate_rps"]
    assert best > 0 and out["confirmed"] and out["slo_ratio"] <= 1.0
    assert measure(best)["metrics"]["slo_met"]
    # The search bracketed the edge: a failing rate within the tolerance above the answer.
    failing = [s["rate_rps"] for s in out["steps"] if not s["pass"] and s["rate_rps"] > best]
    assert failing and min(failing) <= best * 1.06 + 0.01
    assert not measure(best * 3)["metrics"]["slo_met"]


# -- G4 -------------------------------------------------------------------------------------
def test_reserve_max_holds_pool_over_max_len_sequences_and_paged_holds_more_with_little_waste():
    w = make_workload(requests=120, input_len=LengthDist.fixed(8), output_len=LengthDist.fixed(8),
                      vocab_size=1000, seed=0)
    cfg = SchedulerConfig(block_size=8, num_blocks=64, max_num_seqs=256, max_num_batched_tokens=4096,
                          prefix_caching=False, max_model_len=64)
    reserve = holding(w, cfg.__class__(**{**cfg.to_dict(), "allocation": "reserve_max"}))
    assert reserve["mean_seqs_held"] == 8 and reserve["max_seqs_held"] == 8  # 64 blocks / (64 / 8)
    assert reserve["waste_over_tokens_held"] >= 3.0  # at most 16 of 64 slots ever used
    out = compare_holding(w, cfg)
    paged = out["paged"]
    assert paged["mean_seqs_held"] >= 2 * reserve["mean_seqs_held"]
    assert paged["max_seqs_held"] <= 64
    # Lengths are whole blocks here: a paged block holds nothing wasted once full.
    assert paged["waste_over_tokens_held"] < 0.5
    for r in (paged, out["reserve_max"]):
        assert r["drained"] and r["blocks_used_after_drain"] == 0 and r["rejected"] == 0
    assert out["seqs_held_ratio"] == pytest.approx(paged["mean_seqs_held"] / out["reserve_max"]["mean_seqs_held"], rel=1e-3)


def test_the_harness_imports_without_torch():
    import subprocess
    import sys

    code = ("import sys, engine.bench.generate, engine.bench.generate.sim, engine.bench.generate.holding, "
            "engine.bench.generate.cli, engine.bench.mlperf_tokens; assert 'torch' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_fake_runner_replays_measured_step_variation_seeded():
    w = _workload(n=80)
    cfg = SchedulerConfig(block_size=4, num_blocks=600, max_num_batched_tokens=32)
    from engine.bench.generate.sim import step_time_ratios

    plain = simulate(w, cfg, MODEL)
    assert np.allclose(step_time_ratios(plain.steps, MODEL), 1.0)
    noise = np.array([1.0, 1.0, 3.0])
    replay = np.round(step_time_ratios(simulate(w, cfg, MODEL, noise=noise).steps, MODEL), 6)
    assert list(replay[:6]) == [1.0, 1.0, 3.0, 1.0, 1.0, 3.0]  # in order, cycling
    noisy = simulate(w, cfg, MODEL, noise=noise, shuffle=True, seed=1)
    ratios = np.round(step_time_ratios(noisy.steps, MODEL), 6)
    assert set(ratios) <= {1.0, 3.0} and (ratios == 3.0).mean() == pytest.approx(1 / 3, abs=0.1)
    assert list(ratios[:30]) != list(replay[:30])
    assert noisy.wall_s > plain.wall_s
    again = simulate(w, cfg, MODEL, noise=noise, shuffle=True, seed=1)
    assert [r.token_times_s for r in again.records] == [r.token_times_s for r in noisy.records]
