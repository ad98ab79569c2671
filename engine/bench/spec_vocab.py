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

SCENARIOS = ("capacity", "offline", "server", "max-qps", "overload", "sweep")
PRESETS = ("reference-mlp", "bert-base", "noop")
BATCHER_FIELDS = (
    "max_batch_size", "max_queue_delay_ms", "preferred_batch_sizes", "max_queue_size", "num_slots",
)

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

# Design model families -> reference families (the reference has an encoder and an MLP). A
# decoder_llm is not here: it runs on the generative core (engine.bench.generative_spec).
REFERENCE_FAMILY = {"encoder": "transformer", "encoder_decoder": "transformer", "vision": "transformer",
                    "mlp": "mlp", "tree": "mlp", "other": "transformer"}
APPROXIMATED_FAMILY = {
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


def fact_at(tree: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a facts tree (None where it is missing)."""
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


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


# --- generative (decoder LLM) specs: engine.bench.generate.run's keys -----------------------
GENERATIVE_SCENARIOS = ("generate-offline", "generate-server", "generate-max-qps")
GENERATIVE_SPEC_KEYS = (
    "scenario", "params", "shape", "vocab_size", "dtype", "device", "threads", "input_len_dist",
    "output_len_dist", "requests", "rate", "burstiness", "seed", "block_size", "num_blocks",
    "kv_budget_mb", "max_num_seqs", "max_num_batched_tokens", "ttft_slo_ms", "tpot_slo_ms",
    "static_batch_size", "max_drain_s",
)
GENERATIVE_DTYPES = ("fp32", "bf16", "fp16")
# The reference decoder a worker builds: a design's model above this size is run as a decoder of
# this size with the same KV budget in sequences (a GPU worker holds it in bf16 with room to spare).
GENERATIVE_REFERENCE_PARAMS_MAX = 500_000_000
GENERATIVE_PARAMS_LIMITS = (100_000, 2_000_000_000)
GENERATIVE_REQUESTS_LIMITS = (1, 20_000)
# A design's run: enough requests that the p99 is more than the maximum of a handful.
GENERATIVE_DEFAULT_REQUESTS = 200
GENERATIVE_RATE_LIMITS = (0.01, 100_000.0)
GENERATIVE_SLO_MS_LIMITS = (0.1, 600_000.0)
GENERATIVE_TOKENS_LIMITS = (1, 32_768)  # one sequence: prompt + output
MAX_NUM_SEQS_LIMITS = (1, 4096)
NUM_BLOCKS_LIMITS = (1, 10_000_000)
BLOCK_SIZE_LIMITS = (1, 256)
MAX_NUM_BATCHED_TOKENS_LIMITS = (1, 65_536)
KV_BUDGET_MB_LIMITS = (1.0, 1_000_000.0)
BURSTINESS_LIMITS = (0.01, 100.0)
MAX_DRAIN_S_LIMITS = (1.0, MAX_SERVER_RUN_S)
VOCAB_SIZE_LIMITS = (2, 1_000_000)
DEFAULT_BLOCK_SIZE = 16
# "quick" on a generative design: a 2 M-parameter reference, prompts and outputs a sixteenth of the
# design's (at least QUICK_MIN_TOKENS), QUICK_REQUESTS requests all at once: seconds on one CPU thread.
QUICK_PARAMS = 2_000_000
QUICK_REQUESTS = 16
QUICK_LENGTH_DIVISOR = 16
QUICK_MIN_TOKENS = 4
GENERATIVE_SPEC_SOURCES = {
    "params": "requirements.model_params_billions",
    "dtype": "requirements.model_dtype, architecture.quantization",
    "input_len_dist": "requirements.input_tokens_per_request",
    "output_len_dist": "requirements.output_tokens_per_request",
    "ttft_slo_ms": "requirements.time_to_first_token_ms",
    "tpot_slo_ms": "requirements.time_per_output_token_ms",
    "max_num_seqs": "architecture.max_batch_size, memory.max_concurrent_sequences",
    "num_blocks": "memory.max_concurrent_sequences (the chosen GPU's KV room)",
    "rate": "capacity.model_peak_qps / capacity.replicas_for_load",
}
