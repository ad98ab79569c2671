"""Cost calculator against hand-computed examples, and the GPU catalog."""

import json

import pytest

from engine.planning import api_monthly_cost, catalog_errors, load_gpu_catalog, plan_cost, shipped_catalog

GPU = {"memory_gb": 80, "bf16_tflops": 1000, "memory_bandwidth_gb_s": 2000,
       "price_usd_per_hour": {"on_demand": 4.0, "spot": 1.0, "reserved_1y": 3.0, "reserved_3y": 2.0}}
MONTH_DAYS = 365 / 12  # 30.4167


def test_it_prices_every_plan_for_an_autoscaled_fleet():
    cost = plan_cost(gpu=GPU, gpu_type="test", replicas=10, replicas_average=4, autoscaled=True,
                     peak_hours_per_day=6, pricing_model="on_demand", reserved_term="1y", reserved_share_pct=50,
                     spot_share_pct=20, requests_per_month=26_280_000, tokens_per_month=26_280_000_000,
                     monthly_budget_usd=10_000)
    # used GPU-hours = 30.4167 x (4 x 18 h + 10 x 6 h) = 30.4167 x 132 = 4015 h
    used = MONTH_DAYS * 132
    assert cost.gpu_hours_per_month == pytest.approx(used)
    assert cost.gpu_hours_always_on == pytest.approx(7300)  # 10 x 730
    m = cost.monthly_usd
    assert m.on_demand == pytest.approx(used * 4)  # 16,060
    assert m.spot == pytest.approx(used * 1)  # 4,015
    assert m.reserved_1y == pytest.approx(7300 * 3)  # 21,900: reserved is paid around the clock
    assert m.reserved_3y == pytest.approx(7300 * 2)  # 14,600
    # blended = 0.5 x 3 + 0.2 x 1 + 0.3 x 4 = 2.9 $/h
    assert m.mixed == pytest.approx(used * 2.9)  # 11,643.5
    assert m.selected == m.on_demand
    assert cost.mix.on_demand_pct == 30
    assert cost.mix.baseline_share_pct == pytest.approx(4 * 730 / used * 100)  # 72.7 %
    assert cost.per_1k_requests_usd.on_demand == pytest.approx(used * 4 / 26_280)  # 0.611 $/1k
    assert cost.per_1m_tokens_usd.spot == pytest.approx(used / 26_280)
    # budget 10,000: gap = 16,060 - 10,000 = 6,060 = 60.6 %
    assert cost.budget_gap_usd == pytest.approx(used * 4 - 10_000)
    assert cost.budget_gap_pct == pytest.approx((used * 4 - 10_000) / 100)
    assert cost.within_budget is False
    assert "exceeds the GPU budget (" in cost.notes[0].message and "by 61 %" in cost.notes[0].message


def test_a_fixed_fleet_runs_all_month():
    cost = plan_cost(gpu=GPU, replicas=10, replicas_average=4, autoscaled=False, gpus_per_replica=2)
    assert cost.gpu_hours_per_month == pytest.approx(14_600)  # 10 x 2 x 730
    assert cost.monthly_usd.on_demand == pytest.approx(58_400)


def test_the_budget_warning_reads_like_the_issue():
    cost = plan_cost(gpu=GPU, replicas=1, monthly_budget_usd=730 * 4 / 1.4)
    # 2,920 $/month on-demand vs a 2,085.71 budget: 40 % over
    assert cost.budget_gap_pct == pytest.approx(40.0)
    assert "exceeds the GPU budget ($2,086) by 40 %" in cost.notes[0].message


def test_a_cheaper_tier_is_billed_as_its_own_fleet():
    cost = plan_cost(gpu=GPU, replicas=1, cheap_tier_replicas=2, cheap_tier_replicas_average=1, autoscaled=True,
                     peak_hours_per_day=4)
    # main: one replica all month, 730 h x 4 $; cheap tier: 2 replicas for the 4 peak hours, 1 the other 20
    cheap_hours = 365 / 12 * (1 * 20 + 2 * 4)
    assert cost.cheap_tier_monthly_usd == pytest.approx(cheap_hours * 4)
    assert cost.monthly_usd.on_demand == pytest.approx(2920 + cheap_hours * 4)
    # reserved capacity is paid around the clock, the cheap tier's peak fleet too
    assert cost.monthly_usd.reserved_1y == pytest.approx((1 + 2) * 730 * 3)


def test_build_vs_buy():
    api = api_monthly_cost(input_tokens_per_month=1e9, output_tokens_per_month=2e8, price_per_1m_input_usd=0.5,
                           price_per_1m_output_usd=1.5)
    assert api == pytest.approx(800)  # 1,000 x 0.5 + 200 x 1.5
    cost = plan_cost(gpu=GPU, replicas=1, api_monthly_usd=api)
    assert cost.build_vs_buy.cheaper == "api"  # 800 < 2,920
    assert cost.build_vs_buy.difference_usd == pytest.approx(800 - 2920)
    assert api_monthly_cost(input_tokens_per_month=1e9, output_tokens_per_month=None, price_per_1m_input_usd=None,
                            price_per_1m_output_usd=None) is None


def test_warnings_for_spot_online_and_over_reserving():
    spot = plan_cost(gpu=GPU, replicas=4, pricing_model="spot", online=True)
    assert any(n.path == "cost.monthly_usd.spot" for n in spot.notes)
    mixed = plan_cost(gpu=GPU, replicas=10, replicas_average=2, autoscaled=True, pricing_model="mixed",
                      reserved_share_pct=80, spot_share_pct=0)
    assert any(n.path == "architecture.reserved_share_pct" for n in mixed.notes)


def test_unknown_fleet_or_gpu_gives_none():
    assert plan_cost(gpu=None, replicas=3).monthly_usd.on_demand is None
    assert plan_cost(gpu=GPU, replicas=None).monthly_usd.spot is None


def test_the_shipped_catalog_is_complete_and_dated():
    catalog = load_gpu_catalog()
    assert catalog_errors(catalog) == []
    assert catalog["source"] and catalog["as_of"]
    for key in ("h100-80gb", "h200-141gb", "a100-40gb", "a100-80gb", "l4-24gb", "a10g-24gb", "t4-16gb",
                "l40s-48gb"):
        assert key in catalog["gpus"]
    for gpu in catalog["gpus"].values():
        p = gpu["price_usd_per_hour"]
        # spot <= 3y reserved <= 1y reserved <= on-demand, as cloud price lists go
        assert p["spot"] <= p["reserved_3y"] <= p["reserved_1y"] <= p["on_demand"]


def test_catalog_errors_name_the_gpu_and_entry(tmp_path):
    catalog = shipped_catalog()
    catalog["gpus"]["h100-80gb"]["price_usd_per_hour"]["spot"] = -1
    catalog["gpus"]["t4-16gb"]["memory_gb"] = "lots"
    errors = catalog_errors(catalog)
    assert "h100-80gb: price_usd_per_hour.spot must be a number >= 0" in errors
    assert "t4-16gb: memory_gb must be a positive number" in errors
    assert catalog_errors([]) == ["the catalog must be an object"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(catalog))
    with pytest.raises(ValueError):
        load_gpu_catalog(path)
    assert shipped_catalog()["gpus"]["h100-80gb"]["price_usd_per_hour"]["spot"] > 0  # copies, not shared


def test_a_bought_model_costs_the_apis_bill_and_no_fleet():
    cost = plan_cost(gpu=None, replicas=None, pricing_model="mixed", requests_per_month=1_000_000,
                     tokens_per_month=2_000_000_000, api_monthly_usd=6_000.0, monthly_budget_usd=10_000, bought=True)
    m = cost.monthly_usd
    assert (m.on_demand, m.spot, m.reserved_1y, m.reserved_3y, m.mixed) == (None,) * 5
    assert m.selected == 6_000.0
    assert cost.per_1k_requests_usd.selected == pytest.approx(6.0)
    assert cost.within_budget is True and cost.budget_gap_usd == pytest.approx(-4_000)
    # Build vs buy compares a fleet with the API: a design that buys has nothing to compare.
    assert (cost.build_vs_buy.api_monthly_usd, cost.build_vs_buy.self_hosted_monthly_usd,
            cost.build_vs_buy.cheaper) == (6_000.0, None, None)
    assert any(n.path == "cost.monthly_usd.selected" and "managed API" in n.message for n in cost.notes)


def test_a_built_model_with_the_same_api_price_is_priced_as_its_fleet():
    cost = plan_cost(gpu=GPU, replicas=1, api_monthly_usd=6_000.0)
    assert cost.monthly_usd.selected == pytest.approx(730 * 4)
    assert cost.build_vs_buy.cheaper == "self_hosted"
