"""The one call that says what a design means: facts, then findings and scores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.checklist import CompiledChecklist, Evaluation, evaluate
from engine.design import ValidationResult
from engine.facts import Facts, build_facts


@dataclass(frozen=True, slots=True)
class Assessment:
    facts: Facts
    evaluation: Evaluation | None  # None when no checklist was given


def assess(
    inputs: dict,
    checklist: CompiledChecklist | None = None,
    measurements: dict | None = None,
    *,
    answers: dict | None = None,
    acceptances: dict | None = None,
    gpu_catalog: dict | None = None,
    today: dt.date | None = None,
    validated: ValidationResult | None = None,
) -> Assessment:
    """Facts (inputs + derived numbers) and, with a compiled checklist, its evaluation.

    Never raises for bad inputs: invalid fields become facts.validation errors and
    null facts, and a rule that cannot be evaluated becomes a rule_error finding. `validated`:
    see `build_facts`.
    """
    facts = build_facts(inputs, measurements=measurements, gpu_catalog=gpu_catalog, validated=validated)
    evaluation = None
    if checklist is not None:
        evaluation = evaluate(checklist, facts.tree, answers, acceptances, today=today)
    return Assessment(facts=facts, evaluation=evaluation)
