"""The body of a benchmark job: what the Celery task calls, in the worker process.

`run_execute` takes the run (compare-and-set), runs `engine.bench.run` with a progress callback
and a cancel check, and ends the run with a status and a reason. A heartbeat thread writes the
latest progress once a second (the only writes while it runs) and learns from the same UPDATE
whether the run was cancelled or reaped; the engine's cancel check only reads a flag it sets, so
the engine's threads never touch the database. torch is imported here, inside the job, never by
the web process.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection

from engine.bench.design_spec import measurements_from_result
from reviewapp.benchmarks import services
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.benchmarks.progress import ProgressTracker

Status = BenchmarkRun.Status
logger = logging.getLogger(__name__)
HEARTBEAT_INTERVAL_S = 1.0
OOM_HINT = ("The device ran out of memory. Try a smaller max batch size, a lower precision (bf16 or fp16 "
            "instead of fp32), a shorter sequence length, or a GPU with more memory.")


class SoftTimeLimit(Exception):
    """Stands for celery's SoftTimeLimitExceeded where celery is not imported (tests)."""


def is_out_of_memory(error: BaseException | str | None) -> bool:
    if error is None:
        return False
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    return "out of memory" in str(error).lower()


class _Heartbeat:
    """Once a second: write progress and heartbeat; stop the engine when the run is no longer ours
    (cancelled, reaped) or the soft time limit has passed."""

    def __init__(self, run: BenchmarkRun, interval_s: float = HEARTBEAT_INTERVAL_S):
        self.run = run
        self.interval_s = interval_s
        self.tracker = ProgressTracker()
        self.lock = threading.Lock()
        self.stop = threading.Event()  # the engine's should_cancel reads this
        self.lost = False  # the run was cancelled or taken from us
        self.over_time = False
        self._done = threading.Event()
        self._deadline = time.monotonic() + run.soft_time_limit_s
        self._thread = threading.Thread(target=self._loop, name=f"benchmark-{run.pk}-heartbeat", daemon=True)

    def progress(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.tracker.update(event)

    def should_cancel(self) -> bool:
        return self.stop.is_set()

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        try:
            while not self._done.wait(self.interval_s):
                try:
                    self.beat()
                except DatabaseError:  # a locked or briefly unreachable database: beat again next second
                    logger.warning("benchmark %s: heartbeat not written", self.run.pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def beat(self) -> None:
        if time.monotonic() > self._deadline:
            self.over_time = True
            self.stop.set()
        with self.lock:
            percent, phase = self.tracker.percent, self.tracker.phase
        if not services.run_progress(run=self.run, progress=percent, phase=phase):
            self.lost = True
            self.stop.set()


def run_execute(run_id: int, *, task_id: str = "", bench: Callable[..., dict] | None = None,
                soft_time_limit_exceptions: tuple[type[BaseException], ...] = (SoftTimeLimit,)) -> str | None:
    """Run benchmark `run_id` in this process; return the status it ended with, or None when this
    delivery had nothing to do (the run had ended or another live job holds it).

    `bench` is `engine.bench.run` (injectable for tests). Never raises for a failing benchmark: the
    run ends failed with the reason, so the task is not retried.
    """
    host = f"{socket.gethostname()} (pid {os.getpid()})"
    run = services.run_start(run_id=run_id, task_id=task_id, host=host)
    if run is None:
        return None
    if bench is None:
        from engine.bench import run as bench  # imports torch: worker only

    status, reason, result, measurements, notes, device = Status.FAILED, "", None, None, [], ""
    with _Heartbeat(run) as heartbeat:
        try:
            result = bench(dict(run.spec), progress=heartbeat.progress, should_cancel=heartbeat.should_cancel)
        except soft_time_limit_exceptions:
            heartbeat.over_time = True
        except Exception as exc:  # a bad spec the checks missed, a driver error: the run says what
            reason = OOM_HINT + f" ({type(exc).__name__}: {exc})" if is_out_of_memory(exc) else (
                f"The benchmark failed: {type(exc).__name__}: {exc}")
    if heartbeat.lost:
        return None  # cancelled or reaped meanwhile: that state stands
    if heartbeat.over_time:
        # A stopped run's partial result answers no question: none is kept.
        status, result = Status.TIMED_OUT, None
        reason = (f"Stopped at the soft time limit of {run.soft_time_limit_s:g} s; use fewer queries or a "
                  "higher target rate for a shorter run.")
    elif result is not None:
        device = _device(result)
        if result.get("status") == "ok":
            checked, errors = measurements_from_result(result)
            status = Status.SUCCEEDED
            if errors:
                reason = "Measured, but not usable for the capacity plan: " + "; ".join(
                    f"{k}: {v}" for k, v in sorted(errors.items()))
            else:
                measurements, notes = checked["measurements"], checked["notes"]
        elif result.get("status") == "cancelled":
            status, reason, result = Status.CANCELLED, "Cancelled.", None
        else:
            error = result.get("error") or "unknown error"
            reason = f"{OOM_HINT} ({error})" if is_out_of_memory(error) else f"The benchmark failed: {error}"
    services.run_finish(run=run, status=status, reason=reason, result=result, measurements=measurements,
                        notes=notes, device=device)
    return status


def _device(result: dict[str, Any]) -> str:
    provenance = result.get("provenance") or {}
    name, kind = provenance.get("device_name"), provenance.get("device_type")
    if kind == "cuda" and name:
        return str(name)
    return str((result.get("settings") or {}).get("device") or kind or "")
