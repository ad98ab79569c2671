"""The numbers behind a design, shaped for the page: the engine computes, this module only picks
which facts the numbers panel shows and how they read.

Units, descriptions and provenance (entered / estimated / measured / derived) come from the
engine's fact metadata, so the panel cannot disagree with the fact reference. Each row opens its
explanation on demand (`designs:number`: definition, formula with the design's values, provenance);
a number that cannot be computed says which blank or invalid fields it waits for
(`engine.facts.explain.blockers`).
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import Any, Mapping

from django.utils.safestring import mark_safe

from engine import vocabulary
from engine.facts import Facts, build_facts, cannot_run, fact_reference
from engine.facts.explain import blockers, formula_for
from engine.facts.methodology import inline_parts, methodology

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
        ("capacity.min_replicas_effective", "Fewest replicas running"),
        ("capacity.gpus", "GPUs at peak"),
        ("capacity.utilisation_at_peak_pct", "Fleet load at peak"),
        ("capacity.utilisation_average_pct", "Fleet load on average"),
    )),
)
# One replica's memory, after the capacity section (issue 25); the KV-cache rows and the estimated
# token times only for generative designs, which have them.
MEMORY_PANEL: tuple[str, tuple[tuple[str, str], ...]] = ("Memory (one replica)", (
    ("memory.weights_gb", "Weights"),
    ("memory.kv_bytes_per_token", "KV cache per token"),
    ("memory.kv_cache_gb", "KV cache for the batch asked"),
    ("memory.required_gb", "Memory needed"),
    ("memory.usable_gb", "Memory usable"),
    ("memory.max_concurrent_sequences", "Sequences the KV cache holds"),
    ("memory.fits", "Fits"),
))
GENERATIVE_ONLY = frozenset({"memory.kv_bytes_per_token", "memory.kv_cache_gb", "memory.max_concurrent_sequences",
                             "capacity.estimate.time_to_first_token_ms",
                             "capacity.estimate.time_per_output_token_ms"})
TOKEN_TIMES = (("capacity.estimate.time_to_first_token_ms", "Estimated time to first token"),
               ("capacity.estimate.time_per_output_token_ms", "Estimated time per output token"))
# A generative design's tokens/s and token times, in Capacity: measured once a generative benchmark
# ran (benchmark.*), else the throughput model's estimate.
MEASURED_TOKENS = (("benchmark.output_tokens_per_s", "Output tokens/s per replica"),
                   ("benchmark.goodput_rps", "Goodput per replica (both SLOs met)"),
                   ("benchmark.ttft_p99_ms", "Measured time to first token, p99"),
                   ("benchmark.tpot_p99_ms", "Measured time per output token, p99"))
ESTIMATED_TOKENS = (("capacity.estimate.output_tokens_per_s", "Output tokens/s per replica"),)
# The shape's own section, shown first for batch and streaming designs.
SHAPE_PANELS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "batch": ("Batch job", (
        ("batch.records_per_run", "Records per run"),
        ("batch.runs_per_day", "Runs per day"),
        ("batch.replicas_for_window", "Replicas the window needs"),
        ("batch.replicas", "Replicas running the job"),
        ("batch.job_duration_h", "Job duration"),
        ("batch.slack_h", "Slack before the deadline"),
        ("batch.gpu_hours_per_run", "GPU-hours per run"),
        ("batch.cost_per_run_usd.selected", "Cost per run (chosen plan)"),
        ("batch.cost_per_run_usd.on_demand", "Cost per run, on-demand"),
        ("batch.cost_per_run_usd.spot", "Cost per run, spot"),
        ("batch.spot.expected_duration_h", "Duration on spot, expected"),
        ("batch.spot.worst_case_duration_h", "Duration on spot, worst interruption"),
        ("batch.spot.suitable", "Spot suits the job"),
    )),
    "streaming": ("Stream", (
        ("streaming.events_per_second", "Events per second"),
        ("streaming.peak_events_per_second", "Peak events per second"),
        ("streaming.allowed_lag_s", "Allowed lag"),
        ("streaming.fleet_events_per_second", "Fleet capacity"),
        ("streaming.headroom_events_per_second", "Headroom at peak"),
        ("streaming.catch_up_s_per_stalled_minute", "Catch-up per stalled minute"),
    )),
}
# Rows that read differently for a shape (a batch job's requests are records).
SHAPE_LABELS: dict[str, dict[str, str]] = {
    "batch": {"traffic.average_qps": "Records/s, daily average", "traffic.peak_qps": "Records/s a run needs",
              "traffic.requests_per_month": "Records per month", "capacity.per_replica_qps": "Per-replica records/s",
              "capacity.model_peak_qps": "Records/s reaching the model", "capacity.replicas": "Replicas for the run",
              "capacity.replicas_average": "Replicas between runs"},
    "streaming": {"traffic.average_qps": "Events/s, average", "traffic.peak_qps": "Events/s at peak",
                  "traffic.requests_per_month": "Events per month", "traffic.concurrency_peak": "Events in flight at peak",
                  "capacity.per_replica_qps": "Per-replica events/s",
                  "capacity.model_peak_qps": "Events/s reaching the model"},
}
# Sections a shape leaves out: a batch job has no latency budget (its window sizes the fleet).
SHAPE_OMITS: dict[str, frozenset[str]] = {"batch": frozenset({"Latency budget"})}

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
        """The numbers panel's table row, without its explanation (see `row`)."""
        return self.row("")

    def row(self, explain_base: str) -> str:
        """The numbers panel's table row (written here: the panel has ~40 rows and a template
        include cost ~30 µs a row, measured with benchmarks/page_profile.py --view preview).

        With `explain_base` (the design's `designs:number` URL up to the path) the label opens the
        number's explanation in place, loaded on demand with the form's unsaved values (htmx
        inherits the target, swap and include from the panel); without JavaScript it is a link.
        While someone types most rows stay as they were: each is written once and reused."""
        try:  # the value's type in the key: True == 1 in Python, but one shows "yes", the other "1"
            return _row_html(self, type(self.value), explain_base)
        except TypeError:  # a value that cannot be hashed (a list): write it every time
            return self._row(explain_base)

    def _row(self, explain_base: str) -> str:
        e = html.escape
        return (f'<tr title="{e(self.description)}"><th scope="row">{self.label_html(explain_base)}</th>'
                f'<td class="num" data-path="{e(self.path)}">{e(self.text)}</td>'
                f'<td class="unit">{e(display_unit(self.unit))}</td><td><span class="prov {e(self.provenance)}" '
                f'title="{e(self.provenance)}">{e(self.provenance)}</span></td></tr>')

    def label_html(self, explain_base: str) -> str:
        label = html.escape(self.label)
        if not explain_base:
            return label
        url = html.escape(f"{explain_base}{self.path}/")
        return (f'<details hx-post="{url}" hx-trigger="toggle once"><summary>{label}</summary>'
                f'<div class="number-explain"><a href="{url}">How it is computed</a></div></details>')


@functools.lru_cache(maxsize=4096)
def _row_html(number: Number, value_type: type, explain_base: str) -> str:
    return number._row(explain_base)


@dataclass(frozen=True, slots=True)
class CostRow:
    plan: str
    label: str
    monthly: Number
    per_1k_requests: Number
    per_1m_tokens: Number
    chosen: bool
    hourly: Number | None = None  # price per accelerator-hour in force (blended for the mixed plan)
    negotiated: bool = False  # the design entered this plan's price
    per_run: Number | None = None  # batch workloads: cost per run


@dataclass(frozen=True, slots=True)
class NotComputed:
    """A number the panel shows as a dash, and why: the fields it waits for, or why it does not
    apply to the design."""

    path: str
    label: str
    reason: str
    invalid: bool  # held up by a field that is invalid (left out while invalid)


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
    shape: str = "online"
    not_computed: tuple[NotComputed, ...] = ()

    @property
    def is_batch(self) -> bool:
        return self.shape == "batch"

    @property
    def blocked_by_invalid(self) -> tuple[NotComputed, ...]:
        return tuple(n for n in self.not_computed if n.invalid)

    @property
    def cannot_run(self) -> str:
        """'Cannot run as designed: <reason>' when the plan found the design cannot run, else ''."""
        return cannot_run(self.facts.tree)

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
    timing = facts.get("requirements.workload_timing")
    shape = timing if timing in SHAPE_PANELS else "online"
    labels = SHAPE_LABELS.get(shape, {})
    generative = facts.get("requirements.workload_type") == "generative"
    tokens = () if not generative else (
        MEASURED_TOKENS if facts.get("benchmark.output_tokens_per_s") is not None else ESTIMATED_TOKENS)
    extra = {"Latency budget": TOKEN_TIMES, "Capacity": tokens}
    panel = ((SHAPE_PANELS[shape],) if shape in SHAPE_PANELS else ()) + tuple(
        (title, rows + extra.get(title, ())) for title, rows in PANEL
        if title not in SHAPE_OMITS.get(shape, ())) + (MEMORY_PANEL,)
    sections = tuple(
        (title, tuple(_number(facts, path, labels.get(path, label)) for path, label in rows
                      if generative or path not in GENERATIVE_ONLY))
        for title, rows in panel
    )
    chosen = facts.get("cost.pricing_model")
    negotiated = set(facts.get("cost.negotiated_plans") or ())
    cost_rows = tuple(
        CostRow(
            plan=plan,
            label=label,
            monthly=_number(facts, f"cost.monthly_usd.{plan}", label),
            per_1k_requests=_number(facts, f"cost.per_1k_requests_usd.{plan}", label),
            per_1m_tokens=_number(facts, f"cost.per_1m_tokens_usd.{plan}", label),
            chosen=plan == chosen,
            hourly=_number(facts, f"cost.hourly_usd.{plan}", label),
            negotiated=plan in negotiated,
            per_run=_number(facts, f"batch.cost_per_run_usd.{plan}", label) if shape == "batch" else None,
        )
        for plan, label in PLANS
    )
    errors = facts.validation.errors
    planning = [w for w in facts.warnings if not (w["path"] in errors and w["severity"] == "error")]
    budget = _number(facts, "cost.budget_usd", "Monthly GPU budget")
    budget_gap = _number(facts, "cost.budget_gap_pct", "Gap to budget (+ over, − under)")
    build_vs_buy = (
        _number(facts, "cost.build_vs_buy.self_hosted_monthly_usd", "Self-hosted (chosen plan)"),
        _number(facts, "cost.build_vs_buy.api_monthly_usd", "Managed API"),
        _number(facts, "cost.build_vs_buy.difference_usd", "API - self-hosted"),
    )
    shown = [n for _, rows in sections for n in rows] + [r.monthly for r in cost_rows] + [budget, budget_gap]
    return Numbers(
        facts=facts,
        sections=sections,
        cost_rows=cost_rows,
        budget=budget,
        budget_gap_pct=budget_gap,
        build_vs_buy=build_vs_buy,
        warnings=tuple(w for w in planning if w["severity"] in ("warning", "error")),
        assumptions=tuple(w for w in planning if w["severity"] == "info"),
        input_errors=len(errors),
        shape=shape,
        not_computed=tuple(_not_computed(facts, n) for n in shown if n.value is None),
    )


# The numbers that need a fleet: none exists for a design that cannot run.
_FLEET_PATHS = ("capacity.", "cost.", "batch.", "streaming.")


def _not_computed(facts: Facts, number: Number) -> NotComputed:
    reason = cannot_run(facts.tree)
    if reason and number.path.startswith(_FLEET_PATHS):
        return NotComputed(number.path, number.label, reason[0].lower() + reason[1:], False)
    waiting = blockers(facts, number.path)
    if waiting:
        parts = [f"{b.label} is invalid ({_sentence(b.message, b.label)})" if b.reason == "invalid"
                 else f"{b.label} is blank" for b in waiting]
        return NotComputed(number.path, number.label, "waits for: " + "; ".join(parts) + ".",
                           any(b.reason == "invalid" for b in waiting))
    formula = formula_for(facts, number.path)
    if formula is not None and not formula.text and formula.note:
        return NotComputed(number.path, number.label, formula.note, False)
    return NotComputed(number.path, number.label, "does not apply to this design.", False)


def _sentence(message: str, label: str) -> str:
    """A validation message without the label it starts with ("P99 latency: must be ...")."""
    return message.removeprefix(f"{label}: ").rstrip(".")


def fact_reference_rows() -> list[dict[str, Any]]:
    """The engine's fact reference, each row with its group (the path's first part) for headings."""
    return [{**row, "group": row["path"].split(".")[0]} for row in fact_reference()]


def methodology_chapters() -> list[dict[str, Any]]:
    """The methodology (engine.facts.methodology, also the end of docs/facts.md) as HTML blocks:
    `{"key", "title", "blocks": [{"paragraph": html} | {"bullets": [html, ...]}]}`."""
    chapters = []
    for chapter in methodology():
        blocks = [{"bullets": [_inline_html(item) for item in block]} if isinstance(block, tuple)
                  else {"paragraph": _inline_html(block)} for block in chapter.blocks]
        chapters.append({"key": chapter.key, "title": chapter.title, "blocks": blocks})
    return chapters


def _inline_html(text: str) -> str:
    return mark_safe("".join(html.escape(part) if kind == "text" else f"<{kind}>{html.escape(part)}</{kind}>"
                             for kind, part in inline_parts(text)))  # kind: code or strong, as the tags

