"""The PDF job through a real Celery worker process: requested from the web view, rendered by the
worker (kaleido's Chromium and WeasyPrint there), downloadable when ready."""

import time

import pytest
from django.urls import reverse

from reviewapp.reports.models import Report
from reviewapp.reviews.services import milestone_create
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401
from tests.reviewapp.report_fixtures import chart_browser, image_xobjects, pdf_text  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT_S = 180


def test_a_pdf_requested_in_the_app_is_made_by_the_worker(chart_browser, celery_worker_process, client_for, owner,
                                                          member, published, filled_design):
    milestone = milestone_create(design=filled_design, user=owner, name="For the board")
    client = client_for(member)
    response = client.post(reverse("reports:milestone_pdf", args=[filled_design.pk, milestone.number]))
    report = Report.objects.get()
    assert response.status_code == 302 and report.status == Report.Status.QUEUED
    deadline = time.monotonic() + TIMEOUT_S
    while report.status in Report.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.2)
        report.refresh_from_db()
    assert report.status == Report.Status.READY, report.reason or f"still {report.status} after {TIMEOUT_S} s"
    assert report.task_id and report.render_seconds > 0 and report.page_count > 3
    download = client.get(reverse("reports:pdf", args=[filled_design.pk, report.pk]))
    assert download.status_code == 200
    text = pdf_text(download.content)
    assert "Milestone 1: For the board" in text and "Monthly cost by pricing plan" in text
    assert image_xobjects(download.content) == []
