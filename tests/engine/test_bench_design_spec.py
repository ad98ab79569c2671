"""Benchmark jobs from a design: the derived spec, its validation, and the checks on results."""

import copy
import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from engine.bench import run
from engine.bench.design_spec import (
    DEFAULT_QUERIES,
    MAX_BATCH_SIZE_LIMITS,
    MAX_SERVER_RUN_S,
    SEQ_LEN_LIMITS,
    DesignBenchSpec,
    known_throughput_measurements,
    measurements_from_result,
    model_shape_key,
    spec_from_facts,
    validate_spec,
    validate_uploaded_result,
)
from engine.design import empty_design, example_design
from engine.facts import build_facts
from engine.facts.benchmark import GENERATIVE_MEASUREMENTS, BenchmarkFacts

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)


def facts_of(design):
    return build_facts(design).tree


def encoder_design():
    """The example design with an encoder for its model: the batched (non-generative) path."""
    design = example_design()
    design["requirements"]["model_family"] = "encoder"
    return design


def tiny_design():
    """The example design with a model small enough to benchmark in a test (a 20k-parameter MLP)."""
    design = example_design()
    design["requirements"].update(
        workload_type="classify", model_family="mlp", model_params_billions=0.00002, model_dtype="fp32",
        sequence_length_tokens=16, latency_p50_ms=50.0, latency_p95_ms=150.0, latency_p99_ms=300.0,
        preprocessing_ms=0.0, postprocessing_ms=50.0, peak_qps=2000.0, average_qps=700.0,
    )
    design["architecture"].update(quantization="none", batching_mode="dynamic", max_batch_size=8,
                                  max_batch_delay_ms=1.0)
    return design


# --- deriving the spec ---------------------------------------------------------------------

def test_it_derives_each_spec_field_from_an_encoder_designs_facts():
    tree = facts_of(encoder_design())
    derived = spec_from_facts(tree)
    spec = derived.spec
    req, arch = tree["requirements"], tree["architecture"]

    assert spec["scenario"] == "capacity"
    assert spec["device"] == "auto"
    assert spec["queries"] == DEFAULT_QUERIES
    assert spec["seed"] == 0
    assert spec["model"] == {
        "params": round(req["model_params_billions"] * 1e9),
        "family": "transformer",
        "dtype": "bf16",  # served in fp8 (quantization), which the reference runs as bf16
        "seq_len": req["sequence_length_tokens"],
    }
    assert arch["batching_mode"] == "continuous"
    assert spec["batcher"] == {"max_batch_size": arch["max_batch_size"], "max_queue_delay_ms": 0.0}
    budget = tree["latency_budget"]
    assert spec["latency_p99_budget_ms"] == budget["inference_budget_ms"] + budget["queueing_ms"]
    capacity = tree["capacity"]
    assert spec["target_qps"] == round(capacity["model_peak_qps"] / capacity["replicas_for_load"], 3)
    assert derived.sources["target_qps"] == "capacity.model_peak_qps / capacity.replicas_for_load"
    assert derived.sources["model.params"] == "requirements.model_params_billions"
    # A complete design uses no default; the approximations are said out loud.
    assert derived.defaulted == ()
    kinds = {(n["field"], n["kind"]) for n in derived.notes}
    assert ("model.dtype", "approximation") in kinds
    assert derived.shape_key == model_shape_key(spec)
    json.dumps(derived.to_dict())


def test_dynamic_batching_gives_the_batch_delay_to_the_benchmarks_budget():
    tree = facts_of(tiny_design())
    spec = spec_from_facts(tree).spec
    assert spec["batcher"] == {"max_batch_size": 8, "max_queue_delay_ms": 1.0}
    # P99 300 - network 50 - post 50 = 200: the batcher's queueing is inside the measured latency.
    assert tree["latency_budget"]["inference_budget_ms"] == 199.0
    assert spec["latency_p99_budget_ms"] == 200.0
    assert spec["model"] == {"params": 20_000, "family": "mlp", "dtype": "fp32", "seq_len": 16}


def test_it_accepts_the_facts_object_as_well_as_its_tree():
    facts = build_facts(example_design())
    assert spec_from_facts(facts).spec == spec_from_facts(facts.tree).spec


def test_every_blank_field_gets_a_default_and_a_note():
    derived = spec_from_facts(facts_of(empty_design()))
    assert set(derived.defaulted) == {"model.family", "model.params", "model.dtype", "model.seq_len",
                                      "batcher.max_batch_size", "latency_p99_budget_ms", "target_qps"}
    spec = derived.spec
    assert spec["model"] == {"params": 110_000_000, "family": "transformer", "dtype": "bf16", "seq_len": 128}
    assert spec["batcher"] == {"max_batch_size": 1, "max_queue_delay_ms": 0.0}
    # Left out so that run() uses its own defaults (10 x s(1), half the measured capacity).
    assert "latency_p99_budget_ms" not in spec and "target_qps" not in spec
    assert derived.sources == {}
    assert all(n["message"] for n in derived.notes)
    assert validate_spec(spec) == (spec, {})


def test_blank_batch_settings_under_dynamic_batching_take_the_fields_defaults():
    design = tiny_design()
    design["architecture"].update(max_batch_size=None, max_batch_delay_ms=None)
    derived = spec_from_facts(facts_of(design))
    assert derived.spec["batcher"] == {"max_batch_size": 16, "max_queue_delay_ms": 5.0}
    assert {"batcher.max_batch_size", "batcher.max_queue_delay_ms"} <= set(derived.defaulted)


def test_values_beyond_the_benchmarks_limits_are_moved_into_them_with_a_note():
    design = tiny_design()
    design["requirements"].update(model_params_billions=50.0, sequence_length_tokens=1_000_000, peak_qps=0.01,
                                  average_qps=0.005)
    # 8 GPUs a replica: 200 GB of fp32 weights must fit somewhere for the plan to have replicas at all
    design["architecture"].update(max_batch_size=4096, gpus_per_replica=8)
    derived = spec_from_facts(facts_of(design))
    spec = derived.spec
    assert spec["model"]["params"] == 2_000_000_000  # the MLP cap
    assert spec["model"]["seq_len"] == SEQ_LEN_LIMITS[1]
    assert spec["batcher"]["max_batch_size"] == MAX_BATCH_SIZE_LIMITS[1]
    assert spec["target_qps"] == math.ceil(DEFAULT_QUERIES / MAX_SERVER_RUN_S * 1000) / 1000
    adjusted = {n["field"] for n in derived.notes if n["kind"] == "adjusted"}
    assert adjusted == {"model.params", "model.seq_len", "batcher.max_batch_size", "target_qps"}
    assert validate_spec(spec)[1] == {}


@pytest.mark.parametrize("tree", [
    None, [], "facts", {}, {"requirements": "x", "capacity": 3},
    {"requirements": {"model_params_billions": float("nan"), "sequence_length_tokens": True,
                      "model_family": ["mlp"], "model_dtype": 8},
     "architecture": {"batching_mode": "dynamic", "max_batch_size": 2.5, "max_batch_delay_ms": float("inf")},
     "latency_budget": {"inference_budget_ms": -5.0},
     "capacity": {"model_peak_qps": 10.0, "replicas_for_load": True}},
])
def test_a_broken_tree_gives_defaults_never_an_exception(tree):
    derived = spec_from_facts(tree)
    assert validate_spec(derived.spec)[1] == {}
    assert "model.params" in derived.defaulted


# --- validate_spec -------------------------------------------------------------------------

def good_spec():
    return {
        "scenario": "capacity",
        "model": {"params": 20_000, "family": "mlp", "dtype": "fp32", "seq_len": 16},
        "device": "cpu",
        "threads": 1,
        "batcher": {"max_batch_size": 8, "max_queue_delay_ms": 1.0, "preferred_batch_sizes": [4, 8],
                    "max_queue_size": 1000, "num_slots": 1},
        "latency_p99_budget_ms": 200.0,
        "target_qps": 500.0,
        "queries": 300,
        "run_budgets": 0.5,
        "seed": 3,
        "offline_batch_sizes": [1, 4, 8],
        "offline_min_time_s": 0.02,
        "overload_factor": 2.0,
        "sweep": {"max_batch_sizes": [4, 8], "max_queue_delays_ms": [0.0, 2.0]},
    }


def test_a_good_spec_comes_back_unchanged():
    spec = good_spec()
    assert validate_spec(copy.deepcopy(spec)) == (spec, {})
    derived = spec_from_facts(facts_of(example_design())).spec
    assert validate_spec(copy.deepcopy(derived)) == (derived, {})
    preset = {"preset": "bert-base", "device": "cuda:0", "threads": None, "target_qps": None}
    assert validate_spec(preset) == (preset, {})


def _set(spec, dotted, value):
    node = spec
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value


_DELETE = object()
NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(("path", "value", "error_key"), [
    ("queries", -5, "queries"),
    ("queries", 50, "queries"),
    ("queries", 10**9, "queries"),
    ("queries", 300.0, "queries"),
    ("queries", True, "queries"),
    ("queries", "300", "queries"),
    ("queries", None, "queries"),
    ("batcher.max_batch_size", 0, "batcher.max_batch_size"),
    ("batcher.max_batch_size", 2048, "batcher.max_batch_size"),
    ("batcher.max_batch_size", True, "batcher.max_batch_size"),
    ("batcher.max_batch_size", 1.5, "batcher.max_batch_size"),
    ("batcher.max_queue_delay_ms", -1.0, "batcher.max_queue_delay_ms"),
    ("batcher.max_queue_delay_ms", INF, "batcher.max_queue_delay_ms"),
    ("batcher.max_queue_delay_ms", NAN, "batcher.max_queue_delay_ms"),
    ("batcher.preferred_batch_sizes", [8, 4], "batcher.preferred_batch_sizes"),
    ("batcher.preferred_batch_sizes", [16], "batcher.preferred_batch_sizes"),
    ("batcher.num_slots", 0, "batcher.num_slots"),
    ("batcher.colour", 1, "batcher.colour"),
    ("batcher", [8], "batcher"),
    ("model.params", 0, "model.params"),
    ("model.params", -1, "model.params"),
    ("model.params", True, "model.params"),
    ("model.params", 1.5e9, "model.params"),
    ("model.params", "8B", "model.params"),
    ("model.params", 10**13, "model.params"),  # an MLP that size cannot be built
    ("model.params", _DELETE, "model.params"),
    ("model.family", "cnn", "model.family"),
    ("model.dtype", "fp8", "model.dtype"),
    ("model.seq_len", 0, "model.seq_len"),
    ("model.seq_len", 10**6, "model.seq_len"),
    ("model.layers", 12, "model.layers"),
    ("model", "bert", "model"),
    ("latency_p99_budget_ms", 0, "latency_p99_budget_ms"),
    ("latency_p99_budget_ms", -1.0, "latency_p99_budget_ms"),
    ("latency_p99_budget_ms", NAN, "latency_p99_budget_ms"),
    ("latency_p99_budget_ms", INF, "latency_p99_budget_ms"),
    ("latency_p99_budget_ms", True, "latency_p99_budget_ms"),
    ("latency_p99_budget_ms", "200", "latency_p99_budget_ms"),
    ("latency_p99_budget_ms", 10**7, "latency_p99_budget_ms"),
    ("target_qps", 0, "target_qps"),
    ("target_qps", -3.0, "target_qps"),
    ("target_qps", NAN, "target_qps"),
    ("target_qps", False, "target_qps"),
    ("target_qps", 0.05, "target_qps"),  # 300 queries at 0.05 QPS last 100 minutes
    ("scenario", "nope", "scenario"),
    ("scenario", None, "scenario"),
    ("device", "tpu", "device"),
    ("device", 3, "device"),
    ("seed", -1, "seed"),
    ("seed", 1.0, "seed"),
    ("seed", True, "seed"),
    ("threads", 0, "threads"),
    ("run_budgets", -1.0, "run_budgets"),
    ("offline_batch_sizes", [], "offline_batch_sizes"),
    ("offline_batch_sizes", [1, 0], "offline_batch_sizes"),
    ("offline_min_time_s", 0.0, "offline_min_time_s"),
    ("overload_factor", NAN, "overload_factor"),
    ("sweep.max_batch_sizes", [0], "sweep.max_batch_sizes"),
    ("sweep.max_queue_delays_ms", [INF], "sweep.max_queue_delays_ms"),
    ("sweep.grid", 3, "sweep.grid"),
    ("colour", "blue", "colour"),
    ("preset", "gpt", "preset"),
])
def test_validate_spec_refuses_each_bad_input_with_the_field_named(path, value, error_key):
    spec = good_spec()
    if path == "preset":  # a preset replaces the model
        del spec["model"]
    _set(spec, path, value)
    cleaned, errors = validate_spec(spec)
    assert error_key in errors, errors
    assert errors[error_key]
    top = path.split(".")[0]
    if top in ("queries", "target_qps", "latency_p99_budget_ms", "scenario", "device", "seed", "preset"):
        assert top not in cleaned


def test_validate_spec_refuses_two_workload_sources_and_long_search_steps():
    spec = good_spec()
    spec["preset"] = "noop"
    errors = validate_spec(spec)[1]
    assert set(errors) == {"model", "preset"}

    spec = good_spec()
    spec.update(latency_p99_budget_ms=60_000.0, run_budgets=100.0)
    assert "run_budgets" in validate_spec(spec)[1]


@pytest.mark.parametrize("data", [None, [], "spec", 3, {1: 2}, {"batcher": {"max_batch_size": {}}},
                                  {"workload": {"family": "cnn"}}, {"workload": {"hidden_dims": "x"}},
                                  {"workload": {"input_dim": True}}, {"sweep": []}])
def test_validate_spec_never_raises(data):
    cleaned, errors = validate_spec(data)
    assert errors and isinstance(cleaned, dict)


def test_a_workload_spec_is_checked_by_the_workloads_own_rules():
    tiny = {"family": "mlp", "input_dim": 16, "hidden_dims": [32], "output_dim": 8}
    assert validate_spec({"workload": tiny}) == ({"workload": tiny}, {})
    assert "workload" in validate_spec({"workload": {**tiny, "colour": 1}})[1]


# --- run() compatibility and uploaded results ------------------------------------------------

@pytest.fixture(scope="module")
def tiny_run():
    """The tiny design's derived spec, shrunk to a few seconds, run once through engine.bench.run."""
    spec = spec_from_facts(facts_of(tiny_design())).spec
    spec.update(queries=300, device="cpu", threads=1, run_budgets=0.5, offline_min_time_s=0.02)
    cleaned, errors = validate_spec(spec)
    assert errors == {}
    result = run(cleaned)
    assert result["status"] == "ok", result["error"]
    return spec, result


def test_the_derived_spec_runs_and_its_result_passes_the_upload_check(tiny_run):
    spec, result = tiny_run
    assert result["target_qps"] == spec["target_qps"]
    assert result["latency_p99_budget_ms"] == spec["latency_p99_budget_ms"]
    assert result["settings"]["batcher"]["max_batch_size"] == spec["batcher"]["max_batch_size"]
    text = json.dumps(result, indent=2)  # what `python -m engine.bench --out` writes
    for raw in (text, text.encode()):
        upload, errors = validate_uploaded_result(raw, expected_spec=spec, now=NOW)
        assert errors == {}
        m = upload["measurements"]
        assert m["max_qps_at_p99"] == result["max_qps_at_p99"]
        assert m["p99_ms_at_peak"] == result["p99_ms"]
        assert m["p50_ms_at_peak"] == result["p50_ms"]
        assert m["p95_ms_at_peak"] == result["server"]["latency_ms"]["p95_ms"]
        assert m["p99_budget_ms"] == spec["latency_p99_budget_ms"]
        assert m["device"] == "cpu" and m["dtype"] == "fp32"
        assert m["torch_version"] == result["provenance"]["torch_version"]
        assert m["max_batch_size"] == 8 and m["max_queue_delay_ms"] == 1.0
        assert m["seed"] == 0 and m["duration_s"] == result["duration_s"]
        assert dt.datetime.fromisoformat(m["measured_at"]) >= dt.datetime.fromisoformat(result["started_at"])
        assert upload["provenance"] == result["provenance"]
        assert any("short" in n for n in upload["notes"])  # 300 queries: not a p99 claim
    # Every BenchmarkFacts input of the server scenario is there, and build_facts takes the measurement.
    inputs = set(BenchmarkFacts.__dataclass_fields__) - {"available", "meets_p99_target", *GENERATIVE_MEASUREMENTS}
    assert inputs <= set(m)
    facts = build_facts(tiny_design(), measurements=m)
    assert facts.tree["benchmark"]["available"] is True
    assert facts.tree["capacity"]["per_replica_qps"] == m["max_qps_at_p99"]
    assert facts.tree["capacity"]["per_replica_qps_source"] == "measured"
    assert not [w for w in facts.warnings if w["path"].startswith("benchmark.")]
    # The job path: the dict run() returned, unparsed.
    assert measurements_from_result(result, expected_spec=spec)[1] == {}


def _mutated(result, *changes):
    doc = copy.deepcopy(result)
    for path, value in changes:
        _set(doc, path, value)
    return json.dumps(doc)


@pytest.mark.parametrize(("changes", "error_key"), [
    ([("status", "failed"), ("error", "RuntimeError: boom")], "status"),
    ([("status", "cancelled")], "status"),
    ([("status", _DELETE)], "status"),
    ([("max_qps_at_p99", _DELETE)], "max_qps_at_p99"),
    ([("max_qps_at_p99", None)], "max_qps_at_p99"),
    ([("max_qps_at_p99", -1.0)], "max_qps_at_p99"),
    ([("max_qps_at_p99", 1e12)], "max_qps_at_p99"),
    ([("max_qps_at_p99", "fast")], "max_qps_at_p99"),
    ([("max_qps_at_p99", True)], "max_qps_at_p99"),
    ([("latency_p99_budget_ms", _DELETE)], "latency_p99_budget_ms"),
    ([("latency_p99_budget_ms", 0)], "latency_p99_budget_ms"),
    ([("latency_p99_budget_ms", -5.0)], "latency_p99_budget_ms"),
    ([("p99_ms", -1.0)], "p99_ms"),
    ([("duration_s", -3.0)], "duration_s"),
    ([("started_at", "yesterday")], "started_at"),
    ([("started_at", "2025-01-01T10:00:00")], "started_at"),  # no time zone
    ([("started_at", "2200-01-01T10:00:00+00:00")], "started_at"),  # in the future
    ([("provenance", _DELETE)], "provenance"),
    ([("provenance", {})], "provenance"),
    ([("provenance.torch_version", _DELETE)], "provenance.torch_version"),
    ([("provenance.torch_version", "")], "provenance.torch_version"),
    ([("provenance.python_version", _DELETE)], "provenance.python_version"),
    ([("provenance.git_commit", _DELETE)], "provenance.git_commit"),
    # Forged: claims CUDA on a CPU-only torch build, with no CUDA version and no GPU name.
    ([("provenance.device_type", "cuda"), ("settings.device", "cuda:0")], "provenance.cuda_version"),
    ([("provenance.device_type", "cuda"), ("settings.device", "cuda:0"), ("provenance.cuda_version", "12.4"),
      ("provenance.cudnn_version", 90100)], "provenance.torch_version"),
    ([("provenance.device_type", "cuda"), ("settings.device", "cuda:0"), ("provenance.cuda_version", "12.4"),
      ("provenance.cudnn_version", 90100), ("provenance.torch_version", "2.13.0"),
      ("provenance.device_name", "")], "provenance.device_name"),
    ([("provenance.device_type", "cuda")], "provenance.device_type"),  # settings say it ran on cpu
    ([("provenance.device_type", "tpu")], "provenance.device_type"),
    ([("workload.family", "noop")], "workload.family"),
    ([("workload.dtype", "fp64")], "workload.dtype"),
    ([("workload", _DELETE)], "workload"),
    ([("settings.batcher.max_batch_size", 0)], "settings.batcher.max_batch_size"),
    ([("settings", _DELETE)], "settings"),
    ([("seed", "zero")], "seed"),
    ([("schema_version", 7)], "schema_version"),
])
def test_an_upload_is_refused_with_the_json_path_of_the_problem(tiny_run, changes, error_key):
    upload, errors = validate_uploaded_result(_mutated(tiny_run[1], *changes), now=NOW)
    assert upload is None
    assert error_key in errors, errors
    assert errors[error_key]


def test_an_upload_of_another_model_is_refused_when_the_design_spec_is_given(tiny_run):
    spec, result = tiny_run
    other = copy.deepcopy(spec)
    other["model"]["params"] = 200_000
    _, errors = validate_uploaded_result(json.dumps(result), expected_spec=other)
    assert "workload" in errors


@pytest.mark.parametrize(("field", "value", "error_key"), [
    ("latency_p99_budget_ms", 1000.0, "latency_p99_budget_ms"),
    ("batcher", {"max_batch_size": 64, "max_queue_delay_ms": 1.0}, "settings.batcher.max_batch_size"),
    ("batcher", {"max_batch_size": 8, "max_queue_delay_ms": 5.0}, "settings.batcher.max_queue_delay_ms"),
])
def test_an_upload_under_other_settings_than_the_designs_is_refused(tiny_run, field, value, error_key):
    spec, result = tiny_run
    other = {**copy.deepcopy(spec), field: value}
    _, errors = validate_uploaded_result(json.dumps(result), expected_spec=other)
    assert set(errors) == {error_key}


def test_truncated_json_is_refused_with_line_and_column(tiny_run):
    text = json.dumps(tiny_run[1], indent=2)
    upload, errors = validate_uploaded_result(text[: len(text) // 2])
    assert upload is None
    assert set(errors) == {"$"}
    assert "line" in errors["$"] and "column" in errors["$"]


@pytest.mark.parametrize(("literal", "path"), [("NaN", "max_qps_at_p99"), ("Infinity", "max_qps_at_p99"),
                                               ("-Infinity", "max_qps_at_p99")])
def test_nan_and_infinity_literals_are_refused_at_their_path(tiny_run, literal, path):
    text = json.dumps(tiny_run[1]).replace(f'"max_qps_at_p99": {tiny_run[1]["max_qps_at_p99"]}',
                                           f'"max_qps_at_p99": {literal}')
    assert literal in text
    upload, errors = validate_uploaded_result(text)
    assert upload is None
    assert path in errors


def test_a_nested_nan_is_reported_at_its_path(tiny_run):
    doc = copy.deepcopy(tiny_run[1])
    doc["server"]["latency_ms"]["p99_ms"] = float("nan")
    upload, errors = validate_uploaded_result(json.dumps(doc))  # json.dumps writes NaN
    assert upload is None and "server.latency_ms.p99_ms" in errors


@pytest.mark.parametrize("raw", [b"", "   ", b"\xff\xfe\x00garbage", "[1, 2]", '"result"', "42", "null",
                                 "[" * 100_000 + "]" * 100_000, b"{" + b" " * 6_000_000 + b"}", 42, None])
def test_a_document_that_is_no_result_is_refused_at_the_top(raw):
    upload, errors = validate_uploaded_result(raw)
    assert upload is None
    assert set(errors) == {"$"}, errors


def test_measurements_from_result_refuses_a_non_object():
    assert measurements_from_result([1]) == (None, {"$": "The result must be an object."})


# --- a throughput measured elsewhere ---------------------------------------------------------

def test_a_known_throughput_becomes_measurements_build_facts_uses():
    m, errors = known_throughput_measurements(40.0, 900.0, "k6 load test on staging, 2025-05",
                                              device="NVIDIA H100 80GB HBM3", dtype="fp8")
    assert errors == {}
    assert m["max_qps_at_p99"] == 40.0 and m["p99_ms_at_peak"] == 900.0 and m["p99_budget_ms"] == 900.0
    assert m["source"] == "entered" and m["source_note"].startswith("k6")
    facts = build_facts(example_design(), measurements=m)
    assert facts.tree["capacity"]["per_replica_qps"] == 40.0
    assert facts.tree["benchmark"]["device"] == "NVIDIA H100 80GB HBM3"
    assert not [w for w in facts.warnings if w["path"].startswith("benchmark.")]


@pytest.mark.parametrize(("args", "kwargs", "error_key"), [
    ((0, 900.0, "test"), {}, "per_replica_qps"),
    ((-4.0, 900.0, "test"), {}, "per_replica_qps"),
    ((NAN, 900.0, "test"), {}, "per_replica_qps"),
    ((True, 900.0, "test"), {}, "per_replica_qps"),
    (("40", 900.0, "test"), {}, "per_replica_qps"),
    ((1e12, 900.0, "test"), {}, "per_replica_qps"),
    ((40.0, 0, "test"), {}, "p99_ms"),
    ((40.0, INF, "test"), {}, "p99_ms"),
    ((40.0, None, "test"), {}, "p99_ms"),
    ((40.0, 900.0, ""), {}, "source"),
    ((40.0, 900.0, None), {}, "source"),
    ((40.0, 900.0, "test"), {"p99_budget_ms": 500.0}, "p99_ms"),
    ((40.0, 900.0, "test"), {"p99_budget_ms": -1.0}, "p99_budget_ms"),
    ((40.0, 900.0, "test"), {"dtype": "fp64"}, "dtype"),
])
def test_a_bad_known_throughput_is_refused_with_the_argument_named(args, kwargs, error_key):
    m, errors = known_throughput_measurements(*args, **kwargs)
    assert m is None
    assert error_key in errors


# --- the shape key ---------------------------------------------------------------------------

def _key(**changes):
    design = encoder_design()
    for dotted, value in changes.items():
        group, name = dotted.split("__")
        design[group][name] = value
    return model_shape_key(facts_of(design))


def test_the_shape_key_changes_with_the_models_shape_only():
    base = _key()
    assert base == model_shape_key(spec_from_facts(facts_of(encoder_design())).spec)
    assert base == model_shape_key(spec_from_facts(facts_of(encoder_design())))
    assert isinstance(spec_from_facts({}), DesignBenchSpec)
    for changed in (
        _key(requirements__model_params_billions=7.0),
        _key(requirements__model_family="mlp"),
        _key(architecture__quantization="none", requirements__model_dtype="fp32"),
        _key(requirements__sequence_length_tokens=4096),
    ):
        assert changed != base
    for same in (
        _key(requirements__latency_p99_ms=5000.0),
        _key(requirements__peak_qps=140.0),
        _key(architecture__max_batch_size=32),
        _key(requirements__model_name="Some other name"),
        _key(architecture__gpu_type="a100-80gb"),
    ):
        assert same == base
    assert len(base) < 64


def test_the_shape_key_of_a_spec_ignores_everything_but_the_model():
    spec = good_spec()
    key = model_shape_key(spec)
    assert key == "mlp/20000/fp32/16"
    spec.update(queries=5000, target_qps=10.0, batcher={"max_batch_size": 1})
    assert model_shape_key(spec) == key
    spec["model"]["dtype"] = "bf16"
    assert model_shape_key(spec) != key
    assert model_shape_key({"preset": "bert-base"}) == "preset/bert-base"
    assert model_shape_key(None) == "unknown"


# --- isolation -------------------------------------------------------------------------------

def test_importing_the_module_loads_neither_torch_nor_django():
    code = ("import sys, engine.bench.design_spec; "
            "bad = [m for m in ('torch', 'django', 'celery', 'reviewapp') if m in sys.modules]; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
