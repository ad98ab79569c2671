"""Benchmark jobs from a design: the spec a design asks for, and the checks on what comes back.

    spec_from_facts(tree) -> DesignBenchSpec           the `run()` spec a design's facts imply
    model_shape_key(spec_or_tree) -> str               "transformer/8000000000/bf16/8192": stale check
    validate_spec(data) -> (spec, errors)              a (reviewer-edited) spec, checked
    validate_uploaded_result(raw) -> (upload, errors)  a result file `python -m engine.bench --out` wrote
    measurements_from_result(result) -> (upload, errors)   the same for a `run()` dict already parsed
    known_throughput_measurements(per_replica_qps, p99_ms, source) -> (measurements, errors)
    workload_for_spec(spec) -> dict                    the reference workload `run()` builds for a spec

Nothing here raises on bad input: errors come back as {field or JSON path: message}, ready for a
form or an API answer. No torch and no Django: `engine.serving.workloads` and
`engine.serving.policy` are plain Python. The limits are module constants so screens can show them.

Why the limits: a job runs on a shared GPU worker, so a spec must describe a run that ends in
reasonable time (a server run lasts queries / target_qps seconds, a search step at least
run_budgets x the p99 budget) and a model the reference can build.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.bench.api import BATCHER_FIELDS, PRESETS, SCENARIOS
from engine.jsontext import JsonTextError, read_json
from engine.planning.throughput import serving_dtype
from engine.serving.policy import BatcherConfig
from engine.serving.workloads import DTYPES, WorkloadSpec, from_description

# --- limits (inclusive) ---------------------------------------------------------------------
QUERIES_LIMITS = (100, 200_000)
# MLPerf's minimum for a p99 claim (engine.bench.stats.MIN_QUERIES_FOR_P99); fewer is marked short.
DEFAULT_QUERIES = 2010
MAX_BATCH_SIZE_LIMITS = (1, 1024)
MAX_QUEUE_DELAY_MS_LIMITS = (0.0, 60_000.0)
MAX_QUEUE_SIZE_LIMITS = (1, 1_000_000)
NUM_SLOTS_LIMITS = (1, 64)
MODEL_PARAMS_LIMITS = (1_000, 2_000_000_000_000)
# An MLP reference is built at full size (the transformer one stops at 48 layers), so its cap is
# what fits in memory.
MLP_PARAMS_MAX = 2_000_000_000
SEQ_LEN_LIMITS = (1, 32_768)
LATENCY_P99_BUDGET_MS_LIMITS = (0.1, 60_000.0)
TARGET_QPS_LIMITS = (0.01, 1_000_000.0)
# One server run lasts queries / target_qps seconds; a search step at least run_budgets x budget.
MAX_SERVER_RUN_S = 3600.0
SEED_LIMITS = (0, 2**31 - 1)
THREADS_LIMITS = (1, 1024)
RUN_BUDGETS_LIMITS = (0.0, 100.0)
OFFLINE_MIN_TIME_S_LIMITS = (0.001, 60.0)
OVERLOAD_FACTOR_LIMITS = (1.0, 20.0)
MAX_LIST_ITEMS = 32
DEVICES = ("auto", "cpu", "cuda")  # and "cuda:N"
MODEL_FAMILIES = ("transformer", "mlp")
MODEL_EXTRA_LIMITS = {"input_dim": (1, 65_536), "output_dim": (1, 65_536), "depth": (1, 64),
                      "vocab_size": (1, 1_000_000), "seed": SEED_LIMITS}
SPEC_KEYS = ("scenario", "model", "preset", "workload", "device", "threads", "batcher",
             "latency_p99_budget_ms", "target_qps", "queries", "run_budgets", "seed",
             "offline_batch_sizes", "offline_min_time_s", "overload_factor", "sweep",
             "cuda_graph_batch_sizes")

# --- results --------------------------------------------------------------------------------
MAX_UPLOAD_BYTES = 5_000_000
RESULT_QPS_MAX = 10_000_000.0  # the max-QPS search never goes above 1e7
RESULT_MS_MAX = 3_600_000.0
RESULT_DURATION_S_MAX = 7 * 86_400.0
# Keys every genuine result's provenance carries: engine.bench.stats.host_provenance ...
HOST_PROVENANCE_KEYS = ("python_version", "numpy_version", "platform", "cpu_count", "omp_num_threads",
                        "mkl_num_threads", "git_commit", "argv")
# ... and engine.serving.runner.provenance (every workload but noop); cudnn_version on CUDA only.
TORCH_PROVENANCE_KEYS = ("torch_version", "cuda_version", "device_type", "torch_threads", "device_name")

# Where each spec field comes from in the facts tree (shown next to the spec).
SPEC_SOURCES = {
    "model.family": "requirements.model_family",
    "model.params": "requirements.model_params_billions",
    "model.dtype": "requirements.model_dtype, architecture.quantization",
    "model.seq_len": "requirements.sequence_length_tokens",
    "batcher.max_batch_size": "architecture.batching_mode, architecture.max_batch_size",
    "batcher.max_queue_delay_ms": "architecture.batching_mode, architecture.max_batch_delay_ms",
    "latency_p99_budget_ms": "latency_budget.inference_budget_ms + latency_budget.queueing_ms",
    "target_qps": "capacity.model_peak_qps / capacity.replicas_for_load",
}

# Design model families -> reference families (the reference has an encoder and an MLP).
_FAMILY = {"decoder_llm": "transformer", "encoder": "transformer", "encoder_decoder": "transformer",
           "vision": "transformer", "mlp": "mlp", "tree": "mlp", "other": "transformer"}
_APPROXIMATED_FAMILY = {
    "decoder_llm": "a decoder-only LLM is approximated by a transformer encoder: one forward pass over "
                   "the sequence per request, token-by-token generation is not modelled",
    "encoder_decoder": "an encoder-decoder is approximated by a transformer encoder of the same size",
    "vision": "a vision model is approximated by a transformer encoder (ViT-like) of the same size",
    "tree": "a tree ensemble is approximated by an MLP of the same parameter count",
    "other": "the model is approximated by a transformer encoder of the same size",
}
# Precisions the reference runner has no kernel for are run in bf16 (a conservative measurement:
# the quantized model would be faster). int8 is also bf16: the runner's int8 is CPU-only and the
# job may land on a GPU.
_REFERENCE_DTYPE = {"fp32": "fp32", "bf16": "bf16", "fp16": "fp16", "fp8": "bf16", "int8": "bf16",
                    "int4": "bf16"}
_DEFAULT_MODEL = {"family": "transformer", "params": 110_000_000, "dtype": "bf16", "seq_len": 128}
_BATCHED_MODES = ("dynamic", "continuous", "static")
_DEFAULT_MAX_BATCH_SIZE = 16  # architecture.max_batch_size's default
_DEFAULT_MAX_BATCH_DELAY_MS = 5.0  # architecture.max_batch_delay_ms's default
_CUDA_DEVICE = re.compile(r"cuda:\d{1,2}")


@dataclass(frozen=True, slots=True)
class DesignBenchSpec:
    """A benchmark spec derived from a design.

    `spec`: the dict `engine.bench.run` takes (passes `validate_spec`). `notes`: one
    {"field", "kind", "message"} per default or approximation (kind "default" when the design
    left the field blank, "approximation" when the reference cannot run it exactly, "adjusted"
    when a value was moved into the limits). `sources`: spec field -> the fact paths it came from
    (only the fields that did come from facts). `shape_key`: `model_shape_key(spec)`.
    """

    spec: dict[str, Any]
    notes: tuple[dict[str, str], ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    shape_key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "notes": [dict(n) for n in self.notes], "sources": dict(self.sources),
                "shape_key": self.shape_key}

    @property
    def defaulted(self) -> tuple[str, ...]:
        """Spec fields set from a default because the design left them blank."""
        return tuple(n["field"] for n in self.notes if n["kind"] == "default")


# --- deriving a spec ------------------------------------------------------------------------

def spec_from_facts(tree: Any) -> DesignBenchSpec:
    """The capacity benchmark a design's facts tree (`build_facts(...).tree`, or the Facts) asks for.

    model         family, params, dtype, seq_len from the requirements' model section (the
                  served precision: quantization wins over the weights' dtype)
    batcher       from architecture.batching_mode: none or blank -> max_batch_size 1 (as the
                  capacity plan assumes); dynamic -> max_batch_size and max_batch_delay_ms;
                  continuous / static -> max_batch_size, no waiting
    latency_p99_budget_ms   latency_budget.inference_budget_ms + latency_budget.queueing_ms: the P99
                  minus network, pre- and post-processing. The benchmark's latency includes the
                  batcher's queueing, so the batch delay the budget reserves belongs to it too
                  (the two are equal unless batching is dynamic)
    target_qps    capacity.model_peak_qps / capacity.replicas_for_load: the load one replica
                  carries at peak when the fleet is down to the replicas the load needs (a failure
                  domain lost, the N+1 spare in use) -- the worst case the plan promises to meet
    scenario "capacity", device "auto", seed 0, queries DEFAULT_QUERIES (enough for a p99 claim)

    Never raises: a missing or invalid fact gives a default (or leaves the key out, so `run()`
    picks its own default) and a note saying so.
    """
    tree = getattr(tree, "tree", tree)
    if not isinstance(tree, Mapping):
        tree = {}
    notes: list[dict[str, str]] = []
    sources: dict[str, str] = {}

    def note(key: str, kind: str, message: str) -> None:
        notes.append({"field": key, "kind": kind, "message": message})

    def source(key: str, path: str | None = None) -> None:
        sources[key] = path or SPEC_SOURCES[key]

    model = _derive_model(tree, note, source)
    batcher = _derive_batcher(tree, note, source)
    spec: dict[str, Any] = {"scenario": "capacity", "model": model, "device": "auto", "batcher": batcher}

    budget = _derive_budget(tree, note, source)
    if budget is not None:
        spec["latency_p99_budget_ms"] = budget
    spec["queries"] = DEFAULT_QUERIES
    target = _derive_target(tree, DEFAULT_QUERIES, note, source)
    if target is not None:
        spec["target_qps"] = target
    spec["seed"] = 0
    return DesignBenchSpec(spec=spec, notes=tuple(notes), sources=sources, shape_key=model_shape_key(spec))


def _get(tree: Mapping[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _derive_model(tree: Mapping[str, Any], note: Any, source: Any) -> dict[str, Any]:
    family_raw = _get(tree, "requirements.model_family")
    if isinstance(family_raw, str) and family_raw in _FAMILY:
        family = _FAMILY[family_raw]
        source("model.family")
        if family_raw in _APPROXIMATED_FAMILY:
            note("model.family", "approximation", f"Model family {family_raw}: {_APPROXIMATED_FAMILY[family_raw]}.")
    else:
        family = _DEFAULT_MODEL["family"]
        note("model.family", "default", "Model family is not set; the benchmark assumes a transformer.")

    billions = _number(_get(tree, "requirements.model_params_billions"))
    if billions is not None and billions > 0:
        params = int(round(billions * 1e9))
        source("model.params")
        low, high = MODEL_PARAMS_LIMITS[0], MLP_PARAMS_MAX if family == "mlp" else MODEL_PARAMS_LIMITS[1]
        if not low <= params <= high:
            clamped = min(max(params, low), high)
            note("model.params", "adjusted", f"{params:,} parameters is outside what the {family} reference "
                                             f"builds; the benchmark uses {clamped:,}.")
            params = clamped
    else:
        params = _DEFAULT_MODEL["params"]
        note("model.params", "default", "Parameter count is not set; the benchmark assumes 110 M "
                                        "(BERT-base size).")

    model_dtype = _get(tree, "requirements.model_dtype")
    quantization = _get(tree, "architecture.quantization")
    if not isinstance(model_dtype, str) or model_dtype not in _REFERENCE_DTYPE:
        model_dtype = None
        note("model.dtype", "default", "Model precision is not set; the benchmark assumes bf16.")
    if not isinstance(quantization, str) or quantization not in _REFERENCE_DTYPE:
        quantization = None
    served = serving_dtype(model_dtype, quantization)
    dtype = _REFERENCE_DTYPE.get(served, "bf16")
    if model_dtype is not None or quantization is not None:
        source("model.dtype")
    if served != dtype:
        note("model.dtype", "approximation", f"The model is served in {served}; the reference runner has no "
                                             f"{served} kernels, so it runs in {dtype} (a conservative "
                                             "measurement: the quantized model is faster).")

    seq_len_raw = _get(tree, "requirements.sequence_length_tokens")
    if isinstance(seq_len_raw, int) and not isinstance(seq_len_raw, bool) and seq_len_raw >= 1:
        seq_len = seq_len_raw
        source("model.seq_len")
        if seq_len > SEQ_LEN_LIMITS[1]:
            note("model.seq_len", "adjusted", f"Sequence length {seq_len:,} is above the reference's "
                                              f"{SEQ_LEN_LIMITS[1]:,}; the benchmark uses {SEQ_LEN_LIMITS[1]:,}.")
            seq_len = SEQ_LEN_LIMITS[1]
    else:
        seq_len = _DEFAULT_MODEL["seq_len"]
        if family == "transformer":
            note("model.seq_len", "default", "Max sequence length is not set; the benchmark assumes 128 tokens.")

    model = {"params": params, "family": family, "dtype": dtype, "seq_len": seq_len}
    if family == "transformer":
        built = from_description(params=params, family=family, dtype=dtype, seq_len=seq_len)
        if abs(built.param_count - params) > 0.25 * params:
            note("model.params", "approximation",
                 f"The transformer reference is {built.layers} layers x {built.d_model} wide "
                 f"({built.param_count:,} parameters), the closest it builds to {params:,}; the measured "
                 f"throughput is {'optimistic' if built.param_count < params else 'conservative'}.")
    return model


def _derive_batcher(tree: Mapping[str, Any], note: Any, source: Any) -> dict[str, Any]:
    mode = _get(tree, "architecture.batching_mode")
    if mode not in _BATCHED_MODES:
        if mode is None:
            note("batcher.max_batch_size", "default", "Batching is not set; the benchmark runs without batching "
                                                      "(max batch size 1), as the capacity plan does.")
        else:
            source("batcher.max_batch_size", "architecture.batching_mode")
        return {"max_batch_size": 1, "max_queue_delay_ms": 0.0}

    size = _get(tree, "architecture.max_batch_size")
    if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
        source("batcher.max_batch_size")
        top = MAX_BATCH_SIZE_LIMITS[1]
        if size > top:
            note("batcher.max_batch_size", "adjusted", f"Max batch size {size} is above the benchmark's {top}; "
                                                       f"it uses {top}.")
            size = top
    else:
        size = _DEFAULT_MAX_BATCH_SIZE
        note("batcher.max_batch_size", "default", f"Max batch size is not set; the benchmark assumes {size}.")

    if mode == "dynamic":
        delay = _number(_get(tree, "architecture.max_batch_delay_ms"))
        if delay is not None and delay >= 0:
            source("batcher.max_queue_delay_ms")
            delay = min(delay, MAX_QUEUE_DELAY_MS_LIMITS[1])
        else:
            delay = _DEFAULT_MAX_BATCH_DELAY_MS
            note("batcher.max_queue_delay_ms", "default",
                 f"Max batch delay is not set; the benchmark assumes {delay:g} ms.")
    else:
        delay = 0.0
        source("batcher.max_queue_delay_ms", "architecture.batching_mode")
        note("batcher.max_queue_delay_ms", "approximation",
             f"{mode.capitalize()} batching is approximated by the reference dynamic batcher with no "
             "queue delay (a batch takes whatever is queued when the model is free).")
    return {"max_batch_size": size, "max_queue_delay_ms": float(delay)}


def _derive_budget(tree: Mapping[str, Any], note: Any, source: Any) -> float | None:
    inference = _number(_get(tree, "latency_budget.inference_budget_ms"))
    if inference is None:
        note("latency_p99_budget_ms", "default", "P99 latency is not set, so there is no budget for the model; "
                                                 "the benchmark uses 10 x its own single-request time.")
        return None
    if inference <= 0:
        note("latency_p99_budget_ms", "default", "Network and processing take the whole P99 budget, nothing is "
                                                 "left for the model; the benchmark uses 10 x its own "
                                                 "single-request time.")
        return None
    queueing = _number(_get(tree, "latency_budget.queueing_ms")) or 0.0
    budget = inference + max(queueing, 0.0)
    source("latency_p99_budget_ms")
    low, high = LATENCY_P99_BUDGET_MS_LIMITS
    if not low <= budget <= high:
        clamped = min(max(budget, low), high)
        note("latency_p99_budget_ms", "adjusted", f"The model's P99 budget ({budget:g} ms) is outside "
                                                  f"{low:g}..{high:g} ms; the benchmark uses {clamped:g} ms.")
        budget = clamped
    return round(budget, 3)


def _derive_target(tree: Mapping[str, Any], queries: int, note: Any, source: Any) -> float | None:
    model_peak = _number(_get(tree, "capacity.model_peak_qps"))
    replicas = _get(tree, "capacity.replicas_for_load")
    if model_peak is None:
        note("target_qps", "default", "Peak QPS is not known; the server run uses half the measured capacity.")
        return None
    if model_peak <= 0:
        note("target_qps", "default", "No traffic reaches the model at peak; the server run uses half the "
                                      "measured capacity.")
        return None
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
        note("target_qps", "default", "Replicas are not known (no GPU type or model size to estimate one "
                                      "replica's throughput); the server run uses half the measured capacity.")
        return None
    target = model_peak / replicas
    source("target_qps")
    low = max(TARGET_QPS_LIMITS[0], queries / MAX_SERVER_RUN_S)
    high = TARGET_QPS_LIMITS[1]
    if not low <= target <= high:
        clamped = min(max(target, low), high)
        note("target_qps", "adjusted", f"One replica's peak load is {target:g} QPS; the server run uses "
                                       f"{clamped:g} QPS so that {queries} queries fit in "
                                       f"{MAX_SERVER_RUN_S / 60:g} minutes." if target < low else
             f"One replica's peak load is {target:g} QPS, above the benchmark's {high:g}; it uses {high:g}.")
        # Rounded up: a rate rounded down would not fit the run length it was raised for.
        return math.ceil(clamped * 1000) / 1000 if target < low else round(clamped, 3)
    return round(target, 3)


# --- the shape key --------------------------------------------------------------------------

def model_shape_key(spec_or_tree: Any) -> str:
    """A short stable string for the model a benchmark runs: "family/params/dtype/seq_len".

    Takes a spec (with a "model" dict), a facts tree (derived through `spec_from_facts`), or a
    `DesignBenchSpec`. Only the model's shape counts: the budget, target rate, batcher and query
    count may change without making a run stale. A spec without a "model" (a preset or a
    workload) gives "preset/<name>" or "workload/<family>/<params>/<dtype>/<seq_len>".
    """
    if isinstance(spec_or_tree, DesignBenchSpec):
        spec_or_tree = spec_or_tree.spec
    data = getattr(spec_or_tree, "tree", spec_or_tree)
    if not isinstance(data, Mapping):
        return "unknown"
    model = data.get("model")
    if isinstance(model, Mapping):
        family = model.get("family", "transformer")
        dtype = model.get("dtype", "fp32")
        seq_len = model.get("seq_len", 128)
        return f"{family}/{model.get('params')}/{dtype}/{seq_len}"
    if "requirements" in data or "capacity" in data:
        return spec_from_facts(data).shape_key
    workload = data.get("workload")
    if isinstance(workload, Mapping):
        try:
            w = WorkloadSpec.from_dict(dict(workload))
        except (TypeError, ValueError):
            return "unknown"
        return f"workload/{w.family}/{w.param_count}/{w.dtype}/{w.seq_len}"
    return f"preset/{data.get('preset') or 'reference-mlp'}"


def workload_for_spec(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """The reference workload `run(spec)` builds (its `result["workload"]`), or None if it cannot."""
    from engine.bench.api import workload_from_spec

    try:
        return workload_from_spec(dict(spec)).to_dict()
    except (TypeError, ValueError, KeyError):
        return None


# --- validating a spec ----------------------------------------------------------------------

def validate_spec(data: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a spec (typically `spec_from_facts(...).spec` after a reviewer edited it).

    Returns (cleaned spec, errors by field: "queries", "batcher.max_batch_size", "model.params",
    ...; "$" for the whole document). A valid spec comes back equal to the input (lists for
    tuples, floats for whole-number ms); invalid fields are left out of the cleaned spec. Refuses
    unknown keys, wrong types (a bool is not a number), NaN and infinities, values outside the
    module's limits, unknown scenarios, presets and devices, and runs that would last too long.
    Never raises.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if not isinstance(data, Mapping):
        return {}, {"$": "The spec must be an object (a mapping of field to value)."}
    for key in data:
        if key not in SPEC_KEYS:
            errors[str(key)] = f"Unknown field {key!r}; the spec fields are {', '.join(SPEC_KEYS)}."

    def put(key: str, value: Any, error: str | None) -> None:
        if error is None:
            clean[key] = value
        else:
            errors[key] = error

    if "scenario" in data:
        v = data["scenario"]
        put("scenario", v, None if isinstance(v, str) and v in SCENARIOS
            else f"Scenario must be one of {', '.join(SCENARIOS)}.")
    if "device" in data:
        v = data["device"]
        ok = isinstance(v, str) and (v in DEVICES or _CUDA_DEVICE.fullmatch(v) is not None)
        put("device", v, None if ok else "Device must be auto, cpu, cuda or cuda:N.")

    given = [k for k in ("model", "preset", "workload") if data.get(k) is not None]
    if len(given) > 1:
        for k in given:
            errors[k] = "Give only one of model, preset and workload."
    else:
        if "model" in data:
            _check_model(data["model"], clean, errors)
        if "preset" in data:
            v = data["preset"]
            put("preset", v, None if v is None or (isinstance(v, str) and v in PRESETS)
                else f"Preset must be one of {', '.join(PRESETS)}.")
        if "workload" in data:
            _check_workload(data["workload"], clean, errors)

    if "batcher" in data:
        _check_batcher(data["batcher"], clean, errors)

    for key, limits, kind, nullable in (
        ("queries", QUERIES_LIMITS, int, False),
        ("seed", SEED_LIMITS, int, False),
        ("threads", THREADS_LIMITS, int, True),
        ("latency_p99_budget_ms", LATENCY_P99_BUDGET_MS_LIMITS, float, True),
        ("target_qps", TARGET_QPS_LIMITS, float, True),
        ("run_budgets", RUN_BUDGETS_LIMITS, float, False),
        ("offline_min_time_s", OFFLINE_MIN_TIME_S_LIMITS, float, False),
        ("overload_factor", OVERLOAD_FACTOR_LIMITS, float, False),
    ):
        if key in data:
            value, error = _check_number(data[key], limits, kind, nullable)
            put(key, value, error)
    for key in ("offline_batch_sizes", "cuda_graph_batch_sizes"):
        if key in data:
            value, error = _check_int_list(data[key], MAX_BATCH_SIZE_LIMITS, nullable=True)
            put(key, value, error)
    if "sweep" in data:
        _check_sweep(data["sweep"], clean, errors)

    # How long the runs would last.
    queries = clean.get("queries", DEFAULT_QUERIES)
    target = clean.get("target_qps")
    if target is not None and "queries" not in errors and queries / target > MAX_SERVER_RUN_S:
        errors["target_qps"] = (f"At {target:g} QPS, {queries} queries take {queries / target / 60:.0f} minutes; "
                                f"a server run may last {MAX_SERVER_RUN_S / 60:g}. Raise target_qps or lower "
                                "queries.")
        clean.pop("target_qps", None)
    budget = clean.get("latency_p99_budget_ms")
    run_budgets = clean.get("run_budgets", 20.0)
    if budget is not None and run_budgets * budget / 1000.0 > MAX_SERVER_RUN_S:
        errors.setdefault("run_budgets", f"Each search step would last {run_budgets:g} x {budget:g} ms = "
                                         f"{run_budgets * budget / 60_000:.0f} minutes; at most "
                                         f"{MAX_SERVER_RUN_S / 60:g}.")
        clean.pop("run_budgets", None)
    return clean, errors


def _check_number(value: Any, limits: tuple[float, float], kind: type, nullable: bool = False,
                  ) -> tuple[Any, str | None]:
    low, high = limits
    if value is None:
        return (None, None) if nullable else (None, "Required: must not be null.")
    if isinstance(value, bool):
        return None, "Must be a number, not true/false."
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            return None, f"Must be a whole number written without a decimal point (got {value!r})."
        if not isinstance(value, int):
            return None, f"Must be a whole number from {low:,} to {high:,}."
        if not low <= value <= high:
            return None, f"Must be from {low:,} to {high:,} (got {value:,})."
        return value, None
    if not isinstance(value, (int, float)):
        return None, f"Must be a number from {low:g} to {high:g}."
    number = float(value)
    if not math.isfinite(number):
        return None, "Must be a finite number (not NaN or infinity)."
    if not low <= number <= high:
        return None, f"Must be from {low:g} to {high:g} (got {number:g})."
    return number, None


def _check_int_list(value: Any, limits: tuple[int, int], nullable: bool = False,
                    ) -> tuple[list[int] | None, str | None]:
    if value is None:
        return (None, None) if nullable else (None, "Required: must not be null.")
    if not isinstance(value, (list, tuple)) or not value:
        return None, "Must be a non-empty list of whole numbers."
    if len(value) > MAX_LIST_ITEMS:
        return None, f"At most {MAX_LIST_ITEMS} items."
    out = []
    for item in value:
        number, error = _check_number(item, limits, int)
        if error is not None:
            return None, f"Item {item!r}: {error}"
        out.append(number)
    return out, None


def _check_model(model: Any, clean: dict[str, Any], errors: dict[str, str]) -> None:
    if model is None:
        clean["model"] = None
        return
    if not isinstance(model, Mapping):
        errors["model"] = "Model must be an object with params, family, dtype and seq_len."
        return
    out: dict[str, Any] = {}
    allowed = ("params", "family", "dtype", "seq_len", *MODEL_EXTRA_LIMITS)
    for key in model:
        if key not in allowed:
            errors[f"model.{key}"] = f"Unknown model field {key!r}; model fields are {', '.join(allowed)}."
    family = model.get("family", "transformer")
    if not isinstance(family, str) or family not in MODEL_FAMILIES:
        errors["model.family"] = f"Family must be one of {', '.join(MODEL_FAMILIES)}."
    elif "family" in model:
        out["family"] = family
    if "params" not in model:
        errors["model.params"] = "Required: the model's parameter count."
    else:
        high = MLP_PARAMS_MAX if family == "mlp" else MODEL_PARAMS_LIMITS[1]
        value, error = _check_number(model["params"], (MODEL_PARAMS_LIMITS[0], high), int)
        if error is None:
            out["params"] = value
        else:
            errors["model.params"] = error
    if "dtype" in model:
        if isinstance(model["dtype"], str) and model["dtype"] in DTYPES:
            out["dtype"] = model["dtype"]
        else:
            errors["model.dtype"] = f"Dtype must be one of {', '.join(DTYPES)}."
    if "seq_len" in model:
        value, error = _check_number(model["seq_len"], SEQ_LEN_LIMITS, int)
        if error is None:
            out["seq_len"] = value
        else:
            errors["model.seq_len"] = error
    for key, limits in MODEL_EXTRA_LIMITS.items():
        if key in model:
            value, error = _check_number(model[key], limits, int)
            if error is None:
                out[key] = value
            else:
                errors[f"model.{key}"] = error
    if not any(k == "model" or k.startswith("model.") for k in errors):
        clean["model"] = out


def _check_workload(workload: Any, clean: dict[str, Any], errors: dict[str, str]) -> None:
    if workload is None:
        clean["workload"] = None
        return
    if not isinstance(workload, Mapping):
        errors["workload"] = "Workload must be an object of WorkloadSpec fields."
        return
    for key, value in workload.items():
        if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
            errors[f"workload.{key}"] = "Must be a whole number (not true/false, NaN or infinity)."
            return
    try:
        spec = WorkloadSpec.from_dict(dict(workload))
    except (TypeError, ValueError) as exc:
        errors["workload"] = f"Invalid workload: {exc}."
        return
    if spec.family == "mlp" and spec.param_count > MLP_PARAMS_MAX:
        errors["workload"] = f"The workload has {spec.param_count:,} parameters; an MLP may have {MLP_PARAMS_MAX:,}."
        return
    if spec.family == "transformer" and spec.seq_len > SEQ_LEN_LIMITS[1]:
        errors["workload.seq_len"] = f"Must be from {SEQ_LEN_LIMITS[0]} to {SEQ_LEN_LIMITS[1]:,}."
        return
    clean["workload"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in workload.items()}


def _check_batcher(batcher: Any, clean: dict[str, Any], errors: dict[str, str]) -> None:
    if batcher is None:
        clean["batcher"] = None
        return
    if not isinstance(batcher, Mapping):
        errors["batcher"] = "Batcher must be an object of batcher settings."
        return
    before = len(errors)
    out: dict[str, Any] = {}
    for key in batcher:
        if key not in BATCHER_FIELDS:
            errors[f"batcher.{key}"] = f"Unknown batcher field {key!r}; they are {', '.join(BATCHER_FIELDS)}."
    for key, limits, kind in (
        ("max_batch_size", MAX_BATCH_SIZE_LIMITS, int),
        ("max_queue_delay_ms", MAX_QUEUE_DELAY_MS_LIMITS, float),
        ("max_queue_size", MAX_QUEUE_SIZE_LIMITS, int),
        ("num_slots", NUM_SLOTS_LIMITS, int),
    ):
        if key in batcher:
            value, error = _check_number(batcher[key], limits, kind)
            if error is None:
                out[key] = value
            else:
                errors[f"batcher.{key}"] = error
    if "preferred_batch_sizes" in batcher:
        top = out.get("max_batch_size", 64)
        value, error = _check_int_list(batcher["preferred_batch_sizes"], (1, top))
        if error is None and value != sorted(set(value)):
            error = "Must be strictly increasing."
        if error is None:
            out["preferred_batch_sizes"] = value
        else:
            errors["batcher.preferred_batch_sizes"] = error + (f" (each at most max_batch_size {top})"
                                                               if "Item" in error else "")
    if len(errors) > before:
        return
    # The serving core's own checks, as `run()` applies them (its defaults for the rest).
    config = {"max_batch_size": 64, "max_queue_delay_ms": 0.0, **out}
    config["preferred_batch_sizes"] = tuple(config.get("preferred_batch_sizes", ()))
    try:
        BatcherConfig(**config)
    except (TypeError, ValueError) as exc:
        errors["batcher"] = f"Invalid batcher settings: {exc}."
        return
    clean["batcher"] = out


def _check_sweep(sweep: Any, clean: dict[str, Any], errors: dict[str, str]) -> None:
    if sweep is None:
        clean["sweep"] = None
        return
    if not isinstance(sweep, Mapping):
        errors["sweep"] = "Sweep must be an object with max_batch_sizes and max_queue_delays_ms."
        return
    out: dict[str, Any] = {}
    for key in sweep:
        if key not in ("max_batch_sizes", "max_queue_delays_ms"):
            errors[f"sweep.{key}"] = f"Unknown sweep field {key!r}; they are max_batch_sizes, max_queue_delays_ms."
    if "max_batch_sizes" in sweep:
        value, error = _check_int_list(sweep["max_batch_sizes"], MAX_BATCH_SIZE_LIMITS)
        if error is None:
            out["max_batch_sizes"] = value
        else:
            errors["sweep.max_batch_sizes"] = error
    if "max_queue_delays_ms" in sweep:
        delays = sweep["max_queue_delays_ms"]
        if not isinstance(delays, (list, tuple)) or not delays or len(delays) > MAX_LIST_ITEMS:
            errors["sweep.max_queue_delays_ms"] = f"Must be a list of 1 to {MAX_LIST_ITEMS} numbers."
        else:
            checked = [_check_number(d, MAX_QUEUE_DELAY_MS_LIMITS, float) for d in delays]
            bad = next((e for _, e in checked if e is not None), None)
            if bad is None:
                out["max_queue_delays_ms"] = [v for v, _ in checked]
            else:
                errors["sweep.max_queue_delays_ms"] = bad
    if not any(k == "sweep" or k.startswith("sweep.") for k in errors):
        clean["sweep"] = out


# --- validating a result --------------------------------------------------------------------

class _NonFinite:
    """Stands for a NaN / Infinity literal while parsing, so its JSON path can be reported."""

    def __init__(self, literal: str):
        self.literal = literal


def validate_uploaded_result(
    raw: bytes | str,
    *,
    expected_spec: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Check a result file from `python -m engine.bench ... --out result.json` (it writes the dict
    `run()` returns, as is). Returns ({"measurements", "provenance", "result", "notes"}, {}) or
    (None, errors keyed by JSON path: "$" for the document, "max_qps_at_p99",
    "provenance.device_name", ...).

    `measurements` is what `build_facts(measurements=...)` takes (see `measurements_from_result`).
    `expected_spec`: the spec the design asks for; the result's workload must be the one that
    spec builds, and its P99 budget and batcher (max batch size, queue delay) the spec's, so a
    result for another model or another question is refused. `now`: the current time (aware); a
    result that starts in the future is refused (skipped when None).
    """
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) > MAX_UPLOAD_BYTES:
            return None, {"$": f"The file is {len(raw):,} bytes; a result is at most {MAX_UPLOAD_BYTES:,}."}
        try:
            text = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return None, {"$": f"The file is not UTF-8 text (byte {exc.start})."}
    elif isinstance(raw, str):
        text = raw
        if len(text) > MAX_UPLOAD_BYTES:
            return None, {"$": f"The file is {len(text):,} characters; a result is at most {MAX_UPLOAD_BYTES:,}."}
    else:
        return None, {"$": "Expected the text of a JSON file."}
    if not text.strip():
        return None, {"$": "The file is empty."}
    try:
        document = read_json(text, parse_constant=_NonFinite)
    except JsonTextError as exc:
        if exc.syntax:
            return None, {"$": f"Invalid JSON at line {exc.line}, column {exc.column}: {exc.syntax} "
                               "(is the file complete?)."}
        return None, {exc.path or "$": f"{exc.message[0].upper()}{exc.message[1:]}."}
    literals: dict[str, str] = {}
    _find_non_finite(document, "", literals)
    if literals:
        return None, literals
    if not isinstance(document, dict):
        return None, {"$": f"The top level must be a JSON object (the result), not {_json_type(document)}."}
    return measurements_from_result(document, expected_spec=expected_spec, now=now)


def _find_non_finite(node: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(node, _NonFinite):
        out[path or "$"] = f"{node.literal} is not a valid JSON number."
    elif isinstance(node, dict):
        for key, value in node.items():
            _find_non_finite(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _find_non_finite(value, f"{path}[{i}]", out)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


def measurements_from_result(
    result: Any,
    *,
    expected_spec: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Check a `run()` result dict (a job's, or a parsed upload) and turn it into measurements.

    Returns ({"measurements": ..., "provenance": ..., "result": result, "notes": [...]}, {}) or
    (None, errors by JSON path). `measurements` has the keys `BenchmarkFacts` reads:

        max_qps_at_p99            result.max_qps_at_p99 (the search, confirmed or not)
        p50/p95/p99_ms_at_peak    the server run at target_qps (the design's per-replica peak)
        p99_budget_ms             result.latency_p99_budget_ms
        offline_throughput_per_s  result.offline_max_qps
        device                    provenance.device_name on CUDA, "cpu" on CPU
        dtype                     result.workload.dtype
        torch_version             provenance.torch_version
        max_batch_size, max_queue_delay_ms   result.settings.batcher
        seed, duration_s          result.seed, result.duration_s
        measured_at               started_at + duration_s (ISO 8601, UTC)

    plus keys `build_facts` ignores, for the app: source ("benchmark"), scenario, target_qps,
    queries, p99_valid, max_qps_confirmed.
    """
    errors: dict[str, str] = {}
    if not isinstance(result, Mapping):
        return None, {"$": "The result must be an object."}

    status = result.get("status")
    if status != "ok":
        detail = result.get("error")
        errors["status"] = (f"The run did not succeed (status {status!r}"
                            + (f": {str(detail)[:300]}" if detail else "") + "); only an ok run is a measurement."
                            if status is not None else "Missing: a result records its status.")
    schema = result.get("schema_version")
    if schema != 1:
        errors["schema_version"] = f"Expected schema_version 1, got {schema!r}."
    scenario = result.get("scenario")
    if scenario not in SCENARIOS:
        errors["scenario"] = f"Scenario must be one of {', '.join(SCENARIOS)}."

    def number(path: str, value: Any, low: float, high: float, *, required: bool, strict_low: bool = False,
               ) -> float | None:
        if value is None:
            if required:
                errors[path] = "Missing: the result has no value here."
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors[path] = "Must be a number."
            return None
        number_ = float(value)
        if not math.isfinite(number_):
            errors[path] = "Must be a finite number."
        elif number_ < low or (strict_low and number_ == low):
            errors[path] = f"Must be {'above' if strict_low else 'at least'} {low:g} (got {number_:g})."
        elif number_ > high:
            errors[path] = f"{number_:g} is not plausible (at most {high:g})."
        else:
            return number_
        return None

    max_qps = number("max_qps_at_p99", result.get("max_qps_at_p99"), 0.0, RESULT_QPS_MAX, required=True)
    budget = number("latency_p99_budget_ms", result.get("latency_p99_budget_ms"), 0.0, RESULT_MS_MAX,
                    required=True, strict_low=True)
    p50 = number("p50_ms", result.get("p50_ms"), 0.0, RESULT_MS_MAX, required=False)
    p99 = number("p99_ms", result.get("p99_ms"), 0.0, RESULT_MS_MAX, required=False)
    target = number("target_qps", result.get("target_qps"), 0.0, RESULT_QPS_MAX, required=False)
    offline = number("offline_max_qps", result.get("offline_max_qps"), 0.0, RESULT_QPS_MAX, required=False)
    duration = number("duration_s", result.get("duration_s"), 0.0, RESULT_DURATION_S_MAX, required=True)
    p95 = None
    server = result.get("server")
    if isinstance(server, Mapping) and isinstance(server.get("latency_ms"), Mapping):
        p95 = number("server.latency_ms.p95_ms", server["latency_ms"].get("p95_ms"), 0.0, RESULT_MS_MAX,
                     required=False)
    if p50 is not None and p99 is not None and p50 > p99:
        errors["p50_ms"] = f"P50 ({p50:g} ms) above P99 ({p99:g} ms): the percentiles are inconsistent."

    seed = result.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        errors["seed"] = "Must be a whole number."
        seed = None

    started = result.get("started_at")
    started_at = _parse_time(started)
    if started_at is None:
        errors["started_at"] = "Must be an ISO 8601 time with a time zone, e.g. 2025-01-31T12:00:00+00:00."
    elif now is not None and started_at > now + dt.timedelta(minutes=5):
        errors["started_at"] = "The run starts in the future."

    workload = result.get("workload")
    dtype = None
    if not isinstance(workload, Mapping):
        errors["workload"] = "Missing: the result records the workload it ran."
    else:
        family = workload.get("family")
        if family == "noop":
            errors["workload.family"] = "A noop run measures the scheduler only, not a model."
        elif family not in MODEL_FAMILIES:
            errors["workload.family"] = f"Family must be one of {', '.join(MODEL_FAMILIES)}."
        dtype = workload.get("dtype")
        if dtype not in DTYPES:
            errors["workload.dtype"] = f"Dtype must be one of {', '.join(DTYPES)}."
            dtype = None
        count = workload.get("param_count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            errors["workload.param_count"] = "Must be a whole number >= 1."
        if expected_spec is not None and not any(k.startswith("workload") for k in errors):
            expected = workload_for_spec(expected_spec)
            if expected is not None:
                differs = sorted(k for k, v in expected.items() if workload.get(k) != v)
                if differs:
                    errors["workload"] = ("The result is for a different model than the design asks for "
                                          f"({', '.join(differs)} differ): run the design's spec.")

    settings = result.get("settings")
    max_batch = delay = queries = None
    if not isinstance(settings, Mapping):
        errors["settings"] = "Missing: the result records the settings it ran with."
    else:
        batcher = settings.get("batcher")
        if not isinstance(batcher, Mapping):
            errors["settings.batcher"] = "Missing: the result records its batcher settings."
        else:
            max_batch = batcher.get("max_batch_size")
            if isinstance(max_batch, bool) or not isinstance(max_batch, int) or not 1 <= max_batch <= 65_536:
                errors["settings.batcher.max_batch_size"] = "Must be a whole number from 1 to 65,536."
                max_batch = None
            delay = number("settings.batcher.max_queue_delay_ms", batcher.get("max_queue_delay_ms"), 0.0,
                           RESULT_MS_MAX, required=True)
        queries = settings.get("queries")
        if isinstance(queries, bool) or not isinstance(queries, int) or queries < QUERIES_LIMITS[0]:
            errors["settings.queries"] = f"Must be a whole number >= {QUERIES_LIMITS[0]}."
            queries = None

    if expected_spec is not None:
        _check_settings_match(expected_spec, budget, max_batch, delay, errors)

    provenance = result.get("provenance")
    device = None
    if not isinstance(provenance, Mapping) or not provenance:
        errors["provenance"] = "Missing: a measurement records where and with what it ran."
    else:
        device = _check_provenance(provenance, settings if isinstance(settings, Mapping) else {}, errors)

    if errors:
        return None, errors
    notes: list[str] = []
    if max_qps == 0:
        notes.append("No rate met the P99 budget: the reference cannot serve this model within it.")
    if result.get("max_qps_confirmed") is False:
        notes.append("The confirming run at max QPS did not pass: treat max QPS as an upper bound.")
    if result.get("p99_valid") is False:
        notes.append("The server run was short or invalid: its P99 is not a reliable claim.")
    finished = started_at + dt.timedelta(seconds=duration)
    measurements = {
        "max_qps_at_p99": max_qps,
        "p50_ms_at_peak": p50,
        "p95_ms_at_peak": p95,
        "p99_ms_at_peak": p99,
        "p99_budget_ms": budget,
        "offline_throughput_per_s": offline,
        "device": device,
        "dtype": dtype,
        "torch_version": provenance.get("torch_version"),
        "max_batch_size": max_batch,
        "max_queue_delay_ms": delay,
        "seed": seed,
        "duration_s": duration,
        "measured_at": finished.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        # Not read by build_facts; for the app.
        "source": "benchmark",
        "scenario": scenario,
        "target_qps": target,
        "queries": queries,
        "p99_valid": result.get("p99_valid") if isinstance(result.get("p99_valid"), bool) else None,
        "max_qps_confirmed": (result.get("max_qps_confirmed") if isinstance(result.get("max_qps_confirmed"), bool)
                              else None),
    }
    return {"measurements": measurements, "provenance": dict(provenance), "result": dict(result),
            "notes": notes}, {}


def _check_settings_match(spec: Mapping[str, Any], budget: float | None, max_batch: int | None,
                          delay: float | None, errors: dict[str, str]) -> None:
    """A result measured under another budget or batcher answers another question."""
    wanted = spec.get("latency_p99_budget_ms")
    if _number(wanted) is not None and budget is not None and not math.isclose(budget, wanted, rel_tol=1e-6):
        errors["latency_p99_budget_ms"] = (f"The run used a {budget:g} ms P99 budget; the design's spec asks for "
                                           f"{wanted:g} ms.")
    batcher = spec.get("batcher")
    if not isinstance(batcher, Mapping):
        return
    wanted = batcher.get("max_batch_size")
    if isinstance(wanted, int) and max_batch is not None and max_batch != wanted:
        errors["settings.batcher.max_batch_size"] = (f"The run used max batch size {max_batch}; the design's spec "
                                                     f"asks for {wanted}.")
    wanted = _number(batcher.get("max_queue_delay_ms"))
    if wanted is not None and delay is not None and not math.isclose(delay, wanted, abs_tol=1e-9):
        errors["settings.batcher.max_queue_delay_ms"] = (f"The run used a {delay:g} ms queue delay; the design's "
                                                         f"spec asks for {wanted:g} ms.")


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_provenance(prov: Mapping[str, Any], settings: Mapping[str, Any], errors: dict[str, str]) -> str | None:
    """Require what a genuine run records and that it hangs together; return the device label."""
    for key in HOST_PROVENANCE_KEYS + TORCH_PROVENANCE_KEYS:
        if key not in prov:
            errors[f"provenance.{key}"] = "Missing: every benchmark result records it."
    for key in ("python_version", "numpy_version", "platform", "torch_version", "device_name"):
        value = prov.get(key)
        if key in prov and (not isinstance(value, str) or not value.strip() or len(value) > 300):
            errors[f"provenance.{key}"] = "Must be a non-empty text."
    for key in ("cpu_count", "torch_threads"):
        value = prov.get(key)
        if key in prov and value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            errors[f"provenance.{key}"] = "Must be a whole number >= 1."
    if "torch_threads" in prov and prov.get("torch_threads") is None:
        errors["provenance.torch_threads"] = "Must be a whole number >= 1."
    if "argv" in prov and not isinstance(prov.get("argv"), list):
        errors["provenance.argv"] = "Must be the command line, a list."
    if "git_commit" in prov and prov.get("git_commit") is not None and not isinstance(prov.get("git_commit"), str):
        errors["provenance.git_commit"] = "Must be a commit id or null."

    device_type = prov.get("device_type")
    if "device_type" in prov and device_type not in ("cpu", "cuda"):
        errors["provenance.device_type"] = "Must be cpu or cuda."
        return None
    torch_version = prov.get("torch_version")
    if device_type == "cuda":
        cuda = prov.get("cuda_version")
        if not isinstance(cuda, str) or not cuda.strip():
            errors["provenance.cuda_version"] = "A CUDA run records the CUDA version torch was built with."
        if isinstance(torch_version, str) and torch_version.endswith("+cpu"):
            errors["provenance.torch_version"] = f"{torch_version} is a CPU-only build: it cannot have run on CUDA."
        if "cudnn_version" not in prov:
            errors["provenance.cudnn_version"] = "Missing: a CUDA run records the cuDNN version."
        name = prov.get("device_name")
        if isinstance(name, str) and name.strip().lower() in ("cpu", "cuda", "gpu", "unknown"):
            errors["provenance.device_name"] = "A CUDA run records the GPU's name."
    ran_on = settings.get("device")
    if isinstance(device_type, str) and ran_on is not None and (
            not isinstance(ran_on, str) or ran_on.split(":")[0] != device_type):
        errors["provenance.device_type"] = (f"The settings say the run used {ran_on!r} but the provenance says "
                                            f"{device_type!r}.")
    if any(k.startswith("provenance.") for k in errors):
        return None
    return prov["device_name"].strip()[:200] if device_type == "cuda" else "cpu"


# --- a throughput measured elsewhere --------------------------------------------------------

def known_throughput_measurements(
    per_replica_qps: Any,
    p99_ms: Any,
    source: Any,
    *,
    p99_budget_ms: Any = None,
    device: Any = None,
    dtype: Any = None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Measurements for a throughput a team measured elsewhere (a load test, a vendor benchmark).

    `per_replica_qps`: the rate one replica sustained; `p99_ms`: its P99 there; `source`: where
    the numbers come from (shown next to them). The P99 budget defaults to that P99. Returns
    (measurements in the `build_facts` shape with source "entered", {}) or (None, errors keyed
    by argument name). The same limits as for a benchmark result apply.
    """
    errors: dict[str, str] = {}
    qps, error = _check_number(per_replica_qps, (0.0, RESULT_QPS_MAX), float)
    if error is None and qps == 0:
        error = "Must be above 0."
    if error:
        errors["per_replica_qps"] = error
    p99, error = _check_number(p99_ms, (0.0, RESULT_MS_MAX), float)
    if error is None and p99 == 0:
        error = "Must be above 0."
    if error:
        errors["p99_ms"] = error
    budget = p99
    if p99_budget_ms is not None:
        budget, error = _check_number(p99_budget_ms, (0.0, RESULT_MS_MAX), float)
        if error is None and budget == 0:
            error = "Must be above 0."
        if error:
            errors["p99_budget_ms"] = error
        elif p99 is not None and p99 > budget:
            errors["p99_ms"] = f"The P99 ({p99:g} ms) is above the budget ({budget:g} ms): that rate does not meet it."
    if not isinstance(source, str) or not source.strip():
        errors["source"] = "Say where the numbers come from (a load test, a vendor benchmark, ...)."
    elif len(source) > 500:
        errors["source"] = "At most 500 characters."
    if device is not None and (not isinstance(device, str) or not device.strip() or len(device) > 200):
        errors["device"] = "Must be a text of at most 200 characters."
    if dtype is not None and (not isinstance(dtype, str) or dtype not in _REFERENCE_DTYPE):
        errors["dtype"] = f"Must be one of {', '.join(_REFERENCE_DTYPE)}."
    if errors:
        return None, errors
    return {
        "max_qps_at_p99": qps,
        "p99_ms_at_peak": p99,
        "p99_budget_ms": budget,
        "device": device.strip() if isinstance(device, str) else None,
        "dtype": dtype,
        # Not read by build_facts; for the app.
        "source": "entered",
        "source_note": source.strip(),
    }, {}


__all__ = [
    "DEFAULT_QUERIES", "DEVICES", "LATENCY_P99_BUDGET_MS_LIMITS", "MAX_BATCH_SIZE_LIMITS",
    "MAX_QUEUE_DELAY_MS_LIMITS", "MAX_SERVER_RUN_S", "MODEL_PARAMS_LIMITS", "QUERIES_LIMITS",
    "SEQ_LEN_LIMITS", "SPEC_KEYS", "SPEC_SOURCES", "TARGET_QPS_LIMITS", "DesignBenchSpec",
    "known_throughput_measurements", "measurements_from_result", "model_shape_key", "spec_from_facts",
    "validate_spec", "validate_uploaded_result", "workload_for_spec",
]
