"""One number explained, for people: its definition, its formula written with fact paths and again
with this design's values in their place, the provenance of the number and of every value it
reads, and, when it is blank, the fields it waits for. The engine owns the formulas
(`engine.facts.explain`); this module only formats them (`designs:number` shows the result).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe

import engine.design as schema
from engine.facts import Facts
from engine.facts.explain import Blocker, blockers, formula_for, is_input

from reviewapp.designs.assessment import PANEL, PLANS, SHAPE_LABELS, SHAPE_PANELS, display_unit, format_value

_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")
_PLAN_ROW = re.compile(r"^cost\.monthly_usd\.(on_demand|spot|reserved_1y|reserved_3y|mixed)$")


def _panel_labels() -> dict[str, str]:
    labels = {path: label for _, rows in PANEL for path, label in rows}
    for _, rows in SHAPE_PANELS.values():
        labels.update(dict(rows))
    for plan, name in PLANS:
        labels.update({f"cost.monthly_usd.{plan}": f"{name}: cost per month",
                       f"cost.hourly_usd.{plan}": f"{name}: price per GPU-hour",
                       f"cost.per_1k_requests_usd.{plan}": f"{name}: cost per 1,000 requests",
                       f"cost.per_1m_tokens_usd.{plan}": f"{name}: cost per 1M tokens",
                       f"batch.cost_per_run_usd.{plan}": f"{name}: cost per run"})
    labels.update({"capacity.replicas_for_load": "Replicas the load needs", "capacity.target_utilisation_pct":
                   "Target utilisation", "batch.spot.hours_factor": "Spot rework factor",
                   "cost.monthly_usd.selected": "Chosen plan: cost per month", "cost.budget_usd": "Monthly GPU budget",
                   "cost.budget_gap_pct": "Gap to budget",
                   "cost.build_vs_buy.self_hosted_monthly_usd": "Self-hosted (chosen plan)",
                   "cost.build_vs_buy.api_monthly_usd": "Managed API",
                   "cost.build_vs_buy.difference_usd": "API - self-hosted"})
    return labels


LABELS = _panel_labels()


@dataclass(frozen=True, slots=True)
class Operand:
    path: str
    label: str
    text: str
    provenance: str
    description: str


@dataclass(frozen=True, slots=True)
class NumberExplanation:
    path: str
    label: str
    value_text: str
    unit: str
    description: str
    provenance: str
    definition: SafeString  # the formula with fact paths
    arithmetic: SafeString  # the formula with this design's values, and its result
    note: str
    operands: tuple[Operand, ...]
    blockers: tuple[Blocker, ...]
    computed: bool


def label_for(facts: Facts, path: str) -> str:
    if is_input(path):
        return schema.field(path).label
    shape = facts.get("requirements.workload_timing")
    label = SHAPE_LABELS.get(shape, {}).get(path) or LABELS.get(path)
    if label:
        return label
    return facts.meta.get(path, {}).get("description", "") or path  # a fact the panel does not show: its definition


def value_text(facts: Facts, path: str, value: Any = None, *, with_unit: bool = True) -> str:
    value = facts.get(path) if value is None else value
    unit = facts.meta.get(path, {}).get("unit")
    if is_input(path):
        unit = schema.field(path).unit
        spec = schema.field(path)
        if spec.choices and isinstance(value, str):
            return spec.choice_label(value)
    text = format_value(value, unit)
    shown_unit = display_unit(unit) if with_unit else ""
    if value is None or not shown_unit:
        return text
    return f"{text}{shown_unit}" if shown_unit.startswith("/") else f"{text} {shown_unit}"


def explain_number(facts: Facts, path: str) -> NumberExplanation:
    """Everything the explanation of `path` shows (KeyError for a path that is not a fact)."""
    if path not in facts.meta:
        raise KeyError(path)
    meta = facts.meta[path]
    formula = formula_for(facts, path)
    value = facts.get(path)
    operands: list[Operand] = []
    definition = arithmetic = ""
    if formula is not None and formula.text:
        definition = _render(formula.text, lambda p: f"<code>{html.escape(p)}</code>")

        def value_of(p: str) -> str:
            v = facts.get(p)
            if v is None and p in formula.zero_if_blank:
                return "0"
            return html.escape(value_text(facts, p, with_unit=False)) if v is not None else "<em>blank</em>"

        result = html.escape(value_text(facts, path)) if value is not None else "<em>not computed</em>"
        arithmetic = _render(formula.text, value_of) + f" = <strong>{result}</strong>"
        for p in formula.operands:
            operand_meta = facts.meta.get(p, {})
            operands.append(Operand(p, label_for(facts, p), value_text(facts, p),
                                    operand_meta.get("provenance", "entered" if is_input(p) else "derived"),
                                    operand_meta.get("description", "")))
    return NumberExplanation(
        path=path, label=label_for(facts, path), value_text=value_text(facts, path),
        unit=display_unit(meta.get("unit")), description=meta.get("description", ""),
        provenance=meta.get("provenance", "derived"), definition=mark_safe(definition),
        arithmetic=mark_safe(arithmetic), note=formula.note if formula else "", operands=tuple(operands),
        blockers=tuple(blockers(facts, path)) if value is None else (), computed=value is not None,
    )


def related_paths(facts: Facts, path: str) -> list[str]:
    """The numbers explained together: a cost row opens its price, unit costs and cost per run."""
    match = _PLAN_ROW.match(path)
    if not match:
        return [path]
    plan = match.group(1)
    paths = [f"cost.hourly_usd.{plan}", path, f"cost.per_1k_requests_usd.{plan}", f"cost.per_1m_tokens_usd.{plan}"]
    if facts.get("requirements.workload_timing") == "batch":
        paths.insert(2, f"batch.cost_per_run_usd.{plan}")
    return paths


def _render(text: str, replace) -> str:
    out, position = [], 0
    for match in _PLACEHOLDER.finditer(text):
        out.append(html.escape(text[position:match.start()]))
        out.append(replace(match.group(1)))
        position = match.end()
    out.append(html.escape(text[position:]))
    return "".join(out)
