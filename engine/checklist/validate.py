"""Whole-checklist validation: every problem at once, each with its JSON path."""

from __future__ import annotations

import dataclasses
import math
import re

from .conditions import ConditionError, choice_ids, parse_condition
from .expressions import ExpressionError, compile_expression
from .model import MODES, RISKS, SEVERITIES, STRATEGIES, Checklist, Problem

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_]{3,128}$")
KEY_RULE = "3 to 128 letters, digits or underscores"
MAX_TITLE_CHARS = 128
MAX_CHOICES = 15
MAX_RISK_RULES = 3


def _key_problem(value: object) -> str | None:
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        return f"must be {KEY_RULE}, got {value!r}"
    return None


def _title_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must not be empty"
    if len(value) > MAX_TITLE_CHARS:
        return f"must be at most {MAX_TITLE_CHARS} characters (has {len(value)})"
    return None


def _key_and_title_problems(key: object, title: object, seen: set, duplicate: str,
                            key_field: str = "key") -> list[tuple[str, str]]:
    """(field, message) for a malformed or repeated key and a bad title; adds `key` to `seen`."""
    problems = []
    if message := _key_problem(key):
        problems.append((key_field, message))
    elif key in seen:
        problems.append((key_field, f"{duplicate} {key!r}"))
    seen.add(key)
    if message := _title_problem(title):
        problems.append(("title", message))
    return problems


def _url_problem(value: str) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        return f"must start with http:// or https://, got {value!r}"
    return None


def _nul_problems(node, path: str):
    """A Problem for every text field, anywhere in the checklist, that holds a NUL character:
    PostgreSQL stores NUL neither in text columns nor in jsonb (so the save would fail)."""
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        where = f"{path}.{f.name}" if path else f.name
        if isinstance(value, str):
            if "\x00" in value:
                yield Problem(where, "must not contain a NUL character (\\u0000)")
        elif dataclasses.is_dataclass(value):
            yield from _nul_problems(value, where)
        elif isinstance(value, tuple):
            for i, element in enumerate(value):
                if dataclasses.is_dataclass(element):
                    yield from _nul_problems(element, f"{where}[{i}]")


def validate_checklist(checklist: Checklist, known_paths: frozenset[str] | None = None) -> list[Problem]:
    """Every problem of `checklist`, located by JSON path; an empty list means it is usable.

    Checks: no NUL character in any text, keys well-formed and unique (sections and items across the checklist, choices within
    an item, levels), known enums, weights > 0, titles within the AWS lens limit (128), CEL that
    compiles (and, with `known_paths`, reads only known facts), automatic items have
    `passes_when`, multiple-choice items have 1 to 3 risk rules ending in `default`, with known
    risks, each risk once, conditions that parse and name existing choices.
    """
    problems: list[Problem] = list(_nul_problems(checklist, ""))
    add = problems.append
    if message := _key_problem(checklist.key):
        add(Problem("key", message))
    if message := _title_problem(checklist.name):
        add(Problem("name", message))
    if checklist.scoring not in STRATEGIES:
        add(Problem("scoring", f"must be one of {', '.join(STRATEGIES)}, got {checklist.scoring!r}"))
    level_keys = set()
    for i, level in enumerate(checklist.levels):
        for name, message in _key_and_title_problems(level.key, level.title, level_keys, "duplicate level"):
            add(Problem(f"levels[{i}].{name}", message))
    if checklist.scoring == "levels" and not checklist.levels:
        add(Problem("levels", "the levels strategy needs at least one level"))

    section_keys: set[str] = set()
    item_keys: set[str] = set()
    for s, section in enumerate(checklist.sections):
        sp = f"sections[{s}]"
        for name, message in _key_and_title_problems(section.key, section.title, section_keys,
                                                     "duplicate section key"):
            add(Problem(f"{sp}.{name}", message))
        if isinstance(section.order, bool) or not isinstance(section.order, int):
            add(Problem(f"{sp}.order", f"must be an integer, got {section.order!r}"))
        for i, item in enumerate(section.items):
            _check_item(item, f"{sp}.items[{i}]", checklist, level_keys, item_keys, known_paths, add)
    return problems


def _check_item(item, ip, checklist, level_keys, item_keys, known_paths, add) -> None:
    key = item.key
    if message := _key_problem(key):
        add(Problem(f"{ip}.key", message, str(key)))
    elif key in item_keys:
        add(Problem(f"{ip}.key", f"duplicate item key {key!r}", key))
    item_keys.add(key)

    def bad(field: str, message: str) -> None:
        add(Problem(f"{ip}.{field}", message, str(key), field))

    if message := _title_problem(item.title):
        bad("title", message)
    if item.severity not in SEVERITIES:
        bad("severity", f"must be one of {', '.join(SEVERITIES)}, got {item.severity!r}")
    weight = item.weight
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) \
            or weight <= 0:
        bad("weight", f"must be a number greater than 0, got {weight!r}")
    if item.mode not in MODES:
        bad("mode", f"must be one of {', '.join(MODES)}, got {item.mode!r}")
    if item.level and item.level not in level_keys:
        bad("level", f"must be one of {', '.join(level_keys) or '(no levels defined)'}, got {item.level!r}")
    elif not item.level and checklist.scoring == "levels":
        bad("level", "is required by the levels strategy")

    for field in ("applies_when", "passes_when"):
        text = getattr(item, field)
        if text:
            try:
                compile_expression(text, known_paths)
            except ExpressionError as exc:
                bad(field, f"does not compile: {exc}")
    if item.mode == "automatic":
        if not item.passes_when:
            bad("passes_when", "is required for an automatic item")
        if item.choices:
            bad("choices", "an automatic item has no choices (only manual items are answered)")
    elif item.mode == "manual" and item.passes_when:
        bad("passes_when", "only automatic items have passes_when (this item is manual)")

    for r, resource in enumerate(item.resources):
        if not resource.title.strip():
            bad(f"resources[{r}].title", "must not be empty")
        if message := _url_problem(resource.url):
            bad(f"resources[{r}].url", message)

    ids: set[str] = set()
    if len(item.choices) > MAX_CHOICES:
        bad("choices", f"at most {MAX_CHOICES} choices (AWS lens limit), has {len(item.choices)}")
    for c, choice in enumerate(item.choices):
        cp = f"choices[{c}]"
        for name, message in _key_and_title_problems(choice.id, choice.title, ids, "duplicate choice id",
                                                     key_field="id"):
            bad(f"{cp}.{name}", message)
        if choice.improvement_plan is None and not choice.is_none_of_these:
            bad(f"{cp}.improvement_plan", "is required (except for a '_no' \"None of these\" choice)")
        for name in ("helpful_resource", "improvement_plan"):
            resource = getattr(choice, name)
            if resource is not None:
                if not resource.title.strip():
                    bad(f"{cp}.{name}.title", "must not be empty")
                if message := _url_problem(resource.url):
                    bad(f"{cp}.{name}.url", message)
        for name in ("additional_helpful_resources", "additional_improvement_plans"):
            resources = getattr(choice, name)
            if len(resources) > 5:
                bad(f"{cp}.{name}", f"at most 5 (AWS lens limit), has {len(resources)}")
            for r, resource in enumerate(resources):
                if not resource.title.strip():
                    bad(f"{cp}.{name}[{r}].title", "must not be empty")
                if message := _url_problem(resource.url):
                    bad(f"{cp}.{name}[{r}].url", message)

    if item.risk_rules and not item.choices:
        bad("risk_rules", "risk rules need choices to refer to")
    if item.choices:
        check_risk_rules(item.risk_rules, ids, "risk_rules", bad)


def check_risk_rules(rules, ids, prefix, bad) -> None:
    """Shared by our format and the lens reader (which passes its own `prefix`/`bad`)."""
    if not rules:
        bad(prefix, "a multiple-choice item needs risk rules, ending with a 'default' rule")
        return
    if len(rules) > MAX_RISK_RULES:
        bad(prefix, f"at most {MAX_RISK_RULES} risk rules including default, has {len(rules)}")
    seen_risks = set()
    for r, rule in enumerate(rules):
        rp = f"{prefix}[{r}]"
        if rule.risk not in RISKS:
            bad(f"{rp}.risk", f"must be one of {', '.join(RISKS)}, got {rule.risk!r}")
        elif rule.risk in seen_risks:
            bad(f"{rp}.risk", f"risk {rule.risk} is already set by an earlier rule (one rule per risk)")
        seen_risks.add(rule.risk)
        try:
            node = parse_condition(rule.condition)
        except ConditionError as exc:
            bad(f"{rp}.condition", str(exc))
            continue
        if node == ("default",) and r != len(rules) - 1:
            bad(f"{rp}.condition", "'default' must be the last rule")
        unknown = sorted(choice_ids(node) - ids)
        if unknown:
            bad(f"{rp}.condition", "refers to unknown choice " + ", ".join(repr(u) for u in unknown))
    if parse_ok(rules[-1].condition) != ("default",):
        bad(f"{prefix}[{len(rules) - 1}].condition", "the last risk rule must be 'default'")


def parse_ok(text: str):
    try:
        return parse_condition(text)
    except ConditionError:
        return None
