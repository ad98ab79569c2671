"""A benchmark in a real Chromium with the real worker: start it from the design, watch the bar
advance without reloading, and see the Plotly charts when it ends."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.reviewapp.benchmark_fixtures import tiny_design  # noqa: F401

pytestmark = pytest.mark.e2e
RUN_TIMEOUT_MS = 120_000


@pytest.mark.django_db(transaction=True)
def test_start_a_run_watch_the_bar_advance_and_see_the_charts(live_server, celery_worker_process, page: Page,
                                                              member, tiny_design):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Designs")).to_be_visible()
    page.goto(f"{live_server.url}/designs/{tiny_design.pk}/")
    page.get_by_role("button", name="Benchmarks").click()  # a link styled as a button
    expect(page.get_by_role("heading", name="Benchmarks")).to_be_visible()
    page.get_by_role("button", name="Run benchmark").click()
    expect(page.locator("#derived-spec")).to_contain_text("mlp, 200,000 parameters, fp32, sequence 16")
    page.get_by_label(re.compile("Quick check")).check()
    page.get_by_role("button", name="Run benchmark").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Benchmark #\d+$"))).to_be_visible()
    page.evaluate("window.__marker = 'same page'")

    # The bar advances while the page polls (no reload): two increases seen in the DOM. (expect
    # polls from Python: the page's Content-Security-Policy forbids the eval wait_for_function uses.)
    bar = page.locator("#run-progress")
    expect(bar).not_to_have_attribute("value", "0.0", timeout=RUN_TIMEOUT_MS)
    first = bar.get_attribute("value")
    expect(bar).not_to_have_attribute("value", first, timeout=RUN_TIMEOUT_MS)
    second = bar.get_attribute("value")
    assert 0 < float(first) < float(second)

    # When it ends the fragment stops polling and carries the charts.
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-status")).not_to_have_attribute("hx-trigger", re.compile("."))
    expect(page.locator("#run-charts .js-plotly-plot")).to_have_count(3)
    expect(page.locator("#chart-latency_vs_load .scatterlayer .trace").first).to_be_attached()
    expect(page.locator("#run-numbers")).to_contain_text("Max QPS per replica")
    assert page.evaluate("window.__marker") == "same page"

    # Back on the design page, the numbers say they are measured, by this run.
    page.goto(f"{live_server.url}/designs/{tiny_design.pk}/")
    expect(page.get_by_test_id("measured-by")).to_contain_text("measured")
    expect(page.locator('#design-numbers td[data-path="capacity.per_replica_qps"] + td + td .prov')).to_have_text("measured")
