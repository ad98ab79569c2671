"""Traffic and latency-budget calculators against hand-computed examples."""

import pytest

from engine.planning import plan_latency_budget, plan_traffic


def test_it_derives_qps_from_users():
    plan = plan_traffic(daily_active_users=100_000, requests_per_user_per_day=8.64, peak_factor=3,
                        latency_p50_ms=200, latency_p99_ms=500,
                        input_tokens_per_request=1000, output_tokens_per_request=100)
    # 100,000 users x 8.64 req/day = 864,000 req/day / 86,400 s = 10 req/s
    assert plan.average_qps == pytest.approx(10.0)
    assert plan.peak_qps == pytest.approx(30.0)  # 10 x 3
    assert plan.sources == {"average_qps": "derived", "peak_qps": "derived"}
    assert plan.requests_per_day == pytest.approx(864_000)
    assert plan.requests_per_month == pytest.approx(26_280_000)  # 10 x 730 h x 3600 s
    # Little's law: L = lambda x W
    assert plan.concurrency_average == pytest.approx(2.0)  # 10/s x 0.2 s
    assert plan.concurrency_peak == pytest.approx(6.0)  # 30/s x 0.2 s
    assert plan.concurrency_peak_p99 == pytest.approx(15.0)  # 30/s x 0.5 s
    assert plan.input_tokens_per_second_peak == pytest.approx(30_000)  # 30 x 1000
    assert plan.output_tokens_per_second_peak == pytest.approx(3_000)  # 30 x 100
    assert plan.tokens_per_month == pytest.approx(26_280_000 * 1100)


def test_entered_qps_wins_and_a_disagreement_is_noted():
    plan = plan_traffic(average_qps=50, peak_qps=120, daily_active_users=100_000, requests_per_user_per_day=8.64)
    assert (plan.average_qps, plan.peak_qps) == (50, 120)
    assert plan.sources == {"average_qps": "entered", "peak_qps": "entered"}
    assert plan.peak_factor == pytest.approx(2.4)  # 120 / 50
    assert [n.path for n in plan.notes] == ["traffic.average_qps"]  # 50 vs 10 derived


def test_average_from_peak_and_factor():
    plan = plan_traffic(peak_qps=90, peak_factor=3)
    assert plan.average_qps == pytest.approx(30.0)


def test_missing_inputs_give_none():
    plan = plan_traffic()
    assert plan.average_qps is None and plan.peak_qps is None and plan.concurrency_peak is None
    assert {n.severity for n in plan.notes} == {"info"}


def test_peak_below_average_is_an_error_note():
    plan = plan_traffic(average_qps=10, peak_qps=5)
    assert any(n.severity == "error" and n.path == "traffic.peak_qps" for n in plan.notes)


def test_it_splits_the_latency_budget():
    budget = plan_latency_budget(latency_p50_ms=100, latency_p99_ms=500, network_ms=20, preprocessing_ms=80,
                                 queueing_ms=10, postprocessing_ms=40)
    # overhead = 20 + 80 + 10 + 40 = 150; inference = 500 - 150 = 350 = 70 %
    assert budget.overhead_ms == 150
    assert budget.inference_budget_ms == 350
    assert budget.inference_share_pct == pytest.approx(70.0)
    assert budget.tail_ratio == pytest.approx(5.0)  # 500 / 100
    assert budget.notes == ()


def test_it_warns_when_nothing_is_left_for_the_model():
    budget = plan_latency_budget(latency_p99_ms=100, network_ms=60, preprocessing_ms=50)
    assert budget.inference_budget_ms == -10
    assert budget.notes[0].severity == "error"
    assert "nothing is left for the model" in budget.notes[0].message


def test_it_warns_when_little_is_left_for_the_model():
    budget = plan_latency_budget(latency_p99_ms=100, network_ms=80)
    # 20 ms left = 20 % < 25 %
    assert budget.notes[0].severity == "warning" and "20 %" in budget.notes[0].message


def test_token_targets_must_fit_the_p99():
    ok = plan_latency_budget(latency_p99_ms=500, time_to_first_token_ms=300, time_per_output_token_ms=20,
                             output_tokens_per_request=11)
    assert ok.generation_ms == 500  # 300 + (11 - 1) x 20
    assert ok.notes == ()
    slow = plan_latency_budget(latency_p99_ms=500, time_to_first_token_ms=300, time_per_output_token_ms=20,
                               output_tokens_per_request=12)
    assert slow.generation_ms == 520  # 300 + 11 x 20
    assert slow.notes[0].path == "latency_budget.generation_ms"


def test_it_warns_about_a_timeout_below_p99():
    budget = plan_latency_budget(latency_p99_ms=500, request_timeout_ms=400)
    assert budget.notes[0].path == "architecture.request_timeout_ms"


def test_a_blank_budget_gives_none():
    budget = plan_latency_budget()
    assert budget.inference_budget_ms is None and budget.overhead_ms == 0
