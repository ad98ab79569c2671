"""Benchmark jobs through a real Celery worker process (not eager mode): the web view queues a
run, the worker measures it, the page shows it; cancel, time limit, a killed worker, a duplicate
delivery. Each run is the tiny design's "quick" spec: a few seconds on one CPU thread."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from reviewapp.benchmarks import services
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.benchmarks.selectors import measurements_in_force
from reviewapp.benchmarks.tasks import benchmark_run
from tests.reviewapp.benchmark_fixtures import tiny_design  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
Status = BenchmarkRun.Status
ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 120


def wait_for(predicate, timeout_s=RUN_TIMEOUT_S, what="the run"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}")


def request_run(client, design, preset="quick") -> BenchmarkRun:
    response = client.post(reverse("benchmarks:new", args=[design.pk]), {"preset": preset})
    assert response.status_code == 302, response.content.decode()[-2000:]
    return BenchmarkRun.objects.latest("pk")


def status_of(run) -> str:
    run.refresh_from_db()
    return run.status


def provenance_and_rule(client, design) -> tuple[str, str]:
    """The design page's per-replica throughput provenance and the benchmark rule's outcome."""
    html = client.get(reverse("designs:detail", args=[design.pk])).content.decode()
    prov = re.search(r'data-path="capacity.per_replica_qps">[^<]*</td><td class="unit">[^<]*</td><td>'
                     r'<span class="prov (\w+)"', html)
    rule = re.search(r'id="finding-scl_measured_capacity_covers_peak" data-outcome="(\w+)"', html)
    return prov.group(1), rule.group(1)


def test_a_run_requested_in_the_app_is_measured_by_the_worker(celery_worker_process, client_for, member,
                                                              tiny_design):
    from reviewapp.checklists.services import default_checklist_load

    default_checklist_load()
    client = client_for(member)
    assert provenance_and_rule(client, tiny_design) == ("estimated", "not_applicable")
    run = request_run(client, tiny_design)
    assert run.status == Status.QUEUED and run.task_id
    seen = []

    def ended():
        run.refresh_from_db()
        if run.status == Status.RUNNING and (not seen or seen[-1] != run.progress):
            seen.append(run.progress)
        return run.status in BenchmarkRun.ENDED

    wait_for(ended)
    assert run.status == Status.SUCCEEDED, run.reason
    assert len(set(seen)) >= 3, seen  # the bar advanced while it ran
    assert seen == sorted(seen)
    assert run.progress == 100.0 and run.device == "cpu" and "pid" in run.worker_host
    assert run.result["status"] == "ok" and run.result["settings"]["queries"] == 300
    # The measurement is the result's (on a loaded 2-core machine no rate may meet the budget: 0 is a
    # measurement too, with a note saying so).
    assert run.measurements["max_qps_at_p99"] == run.result["max_qps_at_p99"] >= 0
    assert run.measurements["p99_budget_ms"] == run.spec["latency_p99_budget_ms"] == 15.0
    assert measurements_in_force(tiny_design).run.pk == run.pk
    # The design's capacity is now measured, and the checklist's benchmark rule is judged.
    provenance, outcome = provenance_and_rule(client, tiny_design)
    assert provenance == "measured" and outcome in ("pass", "fail")

    page = client.get(run.get_absolute_url()).content.decode()
    assert f'id="figure-{run.pk}-latency_vs_load"' in page and f'id="figure-{run.pk}-batch_profile"' in page
    assert "hx-trigger" not in page

    # A duplicate delivery of the same task does nothing: one result, unchanged.
    finished_at, result = run.finished_at, run.result
    assert benchmark_run.apply_async(args=[run.pk], queue="gpu").get(timeout=60) is None
    run.refresh_from_db()
    assert (run.status, run.finished_at, run.result) == (Status.SUCCEEDED, finished_at, result)


def test_cancel_ends_a_queued_and_a_running_run_and_frees_the_worker(celery_worker_process, client_for, member,
                                                                     tiny_design, settings):
    settings.BENCHMARK_MAX_ACTIVE_RUNS_PER_TEAM = 2
    client = client_for(member)
    running = request_run(client, tiny_design, preset="design")  # long enough to catch running
    waiting = request_run(client, tiny_design)  # the solo worker is busy: this one waits
    wait_for(lambda: status_of(running) == Status.RUNNING and running.progress > 0, what="the run to start")
    assert status_of(waiting) == Status.QUEUED
    for run in (waiting, running):
        assert client.post(reverse("benchmarks:cancel", args=[tiny_design.pk, run.pk])).status_code == 302
        assert status_of(run) == Status.CANCELLED

    # The worker stops the cancelled run within about a second and takes the next one.
    after = request_run(client, tiny_design)
    wait_for(lambda: status_of(after) in BenchmarkRun.ENDED)
    assert after.status == Status.SUCCEEDED, after.reason
    for run in (waiting, running):
        run.refresh_from_db()
        assert (run.status, run.result, run.reason) == (Status.CANCELLED, None, "Cancelled by mei.")
    waiting.refresh_from_db()
    assert waiting.started_at is None  # its delivery found it cancelled and did nothing
    assert running.finished_at <= after.started_at


def test_a_run_over_its_soft_time_limit_ends_timed_out(celery_worker_process, client_for, member, tiny_design,
                                                       settings):
    settings.BENCHMARK_SOFT_TIME_LIMIT_S = 2.0  # carried by the run to the worker
    run = request_run(client_for(member), tiny_design, preset="design")
    wait_for(lambda: status_of(run) in BenchmarkRun.ENDED)
    assert run.status == Status.TIMED_OUT
    assert run.reason.startswith("Stopped at the soft time limit of 2 s")
    assert run.result is None and run.measurements is None
    assert 2.0 <= (run.finished_at - run.started_at).total_seconds() < 30


@pytest.fixture
def doomed_worker(celery_worker_process, tmp_path, settings):
    """A worker of its own, on a queue of its own, for a test that kills it."""
    from tests.conftest import _database_url_for_worker

    queue = f"gpu-kill-{os.getpid()}"
    settings.BENCHMARK_QUEUE = queue
    log_path = tmp_path / "doomed-worker.log"
    env = {**os.environ, "DATABASE_URL": _database_url_for_worker(), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "celery", "-A", "reviewapp", "worker", "-Q", queue, "-P", "solo",
               "-n", f"doomed-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
               "-l", "INFO"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "ready." in log_path.read_text() or process.poll() is not None, 60, "the worker")
        assert process.poll() is None, log_path.read_text()[-3000:]
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)


def test_a_run_whose_worker_is_killed_ends_failed_after_the_reaper(doomed_worker, client_for, member, tiny_design,
                                                                   settings):
    run = request_run(client_for(member), tiny_design, preset="design")
    wait_for(lambda: status_of(run) == Status.RUNNING and run.progress > 0, what="the run to start")
    os.kill(doomed_worker.pid, signal.SIGKILL)
    doomed_worker.wait(timeout=20)
    assert status_of(run) == Status.RUNNING  # nobody told the database

    settings.BENCHMARK_HEARTBEAT_TIMEOUT_S = 3.0
    wait_for(lambda: services.runs_reap() and status_of(run) != Status.RUNNING, 30, "the reaper")
    assert run.status == Status.FAILED
    assert run.reason == "The worker stopped answering (lost or killed): no heartbeat for 3 s."
    assert run.result is None and run.finished_at is not None
