"""Alternatives side by side: two or three snapshots (a design now, or one of its milestones) as
columns of the same rows, each row marked where the columns differ. Snapshots
(reviewapp.designs.snapshot) carry everything shown, so a milestone compares as it was reviewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from engine import vocabulary
from engine.facts import cannot_run
from reviewapp.designs.assessment import display_unit, format_value

MIN_COLUMNS, MAX_COLUMNS = 2, 3
# The key numbers, by fact path (docs/facts.md). Capacity and cost rows read "cannot run as
# designed" for a column whose plan found it cannot run: a number there would be a defect.
NUMBER_ROWS = (
    ("Workload", "requirements.workload_timing", False),
    ("Serving framework", "architecture.serving_framework", False),
    ("P99 latency budget", "latency_budget.p99_budget_ms", False),
    ("Peak traffic", "traffic.peak_qps", False),
    ("Per-replica throughput", "capacity.per_replica_qps", True),
    ("Capacity: measured or estimated", "capacity.per_replica_qps_source", True),
    ("Replicas at peak", "capacity.replicas", True),
    ("GPUs at peak", "capacity.gpus", True),
    ("Accelerator", "cost.gpu_type", False),
    ("Pricing plan", "cost.pricing_model", False),
    ("Monthly cost, on demand", "cost.monthly_usd.on_demand", True),
    ("Monthly cost, spot", "cost.monthly_usd.spot", True),
    ("Monthly cost, reserved 1 year", "cost.monthly_usd.reserved_1y", True),
    ("Monthly cost, reserved 3 years", "cost.monthly_usd.reserved_3y", True),
    ("Monthly cost, chosen plan", "cost.monthly_usd.selected", True),
    ("Monthly budget", "cost.budget_usd", False),
)
OPEN_OUTCOMES = ("fail", "rule_error", "unanswered")


@dataclass(frozen=True, slots=True)
class Column:
    title: str  # the design's name
    source: str  # "Now (revision 4)" or "M2 Approved baseline"
    team: str
    url: str
    snapshot: Mapping[str, Any]

    @property
    def cannot_run(self) -> str:
        return cannot_run(self.snapshot.get("facts") or {})


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cells: tuple[str, ...]
    differs: bool
    key: str = ""  # the fact path or checklist item key


@dataclass(frozen=True, slots=True)
class Comparison:
    columns: tuple[Column, ...]
    summary: tuple[Row, ...]
    numbers: tuple[Row, ...]
    findings: tuple[Row, ...] = field(default=())  # items open in at least one column

    @property
    def sections(self) -> tuple[tuple[str, tuple[Row, ...]], ...]:
        return (("Summary", self.summary), ("Numbers", self.numbers),
                ("Findings open in at least one", self.findings))

    @property
    def differences(self) -> int:
        return sum(row.differs for row in (*self.summary, *self.numbers, *self.findings))


def _fact(snapshot: Mapping[str, Any], path: str) -> Any:
    node: Any = snapshot.get("facts") or {}
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _number_text(snapshot: Mapping[str, Any], path: str) -> str:
    value = _fact(snapshot, path)
    unit = ((snapshot.get("fact_meta") or {}).get(path) or {}).get("unit")
    text = format_value(value, unit)
    shown = display_unit(unit)
    return f"{text} {shown}".replace(" /", "/") if value is not None and shown else text


def _row(label: str, cells: list[str], key: str = "") -> Row:
    return Row(label, tuple(cells), differs=len(set(cells)) > 1, key=key)


def _evaluation(snapshot: Mapping[str, Any]) -> Mapping[str, Any]:
    return snapshot.get("evaluation") or {}


def compare(columns: list[Column]) -> Comparison:
    """The rows for 2-3 columns. Raises ValueError for another number of columns."""
    if not MIN_COLUMNS <= len(columns) <= MAX_COLUMNS:
        raise ValueError(f"compare {MIN_COLUMNS} or {MAX_COLUMNS} alternatives, not {len(columns)}")
    snaps = [c.snapshot for c in columns]
    reasons = [c.cannot_run for c in columns]
    summary = [
        _row("Can it run as designed?", [reason or "Yes" for reason in reasons], "capacity.feasible"),
        _row("Verdict", [vocabulary.VERDICTS.get(_evaluation(s).get("verdict"), "No checklist") for s in snaps]),
        _row("Overall score", [_score(_evaluation(s)) for s in snaps]),
        _row("Open high risks", [str(_evaluation(s).get("high_risk_count", "—")) for s in snaps]),
        _row("Open medium risks", [str(_evaluation(s).get("medium_risk_count", "—")) for s in snaps]),
        _row("Checklist", [_checklist(s) for s in snaps]),
    ]
    numbers = [
        _row(label, ["Cannot run as designed" if reason and derived else _number_text(s, path)
                     for s, reason in zip(snaps, reasons)], path)
        for label, path, derived in NUMBER_ROWS
    ]
    return Comparison(tuple(columns), tuple(summary), tuple(numbers), tuple(_finding_rows(snaps)))


def _score(evaluation: Mapping[str, Any]) -> str:
    overall = (evaluation.get("score") or {}).get("overall")
    return f"{overall:.1f}" if isinstance(overall, (int, float)) else "—"


def _checklist(snapshot: Mapping[str, Any]) -> str:
    checklist = snapshot.get("checklist")
    return f"{checklist['name']} v{checklist['version']}" if checklist else "None published"


def _finding_rows(snaps: list[Mapping[str, Any]]) -> list[Row]:
    by_column = [{f["item_key"]: f for f in _evaluation(s).get("findings") or []} for s in snaps]
    keys: list[str] = []
    for findings in by_column:  # checklist order, first column first
        keys.extend(k for k, f in findings.items() if f["outcome"] in OPEN_OUTCOMES and k not in keys)
    rows = []
    for key in keys:
        title = next(((s.get("items") or {}).get(key, {}).get("title") for s in snaps
                      if (s.get("items") or {}).get(key)), key)
        rows.append(_row(title, [_outcome(findings.get(key)) for findings in by_column], key))
    return rows


def _outcome(finding: Mapping[str, Any] | None) -> str:
    if finding is None:
        return "Not in this checklist"
    outcome = finding["outcome"]
    label = vocabulary.OUTCOMES.get(outcome, outcome)
    risk = finding.get("risk")
    return f"{label} ({risk} risk)" if outcome == "fail" and risk else label
