"""The design forms in a real Chromium: live numbers without a reload, save, and no lost updates."""

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from reviewapp.designs.document import html_id
from reviewapp.designs.models import Design
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


def field(page: Page, key: str):
    return page.locator("#" + html_id(key))


def number(page: Page, path: str):
    return page.locator(f'#design-numbers td[data-path="{path}"]')


def choose(page: Page, key: str, value: str, *, reveals: str | None = None) -> None:
    """Pick a choice; when it shows another field, wait for the server's redraw to show it."""
    field(page, key).select_option(value)
    if reveals:
        expect(field(page, reveals)).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_fill_both_forms_see_numbers_live_save_and_reload(live_server, page: Page, member, design):
    login(page, live_server.url, "mei")
    page.goto(f"{live_server.url}/designs/{design.pk}/")
    page.evaluate("window.__marker = 'same page'")
    expect(number(page, "capacity.replicas")).to_have_text("—")

    # Requirements
    field(page, "requirements.use_case").fill("Answer support questions from our docs")
    choose(page, "requirements.workload_timing", "online")
    expect(field(page, "requirements.output_tokens_per_request")).to_be_hidden()
    choose(page, "requirements.workload_type", "generative", reveals="requirements.output_tokens_per_request")
    for key, value in {
        "requirements.latency_p50_ms": "1500", "requirements.latency_p95_ms": "3000",
        "requirements.latency_p99_ms": "4000", "requirements.time_to_first_token_ms": "800",
        "requirements.time_per_output_token_ms": "40", "requirements.average_qps": "20",
        "requirements.peak_qps": "60", "requirements.input_tokens_per_request": "1000",
        "requirements.output_tokens_per_request": "200", "requirements.model_params_billions": "8",
        "requirements.sequence_length_tokens": "8192", "requirements.monthly_gpu_budget_usd": "20000",
        "requirements.regions": "us-east-1, eu-west-1",
    }.items():
        field(page, key).fill(value)
    expect(number(page, "traffic.peak_qps")).to_have_text("60")

    # Architecture
    choose(page, "architecture.gpu_type", "h100-80gb")
    expect(field(page, "architecture.max_batch_delay_ms")).to_be_hidden()
    choose(page, "architecture.batching_mode", "dynamic", reveals="architecture.max_batch_delay_ms")
    field(page, "architecture.max_batch_delay_ms").fill("20")
    field(page, "architecture.max_batch_size").fill("32")
    page.locator("#" + html_id("architecture.fallback_chain") + "-1").select_option("smaller_model")
    page.locator("#" + html_id("architecture.fallback_chain") + "-2").select_option("static_default")
    page.get_by_role("checkbox", name="Result cache").check()
    expect(field(page, "architecture.result_cache_hit_rate_pct")).to_be_visible()
    field(page, "architecture.result_cache_hit_rate_pct").fill("10")
    field(page, "architecture.min_replicas").fill("2")
    field(page, "architecture.max_replicas").fill("10")

    # The numbers followed, and the page never reloaded.
    expect(number(page, "capacity.replicas")).to_have_text(re.compile(r"^\d+$"))
    expect(number(page, "cost.monthly_usd.on_demand")).to_have_text(re.compile(r"^\$[\d,]+$"))
    expect(number(page, "latency_budget.overhead_ms")).to_have_text("30")  # 10 ms network default + 20 ms batch delay
    assert page.evaluate("window.__marker") == "same page"
    assert Design.objects.get(pk=design.pk).revision == 1  # typing saved nothing

    page.get_by_role("button", name="Save requirements and architecture").click()
    expect(page.get_by_text("Saved requirements and architecture (revision 2)")).to_be_visible()
    page.reload()
    expect(field(page, "requirements.latency_p99_ms")).to_have_value("4000")
    expect(field(page, "requirements.workload_type")).to_have_value("generative")
    expect(field(page, "architecture.max_batch_delay_ms")).to_have_value("20")
    expect(field(page, "requirements.regions")).to_have_value("us-east-1, eu-west-1")
    expect(page.locator("#" + html_id("architecture.fallback_chain") + "-2")).to_have_value("static_default")
    expect(page.get_by_role("checkbox", name="Result cache")).to_be_checked()
    saved = Design.objects.get(pk=design.pk)
    assert saved.revision == 2
    assert saved.inputs["architecture"]["fallback_chain"] == ["smaller_model", "static_default"]
    assert saved.inputs["requirements"]["peak_qps"] == 60.0


@pytest.mark.django_db(transaction=True)
def test_a_stale_save_is_refused(live_server, browser: Browser, member, owner, design):
    first, second = browser.new_context(), browser.new_context()
    try:
        mine, theirs = first.new_page(), second.new_page()
        login(mine, live_server.url, "mei")
        login(theirs, live_server.url, "olivia")
        for page in (mine, theirs):
            page.goto(f"{live_server.url}/designs/{design.pk}/")

        field(theirs, "requirements.peak_qps").fill("111")
        theirs.get_by_role("button", name="Save requirements and architecture").click()
        expect(theirs.get_by_text("Saved requirements and architecture (revision 2)")).to_be_visible()

        field(mine, "requirements.peak_qps").fill("222")
        expect(mine.get_by_text("olivia saved this design (revision 2) after you opened it")).to_be_visible()
        mine.get_by_role("button", name="Save requirements and architecture").click()
        expect(mine.get_by_text("Your changes were not saved")).to_be_visible()
        saved = Design.objects.get(pk=design.pk)
        assert (saved.revision, saved.inputs["requirements"]["peak_qps"]) == (2, 111.0)
    finally:
        first.close()
        second.close()


@pytest.mark.django_db(transaction=True)
def test_typing_during_a_redraw_is_not_lost(live_server, page: Page, member, design):
    login(page, live_server.url, "mei")
    page.goto(f"{live_server.url}/designs/{design.pk}/")
    held = []
    page.route("**/inputs/form/", lambda route: held.append(route))  # hold the redraw until we have typed
    with page.expect_request("**/inputs/form/"):  # issued, no fixed sleep
        field(page, "architecture.batching_mode").select_option("dynamic")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.evaluate("0")  # a round trip lets Playwright deliver the route to its handler
    assert held, "choosing dynamic batching should ask the server to redraw the form"
    field(page, "requirements.peak_qps").fill("123")
    held[0].continue_()
    expect(field(page, "architecture.max_batch_delay_ms")).to_be_visible()
    expect(field(page, "requirements.peak_qps")).to_have_value("123")
    expect(field(page, "architecture.batching_mode")).to_have_value("dynamic")
