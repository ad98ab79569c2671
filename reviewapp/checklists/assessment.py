"""Checklist pieces of a design's assessment (the assessment itself is
`reviewapp.designs.selectors.design_assessment`, computed once per request).

Compiled checklists are cached per published version id in this process: a published version
never changes, so its expressions are compiled once. Drafts are compiled on every call.
"""

from __future__ import annotations

from engine import vocabulary
from engine.checklist import CompiledChecklist, Evaluation, Finding, compile_checklist

from reviewapp.checklists.convert import version_checklist
from reviewapp.checklists.models import ChecklistVersion

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


SEVERITY_ORDER = tuple(vocabulary.SEVERITIES)
OUTCOME_LABELS = vocabulary.OUTCOMES
# What needs attention first within a severity; passes last, so a long list stays readable.
OUTCOME_PRIORITY = ("fail", "rule_error", "unanswered", "accepted_risk", "pass", "not_applicable")
OPEN_OUTCOMES = frozenset({"fail", "rule_error", "unanswered"})


def visible_findings(evaluation: Evaluation, *, staff: bool, severity: str = "", outcome: str = "") -> list[Finding]:
    """Findings to list: rule errors only for staff; filtered by severity and outcome."""
    findings = [f for f in evaluation.findings if staff or f.outcome != "rule_error"]
    if severity in SEVERITY_ORDER:
        findings = [f for f in findings if f.severity == severity]
    if outcome in OUTCOME_LABELS:
        findings = [f for f in findings if f.outcome == outcome]
    return findings
