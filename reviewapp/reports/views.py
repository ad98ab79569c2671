"""Report pages of a design: the list, the HTML report (a milestone's or the working draft's),
its Markdown, the PDF request, its polled status and the download. Every view starts with
`get_design_for_user` (outsider 404); any member may read and request reports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from reviewapp.accounts.models import Role
from reviewapp.actions.selectors import open_actions_for_design
from reviewapp.designs.access import get_design_for_user
from reviewapp.reports import services
from reviewapp.reports.markdown import report_markdown
from reviewapp.reports.models import Report
from reviewapp.reports.render import report_html, source_context
from reviewapp.reports.selectors import ReportSource, draft_source, milestone_for, milestone_source
from reviewapp.reviews.models import Milestone


def _urls(source: ReportSource) -> dict[str, str]:
    pk = source.design.pk
    if source.milestone is None:
        return {"html_url": reverse("reports:draft", args=[pk]), "markdown_url": reverse("reports:draft_md", args=[pk]),
                "request_url": reverse("reports:draft_pdf", args=[pk])}
    number = source.milestone.number
    return {"html_url": reverse("reports:milestone", args=[pk, number]),
            "markdown_url": reverse("reports:milestone_md", args=[pk, number]),
            "request_url": reverse("reports:milestone_pdf", args=[pk, number])}


def _pdf_context(report: Report | None, request_url: str = "", html_url: str = "") -> dict:
    overdue = report is not None and services.is_overdue(report)
    return {"report": report, "overdue": overdue, "request_url": request_url, "html_url": html_url,
            "can_request": bool(request_url) and (report is None or report.status == Report.Status.FAILED or overdue)}


def _source(request: HttpRequest, pk: int, number: int | None, *, role: str | None = None) -> ReportSource:
    design = get_design_for_user(request, pk, role=role)
    if number is None:
        return draft_source(design, now=timezone.now())
    return milestone_source(design, milestone_for(design, number))


def _report_page(request: HttpRequest, source: ReportSource) -> HttpResponse:
    urls = _urls(source)
    context = source_context(source)
    pdf = _pdf_context(services.cached_report(source), urls["request_url"])
    actions = {"open_actions": open_actions_for_design(source.design), "today": timezone.localdate()}
    return HttpResponse(report_html(context, output="web", request=request, extra={**urls, **pdf, **actions}))


@require_GET
def report_list(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk)
    milestones = list(Milestone.objects.filter(design=design).select_related("created_by").order_by("-number"))
    latest: dict[int, Report] = {}
    for report in Report.objects.filter(design=design, milestone__isnull=False).defer("pdf", "snapshot"):
        latest.setdefault(report.milestone_id, report)  # newest first
    rows = [{"milestone": m, "report": latest.get(m.pk)} for m in milestones]
    return render(request, "reports/list.html", {"design": design, "rows": rows})


@require_GET
def report_draft(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_page(request, _source(request, pk, None))


@require_GET
def report_milestone(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _report_page(request, _source(request, pk, number))


def _markdown_response(source: ReportSource) -> HttpResponse:
    text = report_markdown(source_context(source))
    part = f"m{source.milestone.number}" if source.milestone else "draft"
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(source.design.name) or "design"}-{part}-report.md"'
    return response


@require_GET
def report_draft_markdown(request: HttpRequest, pk: int) -> HttpResponse:
    return _markdown_response(_source(request, pk, None))


@require_GET
def report_milestone_markdown(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _markdown_response(_source(request, pk, number))


def _request_pdf(request: HttpRequest, source: ReportSource) -> HttpResponse:
    report, _created = services.report_request(source=source, user=request.user)
    if request.htmx:
        urls = _urls(source)
        return render(request, "reports/_pdf.html", {"design": source.design, **_pdf_context(report, urls["request_url"])})
    return redirect(report)


@require_POST
def report_draft_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _request_pdf(request, _source(request, pk, None, role=Role.MEMBER))


@require_POST
def report_milestone_pdf(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _request_pdf(request, _source(request, pk, number, role=Role.MEMBER))


def _report_for_user(request: HttpRequest, pk: int, report_pk: int) -> Report:
    design = get_design_for_user(request, pk)
    return get_object_or_404(Report.objects.select_related("design", "milestone").defer("pdf", "snapshot"),
                             pk=report_pk, design=design)


@require_GET
def report_status(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    """The PDF's status page; for htmx, only its fragment (polled each second while active)."""
    report = _report_for_user(request, pk, report_pk)
    if report.milestone_id:
        number = report.milestone.number
        html_url = reverse("reports:milestone", args=[pk, number])
        request_url = reverse("reports:milestone_pdf", args=[pk, number])
    else:
        html_url, request_url = reverse("reports:draft", args=[pk]), reverse("reports:draft_pdf", args=[pk])
    context = {"design": report.design, **_pdf_context(report, request_url, html_url)}
    return render(request, "reports/_pdf.html" if request.htmx else "reports/status.html", context)


@require_GET
def report_pdf(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    report = _report_for_user(request, pk, report_pk)
    if report.status != Report.Status.READY:
        return redirect(report)
    pdf = Report.objects.values_list("pdf", flat=True).get(pk=report.pk)
    part = f"m{report.milestone.number}" if report.milestone_id else f"draft-{report.pk}"
    response = HttpResponse(bytes(pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{slugify(report.design.name) or "design"}-{part}-report.pdf"'
    return response
