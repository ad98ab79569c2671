"""Benchmark services and selectors: compare-and-set, the job body, the reaper, the precedence
of the measurements in force. Side effects are read back from the database."""

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

import engine
from engine.checklist import compile_checklist, default_checklist
from reviewapp.benchmarks import services
from reviewapp.benchmarks.execute import OOM_HINT, SoftTimeLimit, run_execute
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.benchmarks.selectors import measurements_in_force
from tests.reviewapp.benchmark_fixtures import (  # noqa: F401
    TINY_SHAPE,
    make_run,
    measurements_for,
    tiny_design,
    tiny_result,
)

Status = BenchmarkRun.Status
SPEC = {"scenario": "capacity", "model": {"params": 200000, "family": "mlp", "dtype": "fp32", "seq_len": 16},
        "device": "cpu", "batcher": {"max_batch_size": 8, "max_queue_delay_ms": 1.0}, "queries": 300}


def queued(design, **fields):
    return make_run(design, status="queued", measurements=None, spec=SPEC, started_at=None, heartbeat_at=None,
                    **fields)


def fake_bench(result=None, *, events=(), until_cancelled=False, raises=None, seconds=0.0):
    """Stands for engine.bench.run: emits `events`, then returns `result` (or waits to be cancelled)."""
    calls = []

    def bench(spec, progress=None, should_cancel=None):
        calls.append(spec)
        for event in events:
            progress(event)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            progress({"stage": "max-qps", "rate_qps": 100.0, "p99_ms": 1.0, "pass": True})
            time.sleep(0.01)
        if raises is not None:
            raise raises
        if until_cancelled:
            deadline = time.monotonic() + 15
            while not should_cancel() and time.monotonic() < deadline:
                time.sleep(0.02)
            return {**tiny_result(), "status": "cancelled"}
        return result if result is not None else tiny_result()

    bench.calls = calls
    return bench


# --- compare-and-set ------------------------------------------------------------------------

def test_a_duplicate_delivery_of_a_live_run_does_nothing(tiny_design):
    run = queued(tiny_design)
    first = services.run_start(run_id=run.pk, task_id="t1", host="a")
    assert first is not None
    assert services.run_start(run_id=run.pk, task_id="t2", host="b") is None
    run.refresh_from_db()
    assert (run.status, run.task_id, run.worker_host, run.lease) == (Status.RUNNING, "t1", "a", first.lease)


def test_a_redelivery_after_the_run_ended_does_nothing(tiny_design):
    run = queued(tiny_design)
    held = services.run_start(run_id=run.pk, task_id="t1", host="a")
    assert services.run_finish(run=held, status=Status.SUCCEEDED, result={"n": 1}, measurements={"max_qps_at_p99": 5})
    assert services.run_start(run_id=run.pk, task_id="t2", host="b") is None
    bench = fake_bench()
    assert run_execute(run.pk, bench=bench) is None
    assert bench.calls == []
    run.refresh_from_db()
    assert (run.status, run.result, run.task_id) == (Status.SUCCEEDED, {"n": 1}, "t1")


def test_a_second_finish_changes_nothing_and_one_result_stays(tiny_design):
    held = services.run_start(run_id=queued(tiny_design).pk, task_id="t1", host="a")
    assert services.run_finish(run=held, status=Status.SUCCEEDED, result={"n": 1}, measurements={"max_qps_at_p99": 5})
    assert not services.run_finish(run=held, status=Status.FAILED, reason="retry", result={"n": 2})
    held.refresh_from_db()
    assert (held.status, held.result, held.reason) == (Status.SUCCEEDED, {"n": 1}, "")
    assert BenchmarkRun.objects.count() == 1


def test_a_finish_after_a_cancel_changes_nothing(tiny_design, owner):
    held = services.run_start(run_id=queued(tiny_design).pk, task_id="t1", host="a")
    assert services.benchmark_cancel(run=held, user=owner)
    assert not services.run_finish(run=held, status=Status.SUCCEEDED, result={"n": 1}, measurements={"x": 1})
    assert not services.run_progress(run=held, progress=50, phase="late")
    held.refresh_from_db()
    assert (held.status, held.result, held.measurements, held.reason) == (
        Status.CANCELLED, None, None, "Cancelled by olivia.")


def test_cancel_of_an_ended_run_changes_nothing(tiny_design, owner):
    run = make_run(tiny_design)
    assert not services.benchmark_cancel(run=run, user=owner)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED


def test_a_stale_running_run_is_taken_over_and_the_old_execution_can_no_longer_write(tiny_design, settings):
    settings.BENCHMARK_HEARTBEAT_TIMEOUT_S = 30
    old = services.run_start(run_id=queued(tiny_design).pk, task_id="t1", host="dead")
    BenchmarkRun.objects.filter(pk=old.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=31))
    new = services.run_start(run_id=old.pk, task_id="t2", host="alive")
    assert new is not None and new.lease != old.lease
    assert not services.run_progress(run=old, progress=90, phase="old")
    assert not services.run_finish(run=old, status=Status.SUCCEEDED, result={"old": True})
    assert services.run_finish(run=new, status=Status.SUCCEEDED, result={"new": True})
    new.refresh_from_db()
    assert (new.result, new.worker_host) == ({"new": True}, "alive")


# --- the job body ----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_job_stores_the_result_and_its_measurements(tiny_design):
    run = queued(tiny_design)
    assert run_execute(run.pk, task_id="t1", bench=fake_bench()) == Status.SUCCEEDED
    run.refresh_from_db()
    assert (run.status, run.progress, run.device, run.task_id) == (Status.SUCCEEDED, 100.0, "cpu", "t1")
    assert run.result == tiny_result()
    assert run.measurements["max_qps_at_p99"] == tiny_result()["max_qps_at_p99"]
    assert any("short" in note for note in run.notes)
    assert run.started_at <= run.finished_at


@pytest.mark.django_db(transaction=True)
def test_progress_is_written_at_most_once_a_second(tiny_design, monkeypatch):
    writes = []
    real = services.run_progress
    monkeypatch.setattr(services, "run_progress", lambda **kw: writes.append(kw["progress"]) or real(**kw))
    run = queued(tiny_design)
    # Hundreds of progress events in about 2.5 s.
    events = [{"stage": "setup", "fraction": 0.0}, {"stage": "offline", "fraction": 0.05}]
    assert run_execute(run.pk, bench=fake_bench(events=events, seconds=2.5)) == Status.SUCCEEDED
    assert 1 <= len(writes) <= 3
    assert writes == sorted(writes) and writes[-1] > 5.0  # the bar advanced past the offline marker


@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_the_database_refused_does_not_stop_the_job(tiny_design, monkeypatch):
    from django.db import OperationalError

    real, calls = services.run_progress, []

    def flaky(**kwargs):
        calls.append(kwargs["progress"])
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(**kwargs)

    monkeypatch.setattr(services, "run_progress", flaky)
    run = queued(tiny_design)
    assert run_execute(run.pk, bench=fake_bench(seconds=2.5)) == Status.SUCCEEDED
    assert len(calls) >= 2  # it beat again after the refused write
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED and run.result == tiny_result()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("error", [
    type("OutOfMemoryError", (RuntimeError,), {})("CUDA out of memory. Tried to allocate 2.00 GiB"),
    RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes: out of memory"),
    MemoryError(),
])
def test_out_of_memory_ends_failed_with_a_hint(tiny_design, error):
    run = queued(tiny_design)
    assert run_execute(run.pk, bench=fake_bench(raises=error)) == Status.FAILED
    run.refresh_from_db()
    assert run.status == Status.FAILED and run.reason.startswith(OOM_HINT)
    assert "smaller max batch size" in run.reason and "lower precision" in run.reason
    assert run.result is None and run.measurements is None


@pytest.mark.django_db(transaction=True)
def test_an_out_of_memory_the_engine_caught_ends_failed_with_a_hint(tiny_design):
    run = queued(tiny_design)
    failed = {**tiny_result(), "status": "failed", "error": "OutOfMemoryError: CUDA out of memory."}
    assert run_execute(run.pk, bench=fake_bench(failed)) == Status.FAILED
    run.refresh_from_db()
    assert run.reason.startswith(OOM_HINT) and "CUDA out of memory" in run.reason
    assert run.measurements is None


@pytest.mark.django_db(transaction=True)
def test_another_failure_ends_failed_with_the_error(tiny_design):
    run = queued(tiny_design)
    assert run_execute(run.pk, bench=fake_bench(raises=ValueError("queries must be >= 100"))) == Status.FAILED
    run.refresh_from_db()
    assert run.reason == "The benchmark failed: ValueError: queries must be >= 100"


@pytest.mark.django_db(transaction=True)
def test_celerys_soft_time_limit_ends_the_run_timed_out(tiny_design):
    run = queued(tiny_design)
    assert run_execute(run.pk, bench=fake_bench(raises=SoftTimeLimit())) == Status.TIMED_OUT
    run.refresh_from_db()
    assert run.status == Status.TIMED_OUT and "soft time limit" in run.reason
    assert run.result is None


@pytest.mark.django_db(transaction=True)
def test_the_job_stops_itself_at_the_runs_soft_time_limit(tiny_design):
    run = queued(tiny_design, soft_time_limit_s=0.5)
    started = time.monotonic()
    assert run_execute(run.pk, bench=fake_bench(until_cancelled=True)) == Status.TIMED_OUT
    assert time.monotonic() - started < 5
    run.refresh_from_db()
    assert run.status == Status.TIMED_OUT and "soft time limit of 0.5 s" in run.reason


@pytest.mark.django_db(transaction=True)
def test_a_cancel_stops_the_running_job_and_stays(tiny_design, owner):
    run = queued(tiny_design)
    timer = threading.Timer(0.3, lambda: services.benchmark_cancel(run=run, user=owner))
    timer.start()
    try:
        assert run_execute(run.pk, bench=fake_bench(until_cancelled=True)) is None
    finally:
        timer.join()
    run.refresh_from_db()
    assert (run.status, run.reason, run.result) == (Status.CANCELLED, "Cancelled by olivia.", None)


# --- the reaper ------------------------------------------------------------------------------

def test_the_reaper_fails_a_running_run_whose_heartbeat_stopped(tiny_design, settings):
    settings.BENCHMARK_HEARTBEAT_TIMEOUT_S = 60
    now = timezone.now()
    lost = make_run(tiny_design, status="running", measurements=None, heartbeat_at=now - dt.timedelta(seconds=61))
    alive = make_run(tiny_design, status="running", measurements=None, heartbeat_at=now - dt.timedelta(seconds=5))
    done = make_run(tiny_design, heartbeat_at=now - dt.timedelta(hours=1))
    assert services.runs_reap(now=now) == 1
    for run in (lost, alive, done):
        run.refresh_from_db()
    assert lost.status == Status.FAILED and lost.finished_at == now
    assert lost.reason == "The worker stopped answering (lost or killed): no heartbeat for 60 s."
    assert (alive.status, done.status) == (Status.RUNNING, Status.SUCCEEDED)
    assert services.runs_reap(now=now) == 0  # idempotent


def test_the_reaper_times_out_a_run_past_the_hard_limit_and_fails_one_queued_too_long(tiny_design, settings):
    settings.BENCHMARK_TIME_LIMIT_S = 100
    settings.BENCHMARK_QUEUED_TIMEOUT_S = 3600
    now = timezone.now()
    stuck = make_run(tiny_design, status="running", measurements=None, started_at=now - dt.timedelta(seconds=101))
    waiting = queued(tiny_design)
    BenchmarkRun.objects.filter(pk=waiting.pk).update(created_at=now - dt.timedelta(seconds=3601))
    fresh = queued(tiny_design)
    assert services.runs_reap(now=now) == 2
    for run in (stuck, waiting, fresh):
        run.refresh_from_db()
    assert stuck.status == Status.TIMED_OUT and "hard time limit of 100 s" in stuck.reason
    assert waiting.status == Status.FAILED and "No worker took the run" in waiting.reason
    assert fresh.status == Status.QUEUED


def test_the_reap_command_ends_lost_runs(tiny_design, settings, capsys):
    settings.BENCHMARK_HEARTBEAT_TIMEOUT_S = 10
    run = make_run(tiny_design, status="running", measurements=None,
                   heartbeat_at=timezone.now() - dt.timedelta(seconds=11))
    call_command("reap_benchmarks")
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "Ended 1 benchmark run." in capsys.readouterr().out


# --- requests ----------------------------------------------------------------------------------

def test_a_request_over_the_teams_cap_is_refused_and_writes_nothing(tiny_design, owner, settings):
    settings.BENCHMARK_MAX_ACTIVE_RUNS_PER_TEAM = 2
    queued(tiny_design)
    make_run(tiny_design, status="running", measurements=None)
    make_run(tiny_design)  # ended runs do not count
    with pytest.raises(services.BenchmarkRefused, match="at most 2 at a time"):
        services.benchmark_request(design=tiny_design, user=owner, spec=SPEC)
    assert BenchmarkRun.objects.count() == 3


def test_a_bad_spec_is_refused_by_field_and_writes_nothing(tiny_design, owner):
    with pytest.raises(ValidationError) as refused:
        services.benchmark_request(design=tiny_design, user=owner,
                                   spec={**SPEC, "queries": -5, "batcher": {"max_batch_size": 10_000}})
    assert set(refused.value.message_dict) == {"queries", "batcher.max_batch_size"}
    assert BenchmarkRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_leaves_no_run(tiny_design, owner, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on port 9
    settings.BENCHMARK_PUBLISH_TIMEOUT_S = 1
    with pytest.raises(services.BenchmarkRefused, match="broker"):
        services.benchmark_request(design=tiny_design, user=owner, spec=SPEC)
    assert BenchmarkRun.objects.count() == 0


def test_a_member_cannot_pin_and_a_reviewers_pin_replaces_the_previous_one(tiny_design, member, reviewer):
    first, second = make_run(tiny_design), make_run(tiny_design)
    with pytest.raises(PermissionDenied):
        services.benchmark_pin(run=first, user=member)
    services.benchmark_pin(run=first, user=reviewer)
    services.benchmark_pin(run=second, user=reviewer)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.pinned, second.pinned, second.pinned_by) == (False, True, reviewer)
    services.benchmark_pin(run=second, user=reviewer, pinned=False)
    assert not BenchmarkRun.objects.filter(pinned_at__isnull=False).exists()


def test_a_failed_run_cannot_be_pinned(tiny_design, reviewer):
    run = make_run(tiny_design, status="failed", measurements=None)
    with pytest.raises(services.BenchmarkRefused):
        services.benchmark_pin(run=run, user=reviewer)
    run.refresh_from_db()
    assert not run.pinned


# --- measurements in force ---------------------------------------------------------------------

def test_nothing_is_in_force_without_a_succeeded_measurement(tiny_design):
    make_run(tiny_design, status="failed", measurements=None)
    queued(tiny_design)
    assert measurements_in_force(tiny_design) is None


def test_the_newest_run_measured_here_wins_over_a_newer_upload(tiny_design):
    older = make_run(tiny_design, measurements=measurements_for(max_qps_at_p99=100.0))
    newest = make_run(tiny_design, measurements=measurements_for(max_qps_at_p99=200.0))
    upload = make_run(tiny_design, source="uploaded", measurements=measurements_for(max_qps_at_p99=900.0))
    for run, minutes in ((older, 30), (newest, 20), (upload, 10)):
        BenchmarkRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - dt.timedelta(minutes=minutes))
    in_force = measurements_in_force(tiny_design)
    assert (in_force.run.pk, in_force.source, in_force.measurements["max_qps_at_p99"]) == (newest.pk, "run", 200.0)
    assert in_force.why == "the newest run measured here" and not in_force.pinned


def test_an_upload_or_entry_is_used_while_no_run_here_exists(tiny_design):
    make_run(tiny_design, source="uploaded", measurements=measurements_for(max_qps_at_p99=900.0))
    entered = make_run(tiny_design, source="entered", measurements={"max_qps_at_p99": 50.0, "source": "entered"})
    in_force = measurements_in_force(tiny_design)
    assert (in_force.run.pk, in_force.source) == (entered.pk, "entered")
    assert "no run measured here yet" in in_force.why


def test_a_reviewers_pin_outranks_the_newest_run_here(tiny_design, reviewer):
    entered = make_run(tiny_design, source="entered", measurements={"max_qps_at_p99": 50.0})
    make_run(tiny_design)
    services.benchmark_pin(run=entered, user=reviewer)
    in_force = measurements_in_force(tiny_design)
    assert (in_force.run.pk, in_force.pinned, in_force.why) == (entered.pk, True, "pinned by rafael")
    assert in_force.measurements == {"max_qps_at_p99": 50.0}


def test_a_run_of_another_model_shape_is_stale_and_not_used_even_pinned(tiny_design, reviewer):
    current = make_run(tiny_design)
    stale = make_run(tiny_design, shape_key="transformer/110000000/bf16/128")
    services.benchmark_pin(run=stale, user=reviewer)
    in_force = measurements_in_force(tiny_design)
    assert in_force.run.pk == current.pk and not in_force.pinned
    assert [r.pk for r in in_force.stale_runs] == [stale.pk]


def test_when_the_models_shape_changes_every_run_goes_stale(tiny_design):
    run = make_run(tiny_design)
    assert measurements_in_force(tiny_design).shape_key == TINY_SHAPE
    # The form's unsaved values (flat keys) count, as the design page's preview passes them.
    in_force = measurements_in_force(tiny_design, {"requirements.model_family": "mlp",
                                                   "requirements.model_params_billions": "0.0004",
                                                   "requirements.model_dtype": "fp32",
                                                   "requirements.sequence_length_tokens": "16"})
    assert in_force.measurements is None and in_force.run is None
    assert [r.pk for r in in_force.stale_runs] == [run.pk]
    assert in_force.shape_key == "mlp/400000/fp32/16"


def test_measurements_in_force_is_one_query(tiny_design, django_assert_num_queries):
    make_run(tiny_design)
    make_run(tiny_design, source="uploaded")
    with django_assert_num_queries(1):
        measurements_in_force(tiny_design)


def test_the_measurement_in_force_makes_the_capacity_measured_and_changes_a_benchmark_rule(tiny_design):
    checklist = compile_checklist(default_checklist())
    make_run(tiny_design)
    in_force = measurements_in_force(tiny_design)

    def outcomes(measurements):
        result = engine.assess(tiny_design.inputs, checklist, measurements)
        found = {f.item_key: f.outcome for f in result.evaluation.findings}
        return result.facts.tree, found

    estimated_tree, estimated = outcomes(None)
    measured_tree, measured = outcomes(in_force.measurements)
    assert estimated_tree["capacity"]["per_replica_qps_source"] == "estimated"
    assert measured_tree["capacity"]["per_replica_qps_source"] == "measured"
    assert measured_tree["benchmark"]["max_qps_at_p99"] == tiny_result()["max_qps_at_p99"]
    assert (estimated["rev_capacity_measured"], measured["rev_capacity_measured"]) == ("fail", "pass")
