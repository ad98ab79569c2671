"""Benchmark jobs from a design: the spec a design's facts ask for.

    spec_from_facts(tree) -> DesignBenchSpec           the `run()` spec a design's facts imply
    model_shape_key(spec_or_tree) -> str               "transformer/8000000000/bf16/8192": stale check

Re-exported for callers: `validate_spec` (engine.bench.spec_check), `validate_uploaded_result`,
`measurements_from_result`, `known_throughput_measurements` (engine.bench.result_check),
`workload_for_spec` and the limits (engine.bench.spec_vocab, which owns the vocabulary).

Nothing here raises on bad input. No torch and no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.bench.result_check import (
    known_throughput_measurements,
    measurements_from_result,
    validate_uploaded_result,
)
from engine.bench.spec_check import validate_spec
from engine.bench.spec_vocab import *  # noqa: F403 -- re-exported: callers import the limits from here
from engine.bench.spec_vocab import (
    APPROXIMATED_FAMILY,
    BATCHED_MODES,
    DEFAULT_MAX_BATCH_DELAY_MS,
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MODEL,
    GENERATIVE_SCENARIOS,
    REFERENCE_DTYPE,
    REFERENCE_FAMILY,
    fact_at,
    finite_number,
    workload_for_spec,
)
from engine.planning.throughput import serving_dtype
from engine.serving.workloads import WorkloadSpec, from_description




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

    if fact_at(tree, "requirements.model_family") == "decoder_llm":
        # A decoder LLM is measured token by token (TTFT, TPOT), not approximated by an encoder.
        from engine.bench.generative_spec import derive_generative

        spec, key = derive_generative(tree, note, source)
        return DesignBenchSpec(spec=spec, notes=tuple(notes), sources=sources, shape_key=key)
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



def _derive_model(tree: Mapping[str, Any], note: Any, source: Any) -> dict[str, Any]:
    family_raw = fact_at(tree, "requirements.model_family")
    if isinstance(family_raw, str) and family_raw in REFERENCE_FAMILY:
        family = REFERENCE_FAMILY[family_raw]
        source("model.family")
        if family_raw in APPROXIMATED_FAMILY:
            note("model.family", "approximation", f"Model family {family_raw}: {APPROXIMATED_FAMILY[family_raw]}.")
    else:
        family = DEFAULT_MODEL["family"]
        note("model.family", "default", "Model family is not set; the benchmark assumes a transformer.")

    billions = finite_number(fact_at(tree, "requirements.model_params_billions"))
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
        params = DEFAULT_MODEL["params"]
        note("model.params", "default", "Parameter count is not set; the benchmark assumes 110 M "
                                        "(BERT-base size).")

    model_dtype = fact_at(tree, "requirements.model_dtype")
    quantization = fact_at(tree, "architecture.quantization")
    if not isinstance(model_dtype, str) or model_dtype not in REFERENCE_DTYPE:
        model_dtype = None
        note("model.dtype", "default", "Model precision is not set; the benchmark assumes bf16.")
    if not isinstance(quantization, str) or quantization not in REFERENCE_DTYPE:
        quantization = None
    served = serving_dtype(model_dtype, quantization)
    dtype = REFERENCE_DTYPE.get(served, "bf16")
    if model_dtype is not None or quantization is not None:
        source("model.dtype")
    if served != dtype:
        note("model.dtype", "approximation", f"The model is served in {served}; the reference runner has no "
                                             f"{served} kernels, so it runs in {dtype} (a conservative "
                                             "measurement: the quantized model is faster).")

    seq_len_raw = fact_at(tree, "requirements.sequence_length_tokens")
    if isinstance(seq_len_raw, int) and not isinstance(seq_len_raw, bool) and seq_len_raw >= 1:
        seq_len = seq_len_raw
        source("model.seq_len")
        if seq_len > SEQ_LEN_LIMITS[1]:
            note("model.seq_len", "adjusted", f"Sequence length {seq_len:,} is above the reference's "
                                              f"{SEQ_LEN_LIMITS[1]:,}; the benchmark uses {SEQ_LEN_LIMITS[1]:,}.")
            seq_len = SEQ_LEN_LIMITS[1]
    else:
        seq_len = DEFAULT_MODEL["seq_len"]
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
    mode = fact_at(tree, "architecture.batching_mode")
    if mode not in BATCHED_MODES:
        if mode is None:
            note("batcher.max_batch_size", "default", "Batching is not set; the benchmark runs without batching "
                                                      "(max batch size 1), as the capacity plan does.")
        else:
            source("batcher.max_batch_size", "architecture.batching_mode")
        return {"max_batch_size": 1, "max_queue_delay_ms": 0.0}

    size = fact_at(tree, "architecture.max_batch_size")
    if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
        source("batcher.max_batch_size")
        top = MAX_BATCH_SIZE_LIMITS[1]
        if size > top:
            note("batcher.max_batch_size", "adjusted", f"Max batch size {size} is above the benchmark's {top}; "
                                                       f"it uses {top}.")
            size = top
    else:
        size = DEFAULT_MAX_BATCH_SIZE
        note("batcher.max_batch_size", "default", f"Max batch size is not set; the benchmark assumes {size}.")

    if mode == "dynamic":
        delay = finite_number(fact_at(tree, "architecture.max_batch_delay_ms"))
        if delay is not None and delay >= 0:
            source("batcher.max_queue_delay_ms")
            delay = min(delay, MAX_QUEUE_DELAY_MS_LIMITS[1])
        else:
            delay = DEFAULT_MAX_BATCH_DELAY_MS
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
    inference = finite_number(fact_at(tree, "latency_budget.inference_budget_ms"))
    if inference is None:
        note("latency_p99_budget_ms", "default", "P99 latency is not set, so there is no budget for the model; "
                                                 "the benchmark uses 10 x its own single-request time.")
        return None
    if inference <= 0:
        note("latency_p99_budget_ms", "default", "Network and processing take the whole P99 budget, nothing is "
                                                 "left for the model; the benchmark uses 10 x its own "
                                                 "single-request time.")
        return None
    queueing = finite_number(fact_at(tree, "latency_budget.queueing_ms")) or 0.0
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
    model_peak = finite_number(fact_at(tree, "capacity.model_peak_qps"))
    replicas = fact_at(tree, "capacity.replicas_for_load")
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
    shape = data.get("shape")
    if data.get("scenario") in GENERATIVE_SCENARIOS and isinstance(shape, Mapping):
        return (f"decoder/{shape.get('layers')}x{shape.get('d_model')}/{shape.get('kv_heads')}x{shape.get('head_dim')}/"
                f"{data.get('dtype', 'fp32')}")
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


__all__ = [
    "DEFAULT_QUERIES", "DEVICES", "LATENCY_P99_BUDGET_MS_LIMITS", "MAX_BATCH_SIZE_LIMITS",
    "MAX_QUEUE_DELAY_MS_LIMITS", "MAX_SERVER_RUN_S", "MODEL_PARAMS_LIMITS", "QUERIES_LIMITS",
    "SEQ_LEN_LIMITS", "SPEC_KEYS", "SPEC_SOURCES", "TARGET_QPS_LIMITS", "DesignBenchSpec",
    "known_throughput_measurements", "measurements_from_result", "model_shape_key", "spec_from_facts",
    "validate_spec", "validate_uploaded_result", "workload_for_spec",
]
