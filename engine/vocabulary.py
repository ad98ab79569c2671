"""The engine's vocabularies, each defined once with its labels: the values the engine computes
with and the words a person reads. Django builds its model and form `choices=` from these
(`reviewapp.core.choices.text_choices`), and a test checks that the database choices are
exactly these, so a new value is one edit here.
"""

from __future__ import annotations

# Checklist scoring strategies (engine.checklist.scoring).
SCORING_STRATEGIES = {
    "weighted": "Weighted",
    "minimum": "Minimum over sections",
    "levels": "Levels (bronze, silver, gold)",
}
# Item severities, most severe first (engine.checklist.model).
SEVERITIES = {"high": "High", "medium": "Medium", "low": "Low"}
# How an item is decided.
MODES = {
    "automatic": "Automatic (a rule over the facts)",
    "manual": "Manual (a person answers)",
}
# A finding's outcome (engine.checklist.evaluation), with the word the findings list shows.
OUTCOMES = {
    "pass": "Passes",
    "fail": "Fails",
    "not_applicable": "Not applicable",
    "unanswered": "Unanswered",
    "rule_error": "Rule error",
    "accepted_risk": "Risk accepted",
}
# What a person may answer to a manual item.
ANSWER_STATUSES = {"pass": "Pass", "fail": "Fail", "not_applicable": "Not applicable"}
# The readiness verdict (engine.checklist.scoring.verdict_for).
VERDICTS = {"ready": "Ready", "ready_with_risks": "Ready with risks", "not_ready": "Not ready"}
# GPU pricing plans (engine.planning.cost); "mixed" blends reserved, spot and on-demand.
PRICING_PLANS = {
    "on_demand": "On-demand",
    "spot": "Spot",
    "reserved_1y": "Reserved, 1 year",
    "reserved_3y": "Reserved, 3 years",
    "mixed": "Mixed (reserved + spot + on-demand)",
}
# How the serving layer batches requests (architecture.batching_mode).
BATCHING_MODES = {
    "none": "None (one request per forward pass)",
    "dynamic": "Dynamic (wait up to a delay to fill a batch)",
    "continuous": "Continuous / in-flight (LLM servers)",
    "static": "Static batches",
}


def pairs(vocabulary: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """(value, label) pairs in the vocabulary's order."""
    return tuple(vocabulary.items())
