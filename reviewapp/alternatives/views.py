"""The compare page: two or three designs of the user's teams, or milestones of them, side by
side (reviewapp.alternatives.compare), in the app and as a PDF. Access is in the query: a design
of another team is not found (404), whichever column it is in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from reviewapp.alternatives.compare import MAX_COLUMNS, MIN_COLUMNS, Column, Comparison, compare
from reviewapp.designs.models import Design
from reviewapp.designs.selectors import design_assessment
from reviewapp.reviews.models import Milestone
from reviewapp.reviews.selectors import current_snapshot

# A pick is a design id (the design as it is now) or <design id>@<milestone number>.
PICK = re.compile(r"(\d{1,12})(?:@(\d{1,9}))?")


class PickError(ValueError):
    """What is wrong with the picks, in a sentence for the page."""


@dataclass(frozen=True, slots=True)
class PickerDesign:
    design: Design
    milestones: list[tuple[str, int, str]]  # (pick value, number, name), newest first


def parse_picks(values: list[str]) -> list[tuple[int, int | None]]:
    picks: list[tuple[int, int | None]] = []
    for value in values:
        match = PICK.fullmatch(value.strip())
        if match is None:
            raise PickError(f"“{value[:40]}” is not a design or milestone to compare (expected a design id "
                            "such as 12, or 12@3 for its milestone M3).")
        pick = (int(match[1]), int(match[2]) if match[2] else None)
        if pick not in picks:
            picks.append(pick)
    if len(picks) < MIN_COLUMNS:
        raise PickError(f"Pick two or three designs or milestones to compare; {_picked(len(picks))}.")
    if len(picks) > MAX_COLUMNS:
        raise PickError(f"Pick at most three designs or milestones to compare; {_picked(len(picks))}.")
    return picks


def _picked(n: int) -> str:
    return "you picked none" if n == 0 else f"you picked {n}"


def columns_for(user, picks: list[tuple[int, int | None]]) -> list[Column]:
    """The columns, in the order picked. Raises Http404 when a design is not one of the user's
    teams' or a milestone does not exist. One query for the designs, one for the milestones."""
    designs = {d.pk: d for d in Design.objects.for_user(user).select_related("team")
               .filter(pk__in={pk for pk, _ in picks})}
    if any(pk not in designs for pk, _ in picks):
        raise Http404("No such design.")
    wanted = [(pk, number) for pk, number in picks if number is not None]
    milestones = {}
    if wanted:
        query = Q()
        for pk, number in wanted:
            query |= Q(design_id=pk, number=number)
        milestones = {(m.design_id, m.number): m for m in Milestone.objects.filter(query)}
        if len(milestones) != len(wanted):
            raise Http404("No such milestone.")
    columns = []
    for pk, number in picks:
        design = designs[pk]
        if number is None:
            snapshot = current_snapshot(design_assessment(design))
            columns.append(Column(design.name, f"Now (revision {design.revision})", design.team.name,
                                  reverse("designs:detail", args=[pk]), snapshot))
        else:
            milestone = milestones[(pk, number)]
            columns.append(Column(design.name, f"M{number} {milestone.name}", design.team.name,
                                  reverse("reviews:milestone", args=[pk, number]), milestone.snapshot))
    return columns


def picker(user) -> list[PickerDesign]:
    """The user's designs with their milestones, for the checkboxes (two queries)."""
    designs = list(Design.objects.for_user(user).select_related("team").only("name", "team__name"))
    by_design: dict[int, list[tuple[str, int, str]]] = {d.pk: [] for d in designs}
    for design_id, number, name in (Milestone.objects.filter(design__in=[d.pk for d in designs])
                                    .order_by("design_id", "-number").values_list("design_id", "number", "name")):
        by_design[design_id].append((f"{design_id}@{number}", number, name))
    return [PickerDesign(d, by_design[d.pk]) for d in designs]


def _page(request: HttpRequest, *, comparison: Comparison | None = None, error: str = "",
          checked: list[str], status: int = 200) -> HttpResponse:
    query = request.GET.urlencode() if comparison else ""
    context = {"comparison": comparison, "error": error, "picker": picker(request.user), "checked": set(checked),
               "pdf_url": f"{reverse('alternatives:compare_pdf')}?{query}" if comparison else "",
               "min_columns": MIN_COLUMNS, "max_columns": MAX_COLUMNS}
    return render(request, "alternatives/compare.html", context, status=status)


@require_http_methods(["GET"])
def compare_page(request: HttpRequest) -> HttpResponse:
    """?pick=12&pick=15@2 ...; no picks: the picker alone (?with=12 ticks a design for a start)."""
    values = request.GET.getlist("pick")
    if not values:
        return _page(request, checked=request.GET.getlist("with"))
    try:
        picks = parse_picks(values)
    except PickError as exc:
        return _page(request, error=str(exc), checked=values, status=400)
    comparison = compare(columns_for(request.user, picks))
    return _page(request, comparison=comparison, checked=values)


@require_http_methods(["GET"])
def compare_pdf(request: HttpRequest) -> HttpResponse:
    """The same comparison as a PDF (WeasyPrint, as the review reports)."""
    from reviewapp.reports.render import pdf_from_html

    values = request.GET.getlist("pick")
    try:
        picks = parse_picks(values)
    except PickError as exc:
        return _page(request, error=str(exc), checked=values, status=400)
    comparison = compare(columns_for(request.user, picks))
    html = render_to_string("alternatives/compare_pdf.html", {"comparison": comparison})
    response = HttpResponse(pdf_from_html(html).pdf, content_type="application/pdf")
    names = "-".join(str(pk) + (f"-m{number}" if number else "") for pk, number in picks)
    response["Content-Disposition"] = f'inline; filename="compare-{names}.pdf"'
    return response
