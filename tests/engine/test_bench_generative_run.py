"""One tiny real run of ``python -m engine.bench generate`` (a ~100 k-parameter decoder, a few
requests): it completes, and its result is well formed and names where and how it ran."""

import json

import pytest

from engine.bench import run
from engine.bench.__main__ import main
from engine.bench.generate.run import TPOT_SLO_STEPS, TTFT_OVER_TPOT, TTFT_PREFILL_FACTOR

TINY = ["--layers", "1", "--d-model", "64", "--heads", "2", "--kv-heads", "1", "--ffn-dim", "128",
        "--vocab-size", "64", "--device", "cpu", "--threads", "1", "--requests", "6",
        "--input-len-dist", "uniform:3-20", "--output-len-dist", "uniform:1-6", "--block-size", "4",
        "--max-num-batched-tokens", "16"]


def test_a_tiny_server_run_of_the_cli_is_well_formed(tmp_path, capsys):
    out = tmp_path / "gen.json"
    code = main(["generate", "server", *TINY, "--rate", "200", "--out", str(out), "--quiet"])
    result = json.loads(out.read_text())
    assert code == 0 and result["status"] == "ok", result["error"]
    assert result["scenario"] == "generate-server"
    m = result["metrics"]
    assert m["requests"] == 6 and m["completed"] == 6
    wl = result["settings"]["workload"]
    assert m["output_tokens"] == wl["output_tokens"]["total"]
    for key in ("ttft", "tpot", "itl", "e2el"):
        assert {"p50_ms", "p90_ms", "p99_ms"} <= set(m[key])
    assert m["ttft"]["p99_ms"] > 0 and m["goodput_rps"] >= 0
    slo = result["slo"]
    cal = result["calibration"]
    assert slo["tpot_slo_ms"] == pytest.approx(TPOT_SLO_STEPS * cal["step1_ms"], rel=1e-3)
    assert slo["ttft_slo_ms"] >= TTFT_OVER_TPOT * slo["tpot_slo_ms"] - 1e-6
    assert slo["ttft_slo_ms"] >= TTFT_PREFILL_FACTOR * cal["prefill_longest_prompt_ms"] - 1e-6
    assert result["workload"]["param_count"] > 0 and result["workload"]["dtype"] == "fp32"
    assert result["settings"]["scheduler"]["max_num_batched_tokens"] == 16
    for key in ("torch_version", "device_name", "git_commit", "python_version"):
        assert key in result["provenance"]
    assert any("short run" in n for n in result["notes"])
    assert "TTFT" in capsys.readouterr().out


def test_the_static_baseline_and_offline_run_through_the_plain_data_entry_point():
    spec = {"scenario": "generate-offline", "shape": {"vocab_size": 64, "layers": 1, "d_model": 64, "heads": 2,
                                                      "kv_heads": 1, "ffn_dim": 128},
            "device": "cpu", "threads": 1, "requests": 5, "input_len_dist": "fixed:4", "output_len_dist": "fixed:3",
            "static_batch_size": 2, "block_size": 4}
    result = run(spec)
    assert result["status"] == "ok", result["error"]
    assert result["scenario"] == "generate-offline" and result["settings"]["static_batch_size"] == 2
    assert result["metrics"]["completed"] == 5
    # Batches of 2, 2 and 1, one after another, each a prefill (the first token) and two decodes.
    assert result["steps"]["steps"] == 3 * 3 and result["steps"]["max_seqs"] == 2


def test_bad_input_names_the_field(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "server", *TINY, "--rate", "10", "--output-len-dist", "uniform:9"])
    assert "output_len_dist" in capsys.readouterr().err
    with pytest.raises(ValueError, match="server scenario needs rate"):
        run({"scenario": "generate-server", "device": "cpu"})
