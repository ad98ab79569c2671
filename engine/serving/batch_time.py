"""The batch-time model s(b) that predictive shedding reasons with, and its online scaling.

Pure Python, like the policy that uses it: the model is fitted offline (``engine.bench``) and
handed in through ``BatcherConfig.batch_time_model``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BatchTimeModel:
    """Batch execution time s(b) = intercept + per_item * b, fitted from offline runs.

    ``measured_ms`` optionally adds measured (batch size, ms) points: between them s(b) is
    interpolated, beyond them the line continues from the last point. A CPU's s(b) is not a
    line at small sizes (b = 1 takes a faster path, the curve bends up to b ~ 16), and shedding
    decisions are made exactly there.
    """

    intercept_ms: float
    per_item_ms: float
    measured_ms: tuple[tuple[int, float], ...] = ()
    _table_s: tuple[float, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.intercept_ms) and math.isfinite(self.per_item_ms)):
            raise ValueError("batch time model coefficients must be finite")
        if self.intercept_ms < 0 or self.per_item_ms < 0:
            raise ValueError("batch time model coefficients must be >= 0")
        points = tuple(sorted((int(b), float(ms)) for b, ms in self.measured_ms))
        if any(b < 1 or not math.isfinite(ms) or ms < 0 for b, ms in points):
            raise ValueError("measured_ms must be (batch size >= 1, ms >= 0) pairs")
        if len({b for b, _ in points}) != len(points):
            raise ValueError("measured_ms has a batch size twice")
        object.__setattr__(self, "measured_ms", points)
        if points:
            table = []
            for b in range(points[-1][0] + 1):
                if b <= points[0][0]:
                    ms = points[0][1] * (b / points[0][0]) if b else 0.0
                else:
                    i = next(k for k, (pb, _) in enumerate(points) if pb >= b)
                    (b0, m0), (b1, m1) = points[i - 1], points[i]
                    ms = m0 + (m1 - m0) * (b - b0) / (b1 - b0)
                table.append(ms / 1000.0)
            object.__setattr__(self, "_table_s", tuple(table))

    def batch_time_s(self, batch_size: int) -> float:
        table = self._table_s
        if batch_size < len(table):
            return table[batch_size]
        if table:
            return table[-1] + self.per_item_ms * (batch_size - len(table) + 1) / 1000.0
        return (self.intercept_ms + self.per_item_ms * batch_size) / 1000.0


def observed_scale(ratios: Sequence[float], q: float) -> float:
    """The ``q`` quantile of observed / modelled batch times, never below 1: predictions follow
    a server that runs slower than its offline fit, and never drop below the fit."""
    ordered = sorted(ratios)
    return max(1.0, ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def padding_plan(
    batch_times_ms: Mapping[int, float], max_batch_size: int, *, min_gain: float = 0.05
) -> dict[int, int]:
    """Batch sizes worth running padded: ``b -> m`` where the measured size ``m > b`` is the
    fastest size at or above ``b`` and runs at least ``min_gain`` faster than ``b`` itself.

    A CPU's s(b) is not monotone: the BLAS library picks its kernel by shape, and on the
    2-core Xeon of issue 16 a batch of 14 took 7.9 ms where one of 16 took 5.3 ms. A batch of 14
    padded to 16 with copies of its first input finishes 30 % sooner, and a policy that keeps
    batches within a deadline no longer stalls below such a step. ``b`` between measured sizes
    takes its time from the line between them; beyond the largest measured size nothing is
    padded."""
    if not 0.0 <= min_gain < 1.0:
        raise ValueError("min_gain must be in 0..1")
    points = sorted((int(b), float(ms)) for b, ms in batch_times_ms.items() if int(b) <= max_batch_size)
    if not points:
        return {}
    sizes = [b for b, _ in points]
    times = dict(points)
    between = BatchTimeModel(0.0, 0.0, measured_ms=tuple(points))  # its interpolation

    def own(b: int) -> float:
        return times[b] if b in times else between.batch_time_s(b) * 1000.0

    plan: dict[int, int] = {}
    best = None  # the fastest measured size at or above b, scanning down
    for b in range(sizes[-1], sizes[0] - 1, -1):
        if b in times and (best is None or times[b] <= times[best]):
            best = b
        if best != b and times[best] < (1.0 - min_gain) * own(b):
            plan[b] = best
    return plan


def padded_times_ms(batch_times_ms: Mapping[int, float], plan: Mapping[int, int]) -> dict[int, float]:
    """s(b) as a padding runner runs it: every measured size, and every padded one at the time
    of the size it runs as (so that interpolating between the points stays true)."""
    out = {int(b): float(ms) for b, ms in batch_times_ms.items()}
    for b, m in plan.items():
        out[b] = float(batch_times_ms[m])
    return dict(sorted(out.items()))
