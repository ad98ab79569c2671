"""One template, two outputs: `reports/report.html` with `static/css/report.css` is the HTML
report page and, through WeasyPrint, the PDF. Both come from `source_context`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from reviewapp.reports.charts import SvgRenderer, draw_charts
from reviewapp.reports.context import milestone_info, report_context
from reviewapp.portfolio.trends import milestone_points, point_of_snapshot
from reviewapp.reports.selectors import ReportSource

logger = logging.getLogger(__name__)
CSS_PATH = "css/report.css"


def snapshot_diff_of(old: dict[str, Any], new: dict[str, Any]) -> tuple[Any, str]:
    """The reviews app's diff of two snapshots, where that app has one yet, and a note otherwise."""
    try:
        from reviewapp.reviews.diff import snapshot_diff
    except ImportError:
        return None, "The detailed diff is not available in this version of the app."
    try:
        return snapshot_diff(old, new), ""
    except Exception as exc:  # a diff must not stop the report
        logger.exception("snapshot_diff failed")
        return None, f"The detailed diff could not be computed ({type(exc).__name__})."


def source_context(source: ReportSource) -> dict[str, Any]:
    previous = source.previous
    diff, note = snapshot_diff_of(previous.snapshot, source.snapshot) if previous else (None, "")
    if source.milestone is not None:
        points = milestone_points(source.design.pk, up_to=source.milestone.number)
    else:
        points = [*milestone_points(source.design.pk), point_of_snapshot(source.snapshot, "Working draft")]
    context = report_context(
        source.snapshot,
        milestone=milestone_info(source.milestone) if source.milestone else None,
        previous=milestone_info(previous) if previous else None,
        previous_snapshot=previous.snapshot if previous else None, diff=diff, diff_note=note,
        trend_points=points,
    )  # fmt: skip
    context["content_hash"] = source.content_hash
    return context


def report_html(context: dict[str, Any], *, output: str, extra: dict[str, Any] | None = None, request=None) -> str:
    """The report document; `output` is "web" (plotly.js charts, the toolbar) or "pdf" (SVG charts)."""
    return render_to_string("reports/report.html", {**context, "output": output, **(extra or {})}, request=request)


@lru_cache(maxsize=1)
def _stylesheet():
    from weasyprint import CSS

    return CSS(filename=str(Path(finders.find(CSS_PATH))))


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    page_count: int
    seconds: float


def pdf_from_html(html: str) -> RenderedPdf:
    """WeasyPrint alone. Only data: URIs are fetched (the charts): nothing from disk or network."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    started = time.perf_counter()
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).render(
        stylesheets=[_stylesheet()])
    pdf = document.write_pdf()
    return RenderedPdf(pdf=pdf, page_count=len(document.pages), seconds=time.perf_counter() - started)


def render_pdf(source: ReportSource, *, renderer: SvgRenderer | None = None) -> RenderedPdf:
    """The whole job: context, SVG charts, HTML, PDF. Raises ChartRenderError if a chart fails."""
    started = time.perf_counter()
    context = source_context(source)
    draw_charts(context["charts"], renderer)
    rendered = pdf_from_html(report_html(context, output="pdf"))
    return RenderedPdf(pdf=rendered.pdf, page_count=rendered.page_count, seconds=time.perf_counter() - started)
