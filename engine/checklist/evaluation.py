"""Turn a compiled checklist, a facts tree and the team's answers into findings and a score.

Outcomes of a finding:
- pass / fail: the rule (or the person, or the risk rules over the chosen choices) decided.
- not_applicable: `applies_when` is false, or reads a blank (null) fact, or a person said so.
- unanswered: a manual item without a usable answer, or an automatic rule whose `passes_when`
  needs a fact the design leaves blank (null): the team must fill it in.
- rule_error: the rule reads a fact path that does not exist, hits a type error, or does not
  return a bool. Shown to staff; never raised.
- accepted_risk: a failing item whose risk a reviewer accepted (with a rationale) and whose
  acceptance has not expired on `today`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine import vocabulary

from .conditions import Node, evaluate_condition, parse_condition
from .expressions import CompiledExpression, cel_literal, compile_expression, run
from .memo import FindingMemo, context_for, keys_for
from .model import Checklist, ChecklistError, Item, RiskRule
from .scoring import Score, verdict_for
from .validate import validate_checklist

OUTCOMES = tuple(vocabulary.OUTCOMES)
_RISK_OF = {"HIGH_RISK": "high", "MEDIUM_RISK": "medium", "NO_RISK": None}
_CREDIT_OF = {"HIGH_RISK": 0.0, "MEDIUM_RISK": 0.5, "NO_RISK": 1.0}


@dataclass(frozen=True, slots=True)
class CompiledItem:
    item: Item
    section_key: str
    applies_when: CompiledExpression | None
    passes_when: CompiledExpression | None
    risk_rules: tuple[tuple[RiskRule, Node], ...]
    reads: tuple[str, ...] = ()  # the fact paths its rules read (what the findings memo keys by)
    bound: frozenset[str] = frozenset()  # the variables its rules' macros bind


@dataclass(frozen=True, slots=True)
class CompiledChecklist:
    """A validated checklist with every expression compiled once; safe to reuse and share."""

    checklist: Checklist
    items: tuple[CompiledItem, ...]
    memo: FindingMemo = field(default_factory=FindingMemo, compare=False, repr=False)


def compile_checklist(checklist: Checklist, known_paths=None) -> CompiledChecklist:
    """Validate and compile; raise ChecklistError listing every problem (for an expression: the
    item key, the field and the compiler's message). `known_paths` (an iterable of fact paths,
    e.g. from `engine.facts.fact_reference()`) also refuses rules that read unknown facts."""
    known = frozenset(known_paths) if known_paths is not None else None
    problems = validate_checklist(checklist, known)
    if problems:
        raise ChecklistError(problems)
    items = []
    for section, item in checklist.iter_items():
        applies = compile_expression(item.applies_when) if item.applies_when else None
        passes = compile_expression(item.passes_when) if item.passes_when else None
        expressions = [e for e in (applies, passes) if e is not None]
        items.append(CompiledItem(
            item, section.key, applies, passes,
            tuple((rule, parse_condition(rule.condition)) for rule in item.risk_rules),
            reads=tuple(ref.path for e in expressions for ref in e.references),
            bound=frozenset().union(*(e.bound for e in expressions)),
        ))
    return CompiledChecklist(checklist, tuple(items))


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of how a finding was reached.

    field: 'applies_when' | 'passes_when' (CEL), 'answer', 'risk_rules[i]' or 'acceptance'.
    expression: the CEL text or risk condition ('' for answers and acceptances).
    facts: the fact paths the expression reads and their values (None = null); for risk rules
    {'selected': [choice ids]}.
    missing: fact paths it reads that are absent from the facts tree.
    result: 'true' | 'false' | 'null' | 'error', or the answer's status / 'accepted' / 'ignored'.
    """

    field: str
    expression: str
    facts: dict
    missing: tuple[str, ...]
    result: str
    message: str = ""

    @property
    def readings(self) -> list[tuple[str, str]]:
        """(fact path, value as a CEL literal) for each fact the step read, as a trace shows them."""
        return [(path, cel_literal(value)) for path, value in self.facts.items()]


@dataclass(frozen=True, slots=True)
class Finding:
    item_key: str
    section_key: str
    title: str
    mode: str
    severity: str
    weight: float
    level: str
    outcome: str  # one of OUTCOMES
    risk: str | None  # 'high' | 'medium' | 'low' when failing (open or accepted), else None
    credit: float | None  # share of the weight earned; None when not scored
    message: str  # one sentence for people; for rule errors the error
    improvement_plan: str  # what to do; empty when passing or not applicable
    trace: tuple[TraceStep, ...]
    reason: str = ""  # a person's reason for a manual answer
    selected_choices: tuple[str, ...] = ()
    acceptance: dict | None = None  # {'rationale', 'expires'} when the outcome is accepted_risk


@dataclass(frozen=True, slots=True)
class Evaluation:
    checklist_key: str
    findings: tuple[Finding, ...]
    score: Score
    counts: dict  # outcome -> number of findings
    high_risk_count: int  # open (not accepted) failures by risk
    medium_risk_count: int
    low_risk_count: int
    accepted_risk_count: int
    rule_error_count: int
    unanswered_count: int
    verdict: str  # 'ready' | 'ready_with_risks' | 'not_ready'
    verdict_reasons: tuple[str, ...]
    unused_answer_keys: tuple[str, ...]  # answers or acceptances for keys not in the checklist
    unanswered_high_count: int = 0  # unanswered items of high severity (they make it not ready)

    def finding(self, item_key: str) -> Finding:
        for finding in self.findings:
            if finding.item_key == item_key:
                return finding
        raise KeyError(item_key)

    def as_dict(self) -> dict:
        """JSON-ready plain data (tuples become lists)."""
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def evaluate(compiled: CompiledChecklist, facts: dict, answers: dict | None = None,
             acceptances: dict | None = None, *, today: dt.date | None = None) -> Evaluation:
    """Evaluate every item and score the result. Never raises for bad data in `facts` or answers.

    answers: {item_key: {"status": "pass"|"fail"|"not_applicable", "reason": str}} or, for
    multiple-choice items, {item_key: {"choices": [choice ids]}} (status not_applicable works too).
    acceptances: {item_key: {"rationale": str, "expires": "YYYY-MM-DD" | None}}.
    today: the date acceptances expire against (required when one has an expiry).
    """
    answers = answers or {}
    acceptances = acceptances or {}
    # Two passes: the memo answers the items whose facts did not change; the others run with one
    # CEL activation holding only the parts of the tree they read (converting the whole tree for
    # CEL cost more than the rules of a keystroke's assessment; benchmarks/evaluation.py).
    memo_keys = keys_for(compiled.items, facts, answers)
    known = [compiled.memo.get(key) if key is not None else None for key in memo_keys]
    misses = [i for i, finding in enumerate(known) if finding is None]
    context = None
    if misses:
        context = context_for([compiled.items[i] for i in misses], facts,
                              whole=any(memo_keys[i] is None for i in misses))
    for i in misses:
        citem = compiled.items[i]
        known[i] = _evaluate_item(citem, facts, context, answers.get(citem.item.key))
        if memo_keys[i] is not None:
            compiled.memo.put(memo_keys[i], known[i])
    findings = []
    for citem, finding in zip(compiled.items, known):
        if citem.item.key in acceptances:
            finding = _apply_acceptance(finding, acceptances[citem.item.key], today)
        findings.append(finding)

    counts = {outcome: 0 for outcome in OUTCOMES}
    for f in findings:
        counts[f.outcome] += 1
    open_risk = {"high": 0, "medium": 0, "low": 0}
    for f in findings:
        if f.outcome == "fail" and f.risk:
            open_risk[f.risk] += 1
    unanswered_high = sum(1 for f in findings if f.outcome == "unanswered" and f.severity == "high")
    score = compiled.memo.score(compiled.checklist, findings)
    verdict, reasons = verdict_for(score.overall, high=open_risk["high"], medium=open_risk["medium"],
                                   accepted=counts["accepted_risk"],
                                   unanswered=counts["unanswered"],
                                   rule_errors=counts["rule_error"], unanswered_high=unanswered_high)
    keys = {c.item.key for c in compiled.items}
    unused = tuple(sorted((set(answers) | set(acceptances)) - keys))
    return Evaluation(compiled.checklist.key, tuple(findings), score, counts, open_risk["high"],
                      open_risk["medium"], open_risk["low"], counts["accepted_risk"],
                      counts["rule_error"], counts["unanswered"], verdict, reasons, unused, unanswered_high)


def _finding(citem: CompiledItem, outcome: str, message: str, trace, *, risk=None, credit=None,
             improvement_plan=None, reason="", selected=()) -> Finding:
    item = citem.item
    if improvement_plan is None:
        improvement_plan = "" if outcome in ("pass", "not_applicable") else item.improvement_plan
    return Finding(item.key, citem.section_key, item.title, item.mode, item.severity,
                   float(item.weight), item.level, outcome, risk, credit, message,
                   improvement_plan, tuple(trace), reason, tuple(selected))


def _step(field: str, compiled: CompiledExpression, outcome) -> TraceStep:
    return TraceStep(field, compiled.text, outcome.facts, outcome.missing, outcome.status,
                     outcome.message)


RULE_IN_MESSAGE_MAX_CHARS = 120
READINGS_IN_MESSAGE_MAX = 4


def _fail_message(expression: str, facts: dict) -> str:
    """One line for a list row: the rule (shortened) and the values it read, so a failure says
    why without opening its trace."""
    rule = " ".join(expression.split())
    if len(rule) > RULE_IN_MESSAGE_MAX_CHARS:
        rule = rule[: RULE_IN_MESSAGE_MAX_CHARS - 1].rstrip() + "…"
    readings = [f"{path} = {cel_literal(value)}" for path, value in facts.items()]
    if len(readings) > READINGS_IN_MESSAGE_MAX:
        readings = readings[:READINGS_IN_MESSAGE_MAX] + ["…"]
    return f"Fails: needs {rule}" + (f"; read {', '.join(readings)}" if readings else "") + "."


def _blank(paths: tuple[str, ...]) -> str:
    return ", ".join(paths) + (" is blank" if len(paths) == 1 else " are blank")


def _evaluate_item(citem: CompiledItem, facts: dict, context, answer) -> Finding:
    item = citem.item
    trace = []
    if citem.applies_when is not None:
        result = run(citem.applies_when, facts, context)
        trace.append(_step("applies_when", citem.applies_when, result))
        if result.status == "error":
            return _finding(citem, "rule_error", f"applies_when: {result.message}", trace,
                            improvement_plan="")
        if result.status == "null":
            return _finding(citem, "not_applicable",
                            f"Not applicable while {_blank(result.nulls)}.", trace)
        if result.status == "false":
            return _finding(citem, "not_applicable", "Does not apply to this design.", trace)

    if item.mode == "automatic":
        result = run(citem.passes_when, facts, context)
        trace.append(_step("passes_when", citem.passes_when, result))
        if result.status == "true":
            return _finding(citem, "pass", "Passes.", trace, credit=1.0)
        if result.status == "false":
            return _finding(citem, "fail", _fail_message(citem.passes_when.text, result.facts), trace,
                            risk=item.severity, credit=0.0)
        if result.status == "null":
            return _finding(citem, "unanswered", f"Cannot be checked while {_blank(result.nulls)}; "
                            "fill in the design fields it depends on.", trace, credit=0.0)
        return _finding(citem, "rule_error", f"passes_when: {result.message}", trace,
                        improvement_plan="")

    return _manual(citem, answer, trace)


def _manual(citem: CompiledItem, answer, trace) -> Finding:
    item = citem.item
    if answer is None:
        return _finding(citem, "unanswered", "Not answered yet.", trace, credit=0.0,
                        improvement_plan=_choice_plans(item, set()))
    if not isinstance(answer, dict):
        return _finding(citem, "unanswered", "Answer ignored: it must be a mapping.", trace,
                        credit=0.0)
    reason = answer.get("reason") or ""
    reason = reason if isinstance(reason, str) else str(reason)
    status = answer.get("status")
    if status == "not_applicable":
        trace.append(TraceStep("answer", "", {}, (), "not_applicable", reason))
        return _finding(citem, "not_applicable",
                        "Marked not applicable" + (f": {reason}" if reason else " (no reason given)."),
                        trace, reason=reason)
    if item.is_multiple_choice:
        return _choices(citem, answer.get("choices"), reason, trace)
    if status in ("pass", "fail"):
        trace.append(TraceStep("answer", "", {}, (), status, reason))
        if status == "pass":
            return _finding(citem, "pass", "Answered: passes.", trace, credit=1.0, reason=reason)
        return _finding(citem, "fail", "Answered: fails.", trace, risk=item.severity, credit=0.0,
                        reason=reason)
    trace.append(TraceStep("answer", "", {}, (), "ignored", f"status {status!r}"))
    return _finding(citem, "unanswered",
                    "Answer ignored: status must be pass, fail or not_applicable.", trace, credit=0.0)


def _choice_plans(item: Item, selected: set[str]) -> str:
    """The item's plan, then the plans of the best practices not selected (as AWS lists them)."""
    plans = [item.improvement_plan] if item.improvement_plan else []
    for choice in item.choices:
        if choice.id not in selected and not choice.is_none_of_these and choice.improvement_plan:
            plans.append(f"{choice.title}: {choice.improvement_plan.title}")
    return "\n".join(plans)


def _choices(citem: CompiledItem, chosen, reason: str, trace) -> Finding:
    item = citem.item
    ids = {c.id for c in item.choices}
    if not isinstance(chosen, (list, tuple)) or not all(isinstance(c, str) for c in chosen):
        return _finding(citem, "unanswered", "Answer ignored: choices must be a list of choice ids.",
                        trace, credit=0.0, improvement_plan=_choice_plans(item, set()))
    unknown = sorted(set(chosen) - ids)
    if unknown:
        trace.append(TraceStep("answer", "", {"selected": list(chosen)}, (), "ignored",
                               "unknown choice " + ", ".join(unknown)))
        return _finding(citem, "unanswered",
                        "Answer ignored: unknown choice " + ", ".join(repr(u) for u in unknown) + ".",
                        trace, credit=0.0, improvement_plan=_choice_plans(item, set()))
    if not chosen:
        return _finding(citem, "unanswered", "No choice selected yet.", trace, credit=0.0,
                        improvement_plan=_choice_plans(item, set()))
    selected = set(chosen)
    none_of_these = [c.id for c in item.choices if c.is_none_of_these and c.id in selected]
    if none_of_these:  # as in the AWS tool, "None of these" clears the other choices
        selected = {none_of_these[0]}
    ordered = tuple(c.id for c in item.choices if c.id in selected)
    for r, (rule, node) in enumerate(citem.risk_rules):
        hit = evaluate_condition(node, selected)
        trace.append(TraceStep(f"risk_rules[{r}]", rule.condition, {"selected": list(ordered)}, (),
                               "true" if hit else "false", rule.risk if hit else ""))
        if hit:
            risk = _RISK_OF[rule.risk]
            plans = _choice_plans(item, selected)
            if risk is None:
                return _finding(citem, "pass", "Answered: no risk.", trace, credit=1.0,
                                reason=reason, selected=ordered)
            return _finding(citem, "fail", f"Answered: {risk} risk.", trace, risk=risk,
                            credit=_CREDIT_OF[rule.risk], improvement_plan=plans, reason=reason,
                            selected=ordered)
    # Unreachable for a validated checklist (the last rule is 'default'); stay safe anyway.
    return _finding(citem, "rule_error", "No risk rule matched.", trace, selected=ordered)


def _apply_acceptance(finding: Finding, acceptance, today: dt.date | None) -> Finding:
    def note(result: str, message: str) -> Finding:
        step = TraceStep("acceptance", "", {}, (), result, message)
        return dataclasses.replace(finding, trace=finding.trace + (step,),
                                   message=f"{finding.message} {message}".strip())

    if finding.outcome != "fail":
        step = TraceStep("acceptance", "", {}, (), "ignored",
                         f"risk acceptance not used: the item is {finding.outcome}")
        return dataclasses.replace(finding, trace=finding.trace + (step,))
    if not isinstance(acceptance, dict) or not str(acceptance.get("rationale") or "").strip():
        return note("ignored", "Risk acceptance ignored: it needs a rationale.")
    expires = acceptance.get("expires")
    if expires:
        try:
            expires_on = dt.date.fromisoformat(str(expires))
        except ValueError:
            return note("ignored", f"Risk acceptance ignored: expires {expires!r} is not a date "
                                   "YYYY-MM-DD.")
        if today is None:
            raise ValueError("evaluate() needs `today` to check when a risk acceptance expires")
        if today > expires_on:
            return note("expired", f"Risk acceptance expired on {expires_on.isoformat()}.")
    rationale = str(acceptance["rationale"]).strip()
    step = TraceStep("acceptance", "", {}, (), "accepted", rationale)
    return dataclasses.replace(
        finding, outcome="accepted_risk", trace=finding.trace + (step,),
        message=f"{finding.message} Risk accepted: {rationale}"
                + (f" (until {expires})." if expires else "."),
        acceptance={"rationale": rationale, "expires": str(expires) if expires else None},
    )
