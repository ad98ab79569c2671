"""The MLPerf LoadGen driver: a tiny run completes and its summary log is parsed.

A no-op model keeps each run to a few hundred ms; what is checked is the wiring (SUT and QSL
over the core, every sample answered, LoadGen's own verdict read back), not performance.
"""

import subprocess
import sys

import pytest

from engine.bench import mlperf
from engine.bench.harness import make_bench
from engine.serving.policy import BatcherConfig
from engine.serving.workloads import WorkloadSpec

SUMMARY = """================================================
MLPerf Results Summary
================================================
SUT name : PySUT
Scenario : Server
Mode     : PerformanceOnly
Completed samples per second    : 2081.38
Result is : INVALID
  Performance constraints satisfied : NO
  Min duration satisfied : Yes
  Min queries satisfied : Yes
  Early stopping satisfied: NO
Recommendations:
 * Reduce target QPS to improve latency.
Early Stopping Result:
 * Run unsuccessful.
 * Processed 629 queries.
 * Would need to run at least 1207 more queries,
 with the run being successful if every additional
 query were under latency.

================================================
Additional Stats
================================================
Scheduled samples per second : 2082.26
Min latency (ns)                : 42703
Max latency (ns)                : 17502550
Mean latency (ns)               : 163715
50.00 percentile latency (ns)   : 156370
90.00 percentile latency (ns)   : 205329
99.00 percentile latency (ns)   : 12493948

================================================
Test Parameters Used
================================================
target_qps : 2000
target_latency (ns): 10000000
min_duration (ms): 300
min_query_count : 300
"""


def test_the_summary_log_is_parsed_into_loadgens_verdict_and_latencies():
    r = mlperf.parse_summary(SUMMARY)
    assert r["scenario"] == "Server"
    assert r["valid"] is False
    assert r["performance_constraints_satisfied"] is False
    assert r["early_stopping_satisfied"] is False
    assert r["min_duration_satisfied"] is True
    assert r["completed_qps"] == 2081.38
    assert r["scheduled_qps"] == 2082.26
    assert r["p99_latency_ms"] == pytest.approx(12.4939, abs=1e-4)
    assert r["target_latency_ms"] == 10.0
    assert r["early_stopping"][0] == "Run unsuccessful."
    assert "1207 more queries" in r["early_stopping"][2]


@pytest.fixture(scope="module")
def noop_bench():
    return make_bench(WorkloadSpec(family="noop"))


def test_a_tiny_server_run_completes_and_loadgen_calls_it_valid(noop_bench, tmp_path):
    config = BatcherConfig(max_batch_size=64, max_queue_delay_ms=0.0)
    r = mlperf.loadgen_server(
        noop_bench, config, target_qps=2000, target_latency_ms=20.0,
        min_duration_ms=250, min_query_count=300, outdir=tmp_path,
    )
    assert (tmp_path / "mlperf_log_summary.txt").exists()
    assert r["scenario"] == "Server"
    assert r["valid"] is True, r
    assert r["errors"] == 0
    # Every sample LoadGen issued went through the core and was answered.
    assert r["core"]["completed"] >= 300
    assert r["core"]["completed"] == r["core"]["submitted"]
    assert 0 < r["p99_latency_ms"] <= 20.0
    assert r["scheduled_qps"] == pytest.approx(2000, rel=0.3)


def test_an_impossible_latency_target_is_invalid(noop_bench):
    config = BatcherConfig(max_batch_size=64, max_queue_delay_ms=5.0)
    r = mlperf.loadgen_server(
        noop_bench, config, target_qps=1000, target_latency_ms=1.0,
        min_duration_ms=200, min_query_count=200,
    )
    assert r["valid"] is False
    assert r["p99_latency_ms"] > 1.0


def test_a_tiny_offline_run_reports_samples_per_second(noop_bench):
    config = BatcherConfig(max_batch_size=64, max_queue_delay_ms=0.0)
    r = mlperf.loadgen_offline(noop_bench, config, expected_qps=2000, min_duration_ms=100,
                               min_query_count=200)
    assert r["scenario"] == "Offline"
    assert r["samples_per_second"] > 0
    assert r["core"]["completed"] >= 200


def test_importing_the_driver_does_not_import_loadgen():
    code = "import sys, engine.bench.mlperf; print('mlperf_loadgen' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_max_qps_search_passes_rates_by_loadgens_rule(noop_bench):
    config = BatcherConfig(max_batch_size=64, max_queue_delay_ms=0.0)
    found = mlperf.loadgen_max_qps(
        noop_bench, config, 20.0, start_qps=1000, min_duration_ms=150, min_query_count=150,
        max_steps=2, confirm=False, rule="p99",
    )
    assert found["rule"] == "p99"
    assert [s["pass"] for s in found["steps"]] == [True, True]
    assert found["max_qps"] == 2000.0
    assert found["result"]["scenario"] == "Server"


def test_an_unknown_search_rule_is_an_error(noop_bench):
    with pytest.raises(ValueError):
        mlperf.loadgen_max_qps(noop_bench, BatcherConfig(), 20.0, start_qps=100, rule="p95")
