"""Writes to benchmark runs. Views and the task call these; they hold the rules and the transactions.

Every change of a run's status is a compare-and-set: one UPDATE filtered on the states it may
leave (and, while running, on the lease of the execution that holds it). A redelivered task for
an ended run, a finish after a cancel, a retry after the reaper: each updates zero rows and
changes nothing, so a saved result is never overwritten and never written twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from engine.bench.design_spec import (
    known_throughput_measurements,
    model_shape_key,
    validate_spec,
    validate_uploaded_result,
)
from reviewapp.accounts.models import Role, Team
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.designs.access import membership_of

Status = BenchmarkRun.Status

LOST_REASON = "The worker stopped answering (lost or killed): no heartbeat for {seconds:g} s."
HARD_LIMIT_REASON = "Stopped by the hard time limit of {seconds:g} s (the worker did not stop by itself)."
QUEUED_TOO_LONG_REASON = ("No worker took the run within {hours:g} h: is a worker consuming the "
                          "'{queue}' queue?")


class BenchmarkRefused(Exception):
    """A request the rules refuse (cap reached, broker down, run already ended); `str()` says why."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


# --- requests from people ----------------------------------------------------------------------

def benchmark_request(*, design, user, spec: dict[str, Any], shape_key: str | None = None) -> BenchmarkRun:
    """Queue a benchmark of `spec` for `design` and publish its task once the row is committed.

    Raises ValidationError (a dict keyed by spec field, as `validate_spec` names them) when the
    spec is refused, BenchmarkRefused when the team's cap on active runs is reached or the broker
    cannot be reached; nothing is left behind in either case.
    """
    cleaned, errors = validate_spec(spec)
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    with transaction.atomic():
        # Serialises requests of one team (PostgreSQL row lock; SQLite's IMMEDIATE transactions
        # already serialise writers), so two requests cannot both take the last free slot.
        Team.objects.select_for_update().filter(pk=design.team_id).first()
        cap = settings.BENCHMARK_MAX_ACTIVE_RUNS_PER_TEAM
        active = BenchmarkRun.objects.filter(design__team_id=design.team_id, status__in=BenchmarkRun.ACTIVE).count()
        if active >= cap:
            raise BenchmarkRefused(
                f"{design.team} already has {active} benchmark run{'s' if active != 1 else ''} queued or running "
                f"(at most {cap} at a time, to share the GPU). Wait for one to end or cancel one."
            )
        run = BenchmarkRun.objects.create(
            design=design, design_revision=design.revision, requested_by=user, source=BenchmarkRun.Source.RUN,
            spec=cleaned, shape_key=shape_key or model_shape_key(cleaned), device=str(cleaned.get("device", "auto")),
            soft_time_limit_s=settings.BENCHMARK_SOFT_TIME_LIMIT_S, phase="waiting for a worker",
        )  # fmt: skip
        # After the commit, so the worker finds the row; a failure raises out of this block.
        transaction.on_commit(partial(_publish, run))
    return run


def _publish(run: BenchmarkRun) -> None:
    """Send the task; if the broker cannot be reached, remove the run and say so."""
    from reviewapp.benchmarks.tasks import benchmark_run
    from reviewapp.celery import app

    try:
        # A fresh connection to the configured broker, tried once: the user is waiting.
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=0, timeout=settings.BENCHMARK_PUBLISH_TIMEOUT_S)
            result = benchmark_run.apply_async(
                args=[run.pk], connection=conn, retry=False, queue=settings.BENCHMARK_QUEUE,
                soft_time_limit=run.soft_time_limit_s + 30, time_limit=settings.BENCHMARK_TIME_LIMIT_S,
            )  # fmt: skip
    except Exception as exc:  # any transport error means "not sent"
        BenchmarkRun.objects.filter(pk=run.pk).delete()
        raise BenchmarkRefused(
            "The job queue (broker) cannot be reached, so the benchmark was not started and nothing was "
            f"saved. Try again in a minute; if it persists, tell an admin ({type(exc).__name__})."
        ) from exc
    BenchmarkRun.objects.filter(pk=run.pk, task_id="").update(task_id=result.id)
    run.task_id = result.id


def benchmark_cancel(*, run: BenchmarkRun, user, now: dt.datetime | None = None) -> bool:
    """Cancel a queued or running run (True), or do nothing if it has already ended (False).

    A running job sees the change at its next heartbeat (about a second) and stops.
    """
    now = _now(now)
    who = user.get_username() if user is not None else "someone"
    updated = BenchmarkRun.objects.filter(pk=run.pk, status__in=BenchmarkRun.ACTIVE).update(
        status=Status.CANCELLED, reason=f"Cancelled by {who}.", finished_at=now, phase="cancelled",
    )
    run.refresh_from_db()
    return updated == 1


@transaction.atomic
def benchmark_upload(*, design, user, raw: bytes | str, expected_spec: dict[str, Any], shape_key: str,
                     now: dt.datetime | None = None) -> BenchmarkRun:
    """Store a result file `python -m engine.bench --out` wrote on another machine.

    Raises ValidationError keyed by JSON path when `validate_uploaded_result` refuses it (it must
    be a genuine, complete, finite result of the design's spec); nothing is written then.
    """
    now = _now(now)
    upload, errors = validate_uploaded_result(raw, expected_spec=expected_spec, now=now)
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    measurements = upload["measurements"]
    result = upload["result"]
    started = dt.datetime.fromisoformat(result["started_at"])
    provenance = upload["provenance"]
    host = provenance.get("platform") or ""
    return BenchmarkRun.objects.create(
        design=design, design_revision=design.revision, requested_by=user, source=BenchmarkRun.Source.UPLOADED,
        source_note=f"Uploaded by {user.get_username()}", spec=expected_spec, shape_key=shape_key,
        status=Status.SUCCEEDED, progress=100.0, phase="done", started_at=started,
        finished_at=dt.datetime.fromisoformat(measurements["measured_at"]), worker_host=str(host)[:255],
        device=str(measurements.get("device") or "")[:200], result=result, measurements=measurements,
        notes=list(upload["notes"]),
    )  # fmt: skip


@transaction.atomic
def benchmark_enter_known(*, design, user, shape_key: str, per_replica_qps: Any, p99_ms: Any, source: Any,
                          p99_budget_ms: Any = None, device: Any = None, dtype: Any = None,
                          now: dt.datetime | None = None) -> BenchmarkRun:
    """Store a per-replica throughput the team measured elsewhere, with where it comes from.

    Raises ValidationError keyed by argument name (per_replica_qps, p99_ms, source, ...).
    """
    now = _now(now)
    measurements, errors = known_throughput_measurements(
        per_replica_qps, p99_ms, source, p99_budget_ms=p99_budget_ms, device=device, dtype=dtype,
    )
    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    measurements["measured_at"] = now.isoformat(timespec="seconds")
    return BenchmarkRun.objects.create(
        design=design, design_revision=design.revision, requested_by=user, source=BenchmarkRun.Source.ENTERED,
        source_note=measurements["source_note"], shape_key=shape_key, status=Status.SUCCEEDED, progress=100.0,
        phase="entered", started_at=now, finished_at=now, device=measurements.get("device") or "",
        measurements=measurements,
    )  # fmt: skip


@transaction.atomic
def benchmark_pin(*, run: BenchmarkRun, user, pinned: bool = True, now: dt.datetime | None = None) -> None:
    """A reviewer pins `run` as the design's measurement in force (or unpins it).

    Only a succeeded run with measurements can be pinned; pinning one unpins any other.
    """
    if not membership_of(user, run.design.team_id).has_role(Role.REVIEWER):
        raise PermissionDenied("Pinning a measurement needs the reviewer role.")
    if not pinned:
        BenchmarkRun.objects.filter(pk=run.pk).update(pinned_at=None, pinned_by=None)
        run.refresh_from_db()
        return
    if run.status != Status.SUCCEEDED or run.measurements is None:
        raise BenchmarkRefused("Only a succeeded run with measurements can be pinned.")
    BenchmarkRun.objects.filter(design_id=run.design_id, pinned_at__isnull=False).exclude(pk=run.pk).update(
        pinned_at=None, pinned_by=None
    )
    BenchmarkRun.objects.filter(pk=run.pk).update(pinned_at=_now(now), pinned_by=user)
    run.refresh_from_db()


# --- the job's own writes (compare-and-set) ----------------------------------------------------

def run_start(*, run_id: int, task_id: str, host: str, now: dt.datetime | None = None) -> BenchmarkRun | None:
    """Take the run for this execution; None when it must not run (ended, or held by a live job).

    A queued run is taken; a running run only when its heartbeat is stale (its worker died and
    the broker redelivered the task). A duplicate delivery while the first one runs gets None.
    """
    now = _now(now)
    stale = now - dt.timedelta(seconds=settings.BENCHMARK_HEARTBEAT_TIMEOUT_S)
    lease = uuid.uuid4().hex
    taken = BenchmarkRun.objects.filter(pk=run_id, source=BenchmarkRun.Source.RUN).filter(
        Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=stale)
    ).update(
        status=Status.RUNNING, lease=lease, task_id=task_id, worker_host=host[:255], started_at=now,
        heartbeat_at=now, progress=0.0, phase="starting", reason="",
    )  # fmt: skip
    if taken != 1:
        return None
    return BenchmarkRun.objects.get(pk=run_id)


def run_progress(*, run: BenchmarkRun, progress: float, phase: str, now: dt.datetime | None = None) -> bool:
    """Heartbeat with the latest progress. False when the run is no longer this execution's to
    run (cancelled, reaped, taken over): the job must stop."""
    return BenchmarkRun.objects.filter(pk=run.pk, status=Status.RUNNING, lease=run.lease).update(
        progress=round(float(progress), 2), phase=phase[:200], heartbeat_at=_now(now)
    ) == 1


def run_finish(*, run: BenchmarkRun, status: str, reason: str = "", result: dict | None = None,
               measurements: dict | None = None, notes: list | None = None, device: str = "",
               now: dt.datetime | None = None) -> bool:
    """End the run with `status`; False (and nothing written) when it had already ended or is no
    longer this execution's."""
    if status not in BenchmarkRun.ENDED:
        raise ValueError(f"not an ended status: {status!r}")
    fields: dict[str, Any] = {
        "status": status, "reason": reason, "finished_at": _now(now), "heartbeat_at": _now(now),
        "phase": "done" if status == Status.SUCCEEDED else Status(status).label.lower(),
        "result": result, "measurements": measurements, "notes": list(notes or []),
    }
    if status == Status.SUCCEEDED:
        fields["progress"] = 100.0
    if device:
        fields["device"] = device[:200]
    return BenchmarkRun.objects.filter(pk=run.pk, status=Status.RUNNING, lease=run.lease).update(**fields) == 1


def runs_reap(*, now: dt.datetime | None = None) -> int:
    """End the runs no job will end: running with a silent heartbeat (worker killed or lost) or
    past the hard time limit, and queued for longer than any worker would take. Returns how many.

    Cheap (an UPDATE on the status index each); pages of runs call it, and so does
    `manage.py reap_benchmarks` for a cron or a Kubernetes CronJob.
    """
    now = _now(now)
    heartbeat_s = settings.BENCHMARK_HEARTBEAT_TIMEOUT_S
    hard_s = settings.BENCHMARK_TIME_LIMIT_S
    queued_s = settings.BENCHMARK_QUEUED_TIMEOUT_S
    running = BenchmarkRun.objects.filter(status=Status.RUNNING)
    ended = running.filter(started_at__lt=now - dt.timedelta(seconds=hard_s)).update(
        status=Status.TIMED_OUT, reason=HARD_LIMIT_REASON.format(seconds=hard_s), finished_at=now, phase="timed out"
    )
    ended += running.filter(heartbeat_at__lt=now - dt.timedelta(seconds=heartbeat_s)).update(
        status=Status.FAILED, reason=LOST_REASON.format(seconds=heartbeat_s), finished_at=now, phase="failed"
    )
    ended += BenchmarkRun.objects.filter(
        status=Status.QUEUED, created_at__lt=now - dt.timedelta(seconds=queued_s)
    ).update(
        status=Status.FAILED, finished_at=now, phase="failed",
        reason=QUEUED_TOO_LONG_REASON.format(hours=queued_s / 3600, queue=settings.BENCHMARK_QUEUE),
    )  # fmt: skip
    return ended
