"""AWS-lens risk-rule conditions: boolean expressions over choice ids, parsed by hand.

Grammar (precedence ! over && over ||)::

    condition := "default" | or
    or        := and ("||" and)*
    and       := not ("&&" not)*
    not       := "!" not | "(" or ")" | CHOICE_ID

A parsed condition is a small tuple tree, evaluated against the set of selected choice ids.
No Python eval, no CEL: the grammar is all the lens format allows.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(?:(&&|\|\||!|\(|\))|([A-Za-z0-9_]+)|(\S))")

MAX_CONDITION_CHARS = 2000

Node = tuple  # ("id", name) | ("not", node) | ("and", a, b) | ("or", a, b) | ("default",)


class ConditionError(ValueError):
    pass


def _tokenize(text: str) -> list[str]:
    tokens = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing spaces remain
            break
        if match.group(3):
            raise ConditionError(f"unexpected character {match.group(3)!r} at position {match.start(3) + 1}")
        tokens.append(match.group(1) or match.group(2))
        pos = match.end()
    return tokens


def parse_condition(text: str) -> Node:
    """Parse a condition or raise ConditionError saying what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("condition is empty")
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionError(f"condition is longer than {MAX_CONDITION_CHARS} characters")
    if text.strip() == "default":
        return ("default",)
    tokens = _tokenize(text)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def parse_or() -> Node:
        node = parse_and()
        while peek() == "||":
            take()
            node = ("or", node, parse_and())
        return node

    def parse_and() -> Node:
        node = parse_not()
        while peek() == "&&":
            take()
            node = ("and", node, parse_not())
        return node

    def parse_not() -> Node:
        token = peek()
        if token is None:
            raise ConditionError("condition ends too early")
        if token == "!":
            take()
            return ("not", parse_not())
        if token == "(":
            take()
            node = parse_or()
            if peek() != ")":
                raise ConditionError("missing ')'")
            take()
            return node
        if token in ("&&", "||", ")"):
            raise ConditionError(f"unexpected {token!r}")
        if token == "default":
            raise ConditionError("'default' must be the whole condition")
        take()
        return ("id", token)

    try:
        node = parse_or()
    except RecursionError:
        raise ConditionError("condition is nested too deeply") from None
    if pos != len(tokens):
        raise ConditionError(f"unexpected {tokens[pos]!r} after a complete condition")
    return node


def choice_ids(node: Node) -> set[str]:
    """The choice ids a parsed condition mentions."""
    if node[0] == "id":
        return {node[1]}
    if node[0] == "default":
        return set()
    return set().union(*(choice_ids(child) for child in node[1:]))


def evaluate_condition(node: Node, selected: set[str] | frozenset[str]) -> bool:
    kind = node[0]
    if kind == "default":
        return True
    if kind == "id":
        return node[1] in selected
    if kind == "not":
        return not evaluate_condition(node[1], selected)
    if kind == "and":
        return evaluate_condition(node[1], selected) and evaluate_condition(node[2], selected)
    return evaluate_condition(node[1], selected) or evaluate_condition(node[2], selected)
