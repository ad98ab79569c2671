"""Accelerator memory of one replica: the weights, the KV cache for the concurrency asked, and what fits.

The model (the numbers are `memory.*` facts):

* Usable memory = GPUs per replica x memory per GPU x 0.90 (MEMORY_USABLE_FRACTION: the rest is
  the CUDA context, the allocator's fragmentation and the runtime, as vLLM's default
  `gpu_memory_utilization` leaves). Tensor parallelism splits the weights and the KV cache over the
  replica's GPUs, so their memory adds up.
* Weights = parameters x bytes per parameter of the serving precision (fp32 4, bf16/fp16 2,
  fp8/int8 1, int4 0.5). Overhead = 0.5 GB per GPU (ACTIVATION_OVERHEAD_GB_PER_GPU) for the
  activations and workspaces of one forward pass.
* Generative models keep a KV cache. Per-token KV bytes = 2 (keys and values) x layers x KV heads
  x head dimension x bytes per KV element (the serving precision: fp32 4, bf16/fp16 2, fp8 and
  int8 1; int4 is weight-only, so its KV cache stays 16-bit, 2). A sequence holds its input and
  output tokens (at most the context length; the context length when the token counts are blank).
* The shape (layers, KV heads, head dimension) is entered; a blank one is assumed from the
  parameter count with the Llama 3 layout: grouped-query attention with 8 KV heads, head dimension
  128 (64 below 2 B parameters), and layers interpolated in log(parameters) between Llama 3's
  sizes (1.2 B: 16, 3.2 B: 28, 8 B: 32, 70 B: 80, 405 B: 126 layers). The notes say which were
  assumed. A model with full multi-head attention (Llama 2 7B: 32 KV heads) needs 4 x the KV
  cache of that assumption, so enter its KV heads.
* KV room = usable memory - weights - overhead. The most concurrent sequences a replica holds is
  floor(KV room / KV bytes per sequence); the concurrency asked is the max batch size (1 without
  batching). The design fits when weights + KV for the concurrency asked + overhead <= usable
  memory; it runs at all only when one sequence fits (for a model without a KV cache: when the
  weights and overhead fit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.planning.common import Note, fact, finite, notes_field

MEMORY_USABLE_FRACTION = 0.90
ACTIVATION_OVERHEAD_GB_PER_GPU = 0.5
BYTES_PER_PARAM = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
KV_BYTES_PER_ELEMENT = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 2.0}
# Llama 3.x: (parameters in billions, layers); all use 8 KV heads.
LLAMA3_LAYERS = ((1.2, 16), (3.2, 28), (8.0, 32), (70.0, 80), (405.0, 126))
ASSUMED_KV_HEADS = 8
SMALL_MODEL_BILLIONS = 2.0


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    usable_gb: float | None = fact("GB", "GPUs per replica x memory per GPU x 0.90: what one replica may fill.",
                                   default=None)
    bytes_per_param: float | None = fact("bytes", "Bytes per parameter of the serving precision (fp32 4, "
                                                  "bf16/fp16 2, fp8/int8 1, int4 0.5).", default=None)
    weights_gb: float | None = fact("GB", "Weights in the serving precision: parameters x bytes per parameter.",
                                    default=None)
    overhead_gb: float | None = fact("GB", "Activations and workspaces: 0.5 GB per GPU of the replica.",
                                     default=None)
    layers: int | None = fact("layers", "Transformer layers (entered, else assumed from the parameter count).",
                              default=None)
    kv_heads: int | None = fact("heads", "Key-value heads (entered, else assumed: 8, grouped-query attention).",
                                default=None)
    head_dim: int | None = fact(None, "Dimension of one attention head (entered, else assumed: 128, 64 below "
                                      "2 B parameters).", default=None)
    shape_assumed: bool | None = fact(None, "True when any of layers, KV heads or head dimension was assumed "
                                            "from the parameter count.", default=None)
    kv_bytes_per_element: float | None = fact("bytes", "Bytes per KV-cache element: the serving precision's "
                                                       "(int4 is weight-only: 2).", default=None)
    kv_bytes_per_token: float | None = fact("bytes", "2 x layers x KV heads x head dimension x bytes per KV "
                                                     "element: the KV cache one token holds.", default=None)
    tokens_per_sequence: float | None = fact("tokens", "Input + output tokens one sequence holds at its end (at "
                                                       "most the context length).", default=None)
    kv_gb_per_sequence: float | None = fact("GB", "KV bytes per token x tokens per sequence.", default=None)
    kv_room_gb: float | None = fact("GB", "Usable memory - weights - overhead: what is left for the KV cache.",
                                    default=None)
    concurrency_asked: int | None = fact("sequences", "Sequences the design runs at once per replica: the max "
                                                      "batch size (1 without batching).", default=None)
    kv_cache_gb: float | None = fact("GB", "KV cache for the concurrency asked: concurrency x KV per sequence.",
                                     default=None)
    required_gb: float | None = fact("GB", "Weights + KV cache for the concurrency asked + overhead.",
                                     default=None)
    max_concurrent_sequences: int | None = fact("sequences", "floor(KV room / KV per sequence): the most "
                                                             "sequences one replica holds at once.", default=None)
    fits: bool | None = fact(None, "Required memory <= usable memory: the concurrency asked fits.", default=None)
    runs: bool | None = fact(None, "The weights, the overhead and (generative) one sequence fit: the model can "
                                   "run at all.", default=None)
    notes: tuple[Note, ...] = notes_field()


def default_shape(params_billions: float) -> tuple[int, int, int]:
    """(layers, KV heads, head dimension) assumed for a decoder of this size (module docstring)."""
    p = max(params_billions, 1e-3)
    points = LLAMA3_LAYERS
    if p <= points[0][0]:
        layers = points[0][1] * (p / points[0][0]) ** (1 / 3)
    elif p >= points[-1][0]:
        layers = points[-1][1] * (p / points[-1][0]) ** (1 / 3)
    else:
        for (p0, l0), (p1, l1) in zip(points, points[1:]):
            if p0 <= p <= p1:
                t = (math.log(p) - math.log(p0)) / (math.log(p1) - math.log(p0))
                layers = l0 + t * (l1 - l0)
                break
    head_dim = 64 if p < SMALL_MODEL_BILLIONS else 128
    return max(int(round(layers)), 1), ASSUMED_KV_HEADS, head_dim


def plan_memory(
    *,
    gpu_memory_gb: float | None,
    params_billions: float | None,
    dtype: str = "bf16",
    gpus_per_replica: int = 1,
    generative: bool = False,
    layers: int | None = None,
    kv_heads: int | None = None,
    head_dim: int | None = None,
    context_length_tokens: float | None = None,
    input_tokens: float | None = None,
    output_tokens: float | None = None,
    concurrency: int | None = 1,
) -> MemoryPlan:
    """One replica's memory (module docstring). Unknown GPU or size: an empty plan."""
    params, memory = finite(params_billions), finite(gpu_memory_gb)
    if params is None or params <= 0 or memory is None or memory <= 0:
        return MemoryPlan()
    g = max(int(gpus_per_replica or 1), 1)
    dtype = dtype if dtype in BYTES_PER_PARAM else "bf16"
    usable = memory * g * MEMORY_USABLE_FRACTION
    weights = params * BYTES_PER_PARAM[dtype]
    overhead = ACTIVATION_OVERHEAD_GB_PER_GPU * g
    room = usable - weights - overhead
    notes: list[Note] = []
    if not generative:
        runs = room >= 0
        return MemoryPlan(usable_gb=usable, bytes_per_param=BYTES_PER_PARAM[dtype], weights_gb=weights,
                          overhead_gb=overhead, kv_room_gb=room, required_gb=weights + overhead, fits=runs,
                          runs=runs)

    assumed_layers, assumed_heads, assumed_dim = default_shape(params)
    entered = {"layers": _positive_int(layers), "KV heads": _positive_int(kv_heads),
               "head dimension": _positive_int(head_dim)}
    shape = {"layers": entered["layers"] or assumed_layers, "KV heads": entered["KV heads"] or assumed_heads,
             "head dimension": entered["head dimension"] or assumed_dim}
    assumed = [name for name, value in entered.items() if value is None]
    if assumed:
        notes.append(Note("memory.kv_bytes_per_token",
                          f"The KV cache assumes a Llama 3 layout for {params:g} B parameters: "
                          + ", ".join(f"{shape[name]} {name}" for name in assumed)
                          + " (not entered); a model with more KV heads needs a larger cache.", "info"))
    kv_per_token = 2.0 * shape["layers"] * shape["KV heads"] * shape["head dimension"] * KV_BYTES_PER_ELEMENT[dtype]
    context = finite(context_length_tokens)
    tokens_in, tokens_out = max(finite(input_tokens) or 0.0, 0.0), max(finite(output_tokens) or 0.0, 0.0)
    tokens = tokens_in + tokens_out
    if tokens <= 0:
        tokens = context or 0.0
    elif context is not None and tokens > context:
        notes.append(Note("requirements.sequence_length_tokens",
                          f"Input + output tokens ({tokens:g}) exceed the context length ({context:g}): requests "
                          "would be cut; the KV cache is sized for the context length.", "warning"))
        tokens = context
    asked = max(int(concurrency or 1), 1)
    per_sequence = kv_per_token * tokens / 1e9
    max_sequences = int(math.floor(room / per_sequence + 1e-9)) if per_sequence > 0 and room > 0 else (
        None if per_sequence <= 0 else 0)
    kv_cache = asked * per_sequence
    required = weights + overhead + kv_cache
    runs = room >= 0 and (max_sequences is None or max_sequences >= 1)
    return MemoryPlan(
        usable_gb=usable, bytes_per_param=BYTES_PER_PARAM[dtype], weights_gb=weights, overhead_gb=overhead,
        layers=shape["layers"], kv_heads=shape["KV heads"], head_dim=shape["head dimension"],
        shape_assumed=bool(assumed), kv_bytes_per_element=KV_BYTES_PER_ELEMENT[dtype],
        kv_bytes_per_token=kv_per_token, tokens_per_sequence=tokens or None,
        kv_gb_per_sequence=per_sequence if tokens else None, kv_room_gb=room, concurrency_asked=asked,
        kv_cache_gb=kv_cache if tokens else None, required_gb=required, max_concurrent_sequences=max_sequences,
        fits=required <= usable + 1e-9, runs=runs, notes=tuple(notes),
    )


def _positive_int(value: object) -> int | None:
    number = finite(value)
    return int(number) if number is not None and number >= 1 else None
