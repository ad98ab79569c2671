"""The batching policy: queue, batch forming, deadlines, admission, priorities, drain.

Pure Python: no torch, no threads, no I/O. Every decision reads the time from the injected
``clock`` (seconds, monotonic), so tests drive it with a fake clock and the ideal-batcher
simulation can reason about it without running a model. The serving core (``core.py``) calls
it from one thread only (its event loop), so it needs no locks.

Dispatch rules (as Triton's dynamic batcher):

- a batch is formed only when an execution slot is free;
- it is dispatched at once when ``max_batch_size`` requests are queued, or when a preferred
  batch size can be formed (the largest one that fits), or when the *oldest* queued request has
  waited ``max_queue_delay_ms`` (then with everything queued, up to ``max_batch_size``);
- while draining (after ``close()``) nothing waits: whatever is queued goes out.

Requests are taken highest priority first (level 0 is the most urgent), FIFO within a level.
A request whose deadline has passed is answered with a timeout and never executed. A full queue
rejects at once; with a batch-time model ``s(b) = a + c*b`` (``batch_time.py``) the policy can
also shed a request whose predicted completion already misses its deadline.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.serving.batch_time import BatchTimeModel, observed_scale

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
REJECTED = "rejected"
TIMED_OUT = "timed_out"
CANCELLED = "cancelled"

# Rejection reasons.
QUEUE_FULL = "queue_full"
SHUTTING_DOWN = "shutting_down"
PREDICTED_MISS = "predicted_deadline_miss"
DEADLINE_PASSED = "deadline_passed"

# An idle server whose margin refused this many requests in a row admits the next one as a probe.
PROBE_AFTER_REFUSALS = 8
MAX_MARGIN_S = 1.0  # the calibrated admission margin stays within +-1 s
# The margin's start: this quantile of the first batches' errors (the controller corrects it;
# the configured quantile itself would be the worst of a few dozen batches, too conservative).
START_QUANTILE = 0.9


@dataclass(frozen=True, slots=True)
class BatcherConfig:
    max_batch_size: int = 32
    max_queue_delay_ms: float = 1.0
    preferred_batch_sizes: tuple[int, ...] = ()
    max_queue_size: int = 4096
    num_slots: int = 1
    priority_levels: int = 2
    # None: the least urgent level (priority_levels - 1); level 0 is the most urgent.
    default_priority: int | None = None
    default_timeout_ms: float | None = None
    # Predictive shedding needs a batch-time model; without one only deadlines are enforced.
    batch_time_model: BatchTimeModel | None = None
    shed_predicted_misses: bool = False
    # Predictions are scaled by this quantile of recent (observed / modelled) batch times, so a
    # server that runs slower than its offline fit (contention, noise) sheds accordingly. Every
    # request of a slow batch is late together, hence a high quantile. None: use the model as is.
    batch_time_quantile: float | None = 0.95
    # Online calibration of the admission margin: a request is admitted only if its predicted
    # completion plus the margin meets its deadline, and the margin is steered so that this
    # share of admitted requests finishes by its deadline: after each batch it moves by
    # ``shed_margin_step_ms`` x (the share of the batch's admitted requests that missed their
    # deadline - (1 - quantile)); requests timed out in the queue since the last batch count as
    # misses of that batch. Per batch, not per request: one stall that makes a whole queue late
    # moves it by one step, and it keeps relaxing while batches are small. Late batches push the
    # margin up at once, on-time ones pull it down slowly (below zero when the model is
    # pessimistic); it settles where the miss share is 1 - quantile. It starts from the data:
    # over the first ``shed_margin_start_batches`` batches it is the 0.9 quantile
    # (``START_QUANTILE``) of their prediction errors (each batch's end minus the completion
    # predicted for its last request, the one that had the least slack). An idle server whose
    # margin alone refused ``PROBE_AFTER_REFUSALS`` requests in a row admits the next as a
    # probe (a margin pushed past the budget by a stall would otherwise never run a batch
    # again); a probe on time starts the calibration again. None: no margin (the batch-time
    # scale alone).
    shed_margin_quantile: float | None = None
    shed_margin_step_ms: float = 2.0
    shed_margin_start_batches: int = 32

    def __post_init__(self) -> None:
        if not isinstance(self.max_batch_size, int) or self.max_batch_size < 1:
            raise ValueError("max_batch_size must be an integer >= 1")
        if not math.isfinite(self.max_queue_delay_ms) or self.max_queue_delay_ms < 0:
            raise ValueError("max_queue_delay_ms must be a finite number >= 0")
        prefs = tuple(self.preferred_batch_sizes)
        if any(not isinstance(p, int) or p < 1 or p > self.max_batch_size for p in prefs):
            raise ValueError("preferred_batch_sizes must be integers in 1..max_batch_size")
        if list(prefs) != sorted(set(prefs)):
            raise ValueError("preferred_batch_sizes must be strictly increasing")
        if not isinstance(self.max_queue_size, int) or self.max_queue_size < 1:
            raise ValueError("max_queue_size must be an integer >= 1")
        if not isinstance(self.num_slots, int) or self.num_slots < 1:
            raise ValueError("num_slots must be an integer >= 1")
        if not isinstance(self.priority_levels, int) or self.priority_levels < 1:
            raise ValueError("priority_levels must be an integer >= 1")
        if self.default_priority is not None and not 0 <= self.default_priority < self.priority_levels:
            raise ValueError("default_priority must be in 0..priority_levels-1")
        if self.default_timeout_ms is not None and not self.default_timeout_ms > 0:
            raise ValueError("default_timeout_ms must be > 0 or None")
        if self.shed_predicted_misses and self.batch_time_model is None:
            raise ValueError("shed_predicted_misses needs a batch_time_model")
        if self.batch_time_quantile is not None and not 0.5 <= self.batch_time_quantile <= 1.0:
            raise ValueError("batch_time_quantile must be in 0.5..1 or None")
        if self.shed_margin_quantile is not None and not 0.5 <= self.shed_margin_quantile < 1.0:
            raise ValueError("shed_margin_quantile must be in 0.5..1 (exclusive) or None")
        if not (math.isfinite(self.shed_margin_step_ms) and self.shed_margin_step_ms > 0):
            raise ValueError("shed_margin_step_ms must be a finite number > 0")
        if not isinstance(self.shed_margin_start_batches, int) or self.shed_margin_start_batches < 0:
            raise ValueError("shed_margin_start_batches must be an integer >= 0")


@dataclass(eq=False, slots=True)
class Request:
    id: int
    payload: Any
    priority: int
    arrival_s: float
    deadline_s: float | None
    status: str = QUEUED
    reason: str | None = None
    dispatch_s: float | None = None
    # Predicted completion at admission (predictive shedding only).
    predicted_s: float | None = None
    # Admitted by an idle server although the margin refused it (see ``BatchPolicy.submit``).
    probe: bool = False
    # Opaque slot for the caller (the serving core keeps the response future here).
    ctx: Any = None


@dataclass(eq=False, slots=True)
class Batch:
    id: int
    requests: list[Request]
    formed_s: float


@dataclass(slots=True)
class PolicyMetrics:
    """Counters plus bounded windows of recent timings (a long-lived server must not grow)."""

    window: int = 100_000
    submitted: int = 0
    admitted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    timed_out: int = 0
    cancelled: int = 0
    batches: int = 0
    completed: int = 0
    failed: int = 0
    executed_after_deadline: int = 0
    margin_probes: int = 0
    batch_sizes: dict[int, int] = field(default_factory=dict)
    queue_time_s: deque = field(default_factory=deque)
    compute_time_s: deque = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.queue_time_s = deque(maxlen=self.window)
        self.compute_time_s = deque(maxlen=self.window)

    def summary(self) -> dict[str, Any]:
        def pct(values: deque, q: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000.0

        sizes = self.batch_sizes
        n_items = sum(size * count for size, count in sizes.items())
        return {
            "submitted": self.submitted,
            "admitted": self.admitted,
            "rejected": dict(self.rejected),
            "rejected_total": sum(self.rejected.values()),
            "timed_out": self.timed_out,
            "cancelled": self.cancelled,
            "completed": self.completed,
            "failed": self.failed,
            "batches": self.batches,
            "margin_probes": self.margin_probes,
            "mean_batch_size": (n_items / self.batches) if self.batches else None,
            "batch_size_counts": {str(k): v for k, v in sorted(sizes.items())},
            "executed_after_deadline": self.executed_after_deadline,
            "queue_time_p50_ms": pct(self.queue_time_s, 0.50),
            "queue_time_p99_ms": pct(self.queue_time_s, 0.99),
            "compute_time_p50_ms": pct(self.compute_time_s, 0.50),
            "compute_time_p99_ms": pct(self.compute_time_s, 0.99),
        }


class BatchPolicy:
    """Decides what runs when. Call ``poll()`` after every submit and completion, and at the
    returned ``wake_at_s``; it answers with the batch to run now (or None), the requests that
    just timed out, and the next time something will be due."""

    def __init__(self, config: BatcherConfig, clock: Callable[[], float] = time.perf_counter):
        self.config = config
        self.clock = clock
        self.metrics = PolicyMetrics()
        self._queues: list[deque[Request]] = [deque() for _ in range(config.priority_levels)]
        self._live = [0] * config.priority_levels  # queued, not cancelled/timed out, per level
        self._queued = 0
        self._deadlines: list[tuple[float, int, Request]] = []
        self._free_slots = config.num_slots
        self._inflight: dict[int, Batch] = {}
        self._closed = False
        self._next_request_id = 0
        self._next_batch_id = 0
        self._time_ratios: deque[float] = deque(maxlen=256)  # observed / modelled batch time
        self._time_scale = 1.0
        self._margin_s = 0.0
        self._queue_misses = 0  # admitted requests timed out in the queue since the last batch
        self._start_errors: list[float] = []  # the first batches' prediction errors
        self._idle_refusals = 0  # requests refused in a row by the margin alone, server idle
        self._default_priority = (
            config.priority_levels - 1 if config.default_priority is None else config.default_priority
        )

    # -- admission -------------------------------------------------------------------------
    def submit(
        self,
        payload: Any,
        *,
        priority: int | None = None,
        deadline_s: float | None = None,
        ctx: Any = None,
    ) -> Request:
        """Queue a request, or answer it at once: status REJECTED (queue full, shutting down,
        predicted deadline miss) or TIMED_OUT (deadline already passed)."""
        cfg = self.config
        now = self.clock()
        if priority is None:
            priority = self._default_priority
        elif not 0 <= priority < cfg.priority_levels:
            raise ValueError(f"priority must be in 0..{cfg.priority_levels - 1}")
        if deadline_s is None and cfg.default_timeout_ms is not None:
            deadline_s = now + cfg.default_timeout_ms / 1000.0
        rid = self._next_request_id
        self._next_request_id = rid + 1
        req = Request(rid, payload, priority, now, deadline_s, ctx=ctx)
        m = self.metrics
        m.submitted += 1
        if self._closed:
            return self._reject(req, SHUTTING_DOWN)
        if self._queued >= cfg.max_queue_size:
            return self._reject(req, QUEUE_FULL)
        if deadline_s is not None:
            if deadline_s <= now:
                req.status = TIMED_OUT
                req.reason = DEADLINE_PASSED
                m.timed_out += 1
                return req
            if cfg.shed_predicted_misses:
                done, shared = self._predict(priority, now)
                margin = self._margin_s
                if done + margin > deadline_s or done + margin > shared:
                    # A margin that keeps refusing requests an idle server's model says it can
                    # serve would refuse every request from now on: no batch would run again
                    # to bring it down (a stall can push it past the budget). After a few such
                    # refusals in a row, admit one as a probe; ``complete`` lowers the margin
                    # if the probe meets its deadline.
                    if not (done <= deadline_s and self._idle()):
                        return self._reject(req, PREDICTED_MISS)
                    self._idle_refusals += 1
                    if self._idle_refusals <= PROBE_AFTER_REFUSALS:
                        return self._reject(req, PREDICTED_MISS)
                    req.probe = True
                    m.margin_probes += 1
                self._idle_refusals = 0
                req.predicted_s = done
            heapq.heappush(self._deadlines, (deadline_s, rid, req))
        self._queues[priority].append(req)
        self._live[priority] += 1
        self._queued += 1
        m.admitted += 1
        return req

    def _idle(self) -> bool:
        return self._queued == 0 and self._free_slots == self.config.num_slots

    def _reject(self, req: Request, reason: str) -> Request:
        req.status = REJECTED
        req.reason = reason
        rejected = self.metrics.rejected
        rejected[reason] = rejected.get(reason, 0) + 1
        return req

    def batch_time_s(self, batch_size: int) -> float:
        """Predicted execution time of a batch: the model, scaled by recent observations."""
        return self.config.batch_time_model.batch_time_s(batch_size) * self._time_scale

    @property
    def batch_time_scale(self) -> float:
        return self._time_scale

    @property
    def shed_margin_s(self) -> float:
        """The calibrated admission margin (s) in use (starts at 0)."""
        return self._margin_s

    def _steer_margin(self, missed: int, admitted: int) -> None:
        """Move the admission margin by one step x (missed share - allowed share)."""
        q = self.config.shed_margin_quantile
        if q is None or admitted == 0:
            return
        step = self.config.shed_margin_step_ms / 1000.0
        margin = self._margin_s + step * (missed / admitted - (1.0 - q))
        self._margin_s = min(MAX_MARGIN_S, max(-MAX_MARGIN_S, margin))

    def predict_completion_s(self, priority: int, now: float | None = None) -> float:
        """When a request submitted now at ``priority`` would finish, from s(b): the earliest
        slot to free up, then full batches for everything queued ahead of it, then its own."""
        return self._predict(priority, self.clock() if now is None else now)[0]

    def _predict(self, priority: int, now: float) -> tuple[float, float]:
        """(predicted completion, deadline that completion must also meet). Joining a batch
        makes it slower for everyone in it, so a request that would share the next batch must
        not push it past the earliest deadline already queued."""
        model = self.config.batch_time_model
        if model is None:
            return -math.inf, math.inf
        cfg = self.config
        ahead = sum(self._live[: priority + 1])
        if self._free_slots > 0:
            start = now
        else:
            start = min(
                max(now, b.formed_s + self.batch_time_s(len(b.requests)))
                for b in self._inflight.values()
            )
        full_batches, rest = divmod(ahead, cfg.max_batch_size)
        done = (
            start
            + full_batches * self.batch_time_s(cfg.max_batch_size) / cfg.num_slots
            + self.batch_time_s(rest + 1)
        )
        shared = math.inf
        if full_batches == 0 and ahead:
            earliest = self.next_deadline_s()
            if earliest is not None:
                shared = earliest
        return done, shared

    def cancel(self, req: Request) -> bool:
        """Withdraw a queued request. A request already running cannot be cancelled."""
        if req.status != QUEUED:
            return False
        self._drop(req, CANCELLED)
        self.metrics.cancelled += 1
        return True

    def _drop(self, req: Request, status: str) -> None:
        # The entry stays in its deque and is skipped when reached: O(1) removal.
        req.status = status
        self._live[req.priority] -= 1
        self._queued -= 1

    # -- dispatch --------------------------------------------------------------------------
    def poll(self) -> tuple[Batch | None, list[Request], float | None]:
        """Return (batch to run now or None, requests that just timed out, next wake time)."""
        now = self.clock()
        expired = self._expire(now)
        batch = None
        wake_at = None
        if self._queued and self._free_slots:
            take = self._batch_size_due(now)
            if take:
                batch = self._form(take, now, expired)
            if batch is None and self._queued and not self._closed:
                wake_at = self._oldest_arrival() + self.config.max_queue_delay_ms / 1000.0
        first = self.next_deadline_s()
        if first is not None and (wake_at is None or first < wake_at):
            wake_at = first
        return batch, expired, wake_at

    def expire(self) -> list[Request]:
        """Time out every queued request whose deadline has passed; return them."""
        return self._expire(self.clock())

    def next_deadline_s(self) -> float | None:
        """The earliest deadline among queued requests, if any."""
        heap = self._deadlines
        while heap and heap[0][2].status != QUEUED:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _expire(self, now: float) -> list[Request]:
        expired: list[Request] = []
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            req = heapq.heappop(heap)[2]
            if req.status == QUEUED:
                self._drop(req, TIMED_OUT)
                req.reason = DEADLINE_PASSED
                self.metrics.timed_out += 1
                if req.predicted_s is not None:
                    self._queue_misses += 1
                expired.append(req)
        return expired

    def _batch_size_due(self, now: float) -> int:
        cfg = self.config
        n = self._queued
        if n >= cfg.max_batch_size:
            return cfg.max_batch_size
        if self._closed:
            return n
        for size in reversed(cfg.preferred_batch_sizes):
            if size <= n:
                return size
        if now - self._oldest_arrival() >= cfg.max_queue_delay_ms / 1000.0:
            return n
        return 0

    def _oldest_arrival(self) -> float:
        oldest = math.inf
        for q in self._queues:
            while q and q[0].status != QUEUED:
                q.popleft()
            if q and q[0].arrival_s < oldest:
                oldest = q[0].arrival_s
        return oldest

    def _form(self, take: int, now: float, expired: list[Request]) -> Batch | None:
        """Take up to ``take`` requests, most urgent level first, FIFO within a level.

        A request whose deadline has passed is answered with a timeout. With shedding on, the
        batch is also kept small enough to finish before the earliest deadline in it, s(k) from
        the model: a request that cannot finish even alone is timed out now rather than run
        late, and one that would make the batch too slow waits for the next batch.
        """
        cfg = self.config
        model = cfg.batch_time_model if cfg.shed_predicted_misses else None
        # A calibrated margin below zero says the model is pessimistic: batches may grow by it
        # too (a positive one is left to admission; the alone-check below never uses it).
        relax = min(0.0, self._margin_s)
        picked: list[Request] = []
        m = self.metrics
        earliest = math.inf  # earliest deadline among the picked requests
        full = False
        for level, q in enumerate(self._queues):
            while q and len(picked) < take:
                req = q[0]
                if req.status != QUEUED:
                    q.popleft()
                    continue
                deadline = req.deadline_s
                if deadline is not None:
                    alone = now if model is None else now + self.batch_time_s(1)
                    if deadline <= alone:
                        q.popleft()
                        self._live[level] -= 1
                        self._queued -= 1
                        req.status = TIMED_OUT
                        req.reason = DEADLINE_PASSED if deadline <= now else PREDICTED_MISS
                        m.timed_out += 1
                        if req.predicted_s is not None:  # admitted, then missed
                            self._queue_misses += 1
                        expired.append(req)
                        continue
                if model is not None and picked:
                    limit = earliest if deadline is None or deadline > earliest else deadline
                    if now + self.batch_time_s(len(picked) + 1) + relax > limit:
                        full = True  # it stays queued for the next batch
                        break
                q.popleft()
                self._live[level] -= 1
                self._queued -= 1
                if deadline is not None and deadline < earliest:
                    earliest = deadline
                req.status = RUNNING
                req.dispatch_s = now
                m.queue_time_s.append(now - req.arrival_s)
                picked.append(req)
            if full or len(picked) == take:
                break
        if not picked:
            return None
        bid = self._next_batch_id
        self._next_batch_id = bid + 1
        batch = Batch(bid, picked, now)
        self._inflight[bid] = batch
        self._free_slots -= 1
        m.batches += 1
        size = len(picked)
        m.batch_sizes[size] = m.batch_sizes.get(size, 0) + 1
        return batch

    def complete(
        self,
        batch: Batch,
        *,
        started_s: float | None = None,
        finished_s: float | None = None,
        failed: bool = False,
    ) -> None:
        """Free the batch's slot and record its timings. ``started_s`` is when the executor
        really began it; a request whose deadline had passed by then counts as executed late."""
        if self._inflight.pop(batch.id, None) is None:
            raise ValueError(f"batch {batch.id} is not in flight")
        self._free_slots += 1
        m = self.metrics
        if finished_s is None:
            finished_s = self.clock()
        if started_s is None:
            started_s = batch.formed_s
        m.compute_time_s.append(finished_s - started_s)
        cfg = self.config
        model = cfg.batch_time_model
        q = cfg.batch_time_quantile
        if model is not None and q is not None and not failed:
            predicted = model.batch_time_s(len(batch.requests))
            if predicted > 0:
                self._time_ratios.append((finished_s - started_s) / predicted)
                if len(self._time_ratios) >= 16 and m.batches % 8 == 0:
                    self._time_scale = observed_scale(self._time_ratios, q)
        status = DONE
        if failed:
            m.failed += len(batch.requests)
            status = REJECTED
        else:
            m.completed += len(batch.requests)
        for req in batch.requests:
            req.status = status
            if req.deadline_s is not None and req.deadline_s < started_s:
                m.executed_after_deadline += 1
        if not failed and cfg.shed_margin_quantile is not None:
            admitted = missed = 0
            probed = False
            last_predicted = -math.inf
            for req in batch.requests:
                if req.predicted_s is not None:
                    admitted += 1
                    missed += req.deadline_s < finished_s
                    last_predicted = max(last_predicted, req.predicted_s)
                    probed = probed or req.probe
            if probed and not missed:
                # The margin was starving an idle server and this batch met its deadlines: the
                # calibration was wrong (made during a stall). Start it again from the batches
                # that follow, as a fresh server does, and until then halve the margin's
                # distance to the error just seen.
                self._start_errors = []
                error = finished_s - last_predicted
                if self._margin_s > error:
                    self._margin_s = error + (self._margin_s - error) / 2.0
                return
            missed += self._queue_misses
            admitted += self._queue_misses
            self._queue_misses = 0
            start = self._start_errors
            if admitted and len(start) < cfg.shed_margin_start_batches and last_predicted > -math.inf:
                start.append(finished_s - last_predicted)
                ordered = sorted(start)
                self._margin_s = ordered[min(len(ordered) - 1, int(START_QUANTILE * len(ordered)))]
            else:
                self._steer_margin(missed, admitted)

    # -- shutdown --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop admitting; queued requests are dispatched without waiting (graceful drain)."""
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def drained(self) -> bool:
        return self._queued == 0 and not self._inflight

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def in_flight(self) -> int:
        return len(self._inflight)
