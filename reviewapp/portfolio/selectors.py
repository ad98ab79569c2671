"""What the team dashboard and the consolidated report read: every design of the user's teams with
its assessment summed up, in a number of queries that does not grow with the number of designs.

Where the numbers come from (a decision, see the commit "portfolio: ..."): each row is the design's
own assessment, the one `design_assessment` computes for its page, read with everything it needs
fetched once for all designs (the designs with their reviews, the answers and acceptances, the
measured runs, the default and newest checklist versions: 6 to 8 queries for any number of
designs). Not a stored copy: a stored summary would need a write on every save, answer,
acceptance, benchmark run, checklist publication and price change (and a GET never writes), and
would still go stale with time (acceptances expire). The engine's part is memoised per process by
the digest of its inputs (designs/selectors.py), and a row's summary with it, so a dashboard
viewed again runs no engine. Milestone snapshots are read only where the record is the point: the
consolidated report (an approved design is reported as approved) and the trends.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform

from engine import vocabulary
from engine.facts import cannot_run
from reviewapp.accounts.models import Membership, Team
from reviewapp.benchmarks.models import BenchmarkRun
from reviewapp.benchmarks.selectors import in_force_of, runs_in_force_order
from reviewapp.checklists.models import Answer, ChecklistVersion, DesignReview, RiskAcceptance
from reviewapp.checklists.services import default_checklist, newest_published
from reviewapp.designs.catalog import gpu_catalog
from reviewapp.designs.models import Design
from reviewapp.designs.selectors import DesignAssessment, Memo, design_assessment, digest, with_assessment
from reviewapp.reviews.models import Decision, Milestone

RISKS = ("high", "medium")


@dataclass(frozen=True, slots=True)
class SectionRisks:
    key: str
    title: str
    high: int = 0
    medium: int = 0

    @property
    def total(self) -> int:
        return self.high + self.medium


@dataclass(frozen=True, slots=True)
class Summary:
    """An assessment summed up for one row: what the dashboard and the consolidated report show."""

    score: float | None
    verdict: str | None  # "ready" | "ready_with_risks" | "not_ready"; None while no checklist is published
    high_risks: int
    medium_risks: int
    sections: tuple[SectionRisks, ...]  # open high and medium risks by checklist section
    estimated_qps_per_replica: float | None
    measured_qps_per_replica: float | None
    replicas: int | None
    monthly_cost_usd: float | None  # the plan the design chose
    cannot_run: str | None  # why the design cannot run as designed (no capacity or cost then)

    @property
    def verdict_label(self) -> str:
        return vocabulary.VERDICTS.get(self.verdict, "No checklist") if self.verdict else "No checklist"


def _get(tree: Mapping[str, Any] | None, path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def summary_of(evaluation: Mapping[str, Any] | None, facts: Mapping[str, Any],
               sections: Iterable[tuple[str, str]]) -> Summary:
    """The summary of an evaluation (as `Evaluation.as_dict()` or a snapshot holds it: only
    `score.overall`, `verdict`, the risk counts and each finding's section, outcome and risk are
    read) and a facts tree; `sections`: the checklist's (key, title) in order."""
    titles = dict(sections)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"high": 0, "medium": 0})
    for finding in (evaluation or {}).get("findings") or ():
        if finding.get("outcome") == "fail" and finding.get("risk") in RISKS:
            counts[finding.get("section_key") or ""][finding["risk"]] += 1
    order = list(titles) + sorted(k for k in counts if k not in titles)
    by_section = tuple(SectionRisks(key=k, title=titles.get(k) or k or "(no section)", **counts[k])
                       for k in order if k in counts)
    measured = _get(facts, "capacity.per_replica_qps") if _get(facts, "capacity.per_replica_qps_source") == "measured" \
        else None
    return Summary(
        score=_get(evaluation, "score.overall"), verdict=(evaluation or {}).get("verdict"),
        high_risks=(evaluation or {}).get("high_risk_count") or 0,
        medium_risks=(evaluation or {}).get("medium_risk_count") or 0, sections=by_section,
        estimated_qps_per_replica=_get(facts, "capacity.estimate.per_replica_qps"), measured_qps_per_replica=measured,
        replicas=_get(facts, "capacity.replicas"), monthly_cost_usd=_get(facts, "cost.monthly_usd.selected"),
        cannot_run=cannot_run(facts) or None,
    )  # fmt: skip


def _evaluation_plain(assessment: DesignAssessment) -> dict[str, Any] | None:
    """What `summary_of` reads of a live evaluation, without `as_dict()` copying every trace."""
    evaluation = assessment.evaluation
    if evaluation is None:
        return None
    return {"score": {"overall": evaluation.score.overall}, "verdict": evaluation.verdict,
            "high_risk_count": evaluation.high_risk_count, "medium_risk_count": evaluation.medium_risk_count,
            "findings": [{"section_key": f.section_key, "outcome": f.outcome, "risk": f.risk}
                         for f in evaluation.findings]}


_summaries = Memo(1024)  # by the assessment's digest: a pure function of what the engine read


def assessment_summary(assessment: DesignAssessment) -> Summary:
    summary = _summaries.get(assessment.key)
    if summary is None:
        summary = summary_of(_evaluation_plain(assessment), assessment.facts.tree, assessment.sections)
        _summaries.put(assessment.key, summary)
    return summary


@dataclass(frozen=True, slots=True)
class Row:
    design: Design
    summary: Summary
    extra: dict = field(default_factory=dict)  # for columns other apps add (see portfolio/_row_extra.html)

    @property
    def changed_since_approval(self) -> bool:
        return self.design.status == Design.Status.CHANGED_SINCE_APPROVAL


def team_designs(user, *, team_id: int | None = None, status: str = "", text: str = "") -> QuerySet:
    """The user's designs (team membership in the query), narrowed by team, review status and a
    text in the name or description, with what their assessments read joined or prefetched."""
    designs = _selected(user, team_id=team_id, status=status, text=text).select_related("team")
    return with_assessment(designs).prefetch_related("review__answers", "review__acceptances")


def _selected(user, *, team_id: int | None, status: str, text: str) -> QuerySet:
    designs = Design.objects.for_user(user)
    if team_id:
        designs = designs.filter(team_id=team_id)
    if status:
        designs = designs.filter(status=status)
    if text:
        designs = designs.filter(Q(name__icontains=text) | Q(description__icontains=text))
    return designs


def assessments(designs: Sequence[Design], *, today: dt.date | None = None) -> list[DesignAssessment]:
    """Each design's assessment, as its page computes it, from reads made once for all designs."""
    catalog = gpu_catalog()
    unpinned = any(getattr(d, "review", None) is None for d in designs)
    default_version = newest_published(default_checklist()) if unpinned else None
    measured = [d.pk for d in designs if d.has_measured_runs]
    runs: dict[int, list[BenchmarkRun]] = defaultdict(list)
    if measured:
        query = BenchmarkRun.objects.filter(design_id__in=measured, status=BenchmarkRun.Status.SUCCEEDED,
                                            measurements__isnull=False)
        for run in runs_in_force_order(query):
            runs[run.design_id].append(run)
    behind = {d.review.version.checklist_id for d in designs
              if getattr(d, "review", None) is not None and (d.review_newest_number or 0) > d.review.version.number}
    newest: dict[int, ChecklistVersion] = {}
    if behind:
        for version in (ChecklistVersion.objects.published().select_related("checklist")
                        .filter(checklist_id__in=behind).order_by("checklist_id", "-number")):
            newest.setdefault(version.checklist_id, version)
    return [design_assessment(d, catalog=catalog, today=today, default_version=default_version,
                              in_force=in_force_of(runs.get(d.pk, []), d.inputs), newest_versions=newest)
            for d in designs]


# --- what the rows show depends on: the stamp the rendered rows are cached under -----------------

LAYOUT_VERSION = 1  # raise when what a row shows changes: cached results render anew


def _stamps(user, *, team_id: int | None, status: str) -> list[tuple]:
    """Per design of the user's teams (of `team_id`, in `status`), everything its row and its
    assessment read, as small values: the design's own (name, team, status, revision: every save
    bumps it), its pin, and for its answers, accepted risks and measured runs their number and
    newest change. One query, as SQL written here: the ORM took longer to compile it than the
    database to answer it, on the page's fast path."""
    t = {model: f'"{model._meta.db_table}"' for model in (Design, Team, Membership, DesignReview, ChecklistVersion,
                                                          Answer, RiskAcceptance, BenchmarkRun)}

    def of_review(model, aggregate: str) -> str:
        return f'(SELECT {aggregate} FROM {t[model]} a WHERE a."review_id" = r."id")'

    def of_runs(aggregate: str) -> str:
        return (f'(SELECT {aggregate} FROM {t[BenchmarkRun]} b WHERE b."design_id" = d."id" AND b."status" = %s '
                f'AND b."measurements" IS NOT NULL)')

    where, params = ['m."user_id" = %s'], [BenchmarkRun.Status.SUCCEEDED.value] * 3 + [user.pk]
    if team_id:
        where.append('d."team_id" = %s')
        params.append(team_id)
    if status:
        where.append('d."status" = %s')
        params.append(status)
    sql = (f'SELECT d."id", d."name", t."name", d."status", d."revision", d."updated_at", r."version_id", v."status", '
           f'{of_review(Answer, "COUNT(*)")}, {of_review(Answer, "MAX(a.updated_at)")}, '
           f'{of_review(RiskAcceptance, "COUNT(*)")}, {of_review(RiskAcceptance, "MAX(a.accepted_at)")}, '
           f'{of_runs("COUNT(*)")}, {of_runs("MAX(b.finished_at)")}, {of_runs("MAX(b.pinned_at)")} '
           f'FROM {t[Design]} d JOIN {t[Team]} t ON t."id" = d."team_id" '
           f'JOIN {t[Membership]} m ON m."team_id" = d."team_id" '
           f'LEFT JOIN {t[DesignReview]} r ON r."design_id" = d."id" '
           f'LEFT JOIN {t[ChecklistVersion]} v ON v."id" = r."version_id" '
           f'WHERE {" AND ".join(where)} ORDER BY d."id"')
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def dashboard_stamp(user, *, team_id: int | None = None, status: str = "", text: str = "",
                    today: dt.date | None = None) -> str | None:
    """A digest of everything the rows of `dashboard_rows(user, ...)` show, read in a few small
    queries (no design document, no engine): equal stamps, equal rows. None when the rows must
    not be cached (a design scored with a draft checklist version, which can still change)."""
    rows = _stamps(user, team_id=team_id, status=status)
    if text:  # the ORM's own text filter, so that the stamp covers exactly the rows' designs
        matching = set(_selected(user, team_id=team_id, status=status, text=text).values_list("pk", flat=True))
        rows = [r for r in rows if r[0] in matching]
    if any(r[7] == ChecklistVersion.Status.DRAFT for r in rows):
        return None
    # Each checklist's newest published version, and which is the default (what unpinned designs
    # are scored with), in one query.
    newest = sorted(ChecklistVersion.objects.published().values_list("checklist_id", "checklist__is_default")
                    .annotate(Max("number")))
    return digest(LAYOUT_VERSION, rows, newest, digest(gpu_catalog()), today or dt.date.today())


SORTS = {
    "name": lambda r: (r.design.name.lower(), r.design.pk),
    "team": lambda r: (r.design.team.name.lower(), r.design.name.lower()),
    "score": lambda r: (r.summary.score is None, r.summary.score or 0.0),
    "risks": lambda r: (r.summary.high_risks, r.summary.medium_risks),
    "status": lambda r: (r.design.status, r.design.name.lower()),
    "cost": lambda r: (r.summary.monthly_cost_usd is None, r.summary.monthly_cost_usd or 0.0),
    "updated": lambda r: r.design.updated_at,
}


def dashboard_rows(user, *, team_id: int | None = None, status: str = "", text: str = "", verdict: str = "",
                   sort: str = "name", descending: bool = False) -> list[Row]:
    """The dashboard's rows, filtered and sorted (the verdict is the assessment's, so it is
    filtered here rather than in SQL)."""
    designs = list(team_designs(user, team_id=team_id, status=status, text=text))
    rows = [Row(design=a.design, summary=assessment_summary(a)) for a in assessments(designs)]
    if verdict:
        rows = [r for r in rows if (r.summary.verdict or "none") == verdict]
    key = SORTS[sort]
    if sort in ("score", "cost"):  # unknown values last either way
        known = sorted((r for r in rows if key(r)[0] is False), key=key, reverse=descending)
        return known + [r for r in rows if key(r)[0] is True]
    return sorted(rows, key=key, reverse=descending)


def risks_by_section(summaries: Iterable[Summary]) -> list[SectionRisks]:
    """Open high and medium risks per checklist section over all `summaries`, most risks first."""
    totals: dict[str, list] = {}
    for summary in summaries:
        for s in summary.sections:
            entry = totals.setdefault(s.key, [s.title, 0, 0])
            entry[1] += s.high
            entry[2] += s.medium
    out = [SectionRisks(key=k, title=t, high=h, medium=m) for k, (t, h, m) in totals.items()]
    return sorted(out, key=lambda s: (-s.high, -s.total, s.title))


# --- the consolidated report: approved milestones, else the working draft --------------------------

# The parts of a snapshot a summary reads: the database extracts them, so the rest (inputs, fact
# metadata, every item's text, rule traces of the facts) never leaves it.
def _part(*path: str) -> KeyTransform:
    node: Any = "snapshot"
    for key in path:
        node = KeyTransform(key, node)
    return node


SNAPSHOT_PARTS = {"evaluation": ("evaluation",), "facts_capacity": ("facts", "capacity"),
                  "facts_cost": ("facts", "cost"), "sections": ("sections",)}


@dataclass(frozen=True, slots=True)
class ReportRow:
    design: Design
    summary: Summary
    milestone: dict | None  # {"number", "name", "created_at"} of the approved milestone reported; None: draft

    @property
    def source_label(self) -> str:
        if self.milestone is None:
            return "Working draft (not approved)"
        return f"Approved milestone M{self.milestone['number']}: {self.milestone['name']}"


def approved_milestones(design_ids: Sequence[int]) -> dict[int, dict]:
    """Each design's latest approved milestone (the one its newest approval froze): its fields
    and the parts of its snapshot a summary reads, by design id. Two queries."""
    latest = (Decision.objects.filter(design=OuterRef("design"), outcome=Decision.Outcome.APPROVED)
              .order_by("-created_at", "-id").values("milestone_id")[:1])
    ids = (Decision.objects.filter(design_id__in=design_ids, outcome=Decision.Outcome.APPROVED)
           .annotate(latest=Subquery(latest)).values_list("latest", flat=True).distinct())
    parts = {name: _part(*path) for name, path in SNAPSHOT_PARTS.items()}
    rows = Milestone.objects.filter(pk__in=list(ids)).values("design_id", "number", "name", "created_at", **parts)
    return {row["design_id"]: row for row in rows}


def report_rows(rows: Sequence[Row]) -> list[ReportRow]:
    """The consolidated report's rows: a design whose review status rests on an approval
    (approved, or changed since) is reported from that approved milestone, the rest from the
    working draft (the dashboard's own summary), labelled so."""
    approved = {Design.Status.APPROVED, Design.Status.CHANGED_SINCE_APPROVAL}
    milestones = approved_milestones([r.design.pk for r in rows if r.design.status in approved])
    out = []
    for row in rows:
        m = milestones.get(row.design.pk)
        if m is None:
            out.append(ReportRow(design=row.design, summary=row.summary, milestone=None))
            continue
        facts = {"capacity": m["facts_capacity"] or {}, "cost": m["facts_cost"] or {}}
        sections = [(s.get("key"), s.get("title")) for s in m["sections"] or []]
        out.append(ReportRow(design=row.design, summary=summary_of(m["evaluation"], facts, sections),
                             milestone={"number": m["number"], "name": m["name"], "created_at": m["created_at"]}))
    return out
