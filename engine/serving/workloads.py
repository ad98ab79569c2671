"""Reference workloads: shapes only (no torch here; ``runner.build_model`` makes the module).

Two families, parameterised and seeded, nothing downloaded:

- ``mlp``: ``input_dim -> hidden_dims... -> output_dim`` with ReLU;
- ``transformer``: a pre-norm transformer encoder over token ids (embedding + learned positions,
  ``layers`` x (self-attention + GELU feed-forward), mean-pooled to ``d_model`` outputs), e.g.
  a BERT-base shape with ``bert_base()``.

``noop`` is the scheduling-overhead probe: the runner returns the inputs untouched.
``from_description`` approximates a user's model from a parameter count and a family.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

FAMILIES = ("mlp", "transformer", "noop")
DTYPES = ("fp32", "bf16", "fp16", "int8")


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    family: str = "mlp"
    dtype: str = "fp32"
    seed: int = 0
    # mlp
    input_dim: int = 512
    hidden_dims: tuple[int, ...] = (2048, 2048, 2048)
    output_dim: int = 512
    # transformer
    layers: int = 2
    d_model: int = 256
    heads: int = 4
    ffn_dim: int = 1024
    seq_len: int = 128
    vocab_size: int = 30522

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, not {self.family!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, not {self.dtype!r}")
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        positive = {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "layers": self.layers,
            "d_model": self.d_model,
            "heads": self.heads,
            "ffn_dim": self.ffn_dim,
            "seq_len": self.seq_len,
            "vocab_size": self.vocab_size,
        }
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1")
        if any(not isinstance(h, int) or h < 1 for h in self.hidden_dims):
            raise ValueError("hidden_dims must be integers >= 1")
        if self.d_model % self.heads:
            raise ValueError("d_model must be divisible by heads")

    @property
    def param_count(self) -> int:
        if self.family == "mlp":
            dims = (self.input_dim, *self.hidden_dims, self.output_dim)
            return sum(a * b + b for a, b in zip(dims, dims[1:]))
        if self.family == "transformer":
            d, f = self.d_model, self.ffn_dim
            per_layer = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d  # attn, ffn, 2 norms
            return self.vocab_size * d + self.seq_len * d + self.layers * per_layer + 2 * d
        return 0

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.family == "transformer":
            return (self.seq_len,)
        return (self.input_dim,)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden_dims"] = list(self.hidden_dims)
        d["param_count"] = self.param_count
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkloadSpec:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known - {"param_count"}
        if unknown:
            raise ValueError(f"unknown workload fields: {sorted(unknown)}")
        return cls(**{k: v for k, v in data.items() if k in known})


def reference_mlp(dtype: str = "fp32", seed: int = 0) -> WorkloadSpec:
    """The issue's CPU reference shape: 512 -> 2048 -> 2048 -> 2048 -> 512."""
    return WorkloadSpec(family="mlp", dtype=dtype, seed=seed)


def bert_base(dtype: str = "fp32", seq_len: int = 128, seed: int = 0) -> WorkloadSpec:
    return WorkloadSpec(
        family="transformer", dtype=dtype, seed=seed,
        layers=12, d_model=768, heads=12, ffn_dim=3072, seq_len=seq_len,
    )


def from_description(
    *,
    params: int,
    family: str = "transformer",
    dtype: str = "fp32",
    seq_len: int = 128,
    input_dim: int = 512,
    output_dim: int = 512,
    depth: int = 3,
    vocab_size: int = 30522,
    seed: int = 0,
) -> WorkloadSpec:
    """A reference workload with about ``params`` parameters, shaped like the family.

    Transformer: BERT's proportions (head width 64, ``d_model = 64 * layers``, feed-forward
    4 x d_model) scaled until the count matches; BERT-base's 110 M gives 12 x 768.
    MLP: ``depth`` equal hidden layers whose width makes the count match.
    """
    if not isinstance(params, int) or params < 1:
        raise ValueError("params must be a positive integer")
    if family == "mlp":
        if not isinstance(depth, int) or depth < 1:
            raise ValueError("depth must be an integer >= 1")
        # params ~= (depth-1) w^2 + (input + output + depth) w
        a = depth - 1
        b = input_dim + output_dim + depth
        c = -(params - output_dim)
        width = (-c / b) if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
        width = max(1, round(width))
        return WorkloadSpec(
            family="mlp", dtype=dtype, seed=seed, input_dim=input_dim,
            hidden_dims=(width,) * depth, output_dim=output_dim,
        )
    if family == "transformer":
        def count(layers: int) -> int:
            d = 64 * layers
            return WorkloadSpec(
                family="transformer", layers=layers, d_model=d, heads=layers, ffn_dim=4 * d,
                seq_len=seq_len, vocab_size=vocab_size,
            ).param_count

        layers = 1
        while layers < 48 and count(layers + 1) <= params:
            layers += 1
        if layers < 48 and abs(count(layers + 1) - params) < abs(count(layers) - params):
            layers += 1
        d = 64 * layers
        return WorkloadSpec(
            family="transformer", dtype=dtype, seed=seed, layers=layers, d_model=d,
            heads=layers, ffn_dim=4 * d, seq_len=seq_len, vocab_size=vocab_size,
        )
    raise ValueError("family must be 'mlp' or 'transformer'")
