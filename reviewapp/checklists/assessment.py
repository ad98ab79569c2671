"""Assess a design against its pinned version: facts from the engine, answers from the database.

Compiled checklists are cached per published version id in this process: a published version
never changes, so its expressions are compiled once. Drafts are compiled on every call.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

from engine import design as design_schema
from engine.checklist import CompiledChecklist, Evaluation, Finding, compile_checklist, evaluate

from reviewapp.checklists.convert import version_checklist
from reviewapp.checklists.models import ChecklistVersion, DesignReview

logger = logging.getLogger(__name__)

# Keyed by id and publish time: an id alone can come back after a rollback (tests do that).
_compiled: dict[tuple, CompiledChecklist] = {}


def compiled_version(version: ChecklistVersion) -> CompiledChecklist:
    if version.is_draft:
        return compile_checklist(version_checklist(version))
    key = (version.pk, version.published_at)
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compiled[key] = compile_checklist(version_checklist(version))
    return compiled


def design_document(posted: Mapping[str, Any] | None, saved: Mapping[str, Any] | None) -> dict:
    """The design to assess: posted form values when there are any (invalid fields become blank,
    as a preview must not fail on a half-typed number), else the saved document."""
    if posted:
        flat = {k: posted.getlist(k) if hasattr(posted, "getlist") else posted[k] for k in posted}
        fields = {k: v for k, v in flat.items() if "." in k}
        if fields:
            return design_schema.validate(fields).document
    return design_schema.validate(saved or {}).document


def facts_tree(document: dict, measurements=None) -> dict:
    try:
        from engine.facts import build_facts
    except ImportError:  # until the engine derives numbers, rules read the inputs alone
        return document
    return build_facts(document, measurements=measurements).tree


@dataclass
class Assessment:
    review: DesignReview
    evaluation: Evaluation
    compiled: CompiledChecklist
    items: dict = field(default_factory=dict)  # item key -> engine Item


def assess(review: DesignReview, *, document: dict, today: dt.date | None = None) -> Assessment:
    compiled = compiled_version(review.version)
    answers = {a.item_key: a.as_engine_answer() for a in review.answers.all()}
    acceptances = {a.item_key: a.as_engine_acceptance() for a in review.acceptances.all()}
    evaluation = evaluate(
        compiled, facts_tree(document), answers, acceptances, today=today or dt.date.today()
    )
    items = {c.item.key: c.item for c in compiled.items}
    return Assessment(review, evaluation, compiled, items)


SEVERITY_ORDER = ("high", "medium", "low")
OUTCOME_LABELS = {
    "fail": "Fails",
    "unanswered": "Unanswered",
    "accepted_risk": "Risk accepted",
    "rule_error": "Rule error",
    "pass": "Passes",
    "not_applicable": "Not applicable",
}


def visible_findings(assessment: Assessment, *, staff: bool, severity: str = "", outcome: str = "") -> list[Finding]:
    """Findings to list: rule errors only for staff; filtered by severity and outcome."""
    findings = [f for f in assessment.evaluation.findings if staff or f.outcome != "rule_error"]
    if severity in SEVERITY_ORDER:
        findings = [f for f in findings if f.severity == severity]
    if outcome in OUTCOME_LABELS:
        findings = [f for f in findings if f.outcome == outcome]
    return findings
