"""The pages work under the Content-Security-Policy: Chromium reports no violation on the login
page, the design page (htmx redraw while typing), a benchmark run with its Plotly charts, and the
admin; and the charts are drawn."""

import re

import pytest
from playwright.sync_api import Page, expect

from reviewapp.designs.document import html_id
from tests.e2e.helpers import login
from tests.reviewapp.benchmark_fixtures import make_run, tiny_design  # noqa: F401
from tests.reviewapp.checklist_fixtures import staff  # noqa: F401

pytestmark = pytest.mark.e2e


def watch_violations(page: Page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None)
    return found


@pytest.mark.django_db(transaction=True)
def test_pages_and_charts_work_under_the_policy(live_server, page: Page, member, tiny_design):
    violations = watch_violations(page)
    run = make_run(tiny_design)
    response = page.goto(live_server.url + "/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    login(page, live_server.url, "mei")

    page.goto(f"{live_server.url}/designs/{tiny_design.pk}/")
    peak = page.locator('#design-numbers td[data-path="traffic.peak_qps"]')
    before = peak.inner_text()
    page.locator("#" + html_id("requirements.peak_qps")).fill("5000")  # htmx redraws the numbers panel
    expect(peak).not_to_have_text(before)

    page.goto(f"{live_server.url}/designs/{tiny_design.pk}/benchmarks/{run.pk}/")
    expect(page.locator("#run-charts .js-plotly-plot").first).to_be_visible()
    expect(page.locator("#run-charts .main-svg").first).to_be_attached()
    assert violations == []


@pytest.mark.django_db(transaction=True)
def test_the_admin_works_under_the_policy(live_server, page: Page, staff):
    violations = watch_violations(page)
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/admin/checklists/checklist/")
    expect(page.get_by_role("link", name=re.compile("Import"))).to_be_visible()
    page.goto(live_server.url + "/admin/auth/user/add/")
    expect(page.locator("#id_username")).to_be_visible()
    assert violations == []
