"""Generative workloads: seeded arrivals, input/output length distributions and prompt token ids.

A workload is plain data (``GenRequest`` tuples with an arrival offset from the run's start), made
once from a seed and replayed unchanged by every system compared: the core, the static baseline,
the ideal simulation and LoadGen's SUT all see the same requests in the same order.

- Arrivals: open-loop Poisson, or gamma inter-arrival gaps with a burstiness factor as vLLM's
  ``bench serve --burstiness`` (shape = burstiness, mean gap 1/rate: 1 is Poisson, below 1 is
  burstier, above 1 steadier), or all at once (offline). The unit-rate gaps depend only on the
  seed and are scaled by 1/rate, so every rate of a search sees the same pattern.
- Lengths: ``fixed:N``, ``uniform:LO-HI`` (inclusive), ``lognormal:MEDIAN,SIGMA,LO-HI`` (a
  seeded long tail clipped to [LO, HI], the shape of real chat lengths).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LENGTH_KINDS = ("fixed", "uniform", "lognormal")


@dataclass(frozen=True, slots=True)
class LengthDist:
    """A distribution of token counts; ``parse("uniform:8-64")`` reads the CLI form."""

    kind: str
    low: int
    high: int
    median: float = 0.0
    sigma: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in LENGTH_KINDS:
            raise ValueError(f"length distribution kind must be one of {LENGTH_KINDS}, not {self.kind!r}")
        if self.low < 1:
            raise ValueError("length distribution: lengths must be >= 1")
        if self.high < self.low:
            raise ValueError("length distribution: high must be >= low")
        if self.kind == "fixed" and self.high != self.low:
            raise ValueError("length distribution: fixed has one length")
        if self.kind == "lognormal" and not (self.median > 0 and self.sigma > 0):
            raise ValueError("length distribution: lognormal needs median > 0 and sigma > 0")

    @classmethod
    def fixed(cls, n: int) -> LengthDist:
        return cls("fixed", n, n)

    @classmethod
    def parse(cls, text: str, *, field: str = "length distribution") -> LengthDist:
        """``fixed:N`` | ``uniform:LO-HI`` | ``lognormal:MEDIAN,SIGMA,LO-HI``; a bare integer is
        ``fixed``. Errors name ``field``."""
        text = text.strip()
        try:
            if ":" not in text:
                return cls.fixed(int(text))
            kind, _, rest = text.partition(":")
            if kind == "fixed":
                return cls.fixed(int(rest))
            if kind == "uniform":
                lo, hi = rest.split("-")
                return cls("uniform", int(lo), int(hi))
            if kind == "lognormal":
                median, sigma, bounds = rest.split(",")
                lo, hi = bounds.split("-")
                return cls("lognormal", int(lo), int(hi), median=float(median), sigma=float(sigma))
        except ValueError as exc:
            raise ValueError(
                f"{field}: {text!r} is not fixed:N, uniform:LO-HI or lognormal:MEDIAN,SIGMA,LO-HI ({exc})"
            ) from None
        raise ValueError(f"{field}: unknown kind {kind!r} (one of {LENGTH_KINDS})")

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        if self.kind == "fixed":
            return np.full(count, self.low, dtype=np.int64)
        if self.kind == "uniform":
            return rng.integers(self.low, self.high + 1, size=count, dtype=np.int64)
        x = rng.lognormal(math.log(self.median), self.sigma, size=count)
        return np.clip(np.rint(x), self.low, self.high).astype(np.int64)

    def describe(self) -> str:
        if self.kind == "fixed":
            return f"fixed:{self.low}"
        if self.kind == "uniform":
            return f"uniform:{self.low}-{self.high}"
        return f"lognormal:{self.median:g},{self.sigma:g},{self.low}-{self.high}"


def arrival_offsets(rate_rps: float | None, count: int, seed: int, *, burstiness: float = 1.0) -> np.ndarray:
    """Arrival offsets (s) of ``count`` requests, the first at 0. ``rate_rps`` None or inf: all
    at 0 (offline). Gamma gaps of shape ``burstiness`` and mean 1/rate (1.0 = Poisson)."""
    if count < 1:
        raise ValueError("requests must be >= 1")
    if not burstiness > 0:
        raise ValueError("burstiness must be > 0")
    if rate_rps is None or math.isinf(rate_rps):
        return np.zeros(count)
    if not rate_rps > 0:
        raise ValueError("rate must be > 0")
    rng = np.random.default_rng([seed, 1])
    gaps = rng.gamma(burstiness, 1.0 / burstiness, size=count) / rate_rps
    gaps[0] = 0.0
    return np.cumsum(gaps)


@dataclass(frozen=True, slots=True)
class GenRequest:
    request_id: str
    prompt_token_ids: tuple[int, ...]
    max_new_tokens: int
    arrival_offset_s: float


@dataclass(frozen=True, slots=True)
class Workload:
    """Requests in arrival order and how they were made (for the result's settings)."""

    requests: tuple[GenRequest, ...]
    rate_rps: float | None
    burstiness: float
    input_len: LengthDist
    output_len: LengthDist
    seed: int
    vocab_size: int = 2

    def settings(self) -> dict:
        ins = [len(r.prompt_token_ids) for r in self.requests]
        outs = [r.max_new_tokens for r in self.requests]
        return {
            "requests": len(self.requests),
            "rate_rps": self.rate_rps,
            "arrivals": "all at once" if self.rate_rps is None else (
                "poisson" if self.burstiness == 1.0 else f"gamma (burstiness {self.burstiness:g})"),
            "burstiness": self.burstiness,
            "input_len_dist": self.input_len.describe(),
            "output_len_dist": self.output_len.describe(),
            "input_tokens": {"mean": round(float(np.mean(ins)), 2), "max": int(max(ins)), "total": int(sum(ins))},
            "output_tokens": {"mean": round(float(np.mean(outs)), 2), "max": int(max(outs)), "total": int(sum(outs))},
            "seed": self.seed,
        }

    def at_rate(self, rate_rps: float | None, *, burstiness: float | None = None) -> Workload:
        """The same requests (prompts, lengths) at another rate: the arrival pattern is the
        seed's, scaled."""
        b = self.burstiness if burstiness is None else burstiness
        offsets = arrival_offsets(rate_rps, len(self.requests), self.seed, burstiness=b)
        reqs = tuple(
            GenRequest(r.request_id, r.prompt_token_ids, r.max_new_tokens, float(t))
            for r, t in zip(self.requests, offsets)
        )
        return Workload(reqs, rate_rps, b, self.input_len, self.output_len, self.seed, self.vocab_size)


def lasting(workload: Workload, rate_rps: float, min_span_s: float) -> Workload:
    """``workload`` at ``rate_rps`` with enough requests (the same seed, more of them) that the
    arrivals span at least ``min_span_s``: a run much shorter than the TTFT SLO is a burst that
    any server absorbs, so a search could pass any rate."""
    need = math.ceil(rate_rps * min_span_s) + 1
    if need > len(workload.requests):
        workload = make_workload(requests=need, input_len=workload.input_len, output_len=workload.output_len,
                                 vocab_size=workload.vocab_size, burstiness=workload.burstiness, seed=workload.seed)
    return workload.at_rate(rate_rps)


def make_workload(
    *,
    requests: int,
    input_len: LengthDist,
    output_len: LengthDist,
    vocab_size: int,
    rate_rps: float | None = None,
    burstiness: float = 1.0,
    seed: int = 0,
) -> Workload:
    """Seeded requests: lengths from the distributions, prompt ids uniform over the vocabulary,
    arrivals at ``rate_rps`` (None: all at once)."""
    if vocab_size < 2:
        raise ValueError("vocab_size must be >= 2")
    rng = np.random.default_rng([seed, 0])
    ins = input_len.sample(requests, rng)
    outs = output_len.sample(requests, rng)
    offsets = arrival_offsets(rate_rps, requests, seed, burstiness=burstiness)
    reqs = tuple(
        GenRequest(
            f"r{i}", tuple(int(x) for x in rng.integers(0, vocab_size, size=int(n_in))), int(n_out), float(t)
        )
        for i, (n_in, n_out, t) in enumerate(zip(ins, outs, offsets))
    )
    return Workload(reqs, rate_rps, burstiness, input_len, output_len, seed, vocab_size)
