"""Generative specs from a decoder-LLM design: derived, checked, run quick, their results checked."""

import copy

import pytest

from engine.bench import run
from engine.bench.design_spec import measurements_from_result, spec_from_facts, validate_spec
from engine.bench.generative_spec import quick_variant
from engine.design import example_design
from engine.facts import build_facts


def tree_of(**changes):
    design = example_design()
    for dotted, value in changes.items():
        group, name = dotted.split("__")
        design[group][name] = value
    return build_facts(design).tree


def test_a_decoder_llm_design_gets_a_generative_spec_from_its_facts():
    tree = tree_of()
    assert tree["requirements"]["model_family"] == "decoder_llm"
    derived = spec_from_facts(tree)
    spec, req = derived.spec, tree["requirements"]
    assert spec["scenario"] == "generate-max-qps"
    assert "model" not in spec and "batcher" not in spec  # no encoder approximation
    assert spec["ttft_slo_ms"] == req["time_to_first_token_ms"]
    assert spec["tpot_slo_ms"] == req["time_per_output_token_ms"]
    n_in, n_out = req["input_tokens_per_request"], req["output_tokens_per_request"]
    assert spec["input_len_dist"] == f"uniform:{n_in // 2}-{n_in + n_in - n_in // 2}"
    assert spec["output_len_dist"] == f"uniform:{-(-n_out // 2)}-{n_out + n_out - -(-n_out // 2)}"
    # The KV budget: the chosen GPU's room in sequences, capped by the batch size.
    room = tree["memory"]["max_concurrent_sequences"]
    assert spec["max_num_seqs"] == min(room, tree["architecture"]["max_batch_size"])
    assert derived.sources["num_blocks"].startswith("memory.max_concurrent_sequences")
    assert validate_spec(spec) == (spec, {})
    kinds = {(n["field"], n["kind"]) for n in derived.notes}
    assert ("params", "approximation") in kinds  # 8 B scaled to the reference, said out loud


def test_a_small_gpu_caps_the_benchmarks_concurrency_at_its_kv_room():
    big = spec_from_facts(tree_of()).spec
    small_tree = tree_of(architecture__gpu_type="l4-24gb", architecture__max_batch_size=256)
    small = spec_from_facts(small_tree).spec
    room = small_tree["memory"]["max_concurrent_sequences"]
    assert room < 256 and small["max_num_seqs"] == room
    assert small["num_blocks"] != big["num_blocks"]


@pytest.mark.parametrize("change, field", [
    ({"requests": 0}, "requests"),
    ({"ttft_slo_ms": -1.0}, "ttft_slo_ms"),
    ({"tpot_slo_ms": True}, "tpot_slo_ms"),
    ({"input_len_dist": "uniform:9-3"}, "input_len_dist"),
    ({"num_blocks": 1}, "num_blocks"),
    ({"max_num_seqs": 10_000}, "max_num_seqs"),
    ({"rate": 0.01, "requests": 20_000}, "rate"),
    ({"queries": 300}, "queries"),
    ({"dtype": "int8"}, "dtype"),
])
def test_a_bad_generative_spec_is_refused_naming_the_field(change, field):
    spec = {**spec_from_facts(tree_of()).spec, **change}
    _, errors = validate_spec(spec)
    assert field in errors, errors


@pytest.fixture(scope="module")
def quick_result():
    spec = {**quick_variant(spec_from_facts(tree_of()).spec), "threads": 1, "device": "cpu"}
    assert validate_spec(spec)[1] == {}
    return spec, run(spec)


def test_the_quick_variant_runs_in_seconds_and_gives_the_generative_measurements(quick_result):
    spec, result = quick_result
    assert result["status"] == "ok", result["error"]
    assert result["duration_s"] < 30
    checked, errors = measurements_from_result(result, expected_spec=spec)
    assert errors == {}
    m = checked["measurements"]
    assert m["ttft_p99_ms"] == result["metrics"]["ttft_p99_all_ms"] > 0
    assert m["tpot_p99_ms"] == result["metrics"]["tpot_p99_all_ms"] > 0
    assert m["output_tokens_per_s"] > 0 and m["goodput_rps"] == result["metrics"]["goodput_rps"]
    facts = build_facts(example_design(), measurements=m).tree
    assert facts["benchmark"]["ttft_p99_ms"] == m["ttft_p99_ms"]
    assert facts["capacity"]["per_replica_qps_source"] == "measured"


@pytest.mark.parametrize("path, value, field", [
    (("metrics", "ttft_p99_all_ms"), 1e6, "metrics.slo_met"),  # p99 above its SLO, "met" claimed
    (("metrics", "slo_met"), False, "metrics.slo_met"),  # "missed" while both p99s hold
    (("metrics", "tpot", "p50_ms"), 1e5, "metrics.tpot.p50_ms"),
    (("metrics", "output_tokens_per_s"), float("nan"), "metrics.output_tokens_per_s"),
    (("slo", "ttft_slo_ms"), 0, "slo.ttft_slo_ms"),
    (("provenance", "torch_version"), "", "provenance.torch_version"),
])
def test_a_generative_result_that_contradicts_itself_is_refused(quick_result, path, value, field):
    _, result = quick_result
    bad = copy.deepcopy(result)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    checked, errors = measurements_from_result(bad)
    assert checked is None and field in errors, errors


def test_a_generative_result_for_other_slos_than_the_designs_is_refused(quick_result):
    spec, result = quick_result
    _, errors = measurements_from_result(result, expected_spec={**spec, "ttft_slo_ms": 1.0})
    assert "slo.ttft_slo_ms" in errors


def test_run_refuses_what_the_validator_refuses_naming_each_field():
    with pytest.raises(ValueError) as caught:
        run({"queries": 5, "model": {"params": 1000, "colour": "red"}})
    assert "queries:" in str(caught.value) and "model.colour:" in str(caught.value)
    with pytest.raises(ValueError, match="requests:"):
        run({"scenario": "generate-offline", "requests": 0})
