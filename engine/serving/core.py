"""The serving core: a BatchPolicy shared by an asyncio event loop (admission, responses) and
worker threads (batch formation, execution).

Concurrency model
-----------------
- **The event loop admits and answers.** ``submit`` runs on the loop thread: a future, a
  policy call under a lock, and a wake-up for an idle worker. Responses come back to the loop
  with ``call_soon_threadsafe`` and resolve the futures there.
- **Each execution slot is a worker thread that pulls its own next batch.** When a worker
  finishes batch *n* it frees its slot in the policy and immediately asks for batch *n+1*,
  formed from everything that was queued meanwhile, without waiting for the loop: the device
  is idle only for the few microseconds of that poll. Only then is batch *n* answered: the
  worker calls the thread-safe callbacks itself (a few microseconds per request, and no
  thread hop on the response path), and hands futures to a notifier thread that wakes the
  loop, which resolves them while batch *n+1* runs.
- **Formation overlaps execution.** PyTorch releases the GIL inside its kernels, so while a
  worker computes, the loop keeps admitting requests and delivering earlier responses. With
  ``num_slots=2`` (useful on CUDA) the next batch's host work and copies overlap the current
  batch's kernels as well.
- **Waiting is on a condition, not polling.** An idle worker sleeps until a submit wakes it or
  until the policy's next due time (the oldest request's queue delay, the earliest deadline).
  A queued request whose deadline passes is answered with a timeout by the next poll: at once
  when a worker is idle, at the latest when a slot frees; it is never executed.

The policy is pure and single-threaded by design; the lock makes each call atomic. Torch is not
imported here: the core takes an ``execute(payloads) -> outputs`` callable (the runner's
``run``) and an optional per-thread initialiser (the runner's ``init_thread``, which pins
torch's intra-op thread count inside the worker thread).
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
    QUEUED,
    REJECTED,
    SHUTTING_DOWN,
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
        inline_callbacks: bool = True,
    ):
        self.config = config
        # Thread-safe callbacks (``submit_threadsafe``) are answered by the worker itself, right
        # after it formed its next batch and before it runs it: a few microseconds per request
        # of device idle instead of a hop to the notifier thread, whose wake-up on a busy
        # machine is the longest tail of the response path. Futures still go through the loop.
        self._inline_callbacks = inline_callbacks
        self.clock = clock
        self.policy = BatchPolicy(config, clock)
        self._execute = execute
        self._init_thread = init_thread
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._idle_workers = 0
        self._wakeups_pending = 0  # notifies sent that no worker has woken for yet
        self._threads: list[threading.Thread] = []
        self._init_errors: list[BaseException] = []
        self._notifier: threading.Thread | None = None
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._expiry_timer: asyncio.TimerHandle | None = None
        self._expiry_at = float("inf")

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the worker threads and return once each has run ``init_thread``; must be
        awaited on the loop that will submit.

        The runner's ``init_thread`` warms the model up inside the worker thread: a fresh
        thread's first batches run up to twice as slow (its own allocator arena and torch
        pools), and a request submitted before that would be queued and predicted as if the
        slot were ready. If a worker's ``init_thread`` raises, the core stops and the error is
        raised here."""
        if self._loop is not None:
            raise RuntimeError("core already started")
        self._loop = asyncio.get_running_loop()
        self._notifier = threading.Thread(target=self._notify_loop, name="serving-notifier", daemon=True)
        self._notifier.start()
        ready = []
        for i in range(self.config.num_slots):
            event = threading.Event()
            t = threading.Thread(target=self._worker, args=(event,), name=f"serving-slot-{i}", daemon=True)
            t.start()
            self._threads.append(t)
            ready.append(event)
        for event in ready:
            await asyncio.to_thread(event.wait)
        if self._init_errors:
            await self.stop(drain=False)
            raise self._init_errors[0]

    async def stop(self, *, drain: bool = True, timeout_s: float = 30.0) -> None:
        """Stop admitting. With ``drain`` everything queued still runs (no queue delay is
        waited for); without, queued requests are answered ``shutting_down`` at once."""
        if self._loop is None:
            return
        withdrawn = []
        with self._lock:
            self.policy.close()
            if not drain:
                for level_queue in self.policy._queues:
                    for req in list(level_queue):
                        if self.policy.cancel(req):
                            withdrawn.append(req)
            self._wakeup.notify_all()
        for req in withdrawn:
            self._fail(req, RequestRejected(SHUTTING_DOWN))
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            await asyncio.to_thread(t.join, max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self._done.put(None)
        await asyncio.to_thread(self._notifier.join, 5.0)
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
        # Let the completions the workers posted before exiting run.
        await asyncio.sleep(0)
        await asyncio.sleep(0)

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
        req, status = self._admit(payload, priority, deadline_s, fut)
        if status == QUEUED:
            if req.deadline_s is not None and req.deadline_s < self._expiry_at:
                self._arm_expiry(req.deadline_s)
        elif status == REJECTED:
            fut.set_exception(RequestRejected(req.reason))
        else:
            fut.set_exception(RequestTimedOut(req.reason))
        return req, fut

    def submit_threadsafe(
        self,
        payload: Any,
        *,
        callback: Callable[[Any, ServingError | None], None],
        priority: int | None = None,
        deadline_s: float | None = None,
    ) -> Request:
        """Queue a request from any thread; ``callback(output, error)`` is called exactly once,
        from a core thread (or this one, for an immediate rejection): keep it short and
        thread-safe. For thread-based clients and load generators: no event-loop hop on the
        way in or out."""
        req, status = self._admit(payload, priority, deadline_s, callback)
        if status == QUEUED:
            if req.deadline_s is not None and req.deadline_s < self._expiry_at:
                self._loop.call_soon_threadsafe(self._arm_expiry_if_earlier, req.deadline_s)
        elif status == REJECTED:
            callback(None, RequestRejected(req.reason))
        else:
            callback(None, RequestTimedOut(req.reason))
        return req

    def _admit(
        self, payload: Any, priority: int | None, deadline_s: float | None, ctx: Any
    ) -> tuple[Request, str]:
        """One policy call under the lock, and a wake-up for a sleeping worker if it queued.
        Returns the status read under the lock: once it is released a worker may already be
        running (or have finished) the request."""
        with self._lock:
            req = self.policy.submit(payload, priority=priority, deadline_s=deadline_s, ctx=ctx)
            status = req.status
            if status == QUEUED and self._idle_workers > self._wakeups_pending:
                # One wake-up per sleeping worker is enough: it polls everything queued.
                self._wakeups_pending += 1
                self._wakeup.notify()
        return req, status

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
        with self._lock:
            cancelled = self.policy.cancel(req)
        if cancelled:
            if isinstance(req.ctx, asyncio.Future):
                if not req.ctx.done():
                    req.ctx.cancel()
            else:
                req.ctx(None, ServingError(CANCELLED))
        return cancelled

    def metrics(self) -> dict[str, Any]:
        with self._lock:
            out = self.policy.metrics.summary()
            if self.config.batch_time_model is not None:
                out["batch_time_scale"] = round(self.policy.batch_time_scale, 4)
                out["shed_margin_ms"] = round(self.policy.shed_margin_s * 1000.0, 4)
            return out

    # -- deadlines (loop thread) ---------------------------------------------------------------
    # Workers answer expired requests when they poll; this timer answers them on time even
    # while every slot is busy with a long batch.
    def _arm_expiry(self, at: float) -> None:
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
        self._expiry_at = at
        self._expiry_timer = self._loop.call_later(max(0.0, at - self.clock()), self._on_expiry)

    def _arm_expiry_if_earlier(self, at: float) -> None:
        if at < self._expiry_at:
            self._arm_expiry(at)

    def _on_expiry(self) -> None:
        self._expiry_timer = None
        self._expiry_at = float("inf")
        with self._lock:
            expired = self.policy.expire()
            next_at = self.policy.next_deadline_s()
        self._fail_expired(expired)
        if next_at is not None:
            self._arm_expiry(next_at)

    # -- delivery (loop thread) ----------------------------------------------------------------
    def _fail(self, req: Request, exc: ServingError) -> None:
        ctx = req.ctx
        if isinstance(ctx, asyncio.Future):
            if not ctx.done():
                ctx.set_exception(exc)
        elif ctx is not None:
            ctx(None, exc)

    def _fail_expired(self, expired: list[Request]) -> None:
        for req in expired:
            self._fail(req, RequestTimedOut(req.reason))

    def _deliver(self, batch, outputs, error) -> None:
        """Resolve a finished batch's futures (loop thread; callbacks were already called)."""
        Future = asyncio.Future
        if error is not None:
            reason = f"{type(error).__name__}: {error}"
            for req in batch.requests:
                if isinstance(req.ctx, Future):
                    self._fail(req, RequestFailed(reason))
            return
        for req, out in zip(batch.requests, outputs):
            fut = req.ctx
            if isinstance(fut, Future) and not fut.done():
                fut.set_result(out)

    # -- execution (worker threads) --------------------------------------------------------
    def _notify_loop(self) -> None:
        get = self._done.get
        post = self._loop.call_soon_threadsafe
        while True:
            item = get()
            if item is None:
                return
            items = [item]
            while not self._done.empty():  # coalesce: one loop wake-up for all finished batches
                nxt = self._done.get_nowait()
                if nxt is None:
                    self._done.put(None)
                    break
                items.append(nxt)
            futures = False
            for batch, outputs, error, _, _, answered in items:  # thread-safe callbacks: answer them now
                if answered:
                    futures = True  # only futures are left; the worker answered the rest
                    continue
                if error is not None:
                    failure = RequestFailed(f"{type(error).__name__}: {error}")
                for i, req in enumerate(batch.requests):
                    ctx = req.ctx
                    if isinstance(ctx, asyncio.Future):
                        futures = True
                    elif error is None:
                        ctx(outputs[i], None)
                    else:
                        ctx(None, failure)
            if not futures:
                continue
            try:
                post(self._deliver_all, items)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return

    def _deliver_all(self, items) -> None:
        for batch, outputs, error, *_ in items:
            self._deliver(batch, outputs, error)

    @staticmethod
    def _answer_callbacks(batch, outputs, error) -> bool:
        """Call the batch's thread-safe callbacks; True if it also has futures to resolve."""
        futures = False
        failure = None if error is None else RequestFailed(f"{type(error).__name__}: {error}")
        Future = asyncio.Future
        for i, req in enumerate(batch.requests):
            ctx = req.ctx
            if isinstance(ctx, Future):
                futures = True
                continue
            try:
                if failure is None:
                    ctx(outputs[i], None)
                else:
                    ctx(None, failure)
            except Exception:  # a caller's broken callback must not stop the worker
                pass
        return futures

    def _worker(self, ready: threading.Event) -> None:
        try:
            if self._init_thread is not None:
                self._init_thread()
        except BaseException as exc:  # raised by start() on the loop
            self._init_errors.append(exc)
            return
        finally:
            ready.set()
        policy = self.policy
        clock = self.clock
        execute = self._execute
        post = self._loop.call_soon_threadsafe
        lock = self._lock
        wakeup = self._wakeup
        inline = self._inline_callbacks
        done = None  # (batch, outputs, error) finished but not yet posted to the loop
        while True:
            batch = None
            with lock:
                if done is not None:
                    policy.complete(done[0], started_s=done[3], finished_s=done[4], failed=done[2] is not None)
                while True:
                    batch, expired, wake_at = policy.poll()
                    if expired:
                        post(self._fail_expired, expired)
                    if batch is not None or done is not None:
                        break  # never sleep on a finished batch's responses
                    if policy.closed and policy.queued == 0:
                        return
                    self._idle_workers += 1
                    wakeup.wait(None if wake_at is None else max(0.0, wake_at - clock()))
                    self._idle_workers -= 1
                    if self._wakeups_pending:
                        self._wakeups_pending -= 1
            if done is not None:
                # Futures are handed to the notifier thread, not posted from here: waking the
                # loop releases the GIL, and the loop would hold it while this thread wants to
                # start the next batch. The notifier gets the GIL once this thread is in torch.
                if not inline:
                    self._done.put((*done, False))
                elif self._answer_callbacks(done[0], done[1], done[2]):
                    self._done.put((*done, True))
                done = None
                if batch is None:
                    continue
            started = clock()
            try:
                outputs = execute([req.payload for req in batch.requests])
                error = None
                if len(outputs) != len(batch.requests):
                    raise RuntimeError("execute returned a different number of outputs")
            except Exception as exc:  # reported to every request of the batch
                outputs, error = None, exc
            done = (batch, outputs, error, started, clock())


__all__ = [
    "CANCELLED",
    "RequestFailed",
    "RequestRejected",
    "RequestTimedOut",
    "ServingCore",
    "ServingError",
]
