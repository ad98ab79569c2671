"""The PDF report of a seeded design: its sections, score and numbers as text, charts as vectors,
bookmarks and page numbers; a milestone's PDF reads the same after the design is edited and a new
checklist version is published; an unchanged milestone is rendered once."""

import pytest
from django.urls import reverse
from engine.design import example_design

from reviewapp.checklists import services as checklists
from reviewapp.checklists.models import Item
from reviewapp.designs import services as designs
from reviewapp.designs.models import GpuPrice
from reviewapp.reports import render, services
from reviewapp.reports.charts import svg_renderer
from reviewapp.reports.models import Report
from reviewapp.reports.selectors import milestone_source
from reviewapp.reviews.services import milestone_create
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401
from tests.reviewapp.report_fixtures import chart_browser, image_xobjects, outline_titles, pdf_reader, pdf_text  # noqa: F401

CHAPTERS = ["Contents", "Executive summary", "The risks that matter most", "Requirements", "Architecture",
            "The numbers", "Benchmark results", "Findings by severity", "Accepted risks", "Decision and sign-off",
            "Appendix: the full checklist, answers and rule traces"]


@pytest.fixture
def milestone(owner, published, filled_design):
    return milestone_create(design=filled_design, user=owner, name="Before the board")


def generate(source, user):
    report, created = services.report_request(source=source, user=user)
    assert created
    return services.report_generate(report_id=report.pk)


def test_the_pdf_shows_the_sections_score_and_numbers_of_the_design(chart_browser, owner, milestone):
    report = generate(milestone_source(milestone.design, milestone), owner)
    assert report.status == Report.Status.READY, report.reason
    text = pdf_text(report.pdf)
    snap = milestone.snapshot
    for chapter in CHAPTERS:
        assert chapter in text, chapter
    assert "Ranking service" in text and "Milestone 1: Before the board" in text
    assert f"{snap['checklist']['name']}, version {snap['checklist']['version']}" in text
    assert f"{snap['evaluation']['score']['overall']:.1f}" in text
    rows = {r["path"]: r for s in snap["numbers"]["sections"] for r in s["rows"]}
    for path in ("capacity.replicas", "traffic.peak_qps", "latency_budget.p99_budget_ms"):
        assert f"{rows[path]['label']} {rows[path]['text']}" in text, path
    assert "P99 latency" in text and "8,000 ms" in text  # a requirement, formatted by the schema
    assert "Fallback chain of two levels" in text and "size(architecture.fallback_chain) >= 2" in text  # appendix trace
    assert "Page 1 of" in text and f"Page {report.page_count} of {report.page_count}" in text
    assert report.page_count == len(pdf_reader(report.pdf).pages) and report.pdf_size_bytes == len(report.pdf)


def test_charts_are_vectors_and_chapters_are_bookmarks(chart_browser, owner, milestone):
    report = generate(milestone_source(milestone.design, milestone), owner)
    text = pdf_text(report.pdf)
    # The charts' own text is in the PDF (an SVG drawn as vectors, not a picture of one) ...
    assert "Latency budget:" in text and "allocated of 8,000 ms at p99" in text
    assert "Monthly cost by pricing plan" in text and "monthly cost (USD)" in text
    # ... and nothing in it is a raster image.
    assert image_xobjects(report.pdf) == []
    titles = outline_titles(report.pdf)
    for chapter in ("Executive summary", "The numbers", "Findings by severity", "Appendix: the full checklist, "
                    "answers and rule traces"):
        assert chapter in titles
    assert "Latency budget" in titles  # a second-level bookmark


def test_a_milestone_pdf_reads_the_same_after_edits_and_a_new_checklist_version(chart_browser, owner, published,
                                                                                  filled_design):
    from django.core.management import call_command

    call_command("load_gpu_prices")
    milestone = milestone_create(design=filled_design, user=owner, name="M1")
    before = pdf_text(render.render_pdf(milestone_source(filled_design, milestone)).pdf)

    inputs = example_design()
    inputs["requirements"]["peak_qps"] = 700.0
    designs.design_update_inputs(design=filled_design, data=inputs, revision=filled_design.revision, user=owner)
    draft = checklists.version_new_draft(version=published)
    item = Item.objects.get(section__version=draft, key="req_p99_budget")
    item.title = "Renamed in version 2"
    item.save()
    checklists.version_publish(version=draft)
    GpuPrice.objects.update(on_demand_usd_per_hour=99.0)

    after = pdf_text(render.render_pdf(milestone_source(filled_design, milestone)).pdf)
    assert after == before
    assert "P99 within five seconds" in after and "Renamed in version 2" not in after
    # The design itself did change: the working draft's report shows it.
    later = milestone_create(design=filled_design, user=owner, name="M2")
    assert "Renamed in version 2" in pdf_text(render.render_pdf(milestone_source(filled_design, later)).pdf)


def test_an_unchanged_milestone_is_rendered_once(chart_browser, client_for, owner, member, milestone, monkeypatch,
                                                 django_capture_on_commit_callbacks):
    calls = []
    real = render.render_pdf
    monkeypatch.setattr(render, "render_pdf", lambda *a, **k: calls.append(1) or real(*a, **k))
    url = reverse("reports:milestone_pdf", args=[milestone.design.pk, milestone.number])
    with django_capture_on_commit_callbacks() as published_jobs:
        response = client_for(owner).post(url)
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
    assert len(published_jobs) == 1  # the job was sent
    services.report_generate(report_id=report.pk)
    assert calls == [1]

    # Asked again (by anyone), the ready PDF is the answer: no new row, no job, no render.
    with django_capture_on_commit_callbacks() as published_jobs:
        again = client_for(member).post(url)
    assert again["Location"] == report.get_absolute_url()
    assert published_jobs == [] and Report.objects.count() == 1 and calls == [1]
    assert services.report_generate(report_id=report.pk) is None  # a redelivered job does nothing
    download = client_for(member).get(reverse("reports:pdf", args=[milestone.design.pk, report.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF") and calls == [1]


def test_one_browser_serves_every_chart_of_the_process(chart_browser, owner, milestone):
    renderer = svg_renderer()
    generate(milestone_source(milestone.design, milestone), owner)
    starts = renderer.starts
    assert renderer.running and starts >= 1
    render.render_pdf(milestone_source(milestone.design, milestone))
    assert renderer.starts == starts


def test_a_chart_failure_fails_the_report_with_its_reason(owner, milestone, settings):
    from reviewapp.reports.charts import SvgRenderer

    broken = SvgRenderer(browser_path="/nonexistent/chromium", timeout_s=5)
    report, _ = services.report_request(source=milestone_source(milestone.design, milestone), user=owner)
    report = services.report_generate(report_id=report.pk, renderer=broken)
    assert report.status == Report.Status.FAILED and "Chromium could not be started" in report.reason
    assert report.pdf is None
    # A failed report is not the cache: asking again makes a new one.
    again, created = services.report_request(source=milestone_source(milestone.design, milestone), user=owner)
    assert created and again.pk != report.pk
