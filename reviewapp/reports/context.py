"""The report's context: everything the HTML page, the PDF and the Markdown show, built from a
snapshot (reviewapp.designs.snapshot) and nothing else, so a milestone's report reads the same
forever. Values come out as display text; templates escape it and the Markdown writer
neutralises it.

    report_context(snapshot, milestone=..., previous=..., diff=...) -> dict

`milestone` and `previous` are plain dicts (`milestone_info`): number, name, kind, author, time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence

import engine.design as schema
from engine import vocabulary
from engine.charts import benchmark_figures, cost_by_plan, design_trend, latency_budget_breakdown
from engine.deploy import generate as generate_manifests
from engine.facts import cannot_run
from reviewapp.designs.export import field_value
from reviewapp.designs.models import Design
from reviewapp.reviews.models import Milestone

SEVERITY_RANK = {key: rank for rank, key in enumerate(vocabulary.SEVERITIES)}
OPEN_RISK_OUTCOMES = ("fail", "rule_error")
# What needs attention first within a severity (passes and not-applicable are in the appendix).
ATTENTION_OUTCOMES = ("fail", "rule_error", "unanswered", "accepted_risk")
TOP_RISKS_MAX = 5
# The models' own labels (code, not rows: a report still reads only its snapshot).
DESIGN_STATUSES = dict(Design.Status.choices)
MILESTONE_KINDS = dict(Milestone.Kind.choices)
PROVENANCE = {
    "measured": "Measured by a benchmark run (hardware, software and settings in the benchmark section).",
    "entered": "Entered by the team in the design's forms.",
    "estimated": "Estimated by the planning engine's throughput model; not measured.",
    "derived": "Computed exactly from entered numbers (arithmetic, no model).",
}
BENCHMARK_ROWS = (
    ("max_qps_at_p99", "Max QPS per replica at P99 within budget", "{:,.1f} req/s"),
    ("p99_budget_ms", "P99 budget of the run", "{:,.2f} ms"),
    ("target_qps", "Target rate (peak per replica)", "{:,.1f} req/s"),
    ("p50_ms_at_peak", "P50 at that rate", "{:,.2f} ms"),
    ("p95_ms_at_peak", "P95 at that rate", "{:,.2f} ms"),
    ("p99_ms_at_peak", "P99 at that rate", "{:,.2f} ms"),
    ("offline_throughput_per_s", "Best offline throughput", "{:,.1f} items/s"),
    # A generative run's (engine.bench.result_check._generative_measurements).
    ("goodput_rps", "Goodput per replica (TTFT and TPOT SLOs met)", "{:,.2f} req/s"),
    ("output_tokens_per_s", "Output tokens/s per replica", "{:,.0f} tokens/s"),
    ("ttft_p99_ms", "TTFT p99", "{:,.2f} ms"),
    ("ttft_slo_ms", "TTFT SLO of the run", "{:,.2f} ms"),
    ("tpot_p99_ms", "TPOT p99", "{:,.2f} ms"),
    ("tpot_slo_ms", "TPOT SLO of the run", "{:,.2f} ms"),
    ("device", "Device", "{}"),
    ("dtype", "Precision", "{}"),
    ("torch_version", "torch", "{}"),
    ("max_batch_size", "Max batch size", "{}"),
    ("max_queue_delay_ms", "Max queue delay", "{} ms"),
    ("seed", "Seed", "{}"),
    ("duration_s", "Run length", "{:,.1f} s"),
    ("measured_at", "Measured at", "{}"),
)
CHART_WIDTH_PX = 720
# The engine's own words for an outcome, which the outcome badge already says.
GENERIC_MESSAGES = frozenset({"Passes.", "Fails.", "Not answered yet.", "Does not apply to this design."})
# Short plan names for the cost chart's axis (the table gives the full ones).
PLAN_SHORT = {"on_demand": "On-demand", "spot": "Spot", "reserved_1y": "Reserved 1 yr", "reserved_3y": "Reserved 3 yr",
              "mixed": "Mixed"}


def milestone_info(milestone) -> dict[str, Any]:
    """A milestone row's own fields (not its snapshot), as the report shows them."""
    return {
        "number": milestone.number, "name": milestone.name, "kind": milestone.kind,
        "kind_label": MILESTONE_KINDS.get(milestone.kind, milestone.kind),
        "design_revision": milestone.design_revision, "content_hash": milestone.content_hash,
        "created_at": milestone.created_at.isoformat(timespec="seconds") if milestone.created_at else None,
        "created_by": milestone.created_by.get_username() if milestone.created_by else None,
    }  # fmt: skip


def report_context(snapshot: Mapping[str, Any], *, milestone: Mapping[str, Any] | None = None,
                   previous: Mapping[str, Any] | None = None, previous_snapshot: Mapping[str, Any] | None = None,
                   diff: Any = None, diff_note: str = "",
                   trend_points: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The report of `snapshot` (a milestone's when `milestone` is given, else the working draft),
    compared with `previous_snapshot` (the previous milestone's) when given; `diff` is
    `reviewapp.reviews.diff.snapshot_diff(previous, snapshot)` where that exists. `trend_points`:
    the design's milestones up to this one (and the draft), for `engine.charts.design_trend`."""
    design = snapshot["design"]
    evaluation = snapshot.get("evaluation") or None
    items = snapshot.get("items") or {}
    findings = (evaluation or {}).get("findings") or []
    sections = {s["key"]: s["title"] for s in snapshot.get("sections") or []}
    points_lost = {line["item_key"]: line.get("overall_points_lost") or 0.0
                   for line in ((evaluation or {}).get("score") or {}).get("lines") or []}
    charts: list[dict[str, Any]] = []
    numbers = _numbers(snapshot, charts)
    benchmark = _benchmark(snapshot, charts)
    trend = trend_chart(charts, trend_points)
    taken_at = _datetime(snapshot.get("taken_at"))
    label = (f"Milestone {milestone['number']}: {milestone['name']}" if milestone
             else "Working draft, not a milestone")
    context = {
        "is_draft": milestone is None,
        "label": label,
        "title": f"Design review: {design['name']}",
        "design": {**design, "status_label": DESIGN_STATUSES.get(design.get("status"), design.get("status"))},
        "taken_at": taken_at,
        "milestone": milestone,
        "checklist": snapshot.get("checklist"),
        "catalog": snapshot.get("catalog") or {},
        "content_hash": milestone["content_hash"] if milestone else None,
        "review": _review(snapshot, milestone),
        "summary": _summary(evaluation, findings, items, sections, points_lost),
        "requirements": _inputs(snapshot, "requirements"),
        "architecture": _inputs(snapshot, "architecture"),
        "numbers": numbers,
        "provenance": list(PROVENANCE.items()),
        "benchmark": benchmark,
        "findings": _findings_by_severity(findings, items, sections, snapshot.get("answers") or {}),
        "accepted": _accepted(snapshot, findings, items, taken_at),
        "changes": _changes(previous, previous_snapshot, snapshot, diff, diff_note),
        "appendix": _appendix(snapshot, findings, items),
        "kubernetes": _kubernetes(snapshot),
        "trend": trend,
        "charts": charts,
    }
    context["cover_decision"] = _cover_decision(context["review"], context["summary"])
    context["toc"] = _toc(context)
    return context


# --- pieces -----------------------------------------------------------------------------------

def _datetime(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def _score_text(value: Any) -> str:
    return "—" if value is None else f"{value:.1f}"


def _message(finding: Mapping[str, Any]) -> str:
    message = finding.get("message") or ""
    return "" if message in GENERIC_MESSAGES else message


def _finding_row(f: Mapping[str, Any], items: Mapping[str, Any], sections: Mapping[str, str],
                 points_lost: Mapping[str, float] | None = None) -> dict[str, Any]:
    item = items.get(f["item_key"]) or {}
    return {
        "key": f["item_key"], "title": f.get("title") or item.get("title") or f["item_key"],
        "severity": f.get("severity"), "severity_label": vocabulary.SEVERITIES.get(f.get("severity"), f.get("severity")),
        "outcome": f.get("outcome"), "outcome_label": vocabulary.OUTCOMES.get(f.get("outcome"), f.get("outcome")),
        "section": sections.get(f.get("section_key"), f.get("section_key") or ""),
        "message": _message(f), "reason": f.get("reason") or "",
        "improvement_plan": f.get("improvement_plan") or item.get("improvement_plan") or "",
        "why": item.get("why") or "", "mode": f.get("mode") or item.get("mode"),
        "points_lost": (points_lost or {}).get(f["item_key"], 0.0),
    }  # fmt: skip


def _summary(evaluation, findings, items, sections, points_lost) -> dict[str, Any] | None:
    if evaluation is None:
        return None
    score = evaluation.get("score") or {}
    rows = [_finding_row(f, items, sections, points_lost) for f in findings]
    # Open risks of every severity and the unanswered high-severity items (the biggest unknowns),
    # most severe first; within a severity a known failure before an unknown, then by points lost.
    candidates = [r for r in rows if r["outcome"] in OPEN_RISK_OUTCOMES
                  or (r["outcome"] == "unanswered" and r["severity"] == "high")]
    top = sorted(candidates, key=lambda r: (SEVERITY_RANK.get(r["severity"], 9), r["outcome"] == "unanswered",
                                            -r["points_lost"], r["key"]))[:TOP_RISKS_MAX]
    counts = evaluation.get("counts") or {}
    return {
        "verdict": evaluation.get("verdict"),
        "verdict_label": vocabulary.VERDICTS.get(evaluation.get("verdict"), evaluation.get("verdict")),
        "verdict_reasons": list(evaluation.get("verdict_reasons") or []),
        "overall": score.get("overall"), "overall_text": _score_text(score.get("overall")),
        "strategy": vocabulary.SCORING_STRATEGIES.get(score.get("strategy"), score.get("strategy")),
        "level": score.get("level"),
        "sections": [
            {"title": s.get("title") or s.get("key"), "score": s.get("score"), "score_text": _score_text(s.get("score")),
             "items": s.get("item_count"), "scored": s.get("scored_count")}
            for s in score.get("sections") or []
        ],
        "risks": [
            ("High", evaluation.get("high_risk_count", 0)), ("Medium", evaluation.get("medium_risk_count", 0)),
            ("Low", evaluation.get("low_risk_count", 0)),
        ],
        "accepted_count": evaluation.get("accepted_risk_count", 0),
        "rule_error_count": evaluation.get("rule_error_count", 0),
        "unanswered_count": evaluation.get("unanswered_count", 0),
        "unanswered_high_count": evaluation.get("unanswered_high_count", 0),
        "counts": [(vocabulary.OUTCOMES.get(k, k), v) for k, v in counts.items()],
        "top_risks": top,
    }  # fmt: skip


def _inputs(snapshot: Mapping[str, Any], group: str) -> list[dict[str, Any]]:
    """The group's fields by form section, labelled and formatted by the schema; fields the
    design's own choices hide are left out, blank ones are listed as not set."""
    inputs = snapshot.get("inputs") or {}
    values = inputs.get(group) or {}
    try:
        visible = set(schema.visible_fields(inputs))
    except Exception:  # a document the schema no longer reads: show every field
        visible = {f.key for f in schema.FIELDS}
    out = []
    for section in schema.sections(group):
        rows, unset = [], []
        for spec in section.fields:
            if spec.key not in visible:
                continue
            value = values.get(spec.name)
            if value is None or value == [] or value == "":
                unset.append(spec.label)
            else:
                rows.append({"label": spec.label, "value": field_value(spec, value), "help": spec.help})
        if rows or unset:
            out.append({"title": section.label, "rows": rows, "unset": unset})
    return out


def _chart(charts: list, key: str, title: str, caption: str, figure: dict | None) -> dict | None:
    if figure is None:
        return None
    height = int((figure.get("layout") or {}).get("height") or 420)
    chart = {"key": key, "json_id": f"figure-{key}", "title": title, "caption": caption, "figure": figure,
             "width": CHART_WIDTH_PX,
             "height": height, "svg": None, "error": ""}
    charts.append(chart)
    return chart


def trend_chart(charts: list, points: Sequence[Mapping[str, Any]]) -> dict | None:
    """The trend chart (one point per milestone); none before there are two points to join."""
    if len(points) < 2:
        return None
    return _chart(charts, "trend", "Trend over the milestones",
                  "Score, open high and medium risks and the chosen plan's monthly cost at each milestone.",
                  design_trend(points))


def _latency_parts(snapshot: Mapping[str, Any]) -> tuple[list[tuple[str, Any]], Any, str]:
    budget = (snapshot.get("facts") or {}).get("latency_budget") or {}
    measured = (snapshot.get("measurements") or {}).get("p99_ms_at_peak")
    if measured is not None:
        model, note = ("model (measured p99)", measured), "the model's share is the benchmark's measured p99"
    elif budget.get("generation_ms") is not None:
        model, note = ("model (token targets)", budget["generation_ms"]), \
            "the model's share is what the time-to-first-token and per-token targets imply"
    else:
        model, note = ("model (what is left)", budget.get("inference_budget_ms")), \
            "the model gets what the other parts leave"
    parts = [("network", budget.get("network_ms")), ("pre-processing", budget.get("preprocessing_ms")),
             ("queueing", budget.get("queueing_ms")), ("post-processing", budget.get("postprocessing_ms")), model]
    return parts, budget.get("p99_budget_ms"), note


def _number_row(n: Mapping[str, Any]) -> dict[str, Any]:
    return {**n, "unit": display_unit(n.get("text", ""), n.get("unit"))}


def _numbers(snapshot: Mapping[str, Any], charts: list) -> dict[str, Any]:
    numbers = snapshot.get("numbers") or {}
    parts, p99_budget_ms, latency_note = _latency_parts(snapshot)
    sections = []
    for section in numbers.get("sections") or []:
        chart = None
        if section["title"].lower().startswith("latency"):
            chart = _chart(charts, "latency_budget", "Latency budget breakdown",
                           f"How the p99 budget is shared out; {latency_note}.",
                           latency_budget_breakdown(parts, p99_budget_ms))
        sections.append({"title": section["title"], "rows": [_number_row(n) for n in section["rows"]], "chart": chart})
    cost_rows = numbers.get("cost_rows") or []
    chosen = next((r["label"] for r in cost_rows if r.get("chosen")), None)
    short = {r["label"]: PLAN_SHORT.get(r.get("plan"), r["label"]) for r in cost_rows}
    cost_chart = _chart(
        charts, "cost_by_plan", "Monthly cost by pricing plan",
        "Monthly cost of the fleet under each pricing plan; the chosen plan is in colour.",
        cost_by_plan([(short[r["label"]], r["monthly"]["value"]) for r in cost_rows], short.get(chosen)),
    )  # fmt: skip
    budget_rows = [_number_row(numbers[k]) for k in ("budget", "budget_gap_pct") if numbers.get(k)]
    catalog = snapshot.get("catalog") or {}
    gpu_entry = catalog.get("gpu_entry") or {}
    return {
        "cannot_run": cannot_run(snapshot.get("facts") or {}),
        "sections": sections, "cost_rows": cost_rows, "cost_chart": cost_chart, "chosen_plan": chosen,
        "budget_rows": budget_rows, "build_vs_buy": [_number_row(n) for n in numbers.get("build_vs_buy") or []],
        "warnings": [w.get("message", str(w)) if isinstance(w, dict) else str(w) for w in numbers.get("warnings") or []],
        "assumptions": [a.get("message", str(a)) if isinstance(a, dict) else str(a)
                        for a in numbers.get("assumptions") or []],
        "input_errors": numbers.get("input_errors") or 0,
        "gpu": gpu_entry.get("label") or catalog.get("gpu"), "prices_as_of": catalog.get("as_of"),
        "price_source": catalog.get("source") or "",
        "hourly": sorted((gpu_entry.get("price_usd_per_hour") or {}).items(),
                         key=lambda kv: list(vocabulary.PRICING_PLANS).index(kv[0])
                         if kv[0] in vocabulary.PRICING_PLANS else 99),
    }  # fmt: skip


def _benchmark(snapshot: Mapping[str, Any], charts: list) -> dict[str, Any] | None:
    measurements = snapshot.get("measurements")
    measured_by = snapshot.get("measured_by") or {}
    if not measurements:
        return None
    rows = []
    for key, label, pattern in BENCHMARK_ROWS:
        value = measurements.get(key)
        if value is None or value == "":
            continue
        if key == "measured_at":
            value = _when(value)
        try:
            rows.append((label, pattern.format(value)))
        except (TypeError, ValueError):
            rows.append((label, str(value)))
    result = measured_by.get("result")
    figures = benchmark_figures(result) if isinstance(result, dict) else []
    bench_charts = [_chart(charts, f"bench_{f['key']}", f["title"], "From the benchmark run's raw results.",
                           f["figure"]) for f in figures]
    return {
        "rows": rows, "run": measured_by.get("run"), "source": measured_by.get("source"),
        "source_note": measured_by.get("source_note") or "", "why": measured_by.get("why") or "",
        "pinned": measured_by.get("pinned"), "device": measured_by.get("device"),
        "finished_at": _when(measured_by.get("finished_at")), "shape_key": measured_by.get("shape_key"),
        "charts": [c for c in bench_charts if c], "has_result": isinstance(result, dict),
    }  # fmt: skip


def _answer_text(answer: Mapping[str, Any] | None, item: Mapping[str, Any]) -> dict[str, Any] | None:
    if not answer:
        return None
    labels = {c.get("id"): c.get("title") or c.get("id") for c in item.get("choices") or []
              if isinstance(c, dict)}
    return {
        "status": vocabulary.ANSWER_STATUSES.get(answer.get("status"), answer.get("status")),
        "choices": [labels.get(c, c) for c in answer.get("choices") or []],
        "reason": answer.get("reason") or "", "by": answer.get("answered_by"),
    }  # fmt: skip


def _findings_by_severity(findings, items, sections, answers) -> list[dict[str, Any]]:
    out = []
    order = {o: i for i, o in enumerate(ATTENTION_OUTCOMES)}
    for severity, label in vocabulary.SEVERITIES.items():
        of_severity = [f for f in findings if f.get("severity") == severity]
        attention = sorted((f for f in of_severity if f.get("outcome") in order),
                           key=lambda f: (order[f["outcome"]], f["item_key"]))
        rows = []
        for f in attention:
            row = _finding_row(f, items, sections)
            row["answer"] = _answer_text(answers.get(f["item_key"]), items.get(f["item_key"]) or {})
            rows.append(row)
        passed = sum(1 for f in of_severity if f.get("outcome") == "pass")
        not_applicable = sum(1 for f in of_severity if f.get("outcome") == "not_applicable")
        out.append({"severity": severity, "label": label, "rows": rows, "passed": passed,
                    "not_applicable": not_applicable, "total": len(of_severity)})
    return out


def _accepted(snapshot, findings, items, taken_at) -> list[dict[str, Any]]:
    by_key = {f["item_key"]: f for f in findings}
    out = []
    for key, acceptance in (snapshot.get("acceptances") or {}).items():
        item = items.get(key) or {}
        expires = acceptance.get("expires_on")
        expired = bool(expires and taken_at and expires < taken_at.date().isoformat())
        finding = by_key.get(key) or {}
        out.append({
            "key": key, "title": item.get("title") or key,
            "severity_label": vocabulary.SEVERITIES.get(item.get("severity"), item.get("severity")),
            "rationale": acceptance.get("rationale") or "", "expires_on": expires, "expired": expired,
            "by": acceptance.get("accepted_by"), "in_force": finding.get("outcome") == "accepted_risk",
            "improvement_plan": item.get("improvement_plan") or "",
        })  # fmt: skip
    return out


def _titles(entries: Any) -> list[str]:
    return [str(e.get("title") or e.get("item_key") or "") if isinstance(e, Mapping) else str(e) for e in entries or []]


def _review(snapshot: Mapping[str, Any], milestone: Mapping[str, Any] | None) -> dict[str, Any]:
    """The review decision the snapshot carries (`snapshot["review"]`, written by
    reviewapp.reviews.services.review_decide into a decision's milestone): outcome, comment, who
    and when, the override and what the reviewer signed over, and the request it answered."""
    review = snapshot.get("review") if isinstance(snapshot.get("review"), Mapping) else {}
    decision = None
    if review.get("decision"):
        outcome = str(review["decision"])
        decision = {"outcome": outcome, "label": str(review.get("label") or DESIGN_STATUSES.get(outcome, outcome)),
                    "by": str(review.get("decided_by") or ""), "at": _when(review.get("decided_at")),
                    "comment": str(review.get("comment") or "")}
    override = review.get("override") if isinstance(review.get("override"), Mapping) else None
    overrides = []
    for f in (override or {}).get("findings") or []:
        if isinstance(f, Mapping):
            overrides.append({
                "key": f.get("item_key") or "", "title": f.get("title") or f.get("item_key") or "",
                "severity_label": vocabulary.SEVERITIES.get(f.get("severity"), f.get("severity") or ""),
                "outcome_label": vocabulary.OUTCOMES.get(f.get("outcome"), f.get("outcome") or ""),
            })  # fmt: skip
    signed = review.get("signed") if isinstance(review.get("signed"), Mapping) else {}
    request = review.get("request") if isinstance(review.get("request"), Mapping) else {}
    return {
        "present": bool(review), "decision": decision, "overrides": overrides,
        "override_reason": str((override or {}).get("reason") or ""),
        "signed_medium": _titles(signed.get("medium_risks")), "signed_unanswered": _titles(signed.get("unanswered")),
        "reviewers": [decision["by"]] if decision and decision["by"] else [],
        "requested_by": str(request.get("requested_by") or ""), "requested_at": _when(request.get("requested_at")),
        "message": str(request.get("message") or ""), "request_milestone": request.get("milestone"),
    }  # fmt: skip


def _cover_decision(review: Mapping[str, Any], summary: Mapping[str, Any] | None) -> str:
    """The cover's decision line. An approval over a "Not ready" verdict says so there, with the
    verdict's reasons and the reviewer's reason: a signer reading only the cover must not see a bare
    "Approved" above "Not ready" (the gate lets an approval through with unanswered high items, or
    over blockers with a reason)."""
    decision = review.get("decision")
    if not decision:
        return "none recorded"
    who = (f" by {decision['by']}" if decision["by"] else "") + (f", {decision['at']}" if decision["at"] else "")
    if decision["outcome"] != "approved" or not summary or summary["verdict"] != "not_ready":
        return f"{decision['label']}{who}"
    reasons = "; ".join(summary["verdict_reasons"])
    why = (f"reason given: {review['override_reason']}" if review.get("override_reason")
           else "no reason was recorded for approving over it")
    return f"{decision['label']} over the verdict “{summary['verdict_label']}” ({reasons}){who}; {why}"


def _when(text: Any) -> str:
    """An ISO time as "2026-11-29 21:32 UTC" (text that is not one, as it is)."""
    moment = _datetime(text)
    if moment is None:
        return "" if text is None else str(text)
    return moment.strftime("%Y-%m-%d %H:%M") + (" UTC" if moment.utcoffset() == dt.timedelta(0) else "")


def _fact(snapshot: Mapping[str, Any] | None, path: str) -> Any:
    node: Any = (snapshot or {}).get("facts") or {}
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


HEADLINE = (
    ("Overall score", lambda s: ((s.get("evaluation") or {}).get("score") or {}).get("overall"), "{:.1f}"),
    ("Verdict", lambda s: vocabulary.VERDICTS.get((s.get("evaluation") or {}).get("verdict"), None), "{}"),
    ("Open high risks", lambda s: (s.get("evaluation") or {}).get("high_risk_count"), "{}"),
    ("Open medium risks", lambda s: (s.get("evaluation") or {}).get("medium_risk_count"), "{}"),
    ("Unanswered items", lambda s: (s.get("evaluation") or {}).get("unanswered_count"), "{}"),
    ("Checklist version", lambda s: (s.get("checklist") or {}).get("version"), "v{}"),
    ("Peak QPS", lambda s: _fact(s, "traffic.peak_qps"), "{:,.4g}"),
    ("P99 budget (ms)", lambda s: _fact(s, "latency_budget.p99_budget_ms"), "{:,.4g}"),
    ("Replicas at peak", lambda s: _fact(s, "capacity.replicas"), "{:,}"),
    ("Monthly cost, chosen plan (USD)", lambda s: _fact(s, "cost.monthly_usd.selected"), "{:,.0f}"),
)


def _fmt(pattern: str, value: Any) -> str:
    if value is None:
        return "—"
    try:
        return pattern.format(value)
    except (TypeError, ValueError):
        return str(value)


def _changes(previous, previous_snapshot, snapshot, diff, diff_note) -> dict[str, Any] | None:
    """What changed since the previous milestone: a headline table read from both snapshots, and
    the detailed diff (`snapshot_diff`'s dict, shown as tables whatever its shape) when given."""
    if previous is None or previous_snapshot is None:
        return None
    headline = []
    for label, read, pattern in HEADLINE:
        old, new = read(previous_snapshot), read(snapshot)
        if old is None and new is None:
            continue
        delta = ""
        if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool):
            delta = "" if old == new else _signed(new - old)
        headline.append({"label": label, "old": _fmt(pattern, old), "new": _fmt(pattern, new), "delta": delta,
                         "changed": old != new})
    return {"previous": previous, "headline": headline, "detail": _diff_blocks(diff), "note": diff_note}


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):  # as the rules write it
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def _input_text(path: str, value: Any) -> str:
    try:
        spec = schema.field(path)
    except KeyError:
        return _plain(value)
    return "not set" if value is None or value == [] or value == "" else field_value(spec, value)


def _signed(value: float) -> str:
    return f"{value:+,.0f}" if abs(value) >= 1000 else f"{value:+,.3g}"


def _change_text(row: Mapping[str, Any]) -> str:
    delta, pct = row.get("delta"), row.get("delta_pct")
    if delta is None:
        return ""
    return _signed(delta) + (f" ({pct:+,.0f} %)" if pct is not None else "")


def _source_change(row: Mapping[str, Any]) -> str:
    old, new = row.get("old_provenance"), row.get("new_provenance")
    return f"{old} → {new}" if old and new and old != new else (new or "")


def display_unit(text: Any, unit: Any) -> str:
    """The unit to print after `text`: none for a dollar amount in plain USD, "/month" for USD/month."""
    unit = unit or ""
    if str(text).startswith(("$", "-$", "+$")) and unit.startswith("USD"):
        return unit[3:]
    return unit


def _with_unit(text: Any, value: Any, unit: Any) -> str:
    if isinstance(value, float) and str(text) == str(value):
        text = _plain(value)
    if text in (None, "—"):
        return "—"
    shown = display_unit(text, unit)
    return f"{text}{shown}" if shown.startswith("/") else f"{text} {shown}".strip()


def _diff_blocks(diff: Any) -> list[dict[str, Any]]:
    """`reviewapp.reviews.diff.snapshot_diff`'s inputs, numbers, findings and measurement
    changes as tables (score, verdict, risks and checklist are in the headline table)."""
    if not isinstance(diff, Mapping):
        return []
    blocks = [{
        "title": "Inputs changed", "columns": ["Field", "Before", "After"], "numeric": [],
        "rows": [[r.get("label"), _input_text(r.get("path", ""), r.get("old")), _input_text(r.get("path", ""), r.get("new"))]
                 for r in diff.get("inputs") or [] if isinstance(r, Mapping)],
    }, {
        "title": "Numbers changed", "columns": ["Number", "Before", "After", "Change", "Source"], "numeric": [1, 2, 3],
        "rows": [[r.get("label"), _with_unit(r.get("old_text"), r.get("old"), r.get("unit")),
                  _with_unit(r.get("new_text"), r.get("new"), r.get("unit")), _change_text(r), _source_change(r)]
                 for r in diff.get("numbers") or [] if isinstance(r, Mapping)],
    }]  # fmt: skip
    findings = diff.get("findings") if isinstance(diff.get("findings"), Mapping) else {}
    rows = []
    for change, word in (("opened", "opened"), ("closed", "closed"), ("changed", "changed")):
        for f in findings.get(change) or []:
            if isinstance(f, Mapping):
                rows.append([f.get("title") or f.get("item_key"), vocabulary.SEVERITIES.get(f.get("severity"), ""),
                             vocabulary.OUTCOMES.get(f.get("old_outcome"), f.get("old_outcome") or "not in checklist"),
                             vocabulary.OUTCOMES.get(f.get("new_outcome"), f.get("new_outcome") or "not in checklist"),
                             word])
    blocks.append({"title": "Findings opened, closed or changed", "columns": ["Item", "Severity", "Before", "After", ""],
                   "numeric": [], "rows": rows})
    measured = diff.get("measured_by") if isinstance(diff.get("measured_by"), Mapping) else {}
    if measured.get("changed"):
        def run(side):
            return f"benchmark run #{side['run']}" if isinstance(side, Mapping) and side.get("run") else "no measurement"
        blocks.append({"title": "Measurement in force", "columns": ["Before", "After"], "numeric": [],
                       "rows": [[run(measured.get("old")), run(measured.get("new"))]]})
    return blocks


def _trace_steps(trace: Any) -> list[dict[str, Any]]:
    steps = []
    for step in trace or []:
        if not isinstance(step, Mapping):
            continue
        steps.append({
            "field": str(step.get("field") or "").replace("_", " "), "expression": str(step.get("expression") or ""),
            "facts": [(k, _plain(v)) for k, v in (step.get("facts") or {}).items()],
            "missing": [str(m) for m in step.get("missing") or []], "result": str(step.get("result") or ""),
            "message": str(step.get("message") or ""),
        })  # fmt: skip
    return steps


def _appendix(snapshot, findings, items) -> list[dict[str, Any]]:
    by_key = {f["item_key"]: f for f in findings}
    answers = snapshot.get("answers") or {}
    acceptances = snapshot.get("acceptances") or {}
    out = []
    for section in snapshot.get("sections") or []:
        rows = []
        for key in section.get("items") or []:
            item = items.get(key) or {}
            finding = by_key.get(key) or {}
            acceptance = acceptances.get(key)
            rows.append({
                "key": key, "title": item.get("title") or key, "question": item.get("question") or "",
                "why": item.get("why") or "",
                "severity_label": vocabulary.SEVERITIES.get(item.get("severity"), item.get("severity")),
                "severity": item.get("severity"), "weight": item.get("weight"), "level": item.get("level") or "",
                "mode_label": "automatic" if item.get("mode") == "automatic" else "manual",
                "outcome": finding.get("outcome"), "needs_attention": finding.get("outcome") in ATTENTION_OUTCOMES,
                "outcome_label": vocabulary.OUTCOMES.get(finding.get("outcome"), finding.get("outcome") or "—"),
                "message": _message(finding),
                "improvement_plan": item.get("improvement_plan") or "",
                "applies_when": item.get("applies_when") or "", "passes_when": item.get("passes_when") or "",
                "answer": _answer_text(answers.get(key), item),
                "acceptance": acceptance, "trace": _trace_steps(finding.get("trace")),
                "resources": [r for r in item.get("resources") or [] if isinstance(r, Mapping)],
            })  # fmt: skip
        out.append({"key": section.get("key"), "title": section.get("title") or section.get("key"), "rows": rows})
    return out


def _kubernetes(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The serving tier's manifests (engine.deploy) from the snapshot's inputs and facts, generated at
    render time: deterministic, so a milestone's appendix reads the same forever."""
    result = generate_manifests(dict(snapshot.get("inputs") or {}), dict(snapshot.get("facts") or {}),
                                name=(snapshot.get("design") or {}).get("name") or "")
    return {"yaml": result.yaml, "missing": list(result.missing), "documents": len(result.documents),
            "cannot_run": result.cannot_run}


def _toc(context: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(anchor, title) of each chapter, in the order the template writes them."""
    toc = [("summary", "Executive summary"), ("requirements", "Requirements"), ("architecture", "Architecture"),
           ("numbers", "The numbers"), ("benchmark", "Benchmark results"), ("findings", "Findings by severity"),
           ("accepted", "Accepted risks"), ("decision", "Decision and sign-off")]
    if context["changes"]:
        toc.append(("changes", "Changes since the previous milestone"))
    toc.append(("appendix", "Appendix: the full checklist, answers and rule traces"))
    toc.append(("kubernetes", "Appendix: Kubernetes manifests"))
    return toc
