"""Uploading a generative result: a genuine one of the design's decoder is stored with its token
numbers; one whose verdict contradicts its p99s, or of another decoder, is refused by path."""

import copy

import pytest

from engine.bench import run as bench_run
from engine.bench.design_spec import spec_from_facts
from engine.design import example_design
from engine.facts import build_facts
from reviewapp.benchmarks.models import BenchmarkRun
from tests.reviewapp.test_benchmark_views import upload, url

# A decoder LLM small enough to run its derived spec's decoder in a test: 2 M parameters, short
# prompts and outputs (the TTFT / TPOT targets of the example design).
SMALL_LLM = {"model_params_billions": 0.002, "input_tokens_per_request": 24, "output_tokens_per_request": 8}


def small_llm_inputs():
    inputs = example_design()
    inputs["requirements"].update(SMALL_LLM)
    return inputs


@pytest.fixture
def llm_design(design):
    design.inputs = small_llm_inputs()
    design.save(update_fields=["inputs"])
    return design


@pytest.fixture(scope="module")
def genuine_result():
    """The design's own decoder and SLOs, measured all at once (offline) for brevity."""
    spec = spec_from_facts(build_facts(small_llm_inputs()).tree).spec
    result = bench_run({**spec, "scenario": "generate-offline", "requests": 16, "device": "cpu", "threads": 1})
    assert result["status"] == "ok", result["error"]
    return result


def test_the_upload_page_gives_the_generate_command(client_for, member, llm_design):
    page = client_for(member).get(url("upload", llm_design)).content.decode()
    assert "python -m engine.bench generate max-qps --vocab-size 256 --layers" in page
    assert "--ttft-slo-ms 600" in page and "--out result.json" in page


def test_a_genuine_generative_upload_is_stored_with_its_token_numbers(db, client_for, member, llm_design,
                                                                    genuine_result):
    response = upload(client_for(member), llm_design, genuine_result)
    assert response.status_code == 302, response.content.decode()[-1500:]
    run = BenchmarkRun.objects.get()
    assert run.source == "uploaded" and run.status == BenchmarkRun.Status.SUCCEEDED
    assert run.measurements["ttft_p99_ms"] == genuine_result["metrics"]["ttft_p99_all_ms"]
    assert run.measurements["output_tokens_per_s"] == genuine_result["metrics"]["output_tokens_per_s"]


def _held(document) -> bool:
    """Whether the document's own p99s meet its SLOs (a real run on a loaded machine may miss them)."""
    m, slo = document["metrics"], document["slo"]
    return m["ttft_p99_all_ms"] <= slo["ttft_slo_ms"] and m["tpot_p99_all_ms"] <= slo["tpot_slo_ms"]


@pytest.mark.parametrize("path, value, field", [
    (("metrics", "ttft_p99_all_ms"), 1e6, "metrics.slo_met"),  # p99 far above its own SLO, "met" claimed
    (("metrics", "slo_met"), "the opposite of its p99s", "metrics.slo_met"),
    (("slo", "tpot_slo_ms"), 1.0, "slo.tpot_slo_ms"),  # another question than the design's target
    (("workload", "layers"), 7, "workload"),  # another decoder
])
def test_a_contradictory_generative_upload_is_refused_by_path_and_writes_nothing(
        db, client_for, member, llm_design, genuine_result, path, value, field):
    document = copy.deepcopy(genuine_result)
    node = document
    for key in path[:-1]:
        node = node[key]
    if path == ("metrics", "ttft_p99_all_ms"):
        document["metrics"]["slo_met"] = True
    if value == "the opposite of its p99s":
        value = not _held(document)
    node[path[-1]] = value
    response = upload(client_for(member), llm_design, document)
    assert response.status_code == 400
    assert field in dict(response.context["path_errors"]), response.context["path_errors"]
    assert BenchmarkRun.objects.count() == 0
