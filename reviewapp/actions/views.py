"""Action pages: a team's actions (filters, CSV and JSON export), one action with its history,
tracking a failing finding, and updates. Every view reads through a helper that puts team
membership in the query (outsiders get 404); writes need the reviewer role, or being the action's
owner for an update (else 403)."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from reviewapp.accounts.models import Membership, Role, Team
from reviewapp.actions import selectors, services
from reviewapp.actions.forms import TrackForm, UpdateForm
from reviewapp.actions.models import Action
from reviewapp.designs.access import get_design_for_user
from reviewapp.designs.selectors import design_assessment


def _team_for_user(request: HttpRequest, team_slug: str) -> Team:
    team = get_object_or_404(Team.objects.filter(memberships__user=request.user), slug=team_slug)
    return team


def _action_for_user(request: HttpRequest, action_pk: int) -> Action:
    """The action if the user's team holds it (else 404), with `action.membership`."""
    actions = Action.objects.for_user(request.user).select_related("design__team", "owner").annotate(
        user_role=F("team__memberships__role"))
    action = get_object_or_404(actions, pk=action_pk)
    action.membership = Membership(user=request.user, team=action.team, role=action.user_role)
    return action


def _can_update(request: HttpRequest, action: Action) -> bool:
    return action.membership.has_role(Role.REVIEWER) or action.owner_id == request.user.pk


def _filters(request: HttpRequest) -> dict:
    owner = request.GET.get("owner", "")
    status = request.GET.get("status", "")
    return {
        "status": status if status in selectors.FILTER_STATUSES else "",
        "owner_id": int(owner) if owner.isdigit() else None,
        "overdue": request.GET.get("overdue") == "1",
    }


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The user's teams, each linking to its actions, and the user's overdue actions."""
    teams = Team.objects.filter(memberships__user=request.user).order_by("name")
    overdue = selectors.overdue_actions_for_user(request.user)
    return render(request, "actions/index.html", {"teams": teams, "overdue": overdue, "today": timezone.localdate()})


@require_GET
def team_actions(request: HttpRequest, team_slug: str) -> HttpResponse:
    team = _team_for_user(request, team_slug)
    filters = _filters(request)
    today = timezone.localdate()
    return render(request, "actions/team.html", {
        "team": team, "actions": selectors.team_actions(team, today=today, **filters), "filters": filters,
        "members": selectors.team_members(team.pk), "statuses": Action.Status.choices, "today": today,
    })  # fmt: skip


EXPORT_FIELDS = ("id", "design", "item_key", "title", "severity", "owner", "due_on", "status", "overdue",
                 "wont_do_reason", "improvement_plan", "created_at", "closed_at")


def _export_rows(actions, today) -> list[dict]:
    return [{
        "id": a.pk, "design": a.design.name, "item_key": a.item_key, "title": a.title, "severity": a.severity,
        "owner": a.owner.get_username() if a.owner else "", "due_on": a.due_on.isoformat(), "status": a.status,
        "overdue": a.is_overdue(today), "wont_do_reason": a.wont_do_reason, "improvement_plan": a.improvement_plan,
        "created_at": a.created_at.isoformat(), "closed_at": a.closed_at.isoformat() if a.closed_at else "",
    } for a in actions]  # fmt: skip


@require_GET
def export(request: HttpRequest, team_slug: str, fmt: str) -> HttpResponse:
    """The team's actions under the page's filters (default: every status) as CSV or JSON."""
    team = _team_for_user(request, team_slug)
    filters = _filters(request)
    filters["status"] = filters["status"] or "all"
    today = timezone.localdate()
    rows = _export_rows(selectors.team_actions(team, today=today, **filters), today)
    filename = f"{team.slug}-actions-{today.isoformat()}.{fmt}"
    if fmt == "json":
        response = JsonResponse({"team": team.slug, "exported_on": today.isoformat(), "actions": rows})
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in rows:
            # A cell starting with = + - @ is a formula to a spreadsheet: quoted so it stays text.
            writer.writerow({k: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for k, v in row.items()})
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
def track(request: HttpRequest, pk: int, item_key: str) -> HttpResponse:
    """Track a failing finding as an action (reviewers and owners)."""
    design = get_design_for_user(request, pk, role=Role.REVIEWER)
    form = TrackForm(request.POST, team_id=design.team_id)
    error = ""
    if form.is_valid():
        try:
            action = services.action_create(design=design, item_key=item_key, user=request.user,
                                            owner=form.cleaned_data["owner"], due_on=form.cleaned_data["due_on"],
                                            assessment=design_assessment(design))
        except ValidationError as exc:
            error = "; ".join(m for ms in exc.message_dict.values() for m in ms)
        else:
            messages.success(request, f"Tracking “{action.title}” as action #{action.pk}.")
            return redirect("actions:detail", action_pk=action.pk)
    else:
        error = "; ".join(f"{form.fields[name].label or name}: {m}" for name, ms in form.errors.items() for m in ms)
    return render(request, "actions/refused.html", {"design": design, "item_key": item_key, "error": error},
                  status=400)


@require_GET
def detail(request: HttpRequest, action_pk: int) -> HttpResponse:
    action = _action_for_user(request, action_pk)
    return _detail(request, action)


def _detail(request: HttpRequest, action: Action, form: UpdateForm | None = None, status: int = 200) -> HttpResponse:
    today = timezone.localdate()
    return render(request, "actions/detail.html", {
        "action": action, "events": action.events.select_related("user"), "form": form,
        "can_update": _can_update(request, action), "members": selectors.team_members(action.team_id),
        "statuses": Action.Status.choices, "overdue": action.is_overdue(today),
    }, status=status)  # fmt: skip


@require_POST
def update(request: HttpRequest, action_pk: int) -> HttpResponse:
    action = _action_for_user(request, action_pk)
    if not _can_update(request, action):
        raise PermissionDenied("Only the action's owner or a reviewer of the team may change it.")
    form = UpdateForm(request.POST, team_id=action.team_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.action_update(action=action, user=request.user, status=data["status"], owner=data["owner"],
                                   due_on=data["due_on"], reason=data["reason"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Saved action #{action.pk}.")
            return redirect("actions:detail", action_pk=action.pk)
    return _detail(request, action, form, status=400)


