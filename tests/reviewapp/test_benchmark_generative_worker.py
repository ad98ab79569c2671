"""A generative benchmark of the demo design (a decoder LLM) through a real Celery worker process:
the run form shows the generative spec, the worker measures TTFT, TPOT and tokens/s with progress
that counts requests, the charts render, the numbers panel says measured, a benchmark.ttft rule
is judged. The run is the "quick" preset: a 2 M-parameter decoder, a few seconds on one CPU."""

import re

import pytest
from django.urls import reverse

from engine.design import example_design
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.benchmarks.selectors import measurements_in_force
from tests.reviewapp.test_benchmark_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
Status = BenchmarkRun.Status
REQUESTS = 256  # the quick preset's 16 x 16: seconds of counting, so a heartbeat (1 s) sees the count move


@pytest.fixture
def demo_design(design):
    design.inputs = example_design()
    design.save(update_fields=["inputs"])
    return design


def tokens_row_and_rule(client, design) -> tuple[str, str, str]:
    """The numbers panel's tokens/s row (its fact path and provenance) and the TTFT/TPOT rule's outcome."""
    html = client.get(reverse("designs:detail", args=[design.pk])).content.decode()
    row = re.search(r'data-path="([\w.]+output_tokens_per_s)">[^<]*</td><td class="unit">[^<]*</td><td>'
                    r'<span class="prov (\w+)"', html)
    rule = re.search(r'id="finding-srv_measured_token_times_within_targets" data-outcome="(\w+)"', html)
    return row.group(1), row.group(2), rule.group(1)


def test_a_generative_run_of_the_demo_design_is_measured_by_the_worker(celery_worker_process, client_for,
                                                                        reviewer, demo_design):
    from reviewapp.checklists.services import default_checklist_load

    default_checklist_load()
    client = client_for(reviewer)
    assert tokens_row_and_rule(client, demo_design) == (
        "capacity.estimate.output_tokens_per_s", "estimated", "not_applicable")

    form = client.get(reverse("benchmarks:new", args=[demo_design.pk])).content.decode()
    assert "TTFT SLO (p99)" in form and "600 ms" in form and "approximated by a transformer encoder" not in form
    assert 'name="ttft_slo_ms"' in form and 'name="queries"' not in form

    response = client.post(reverse("benchmarks:new", args=[demo_design.pk]),
                           {"preset": "quick", "requests": REQUESTS, "device": "cpu"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    run = BenchmarkRun.objects.latest("pk")
    assert run.spec["scenario"] == "generate-offline" and run.spec["requests"] == REQUESTS
    phases, progress = [], []

    def ended():
        run.refresh_from_db()
        if run.status == Status.RUNNING:
            phases.append(run.phase)
            progress.append(run.progress)
        return run.status in BenchmarkRun.ENDED

    wait_for(ended)
    assert run.status == Status.SUCCEEDED, run.reason
    counts = [int(m.group(1)) for p in phases if (m := re.search(rf"(\d+) of {REQUESTS} requests done, about", p))]
    assert counts, (sorted(set(phases)), run.result["duration_s"])  # the page said how far the run was, not only "running"
    assert counts == sorted(counts) and progress == sorted(progress)
    assert run.result["scenario"] == "generate-offline" and run.result["provenance"]["torch_version"]
    m = run.measurements
    assert m["ttft_p99_ms"] == run.result["metrics"]["ttft_p99_all_ms"] > 0
    assert m["output_tokens_per_s"] == run.result["metrics"]["output_tokens_per_s"] > 0
    assert m["ttft_slo_ms"] == demo_design.inputs["requirements"]["time_to_first_token_ms"]
    assert measurements_in_force(demo_design).run.pk == run.pk

    path, provenance, outcome = tokens_row_and_rule(client, demo_design)
    assert (path, provenance) == ("benchmark.output_tokens_per_s", "measured")
    assert outcome in ("pass", "fail")  # judged on the measured TTFT / TPOT p99 (not applicable before)
    expected = ("pass" if m["ttft_p99_ms"] <= 600.0 and m["tpot_p99_ms"] <= 25.0 else "fail")
    assert outcome == expected

    page = client.get(run.get_absolute_url()).content.decode()
    for key in ("ttft_vs_load", "tpot_vs_load", "tokens_vs_concurrency", "kv_blocks_over_run", "steps_over_run"):
        assert f'id="figure-{run.pk}-{key}"' in page, key

    # The report's benchmark chapter: the token numbers and the same charts (one module, page and PDF).
    report = client.get(reverse("reports:draft", args=[demo_design.pk])).content.decode()
    assert "Output tokens/s per replica" in report and "TTFT p99" in report
    for key in ("ttft_vs_load", "tpot_vs_load", "kv_blocks_over_run"):
        assert f'id="chart-bench_{key}"' in report, key


def test_a_generative_spec_out_of_its_limits_is_refused_naming_the_field(client_for, reviewer, demo_design):
    client = client_for(reviewer)
    response = client.post(reverse("benchmarks:new", args=[demo_design.pk]),
                           {"preset": "design", "ttft_slo_ms": "-5", "requests": "0"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "ttft_slo_ms" in form.errors and "requests" in form.errors
    assert not BenchmarkRun.objects.filter(design=demo_design).exists()
