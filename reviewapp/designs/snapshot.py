"""A design's assessment as one self-contained JSON document: what a milestone stores and what a
report renders. It holds every value the reader sees (inputs, numbers with their provenance, the
checklist's items and findings with traces, answers, accepted risks, measurements and where they
came from), so a milestone reads the same forever: after the design is edited, after a new
checklist version is published, after GPU prices change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from reviewapp.designs.assessment import Number, Numbers
from reviewapp.designs.selectors import DesignAssessment

FORMAT = "ai-design-review/snapshot"
FORMAT_VERSION = 1


def _number(n: Number) -> dict[str, Any]:
    return {"path": n.path, "label": n.label, "value": n.value, "text": n.text, "unit": n.unit,
            "provenance": n.provenance, "description": n.description}


def numbers_document(numbers: Numbers) -> dict[str, Any]:
    """The numbers panel as data: the same rows, labels and provenance the page shows."""
    return {
        "sections": [{"title": title, "rows": [_number(n) for n in rows]} for title, rows in numbers.sections],
        "cost_rows": [{"plan": r.plan, "label": r.label, "chosen": r.chosen, "monthly": _number(r.monthly),
                       "per_1k_requests": _number(r.per_1k_requests), "per_1m_tokens": _number(r.per_1m_tokens),
                       "hourly": _number(r.hourly) if r.hourly else None, "negotiated": r.negotiated,
                       "per_run": _number(r.per_run) if r.per_run else None}
                      for r in numbers.cost_rows],
        "shape": numbers.shape,
        "not_computed": [{"path": n.path, "label": n.label, "reason": n.reason, "invalid": n.invalid}
                         for n in numbers.not_computed],
        "budget": _number(numbers.budget),
        "budget_gap_pct": _number(numbers.budget_gap_pct),
        "build_vs_buy": [_number(n) for n in numbers.build_vs_buy],
        "warnings": list(numbers.warnings),
        "assumptions": list(numbers.assumptions),
        "input_errors": numbers.input_errors,
    }


def design_snapshot(assessment: DesignAssessment, *, taken_at: dt.datetime) -> dict[str, Any]:
    """The assessment as plain JSON data (dict order kept; values JSON-safe)."""
    design, version, evaluation = assessment.design, assessment.version, assessment.evaluation
    in_force = assessment.in_force
    facts = assessment.facts
    gpu = facts.get("cost.gpu_type")
    gpu_entry = assessment.catalog.get("gpus", {}).get(gpu) if gpu else None
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "taken_at": taken_at.isoformat(timespec="seconds"),
        "design": {
            "id": design.pk, "name": design.name, "description": design.description, "team": design.team.name,
            "revision": design.revision, "status": design.status,
        },
        "inputs": assessment.document,
        "numbers": numbers_document(assessment.numbers),
        "facts": facts.tree,
        "fact_meta": facts.meta,
        "catalog": {"source": assessment.catalog.get("source"), "as_of": assessment.catalog.get("as_of"),
                    "gpu": gpu, "gpu_entry": gpu_entry},
        "checklist": None,
        "sections": [],
        "items": {},
        "evaluation": evaluation.as_dict() if evaluation is not None else None,
        "answers": {
            key: {"status": a.status, "choices": list(a.choices), "reason": a.reason,
                  "answered_by": a.answered_by.get_username() if a.answered_by else None}
            for key, a in sorted(assessment.answers.items())
        },
        "acceptances": {
            key: {"rationale": a.rationale, "expires_on": a.expires_on.isoformat() if a.expires_on else None,
                  "accepted_by": a.accepted_by.get_username() if a.accepted_by else None}
            for key, a in sorted(assessment.acceptances.items())
        },
        "measurements": assessment.measurements,
        "measured_by": None,
    }
    if version is not None:
        checklist = version.checklist
        document["checklist"] = {
            "key": checklist.key, "name": checklist.name, "version": version.number, "version_id": version.pk,
            "scoring": version.scoring, "pinned": assessment.pinned,
            "published_at": version.published_at.isoformat(timespec="seconds") if version.published_at else None,
        }
        sections: dict[str, dict] = {k: {"key": k, "title": t, "items": []} for k, t in assessment.sections}
        for key, item in assessment.items.items():
            finding = assessment.finding(key)
            section = finding.section_key if finding else ""
            sections.setdefault(section, {"key": section, "title": section, "items": []})["items"].append(key)
            document["items"][key] = {
                "title": item.title, "question": item.question, "why": item.why, "severity": item.severity,
                "weight": item.weight, "mode": item.mode, "level": item.level, "section": section,
                "improvement_plan": item.improvement_plan, "applies_when": item.applies_when,
                "passes_when": item.passes_when, "resources": [vars_of(r) for r in item.resources],
                "choices": [vars_of(c) for c in item.choices],
            }
        document["sections"] = list(sections.values())
    if in_force is not None and in_force.run is not None:
        run = in_force.run
        document["measured_by"] = {
            "run": run.pk, "source": run.source, "source_note": run.source_note, "why": in_force.why,
            "pinned": in_force.pinned, "device": run.device, "finished_at": run.finished_at.isoformat(timespec="seconds")
            if run.finished_at else None, "shape_key": run.shape_key,
            "result": run.result,  # the raw result: a report draws the benchmark's charts from it
        }
    return json.loads(json.dumps(document, default=str))


def vars_of(value: Any) -> Any:
    """A checklist dataclass (resource, choice) as a plain dict."""
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


def content_hash(snapshot: dict[str, Any]) -> str:
    """A stable digest of a snapshot's content (reports are cached by it)."""
    text = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
