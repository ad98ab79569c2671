"""The serving core: a BatchPolicy driven by an asyncio event loop, batches executed on
worker threads.

Concurrency model
-----------------
- **One event-loop thread owns the policy.** Submissions, batch formation, timeouts and
  responses all happen there, so the policy needs no locks and each request costs a few
  microseconds of plain Python (a future, a deque append, a counter).
- **One worker thread per execution slot owns the device.** A formed batch is handed to a
  worker through a ``SimpleQueue``; the worker collates (stack, pinned copy), runs the model and
  posts the outputs back with ``loop.call_soon_threadsafe``.
- **Formation overlaps execution.** PyTorch releases the GIL inside its kernels, so while a
  worker computes batch *n* the loop keeps admitting and queueing requests; the moment the slot
  frees, the completion callback resolves batch *n*'s futures and forms batch *n+1* from
  everything that arrived meanwhile, in the same loop iteration. With ``num_slots=2`` (useful on
  CUDA) the next batch's host work and copy overlap the current one's kernels as well.
- **Wake-ups are callbacks, not polling.** A submit schedules one ``_pump`` per loop iteration
  (a burst of submits costs one policy poll); the policy returns when it next needs attention
  (oldest request's delay, earliest deadline) and a single timer is armed for that.

Torch is not imported here: the core takes an ``execute(payloads) -> outputs`` callable (the
runner's ``run``) and an optional per-thread initialiser (the runner's ``init_thread``, which
pins torch's intra-op thread count in the worker thread).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from engine.serving.policy import (
    CANCELLED,
    BatchPolicy,
    BatcherConfig,
    Request,
)


class ServingError(Exception):
    """A request was answered without a result; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RequestRejected(ServingError):
    pass


class RequestTimedOut(ServingError):
    pass


class RequestFailed(ServingError):
    pass


class ServingCore:
    def __init__(
        self,
        execute: Callable[[list[Any]], Sequence[Any]],
        config: BatcherConfig,
        *,
        clock: Callable[[], float] = time.perf_counter,
        init_thread: Callable[[], None] | None = None,
    ):
        self.config = config
        self.clock = clock
        self.policy = BatchPolicy(config, clock)
        self._execute = execute
        self._init_thread = init_thread
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pump_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._drained: asyncio.Event | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the worker threads; must be awaited on the loop that will submit."""
        if self._loop is not None:
            raise RuntimeError("core already started")
        self._loop = asyncio.get_running_loop()
        self._drained = asyncio.Event()
        for i in range(self.config.num_slots):
            t = threading.Thread(target=self._worker, name=f"serving-slot-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    async def stop(self, *, drain: bool = True, timeout_s: float = 30.0) -> None:
        """Stop admitting; with ``drain`` finish everything queued first, else time it out."""
        if self._loop is None:
            return
        self.policy.close()
        if not drain:
            for level_queue in self.policy._queues:
                for req in list(level_queue):
                    if self.policy.cancel(req):
                        self._fail(req, RequestRejected("shutting_down"))
        self._schedule_pump()
        if not self.policy.drained:
            try:
                await asyncio.wait_for(self._drained.wait(), timeout_s)
            except TimeoutError:
                pass
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            await asyncio.to_thread(t.join, 5.0)
        self._threads.clear()
        if self._timer is not None:
            self._timer.cancel()

    # -- requests ----------------------------------------------------------------------------
    def submit(
        self,
        payload: Any,
        *,
        priority: int | None = None,
        deadline_s: float | None = None,
    ) -> tuple[Request, asyncio.Future]:
        """Queue a request from the loop thread; the future resolves to the output or raises a
        ``ServingError``. ``deadline_s`` is absolute, on this core's clock."""
        fut = self._loop.create_future()
        req = self.policy.submit(payload, priority=priority, deadline_s=deadline_s, ctx=fut)
        status = req.status
        if status == "queued":
            if not self._pump_scheduled:
                self._pump_scheduled = True
                self._loop.call_soon(self._pump)
        elif status == "rejected":
            fut.set_exception(RequestRejected(req.reason))
        else:
            fut.set_exception(RequestTimedOut(req.reason))
        return req, fut

    async def infer(
        self,
        payload: Any,
        *,
        priority: int | None = None,
        timeout_ms: float | None = None,
    ) -> Any:
        """Submit and wait. Cancelling the awaiting task withdraws the request if still queued."""
        deadline = None if timeout_ms is None else self.clock() + timeout_ms / 1000.0
        req, fut = self.submit(payload, priority=priority, deadline_s=deadline)
        try:
            return await fut
        except asyncio.CancelledError:
            self.cancel(req)
            raise

    def cancel(self, req: Request) -> bool:
        if not self.policy.cancel(req):
            return False
        fut = req.ctx
        if not fut.done():
            fut.cancel()
        self._schedule_pump()
        return True

    def metrics(self) -> dict[str, Any]:
        return self.policy.metrics.summary()

    # -- scheduling (loop thread) --------------------------------------------------------------
    def _schedule_pump(self) -> None:
        if not self._pump_scheduled and self._loop is not None:
            self._pump_scheduled = True
            self._loop.call_soon(self._pump)

    def _pump(self) -> None:
        self._pump_scheduled = False
        policy = self.policy
        while True:
            batch, expired, wake_at = policy.poll()
            for req in expired:
                self._fail(req, RequestTimedOut(req.reason))
            if batch is None:
                break
            self._jobs.put(batch)
        self._arm_timer(wake_at)
        if policy.closed and policy.drained:
            self._drained.set()

    def _arm_timer(self, wake_at: float | None) -> None:
        if wake_at is None or (self._timer_at is not None and self._timer_at <= wake_at):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = wake_at
        self._timer = self._loop.call_later(max(0.0, wake_at - self.clock()), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self._pump()

    def _fail(self, req: Request, exc: ServingError) -> None:
        fut = req.ctx
        if fut is not None and not fut.done():
            fut.set_exception(exc)

    def _finish(self, batch, outputs, error, started_s: float, finished_s: float) -> None:
        self.policy.complete(
            batch, started_s=started_s, finished_s=finished_s, failed=error is not None
        )
        if error is not None:
            exc_reason = f"{type(error).__name__}: {error}"
            for req in batch.requests:
                self._fail(req, RequestFailed(exc_reason))
        else:
            for req, out in zip(batch.requests, outputs):
                fut = req.ctx
                if not fut.done():
                    fut.set_result(out)
        self._pump()

    # -- execution (worker threads) --------------------------------------------------------
    def _worker(self) -> None:
        if self._init_thread is not None:
            self._init_thread()
        jobs = self._jobs
        clock = self.clock
        execute = self._execute
        call_back = self._loop.call_soon_threadsafe
        while True:
            batch = jobs.get()
            if batch is None:
                return
            started = clock()
            try:
                outputs = execute([req.payload for req in batch.requests])
                error = None
                if len(outputs) != len(batch.requests):
                    raise RuntimeError("execute returned a different number of outputs")
            except Exception as exc:  # reported to every request of the batch
                outputs, error = None, exc
            finished = clock()
            try:
                call_back(self._finish, batch, outputs, error, started, finished)
            except RuntimeError:  # loop closed under us: nobody is waiting any more
                return


__all__ = [
    "CANCELLED",
    "RequestFailed",
    "RequestRejected",
    "RequestTimedOut",
    "ServingCore",
    "ServingError",
]
