"""The findings panel's context, shared by the htmx views and the template tag that renders the
panel inside the design page without JavaScript."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from reviewapp.accounts.models import Role
from reviewapp.checklists import services
from reviewapp.checklists.assessment import (
    OUTCOME_LABELS,
    SEVERITY_ORDER,
    assess,
    design_document,
    visible_findings,
)
from reviewapp.designs.access import membership_of

# What needs attention first within a severity; passes last, so a long list stays readable.
OUTCOME_PRIORITY = ("fail", "rule_error", "unanswered", "accepted_risk", "pass", "not_applicable")
VERDICT_LABELS = {"ready": "Ready", "ready_with_risks": "Ready with risks", "not_ready": "Not ready"}


def panel_context(request: HttpRequest, design, *, refresh: bool = False, standalone: bool = False) -> dict:
    """Everything `checklists/_panel.html` shows. Design values come from the request's data
    (GET or POST, flat dotted keys) when it has any, else from the saved design."""
    membership = membership_of(request.user, design.team_id)
    data = request.POST if request.method == "POST" else request.GET
    severity = data.get("severity", "")
    outcome = data.get("outcome", "")
    context = {
        "design": design,
        # Re-fetch with the form's values when the page loads (browsers restore unsaved inputs),
        # but not from a fragment the server just rendered (that would loop) or without forms.
        "load_on_start": not refresh and not standalone,
        "severity": severity if severity in SEVERITY_ORDER else "",
        "outcome": outcome if outcome in OUTCOME_LABELS else "",
        "severities": SEVERITY_ORDER,
        "outcomes": [(k, v) for k, v in OUTCOME_LABELS.items() if request.user.is_staff or k != "rule_error"],
        "can_answer": membership.has_role(Role.MEMBER),
        "can_review": membership.has_role(Role.REVIEWER),
        "staff": request.user.is_staff,
        "panel_url": reverse("checklists:panel", args=[design.pk]),
        "page_url": reverse("checklists:review", args=[design.pk]),
    }
    review = services.review_for_design(design=design, user=request.user)
    context["review"] = review
    if review is None:
        return context
    assessment = assess(review, document=design_document(data, design.inputs))
    evaluation = assessment.evaluation
    answers = {a.item_key: a for a in review.answers.all()}
    findings = visible_findings(assessment, staff=request.user.is_staff, severity=context["severity"], outcome=context["outcome"])
    groups = []
    for level in SEVERITY_ORDER:
        rows = [
            {
                "finding": f,
                "item": assessment.items[f.item_key],
                "answer": answers.get(f.item_key),
                "outcome_label": OUTCOME_LABELS[f.outcome],
                "answer_url": reverse("checklists:answer", args=[design.pk, f.item_key]),
                "accept_url": reverse("checklists:accept", args=[design.pk, f.item_key]),
            }
            for f in sorted(findings, key=lambda f: OUTCOME_PRIORITY.index(f.outcome))
            if f.severity == level
        ]
        if rows:
            groups.append({"severity": level, "rows": rows})
    newest = services.newest_published(review.version.checklist)
    context.update(
        {
            "version": review.version,
            "evaluation": evaluation,
            "score": evaluation.score,
            "groups": groups,
            "shown_count": len(findings),
            "newer_version": newest if newest and newest.number > review.version.number else None,
            "repin_url": reverse("checklists:repin", args=[design.pk]),
            "verdict_label": VERDICT_LABELS.get(evaluation.verdict, evaluation.verdict),
        }
    )
    return context
