"""The benchmark spec's vocabulary: its fields, their limits and defaults, and what a result must
record. One module owns them; deriving (`design_spec`), checking a spec (`spec_check`), checking a
result (`result_check`), the run form and `engine.bench.api` read them from here.

Why the limits: a job runs on a shared GPU worker, so a spec must describe a run that ends in
reasonable time (a server run lasts queries / target_qps seconds, a search step at least
run_budgets x the p99 budget) and a model the reference can build.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

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
REFERENCE_FAMILY = {"decoder_llm": "transformer", "encoder": "transformer", "encoder_decoder": "transformer",
           "vision": "transformer", "mlp": "mlp", "tree": "mlp", "other": "transformer"}
APPROXIMATED_FAMILY = {
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
REFERENCE_DTYPE = {"fp32": "fp32", "bf16": "bf16", "fp16": "fp16", "fp8": "bf16", "int8": "bf16",
                    "int4": "bf16"}
DEFAULT_MODEL = {"family": "transformer", "params": 110_000_000, "dtype": "bf16", "seq_len": 128}
BATCHED_MODES = ("dynamic", "continuous", "static")
DEFAULT_MAX_BATCH_SIZE = 16  # architecture.max_batch_size's default
DEFAULT_MAX_BATCH_DELAY_MS = 5.0  # architecture.max_batch_delay_ms's default
CUDA_DEVICE = re.compile(r"cuda:\d{1,2}")


def finite_number(value: Any) -> float | None:
    """A finite int or float as float; None for anything else (bools included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def workload_for_spec(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """The reference workload `run(spec)` builds (its `result["workload"]`), or None if it cannot."""
    from engine.bench.api import workload_from_spec

    try:
        return workload_from_spec(dict(spec)).to_dict()
    except (TypeError, ValueError, KeyError):
        return None
