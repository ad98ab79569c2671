"""A design's trend over its milestones: the points `engine.charts.design_trend` draws, read from
the milestones' snapshots in one query (the database extracts the four numbers; the snapshots
themselves stay there). Milestones never change, so a milestone's report shows the same trend
forever: the milestones up to it."""

from __future__ import annotations

from typing import Any, Mapping

from django.db.models.fields.json import KeyTransform

from reviewapp.reviews.models import Milestone

POINT_PATHS = {
    "score": ("evaluation", "score", "overall"),
    "high_risks": ("evaluation", "high_risk_count"),
    "medium_risks": ("evaluation", "medium_risk_count"),
    "monthly_cost_usd": ("facts", "cost", "monthly_usd", "selected"),
}


def _transform(path: tuple[str, ...]):
    node: Any = "snapshot"
    for key in path:
        node = KeyTransform(key, node)
    return node


def point_of_snapshot(snapshot: Mapping[str, Any], label: str) -> dict[str, Any]:
    """The trend point of a snapshot held in memory (the working draft's)."""
    point: dict[str, Any] = {"label": label}
    for name, path in POINT_PATHS.items():
        node: Any = snapshot
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        point[name] = node
    return point


def milestone_points(design_id: int, *, up_to: int | None = None) -> list[dict[str, Any]]:
    """One point per milestone of the design (numbered up to `up_to` when given), oldest first."""
    milestones = Milestone.objects.filter(design_id=design_id)
    if up_to is not None:
        milestones = milestones.filter(number__lte=up_to)
    rows = milestones.order_by("number").values(
        "number", "name", **{name: _transform(path) for name, path in POINT_PATHS.items()})
    return [{"label": f"M{r['number']} {r['name']}"[:40], **{k: r[k] for k in POINT_PATHS}} for r in rows]
