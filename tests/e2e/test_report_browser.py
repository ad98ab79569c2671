"""A report in a real Chromium with the real worker: from the design page, ask for a milestone's
PDF, watch it become ready without reloading, download it, and open the HTML report."""

import re

import pytest
from playwright.sync_api import Page, expect

from reviewapp.reviews.services import milestone_create
from tests.e2e.helpers import login
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401
from tests.reviewapp.report_fixtures import pdf_text

pytestmark = pytest.mark.e2e
READY_TIMEOUT_MS = 180_000


@pytest.mark.django_db(transaction=True)
def test_request_a_milestone_pdf_see_it_ready_download_it_and_open_the_html(
        live_server, celery_worker_process, page: Page, owner, member, published, filled_design, tmp_path):
    milestone = milestone_create(design=filled_design, user=owner, name="For the architecture board")
    login(page, live_server.url, "mei")
    page.goto(f"{live_server.url}/designs/{filled_design.pk}/")
    page.get_by_role("button", name="Reports (HTML, PDF)").click()  # a link styled as a button
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    row = page.locator(f"#report-m{milestone.number}")
    expect(row).to_contain_text("For the architecture board")
    row.get_by_role("button", name="Make the PDF").click()

    expect(page.get_by_role("heading", name=f"PDF of milestone {milestone.number}")).to_be_visible()
    page.evaluate("window.__marker = 'same page'")
    status = page.locator("#report-pdf")
    expect(status).to_have_attribute("data-status", re.compile("queued|running|ready"))
    # The fragment polls until the worker is done: ready, with a download link, and polling stops.
    expect(status).to_have_attribute("data-status", "ready", timeout=READY_TIMEOUT_MS)
    expect(status).not_to_have_attribute("hx-trigger", re.compile("."))
    assert page.evaluate("window.__marker") == "same page"

    with page.expect_download() as download_info:
        status.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"ranking-service-m{milestone.number}-report.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = pdf_text(path.read_bytes())
    assert "For the architecture board" in text and "Executive summary" in text

    status.get_by_role("link", name="Open the HTML report").click()
    expect(page.get_by_role("heading", name="Ranking service", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Executive summary")).to_be_visible()
    expect(page.locator("#report-pdf")).to_have_attribute("data-status", "ready")  # the toolbar knows the PDF
    expect(page.locator("#chart-cost_by_plan .js-plotly-plot")).to_be_attached()  # plotly.js drew the chart
