"""snapshot_diff: a plain function over two snapshots (what the compare page, the "changed since
approval" box and reports read). Hand-made snapshots need no database; two real milestones show
the numbers a reviewer asks about (replicas, cost per plan, latency budget, measured figures)."""

import copy

import pytest
from engine.design import example_design

from reviewapp.reviews.diff import snapshot_diff
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401


def number(path, value, text=None, unit=None, provenance="derived", label=None):
    return {"path": path, "label": label or path, "value": value, "text": text or str(value), "unit": unit,
            "provenance": provenance, "description": ""}


def snapshot(**changes) -> dict:
    base = {
        "taken_at": "2026-01-01T00:00:00+00:00",
        "design": {"revision": 3},
        "inputs": {"requirements": {"peak_qps": 60.0, "regions": ["us"]}, "architecture": {"gpu_type": "h100-80gb"}},
        "numbers": {
            "sections": [{"title": "Capacity", "rows": [number("capacity.replicas", 19, unit="replicas")]},
                         {"title": "Latency budget", "rows": [number("latency_budget.p99_budget_ms", 800, unit="ms")]}],
            "cost_rows": [{"plan": "spot", "label": "Spot", "chosen": True,
                           "monthly": number("cost.monthly_usd.spot", 1000.0, unit="USD/month"),
                           "per_1k_requests": number("cost.per_1k_requests_usd.spot", 0.5, unit="USD"),
                           "per_1m_tokens": number("cost.per_1m_tokens_usd.spot", None)}],
            "budget": number("cost.budget_usd", 2000.0), "budget_gap_pct": number("cost.budget_gap_pct", -50.0),
            "build_vs_buy": [],
        },
        "facts": {"benchmark": {"max_qps_at_p99": None}},
        "fact_meta": {"benchmark.max_qps_at_p99": {"unit": "req/s"}},
        "checklist": {"key": "default", "name": "Default", "version": 1},
        "evaluation": {
            "score": {"overall": 60.0}, "verdict": "not_ready", "high_risk_count": 1, "medium_risk_count": 0,
            "low_risk_count": 0, "accepted_risk_count": 0, "rule_error_count": 0, "unanswered_count": 1,
            "findings": [
                {"item_key": "p99", "title": "P99", "severity": "high", "outcome": "fail", "risk": "high", "message": "m"},
                {"item_key": "owner", "title": "Owner", "severity": "medium", "outcome": "unanswered", "risk": None, "message": ""},
                {"item_key": "cache", "title": "Cache", "severity": "low", "outcome": "pass", "risk": None, "message": ""},
            ],
        },
        "measured_by": None,
    }
    for path, value in changes.items():
        target = base
        *parents, last = path.split("/")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return base


def test_identical_snapshots_have_no_changes():
    diff = snapshot_diff(snapshot(), snapshot())
    assert diff["changed"] is False
    assert (diff["inputs"], diff["numbers"]) == ([], [])
    assert diff["findings"] == {"opened": [], "closed": [], "changed": []}


def test_inputs_old_to_new_in_form_order_with_labels():
    new = snapshot(**{"inputs/requirements/peak_qps": 600.0, "inputs/requirements/regions": ["us", "eu"]})
    diff = snapshot_diff(snapshot(), new)
    assert [(r["path"], r["label"], r["old"], r["new"]) for r in diff["inputs"]] == [
        ("requirements.peak_qps", "Peak QPS", 60.0, 600.0),
        ("requirements.regions", "Regions", ["us"], ["us", "eu"]),
    ]
    assert diff["changed"] is True


def test_numbers_with_deltas_replicas_cost_per_plan_latency_budget_and_measured():
    new = snapshot(**{
        "numbers/sections/0/rows/0": number("capacity.replicas", 187, unit="replicas"),
        "numbers/sections/1/rows/0": number("latency_budget.p99_budget_ms", 600, unit="ms"),
        "numbers/cost_rows/0/monthly": number("cost.monthly_usd.spot", 9500.0, unit="USD/month"),
        "facts/benchmark/max_qps_at_p99": 12.5,
    })
    rows = {r["path"]: r for r in snapshot_diff(snapshot(), new)["numbers"]}
    assert (rows["capacity.replicas"]["old"], rows["capacity.replicas"]["new"], rows["capacity.replicas"]["delta"]) == (19, 187, 168)
    assert rows["capacity.replicas"]["delta_pct"] == pytest.approx(168 / 19 * 100)
    assert rows["latency_budget.p99_budget_ms"]["delta"] == -200
    assert rows["cost.spot.monthly"]["delta"] == 8500.0 and rows["cost.spot.monthly"]["label"] == "Spot, monthly"
    measured = rows["benchmark.max_qps_at_p99"]
    assert (measured["old"], measured["new"], measured["delta"], measured["unit"]) == (None, 12.5, None, "req/s")
    assert set(rows) == {"capacity.replicas", "latency_budget.p99_budget_ms", "cost.spot.monthly",
                         "benchmark.max_qps_at_p99"}


def test_a_change_of_provenance_alone_is_a_change():
    new = snapshot(**{"numbers/sections/0/rows/0": number("capacity.replicas", 19, provenance="measured")})
    [row] = snapshot_diff(snapshot(), new)["numbers"]
    assert (row["old_provenance"], row["new_provenance"], row["delta"]) == ("derived", "measured", 0)


def test_findings_opened_closed_and_changed_score_verdict_and_checklist():
    new = copy.deepcopy(snapshot())
    findings = new["evaluation"]["findings"]
    findings[0]["outcome"], findings[0]["risk"] = "accepted_risk", "high"  # closed: accepted
    findings[1]["outcome"] = "fail"  # unanswered -> fail: still open, changed
    findings[2]["outcome"] = "fail"  # pass -> fail: opened
    findings.append({"item_key": "new", "title": "New item", "severity": "low", "outcome": "unanswered", "risk": None})
    new["evaluation"].update(score={"overall": 72.5}, verdict="ready_with_risks", high_risk_count=0)
    new["checklist"]["version"] = 2
    diff = snapshot_diff(snapshot(), new)
    assert [f["item_key"] for f in diff["findings"]["opened"]] == ["cache", "new"]
    assert [f["item_key"] for f in diff["findings"]["closed"]] == ["p99"]
    assert [(f["item_key"], f["old_outcome"], f["new_outcome"]) for f in diff["findings"]["changed"]] == [
        ("owner", "unanswered", "fail")]
    assert diff["score"] == {"old": 60.0, "new": 72.5, "delta": 12.5}
    assert diff["verdict"] == {"old": "not_ready", "new": "ready_with_risks", "changed": True}
    assert diff["risks"]["high"] == {"old": 1, "new": 0}
    assert diff["checklist"]["changed"] is True and diff["checklist"]["new"]["version"] == 2


def test_an_item_gone_from_the_checklist_is_closed():
    new = snapshot()
    new["evaluation"]["findings"] = new["evaluation"]["findings"][1:]
    [closed] = snapshot_diff(snapshot(), new)["findings"]["closed"]
    assert (closed["item_key"], closed["new_outcome"]) == ("p99", None)


def test_unscored_snapshots_compare():
    diff = snapshot_diff(snapshot(evaluation=None, checklist=None), snapshot())
    assert diff["score"] == {"old": None, "new": 60.0, "delta": None}
    assert diff["checklist"]["old"] is None and diff["checklist"]["changed"]


def test_two_milestones_of_a_design_ten_times_the_peak(owner, published, filled_design):
    from reviewapp.designs import services as designs
    from reviewapp.reviews.services import milestone_create

    before = milestone_create(design=filled_design, user=owner, name="before")
    inputs = example_design()
    inputs["requirements"]["peak_qps"] = 700.0
    designs.design_update_inputs(design=filled_design, data=inputs, revision=filled_design.revision, user=owner)
    after = milestone_create(design=filled_design, user=owner, name="after")
    diff = snapshot_diff(before.snapshot, after.snapshot)
    assert diff["inputs"] == [{"path": "requirements.peak_qps", "label": "Peak QPS", "old": 70.0, "new": 700.0}]
    rows = {r["path"]: r for r in diff["numbers"]}
    replicas = rows["capacity.replicas"]
    assert replicas["new"] > replicas["old"] > 0 and replicas["delta"] == replicas["new"] - replicas["old"]
    assert rows["cost.on_demand.monthly"]["delta"] > 0
    assert (diff["old"]["revision"], diff["new"]["revision"]) == (before.design_revision, after.design_revision)
    assert diff["findings"] == {"opened": [], "closed": [], "changed": []}  # the rules do not read the peak
