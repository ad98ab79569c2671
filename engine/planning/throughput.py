"""An estimate of one replica's throughput, from the model's shape and the GPU's figures.

This is a roofline estimate, labelled as such everywhere it is shown; a benchmark's measured
`max_qps_at_p99` replaces it. The model:

* Weights: W = parameters x bytes per parameter of the serving precision (fp32 4, bf16/fp16 2,
  fp8/int8 1, int4 0.5). A replica of g GPUs has g x memory; weights must fit in 90 % of it.
* A forward pass over n tokens costs 2 x parameters x n FLOPs. It runs at
  g x peak tensor FLOP/s x 0.40 (COMPUTE_EFFICIENCY, typical serving utilisation of the peak).
  Peak is `bf16_tflops` for 16-bit, `fp8_tflops` for fp8, `int8_tops` for int8, half of
  `bf16_tflops` for fp32; int4 is weight-only, so it computes at 16-bit speed.
* Reading the weights once takes W / (g x memory bandwidth x 0.60) (BANDWIDTH_EFFICIENCY).
* Generative (decode): one decode step of a batch of B sequences takes
  t_step(B) = max(weights read time, 2 x params x B / compute rate); the prefill of one request
  takes t_prefill = 2 x params x input tokens / compute rate (input tokens after the prompt cache).
  With continuous batching a request shares the GPU with B others for its whole life, so
  latency(B) = B x t_prefill + output tokens x t_step(B) and throughput = B / latency(B).
* Non-generative (classify, embed, rank, score): one batched forward pass of B requests over n
  tokens (input tokens, else the sequence length, else 1) takes
  t(B) = max(weights read time, B x 2 x params x n / compute rate) + 1 ms (FORWARD_OVERHEAD_MS);
  latency(B) = t(B), throughput = B / t(B).
* The batch is the largest B up to the max batch size (1 without batching) whose latency stays
  within the inference budget (P99 minus network, processing and queueing); if even B = 1 misses
  it, B = 1 and the estimate says it misses.

Not modelled: KV-cache capacity limits on the batch, attention FLOPs beyond 2 x params per token,
communication between GPUs of a replica, CPU-bound pre-processing, latency variance (the
utilisation target leaves headroom for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from engine.planning.common import Note, fact, finite, notes_field

COMPUTE_EFFICIENCY = 0.40
BANDWIDTH_EFFICIENCY = 0.60
FORWARD_OVERHEAD_MS = 1.0
MEMORY_USABLE_FRACTION = 0.90
KV_HEADROOM_FRACTION = 0.80
MAX_SEARCH_BATCH = 4096
BYTES_PER_PARAM = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}


@dataclass(frozen=True, slots=True)
class ThroughputEstimate:
    available: bool = fact(None, "True when the model shape and GPU were known well enough to estimate.")
    per_replica_qps: float | None = fact("req/s", "Estimated requests per second one replica serves within the "
                                                  "inference budget (roofline estimate).")
    batch_size: int | None = fact("requests", "Batch size the estimate runs at.")
    latency_ms: float | None = fact("ms", "Estimated model time per request at that batch size.")
    time_to_first_token_ms: float | None = fact("ms", "Generative: estimated prefill + one decode step.")
    time_per_output_token_ms: float | None = fact("ms", "Generative: estimated decode step time at that batch.")
    bound: str | None = fact(None, "'memory' (weight reads) or 'compute' (FLOPs) bound at that batch size.")
    serving_dtype: str | None = fact(None, "Precision the weights are served in (quantization, else model "
                                           "precision).")
    weights_gb: float | None = fact("GB", "Weights in the serving precision.")
    replica_memory_gb: float | None = fact("GB", "Accelerator memory of one replica (GPUs per replica x memory).")
    fits_in_memory: bool | None = fact(None, "Weights fit in 90 % of one replica's memory.")
    meets_budget: bool | None = fact(None, "Estimated latency at batch 1 is within the inference budget.")
    notes: tuple[Note, ...] = notes_field()


def serving_dtype(model_dtype: str | None, quantization: str | None) -> str:
    if quantization and quantization != "none":
        return quantization
    return model_dtype or "bf16"


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
) -> ThroughputEstimate:
    """Estimate one replica's throughput (see the module docstring for the model).

    `gpu` is one catalog entry (`catalog["gpus"][key]`); `input_tokens` should already be
    reduced by the prompt-cache hit rate.
    """
    params = finite(params_billions)
    if gpu is None or params is None or params <= 0:
        missing = "the accelerator" if gpu is None else "the parameter count"
        return ThroughputEstimate(False, *([None] * 11),
                                  notes=(Note("capacity.estimate.per_replica_qps",
                                              f"No throughput estimate: {missing} is not set.", "info"),))
    if generative and not (finite(output_tokens) or 0) > 0:
        return ThroughputEstimate(False, *([None] * 11),
                                  notes=(Note("capacity.estimate.per_replica_qps",
                                              "No throughput estimate: output tokens per request are not set.",
                                              "info"),))
    notes: list[Note] = []
    g = max(int(gpus_per_replica or 1), 1)
    dtype = dtype if dtype in BYTES_PER_PARAM else "bf16"
    param_count = params * 1e9
    weights_bytes = param_count * BYTES_PER_PARAM[dtype]
    memory_gb = float(gpu["memory_gb"]) * g
    weights_gb = weights_bytes / 1e9
    fits = weights_gb <= memory_gb * MEMORY_USABLE_FRACTION
    if not fits:
        notes.append(Note("capacity.estimate.fits_in_memory",
                          f"The weights ({weights_gb:.1f} GB in {dtype}) do not fit in one replica's "
                          f"{memory_gb:g} GB: use more GPUs per replica, a larger GPU or quantization.", "error"))
    elif generative and weights_gb > memory_gb * KV_HEADROOM_FRACTION:
        notes.append(Note("capacity.estimate.fits_in_memory",
                          f"The weights take {weights_gb / memory_gb:.0%} of replica memory: little is left for "
                          "the KV cache, so batches will be small.", "warning"))

    flops_per_s = _peak_flops(gpu, dtype) * 1e12 * g * COMPUTE_EFFICIENCY
    weight_read_ms = weights_bytes / (float(gpu["memory_bandwidth_gb_s"]) * 1e9 * g * BANDWIDTH_EFFICIENCY) * 1e3
    budget = finite(inference_budget_ms)
    max_batch = max(int(max_batch_size or 1), 1)

    if generative:
        tokens_in = max(finite(input_tokens) or 0.0, 0.0)
        tokens_out = float(output_tokens)
        prefill_ms = 2.0 * param_count * tokens_in / flops_per_s * 1e3

        def step_ms(b: int) -> float:
            return max(weight_read_ms, 2.0 * param_count * b / flops_per_s * 1e3)

        def latency(b: int) -> float:
            return b * prefill_ms + tokens_out * step_ms(b)
    else:
        tokens = finite(input_tokens) or finite(sequence_length) or 1.0
        flops_per_request = 2.0 * param_count * max(tokens, 1.0)

        def step_ms(b: int) -> float:
            return max(weight_read_ms, b * flops_per_request / flops_per_s * 1e3)

        def latency(b: int) -> float:
            return step_ms(b) + FORWARD_OVERHEAD_MS

    batch = _largest_batch(latency, min(max_batch, MAX_SEARCH_BATCH), budget)
    meets = None if budget is None else latency(1) <= budget
    if meets is False:
        notes.append(Note("capacity.estimate.latency_ms",
                          f"Estimated model time at batch 1 ({latency(1):.0f} ms) exceeds the inference budget "
                          f"({budget:.0f} ms): a faster GPU, more GPUs per replica, quantization or a smaller "
                          "model is needed.", "warning"))
    request_ms = latency(batch)
    bound = "memory" if step_ms(batch) <= weight_read_ms else "compute"
    ttft = tpot = None
    if generative:
        tpot = step_ms(batch)
        ttft = prefill_ms + tpot
    return ThroughputEstimate(
        available=True,
        per_replica_qps=batch / request_ms * 1e3,
        batch_size=batch,
        latency_ms=request_ms,
        time_to_first_token_ms=ttft,
        time_per_output_token_ms=tpot,
        bound=bound,
        serving_dtype=dtype,
        weights_gb=weights_gb,
        replica_memory_gb=memory_gb,
        fits_in_memory=fits,
        meets_budget=meets,
        notes=tuple(notes),
    )


def _peak_flops(gpu: Mapping[str, Any], dtype: str) -> float:
    bf16 = float(gpu["bf16_tflops"])
    if dtype == "fp32":
        return bf16 / 2.0
    if dtype == "fp8":
        return float(gpu.get("fp8_tflops") or bf16)
    if dtype == "int8":
        return float(gpu.get("int8_tops") or bf16)
    return bf16  # bf16, fp16, and int4 (weight-only: computes in 16 bit)


def _largest_batch(latency: Any, max_batch: int, budget: float | None) -> int:
    """Largest batch in [1, max_batch] whose latency is within budget (latency grows with the batch)."""
    if budget is None or latency(max_batch) <= budget:
        return max_batch
    if latency(1) > budget:
        return 1
    lo, hi = 1, max_batch  # latency(lo) <= budget < latency(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if latency(mid) <= budget:
            lo = mid
        else:
            hi = mid
    return lo
