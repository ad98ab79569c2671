"""The consolidated report of a team's designs as plain data: the JSON download is this document,
and the HTML page and the PDF render it (one template, as the design report does)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from reviewapp.portfolio.selectors import ReportRow, Summary, risks_by_section

FORMAT = "ai-design-review/portfolio-report"
FORMAT_VERSION = 1


def _summary(summary: Summary) -> dict[str, Any]:
    return {
        "score": summary.score, "verdict": summary.verdict, "verdict_label": summary.verdict_label,
        "open_high_risks": summary.high_risks, "open_medium_risks": summary.medium_risks,
        "estimated_qps_per_replica": summary.estimated_qps_per_replica,
        "measured_qps_per_replica": summary.measured_qps_per_replica, "replicas": summary.replicas,
        "monthly_cost_usd": summary.monthly_cost_usd, "cannot_run": summary.cannot_run,
    }  # fmt: skip


def consolidated_report(rows: Sequence[ReportRow], *, generated_at: dt.datetime, teams: Sequence[str],
                        selection: dict[str, Any]) -> dict[str, Any]:
    """Each design from its approved milestone, else its working draft (`source` says which), the
    open risks by checklist section over all of them, and the totals."""
    designs = []
    for row in rows:
        milestone = row.milestone
        designs.append({
            "id": row.design.pk, "name": row.design.name, "team": row.design.team.name,
            "review_status": row.design.status, "review_status_label": row.design.get_status_display(),
            "source": "draft" if milestone is None else "approved_milestone", "source_label": row.source_label,
            "milestone": None if milestone is None else {
                "number": milestone["number"], "name": milestone["name"],
                "created_at": milestone["created_at"].isoformat(timespec="seconds")},
            **_summary(row.summary),
        })  # fmt: skip
    costs = [d["monthly_cost_usd"] for d in designs if d["monthly_cost_usd"] is not None]
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "teams": list(teams), "selection": selection,
        "totals": {
            "designs": len(designs),
            "from_approved_milestones": sum(d["source"] == "approved_milestone" for d in designs),
            "from_working_drafts": sum(d["source"] == "draft" for d in designs),
            "open_high_risks": sum(d["open_high_risks"] for d in designs),
            "open_medium_risks": sum(d["open_medium_risks"] for d in designs),
            "monthly_cost_usd": sum(costs) if costs else None,
            "designs_without_cost": len(designs) - len(costs),
        },
        "risks_by_section": [{"key": s.key, "title": s.title, "open_high_risks": s.high, "open_medium_risks": s.medium}
                             for s in risks_by_section(r.summary for r in rows)],
        "designs": designs,
    }  # fmt: skip
