"""The numbers behind a design, shaped for the page: the engine computes, this module only picks
which facts the numbers panel shows and how they read.

Units, descriptions and provenance (entered / estimated / measured / derived) come from the
engine's fact metadata, so the panel cannot disagree with the fact reference.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Mapping

from engine import vocabulary
from engine.facts import Facts, build_facts, fact_reference

# (section title, [(fact path, short label)]) in panel order.
PANEL: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Traffic", (
        ("traffic.average_qps", "Average QPS"),
        ("traffic.peak_qps", "Peak QPS"),
        ("traffic.requests_per_month", "Requests per month"),
        ("traffic.concurrency_peak", "In flight at peak"),
        ("traffic.tokens_per_month", "Tokens per month"),
    )),
    ("Latency budget", (
        ("latency_budget.p99_budget_ms", "P99 budget"),
        ("latency_budget.overhead_ms", "Network + processing + queueing"),
        ("latency_budget.inference_budget_ms", "Left for the model"),
        ("latency_budget.inference_share_pct", "Model share of P99"),
        ("latency_budget.generation_ms", "Token targets imply"),
    )),
    ("Data volume", (
        ("data_volume.ingest_gb_per_day", "Ingest per day"),
        ("data_volume.ingest_gb_per_month", "Ingest per month"),
        ("data_volume.stored_gb_after_1y", "Stored after a year"),
        ("data_volume.egress_mbps_peak", "Egress at peak"),
    )),
    ("Capacity", (
        ("capacity.per_replica_qps", "Per-replica throughput"),
        ("capacity.model_peak_qps", "Peak QPS reaching the model"),
        ("capacity.replicas", "Replicas at peak"),
        ("capacity.replicas_average", "Replicas at average"),
        ("capacity.gpus", "GPUs at peak"),
        ("capacity.utilisation_at_peak_pct", "Fleet load at peak"),
    )),
)

PLANS = vocabulary.pairs(vocabulary.PRICING_PLANS)


@dataclass(frozen=True, slots=True)
class Number:
    path: str
    label: str
    value: Any
    unit: str | None
    provenance: str
    description: str

    @property
    def text(self) -> str:
        return format_value(self.value, self.unit)

    @property
    def row_html(self) -> str:
        """The numbers panel's table row (written here: the panel has ~30 rows and a template
        include cost ~30 µs a row, measured with benchmarks/page_profile.py --view preview)."""
        e = html.escape
        return (f'<tr title="{e(self.description)}"><th scope="row">{e(self.label)}</th>'
                f'<td class="num" data-path="{e(self.path)}">{e(self.text)}</td>'
                f'<td class="unit">{e(display_unit(self.unit))}</td><td><span class="prov {e(self.provenance)}" '
                f'title="{e(self.provenance)}">{e(self.provenance)}</span></td></tr>')


@dataclass(frozen=True, slots=True)
class CostRow:
    plan: str
    label: str
    monthly: Number
    per_1k_requests: Number
    per_1m_tokens: Number
    chosen: bool


@dataclass(frozen=True, slots=True)
class Numbers:
    """What the numbers panel and the Markdown export show."""

    facts: Facts
    sections: tuple[tuple[str, tuple[Number, ...]], ...]
    cost_rows: tuple[CostRow, ...]
    budget: Number
    budget_gap_pct: Number
    build_vs_buy: tuple[Number, ...]
    warnings: tuple[dict[str, str], ...]
    assumptions: tuple[dict[str, str], ...]
    input_errors: int

    def number(self, path: str, label: str = "") -> Number:
        return _number(self.facts, path, label)


def format_value(value: Any, unit: str | None = None) -> str:
    """A fact as a person reads it: thousands separators, sensible precision, money with $."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        money = bool(unit) and unit.startswith("USD")
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        magnitude = abs(value)
        if isinstance(value, int) or magnitude >= 100:
            text = f"{value:,.0f}"
        elif money:
            text = f"{value:,.2f}" if magnitude >= 0.1 else f"{value:.3g}"
        elif magnitude >= 10:
            text = f"{value:,.1f}"
        else:
            text = f"{value:.3g}"
        return f"${text}" if money else text
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def display_unit(unit: str | None) -> str:
    """The unit shown next to a number ($ already says USD)."""
    if not unit:
        return ""
    if unit.startswith("USD/"):
        return "/" + unit.removeprefix("USD/")
    return "" if unit == "USD" else unit


def _number(facts: Facts, path: str, label: str = "") -> Number:
    meta = facts.meta.get(path, {})
    return Number(path, label or path, facts.get(path), meta.get("unit"), meta.get("provenance", "derived"),
                  meta.get("description", ""))


def assess_document(document: Any, gpu_catalog: Mapping[str, Any],
                    measurements: Mapping[str, Any] | None = None) -> Numbers:
    """Every number the design implies, without a checklist (pages use `selectors.design_assessment`).

    `document` may be a stored design document or raw form data; invalid fields count as blank.
    """
    return numbers_from_facts(build_facts(document, gpu_catalog=gpu_catalog, measurements=measurements))


def numbers_from_facts(facts: Facts) -> Numbers:
    """The engine's facts, picked and labelled for the numbers panel and the exports."""
    sections = tuple(
        (title, tuple(_number(facts, path, label) for path, label in rows)) for title, rows in PANEL
    )
    chosen = facts.get("cost.pricing_model")
    cost_rows = tuple(
        CostRow(
            plan=plan,
            label=label,
            monthly=_number(facts, f"cost.monthly_usd.{plan}", label),
            per_1k_requests=_number(facts, f"cost.per_1k_requests_usd.{plan}", label),
            per_1m_tokens=_number(facts, f"cost.per_1m_tokens_usd.{plan}", label),
            chosen=plan == chosen,
        )
        for plan, label in PLANS
    )
    errors = facts.validation.errors
    planning = [w for w in facts.warnings if not (w["path"] in errors and w["severity"] == "error")]
    return Numbers(
        facts=facts,
        sections=sections,
        cost_rows=cost_rows,
        budget=_number(facts, "cost.budget_usd", "Monthly GPU budget"),
        budget_gap_pct=_number(facts, "cost.budget_gap_pct", "Gap to budget (+ over, − under)"),
        build_vs_buy=(
            _number(facts, "cost.build_vs_buy.self_hosted_monthly_usd", "Self-hosted (chosen plan)"),
            _number(facts, "cost.build_vs_buy.api_monthly_usd", "Managed API"),
            _number(facts, "cost.build_vs_buy.difference_usd", "API - self-hosted"),
        ),
        warnings=tuple(w for w in planning if w["severity"] in ("warning", "error")),
        assumptions=tuple(w for w in planning if w["severity"] == "info"),
        input_errors=len(errors),
    )


def fact_reference_rows() -> list[dict[str, Any]]:
    """The engine's fact reference, each row with its group (the path's first part) for headings."""
    return [{**row, "group": row["path"].split(".")[0]} for row in fact_reference()]
