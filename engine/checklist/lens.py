"""AWS Well-Architected custom lens JSON (schemaVersion "2021-11-01") to and from checklists.

Lens -> checklist: pillars become sections, questions become manual multiple-choice items (choices
and risk rules kept as they are; severity 'high' when a rule can give HIGH_RISK, else 'medium';
weight 1). Checklist -> lens: every item becomes a question. Items that are not multiple choice
(automatic ones, and manual pass/fail ones) get two choices, `practice_followed` and the
"None of these" choice `practice_no`, with risk rules "practice_followed -> NO_RISK, default ->
HIGH_RISK (high severity) or MEDIUM_RISK"; an automatic item's description ends with a note giving
its CEL rule and saying our tool evaluates it automatically.

AWS limits enforced on import and kept on export: <= 10 pillars, <= 20 questions per pillar,
<= 15 choices per question, <= 3 risk rules including `default`, ids of 3-128 letters, digits and
underscores, names and titles <= 128 characters, descriptions and display texts <= 2048.
On export a section with more than 20 items is split into pillars of 20 (`<key>_part2`,
"<title> (part 2)"); empty sections are left out; if that needs more than 10 pillars the export is
refused with a ChecklistError. Longer descriptions are cut to 2048 characters, ending in "…".
Lost on export (the lens format has no place for them): section descriptions and order numbers,
severities, weights, levels, scoring strategy, `why` (folded into the description), resources
after the first (listed in the description).
"""

from __future__ import annotations

import re
from typing import Any

from .jsonformat import parse_json
from .model import Checklist, ChecklistError, Choice, Item, Problem, Resource, RiskRule, Section
from .validate import KEY_PATTERN, KEY_RULE, check_risk_rules

SCHEMA_VERSION = "2021-11-01"
MAX_PILLARS = 10
MAX_QUESTIONS = 20
MAX_CHOICES = 15
MAX_NAME_CHARS = 128
MAX_TEXT_CHARS = 2048
MAX_ADDITIONAL = 5
RESOURCE_TYPES = ("HELPFUL_RESOURCE", "IMPROVEMENT_PLAN")
FOLLOWED, NONE_OF_THESE = "practice_followed", "practice_no"
AUTOMATIC_NOTE = "Evaluated automatically by AI Design Review"


class LensError(ChecklistError):
    """A lens that cannot be imported or a checklist that cannot be exported as a lens."""


class _Lens:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def obj(self, value: Any, path: str, required: tuple[str, ...]) -> dict | None:
        if not isinstance(value, dict):
            self.bad(path or "(document)", "must be an object")
            return None
        for key in required:
            if key not in value:
                self.bad(f"{path}.{key}" if path else key, "is required")
        return value

    def text(self, obj: dict, key: str, path: str, limit: int, required: bool = False) -> str:
        where = f"{path}.{key}" if path else key
        value = obj.get(key)
        if value is None:
            if required and key in obj:
                self.bad(where, "must be a string")
            return ""
        if not isinstance(value, str):
            self.bad(where, "must be a string")
            return ""
        if required and not value.strip():
            self.bad(where, "must not be empty")
        if "\x00" in value:  # PostgreSQL stores NUL neither in text nor in jsonb
            self.bad(where, "must not contain a NUL character (\\u0000)")
        if len(value) > limit:
            self.bad(where, f"must be at most {limit} characters (has {len(value)})")
        return value

    def ident(self, obj: dict, path: str) -> str:
        value = obj.get("id")
        if not isinstance(value, str) or not KEY_PATTERN.match(value):
            if "id" in obj:
                self.bad(f"{path}.id", f"must be {KEY_RULE}, got {value!r}")
            return ""
        return value

    def array(self, obj: dict, key: str, path: str, limit: int, what: str,
              required: bool = True) -> list:
        value = obj.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(where, "must be a list")
            return []
        if required and not value:
            self.bad(where, f"needs at least one {what}")
        if len(value) > limit:
            self.bad(where, f"at most {limit} {what}s (AWS lens limit), has {len(value)}")
        return value

    def link(self, value: Any, path: str) -> Resource | None:
        if value is None:
            return None
        obj = self.obj(value, path, ())
        if obj is None:
            return None
        text = self.text(obj, "displayText", path, MAX_TEXT_CHARS)
        url = self.text(obj, "url", path, MAX_TEXT_CHARS)
        if url and not url.startswith(("http://", "https://")):
            self.bad(f"{path}.url", f"must start with http:// or https://, got {url!r}")
        if not text.strip():
            self.bad(f"{path}.displayText", "is required" + (" when url is given" if url else ""))
        return Resource(text, url)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:128]
    return slug if len(slug) >= 3 else (slug + "_lens")[:128]


def lens_to_checklist(lens: dict | str | bytes, key: str | None = None) -> Checklist:
    """Read an AWS custom lens into a checklist of manual multiple-choice items.

    Raises LensError naming the JSON path of every problem: malformed JSON, wrong schemaVersion,
    missing or mistyped fields, over-limit counts or lengths, bad ids, unknown risk values,
    conditions that do not parse or name unknown choices, a missing improvement plan.
    """
    if isinstance(lens, (str, bytes, bytearray)):
        try:
            lens = parse_json(lens)
        except ChecklistError as exc:
            raise LensError(exc.problems) from None
    r = _Lens()
    top = r.obj(lens, "", ("schemaVersion", "name", "pillars"))
    if top is None:
        raise LensError(r.problems)
    if "schemaVersion" in top and top["schemaVersion"] != SCHEMA_VERSION:
        r.bad("schemaVersion", f"must be {SCHEMA_VERSION!r}, got {top['schemaVersion']!r}")
    name = r.text(top, "name", "", MAX_NAME_CHARS, required=True)
    description = r.text(top, "description", "", MAX_TEXT_CHARS)
    sections = []
    pillar_ids: set[str] = set()
    question_ids: set[str] = set()
    for p, pillar_value in enumerate(r.array(top, "pillars", "", MAX_PILLARS, "pillar")):
        pp = f"pillars[{p}]"
        pillar = r.obj(pillar_value, pp, ("id", "name", "questions"))
        if pillar is None:
            continue
        pillar_id = r.ident(pillar, pp)
        if pillar_id and pillar_id in pillar_ids:
            r.bad(f"{pp}.id", f"duplicate pillar id {pillar_id!r}")
        pillar_ids.add(pillar_id)
        items = []
        for q, question_value in enumerate(r.array(pillar, "questions", pp, MAX_QUESTIONS, "question")):
            item = _question(r, question_value, f"{pp}.questions[{q}]", question_ids)
            if item is not None:
                items.append(item)
        sections.append(Section(pillar_id, r.text(pillar, "name", pp, MAX_NAME_CHARS, required=True),
                                p, "", tuple(items)))
    if r.problems:
        raise LensError(r.problems)
    return Checklist(key or _slug(name), name, description, "weighted", sections=tuple(sections))


def _question(r: _Lens, value: Any, qp: str, question_ids: set[str]) -> Item | None:
    question = r.obj(value, qp, ("id", "title", "choices", "riskRules"))
    if question is None:
        return None
    qid = r.ident(question, qp)
    if qid and qid in question_ids:
        r.bad(f"{qp}.id", f"duplicate question id {qid!r}")
    question_ids.add(qid)
    title = r.text(question, "title", qp, MAX_NAME_CHARS, required=True)
    description = r.text(question, "description", qp, MAX_TEXT_CHARS)
    helpful = r.link(question.get("helpfulResource"), f"{qp}.helpfulResource")
    choices = []
    choice_ids: set[str] = set()
    for c, choice_value in enumerate(r.array(question, "choices", qp, MAX_CHOICES, "choice")):
        cp = f"{qp}.choices[{c}]"
        choice = r.obj(choice_value, cp, ("id", "title"))
        if choice is None:
            continue
        cid = r.ident(choice, cp)
        if cid and cid in choice_ids:
            r.bad(f"{cp}.id", f"duplicate choice id {cid!r}")
        choice_ids.add(cid)
        plan = r.link(choice.get("improvementPlan"), f"{cp}.improvementPlan")
        if plan is None and cid and not cid.endswith("_no"):
            r.bad(f"{cp}.improvementPlan", "is required (except for a '_no' \"None of these\" choice)")
        more_help, more_plans = [], []
        for a, extra in enumerate(r.array(choice, "additionalResources", cp, 2, "resource group",
                                          required=False)):
            ap = f"{cp}.additionalResources[{a}]"
            group = r.obj(extra, ap, ("type", "content"))
            if group is None:
                continue
            kind = group.get("type")
            if kind not in RESOURCE_TYPES:
                r.bad(f"{ap}.type", f"must be one of {', '.join(RESOURCE_TYPES)}, got {kind!r}")
            target = more_help if kind == "HELPFUL_RESOURCE" else more_plans
            for k, content in enumerate(r.array(group, "content", ap, MAX_ADDITIONAL, "resource")):
                resource = r.link(content, f"{ap}.content[{k}]")
                if resource is not None:
                    target.append(resource)
        for label, extra in (("helpful resources", more_help), ("improvement plans", more_plans)):
            if len(extra) > MAX_ADDITIONAL:
                r.bad(f"{cp}.additionalResources", f"at most {MAX_ADDITIONAL} additional {label}")
        choices.append(Choice(cid, r.text(choice, "title", cp, MAX_NAME_CHARS, required=True),
                              r.link(choice.get("helpfulResource"), f"{cp}.helpfulResource"),
                              plan, tuple(more_help), tuple(more_plans)))
    rules = []
    for k, rule_value in enumerate(r.array(question, "riskRules", qp, 3, "risk rule")):
        rp = f"{qp}.riskRules[{k}]"
        rule = r.obj(rule_value, rp, ("condition", "risk"))
        if rule is None:
            continue
        condition, risk = rule.get("condition"), rule.get("risk")
        if not isinstance(condition, str):
            if "condition" in rule:
                r.bad(f"{rp}.condition", "must be a string")
            condition = ""
        rules.append(RiskRule(condition, risk if isinstance(risk, str) else repr(risk)))
    if rules and len(rules) <= 3:
        check_risk_rules(rules, choice_ids, f"{qp}.riskRules",
                          lambda path, message: r.bad(path, message))
    severity = "high" if any(rule.risk == "HIGH_RISK" for rule in rules) else "medium"
    return Item(qid, title, question=description, severity=severity, mode="manual",
                resources=(helpful,) if helpful else (), choices=tuple(choices),
                risk_rules=tuple(rules))


# --- export ---------------------------------------------------------------------------------

def _cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(resource: Resource) -> dict:
    out = {"displayText": _cut(resource.title)}
    if resource.url:
        out["url"] = resource.url
    return out


def _description(item: Item) -> str:
    parts = [item.question] if item.question else []
    if item.why:
        parts.append(f"Why it matters: {item.why}")
    if len(item.resources) > 1:
        parts.append("More: " + "; ".join(
            f"{r.title} ({r.url})" if r.url else r.title for r in item.resources[1:]))
    if item.mode != "automatic" and item.applies_when:
        parts.append(f"Applies only when `{item.applies_when}` (checked by AI Design Review).")
    if item.mode == "automatic":
        rule = f"passes when `{item.passes_when}`"
        if item.applies_when:
            rule += f", applies when `{item.applies_when}`"
        parts.append(f"{AUTOMATIC_NOTE} from the design's facts ({rule}); answer with the "
                     "tool's finding.")
    return _cut("\n\n".join(parts))


def _export_choice(choice: Choice) -> dict:
    out: dict = {"id": choice.id, "title": choice.title}
    if choice.helpful_resource is not None:
        out["helpfulResource"] = _link(choice.helpful_resource)
    if choice.improvement_plan is not None:
        out["improvementPlan"] = _link(choice.improvement_plan)
    extra = []
    for kind, resources in (("HELPFUL_RESOURCE", choice.additional_helpful_resources),
                            ("IMPROVEMENT_PLAN", choice.additional_improvement_plans)):
        if resources:
            extra.append({"type": kind, "content": [_link(r) for r in resources]})
    if extra:
        out["additionalResources"] = extra
    return out


def _export_question(item: Item) -> dict:
    question: dict = {"id": item.key, "title": item.title}
    description = _description(item)
    if description:
        question["description"] = description
    if item.resources:
        question["helpfulResource"] = _link(item.resources[0])
    if item.is_multiple_choice:
        question["choices"] = [_export_choice(c) for c in item.choices]
        question["riskRules"] = [{"condition": r.condition, "risk": r.risk} for r in item.risk_rules]
    else:
        plan = item.improvement_plan or f"Put this in place: {item.title}"
        question["choices"] = [
            {"id": FOLLOWED, "title": _cut(f"Yes: {item.title}", MAX_NAME_CHARS),
             "improvementPlan": {"displayText": _cut(plan)}},
            {"id": NONE_OF_THESE, "title": "None of these"},
        ]
        question["riskRules"] = [
            {"condition": FOLLOWED, "risk": "NO_RISK"},
            {"condition": "default", "risk": "HIGH_RISK" if item.severity == "high" else "MEDIUM_RISK"},
        ]
    return question


def checklist_to_lens(checklist: Checklist) -> dict:
    """The checklist as an AWS custom lens dict within AWS's limits (see the module docstring)."""
    pillars = []
    used = {s.key for s in checklist.sections}
    for section in checklist.ordered_sections():
        items = list(section.items)
        for part, start in enumerate(range(0, len(items), MAX_QUESTIONS)):
            pillar_id, name = section.key, section.title
            if part:
                pillar_id = f"{section.key[:118]}_part{part + 1}"
                while pillar_id in used:
                    pillar_id = ("x" + pillar_id)[:128]
                used.add(pillar_id)
                name = _cut(f"{section.title} (part {part + 1})", MAX_NAME_CHARS)
            pillars.append({"id": pillar_id, "name": name,
                            "questions": [_export_question(i) for i in items[start:start + MAX_QUESTIONS]]})
    if len(pillars) > MAX_PILLARS:
        raise LensError([Problem("sections", f"needs {len(pillars)} lens pillars (a section per "
                                 f"pillar, {MAX_QUESTIONS} questions each); AWS allows {MAX_PILLARS}")])
    lens = {"schemaVersion": SCHEMA_VERSION, "name": checklist.name}
    if checklist.description:
        lens["description"] = _cut(checklist.description)
    lens["pillars"] = pillars
    return lens
