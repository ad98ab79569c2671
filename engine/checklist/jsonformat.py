"""Our checklist JSON format (`format: "ai-design-review/checklist"`, `format_version: 1`).

`dump_checklist` writes every field, always in the same order, so export -> import -> export gives
the same document. `load_checklist` refuses unknown keys (a typo such as "severty" is an error,
not a silently ignored field) and reports every problem with its JSON path.
"""

from __future__ import annotations

import pathlib
from typing import Any

from ..jsontext import JsonTextError, read_json
from .model import (
    Checklist,
    ChecklistError,
    Choice,
    Item,
    Level,
    Problem,
    Resource,
    RiskRule,
    Section,
)
from .validate import validate_checklist

FORMAT = "ai-design-review/checklist"
FORMAT_VERSION = 1
DEFAULT_CHECKLIST_PATH = pathlib.Path(__file__).parents[1] / "data" / "default_checklist.json"


class _Reader:
    """Type-checked field access that records problems with their JSON path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def obj(self, value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...]):
        if not isinstance(value, dict):
            self.bad(path or "(document)", f"must be an object, got {_kind(value)}")
            return None
        for key in value:
            if key not in required and key not in optional:
                self.bad(_join(path, key), "unknown field (allowed: "
                         + ", ".join(required + optional) + ")")
        for key in required:
            if key not in value:
                self.bad(_join(path, key), "is required")
        return value

    def string(self, obj: dict, key: str, path: str, default: str = "") -> str:
        value = obj.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            self.bad(_join(path, key), f"must be a string, got {_kind(value)}")
            return default
        return value

    def number(self, obj: dict, key: str, path: str, default: float) -> float:
        value = obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.bad(_join(path, key), f"must be a number, got {_kind(value)}")
            return default
        return float(value)

    def integer(self, obj: dict, key: str, path: str, default: int) -> int:
        value = obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(_join(path, key), f"must be an integer, got {_kind(value)}")
            return default
        return value

    def array(self, obj: dict, key: str, path: str) -> list:
        value = obj.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(_join(path, key), f"must be a list, got {_kind(value)}")
            return []
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _resource(r: _Reader, value: Any, path: str) -> Resource | None:
    obj = r.obj(value, path, ("title",), ("url",))
    if obj is None:
        return None
    return Resource(r.string(obj, "title", path), r.string(obj, "url", path))


def _resources(r: _Reader, obj: dict, key: str, path: str) -> tuple[Resource, ...]:
    out = []
    for i, value in enumerate(r.array(obj, key, path)):
        resource = _resource(r, value, f"{_join(path, key)}[{i}]")
        if resource is not None:
            out.append(resource)
    return tuple(out)


_ITEM_FIELDS = ("question", "why", "severity", "weight", "mode", "applies_when", "passes_when",
                "level", "improvement_plan", "resources", "choices", "risk_rules")
_CHOICE_FIELDS = ("helpful_resource", "improvement_plan", "additional_helpful_resources",
                  "additional_improvement_plans")


def _choice(r: _Reader, value: Any, path: str) -> Choice | None:
    obj = r.obj(value, path, ("id", "title"), _CHOICE_FIELDS)
    if obj is None:
        return None
    single = {}
    for key in ("helpful_resource", "improvement_plan"):
        single[key] = None if obj.get(key) is None else _resource(r, obj[key], _join(path, key))
    return Choice(r.string(obj, "id", path), r.string(obj, "title", path),
                  single["helpful_resource"], single["improvement_plan"],
                  _resources(r, obj, "additional_helpful_resources", path),
                  _resources(r, obj, "additional_improvement_plans", path))


def _item(r: _Reader, value: Any, path: str) -> Item | None:
    obj = r.obj(value, path, ("key", "title"), _ITEM_FIELDS)
    if obj is None:
        return None
    choices = []
    for i, c in enumerate(r.array(obj, "choices", path)):
        choice = _choice(r, c, f"{path}.choices[{i}]")
        if choice is not None:
            choices.append(choice)
    rules = []
    for i, value in enumerate(r.array(obj, "risk_rules", path)):
        rp = f"{path}.risk_rules[{i}]"
        rule = r.obj(value, rp, ("condition", "risk"), ())
        if rule is not None:
            rules.append(RiskRule(r.string(rule, "condition", rp), r.string(rule, "risk", rp)))
    return Item(
        key=r.string(obj, "key", path), title=r.string(obj, "title", path),
        question=r.string(obj, "question", path), why=r.string(obj, "why", path),
        severity=r.string(obj, "severity", path, "medium"),
        weight=r.number(obj, "weight", path, 1.0), mode=r.string(obj, "mode", path, "manual"),
        applies_when=r.string(obj, "applies_when", path),
        passes_when=r.string(obj, "passes_when", path), level=r.string(obj, "level", path),
        improvement_plan=r.string(obj, "improvement_plan", path),
        resources=_resources(r, obj, "resources", path), choices=tuple(choices),
        risk_rules=tuple(rules),
    )


def parse_json(text: str | bytes) -> Any:
    """JSON text through the engine's bounded reader (engine.jsontext): malformed JSON, nesting
    too deep and NUL characters become a ChecklistError with the line and column or JSON path."""
    try:
        return read_json(text)
    except JsonTextError as exc:
        raise ChecklistError([Problem(exc.path or "(document)", exc.message)]) from None


def load_checklist(data: dict | str | bytes, known_paths=None) -> Checklist:
    """Read our JSON format (a parsed dict, or JSON text) into a validated Checklist.

    Raises ChecklistError with every problem and its JSON path (structure first; when the
    structure is sound, also keys, enums, weights, expressions, risk rules and choices).
    """
    if isinstance(data, (str, bytes, bytearray)):
        data = parse_json(data)
    r = _Reader()
    top = r.obj(data, "", ("format", "format_version", "key", "name", "sections"),
                ("description", "scoring", "levels"))
    if top is None:
        raise ChecklistError(r.problems)
    if "format" in top and top["format"] != FORMAT:
        r.bad("format", f"must be {FORMAT!r}, got {top['format']!r}")
    if "format_version" in top and top["format_version"] != FORMAT_VERSION:
        r.bad("format_version", f"must be {FORMAT_VERSION}, got {top['format_version']!r}")
    levels = []
    for i, value in enumerate(r.array(top, "levels", "")):
        lp = f"levels[{i}]"
        level = r.obj(value, lp, ("key", "title"), ())
        if level is not None:
            levels.append(Level(r.string(level, "key", lp), r.string(level, "title", lp)))
    sections = []
    for s, value in enumerate(r.array(top, "sections", "")):
        sp = f"sections[{s}]"
        obj = r.obj(value, sp, ("key", "title"), ("order", "description", "items"))
        if obj is None:
            continue
        items = []
        for i, item_value in enumerate(r.array(obj, "items", sp)):
            item = _item(r, item_value, f"{sp}.items[{i}]")
            if item is not None:
                items.append(item)
        sections.append(Section(r.string(obj, "key", sp), r.string(obj, "title", sp),
                                r.integer(obj, "order", sp, s),
                                r.string(obj, "description", sp), tuple(items)))
    kwargs = {"levels": tuple(levels)} if "levels" in top else {}
    checklist = Checklist(key=r.string(top, "key", ""), name=r.string(top, "name", ""),
                          description=r.string(top, "description", ""),
                          scoring=r.string(top, "scoring", "", "weighted"),
                          sections=tuple(sections), **kwargs)
    if r.problems:
        raise ChecklistError(r.problems)
    problems = validate_checklist(checklist, frozenset(known_paths) if known_paths else None)
    if problems:
        raise ChecklistError(problems)
    return checklist


def _dump_resource(resource: Resource | None) -> dict | None:
    return None if resource is None else {"title": resource.title, "url": resource.url}


def dump_checklist(checklist: Checklist) -> dict:
    """The checklist as a JSON-ready dict in our format, every field present."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "key": checklist.key,
        "name": checklist.name,
        "description": checklist.description,
        "scoring": checklist.scoring,
        "levels": [{"key": lv.key, "title": lv.title} for lv in checklist.levels],
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "order": section.order,
                "description": section.description,
                "items": [_dump_item(item) for item in section.items],
            }
            for section in checklist.sections
        ],
    }


def _dump_item(item: Item) -> dict:
    return {
        "key": item.key,
        "title": item.title,
        "question": item.question,
        "why": item.why,
        "severity": item.severity,
        "weight": float(item.weight),
        "mode": item.mode,
        "applies_when": item.applies_when,
        "passes_when": item.passes_when,
        "level": item.level,
        "improvement_plan": item.improvement_plan,
        "resources": [_dump_resource(r) for r in item.resources],
        "choices": [
            {
                "id": c.id,
                "title": c.title,
                "helpful_resource": _dump_resource(c.helpful_resource),
                "improvement_plan": _dump_resource(c.improvement_plan),
                "additional_helpful_resources": [_dump_resource(r) for r in c.additional_helpful_resources],
                "additional_improvement_plans": [_dump_resource(r) for r in c.additional_improvement_plans],
            }
            for c in item.choices
        ],
        "risk_rules": [{"condition": rule.condition, "risk": rule.risk} for rule in item.risk_rules],
    }


def default_checklist() -> Checklist:
    """The shipped default checklist (engine/data/default_checklist.json)."""
    return load_checklist(DEFAULT_CHECKLIST_PATH.read_text(encoding="utf-8"))
