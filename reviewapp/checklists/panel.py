"""The findings panel's context, built from a design's assessment (computed once by the view).

The list is compact: each finding is one line (its outcome, title and, when it needs attention,
its message). The rule trace, the improvement plan and the answer and acceptance forms of one
finding load on demand (`finding_context`, the `checklists:finding` view).
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal

from django.http import Http404, HttpRequest
from html import escape

from django.urls import reverse
from django.utils.safestring import mark_safe
from engine import vocabulary
from engine.checklist import Finding

from reviewapp.accounts.models import Membership, Role
from reviewapp.actions.selectors import finding_action_context
from reviewapp.checklists.assessment import (
    OPEN_OUTCOMES,
    OUTCOME_LABELS,
    OUTCOME_PRIORITY,
    SEVERITY_ORDER,
    visible_findings,
)
from reviewapp.designs.selectors import DesignAssessment, Memo


def panel_context(request: HttpRequest, assessment: DesignAssessment, membership: Membership) -> dict:
    """Everything `checklists/_panel.html` shows; filters come from the request (GET or POST)."""
    design = assessment.design
    data = request.POST if request.method == "POST" else request.GET
    severity = data.get("severity", "") if data.get("severity", "") in SEVERITY_ORDER else ""
    outcome = data.get("outcome", "") if data.get("outcome", "") in OUTCOME_LABELS else ""
    staff = request.user.is_staff
    context = {
        "design": design,
        "severity": severity,
        "outcome": outcome,
        "severities": SEVERITY_ORDER,
        "outcomes": [(k, OUTCOME_LABELS[k]) for k in OUTCOME_PRIORITY if staff or k != "rule_error"],
        "can_review": membership.has_role(Role.REVIEWER),
        "staff": staff,
        "panel_url": reverse("checklists:panel", args=[design.pk]),
        "page_url": reverse("checklists:review", args=[design.pk]),
        "version": assessment.version,
        "pinned": assessment.pinned,
    }
    evaluation = assessment.evaluation
    if evaluation is None:
        return context
    # The lines are a pure function of what each finding shows and the filters: keyed by that, the
    # list is reused while someone types (most keystrokes change no finding's line).
    shown = tuple((f.item_key, f.outcome, f.severity, f.title, f.mode, f.message) for f in evaluation.findings)
    key = (design.pk, staff, severity, outcome, shown)
    listed = _listed.get(key)
    if listed is None:
        listed = _list_findings(evaluation, design.pk, staff=staff, severity=severity, outcome=outcome)
        _listed.put(key, listed)
    groups, shown_count = listed
    context.update(
        evaluation=evaluation,
        score=evaluation.score,
        groups=groups,
        shown_count=shown_count,
        newer_version=assessment.newer_version,
        repin_url=reverse("checklists:repin", args=[design.pk]),
        verdict_label=vocabulary.VERDICTS.get(evaluation.verdict, evaluation.verdict),
        section_scores=[(s.title, whole(s.score), s.scored_count, s.item_count) for s in evaluation.score.sections],
    )
    return context


_listed = Memo(64)  # a list of 200 lines is ~100 KB; while typing, few lists differ


def whole(score: float | None) -> str:
    """A score as the page shows it: a whole number, halves rounded up, as `floatformat:0` does
    (which cost ~70 µs a call in the section table), or an en dash when there is none."""
    if score is None:
        return "–"
    return str(Decimal(repr(score)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _list_findings(evaluation, design_pk: int, **filters) -> tuple[list[dict], int]:
    findings = visible_findings(evaluation, **filters)
    findings.sort(key=lambda f: OUTCOME_PRIORITY.index(f.outcome))
    detail = reverse("checklists:finding", args=[design_pk, "KEY"])
    groups = []
    for level in SEVERITY_ORDER:
        rows = [finding_row_html(f, detail.replace("KEY", f.item_key)) for f in findings if f.severity == level]
        if rows:  # joined here: the template's loop cost ~5 µs a line
            groups.append({"severity": level, "rows": mark_safe("".join(rows)), "count": len(rows)})
    return groups, len(findings)


def finding_row_html(finding: Finding, detail_url: str) -> str:
    """One compact line of the findings list; opening it loads the details (htmx), and without
    JavaScript its link opens them as a page. Written here, not in a template: the list has a
    line per checklist item and the template engine cost ~35 µs a line (benchmarks/page_profile.py)."""
    f = finding
    message = f.message if f.outcome in OPEN_OUTCOMES else None
    return _row_html(f.item_key, f.outcome, f.title, f.mode, message, detail_url)


@functools.lru_cache(maxsize=4096)
def _row_html(item_key: str, outcome: str, title: str, mode: str, message: str | None, detail_url: str) -> str:
    # While someone types, most lines stay as they were: each is built once (~10 µs) and reused.
    url, outcome_attr = escape(detail_url), escape(outcome)
    message_html = "" if message is None else f"<br><small>{escape(message)}</small>"
    # hx-target, hx-swap and hx-include are inherited from the list (_panel.html).
    return mark_safe(
        f'<li id="finding-{escape(item_key)}" data-outcome="{outcome_attr}"><details hx-post="{url}" '
        f'hx-trigger="toggle once"><summary><span class="badge outcome-{outcome_attr}">{escape(OUTCOME_LABELS[outcome])}'
        f'</span> {escape(title)} <small class="muted">{escape(mode)}</small>{message_html}</summary>'
        f'<div class="finding-detail"><a href="{url}">Details</a></div></details></li>'
    )


def finding_context(request: HttpRequest, assessment: DesignAssessment, membership: Membership, item_key: str) -> dict:
    """One finding in full: why it matters, the rule trace, the improvement plan, and the answer
    and acceptance forms the user's role allows. 404 for an unknown item (or a rule error, for
    non-staff, who never see those)."""
    finding = assessment.finding(item_key)
    if finding is None or (finding.outcome == "rule_error" and not request.user.is_staff):
        raise Http404("No such item in this checklist version.")
    design = assessment.design
    return {
        **finding_action_context(design, membership, item_key, finding.outcome),
        "design": design,
        "finding": finding,
        "item": assessment.items[item_key],
        "answer": assessment.answers.get(item_key),
        "outcome_label": OUTCOME_LABELS[finding.outcome],
        "can_answer": membership.has_role(Role.MEMBER),
        "can_review": membership.has_role(Role.REVIEWER),
        "answer_url": reverse("checklists:answer", args=[design.pk, item_key]),
        "accept_url": reverse("checklists:accept", args=[design.pk, item_key]),
        "detail_url": reverse("checklists:finding", args=[design.pk, item_key]),
    }
