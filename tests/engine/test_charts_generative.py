"""The generative figures read a result's probes, metrics and step series, and say None without them."""

from engine.charts import benchmark_figures
from engine.charts.generative import kv_blocks_over_run, tokens_vs_concurrency, tpot_vs_load, ttft_vs_load


def probe(rate, ttft_p50, ttft_p99, seqs, tokens_s):
    return {"rate_rps": rate, "valid": True, "steps": {"mean_seqs": seqs},
            "metrics": {"ttft": {"p50_ms": ttft_p50}, "ttft_p99_all_ms": ttft_p99,
                        "tpot": {"p50_ms": 2.0}, "tpot_p99_all_ms": None, "output_tokens_per_s": tokens_s}}


RESULT = {
    "scenario": "generate-max-qps", "max_rate_rps": 4.0,
    "slo": {"ttft_slo_ms": 100.0, "tpot_slo_ms": 10.0},
    "probes": [probe(8.0, 60.0, 400.0, 12.0, 900.0), probe(2.0, 10.0, 30.0, 3.0, 300.0),
               probe(4.0, 20.0, 80.0, 6.0, 600.0)],
    "metrics": {"ttft": {}, "tpot": {}},
    "settings": {"scheduler": {"num_blocks": 64}},
    "step_series": [{"start_s": 0.0, "kv_blocks_used": 3, "seqs": 1, "step_ms": 2.0},
                    {"start_s": 0.01, "kv_blocks_used": 9, "seqs": 4, "step_ms": 3.0}],
}


def test_token_times_are_drawn_against_offered_load_in_rate_order_with_the_slo_line():
    fig = ttft_vs_load(RESULT)
    p50, p99 = fig["data"]
    assert p50["x"] == [2.0, 4.0, 8.0] and p50["y"] == [10.0, 20.0, 60.0] and p99["y"] == [30.0, 80.0, 400.0]
    assert fig["layout"]["shapes"][0]["y0"] == 100.0  # the TTFT SLO
    assert fig["layout"]["shapes"][1]["x0"] == 4.0  # the max rate
    # An unbounded p99 (unfinished requests) is a gap, not a number.
    assert tpot_vs_load(RESULT)["data"][1]["y"] == [None, None, None]


def test_tokens_per_second_follow_concurrency_and_kv_blocks_the_run():
    fig = tokens_vs_concurrency(RESULT)
    assert fig["data"][0]["x"] == [3.0, 6.0, 12.0] and fig["data"][0]["y"] == [300.0, 600.0, 900.0]
    kv = kv_blocks_over_run(RESULT)
    assert kv["data"][0]["y"] == [3.0, 9.0] and kv["layout"]["shapes"][0]["y0"] == 64.0


def test_a_generative_result_gets_the_generative_figures_and_others_none_of_them():
    keys = [f["key"] for f in benchmark_figures(RESULT)]
    assert keys == ["ttft_vs_load", "tpot_vs_load", "tokens_vs_concurrency", "kv_blocks_over_run", "steps_over_run"]
    assert ttft_vs_load({"scenario": "capacity", "probes": RESULT["probes"]}) is None
    assert kv_blocks_over_run({"scenario": "generate-offline"}) is None
    assert [f["key"] for f in benchmark_figures({"scenario": "generate-offline", "status": "failed"})] == []
