"""Assess a design against its pinned version: the engine computes facts and findings; answers
and accepted risks come from the database. (Benchmark measurements join when benchmarks exist.)

Compiled checklists are cached per published version id in this process: a published version
never changes, so its expressions are compiled once. Drafts are compiled on every call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from engine import assess as engine_assess
from engine.checklist import CompiledChecklist, Evaluation, Finding, compile_checklist

from reviewapp.checklists.convert import version_checklist
from reviewapp.checklists.models import ChecklistVersion, DesignReview


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
    """The design to assess: posted form values (flat dotted keys) when there are any, else the
    saved document. The engine validates either; invalid fields become blank facts, as a live
    preview must not fail on a half-typed number."""
    if posted:
        fields = {k: posted.getlist(k) if hasattr(posted, "getlist") else posted[k] for k in posted if "." in k}
        if fields:
            return fields
    return dict(saved or {})


def _gpu_catalog() -> dict | None:
    """The staff-edited GPU prices, so costs here match the design's numbers panel."""
    try:
        from reviewapp.designs.catalog import gpu_catalog
    except ImportError:
        return None
    return gpu_catalog()


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
    result = engine_assess(
        document, compiled, None, answers=answers, acceptances=acceptances,
        gpu_catalog=_gpu_catalog(), today=today or dt.date.today(),
    )  # fmt: skip
    items = {c.item.key: c.item for c in compiled.items}
    return Assessment(review, result.evaluation, compiled, items)


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
