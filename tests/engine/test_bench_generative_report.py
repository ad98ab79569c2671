"""The G1-G5 verdicts of benchmarks/generative_report.py on hand-made results (no torch)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from generative_report import render_markdown, summarise  # noqa: E402


def _row(rate, ours, theirs):
    return {"rate_rps": rate, "ours": {"pass": ours}, "loadgen": {"pass": theirs}}


def test_g5_max_is_the_last_pass_before_two_failures_in_a_row_and_must_be_bracketed():
    rows = [_row(10, True, True), _row(11, False, True), _row(12, True, True), _row(13, False, False),
            _row(14, False, True), _row(15, False, False), _row(16, False, False)]
    s = summarise({"g5": {"grid": rows}})
    # Ours: one failure at 11 is noise; 13 and 14 fail in a row, so 12. LoadGen: 14, then 15 and 16 fail.
    assert s["g5_ours_max_rate_rps"] == 12 and s["g5_loadgen_max_rate_rps"] == 14
    assert s["g5_bracketed"] and s["g5_ratio_loadgen_over_ours"] == round(14 / 12, 4) and not s["g5_met"]
    assert s["g5_agree_rows"] == 5  # 10, 12, 13, 15, 16
    open_ended = summarise({"g5": {"grid": rows[:3]}})
    assert not open_ended["g5_bracketed"] and not open_ended["g5_met"]  # ratio 1.0, but only lower bounds


def test_g2_takes_each_systems_best_goodput_over_its_grid():
    grid = [
        {"rate_rps": 5.0, "static_1": {"goodput_rps": 3.0}, "static_4": {"goodput_rps": 4.0}},
        {"rate_rps": 10.0, "core": {"goodput_rps": 9.5}, "static_1": {"goodput_rps": 1.0},
         "static_4": {"goodput_rps": 2.5}},
        {"rate_rps": 20.0, "core": {"goodput_rps": 15.0}},
    ]
    s = summarise({"g2": {"grid": grid}})
    assert s["g2_core_goodput_rps"] == 15.0 and s["g2_core_rate_rps"] == 20.0
    assert (s["g2_static_goodput_rps"], s["g2_static_batch_size"], s["g2_static_rate_rps"]) == (4.0, 4, 5.0)
    assert s["g2_ratio"] == 3.75 and s["g2_met"]


def test_a_partial_result_renders_with_its_provenance_and_the_cpu_caveat():
    result = {
        "command": "python benchmarks/generative.py", "started_at": "t", "duration_s": 1.0,
        "provenance": {"device_type": "cpu", "device_name": "x", "git_commit": "abc", "cpu_count": 2},
        "workload": {"layers": 1, "d_model": 8, "heads": 2, "kv_heads": 1, "ffn_dim": 16, "vocab_size": 9,
                     "param_count": 100, "dtype": "fp32"},
        "settings": {"threads": 1, "static_batch_sizes": [1], "scheduler": {"block_size": 4, "num_blocks": 8,
                     "max_num_seqs": 2, "max_num_batched_tokens": 8},
                     "workload": {"requests": 3, "input_len_dist": "fixed:2", "output_len_dist": "fixed:2", "seed": 0,
                                  "input_tokens": {"mean": 2, "max": 2}, "output_tokens": {"mean": 2, "max": 2}}},
        "results": {"g1": {"batch": 2, "pairs": [{"ratio": 0.95, "core_tokens_per_s": 95.0,
                                                  "bare_tokens_per_s": 100.0, "noise": {"stall_fraction": 0.01}}]}},
    }
    result["summary"] = summarise(result["results"])
    md = render_markdown(result)
    assert "| G1 |" in md and "0.95" in md and "met" in md
    assert "| G2 |" not in md
    assert "says nothing of the CUDA path" in md


def test_g3_is_the_median_run_by_run_ratio_to_the_ideal_on_the_same_arrivals():
    rows = [{"rate_rps": r, "core_goodput_rps": c, "ideal_goodput_rps": i, "ideal_pass": True, "fit_r2": 0.5}
            for r, c, i in ((10, 9.9, 10.0), (20, 19.0, 20.0), (30, 12.0, 29.0), (40, 1.0, 0.0))]
    s = summarise({"g3_paired_grid": rows})
    # The run whose ideal had no goodput at all is left out: 0.99, 0.95, 0.41.
    assert s["g3_rows"] == 3 and s["g3_ratio"] == 0.95 and s["g3_min_ratio"] == round(12 / 29, 4)
    assert s["g3_met"]
