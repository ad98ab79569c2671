"""The checklist as plain data: frozen dataclasses that mirror the JSON format.

A checklist is built cheaply (no checks on construction) and validated as a whole by
`validate_checklist`, which reports every problem at once with its JSON path
(``sections[2].items[4].severity``). `compile_checklist` and `load_checklist` call it, so nothing
invalid is ever evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from engine import vocabulary

STRATEGIES = tuple(vocabulary.SCORING_STRATEGIES)
SEVERITIES = tuple(vocabulary.SEVERITIES)
MODES = tuple(vocabulary.MODES)
RISKS = ("HIGH_RISK", "MEDIUM_RISK", "NO_RISK")

# Weighted scoring: an item counts weight x multiplier, so one high-severity item weighs as much
# as three low ones of the same weight.
SEVERITY_MULTIPLIERS = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a checklist, a lens or an expression, located by its JSON path."""

    path: str
    message: str
    item_key: str = ""
    field: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ChecklistError(ValueError):
    """A checklist (or lens) that cannot be used; `problems` lists every reason with its path."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid checklist")


@dataclass(frozen=True, slots=True)
class Resource:
    """A link or a short text; `url` may be empty (AWS improvement plans need no URL)."""

    title: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Level:
    key: str
    title: str


DEFAULT_LEVELS = (Level("bronze", "Bronze"), Level("silver", "Silver"), Level("gold", "Gold"))


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer of a multiple-choice item (an AWS lens "best practice").

    An id ending in ``_no`` is the "None of these" choice: it needs no improvement plan.
    """

    id: str
    title: str
    helpful_resource: Resource | None = None
    improvement_plan: Resource | None = None
    additional_helpful_resources: tuple[Resource, ...] = ()
    additional_improvement_plans: tuple[Resource, ...] = ()

    @property
    def is_none_of_these(self) -> bool:
        return self.id.endswith("_no")


@dataclass(frozen=True, slots=True)
class RiskRule:
    """`condition` is a boolean expression over choice ids (``a && !b``) or ``default``."""

    condition: str
    risk: str


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist question.

    automatic: `passes_when` (CEL over the facts tree) decides pass or fail.
    manual: a person answers pass / fail / not applicable, or, when `choices` are given, picks
    choices and the ordered `risk_rules` decide the risk (first true condition wins).
    `applies_when` (CEL, optional, any mode) makes the item not applicable when false.
    """

    key: str
    title: str
    question: str = ""
    why: str = ""
    severity: str = "medium"
    weight: float = 1.0
    mode: str = "manual"
    applies_when: str = ""
    passes_when: str = ""
    level: str = ""
    improvement_plan: str = ""
    resources: tuple[Resource, ...] = ()
    choices: tuple[Choice, ...] = ()
    risk_rules: tuple[RiskRule, ...] = ()

    @property
    def is_multiple_choice(self) -> bool:
        return bool(self.choices)


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    order: int = 0
    description: str = ""
    items: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class Checklist:
    key: str
    name: str
    description: str = ""
    scoring: str = "weighted"
    levels: tuple[Level, ...] = DEFAULT_LEVELS
    sections: tuple[Section, ...] = field(default=())

    def iter_items(self) -> Iterator[tuple[Section, Item]]:
        """Every item with its section, sections in `order` (then file order)."""
        for section in self.ordered_sections():
            for item in section.items:
                yield section, item

    def ordered_sections(self) -> list[Section]:
        return sorted(self.sections, key=lambda s: s.order)

    def item(self, key: str) -> Item:
        for _, item in self.iter_items():
            if item.key == key:
                return item
        raise KeyError(key)
