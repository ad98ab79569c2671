"""MLPerf LoadGen in token-latency mode over the generative engine (the fake runner in wall time):
a tiny run completes, every sample is answered with its first token and its token count, and
LoadGen's TTFT/TPOT verdict is read back."""

import pytest

from engine.bench.generate.sim import SleepClock, StepTimeModel, fake_engine
from engine.bench.generate.workload import LengthDist, make_workload
from engine.bench.mlperf_tokens import loadgen_token_server, parse_token_summary
from engine.serving.generative import SchedulerConfig

pytest.importorskip("mlperf_loadgen")

SUMMARY_TAIL = """Completed tokens per second                 : 220.09
50.00 percentile first token latency (ns)   : 2422625
99.00 percentile first token latency (ns)   : 11827140
50.00 percentile time to output token (ns)   : 1135525
99.00 percentile time to output token (ns)   : 1228204
ttft_latency (ns): 50000000
tpot_latency (ns): 5000000
"""


def test_the_token_fields_of_the_summary_are_parsed():
    r = parse_token_summary("Result is : INVALID\n  Performance constraints satisfied : Yes\n" + SUMMARY_TAIL)
    assert r["ttft_p99_ms"] == pytest.approx(11.8271, abs=1e-4)
    assert r["tpot_p50_ms"] == pytest.approx(1.1355, abs=1e-4)
    assert r["ttft_latency_ms"] == 50.0 and r["tpot_latency_ms"] == 5.0
    assert r["completed_tokens_per_s"] == pytest.approx(220.09)
    assert r["performance_constraints_satisfied"] is True and r["valid"] is False


def _engine_factory(step_ms):
    cfg = SchedulerConfig(block_size=4, num_blocks=512, max_num_seqs=16, max_num_batched_tokens=64)
    model = StepTimeModel(base_ms=step_ms)
    return lambda: fake_engine(cfg, model, clock=SleepClock())[0]


def test_a_tiny_token_latency_run_answers_every_sample_and_reports_ttft_and_tpot():
    w = make_workload(requests=16, input_len=LengthDist.parse("uniform:4-12"), output_len=LengthDist.fixed(4),
                      vocab_size=64, seed=0)
    r = loadgen_token_server(
        _engine_factory(1.0), list(w.requests), target_qps=100.0, ttft_slo_ms=200.0, tpot_slo_ms=50.0,
        min_query_count=24, min_duration_ms=200,
    )
    assert r["answered"] >= 24 and r["rejected"] == 0
    # Each output has 4 tokens one 1 ms step apart: LoadGen's TPOT is about a step.
    assert 0.9 <= r["tpot_p50_ms"] <= 10.0
    assert r["ttft_p99_ms"] >= 1.0
    assert r["completed_tokens_per_s"] > 0
    assert r["within_slo"] and r["performance_constraints_satisfied"]


def test_a_tpot_limit_below_the_step_time_fails_loadgens_constraints():
    w = make_workload(requests=8, input_len=LengthDist.fixed(4), output_len=LengthDist.fixed(3),
                      vocab_size=64, seed=1)
    r = loadgen_token_server(
        _engine_factory(3.0), list(w.requests), target_qps=50.0, ttft_slo_ms=500.0, tpot_slo_ms=1.0,
        min_query_count=10, min_duration_ms=100,
    )
    assert r["tpot_p99_ms"] >= 2.5
    assert not r["within_slo"] and not r["performance_constraints_satisfied"]
