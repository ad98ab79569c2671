"""A fake clock, a step-time model fitted on measured steps, and a pure-Python fake runner:
together they replay the SAME scheduler (``engine.serving.generative``) on simulated time.

- ``StepTimeModel``: step_ms = base + per_prefill_token x prefill tokens + per_decode_seq x
  decode sequences + per_kv_token x tokens attended (non-negative least squares over measured
  steps, ``fit``), with its fit (r2, median and p90 relative error) reported.
- ``FakeRunner``: ``execute(plan)`` advances the fake clock by the model's step time and returns
  deterministic tokens (a hash of request id and position); no torch. It stands in for the
  runner in tests (the whole harness in milliseconds) and in the ideal simulation.
- ``simulate``: the workload through ``GenerativeEngine(Scheduler(config), FakeRunner)`` on a
  fake clock: "an ideal scheduler simulated on the measured step times", since the loop,
  scheduler and driver cost nothing there and every step takes exactly what the model says.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.bench.generate.driver import RunRecord, drive
from engine.bench.generate.workload import Workload

MODEL_TERMS = ("prefill_tokens", "decode_tokens", "kv_tokens")


class FakeClock:
    """Simulated seconds: ``clock()`` reads, ``sleep(dt)`` and ``advance(dt)`` move it on."""

    def __init__(self, start_s: float = 0.0):
        self.now_s = float(start_s)

    def __call__(self) -> float:
        return self.now_s

    def advance(self, dt_s: float) -> None:
        if dt_s > 0:
            self.now_s += float(dt_s)

    sleep = advance


class SleepClock:
    """Real seconds for a ``FakeRunner``: ``advance(dt)`` sleeps, so the fake model runs in
    wall time (for instruments with their own clock, like LoadGen)."""

    def __call__(self) -> float:
        return time.perf_counter()

    def advance(self, dt_s: float) -> None:
        if dt_s > 0:
            time.sleep(dt_s)

    sleep = advance


@dataclass(frozen=True, slots=True)
class StepTimeModel:
    """step_ms = base_ms + per_prefill_token_ms x P + per_decode_seq_ms x D + per_kv_token_ms x K."""

    base_ms: float
    per_prefill_token_ms: float = 0.0
    per_decode_seq_ms: float = 0.0
    per_kv_token_ms: float = 0.0

    def __post_init__(self) -> None:
        for name in ("base_ms", "per_prefill_token_ms", "per_decode_seq_ms", "per_kv_token_ms"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0")

    def step_ms(self, prefill_tokens: int, decode_tokens: int, kv_tokens: int) -> float:
        return (self.base_ms + self.per_prefill_token_ms * prefill_tokens
                + self.per_decode_seq_ms * decode_tokens + self.per_kv_token_ms * kv_tokens)

    def to_dict(self) -> dict[str, float]:
        return {
            "base_ms": round(self.base_ms, 6),
            "per_prefill_token_ms": round(self.per_prefill_token_ms, 7),
            "per_decode_seq_ms": round(self.per_decode_seq_ms, 7),
            "per_kv_token_ms": round(self.per_kv_token_ms, 8),
        }


def _nnls(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares with non-negative coefficients: a term that comes out negative is dropped
    and the rest refitted (the intercept last)."""
    active = list(range(x.shape[1]))
    coef = np.zeros(x.shape[1])
    while active:
        sol, *_ = np.linalg.lstsq(x[:, active], y, rcond=None)
        if (sol >= 0).all():
            coef[active] = sol
            break
        negatives = [(v, j) for v, j in zip(sol, active) if v < 0]
        _, worst = min([n for n in negatives if n[1] != 0] or negatives)
        active.remove(worst)
    return coef


def fit_step_time(steps: list[dict[str, Any]], *, trim_mads: float | None = None) -> tuple[StepTimeModel, dict[str, Any]]:
    """Non-negative least squares of step_ms on the model's terms (its total matches the
    measured steps': the machine as it was during the run). With ``trim_mads``, steps
    slower than the first fit by more than that many robust deviations (1.4826 x the median
    absolute deviation of the residuals) are dropped and the fit repeated: a stall on a shared
    machine only ever lengthens a step, and this ideal is the machine without them. Returns the
    model and its fit over the steps kept (and how many were trimmed)."""
    rows = [s for s in steps if s.get("kv_tokens") is not None]
    if len(rows) < 5:
        raise ValueError(f"need >= 5 measured steps with kv_tokens to fit a step-time model, got {len(rows)}")
    x = np.asarray([[1.0] + [float(s[k]) for k in MODEL_TERMS] for s in rows])
    y = np.asarray([float(s["step_ms"]) for s in rows])
    coef = _nnls(x, y)
    keep = np.ones(len(rows), dtype=bool)
    # Trim against the fit of the steps kept so far, until the kept set settles: the first
    # fit is bent by the very stalls it is to find.
    for _ in range(5 if trim_mads is not None else 0):
        resid = y - x @ coef
        kept = resid[keep]
        scale = 1.4826 * float(np.median(np.abs(kept - np.median(kept))))
        # The floor (1 % of a median step) keeps a near-perfect fit from trimming rounding.
        new = resid <= np.median(kept) + trim_mads * max(scale, 0.01 * float(np.median(y)))
        if new.sum() < 5 or (new == keep).all():
            break
        keep = new
        coef = _nnls(x[keep], y[keep])
    xk, yk = x[keep], y[keep]
    pred = xk @ coef
    ss_res = float(np.sum((yk - pred) ** 2))
    ss_tot = float(np.sum((yk - yk.mean()) ** 2)) or 1.0
    rel = np.abs(pred - yk) / np.maximum(yk, 1e-9)
    model = StepTimeModel(*[float(c) for c in coef])
    fit = {
        "terms": ["1", *MODEL_TERMS],
        **model.to_dict(),
        "steps": len(rows),
        "trimmed_steps": int((~keep).sum()),
        "r2": round(1.0 - ss_res / ss_tot, 4),
        "median_rel_error": round(float(np.median(rel)), 4),
        "p90_rel_error": round(float(np.percentile(rel, 90)), 4),
        "measured_total_ms": round(float(y.sum()), 3),
        "model_total_ms": round(float((x @ coef).sum()), 3),
    }
    return model, fit


def step_time_ratios(steps: list[dict[str, Any]], model: StepTimeModel) -> np.ndarray:
    """measured / modelled time of each step: the machine's step-to-step variation, for a
    ``FakeRunner`` to replay (``noise``)."""
    rows = [s for s in steps if s.get("kv_tokens") is not None]
    pred = np.asarray([model.step_ms(s["prefill_tokens"], s["decode_tokens"], s["kv_tokens"]) for s in rows])
    return np.asarray([s["step_ms"] for s in rows]) / np.maximum(pred, 1e-9)


class FakeRunner:
    """A runner without torch: each ``execute`` advances ``clock`` by the model's step time and
    returns a deterministic token for every chunk that emits one. With ``noise`` (measured
    steps' ratios to the model), step k's time is multiplied by ``noise[k]`` in order, cycling
    (a replay: a slow spell of the machine stays a spell), or by a seeded random draw from it
    when ``shuffle``."""

    device = "fake"
    dtype = "fake"

    def __init__(self, model: StepTimeModel, clock: FakeClock | SleepClock, *, num_blocks: int, vocab_size: int = 256,
                 noise: np.ndarray | None = None, shuffle: bool = False, seed: int = 0):
        self.model = model
        self.clock = clock
        self.num_blocks = num_blocks
        self.vocab_size = vocab_size
        self.noise = None if noise is None or len(noise) == 0 else np.asarray(noise, dtype=np.float64)
        self.shuffle = shuffle
        self._rng = np.random.default_rng([seed, 3])
        self._steps = 0

    def execute(self, plan) -> dict[str, int]:
        ms = self.model.step_ms(plan.num_prefill_tokens, plan.num_decode_tokens, plan.num_kv_tokens)
        if self.noise is not None:
            k = self._rng.integers(len(self.noise)) if self.shuffle else self._steps % len(self.noise)
            ms *= self.noise[k]
        self._steps += 1
        self.clock.advance(ms / 1000.0)
        out = {}
        for chunk in plan.chunks:
            if chunk.emits_token:
                pos = chunk.start_pos + chunk.num_tokens
                out[chunk.seq.request_id] = zlib.crc32(f"{chunk.seq.request_id}:{pos}".encode()) % self.vocab_size
        return out

    def synchronize(self) -> None:
        pass


def fake_engine(config, model: StepTimeModel, *, vocab_size: int = 256,
                clock: FakeClock | SleepClock | None = None, noise: np.ndarray | None = None,
                shuffle: bool = False, seed: int = 0):
    """(engine, clock): the real scheduler and engine loop over a ``FakeRunner`` on
    ``clock`` (a fresh ``FakeClock`` by default; a ``SleepClock`` runs it in wall time)."""
    from engine.serving.generative import Scheduler
    from engine.serving.generative.engine import GenerativeEngine

    clock = FakeClock() if clock is None else clock
    runner = FakeRunner(model, clock, num_blocks=config.num_blocks, vocab_size=vocab_size, noise=noise,
                        shuffle=shuffle, seed=seed)
    return GenerativeEngine(Scheduler(config), runner, clock=clock), clock


def simulate(workload: Workload, config, model: StepTimeModel, *, vocab_size: int = 256,
             noise: np.ndarray | None = None, shuffle: bool = False, seed: int = 0) -> RunRecord:
    """The workload through the real scheduler on the fake clock with the model's step times
    (times the ``noise`` ratios, see ``FakeRunner``)."""
    engine, clock = fake_engine(config, model, vocab_size=vocab_size, noise=noise, shuffle=shuffle, seed=seed)
    return drive(engine, workload, clock=clock, sleep=clock.sleep, start_delay_s=0.0)
