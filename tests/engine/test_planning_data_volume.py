"""Data volume calculator against hand-computed examples."""

import pytest

from engine.planning import plan_data_volume


def test_it_computes_daily_monthly_yearly_and_stored_volume():
    plan = plan_data_volume(requests_per_day=1_000_000, peak_qps=50, request_size_kb=4, response_size_kb=6,
                            new_data_per_day_gb=5, retention_days=30, training_data_gb=100)
    # logs: 1,000,000 x (4 + 6) KB = 10,000,000 KB = 10 GB/day
    assert plan.request_log_gb_per_day == pytest.approx(10.0)
    assert plan.ingest_gb_per_day == pytest.approx(15.0)  # 10 + 5
    assert plan.ingest_gb_per_month == pytest.approx(15 * 365 / 12)  # 456.25
    assert plan.ingest_gb_per_year == pytest.approx(5475.0)  # 15 x 365
    assert plan.stored_gb_after_1y == pytest.approx(550.0)  # 100 + 15 x 30
    assert plan.stored_gb_steady_state == pytest.approx(550.0)
    assert plan.ingress_mbps_peak == pytest.approx(1.6)  # 50/s x 4 KB x 8 / 1000
    assert plan.egress_mbps_peak == pytest.approx(2.4)  # 50/s x 6 KB x 8 / 1000
    assert plan.notes == ()


def test_no_retention_grows_without_bound():
    plan = plan_data_volume(requests_per_day=1_000_000, request_size_kb=4, response_size_kb=6,
                            new_data_per_day_gb=5, training_data_gb=100)
    assert plan.stored_gb_after_1y == pytest.approx(100 + 15 * 365)  # 5575
    assert plan.stored_gb_steady_state is None
    assert plan.notes[0].severity == "warning"


def test_unlogged_payloads_count_zero():
    plan = plan_data_volume(requests_per_day=1_000_000, request_size_kb=4, response_size_kb=6,
                            log_payloads=False, new_data_per_day_gb=2, retention_days=400)
    assert plan.request_log_gb_per_day == 0
    assert plan.stored_gb_after_1y == pytest.approx(2 * 365)  # retention capped at a year
    assert plan.stored_gb_steady_state == pytest.approx(2 * 400)


def test_blank_inputs_give_none():
    plan = plan_data_volume()
    assert plan.ingest_gb_per_day is None and plan.stored_gb_after_1y is None and plan.notes == ()
