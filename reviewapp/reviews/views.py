"""Review pages: request, withdraw, decide, milestones, compare, history.

Every view fetches the design through `get_design_for_user` first (outsiders 404; a role below
the one needed 403). Writes go through `reviewapp.reviews.services`; a refused action re-renders its
page with the reason and the service's status (400 bad input, 403 not allowed, 409 overtaken) and
has written nothing.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from reviewapp.accounts.models import Role
from reviewapp.designs.access import get_design_for_user
from reviewapp.designs.selectors import design_assessment
from reviewapp.reviews import services
from reviewapp.reviews.diff import snapshot_diff
from reviewapp.reviews.forms import CompareForm, DecisionForm, MilestoneForm, ReviewRequestForm
from reviewapp.reviews.models import Milestone
from reviewapp.reviews.selectors import current_snapshot, history_events, recent_history, review_panel

HISTORY_PAGE = 500


def _detail(design) -> HttpResponse:
    return redirect("designs:detail", pk=design.pk)


def shown_revision(request: HttpRequest, design) -> int:
    """The revision the page that opened the form showed (`?revision=`), so that a request names
    what its author saw: a later save makes the request stale (409) instead of silently current."""
    raw = request.GET.get("revision", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= design.revision else design.revision


@require_http_methods(["GET", "POST"])
def review_request(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    form = ReviewRequestForm(request.POST or None, initial={"revision": shown_revision(request, design)},
                             reviewers=services.eligible_reviewers(design, exclude=request.user))
    if request.method == "GET" and request.htmx:  # the design page's request dialog, opened
        return render(request, "reviews/_request_form.html", {"design": design, "form": form})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.review_request(design=design, user=request.user, **form.cleaned_data)
            except services.ReviewRefused as exc:
                form.add_error(None, str(exc))
                status = exc.status
                design = get_design_for_user(request, pk, role=Role.MEMBER)
            else:
                messages.success(request, "Review requested. The reviewers were notified.")
                return _detail(design)
    panel = review_panel(request, design_assessment(design))
    return render(request, "reviews/request.html", {"design": design, "form": form, "review": panel}, status=status)


@require_POST
def review_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    try:
        services.review_withdraw(design=design, user=request.user)
    except services.ReviewRefused as exc:
        return render(request, "reviews/refused.html", {"design": design, "reason": str(exc)}, status=exc.status)
    messages.success(request, "Review request withdrawn.")
    return _detail(design)


@require_http_methods(["GET", "POST"])
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision dialog as a page: what the approval signs (blockers, medium risks, unanswered
    items, separation of duties) and the form; the design page shows the same in place."""
    design = get_design_for_user(request, pk, role=Role.REVIEWER)
    form = DecisionForm(request.POST or None, initial={"revision": design.revision})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                decision = services.review_decide(design=design, user=request.user, **form.cleaned_data)
            except services.ReviewRefused as exc:
                form.add_error(None, str(exc))
                status = exc.status
                design = get_design_for_user(request, pk, role=Role.REVIEWER)
            else:
                messages.success(request, f"{decision.get_outcome_display()}: recorded as milestone "
                                          f"M{decision.milestone.number}.")
                return _detail(design)
    assessment = design_assessment(design)
    panel = review_panel(request, assessment)
    since_request = None
    if panel.request is not None and panel.request.design_revision != design.revision:
        since_request = snapshot_diff(panel.request.milestone.snapshot, current_snapshot(assessment))
    context = {"design": design, "form": form, "review": panel, "since_request": since_request}
    return render(request, "reviews/decide.html", context, status=status)


@require_http_methods(["GET", "POST"])
def milestones(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk, role=Role.MEMBER)
    form = MilestoneForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            milestone = services.milestone_create(design=design, user=request.user, name=form.cleaned_data["name"])
            messages.success(request, f"Saved milestone M{milestone.number} “{milestone.name}”.")
            return _detail(design)
        status = 400
    rows = Milestone.objects.filter(design=design).select_related("created_by").defer("snapshot")
    return render(request, "reviews/milestones.html", {"design": design, "form": form, "milestones": rows}, status=status)


def _milestone_or_404(design, number: int) -> Milestone:
    try:
        return Milestone.objects.select_related("created_by").get(design=design, number=number)
    except Milestone.DoesNotExist:
        raise Http404("No such milestone.") from None


@require_http_methods(["GET"])
def milestone_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    design = get_design_for_user(request, pk)
    milestone = _milestone_or_404(design, number)
    snap = milestone.snapshot
    evaluation = snap.get("evaluation") or {}
    open_findings = [f for f in evaluation.get("findings", []) if f["outcome"] in ("fail", "rule_error", "unanswered")]
    context = {"design": design, "milestone": milestone, "snap": snap, "evaluation": evaluation,
               "open_findings": open_findings, "review_block": snap.get("review")}
    return render(request, "reviews/milestone.html", context)


@require_http_methods(["GET"])
def milestone_json(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    design = get_design_for_user(request, pk)
    milestone = _milestone_or_404(design, number)
    response = HttpResponse(json.dumps(milestone.snapshot, indent=1, ensure_ascii=False),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="design-{design.pk}-M{milestone.number}.json"'
    return response


@require_http_methods(["GET"])
def compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two milestones, or a milestone and now: ?old=<number|now>&new=<number|now>. Defaults: the
    approved milestone (else the newest) against now."""
    design = get_design_for_user(request, pk)
    numbers = list(Milestone.objects.filter(design=design).values_list("number", "name"))
    if not numbers:
        return render(request, "reviews/compare.html", {"design": design, "form": None, "diff": None})
    default_old = _approved_number(design) or numbers[0][0]
    data = {"old": request.GET.get("old", str(default_old)), "new": request.GET.get("new", "now")}
    form = CompareForm(data, numbers=numbers)
    if not form.is_valid():
        return render(request, "reviews/compare.html", {"design": design, "form": form, "diff": None}, status=400)
    now = None
    sides = {}
    for side in ("old", "new"):
        value = form.cleaned_data[side]
        if value == "now":
            now = now or current_snapshot(design_assessment(design))  # one assessment per request
            sides[side] = now
        else:
            sides[side] = _milestone_or_404(design, int(value)).snapshot
    diff = snapshot_diff(sides["old"], sides["new"])
    names = dict(form.fields["old"].choices)
    context = {"design": design, "form": form, "diff": diff,
               "old_name": names[form.cleaned_data["old"]], "new_name": names[form.cleaned_data["new"]]}
    return render(request, "reviews/compare.html", context)


def _approved_number(design) -> int | None:
    from reviewapp.reviews.models import Decision

    decision = (Decision.objects.filter(design=design, outcome=Decision.Outcome.APPROVED)
                .select_related("milestone").only("milestone__number").first())  # fmt: skip
    return decision.milestone.number if decision else None


@require_http_methods(["GET"])
def history(request: HttpRequest, pk: int) -> HttpResponse:
    design = get_design_for_user(request, pk)
    if request.htmx:  # the design page's recent history, opened
        return render(request, "reviews/_recent_history.html", {"design": design, "events": recent_history(design)})
    events = history_events(design)
    return render(request, "reviews/history.html",
                  {"design": design, "events": events[:HISTORY_PAGE], "limit": HISTORY_PAGE})
