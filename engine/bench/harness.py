"""What every scenario runs on: a ``Bench`` (a warmed-up runner and a pool of inputs), the
no-op runner, a frozen heap for measurements, and cancellation.

Import order matters for CPU thread pools: callers pin threads (``engine.bench.threads``)
before ``make_bench`` first imports torch through the runner.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from engine.serving.core import ServingCore
from engine.serving.policy import BatcherConfig
from engine.serving.workloads import WorkloadSpec

ProgressFn = Callable[[dict[str, Any]], None]
CancelFn = Callable[[], bool]


@contextmanager
def frozen_heap():
    """Move everything alive now out of the garbage collector's reach for a measurement.

    A full collection walks every live container; in a benchmark process that holds models,
    inputs and earlier results, those walks (triggered by the core's per-request allocations)
    cost the no-op core a third of its throughput. A server freezes its start-up heap the same
    way (``gc.freeze()`` after loading the model; ``engine.serving.http`` does).
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def unpadded(runner: Any):
    """The runner's own s(b) for a measurement: its padding (``Runner.set_padding``) off
    meanwhile."""
    plan = getattr(runner, "pad_to", None)
    if not plan:
        yield
        return
    runner.pad_to = {}
    try:
        yield
    finally:
        runner.pad_to = plan


def raise_cancelled() -> None:
    from engine.bench.search import Cancelled

    raise Cancelled()


@dataclass(slots=True)
class Bench:
    """A workload ready to run: the runner (model built, warmed up) and a pool of inputs."""

    spec: WorkloadSpec
    runner: Any  # engine.serving.runner.Runner, or the no-op stand-in
    payloads: list[Any]
    device: str

    @property
    def execute(self) -> Callable[[list[Any]], Sequence[Any]]:
        return self.runner.run

    def core(
        self, config: BatcherConfig, execute: Callable[[list[Any]], Sequence[Any]] | None = None
    ) -> ServingCore:
        """A core over this bench's runner (or over ``execute``, e.g. a recording wrapper)."""
        return ServingCore(execute or self.execute, config, init_thread=self.runner.init_thread)


class NoopRunner:
    """Returns its inputs: what is left is the scheduling overhead."""

    threads = None

    def run(self, inputs: list[Any]) -> list[Any]:
        return inputs

    def init_thread(self) -> None:
        pass

    def synchronize(self) -> None:
        pass


def make_bench(
    spec: WorkloadSpec,
    *,
    device: str = "auto",
    threads: int | None = None,
    max_batch_size: int = 256,
    payload_pool: int = 1024,
    cuda_graph_batch_sizes: Sequence[int] = (),
    warmup_batch_sizes: Sequence[int] = (1, 8, 32),
) -> Bench:
    if spec.family == "noop":
        return Bench(spec, NoopRunner(), list(range(payload_pool)), "cpu")
    from engine.serving.runner import Runner, make_inputs

    runner = Runner(
        spec, device=device, threads=threads, max_batch_size=max_batch_size,
        cuda_graph_batch_sizes=cuda_graph_batch_sizes,
    )
    sizes = sorted({min(b, max_batch_size) for b in warmup_batch_sizes})
    runner.warmup(sizes)
    payloads = make_inputs(spec, max(payload_pool, max_batch_size), seed=spec.seed + 1)
    return Bench(spec, runner, payloads, str(runner.device))
