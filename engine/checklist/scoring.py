"""Scores, risk counts and the readiness verdict, from a list of findings.

Credit per finding (the share of the item's weight it earns): pass 1; fail 0; a multiple-choice
item at MEDIUM_RISK 0.5; unanswered 0; an accepted risk keeps the credit of the failure it
accepts. not_applicable and rule_error findings are not scored: the first does not concern the
design, the second is a broken rule that staff must fix, not the design's fault.

Strategies (all scores 0-100):
- weighted: sum(weight x severity multiplier x credit) / sum(weight x multiplier) over scored
  findings; multipliers high 3, medium 2, low 1. Nothing scored -> 100.
- minimum: each section scored as above; the overall score is the lowest section score (as in
  Google's ML Test Score, a system is only as ready as its weakest area).
- levels: a level is reached when every item of that level and of the levels below passes or is
  not applicable; overall = 100 x levels reached / number of levels.

Verdict: 'not_ready' with any open high-risk issue, any unanswered high-severity item (a high
risk nobody has looked at is not a caveat: the review has not checked what matters most) or an
overall score below 50;
'ready_with_risks' with open medium-risk issues, accepted risks, unanswered items, rule errors or
a score below 80; otherwise 'ready'. Low-risk issues alone do not block 'ready'.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import SEVERITY_MULTIPLIERS, Checklist

NOT_READY_BELOW = 50.0
READY_AT = 80.0
VERDICTS = ("ready", "ready_with_risks", "not_ready")


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One item's effect on the score. `points_lost` is toward its section's score;
    `overall_points_lost` toward the overall score (weighted: its share of the whole checklist;
    minimum: the same as points_lost when its section is the minimum, else 0; levels: 0, see
    `blocks_level`). `credit` None means not scored (see `reason`)."""

    item_key: str
    section_key: str
    outcome: str
    effective_weight: float
    credit: float | None
    points_lost: float
    overall_points_lost: float
    blocks_level: str
    reason: str


@dataclass(frozen=True, slots=True)
class SectionScore:
    key: str
    title: str
    score: float | None  # None when nothing in the section is scored
    earned_weight: float
    possible_weight: float
    item_count: int
    scored_count: int


@dataclass(frozen=True, slots=True)
class LevelProgress:
    key: str
    title: str
    reached: bool
    passed: int  # items of this level that pass or are not applicable
    total: int
    blocking: tuple[str, ...]  # item keys of this level that keep it from being reached


@dataclass(frozen=True, slots=True)
class Score:
    strategy: str
    overall: float
    sections: tuple[SectionScore, ...]
    lines: tuple[ScoreLine, ...]  # items that lost points or are not scored, biggest loss first
    levels: tuple[LevelProgress, ...]  # filled for the levels strategy
    level_reached: str  # key of the highest level reached ('' when none or not levels)
    explanation: tuple[str, ...]


def effective_weight(finding) -> float:
    return float(finding.weight) * SEVERITY_MULTIPLIERS.get(finding.severity, 1)


def _reason(finding) -> str:
    if finding.outcome == "unanswered" and finding.mode == "automatic":
        return "not checked yet: a fact it needs is blank"
    return {
        "fail": "fails",
        "unanswered": "not answered yet",
        "accepted_risk": "risk accepted, still not met",
        "rule_error": "not scored: the rule could not be evaluated",
        "not_applicable": "not applicable",
        "pass": "passes",
    }.get(finding.outcome, finding.outcome) + (" (medium risk, half credit)"
                                              if finding.credit == 0.5 else "")


def score_findings(checklist: Checklist, findings) -> Score:
    by_section: dict[str, list] = {}
    for finding in findings:
        by_section.setdefault(finding.section_key, []).append(finding)
    total_possible = sum(effective_weight(f) for f in findings if f.credit is not None)
    total_earned = sum(effective_weight(f) * f.credit for f in findings if f.credit is not None)

    sections = []
    section_possible: dict[str, float] = {}
    for section in checklist.ordered_sections():
        fs = by_section.get(section.key, [])
        scored = [f for f in fs if f.credit is not None]
        possible = sum(effective_weight(f) for f in scored)
        earned = sum(effective_weight(f) * f.credit for f in scored)
        sections.append(SectionScore(section.key, section.title,
                                     100.0 * earned / possible if possible else None,
                                     earned, possible, len(fs), len(scored)))
        section_possible[section.key] = possible

    strategy = checklist.scoring
    explanation: list[str] = []
    levels: list[LevelProgress] = []
    level_reached = ""
    minimum_key = ""
    if strategy == "minimum":
        scored_sections = [s for s in sections if s.score is not None]
        if scored_sections:
            weakest = min(scored_sections, key=lambda s: s.score)
            minimum_key = weakest.key
            overall = weakest.score
            explanation.append(f"Minimum over sections: '{weakest.title}' is the weakest at "
                               f"{weakest.score:.1f}.")
        else:
            overall = 100.0
            explanation.append("No section has a scored item, so nothing lowers the score.")
    elif strategy == "levels":
        overall, levels, level_reached = _levels(checklist, findings)
        reached = [lv for lv in levels if lv.reached]
        explanation.append(f"{len(reached)} of {len(levels)} levels reached"
                           + (f" (highest: {level_reached})." if level_reached else "."))
        for lv in levels:
            if not lv.reached and lv.blocking:
                explanation.append(f"Level '{lv.title}' is blocked by {', '.join(lv.blocking)}.")
                break
    else:
        overall = 100.0 * total_earned / total_possible if total_possible else 100.0
        if total_possible:
            explanation.append(f"Weighted: {total_earned:g} of {total_possible:g} weight points "
                               f"earned (weight x severity multiplier high 3, medium 2, low 1).")
        else:
            explanation.append("Nothing applicable is scored yet, so nothing lowers the score.")

    blocks = {key: lv.key for lv in reversed(levels) for key in lv.blocking}
    lines = []
    for f in findings:
        ew = effective_weight(f)
        if f.credit is not None and f.credit >= 1.0:
            continue
        if f.outcome == "not_applicable":
            continue
        possible = section_possible.get(f.section_key, 0.0)
        lost = ew * (1.0 - f.credit) if f.credit is not None else 0.0
        points = 100.0 * lost / possible if possible else 0.0
        if strategy == "weighted":
            overall_points = 100.0 * lost / total_possible if total_possible else 0.0
        elif strategy == "minimum":
            overall_points = points if f.section_key == minimum_key else 0.0
        else:
            overall_points = 0.0
        lines.append(ScoreLine(f.item_key, f.section_key, f.outcome, ew, f.credit, points,
                               overall_points, blocks.get(f.item_key, ""), _reason(f)))
    lines.sort(key=lambda line: (-line.overall_points_lost, -line.points_lost))
    return Score(strategy, overall, tuple(sections), tuple(lines), tuple(levels), level_reached,
                 tuple(explanation))


def _levels(checklist: Checklist, findings):
    by_level: dict[str, list] = {lv.key: [] for lv in checklist.levels}
    for f in findings:
        if f.level in by_level:
            by_level[f.level].append(f)
    progress = []
    reached_so_far = True
    reached_count = 0
    level_reached = ""
    for level in checklist.levels:
        fs = by_level[level.key]
        blocking = tuple(f.item_key for f in fs if f.outcome not in ("pass", "not_applicable"))
        reached_so_far = reached_so_far and not blocking
        if reached_so_far:
            reached_count += 1
            level_reached = level.key
        progress.append(LevelProgress(level.key, level.title, reached_so_far,
                                      len(fs) - len(blocking), len(fs), blocking))
    overall = 100.0 * reached_count / len(checklist.levels) if checklist.levels else 100.0
    return overall, progress, level_reached


def verdict_for(overall: float, *, high: int, medium: int, accepted: int, unanswered: int,
                rule_errors: int, unanswered_high: int = 0) -> tuple[str, tuple[str, ...]]:
    """The readiness verdict and the reasons for it (thresholds in the module docstring).
    `unanswered` counts every unanswered item, `unanswered_high` those of high severity."""
    blocking = []
    if high:
        blocking.append(f"{high} open high-risk issue{'s' if high != 1 else ''}")
    if unanswered_high:
        blocking.append(f"{unanswered_high} high-severity item{'s' if unanswered_high != 1 else ''} not answered")
    if overall < NOT_READY_BELOW:
        blocking.append(f"score {overall:.1f} is below {NOT_READY_BELOW:g}")
    if blocking:
        return "not_ready", tuple(blocking)
    caveats = []
    if medium:
        caveats.append(f"{medium} open medium-risk issue{'s' if medium != 1 else ''}")
    if accepted:
        caveats.append(f"{accepted} accepted risk{'s' if accepted != 1 else ''}")
    if unanswered:
        caveats.append(f"{unanswered} item{'s' if unanswered != 1 else ''} not answered")
    if rule_errors:
        caveats.append(f"{rule_errors} rule{'s' if rule_errors != 1 else ''} could not be evaluated")
    if overall < READY_AT:
        caveats.append(f"score {overall:.1f} is below {READY_AT:g}")
    if caveats:
        return "ready_with_risks", tuple(caveats)
    return "ready", (f"no open high- or medium-risk issues and score {overall:.1f}",)
