"""Benchmark pages: access (anonymous, outsider, member, reviewer), methods, bad input that writes
nothing, uploads, the team's cap, an unreachable broker, and what the pages show."""

import copy
import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from reviewapp.benchmarks.models import BenchmarkRun
from tests.reviewapp.benchmark_fixtures import TINY_SHAPE, make_run, tiny_design, tiny_result  # noqa: F401

Status = BenchmarkRun.Status


def url(name, design, run=None):
    return reverse(f"benchmarks:{name}", args=[design.pk] if run is None else [design.pk, run.pk])


@pytest.fixture
def run(tiny_design, owner):
    return make_run(tiny_design, requested_by=owner)


def pages(design, run):
    """(url, the method that changes something, a method it refuses)."""
    return [
        (url("list", design), "get", "post"),
        (url("new", design), "post", "put"),
        (url("upload", design), "post", "delete"),
        (url("known", design), "post", "put"),
        (url("run", design, run), "get", "post"),
        (url("cancel", design, run), "post", "get"),
        (url("pin", design, run), "post", "get"),
    ]


# --- access and methods ----------------------------------------------------------------------

def test_anonymous_users_are_sent_to_login_everywhere(client, tiny_design, run):
    for address, method, _ in pages(tiny_design, run):
        response = getattr(client, method)(address)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), address
    assert BenchmarkRun.objects.count() == 1


def test_an_outsider_gets_404_everywhere(client_for, outsider, tiny_design, run):
    client = client_for(outsider)
    for address, method, _ in pages(tiny_design, run):
        assert getattr(client, method)(address, {"preset": "design"}).status_code == 404, address
    run.refresh_from_db()
    assert (BenchmarkRun.objects.count(), run.status, run.pinned) == (1, Status.SUCCEEDED, False)


def test_a_run_of_another_design_is_404(client_for, owner, tiny_design, run):
    from reviewapp.designs.models import Design

    other = Design.objects.create(team=tiny_design.team, name="Other", created_by=owner)
    assert client_for(owner).get(reverse("benchmarks:run", args=[other.pk, run.pk])).status_code == 404


def test_each_page_refuses_the_wrong_method(client_for, owner, tiny_design, run):
    client = client_for(owner)
    for address, _, wrong in pages(tiny_design, run):
        assert getattr(client, wrong)(address).status_code == 405, address
    run.refresh_from_db()
    assert (BenchmarkRun.objects.count(), run.status, run.pinned) == (1, Status.SUCCEEDED, False)


def test_a_member_may_not_adjust_the_spec(client_for, member, tiny_design):
    response = client_for(member).post(url("new", tiny_design), {"preset": "design", "queries": "500"})
    assert response.status_code == 403
    assert BenchmarkRun.objects.count() == 0


def test_a_member_may_not_pin(client_for, member, tiny_design, run):
    assert client_for(member).post(url("pin", tiny_design, run)).status_code == 403
    run.refresh_from_db()
    assert not run.pinned


def test_a_member_may_not_cancel_someone_elses_run(client_for, member, tiny_design, owner):
    queued = make_run(tiny_design, status="queued", measurements=None, requested_by=owner)
    assert client_for(member).post(url("cancel", tiny_design, queued)).status_code == 403
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED


# --- requesting a run ------------------------------------------------------------------------

def test_the_new_run_page_shows_the_derived_spec_its_sources_and_notes(client_for, member, tiny_design):
    response = client_for(member).get(url("new", tiny_design))
    assert response.status_code == 200
    page = response.content.decode()
    assert "mlp, 200,000 parameters, fp32, sequence 16" in page
    assert "latency_budget.inference_budget_ms + latency_budget.queueing_ms" in page  # a source
    assert "a reviewer may adjust it" in page and 'name="queries"' not in page  # read-only for members
    assert TINY_SHAPE in page


def test_a_member_runs_the_derived_spec(client_for, member, tiny_design, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(member).post(url("new", tiny_design), {"preset": "design"})
    run = BenchmarkRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert len(callbacks) == 1  # the task is published once the row is committed
    assert (run.status, run.source, run.requested_by, run.shape_key) == (Status.QUEUED, "run", member, TINY_SHAPE)
    assert run.design_revision == tiny_design.revision
    assert run.spec["model"] == {"params": 200000, "family": "mlp", "dtype": "fp32", "seq_len": 16}
    assert (run.spec["queries"], run.spec["latency_p99_budget_ms"], run.spec["target_qps"]) == (2010, 15.0, 2000.0)


def test_the_quick_preset_keeps_the_model_and_shortens_the_run(client_for, member, tiny_design):
    client_for(member).post(url("new", tiny_design), {"preset": "quick"})
    run = BenchmarkRun.objects.get()
    assert (run.spec["queries"], run.spec["offline_min_time_s"], run.shape_key) == (300, 0.02, TINY_SHAPE)


def test_a_reviewer_adjusts_the_spec(client_for, reviewer, tiny_design):
    client_for(reviewer).post(url("new", tiny_design), {
        "preset": "design", "queries": "500", "max_batch_size": "4", "max_queue_delay_ms": "2.5",
        "latency_p99_budget_ms": "8", "target_qps": "900", "device": "cpu", "seed": "7",
    })
    spec = BenchmarkRun.objects.get().spec
    assert spec["batcher"] == {"max_batch_size": 4, "max_queue_delay_ms": 2.5}
    assert (spec["queries"], spec["latency_p99_budget_ms"], spec["target_qps"], spec["device"], spec["seed"]) == (
        500, 8.0, 900.0, "cpu", 7)


@pytest.mark.parametrize(("field", "value"), [
    ("queries", "-5"), ("queries", "99"), ("queries", "abc"), ("queries", "1000000"),
    ("max_batch_size", "0"), ("max_batch_size", "5000"),
    ("max_queue_delay_ms", "-1"), ("max_queue_delay_ms", "nan"), ("max_queue_delay_ms", "1e9"),
    ("latency_p99_budget_ms", "0"), ("latency_p99_budget_ms", "inf"),
    ("target_qps", "0"), ("target_qps", "0.02"),  # 2,010 queries at 0.02 QPS last 28 hours
    ("device", "tpu"), ("seed", "-1"), ("seed", "1.5"),
])
def test_a_bad_spec_field_is_refused_by_name_and_nothing_is_written(client_for, reviewer, tiny_design, field, value):
    response = client_for(reviewer).post(url("new", tiny_design), {"preset": "design", field: value})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert BenchmarkRun.objects.count() == 0


def test_an_unknown_preset_is_refused(client_for, member, tiny_design):
    response = client_for(member).post(url("new", tiny_design), {"preset": "forever"})
    assert response.status_code == 400 and "preset" in response.context["form"].errors
    assert BenchmarkRun.objects.count() == 0


def test_the_teams_cap_on_active_runs_is_refused_with_a_message(client_for, member, tiny_design, settings):
    settings.BENCHMARK_MAX_ACTIVE_RUNS_PER_TEAM = 2
    make_run(tiny_design, status="queued", measurements=None)
    make_run(tiny_design, status="running", measurements=None)
    response = client_for(member).post(url("new", tiny_design), {"preset": "quick"})
    assert response.status_code == 409
    assert "at most 2 at a time" in response.content.decode()
    assert BenchmarkRun.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_gives_a_message_and_leaves_no_run(client_for, member, tiny_design, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on port 9
    settings.BENCHMARK_PUBLISH_TIMEOUT_S = 1
    response = client_for(member).post(url("new", tiny_design), {"preset": "quick"})
    assert response.status_code == 503
    assert "The job queue (broker) cannot be reached" in response.content.decode()
    assert BenchmarkRun.objects.count() == 0


# --- uploads and known figures ----------------------------------------------------------------

def upload(client, design, document):
    text = document if isinstance(document, str) else json.dumps(document)
    return client.post(url("upload", design), {"result": SimpleUploadedFile("result.json", text.encode())})


def test_the_upload_page_gives_the_command_that_runs_the_designs_spec(client_for, member, tiny_design):
    page = client_for(member).get(url("upload", tiny_design)).content.decode()
    assert ("python -m engine.bench capacity --workload mlp --params 200000 --dtype fp32 --seq-len 16 "
            "--max-batch-size 8 --max-queue-delay-ms 1 --p99-budget-ms 15 --rate 2000 --queries 2010 --seed 0 "
            "--device auto --out result.json") in page


def test_a_good_upload_is_stored_with_its_provenance(client_for, member, tiny_design):
    client = client_for(member)
    response = upload(client, tiny_design, tiny_result())
    run = BenchmarkRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert (run.source, run.status, run.shape_key, run.device) == ("uploaded", Status.SUCCEEDED, TINY_SHAPE, "cpu")
    assert run.result == tiny_result()
    assert run.measurements["max_qps_at_p99"] == tiny_result()["max_qps_at_p99"]
    assert run.measurements["torch_version"] == tiny_result()["provenance"]["torch_version"]
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Uploaded result (Uploaded by mei)" in page and "torch 2.13.0+cpu" in page
    assert tiny_result()["provenance"]["platform"] in page


def bad(changes):
    document = tiny_result()
    for path, value in changes:
        node = document
        *parents, key = path.split(".")
        for part in parents:
            node = node[part]
        node[key] = value
    return document


@pytest.mark.parametrize(("document", "path"), [
    (json.dumps(tiny_result())[:-40], "$"),  # truncated
    (json.dumps(tiny_result()).replace('"p99_ms": ' + json.dumps(tiny_result()["p99_ms"]), '"p99_ms": NaN'),
     "p99_ms"),
    (bad([("status", "failed"), ("error", "RuntimeError: boom")]), "status"),
    (bad([("provenance.device_type", "cuda"), ("settings.device", "cuda:0")]), "provenance.cuda_version"),
    (bad([("provenance.torch_version", "")]), "provenance.torch_version"),
    (bad([("workload.param_count", 110_000_000), ("workload.hidden_dims", [4096])]), "workload"),
    (bad([("latency_p99_budget_ms", 50.0)]), "latency_p99_budget_ms"),  # another question than the design's
    ("", "result"),  # empty file: Django's own check
    ("[1, 2]", "$"),
])
def test_a_bad_upload_is_refused_with_the_path_and_writes_nothing(client_for, member, tiny_design, document, path):
    response = upload(client_for(member), tiny_design, document)
    assert response.status_code == 400
    if path == "result":
        assert "result" in response.context["form"].errors
    else:
        assert path in dict(response.context["path_errors"]), response.context["path_errors"]
        assert f"<code>{path}</code>" in response.content.decode()
    assert BenchmarkRun.objects.count() == 0


def test_a_known_throughput_is_stored_with_its_source(client_for, member, tiny_design):
    response = client_for(member).post(url("known", tiny_design), {
        "per_replica_qps": "120", "p99_ms": "4.5", "source": "k6 load test, 2025-05, staging", "device": "NVIDIA L4",
        "dtype": "fp32",
    })
    run = BenchmarkRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert (run.source, run.status, run.source_note, run.shape_key) == (
        "entered", Status.SUCCEEDED, "k6 load test, 2025-05, staging", TINY_SHAPE)
    assert run.measurements["max_qps_at_p99"] == 120.0 and run.measurements["device"] == "NVIDIA L4"


@pytest.mark.parametrize(("data", "field"), [
    ({"per_replica_qps": "0", "p99_ms": "4", "source": "x"}, "per_replica_qps"),
    ({"per_replica_qps": "nan", "p99_ms": "4", "source": "x"}, "per_replica_qps"),
    ({"per_replica_qps": "10", "p99_ms": "-4", "source": "x"}, "p99_ms"),
    ({"per_replica_qps": "10", "p99_ms": "4", "source": "  "}, "source"),
    ({"per_replica_qps": "10", "p99_ms": "40", "source": "x", "p99_budget_ms": "20"}, "p99_ms"),
    ({"per_replica_qps": "10", "p99_ms": "4", "source": "x", "dtype": "fp64"}, "dtype"),
])
def test_a_bad_known_throughput_is_refused_by_field(client_for, member, tiny_design, data, field):
    response = client_for(member).post(url("known", tiny_design), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert BenchmarkRun.objects.count() == 0


# --- the run page, cancel and pin --------------------------------------------------------------

def test_the_run_page_shows_numbers_provenance_and_the_chart_data(client_for, member, tiny_design, run):
    response = client_for(member).get(url("run", tiny_design, run))
    page = response.content.decode()
    assert response.status_code == 200
    assert "In force" in page and "Succeeded" in page
    assert "torch 2.13.0+cpu" in page and "max batch size 8, max queue delay 1.0 ms" in page
    assert f'id="figure-{run.pk}-latency_vs_load"' in page and '"data": [' in page
    assert 'src="/static/vendor/plotly.min.js" defer' in page
    assert "hx-trigger" not in page  # an ended run is not polled


def test_an_active_run_is_polled_and_its_fragment_stops_polling_once_ended(client_for, member, tiny_design):
    active = make_run(tiny_design, status="running", measurements=None, requested_by=member, progress=42.5,
                      phase="searching max QPS")
    client = client_for(member)
    page = client.get(url("run", tiny_design, active)).content.decode()
    assert 'hx-trigger="every 1s"' in page and '<progress id="run-progress" value="42.5"' in page
    assert "Cancel run" in page
    fragment = client.get(url("run", tiny_design, active), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="run-status"') and 'hx-trigger="every 1s"' in fragment
    BenchmarkRun.objects.filter(pk=active.pk).update(status=Status.FAILED, reason="boom")
    fragment = client.get(url("run", tiny_design, active), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and "boom" in fragment and "Cancel run" not in fragment


def test_opening_the_run_page_reaps_a_run_whose_worker_died(client_for, member, tiny_design, settings):
    settings.BENCHMARK_HEARTBEAT_TIMEOUT_S = 60
    lost = make_run(tiny_design, status="running", measurements=None,
                    heartbeat_at=timezone.now() - dt.timedelta(seconds=120))
    page = client_for(member).get(url("run", tiny_design, lost)).content.decode()
    lost.refresh_from_db()
    assert lost.status == Status.FAILED
    assert "The worker stopped answering (lost or killed)" in page


def test_a_member_cancels_their_own_queued_run(client_for, member, tiny_design):
    queued = make_run(tiny_design, status="queued", measurements=None, requested_by=member)
    response = client_for(member).post(url("cancel", tiny_design, queued))
    assert response.status_code == 302
    queued.refresh_from_db()
    assert (queued.status, queued.reason) == (Status.CANCELLED, "Cancelled by mei.")


def test_a_reviewer_cancels_anyones_running_run(client_for, reviewer, tiny_design, owner):
    running = make_run(tiny_design, status="running", measurements=None, requested_by=owner)
    client_for(reviewer).post(url("cancel", tiny_design, running))
    running.refresh_from_db()
    assert running.status == Status.CANCELLED


def test_cancelling_an_ended_run_says_so_and_changes_nothing(client_for, owner, tiny_design, run):
    response = client_for(owner).post(url("cancel", tiny_design, run), follow=True)
    assert "had already ended" in response.content.decode()
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED


def test_a_reviewer_pins_and_unpins_a_run(client_for, reviewer, tiny_design, run):
    client = client_for(reviewer)
    client.post(url("pin", tiny_design, run))
    run.refresh_from_db()
    assert run.pinned and run.pinned_by == reviewer
    client.post(url("pin", tiny_design, run), {"action": "unpin"})
    run.refresh_from_db()
    assert not run.pinned


def test_the_list_shows_the_run_in_force_and_labels_stale_runs(client_for, member, tiny_design, run):
    stale = make_run(tiny_design, shape_key="transformer/110000000/bf16/128")
    page = client_for(member).get(url("list", tiny_design)).content.decode()
    assert f"benchmark #{run.pk}</a>" in page and "the newest run measured here" in page
    assert page.count("Stale: another model shape") == 1 and f'data-run="{stale.pk}"' in page


def test_a_stale_run_page_says_it_is_not_used(client_for, member, tiny_design):
    inputs = copy.deepcopy(tiny_design.inputs)
    stale = make_run(tiny_design)
    inputs["requirements"]["model_params_billions"] = 0.0004
    tiny_design.inputs = inputs
    tiny_design.save(update_fields=["inputs"])
    page = client_for(member).get(url("run", tiny_design, stale)).content.decode()
    assert "Stale: measured for mlp/200000/fp32/16" in page and "In force" not in page


def test_plotly_js_is_served_from_the_plotly_package(client_for, member, tiny_design):
    from django.contrib.staticfiles import finders

    found = finders.find("vendor/plotly.min.js")
    assert found and found.endswith("plotly/package_data/plotly.min.js")


def test_the_web_process_never_imports_torch():
    import subprocess
    import sys

    code = ("import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'reviewapp.settings'); "
            "django.setup(); import reviewapp.urls, reviewapp.benchmarks.views, reviewapp.benchmarks.tasks, "
            "reviewapp.benchmarks.execute; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_an_empty_post_to_new_is_a_400_not_a_server_error(client_for, member, tiny_design):
    from reviewapp.benchmarks.models import BenchmarkRun

    response = client_for(member).post(f"/designs/{tiny_design.pk}/benchmarks/new/", {})
    assert response.status_code == 400
    assert not BenchmarkRun.objects.exists()


@pytest.mark.parametrize(("name", "field"), [("upload", "result"), ("known", "per_replica_qps")])
def test_an_empty_post_names_the_missing_fields(client_for, member, tiny_design, name, field):
    response = client_for(member).post(url(name, tiny_design), {})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not BenchmarkRun.objects.exists()
