"""Shapes and settings of the generative core (no torch here).

``DecoderShape`` is a Llama-layout decoder (RMSNorm, rotary positions, grouped-query attention,
SwiGLU, untied lm_head, no biases); ``DecoderShape.from_params`` picks one for a parameter count
as ``engine.serving.workloads.from_description`` does for encoders. ``SchedulerConfig`` holds the
scheduler's budgets and KV-cache layout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

ALLOCATIONS = ("paged", "reserve_max")


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1")


@dataclass(frozen=True, slots=True)
class DecoderShape:
    vocab_size: int = 32000
    layers: int = 2
    d_model: int = 256
    heads: int = 4
    kv_heads: int = 2
    # None: d_model // heads.
    head_dim: int | None = None
    ffn_dim: int = 688
    max_position: int = 4096
    rope_theta: float = 10000.0
    rms_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("vocab_size", "layers", "d_model", "heads", "kv_heads", "ffn_dim", "max_position"):
            _positive_int(name, getattr(self, name))
        if self.head_dim is None:
            if self.d_model % self.heads:
                raise ValueError("d_model must be divisible by heads (or give head_dim)")
            object.__setattr__(self, "head_dim", self.d_model // self.heads)
        _positive_int("head_dim", self.head_dim)
        if self.head_dim % 2:
            raise ValueError("head_dim must be even (rotary positions rotate pairs)")
        if self.heads % self.kv_heads:
            raise ValueError("heads must be a multiple of kv_heads")
        if not (math.isfinite(self.rope_theta) and self.rope_theta > 0):
            raise ValueError("rope_theta must be a finite number > 0")
        if not (math.isfinite(self.rms_eps) and self.rms_eps > 0):
            raise ValueError("rms_eps must be a finite number > 0")

    def param_count(self) -> int:
        d, hd = self.d_model, self.head_dim
        attn = d * self.heads * hd + 2 * d * self.kv_heads * hd + self.heads * hd * d
        per_layer = attn + 3 * d * self.ffn_dim + 2 * d  # q k v o, gate up down, two norms
        return 2 * self.vocab_size * d + self.layers * per_layer + d  # embed, lm_head, final norm

    def kv_bytes_per_token(self, dtype_bytes: int) -> int:
        """Bytes of K and V one token occupies in the cache, over all layers."""
        _positive_int("dtype_bytes", dtype_bytes)
        return 2 * self.layers * self.kv_heads * self.head_dim * dtype_bytes

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["param_count"] = self.param_count()
        return d

    @classmethod
    def from_params(
        cls,
        params: int,
        *,
        vocab_size: int = 32000,
        max_position: int = 4096,
        rope_theta: float = 10000.0,
        rms_eps: float = 1e-5,
    ) -> DecoderShape:
        """A Llama-proportioned shape with about ``params`` parameters.

        ``d_model = 128 x layers`` (Llama-2 7B: 32 x 4096, 13B: 40 x 5120), head width 64 below
        d_model 2048 and 128 from there, KV heads the largest divisor of the query heads up to a
        quarter of them (Llama 3's 32 / 8), SwiGLU width 8/3 x d_model rounded up as Llama rounds it.
        The layer count is the one whose count is nearest ``params`` (1 to 80 layers).
        """
        _positive_int("params", params)

        def shape(layers: int) -> DecoderShape:
            d = 128 * layers
            head_dim = 128 if d >= 2048 else 64
            heads = d // head_dim
            kv_heads = max(k for k in range(1, max(1, heads // 4) + 1) if heads % k == 0)
            multiple = 256 if d >= 1024 else 32
            ffn = multiple * math.ceil(int(8 * d / 3) / multiple)
            return cls(
                vocab_size=vocab_size, layers=layers, d_model=d, heads=heads, kv_heads=kv_heads,
                head_dim=head_dim, ffn_dim=ffn, max_position=max_position, rope_theta=rope_theta,
                rms_eps=rms_eps,
            )

        return min((shape(n) for n in range(1, 81)), key=lambda s: abs(s.param_count() - params))


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """Budgets of the iteration-level scheduler and the layout of its KV cache.

    - ``num_blocks`` x ``block_size`` token slots form the KV pool (the runner sizes it,
      ``runner.kv_blocks_for_budget``);
    - per step at most ``max_num_seqs`` sequences and ``max_num_batched_tokens`` tokens
      (decode tokens count one each, prefill chunks their length);
    - ``chunked_prefill``: a prompt longer than the step's remaining budget is prefilled over
      several steps; without it a prompt (plus what it may generate, for a recompute after
      preemption) must fit one step's budget, else the request is rejected at admission;
    - ``prefix_caching``: identical full blocks of tokens are shared between sequences;
    - ``allocation``: ``"paged"`` takes blocks as tokens arrive (preempting by recompute when
      they run out); ``"reserve_max"`` reserves a sequence's maximum length at admission (the
      allocator of a server without paging: ``max_model_len`` tokens if it is set, else the
      request's prompt + max_new_tokens) and so never preempts;
    - ``max_model_len``: longest prompt + output accepted (None: no limit but the pool);
    - ``ttft_budget_ms``: refuse a request whose predicted time to first token already misses
      this budget (the scheduler needs a step-time estimate for that, see ``Scheduler``).
    """

    block_size: int = 16
    num_blocks: int = 1024
    max_num_seqs: int = 64
    max_num_batched_tokens: int = 512
    chunked_prefill: bool = True
    prefix_caching: bool = True
    allocation: str = "paged"
    max_model_len: int | None = None
    ttft_budget_ms: float | None = None

    def __post_init__(self) -> None:
        for name in ("block_size", "num_blocks", "max_num_seqs", "max_num_batched_tokens"):
            _positive_int(name, getattr(self, name))
        if self.allocation not in ALLOCATIONS:
            raise ValueError(f"allocation must be one of {ALLOCATIONS}, not {self.allocation!r}")
        if self.max_model_len is not None:
            _positive_int("max_model_len", self.max_model_len)
        if self.ttft_budget_ms is not None and not (
            math.isfinite(self.ttft_budget_ms) and self.ttft_budget_ms > 0
        ):
            raise ValueError("ttft_budget_ms must be a finite number > 0 or None")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
