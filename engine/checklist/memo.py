"""Reusing findings across evaluations: what `evaluate` keys an item's finding by, and the CEL
activation for the items it must run again.

An item's finding is a pure function of its own rules (fixed once compiled), the values of the
fact paths those rules read (`CompiledItem.reads`, from `CompiledExpression.references`: every
identifier a rule starts from, so a rule cannot read a fact that is not in the key) and the team's
answer. So an assessment whose facts differ from an earlier one in a few places (a keystroke in
the design form) runs only the rules that read those places. Acceptances are applied after the memo.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .expressions import MISSING, lookup, make_context
from .scoring import Score, score_findings

if TYPE_CHECKING:
    from .evaluation import CompiledItem, Finding
    from .model import Checklist


class FindingMemo:
    """Findings already reached, by item and by the values of the facts its rules read; scores by
    the findings' outcomes. Bounded: cleared when full (the working set is a few assessments of a
    few designs; 4,096 findings of the default checklist take about 5 MB)."""

    __slots__ = ("findings", "scores", "limit", "hits", "misses")

    def __init__(self, limit: int = 4096):
        self.findings: dict = {}
        # The score, by every finding's (outcome, credit): all else it reads is the item's own.
        self.scores: dict = {}
        self.limit = limit
        self.hits = self.misses = 0

    def get(self, key):
        finding = self.findings.get(key)
        if finding is None:
            self.misses += 1
        else:
            self.hits += 1
        return finding

    def put(self, key, finding) -> None:
        if len(self.findings) >= self.limit:
            self.findings.clear()
        self.findings[key] = finding

    def score(self, checklist: Checklist, findings: list[Finding]) -> Score:
        key = tuple((f.outcome, f.credit) for f in findings)
        score = self.scores.get(key)
        if score is None:
            if len(self.scores) >= 64:  # a score holds a line per item: keep few (few differ)
                self.scores.clear()
            score = self.scores[key] = score_findings(checklist, findings)
        return score


_SCALARS = (str, float, int, bool, type(None))
_UNKEYABLE = object()


def keys_for(items: tuple[CompiledItem, ...], facts: dict, answers: dict) -> list[tuple | None]:
    """For each item, what its finding is a function of, hashable: its position, the values of
    the paths its rules read and its answer; None when that cannot be keyed (then it is run)."""
    parts: dict[str, Any] = {}  # a path's key part, read once per evaluation
    by_reads: dict[tuple[str, ...], tuple | None] = {}  # items often read the same paths
    keys: list[tuple | None] = []
    for index, citem in enumerate(items):
        if citem.bound and not citem.bound.isdisjoint(facts):
            keys.append(None)  # a macro variable named like a top-level fact hides a read of it
            continue
        values = by_reads.get(citem.reads, _UNKEYABLE)
        if values is _UNKEYABLE:
            values = []
            for path in citem.reads:
                part = parts.get(path)
                if part is None:
                    part = parts[path] = _key_part(lookup(facts, path))
                if part is _UNKEYABLE:
                    values = None
                    break
                values.append(part)
            values = by_reads[citem.reads] = None if values is None else tuple(values)
        answer = answers.get(citem.item.key)
        if values is None:
            keys.append(None)
        elif answer is None:
            keys.append((index, values, None))
        else:
            try:
                keys.append((index, values, json.dumps(answer, sort_keys=True)))
            except (TypeError, ValueError):
                keys.append(None)
    return keys


def _key_part(value):
    if value is MISSING:
        return MISSING
    if type(value) in _SCALARS:
        return (type(value), value)  # the type too: 1 == 1.0 == True in Python; a trace shows each as read
    try:
        return json.dumps(value, sort_keys=True, allow_nan=True)
    except (TypeError, ValueError):
        return _UNKEYABLE


def context_for(items: list[CompiledItem], facts: dict, *, whole: bool) -> Any:
    """One CEL activation for these items holding only what their rules read: each path a rule
    reads (a map it reads whole, a value it steps into, or the parents of a key it finds absent,
    so that a rule sees exactly what the whole tree would show it). The whole tree when one of
    them could not be keyed (a macro variable hides a read). Converting the demo's whole facts
    tree for CEL cost ~0.8 ms; the paths a keystroke's changed rules read, ~0.05 ms."""
    if whole or not isinstance(facts, dict):
        return make_context(facts)
    return make_context(only(facts, {path for citem in items for path in citem.reads}))


def only(facts: dict, paths) -> dict:
    """The part of `facts` that `paths` reach, sharing the values it copies (never changing them)."""
    out: dict = {}
    taken: set[str] = set()  # paths copied whole: nothing below them needs copying again
    for path in sorted(paths, key=len):
        parts = path.split(".")
        if any(".".join(parts[:i]) in taken for i in range(1, len(parts))):
            continue
        source, target = facts, out
        for i, part in enumerate(parts):
            if not isinstance(source, dict) or part not in source:
                break  # absent: the parents are there, as in the whole tree
            value = source[part]
            if i == len(parts) - 1 or not isinstance(value, dict):
                target[part] = value
                taken.add(".".join(parts[:i + 1]))
                break
            target = target.setdefault(part, {})
            source = value
    return out
