"""An estimate of one replica's throughput, from the model's shape and the GPU's figures.

This is a roofline estimate, labelled as such everywhere it is shown; a benchmark's measured
throughput replaces it. The memory side (weights, KV cache, what fits) is in "Accelerator memory"
above; the estimate reads it. The model:

* A forward pass over n tokens costs 2 x parameters x n FLOPs. It runs at
  g x peak tensor FLOP/s x 0.40 (COMPUTE_EFFICIENCY, typical serving utilisation of the peak)
  x the tensor-parallel efficiency. Peak is `bf16_tflops` for 16-bit, `fp8_tflops` for fp8,
  `int8_tops` for int8, half of `bf16_tflops` for fp32; int4 is weight-only, so it computes at
  16-bit speed.
* Memory reads run at g x memory bandwidth x 0.60 (BANDWIDTH_EFFICIENCY) x the tensor-parallel
  efficiency. Tensor-parallel efficiency is 1 on one GPU and 0.90 (TENSOR_PARALLEL_EFFICIENCY) on
  more: the assumption is that each layer's all-reduce over NVLink costs about a tenth of the step.
  Pipeline parallelism and GPUs without NVLink are not modelled.
* Generative (continuous batching, chunked prefill): a replica runs B sequences at once, B at most
  the max batch size and at most `memory.max_concurrent_sequences` (the KV cache caps the batch).
  One decode step reads the weights once and the KV cache of all B sequences (each holds on average
  its input + half its output tokens) and computes B output tokens plus the prefill chunks of the
  prompts that join, B x input / output tokens a step (chunked prefill overlaps decode, so prefill
  adds compute to the steps, not separate passes):
  TPOT(B) = max((weights + B x KV bytes per token x (input + output / 2)) / read rate,
  2 x params x B x (1 + input / output) / compute rate).
  The prompt's own prefill takes t_prefill = max(weights / read rate, 2 x params x input / compute
  rate) (input after the prompt cache), so TTFT(B) = t_prefill + TPOT(B) and the per-request
  latency(B) = TTFT(B) + (output - 1) x TPOT(B): TTFT, TPOT and latency come from one model.
  Throughput = B / latency(B) requests per second (Little's law), output tokens/s = that x output.
* Non-generative (classify, embed, rank, score): one batched forward pass of B requests over n
  tokens (input tokens, else the sequence length, else 1) takes
  t(B) = max(weights read time, B x 2 x params x n / compute rate) + 1 ms (FORWARD_OVERHEAD_MS);
  latency(B) = t(B), throughput = B / t(B).
* The batch is the largest B up to those caps whose latency stays within the inference budget (P99
  minus network, processing and queueing) and, for generative designs, whose TTFT and TPOT stay
  within their targets (a target that even B = 1 misses holds the batch at 1, the closest the
  replica gets to it; its rule reports the miss).
* **Cannot run as designed**: when the weights, the overhead and one sequence's KV cache do not fit
  in the replica, or when even B = 1 misses the inference budget, there is no per-replica
  throughput, so no replicas, cost or manifests; the plan says why, once.

Not modelled: attention FLOPs beyond 2 x params per token (a few % at 2k context for an 8 B model),
prefix sharing of the KV cache, speculative decoding, CPU-bound pre-processing, latency variance
(the utilisation target leaves headroom for it). How the estimate compares with published figures is
in docs/planning-calibration.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from engine.planning.common import Note, fact, finite, notes_field
from engine.planning.memory import BYTES_PER_PARAM, MEMORY_USABLE_FRACTION, MemoryPlan, plan_memory

COMPUTE_EFFICIENCY = 0.40
BANDWIDTH_EFFICIENCY = 0.60
TENSOR_PARALLEL_EFFICIENCY = 0.90
FORWARD_OVERHEAD_MS = 1.0
MAX_SEARCH_BATCH = 4096
CANNOT_RUN = "Cannot run as designed"

__all__ = ["BYTES_PER_PARAM", "CANNOT_RUN", "MEMORY_USABLE_FRACTION", "ThroughputEstimate", "estimate_throughput",
           "serving_dtype", "tensor_parallel_efficiency"]


@dataclass(frozen=True, slots=True)
class ThroughputEstimate:
    available: bool = fact(None, "True when the model shape and GPU were known well enough to estimate.",
                           default=False)
    per_replica_qps: float | None = fact("req/s", "Estimated requests per second one replica serves within the "
                                                  "inference budget (roofline estimate); None when the design "
                                                  "cannot run.", default=None)
    batch_size: int | None = fact("requests", "Batch size the estimate runs at (sequences in flight for "
                                              "generative models).", default=None)
    latency_ms: float | None = fact("ms", "Estimated model time per request at that batch size (generative: "
                                          "TTFT + (output tokens - 1) x TPOT).", default=None)
    time_to_first_token_ms: float | None = fact("ms", "Generative: estimated prefill of the prompt + one decode "
                                                      "step at that batch.", default=None)
    time_per_output_token_ms: float | None = fact("ms", "Generative: estimated decode step time at that batch "
                                                        "(weights and the batch's KV cache read, prefill chunks "
                                                        "computed).", default=None)
    prefill_ms: float | None = fact("ms", "Generative: the prompt's own prefill, max(weights read, 2 x params x "
                                          "input tokens after the prompt cache / compute rate).", default=None)
    read_gb_per_s: float | None = fact("GB/s", "Memory read rate the estimate uses: GPUs x bandwidth x 0.60 x "
                                               "tensor-parallel efficiency.", default=None)
    compute_tflops: float | None = fact("TFLOP/s", "Compute rate the estimate uses: GPUs x peak x 0.40 x "
                                                   "tensor-parallel efficiency.", default=None)
    output_tokens_per_s: float | None = fact("tokens/s", "Generative: per-replica QPS x output tokens per "
                                                         "request.", default=None)
    bound: str | None = fact(None, "'memory' (weight and KV reads) or 'compute' (FLOPs) bound at that batch "
                                   "size.", default=None)
    kv_capped: bool | None = fact(None, "Generative: True when the KV cache, not the max batch size or the "
                                        "budget, limits the batch.", default=None)
    tensor_parallel_efficiency: float | None = fact("x", "Share of g x one GPU's bandwidth and FLOP/s a "
                                                         "g-GPU replica gets: 1 on one GPU, 0.90 on more.",
                                                    default=None)
    serving_dtype: str | None = fact(None, "Precision the weights are served in (quantization, else model "
                                           "precision).", default=None)
    weights_gb: float | None = fact("GB", "Weights in the serving precision.", default=None)
    replica_memory_gb: float | None = fact("GB", "Accelerator memory of one replica (GPUs per replica x "
                                                 "memory).", default=None)
    fits_in_memory: bool | None = fact(None, "The weights, the overhead and (generative) one sequence's KV "
                                             "cache fit in 90 % of one replica's memory (memory.runs).",
                                       default=None)
    meets_budget: bool | None = fact(None, "Estimated latency at batch 1 is within the inference budget (None "
                                           "when the model does not fit).", default=None)
    feasible: bool | None = fact(None, "False when the design cannot run as designed: the model does not fit, "
                                       "or even batch 1 misses the inference budget.", default=None)
    infeasible_reason: str | None = fact(None, "Why the design cannot run as designed (None when it can).",
                                         default=None)
    memory: MemoryPlan = field(default=MemoryPlan(), metadata={"tree": False})  # the `memory` facts section
    notes: tuple[Note, ...] = notes_field()


def serving_dtype(model_dtype: str | None, quantization: str | None) -> str:
    if quantization and quantization != "none":
        return quantization
    return model_dtype or "bf16"


def tensor_parallel_efficiency(gpus_per_replica: int) -> float:
    """Share of the GPUs' summed bandwidth and FLOP/s a tensor-parallel replica gets (module docstring)."""
    return 1.0 if gpus_per_replica <= 1 else TENSOR_PARALLEL_EFFICIENCY


def estimate_throughput(
    *,
    gpu: Mapping[str, Any] | None,
    params_billions: float | None,
    dtype: str = "bf16",
    gpus_per_replica: int = 1,
    generative: bool = False,
    input_tokens: float | None = None,
    output_tokens: float | None = None,
    sequence_length: float | None = None,
    max_batch_size: int | None = 1,
    inference_budget_ms: float | None = None,
    prompt_cache_hit_rate_pct: float | None = 0.0,
    layers: int | None = None,
    kv_heads: int | None = None,
    head_dim: int | None = None,
    ttft_target_ms: float | None = None,
    tpot_target_ms: float | None = None,
) -> ThroughputEstimate:
    """Estimate one replica's throughput (see the module docstring for the model).

    `gpu` is one catalog entry (`catalog["gpus"][key]`). `input_tokens` is the whole prompt: the
    KV cache holds it all, and `prompt_cache_hit_rate_pct` shortens only its prefill.
    `sequence_length` is the context length (generative) or the tokens per request when input
    tokens are blank (others). The TTFT and TPOT targets limit a generative batch.
    """
    params = finite(params_billions)
    if gpu is None or params is None or params <= 0:
        missing = "the accelerator" if gpu is None else "the parameter count"
        return ThroughputEstimate(notes=(Note("capacity.estimate.per_replica_qps",
                                              f"No throughput estimate: {missing} is not set.", "info"),))
    if generative and not (finite(output_tokens) or 0) > 0:
        return ThroughputEstimate(notes=(Note("capacity.estimate.per_replica_qps",
                                              "No throughput estimate: output tokens per request are not set.",
                                              "info"),))
    g = max(int(gpus_per_replica or 1), 1)
    dtype = dtype if dtype in BYTES_PER_PARAM else "bf16"
    max_batch = min(max(int(max_batch_size or 1), 1), MAX_SEARCH_BATCH)
    memory = plan_memory(gpu_memory_gb=float(gpu["memory_gb"]), params_billions=params, dtype=dtype,
                         gpus_per_replica=g, generative=generative, layers=layers, kv_heads=kv_heads,
                         head_dim=head_dim, context_length_tokens=sequence_length, input_tokens=input_tokens,
                         output_tokens=output_tokens, concurrency=max_batch)
    notes: list[Note] = list(memory.notes)
    tp = tensor_parallel_efficiency(g)
    common = {"available": True, "serving_dtype": dtype, "weights_gb": memory.weights_gb,
              "replica_memory_gb": float(gpu["memory_gb"]) * g, "fits_in_memory": memory.runs,
              "tensor_parallel_efficiency": tp, "memory": memory}
    if not memory.runs:
        reason = _does_not_fit(memory, dtype, generative)
        notes.append(Note("capacity.estimate.feasible", f"{CANNOT_RUN}: {reason}", "error"))
        return ThroughputEstimate(**common, feasible=False, infeasible_reason=reason, notes=tuple(notes))

    param_count = params * 1e9
    flops_per_s = _peak_flops(gpu, dtype) * 1e12 * g * COMPUTE_EFFICIENCY * tp
    read_bytes_per_ms = float(gpu["memory_bandwidth_gb_s"]) * 1e9 * g * BANDWIDTH_EFFICIENCY * tp / 1e3
    weights_bytes = param_count * BYTES_PER_PARAM[dtype]
    weight_read_ms = weights_bytes / read_bytes_per_ms
    budget = finite(inference_budget_ms)
    cap = max_batch
    kv_capped = None
    ttft: Callable[[int], float] | None = None
    tpot: Callable[[int], float] | None = None

    if generative:
        tokens_in = max(finite(input_tokens) or 0.0, 0.0)
        tokens_out = float(output_tokens)
        hit = min(max(finite(prompt_cache_hit_rate_pct) or 0.0, 0.0), 100.0) / 100.0
        prefill_tokens = tokens_in * (1.0 - hit)
        kv_per_token = memory.kv_bytes_per_token or 0.0
        context = tokens_in + tokens_out / 2.0
        seq_cap = memory.tokens_per_sequence or 0.0
        context = min(context, seq_cap) if seq_cap else context
        if memory.max_concurrent_sequences is not None and memory.max_concurrent_sequences < cap:
            cap = max(memory.max_concurrent_sequences, 1)
            kv_capped = True
        else:
            kv_capped = False
        prefill_ms = max(weight_read_ms, 2.0 * param_count * prefill_tokens / flops_per_s * 1e3)

        def memory_ms(b: int) -> float:
            return (weights_bytes + b * kv_per_token * context) / read_bytes_per_ms

        def compute_ms(b: int) -> float:
            return 2.0 * param_count * b * (1.0 + prefill_tokens / tokens_out) / flops_per_s * 1e3

        def step_ms(b: int) -> float:
            return max(memory_ms(b), compute_ms(b))

        def first_token_ms(b: int) -> float:
            return prefill_ms + step_ms(b)

        def latency(b: int) -> float:
            return first_token_ms(b) + (tokens_out - 1.0) * step_ms(b)

        ttft, tpot = first_token_ms, step_ms
    else:
        tokens = finite(input_tokens) or finite(sequence_length) or 1.0
        flops_per_request = 2.0 * param_count * max(tokens, 1.0)

        def memory_ms(b: int) -> float:
            return weight_read_ms

        def compute_ms(b: int) -> float:
            return b * flops_per_request / flops_per_s * 1e3

        def step_ms(b: int) -> float:
            return max(memory_ms(b), compute_ms(b))

        def latency(b: int) -> float:
            return step_ms(b) + FORWARD_OVERHEAD_MS

    limits: list[tuple[Callable[[int], float], float]] = []
    if budget is not None:
        limits.append((latency, budget))
    for function, target in ((ttft, finite(ttft_target_ms)), (tpot, finite(tpot_target_ms))):
        if function is not None and target is not None:
            limits.append((function, target))
    batch = _largest_batch(lambda b: all(f(b) <= limit for f, limit in limits), cap)  # 1 when none holds
    meets = None if budget is None else latency(1) <= budget
    if kv_capped and batch < cap:
        kv_capped = False  # the budget or a target stops the batch first
    if memory.fits is False:
        plural = "s" if memory.max_concurrent_sequences != 1 else ""
        then = ("the batch is capped there" if kv_capped else
                f"the budget keeps the batch at {batch}, but a server admitting {max_batch} would preempt")
        notes.append(Note("memory.max_concurrent_sequences",
                          f"The KV cache holds {memory.max_concurrent_sequences} sequence{plural} of "
                          f"{memory.tokens_per_sequence:,.0f} tokens ({memory.kv_room_gb:.1f} GB left after the "
                          f"weights), not the {max_batch} asked (max batch size): {then}. More GPUs per replica, "
                          "a larger GPU, fp8 weights and KV cache, or shorter sequences give it room.", "error"))
    request_ms = latency(batch)
    bound = "memory" if compute_ms(batch) <= memory_ms(batch) else "compute"
    first = ttft(batch) if ttft is not None else None
    step = tpot(batch) if tpot is not None else None
    estimate = {**common, "read_gb_per_s": read_bytes_per_ms / 1e6, "compute_tflops": flops_per_s / 1e12,
                "prefill_ms": prefill_ms if generative else None, "batch_size": batch, "latency_ms": request_ms,
                "time_to_first_token_ms": first, "time_per_output_token_ms": step, "bound": bound,
                "kv_capped": kv_capped, "meets_budget": meets}
    if meets is False:
        reason = (f"even one request at a time takes an estimated {latency(1):,.0f} ms of model time, more than "
                  f"the {budget:,.0f} ms inference budget; a faster GPU, more GPUs per replica, quantization, "
                  "fewer output tokens or a smaller model is needed.")
        notes.append(Note("capacity.estimate.feasible", f"{CANNOT_RUN}: {reason}", "error"))
        return ThroughputEstimate(**estimate, feasible=False, infeasible_reason=reason, notes=tuple(notes))
    qps = batch / request_ms * 1e3
    return ThroughputEstimate(
        **estimate,
        per_replica_qps=qps,
        output_tokens_per_s=qps * float(output_tokens) if generative else None,
        feasible=True,
        notes=tuple(notes),
    )


def _does_not_fit(memory: MemoryPlan, dtype: str, generative: bool) -> str:
    replica_gb = memory.usable_gb / MEMORY_USABLE_FRACTION
    usable = f"{memory.usable_gb:.1f} GB usable in one replica (90 % of {replica_gb:g} GB)"
    if memory.weights_gb + memory.overhead_gb > memory.usable_gb or not generative:
        return (f"the weights ({memory.weights_gb:.1f} GB in {dtype}) and overhead ({memory.overhead_gb:g} GB) do "
                f"not fit in the {usable}; use more GPUs per replica, a larger GPU or quantization.")
    return (f"after the weights ({memory.weights_gb:.1f} GB in {dtype}) only {memory.kv_room_gb:.1f} GB of the "
            f"{usable} is left, less than one sequence's KV cache ({memory.kv_gb_per_sequence:.2f} GB for "
            f"{memory.tokens_per_sequence:,.0f} tokens); use more GPUs per replica, a larger GPU, quantization "
            "or shorter sequences.")


def _peak_flops(gpu: Mapping[str, Any], dtype: str) -> float:
    bf16 = float(gpu["bf16_tflops"])
    if dtype == "fp32":
        return bf16 / 2.0
    if dtype == "fp8":
        return float(gpu.get("fp8_tflops") or bf16)
    if dtype == "int8":
        return float(gpu.get("int8_tops") or bf16)
    return bf16  # bf16, fp16, and int4 (weight-only: computes in 16 bit)


def _largest_batch(ok: Callable[[int], bool], max_batch: int) -> int:
    """Largest batch in [1, max_batch] that is ok (ok holds up to some batch, then fails); 1 when none is."""
    if ok(max_batch):
        return max_batch
    if not ok(1):
        return 1
    lo, hi = 1, max_batch  # ok(lo), not ok(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo
