"""What changed between two snapshots of a design (`reviewapp.designs.snapshot.design_snapshot`):
two milestones, or a milestone and the design now. A plain function over two JSON documents: it
reads nothing else, so pages, reports and the API get the same answer from the same snapshots.
"""

from __future__ import annotations

from typing import Any

from engine.design import FIELDS

# The measured figures a diff compares (facts under `benchmark.`), with the words a person reads.
MEASURED = (
    ("benchmark.max_qps_at_p99", "Measured max QPS at the P99 budget"),
    ("benchmark.p50_ms_at_peak", "Measured P50 at that rate"),
    ("benchmark.p95_ms_at_peak", "Measured P95 at that rate"),
    ("benchmark.p99_ms_at_peak", "Measured P99 at that rate"),
    ("benchmark.offline_throughput_per_s", "Measured offline throughput"),
    ("benchmark.device", "Measured on"),
    ("benchmark.dtype", "Measured precision"),
    ("benchmark.torch_version", "PyTorch version of the run"),
)
OPEN_OUTCOMES = frozenset({"fail", "rule_error", "unanswered"})
_LABELS = {f.key: f.label for f in FIELDS}


def snapshot_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed from snapshot `old` to snapshot `new`, as JSON-ready data:

    {
      "changed": bool,                     # anything below differs
      "old": {"revision", "taken_at", "checklist"}, "new": {...},   # where each side stands
      "inputs": [{"path", "label", "old", "new"}],                  # every input that differs
      "numbers": [{"path", "label", "unit", "old", "new", "old_text", "new_text",
                   "delta", "delta_pct", "old_provenance", "new_provenance"}],
                                           # numbers panel rows (traffic, latency budget, data
                                           # volume, capacity incl. replicas), monthly cost and
                                           # cost per 1k requests per plan ("cost.<plan>.monthly",
                                           # "cost.<plan>.per_1k_requests"), the budget and its
                                           # gap, build vs buy, and measured figures
                                           # ("benchmark.*"); delta/delta_pct are None unless
                                           # both values are numbers (delta_pct also when old is 0)
      "findings": {"opened": [finding], "closed": [finding], "changed": [finding]},
                                           # finding: {"item_key", "title", "severity",
                                           #   "old_outcome", "new_outcome", "risk", "message"};
                                           # opened: open now (fail, rule error, unanswered) and
                                           # not before (or new to the checklist); closed: open
                                           # before and not now (or gone); changed: any other
                                           # change of outcome
      "score": {"old", "new", "delta"},    # overall score (None when not scored)
      "verdict": {"old", "new", "changed"},
      "risks": {"high": {"old", "new"}, "medium": ..., "low": ..., "accepted": ...,
                "rule_errors": ..., "unanswered": ...},
      "checklist": {"old": {"key", "name", "version"} | None, "new": ..., "changed": bool},
      "measured_by": {"old": dict | None, "new": dict | None, "changed": bool},
    }
    Lists keep the order of the newer snapshot (inputs in form order, numbers in panel order).
    """
    inputs = inputs_diff(old.get("inputs") or {}, new.get("inputs") or {})
    numbers = _numbers_diff(_numbers(old), _numbers(new))
    findings = _findings_diff(old.get("evaluation"), new.get("evaluation"))
    old_eval, new_eval = old.get("evaluation") or {}, new.get("evaluation") or {}
    old_score, new_score = _overall(old_eval), _overall(new_eval)
    score = {"old": old_score, "new": new_score, "delta": _delta(old_score, new_score)}
    verdict = {"old": old_eval.get("verdict"), "new": new_eval.get("verdict")}
    verdict["changed"] = verdict["old"] != verdict["new"]
    counts = {
        "high": "high_risk_count", "medium": "medium_risk_count", "low": "low_risk_count",
        "accepted": "accepted_risk_count", "rule_errors": "rule_error_count", "unanswered": "unanswered_count",
    }  # fmt: skip
    risks = {name: {"old": old_eval.get(key), "new": new_eval.get(key)} for name, key in counts.items()}
    checklist = {"old": _checklist(old), "new": _checklist(new)}
    checklist["changed"] = checklist["old"] != checklist["new"]
    measured_by = {"old": old.get("measured_by"), "new": new.get("measured_by")}
    measured_by["changed"] = measured_by["old"] != measured_by["new"]
    changed = bool(
        inputs or numbers or any(findings.values()) or score["old"] != score["new"] or verdict["changed"]
        or checklist["changed"] or measured_by["changed"] or any(r["old"] != r["new"] for r in risks.values())
    )  # fmt: skip
    return {
        "changed": changed,
        "old": _side(old),
        "new": _side(new),
        "inputs": inputs,
        "numbers": numbers,
        "findings": findings,
        "score": score,
        "verdict": verdict,
        "risks": risks,
        "checklist": checklist,
        "measured_by": measured_by,
    }


def _side(snapshot: dict) -> dict:
    design = snapshot.get("design") or {}
    return {"revision": design.get("revision"), "taken_at": snapshot.get("taken_at"), "checklist": _checklist(snapshot)}


def _checklist(snapshot: dict) -> dict | None:
    checklist = snapshot.get("checklist")
    if not checklist:
        return None
    return {"key": checklist.get("key"), "name": checklist.get("name"), "version": checklist.get("version")}


def _flatten(document: dict) -> dict[str, Any]:
    flat = {}
    for group, values in document.items():
        if isinstance(values, dict):
            for name, value in values.items():
                flat[f"{group}.{name}"] = value
        else:
            flat[group] = values
    return flat


def inputs_diff(old: dict, new: dict) -> list[dict]:
    """The inputs that differ between two design documents, in form order: [{"path", "label", "old", "new"}]."""
    old_flat, new_flat = _flatten(old), _flatten(new)
    order = {key: i for i, key in enumerate(_LABELS)}
    keys = sorted(set(old_flat) | set(new_flat), key=lambda k: (order.get(k, len(order)), k))
    return [
        {"path": key, "label": _LABELS.get(key, key), "old": old_flat.get(key), "new": new_flat.get(key)}
        for key in keys if old_flat.get(key) != new_flat.get(key)
    ]


def _numbers(snapshot: dict) -> dict[str, dict]:
    """Every number a snapshot shows, by a stable path, in panel order."""
    numbers = snapshot.get("numbers") or {}
    rows: dict[str, dict] = {}
    for section in numbers.get("sections", []):
        for row in section.get("rows", []):
            rows[row["path"]] = row
    for cost in numbers.get("cost_rows", []):
        for part, label in (("monthly", "monthly"), ("per_1k_requests", "per 1k requests")):
            number = cost.get(part)
            if number:
                rows[f"cost.{cost['plan']}.{part}"] = {**number, "label": f"{cost['label']}, {label}"}
    for key in ("budget", "budget_gap_pct"):
        if numbers.get(key):
            rows[numbers[key]["path"]] = numbers[key]
    for number in numbers.get("build_vs_buy", []):
        rows[number["path"]] = number
    facts, meta = snapshot.get("facts") or {}, snapshot.get("fact_meta") or {}
    benchmark = facts.get("benchmark") or {}
    for path, label in MEASURED:
        value = benchmark.get(path.split(".", 1)[1])
        info = meta.get(path, {})
        rows[path] = {"path": path, "label": label, "value": value, "text": "—" if value is None else str(value),
                      "unit": info.get("unit"), "provenance": "measured"}
    return rows


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _delta(old: Any, new: Any) -> float | None:
    return new - old if _is_number(old) and _is_number(new) else None


def _numbers_diff(old: dict[str, dict], new: dict[str, dict]) -> list[dict]:
    changes = []
    for path in list(new) + [p for p in old if p not in new]:
        a, b = old.get(path) or {}, new.get(path) or {}
        if a.get("value") == b.get("value") and a.get("provenance") == b.get("provenance"):
            continue
        delta = _delta(a.get("value"), b.get("value"))
        pct = delta / abs(a["value"]) * 100 if delta is not None and a["value"] else None
        changes.append({
            "path": path, "label": b.get("label") or a.get("label") or path, "unit": b.get("unit") or a.get("unit"),
            "old": a.get("value"), "new": b.get("value"), "old_text": a.get("text", "—"), "new_text": b.get("text", "—"),
            "delta": delta, "delta_pct": pct, "old_provenance": a.get("provenance"), "new_provenance": b.get("provenance"),
        })  # fmt: skip
    return changes


def _overall(evaluation: dict) -> float | None:
    return (evaluation.get("score") or {}).get("overall")


def _findings_diff(old: dict | None, new: dict | None) -> dict[str, list[dict]]:
    before = {f["item_key"]: f for f in (old or {}).get("findings", [])}
    after = {f["item_key"]: f for f in (new or {}).get("findings", [])}
    result: dict[str, list[dict]] = {"opened": [], "closed": [], "changed": []}
    for key in list(after) + [k for k in before if k not in after]:
        a, b = before.get(key), after.get(key)
        old_outcome, new_outcome = a and a["outcome"], b and b["outcome"]
        if old_outcome == new_outcome:
            continue
        f = b or a
        entry = {"item_key": key, "title": f["title"], "severity": f["severity"], "old_outcome": old_outcome,
                 "new_outcome": new_outcome, "risk": f.get("risk"), "message": f.get("message", "")}
        was_open, is_open = old_outcome in OPEN_OUTCOMES, new_outcome in OPEN_OUTCOMES
        if is_open and not was_open:
            result["opened"].append(entry)
        elif was_open and not is_open:
            result["closed"].append(entry)
        else:
            result["changed"].append(entry)
    return result
