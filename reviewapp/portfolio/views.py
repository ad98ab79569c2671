"""The team dashboard and its consolidated report (HTML, PDF, JSON). Every design shown is one of
the user's teams' (the membership is in the query); nothing here writes, so any member may read."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from reviewapp.designs.selectors import digest
from reviewapp.designs.services import teams_for_user
from reviewapp.portfolio.forms import DashboardFilters
from reviewapp.portfolio.report import consolidated_report
from reviewapp.actions.selectors import overdue_by_design
from reviewapp.portfolio.selectors import dashboard_rows, dashboard_stamp, report_rows, risks_by_section
from reviewapp.reports.render import pdf_from_html

COLUMNS = (("name", "Design"), ("team", "Team"), ("score", "Score"), ("risks", "Open risks"),
           ("status", "Review status"), ("cost", "Monthly cost"))


def _filters(request: HttpRequest) -> tuple[DashboardFilters, list]:
    teams = teams_for_user(request.user)
    form = DashboardFilters(request.GET, teams=teams)
    form.is_valid()
    return form, teams


def _sort_links(form: DashboardFilters) -> list[dict]:
    """Each column's sort link: the current filters, that column, the other direction when it is
    the current one. Plain links: the page sorts without JavaScript."""
    data = form.cleaned_data
    current, descending = data.get("sort") or "name", bool(data.get("desc"))
    base = {k: v for k, v in (("team", data.get("team") or ""), ("verdict", data.get("verdict")),
                              ("status", data.get("status")), ("q", data.get("q"))) if v}
    links = []
    for key, label in COLUMNS:
        desc = key == current and not descending
        query = {**base, "sort": key, **({"desc": "1"} if desc else {})}
        links.append({"key": key, "label": label, "url": "?" + urlencode(query), "active": key == current,
                      "descending": descending if key == current else None})
    return links


RESULTS_CACHE_S = 600


def _results_html(request: HttpRequest, form: DashboardFilters) -> str:
    """The results fragment, from the cache when nothing it shows has changed: a stamp of the
    rows (a few small queries) keys it, so a dashboard seen again neither loads 200 design
    documents nor renders 200 rows. An app that adds a column must add what it reads to the key."""
    selection = form.selection()
    stamp = dashboard_stamp(request.user, team_id=selection["team_id"], status=selection["status"],
                            text=selection["text"])
    # The overdue-actions column (one query): what it shows is part of the cache key.
    overdue = overdue_by_design(request.user)
    overdue_key = sorted((pk, [a.pk for a in actions]) for pk, actions in overdue.items())
    key = (f"portfolio:results:{digest(stamp, selection, sorted(request.GET.lists()), overdue_key)}"
           if stamp else None)
    html = cache.get(key) if key else None
    if html is None:
        rows = dashboard_rows(request.user, **selection)
        for row in rows:
            row.extra["overdue_actions"] = overdue.get(row.design.pk, [])
        context = {
            "form": form, "rows": rows, "sort_links": _sort_links(form),
            "sections": risks_by_section(r.summary for r in rows), "report_query": request.GET.urlencode(),
            "dashboard_extra": {},  # columns other apps add to each row (portfolio/_row_extra.html)
        }
        html = render_to_string("portfolio/_results.html", context, request=request)
        if key:
            cache.set(key, html, RESULTS_CACHE_S)
    return html


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form, teams = _filters(request)
    if form.is_valid():
        results, status = mark_safe(_results_html(request, form)), 200
    else:
        results, status = render_to_string("portfolio/_results.html", {"form": form}, request=request), 400
    if request.htmx:
        return HttpResponse(results, status=status)
    return render(request, "portfolio/dashboard.html",
                  {"form": form, "filter_selects": form.selects(), "teams": teams, "results": results}, status=status)


def _report(request: HttpRequest) -> tuple[dict | None, DashboardFilters]:
    form, teams = _filters(request)
    if not form.is_valid():
        return None, form
    selection = form.selection()
    rows = report_rows(dashboard_rows(request.user, **selection))
    names = [t.name for t in teams if not selection["team_id"] or t.pk == selection["team_id"]]
    return consolidated_report(rows, generated_at=timezone.now(), teams=names, selection=selection), form


def _invalid(form: DashboardFilters) -> HttpResponse:
    errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
    return JsonResponse({"error": "invalid filters", "fields": errors}, status=400)


@require_GET
def report_html(request: HttpRequest) -> HttpResponse:
    report, form = _report(request)
    if report is None:
        return _invalid(form)
    return render(request, "portfolio/report.html", {"report": report, "output": "web",
                                                     "report_query": request.GET.urlencode()})


@require_GET
def report_json(request: HttpRequest) -> HttpResponse:
    report, form = _report(request)
    if report is None:
        return _invalid(form)
    response = JsonResponse(report, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{_filename(report)}.json"'
    return response


@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    """Rendered in the request, unlike a design's report (a job): the consolidated report has no
    charts to draw in Chromium, so it is WeasyPrint alone (about a second for 200 designs)."""
    report, form = _report(request)
    if report is None:
        return _invalid(form)
    html = render_to_string("portfolio/report.html", {"report": report, "output": "pdf"})
    response = HttpResponse(pdf_from_html(html).pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report)}.pdf"'
    return response


def _filename(report: dict) -> str:
    return f"portfolio-report-{dt.date.fromisoformat(report['generated_at'][:10]):%Y-%m-%d}"
