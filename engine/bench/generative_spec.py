"""Generative (decoder LLM) benchmark specs: derived from a design, the "quick" variant, checked.

    derive_generative(tree, note, source) -> (spec, shape_key)   what `spec_from_facts` gives a
                                                                 decoder LLM
    quick_variant(spec) -> spec                                  the same question, seconds long
    check_generative(data) -> (spec, errors)                     `validate_spec` for these specs

The spec is `engine.bench.generate.run`'s (through `engine.bench.run`, scenario "generate-...").
The design's model is scaled to a reference decoder the worker builds
(GENERATIVE_REFERENCE_PARAMS_MAX); what carries over unscaled is the question: the prompt and
output lengths, the TTFT and TPOT targets, and the KV budget expressed in sequences (the chosen
GPU's room for the real model's KV cache, `memory.max_concurrent_sequences`, becomes a reference
pool that holds as many sequences). No torch (config and workload are plain Python).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from engine.bench.generate.workload import LengthDist
from engine.bench.spec_vocab import (
    BLOCK_SIZE_LIMITS,
    BURSTINESS_LIMITS,
    CUDA_DEVICE,
    DEFAULT_BLOCK_SIZE,
    DEVICES,
    GENERATIVE_DEFAULT_REQUESTS,
    GENERATIVE_DTYPES,
    GENERATIVE_PARAMS_LIMITS,
    GENERATIVE_RATE_LIMITS,
    GENERATIVE_REFERENCE_PARAMS_MAX,
    GENERATIVE_REQUESTS_LIMITS,
    GENERATIVE_SCENARIOS,
    GENERATIVE_SLO_MS_LIMITS,
    GENERATIVE_SPEC_KEYS,
    GENERATIVE_SPEC_SOURCES,
    GENERATIVE_TOKENS_LIMITS,
    KV_BUDGET_MB_LIMITS,
    MAX_DRAIN_S_LIMITS,
    MAX_NUM_BATCHED_TOKENS_LIMITS,
    MAX_NUM_SEQS_LIMITS,
    MAX_SERVER_RUN_S,
    NUM_BLOCKS_LIMITS,
    QUICK_LENGTH_DIVISOR,
    QUICK_MIN_TOKENS,
    QUICK_PARAMS,
    QUICK_REQUESTS,
    REFERENCE_DTYPE,
    SEED_LIMITS,
    THREADS_LIMITS,
    VOCAB_SIZE_LIMITS,
    fact_at,
    finite_number,
)
from engine.planning.throughput import serving_dtype
from engine.serving.generative.config import DecoderShape

_DEFAULT_TOKENS = {"input": 512, "output": 128}
_REFERENCE_VOCAB = 32_000  # Llama's: the reference's embedding is a realistic share of it
_QUICK_VOCAB = 256  # a 2 M-parameter model's bulk must be its layers, not its embedding


def is_generative(spec: Any) -> bool:
    return isinstance(spec, Mapping) and spec.get("scenario") in GENERATIVE_SCENARIOS


def _lengths(mean_tokens: int) -> LengthDist:
    """Lengths around a design's mean: uniform over [mean / 2, 3 x mean / 2] (the mean is kept)."""
    low = max(1, math.ceil(mean_tokens / 2))
    high = max(low, mean_tokens + (mean_tokens - low))
    return LengthDist("uniform", low, high) if high > low else LengthDist.fixed(low)


def _pool_blocks(max_num_seqs: int, max_len: int, block_size: int) -> int:
    return max_num_seqs * -(-max_len // block_size)


def derive_generative(tree: Mapping[str, Any], note: Callable[[str, str, str], None],
                      source: Callable[..., None]) -> tuple[dict[str, Any], str]:
    """The max-rate run a decoder-LLM design asks for (see the module docstring); never raises."""
    billions = finite_number(fact_at(tree, "requirements.model_params_billions"))
    if billions is not None and billions > 0:
        params = int(round(billions * 1e9))
        source("params", GENERATIVE_SPEC_SOURCES["params"])
    else:
        params = 1_000_000_000
        note("params", "default", "Parameter count is not set; the benchmark assumes a 1 B-parameter decoder.")
    layers, kv_heads, head_dim = (fact_at(tree, f"memory.{k}") for k in ("layers", "kv_heads", "head_dim"))
    reference = min(max(params, GENERATIVE_PARAMS_LIMITS[0]), GENERATIVE_REFERENCE_PARAMS_MAX)

    model_dtype = fact_at(tree, "requirements.model_dtype")
    quantization = fact_at(tree, "architecture.quantization")
    model_dtype = model_dtype if model_dtype in REFERENCE_DTYPE else None
    quantization = quantization if quantization in REFERENCE_DTYPE else None
    served = serving_dtype(model_dtype, quantization)
    dtype = REFERENCE_DTYPE.get(served, "bf16")
    if model_dtype is None and quantization is None:
        note("dtype", "default", "Model precision is not set; the benchmark assumes bf16.")
    else:
        source("dtype", GENERATIVE_SPEC_SOURCES["dtype"])
    if served != dtype:
        note("dtype", "approximation", f"The model is served in {served}; the reference decoder has no {served} "
                                       f"kernels, so it runs in {dtype} (conservative: the quantized model is faster).")

    tokens = {}
    for kind in ("input", "output"):
        raw = fact_at(tree, f"requirements.{kind}_tokens_per_request")
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
            tokens[kind] = raw
            source(f"{kind}_len_dist", GENERATIVE_SPEC_SOURCES[f"{kind}_len_dist"])
        else:
            tokens[kind] = _DEFAULT_TOKENS[kind]
            note(f"{kind}_len_dist", "default", f"{kind.capitalize()} tokens per request are not set; the "
                                                f"benchmark assumes {tokens[kind]}.")
    input_len, output_len = _lengths(tokens["input"]), _lengths(tokens["output"])
    context = fact_at(tree, "requirements.sequence_length_tokens")
    limit = min(context, GENERATIVE_TOKENS_LIMITS[1]) if isinstance(context, int) and context >= 2 else (
        GENERATIVE_TOKENS_LIMITS[1])
    if input_len.high + output_len.high > limit:
        # The spread would pass the context: every request gets the mean, cut to fit.
        n_in = min(tokens["input"], limit - 1)
        n_out = max(1, min(tokens["output"], limit - n_in))
        input_len, output_len = LengthDist.fixed(n_in), LengthDist.fixed(n_out)
        note("input_len_dist", "adjusted", f"Prompts and outputs around the design's means would pass the "
                                           f"{limit:,}-token context; every request has {n_in} + {n_out} tokens.")
    max_len = input_len.high + output_len.high
    # Llama's vocabulary from 100 M parameters; below, its embedding would outweigh the layers.
    vocab = _REFERENCE_VOCAB if reference >= 100_000_000 else _QUICK_VOCAB
    shape = DecoderShape.from_params(reference, vocab_size=vocab, max_position=max(64, max_len))
    design_shape = (f"{layers} layers, {kv_heads} KV heads x {head_dim}" if layers and kv_heads and head_dim
                    else "shape unknown")
    if reference != params:
        note("params", "approximation",
             f"The {params:,}-parameter decoder ({design_shape}) is run as a reference decoder of "
             f"{shape.param_count():,} parameters ({shape.layers} layers x {shape.d_model}, {shape.kv_heads} KV heads "
             f"x {shape.head_dim}) that the worker builds: the token times are the reference's on the worker's "
             "device. The lengths, the targets and the KV budget in sequences are the design's.")

    mode = fact_at(tree, "architecture.batching_mode")
    batch = fact_at(tree, "architecture.max_batch_size") if mode in ("continuous", "dynamic", "static") else 1
    batch = batch if isinstance(batch, int) and not isinstance(batch, bool) and batch >= 1 else 1
    kv_room = fact_at(tree, "memory.max_concurrent_sequences")
    max_num_seqs = batch
    if isinstance(kv_room, int) and not isinstance(kv_room, bool):
        if kv_room < 1:
            note("num_blocks", "cannot_run", "Cannot run as designed: the chosen GPU has no room for one "
                                             "sequence's KV cache (memory.max_concurrent_sequences is 0); the "
                                             "benchmark holds one sequence to measure the model anyway.")
            kv_room = 1
        max_num_seqs = min(batch, kv_room)
        source("num_blocks", GENERATIVE_SPEC_SOURCES["num_blocks"])
        if kv_room < batch:
            note("max_num_seqs", "adjusted", f"The KV cache on the chosen GPU holds {kv_room} sequences, fewer "
                                             f"than the max batch size {batch}: the benchmark runs at most {kv_room}.")
    else:
        note("num_blocks", "default", "The KV room on the chosen GPU is not known (no GPU type); the reference "
                                      f"pool holds max batch size ({batch}) sequences.")
    max_num_seqs = min(max_num_seqs, MAX_NUM_SEQS_LIMITS[1])
    source("max_num_seqs", GENERATIVE_SPEC_SOURCES["max_num_seqs"])

    spec: dict[str, Any] = {
        "scenario": "generate-max-qps",
        "shape": _shape_dict(shape),
        "dtype": dtype,
        "device": "auto",
        "input_len_dist": input_len.describe(),
        "output_len_dist": output_len.describe(),
        "requests": GENERATIVE_DEFAULT_REQUESTS,
        "block_size": DEFAULT_BLOCK_SIZE,
        "max_num_seqs": max_num_seqs,
        "num_blocks": _pool_blocks(max_num_seqs, max_len, DEFAULT_BLOCK_SIZE),
        "seed": 0,
    }
    for key, path, what in (("ttft_slo_ms", "requirements.time_to_first_token_ms", "Time to first token"),
                            ("tpot_slo_ms", "requirements.time_per_output_token_ms", "Time per output token")):
        target = finite_number(fact_at(tree, path))
        low, high = GENERATIVE_SLO_MS_LIMITS
        if target is not None and target > 0:
            spec[key] = round(min(max(target, low), high), 3)
            source(key, GENERATIVE_SPEC_SOURCES[key])
        else:
            note(key, "default", f"{what} target is not set; the benchmark scales its SLO to the reference's "
                                 "own measured step time.")
    peak = finite_number(fact_at(tree, "capacity.model_peak_qps"))
    replicas = fact_at(tree, "capacity.replicas_for_load")
    if peak and peak > 0 and isinstance(replicas, int) and replicas >= 1:
        low, high = GENERATIVE_RATE_LIMITS
        spec["rate"] = round(min(max(peak / replicas, low), high), 3)
        source("rate", GENERATIVE_SPEC_SOURCES["rate"])
    else:
        note("rate", "default", "One replica's peak rate is not known; the search starts at half the "
                                "reference's offline rate.")
    # From the entered inputs only, so a design document (no memory.* facts) gives the same key.
    entered = (fact_at(tree, f"requirements.model_{k}") for k in ("layers", "kv_heads", "head_dim"))
    key = f"decoder_llm/{params}/{dtype}/" + "x".join(str(v) if v is not None else "-" for v in entered)
    return spec, key


def _shape_dict(shape: DecoderShape) -> dict[str, Any]:
    d = shape.to_dict()
    d.pop("param_count")
    return d


def quick_variant(spec: Mapping[str, Any]) -> dict[str, Any]:
    """`spec` run in seconds: a QUICK_PARAMS reference, lengths / QUICK_LENGTH_DIVISOR, QUICK_REQUESTS
    requests all at once (offline). The targets and the pool's room in sequences stay the spec's."""
    out = dict(spec)
    dists = {}
    for key in ("input_len_dist", "output_len_dist"):
        d = LengthDist.parse(str(spec.get(key, "uniform:8-64")), field=key)
        low = max(QUICK_MIN_TOKENS, d.low // QUICK_LENGTH_DIVISOR)
        high = max(low, d.high // QUICK_LENGTH_DIVISOR)
        dists[key] = LengthDist.fixed(low) if low == high else LengthDist("uniform", low, high)
        out[key] = dists[key].describe()
    max_len = dists["input_len_dist"].high + dists["output_len_dist"].high
    shape = DecoderShape.from_params(QUICK_PARAMS, vocab_size=_QUICK_VOCAB, max_position=max(64, max_len))
    out.update(scenario="generate-offline", shape=_shape_dict(shape), requests=QUICK_REQUESTS)
    out.pop("params", None)
    out.pop("rate", None)
    block = int(out.get("block_size", DEFAULT_BLOCK_SIZE))
    if "num_blocks" in out:
        out["num_blocks"] = _pool_blocks(int(out.get("max_num_seqs", 64)), max_len, block)
    return out


def check_generative(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a generative spec: known keys, types, limits, one decoder, a pool that holds one
    sequence, a run that ends within MAX_SERVER_RUN_S. Errors by field; never raises."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    from engine.bench.spec_check import _check_number  # the one number check (imports this module)

    for key in data:
        if key not in GENERATIVE_SPEC_KEYS:
            errors[str(key)] = (f"Unknown field {key!r} for a generative run; its fields are "
                                f"{', '.join(GENERATIVE_SPEC_KEYS)}.")

    def put(key: str, value: Any, error: str | None) -> None:
        if error is None:
            clean[key] = value
        else:
            errors[key] = error

    clean["scenario"] = data["scenario"]
    if "device" in data:
        v = data["device"]
        ok = isinstance(v, str) and (v in DEVICES or CUDA_DEVICE.fullmatch(v) is not None)
        put("device", v, None if ok else "Device must be auto, cpu, cuda or cuda:N.")
    if "dtype" in data:
        v = data["dtype"]
        put("dtype", v, None if v in GENERATIVE_DTYPES else f"Dtype must be one of {', '.join(GENERATIVE_DTYPES)}.")
    for key, limits, kind, nullable in (
        ("params", GENERATIVE_PARAMS_LIMITS, int, False),
        ("vocab_size", VOCAB_SIZE_LIMITS, int, False),
        ("threads", THREADS_LIMITS, int, True),
        ("requests", GENERATIVE_REQUESTS_LIMITS, int, False),
        ("rate", GENERATIVE_RATE_LIMITS, float, True),
        ("burstiness", BURSTINESS_LIMITS, float, False),
        ("seed", SEED_LIMITS, int, False),
        ("block_size", BLOCK_SIZE_LIMITS, int, False),
        ("num_blocks", NUM_BLOCKS_LIMITS, int, False),
        ("kv_budget_mb", KV_BUDGET_MB_LIMITS, float, False),
        ("max_num_seqs", MAX_NUM_SEQS_LIMITS, int, False),
        ("max_num_batched_tokens", MAX_NUM_BATCHED_TOKENS_LIMITS, int, False),
        ("ttft_slo_ms", GENERATIVE_SLO_MS_LIMITS, float, True),
        ("tpot_slo_ms", GENERATIVE_SLO_MS_LIMITS, float, True),
        ("static_batch_size", MAX_NUM_SEQS_LIMITS, int, True),
        ("max_drain_s", MAX_DRAIN_S_LIMITS, float, False),
    ):
        if key in data:
            put(key, *_check_number(data[key], limits, kind, nullable))
    for a, b in (("params", "shape"), ("num_blocks", "kv_budget_mb")):
        if data.get(a) is not None and data.get(b) is not None:
            errors[b] = f"Give {a} or {b}, not both."
    shape = None
    if data.get("shape") is not None:
        raw = data["shape"]
        try:
            if not isinstance(raw, Mapping) or any(isinstance(v, bool) for v in raw.values()):
                raise TypeError("must be an object of decoder shape fields")
            shape = DecoderShape(**dict(raw))
        except (TypeError, ValueError) as exc:
            errors["shape"] = f"Invalid decoder shape: {exc}."
        else:
            clean["shape"] = dict(raw)
    dists = {}
    for key in ("input_len_dist", "output_len_dist"):
        raw = data.get(key, "uniform:8-64")
        try:
            if not isinstance(raw, str):
                raise ValueError(f"{key}: must be text such as uniform:8-64")
            dists[key] = LengthDist.parse(raw, field=key)
        except ValueError as exc:
            errors[key] = f"{str(exc)[0].upper()}{str(exc)[1:]}."
        else:
            if key in data:
                clean[key] = raw
    if len(dists) == 2:
        max_len = dists["input_len_dist"].high + dists["output_len_dist"].high
        position = shape.max_position if shape is not None else 4096  # DecoderShape.from_params' default
        if max_len > min(position, GENERATIVE_TOKENS_LIMITS[1]):
            errors["output_len_dist"] = (f"The longest prompt + output is {max_len:,} tokens; the decoder holds "
                                         f"{min(position, GENERATIVE_TOKENS_LIMITS[1]):,}.")
        blocks, block = clean.get("num_blocks"), clean.get("block_size", DEFAULT_BLOCK_SIZE)
        if blocks is not None and blocks * block < max_len:
            errors["num_blocks"] = (f"{blocks} blocks of {block} tokens hold {blocks * block:,} tokens, less than "
                                    f"one sequence ({max_len:,}): no request could finish.")
    if data["scenario"] == "generate-server" and clean.get("rate") is None and "rate" not in errors:
        errors["rate"] = "The server scenario needs rate (requests/s)."
    rate, requests = clean.get("rate"), clean.get("requests", GENERATIVE_DEFAULT_REQUESTS)
    if rate and "requests" not in errors and requests / rate > MAX_SERVER_RUN_S:
        errors["rate"] = (f"At {rate:g} requests/s, {requests} requests take {requests / rate / 60:.0f} minutes; a "
                          f"run may last {MAX_SERVER_RUN_S / 60:g}. Raise the rate or lower requests.")
        clean.pop("rate", None)
    return clean, errors
