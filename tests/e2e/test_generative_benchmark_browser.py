"""A generative benchmark of the demo design (a decoder LLM) in a real Chromium with the real
worker: the derived generative spec, progress that counts requests without reloading, the token
charts drawn, measured tokens/s on the run and on the design."""

import re

import pytest
from playwright.sync_api import Page, expect

from engine.design import example_design

pytestmark = pytest.mark.e2e
RUN_TIMEOUT_MS = 120_000
REQUESTS = 2048  # several seconds of counting on a quiet machine: the page, polling each second, sees the count move (256 finished between two polls in CI)


@pytest.mark.django_db(transaction=True)
def test_run_a_generative_benchmark_watch_the_count_and_see_the_token_charts(
        live_server, celery_worker_process, page: Page, reviewer, design):
    design.inputs = example_design()
    design.save(update_fields=["inputs"])
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("rafael")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Designs")).to_be_visible()
    page.goto(f"{live_server.url}/designs/{design.pk}/benchmarks/new/")
    expect(page.locator("#derived-spec")).to_contain_text("TTFT SLO (p99)")
    expect(page.locator("#derived-spec")).to_contain_text("600 ms")
    page.get_by_label(re.compile("Quick check")).check()
    page.locator("summary", has_text="Adjust the spec").click()
    page.get_by_role("spinbutton", name="Requests per run").fill(str(REQUESTS))
    page.get_by_role("textbox", name="Device").fill("cpu")
    page.get_by_role("button", name="Run benchmark").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Benchmark #\d+$"))).to_be_visible()
    page.evaluate("window.__marker = 'same page'")

    # The label counts requests while the page polls (no reload): two different counts seen.
    label = page.locator("label[for=run-progress]")
    counting = re.compile(rf"(\d+) of {REQUESTS} requests done, about [\d.]+ s left")
    expect(label).to_have_text(counting, timeout=RUN_TIMEOUT_MS)
    first = counting.search(label.inner_text()).group(1)
    expect(label).not_to_have_text(re.compile(rf"\b{first} of {REQUESTS}\b"), timeout=RUN_TIMEOUT_MS)

    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-charts .js-plotly-plot")).to_have_count(5)
    for key in ("ttft_vs_load", "tpot_vs_load", "kv_blocks_over_run"):
        expect(page.locator(f"#chart-{key} .scatterlayer .trace").first).to_be_attached()
    expect(page.locator("#run-numbers")).to_contain_text("Output tokens/s per replica")
    expect(page.locator("#run-numbers")).to_contain_text("measured")
    assert page.evaluate("window.__marker") == "same page"

    page.goto(f"{live_server.url}/designs/{design.pk}/")
    row = page.locator('#design-numbers td[data-path="benchmark.output_tokens_per_s"]')
    expect(row).to_be_visible()
    expect(page.locator('#design-numbers td[data-path="benchmark.output_tokens_per_s"] + td + td .prov')
           ).to_have_text("measured")
