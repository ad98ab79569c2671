"""Calibration (issue 25): the roofline estimate against published serving figures, one test per row
of docs/planning-calibration.md, each within the band that page states."""

import pathlib
import re

import pytest

from engine.planning import estimate_throughput, shipped_catalog

DOC = pathlib.Path(__file__).parents[2] / "docs" / "planning-calibration.md"
BAND = (0.80, 1.20)
GPUS = shipped_catalog()["gpus"]
LLAMA2_7B = {"params_billions": 6.74, "layers": 32, "kv_heads": 32, "head_dim": 128}
LLAMA31_8B = {"params_billions": 8.03, "layers": 32, "kv_heads": 8, "head_dim": 128}


def gpt_fast_batch_one_tokens_per_s() -> float:
    """gpt-fast, Llama-2-7B bf16 on A100-80GB at batch 1: decode tokens/s (a short prompt)."""
    est = estimate_throughput(gpu=GPUS["a100-80gb"], dtype="bf16", generative=True, input_tokens=8,
                              output_tokens=200, max_batch_size=1, **LLAMA2_7B)
    return 1000.0 / est.time_per_output_token_ms


def trt_llm_output_tokens_per_s(tokens_in: int, tokens_out: int) -> float:
    """TensorRT-LLM's perf overview setting: Llama-3.1-8B FP8 on one H100, maximum throughput."""
    est = estimate_throughput(gpu=GPUS["h100-80gb"], dtype="fp8", generative=True, input_tokens=tokens_in,
                              output_tokens=tokens_out, max_batch_size=4096, **LLAMA31_8B)
    return est.output_tokens_per_s


ROWS = {
    "gpt-fast batch 1": (gpt_fast_batch_one_tokens_per_s, 104.9, "90.4 tok/s"),
    "TRT-LLM 128/128": (lambda: trt_llm_output_tokens_per_s(128, 128), 28_312, "24,640"),
    "TRT-LLM 1000/1000": (lambda: trt_llm_output_tokens_per_s(1000, 1000), 15_220, "17,481"),
    "TRT-LLM 2048/2048": (lambda: trt_llm_output_tokens_per_s(2048, 2048), 9_305, "8,534"),
}


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_estimate_stays_within_the_band_of_the_published_figure(row):
    estimate, published, _ = ROWS[row]
    ratio = estimate() / published
    assert BAND[0] <= ratio <= BAND[1], (row, ratio)


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_table_shows_what_the_code_estimates_today(row):
    estimate, published, shown = ROWS[row]
    value = float(re.sub(r"[^\d.]", "", shown))
    assert estimate() == pytest.approx(value, abs=0.5 if "." in shown else 1.0)
    lines = [line for line in DOC.read_text(encoding="utf-8").splitlines() if f"| {shown}" in line]
    assert len(lines) == 1, row
    assert f"| {estimate() / published:.2f} |" in lines[0]


def test_the_page_states_the_band_the_tests_hold():
    text = DOC.read_text(encoding="utf-8")
    assert f"**{BAND[0]:.2f} to {BAND[1]:.2f} x**" in text


def test_the_kv_cache_caps_the_batch_in_the_long_rows():
    """The regime each row sits in, as the page says: 128/128 compute bound, the others KV-capped."""
    for tokens, bound in ((128, "compute"), (1000, "memory"), (2048, "memory")):
        est = estimate_throughput(gpu=GPUS["h100-80gb"], dtype="fp8", generative=True, input_tokens=tokens,
                                  output_tokens=tokens, max_batch_size=4096, **LLAMA31_8B)
        assert est.kv_capped is True and est.bound == bound
    assert estimate_throughput(gpu=GPUS["h100-80gb"], dtype="fp8", generative=True, input_tokens=1000,
                               output_tokens=1000, max_batch_size=4096, **LLAMA31_8B).batch_size == 484
