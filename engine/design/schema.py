"""The shape of a design field and of its visibility conditions.

A field is defined once, as a `Field`, and every screen, rule, report and import reads that
definition. Everything here is plain data so that a web form, a JSON API or a docs generator can
use it without knowing Python types: `Field.to_dict()` gives a JSON-ready description.

Field kinds (`Field.kind`):

    int          whole number, optional unit, min/max
    float        number, optional unit, min/max
    bool         yes / no
    choice       one value out of `choices`
    multichoice  a set of values out of `choices`, kept in the order of `choices`
    ordered      an ordered list of distinct values out of `choices` (order matters: a fallback chain)
    text         free text, at most `max_length` characters
    text_list    a list of free-text items (a form may send them comma- or newline-separated)

Visibility (`Field.shown_when`) is `None` (always shown) or a condition, as plain data:

    {"field": "architecture.batching_mode", "in": ["dynamic"]}      value is one of the list
    {"field": "requirements.workload_timing", "not_in": ["batch"]}  value is blank or not in the list
    {"field": "architecture.caches", "contains": "result"}          a multichoice/list holds it
    {"all": [condition, ...]}                                       every condition holds
    {"any": [condition, ...]}                                       at least one holds

A condition that refers to a field that is itself hidden is false, so hiding cascades (a hidden
field counts as blank, so `not_in` holds for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

KINDS = ("int", "float", "bool", "choice", "multichoice", "ordered", "text", "text_list")
GROUPS = ("requirements", "architecture")
CHOICE_KINDS = ("choice", "multichoice", "ordered")
LIST_KINDS = ("multichoice", "ordered", "text_list")
CONDITION_OPERATORS = ("in", "not_in", "contains")


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str
    help: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"value": self.value, "label": self.label, "help": self.help}


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a design.

    `key` is the dotted fact path (`group.name`). `default` is what a new form starts with and
    what the planning calculators assume while the field is blank (they say so in a warning);
    `None` means no assumption is made. `min`/`max` are inclusive bounds for numbers and list
    lengths are bounded by `max_items`.
    """

    key: str
    label: str
    kind: str
    section: str
    help: str = ""
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[Choice, ...] = ()
    default: Any = None
    shown_when: Mapping[str, Any] | None = None
    max_length: int = 2000
    max_items: int = 50
    placeholder: str = ""

    def __post_init__(self) -> None:
        group, _, name = self.key.partition(".")
        if group not in GROUPS or not name or "." in name:
            raise ValueError(f"field key must be 'requirements.<name>' or 'architecture.<name>': {self.key!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.key}: unknown kind {self.kind!r}")
        if self.kind in CHOICE_KINDS and not self.choices:
            raise ValueError(f"{self.key}: a {self.kind} field needs choices")
        if self.kind not in CHOICE_KINDS and self.choices:
            raise ValueError(f"{self.key}: only choice kinds take choices")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.key}: min > max")

    @property
    def group(self) -> str:
        return self.key.partition(".")[0]

    @property
    def name(self) -> str:
        return self.key.partition(".")[2]

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return value

    @property
    def value_type(self) -> str:
        """The CEL type a rule sees for this field (null when blank)."""
        return {
            "int": "int",
            "float": "double",
            "bool": "bool",
            "choice": "string",
            "text": "string",
            "multichoice": "list(string)",
            "ordered": "list(string)",
            "text_list": "list(string)",
        }[self.kind]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the field (for forms, APIs and docs)."""
        return {
            "key": self.key,
            "group": self.group,
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "type": self.value_type,
            "section": self.section,
            "help": self.help,
            "unit": self.unit,
            "min": self.min,
            "max": self.max,
            "choices": [c.to_dict() for c in self.choices],
            "default": list(self.default) if isinstance(self.default, tuple) else self.default,
            "shown_when": _plain(self.shown_when),
            "max_length": self.max_length,
            "max_items": self.max_items,
            "placeholder": self.placeholder,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    label: str
    help: str
    group: str
    fields: tuple[Field, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "help": self.help,
            "group": self.group,
            "fields": [f.key for f in self.fields],
        }


def condition_fields(condition: Mapping[str, Any] | None) -> list[str]:
    """Every field key a condition reads (so a form knows what to watch)."""
    if not condition:
        return []
    if "all" in condition or "any" in condition:
        keys: list[str] = []
        for sub in condition.get("all", condition.get("any", ())):
            keys.extend(condition_fields(sub))
        return keys
    return [condition["field"]]


def check_condition(condition: Mapping[str, Any]) -> None:
    """Raise ValueError if a condition is not in the documented shape."""
    if "all" in condition or "any" in condition:
        subs = condition.get("all", condition.get("any"))
        if not isinstance(subs, (list, tuple)) or not subs:
            raise ValueError(f"'all'/'any' needs a non-empty list: {condition!r}")
        for sub in subs:
            check_condition(sub)
        return
    if "field" not in condition or sum(op in condition for op in CONDITION_OPERATORS) != 1:
        raise ValueError(f"condition needs 'field' and exactly one of 'in'/'not_in'/'contains': {condition!r}")
