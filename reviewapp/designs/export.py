"""The requirements as a Markdown requirements document (seed lesson 2's template).

Every value is read through the schema (label, unit, choice labels), and the derived numbers
through the engine's facts, so the document says what the page says.
"""

from __future__ import annotations

from typing import Any, Mapping

from django.utils import timezone
from django.utils.text import slugify

import engine.design as schema
from reviewapp.reports.markdown import block, inline
from reviewapp.designs.assessment import Numbers, display_unit, format_value
from reviewapp.designs.models import Design

# Template chapters: (title, sections of the requirements group, what the chapter is for).
CHAPTERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Workload", ("workload",), "What the system does, how it is called and by whom."),
    ("Latency budgets", ("latency",), "End-to-end percentile targets and how the P99 budget is shared out."),
    ("Throughput", ("batch", "stream", "traffic"), "The batch job or stream, request rates, payloads and tokens."),
    ("Data volumes", ("data_volume",), "Training data, new data, logs and retention."),
    ("Availability, RTO and RPO", ("availability",), "Uptime target, recovery objectives and regions."),
    ("Model", ("model",), "The model's shape."),
    ("GPU budget and cost plan", ("budget",), "What the fleet may cost, and what it will cost."),
)


def requirements_filename(design: Design) -> str:
    return f"{slugify(design.name) or 'design'}-requirements.md"


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell: one line, Markdown and HTML escaped (as the report
    exports escape it), since a typed value may hold either."""
    return inline(text)


def field_value(spec: schema.Field, value: Any) -> str:
    if value is None or value == []:
        return "*not set*"
    if spec.kind == "choice":
        return spec.choice_label(value)
    if spec.kind in ("multichoice", "ordered"):
        joiner = " → " if spec.kind == "ordered" else ", "
        return joiner.join(spec.choice_label(v) for v in value)
    if spec.kind == "text_list":
        return ", ".join(value)
    text = format_value(value, spec.unit)
    unit = display_unit(spec.unit)
    return f"{text}{unit}" if unit.startswith("/") else f"{text} {unit}".strip()


def _field_table(group: Mapping[str, Any], section_key: str, hidden: set[str]) -> list[str]:
    lines = ["| Requirement | Value |", "|---|---|"]
    for spec in next(s for s in schema.sections("requirements") if s.key == section_key).fields:
        if spec.key in hidden:
            continue
        value = group.get(spec.name)
        shown = "*not set*" if value is None or value == [] else _cell(field_value(spec, value))
        lines.append(f"| {_cell(spec.label)} | {shown} |")
    if len(lines) == 2:
        return []  # every field hidden: the batch job section of an online design
    return lines


def _numbers_table(rows) -> list[str]:
    lines = ["| Number | Value | Unit | Provenance |", "|---|---:|---|---|"]
    for n in rows:
        lines.append(f"| {_cell(n.label)} | {_cell(n.text)} | {_cell(n.unit or '')} | {_cell(n.provenance)} |")
    return lines


def requirements_markdown(design: Design, numbers: Numbers) -> str:
    """The design's requirements document, complete even where fields are blank (they are listed
    under open questions)."""
    facts = numbers.facts
    document = facts.validation.document
    requirements = document["requirements"]
    hidden = set(facts.validation.hidden)
    lines = [
        f"# {inline(design.name)}: requirements",
        "",
        f"*Team:* {inline(design.team)} · *revision* {design.revision} · *status* {design.get_status_display()} · "
        f"*exported* {timezone.now():%Y-%m-%d %H:%M %Z}",
        "",
        "## 1. Overview",
        "",
        block(design.description.strip()) if design.description.strip() else "*No description yet.*",
        "",
    ]
    use_case = requirements.get("use_case")
    if use_case:
        lines += [f"**Use case.** {inline(use_case)}", ""]
    for number, (title, section_keys, purpose) in enumerate(CHAPTERS, start=2):
        lines += [f"## {number}. {title}", "", f"*{purpose}*", ""]
        for key in section_keys:
            lines += _field_table(requirements, key, hidden)
        lines.append("")
        if title == "GPU budget and cost plan":
            lines += _cost_plan(numbers)
    lines += [f"## {len(CHAPTERS) + 2}. Derived numbers", "",
              "Computed by the planning engine from the requirements and architecture above; "
              "*estimated* numbers rest on the throughput model until a benchmark measures them.", ""]
    for title, rows in numbers.sections:
        lines += [f"### {title}", ""] + _numbers_table(rows) + [""]
    lines += [f"## {len(CHAPTERS) + 3}. Open questions and assumptions", ""]
    open_items = [f"- **{schema.field(key).label}** is not set." for key in facts.validation.missing
                  if key.startswith("requirements.")]
    open_items += [f"- {_cell(w['message'])}" for w in numbers.warnings]
    open_items += [f"- {_cell(w['message'])}" for w in numbers.assumptions]
    lines += open_items or ["- None recorded."]
    return "\n".join(lines).rstrip() + "\n"


def _cost_plan(numbers: Numbers) -> list[str]:
    facts = numbers.facts
    negotiated = facts.get("cost.negotiated_plans") or []
    lines = [f"Accelerator: {inline(facts.get('cost.gpu_label')) or '*not chosen*'}; "
             f"chosen plan: {inline(facts.get('cost.pricing_model')) or '*not chosen*'}; "
             f"catalog prices as of {facts.get('cost.price_as_of') or 'unknown'}"
             + (f"; negotiated prices entered for {inline(', '.join(negotiated))}" if negotiated else "") + ".", "",
             "| Plan | $/month | $/1k requests | $/1M tokens |", "|---|---:|---:|---:|"]
    for row in numbers.cost_rows:
        label = f"**{inline(row.label)}** (chosen)" if row.chosen else inline(row.label)
        lines.append(f"| {label} | {row.monthly.text} | {row.per_1k_requests.text} | {row.per_1m_tokens.text} |")
    lines.append("")
    lines += _numbers_table((numbers.budget, numbers.budget_gap_pct, *numbers.build_vs_buy))
    lines.append("")
    return lines
