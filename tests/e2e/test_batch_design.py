"""In Chromium (issue 12): a team describes a nightly batch job; the page shows the job's duration
and cost per run as they type, explains a number on demand, and the fit section flags a nightly
job served by a synchronous endpoint. No fixed sleeps: every wait is on what the page shows."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from reviewapp.designs.document import html_id
from reviewapp.designs.models import Design
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


def field(page: Page, key: str):
    return page.locator("#" + html_id(key))


def number(page: Page, path: str):
    return page.locator(f'#design-numbers td[data-path="{path}"]')


def choose(page: Page, key: str, value: str) -> None:
    """Pick a choice that shows or hides fields, and wait for the server's redraw of the form."""
    with page.expect_response("**/inputs/form/"):
        field(page, key).select_option(value)


@pytest.mark.django_db(transaction=True)
def test_a_batch_design_shows_job_duration_cost_per_run_and_a_fit_finding(live_server, page: Page, member, design):
    call_command("load_default_checklist")
    login(page, live_server.url, "mei")
    page.goto(f"{live_server.url}/designs/{design.pk}/")

    # The batch shape replaces the online traffic fields.
    expect(field(page, "requirements.records_per_run")).to_be_hidden()
    choose(page, "requirements.workload_timing", "batch")
    expect(field(page, "requirements.records_per_run")).to_be_visible()
    expect(field(page, "requirements.peak_qps")).to_be_hidden()
    expect(field(page, "requirements.latency_p99_ms")).to_be_hidden()

    choose(page, "requirements.workload_type", "classify")
    for key, value in {
        "requirements.records_per_run": "36000000", "requirements.runs_per_day": "1",
        "requirements.processing_window_h": "5", "requirements.deadline_h": "8",
        "requirements.record_size_kb": "2", "requirements.model_params_billions": "0.35",
        "requirements.sequence_length_tokens": "256",
    }.items():
        field(page, key).fill(value)
    field(page, "architecture.gpu_type").select_option("l4-24gb")
    choose(page, "architecture.batching_mode", "dynamic")
    expect(field(page, "architecture.max_batch_size")).to_be_visible()
    field(page, "architecture.max_batch_size").fill("64")
    field(page, "architecture.inference_mode").select_option("sync")  # a nightly job on a sync endpoint
    choose(page, "architecture.autoscaling_signal", "queue_depth")
    choose(page, "architecture.pricing_model", "spot")

    # The job's numbers follow the typing: 36M records in a 5 h window need 2,000 records/s.
    expect(number(page, "traffic.peak_qps")).to_have_text("2,000")
    expect(number(page, "batch.job_duration_h")).to_have_text(re.compile(r"^\d+(\.\d+)?$"))
    expect(number(page, "batch.cost_per_run_usd.selected")).to_have_text(re.compile(r"^\$[\d,.]+$"))
    expect(page.locator('#design-numbers caption', has_text="Batch job")).to_be_visible()

    # A number opens its formula with this design's values, loaded on demand.
    page.locator("#design-numbers summary", has_text="Job duration").click()
    explanation = page.locator('#design-numbers [data-testid="number-explain"] [data-path="batch.job_duration_h"]')
    expect(explanation.locator('[data-testid="arithmetic"]')).to_contain_text("36,000,000 ÷")
    expect(explanation).to_contain_text("batch.per_replica_records_per_s")

    # The fit section flags the mismatch, with its plan on demand.
    fit = page.locator("#finding-fit_serving_mode_timing")
    expect(fit).to_have_attribute("data-outcome", "fail")
    fit.locator("summary").click()
    expect(fit.locator('[data-testid="finding-detail"]')).to_contain_text("batch inference")
    expect(fit.locator('[data-testid="rule-trace"]')).to_contain_text("requirements.workload_timing = 'batch'")

    # Serving the job with batch inference clears it.
    field(page, "architecture.inference_mode").select_option("batch")
    expect(page.locator("#finding-fit_serving_mode_timing")).to_have_attribute("data-outcome", "pass")

    page.get_by_role("button", name="Save requirements and architecture").click()
    expect(page.get_by_text("Saved requirements and architecture (revision 2)")).to_be_visible()
    saved = Design.objects.get(pk=design.pk).inputs
    assert saved["requirements"]["records_per_run"] == 36_000_000 and saved["requirements"]["peak_qps"] is None
    expect(number(page, "batch.job_duration_h")).to_have_text(re.compile(r"^\d+(\.\d+)?$"))
