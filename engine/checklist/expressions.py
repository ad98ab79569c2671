"""CEL expressions over the facts tree: compile once, find the fact paths they read, evaluate safely.

The CEL library is `common-expression-language` (import name `cel`, Rust-backed); see
docs/checklist-format.md for why. Nothing here uses Python `eval`.

Facts are a nested plain dict. Before evaluation every number becomes a CEL double (as CEL's own
JSON mapping does), so a rule behaves the same whether a value arrived as 200 or 200.0:
`requirements.latency_p99_ms <= 200` always works; arithmetic needs double literals (`* 1.1`,
`* 2.0`) or `int()` / `double()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel

MAX_EXPRESSION_CHARS = 4000

# What the library supports, probed against common-expression-language 0.10: the CEL standard
# definitions, without the string/math extensions. Checked at compile time so a typo like
# `lowerAscii()` is refused in the admin instead of failing on every design.
FUNCTIONS = frozenset({"size", "int", "uint", "double", "string", "bytes", "type", "dyn", "has",
                       "timestamp", "duration"})
METHODS = frozenset({"size", "contains", "startsWith", "endsWith", "matches",
                     "getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate",
                     "getDayOfWeek", "getHours", "getMinutes", "getSeconds", "getMilliseconds"})
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
CONSTANTS = frozenset({"true", "false", "null", "in", "int", "uint", "double", "string", "bytes",
                       "bool", "list", "map", "null_type", "type", "dyn"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>[rRbB]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Reference:
    """A fact path an expression reads; `in_has` when it is the argument of has()."""

    path: str
    in_has: bool = False


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind != "space":
            out.append((kind, match.group()))
    return out


def _string_value(literal: str) -> str | None:
    body = literal.lstrip("rRbB")
    quote = body[:3] if body[:3] in ("'''", '"""') else body[:1]
    inner = body[len(quote):-len(quote)]
    return None if "\\" in inner else inner


def _bound_names(toks: list[tuple[str, str]]) -> set[str]:
    bound = set()
    for i in range(len(toks) - 3):
        if toks[i] == ("op", ".") and toks[i + 1][1] in MACROS and toks[i + 2] == ("op", "(") \
                and toks[i + 3][0] == "ident":
            bound.add(toks[i + 3][1])
    return bound


def analyse(text: str) -> tuple[tuple[Reference, ...], tuple[str, ...]]:
    """The fact paths `text` reads and the names of functions it calls that the library lacks.

    A path is a chain `a.b.c` (or `a["b"]`) starting at an identifier that is not a constant,
    not a function and not a variable bound by a macro (`x` in `list.all(x, x > 0)`).
    """
    toks = _tokens(text)
    bound = _bound_names(toks)
    refs: list[Reference] = []
    unknown: list[str] = []
    seen = set()
    i = 0
    while i < len(toks):
        kind, value = toks[i]
        prev = toks[i - 1] if i else ("", "")
        nxt = toks[i + 1] if i + 1 < len(toks) else ("", "")
        if kind != "ident":
            i += 1
            continue
        if prev == ("op", "."):  # a member or a method of something that is not a plain path
            if nxt == ("op", "(") and value not in METHODS | MACROS:
                unknown.append(value)
            i += 1
            continue
        if nxt == ("op", "("):
            if value not in FUNCTIONS:
                unknown.append(value)
            i += 1
            continue
        if value in CONSTANTS or value in bound:
            i += 1
            continue
        in_has = i >= 2 and toks[i - 1] == ("op", "(") and toks[i - 2] == ("ident", "has")
        parts = [value]
        j = i + 1
        while j < len(toks):
            if toks[j] == ("op", ".") and j + 1 < len(toks) and toks[j + 1][0] == "ident":
                if j + 2 < len(toks) and toks[j + 2] == ("op", "("):
                    break  # a method call ends the path
                parts.append(toks[j + 1][1])
                j += 2
            elif (toks[j] == ("op", "[") and j + 2 < len(toks) and toks[j + 1][0] == "string"
                  and toks[j + 2] == ("op", "]") and _string_value(toks[j + 1][1]) is not None):
                parts.append(_string_value(toks[j + 1][1]))
                j += 3
            else:
                break
        path = ".".join(parts)
        if (path, in_has) not in seen:
            seen.add((path, in_has))
            refs.append(Reference(path, in_has))
        i = j
    return tuple(refs), tuple(dict.fromkeys(unknown))


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    text: str
    program: Any
    references: tuple[Reference, ...]
    # Variables its macros bind (`x` in `list.all(x, x > 0)`): a fact of the same name at the top
    # of the tree would be read where `references` cannot see it (see evaluation's memo).
    bound: frozenset[str] = frozenset()

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.path for r in self.references))


class ExpressionError(ValueError):
    """An expression that does not compile; the message is the compiler's (or ours)."""


def _path_is_known(path: str, known: frozenset[str]) -> bool:
    if path in known:
        return True
    # A prefix of a known path is a map (`cost.monthly_usd`); below a known path is a key of a
    # map-valued fact (`capacity.by_tier.gpu`), which only the data can confirm.
    return any(k.startswith(path + ".") or path.startswith(k + ".") for k in known)


def _clean_compiler_message(text: str, message: str) -> str:
    """`Failed to parse expression '<text>': ERROR: <input>:1:6: ...` -> `1:6: ...` (+ caret)."""
    message = message.removeprefix("Failed to parse expression ").removeprefix(repr(text))
    message = message.removeprefix(f"'{text}'").lstrip(": ")
    return message.replace("ERROR: <input>:", "at ").strip()


@lru_cache(maxsize=4096)
def _compile_cached(text: str) -> CompiledExpression:
    try:
        program = cel.compile(text)
    except Exception as exc:  # the library raises ValueError with line:column and a caret
        raise ExpressionError(_clean_compiler_message(text, str(exc))) from None
    refs, unknown = analyse(text)
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        raise ExpressionError(
            f"unknown function {names}; available: {', '.join(sorted(FUNCTIONS))}, methods "
            f"{', '.join(sorted(METHODS - {m for m in METHODS if m.startswith('get')}))}, "
            f"macros {', '.join(sorted(MACROS))}"
        )
    return CompiledExpression(text, program, refs, frozenset(_bound_names(_tokens(text))))


def compile_expression(text: str, known_paths: frozenset[str] | None = None) -> CompiledExpression:
    """Compile one CEL expression or raise ExpressionError with a message for the admin.

    With `known_paths` (from the fact reference) a path that is not a fact is refused too.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    compiled = _compile_cached(text)
    if known_paths is not None:
        unknown = [r.path for r in compiled.references if not _path_is_known(r.path, known_paths)]
        if unknown:
            raise ExpressionError("unknown fact " + ", ".join(f"'{p}'" for p in unknown))
    return compiled


# --- evaluation -----------------------------------------------------------------------------

MISSING = object()


def lookup(tree: Any, path: str) -> Any:
    """The value at a dotted path, None when a step is null, MISSING when a key is absent."""
    node = tree
    for part in path.split("."):
        if node is None:
            return None
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def cel_ready(value: Any) -> Any:
    """A copy of a facts tree with every int a float (CEL doubles); bools stay bools; anything
    that is not plain JSON-like data becomes its string, so building the activation never fails."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {str(k): cel_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [cel_ready(v) for v in value]
    return str(value)


def cel_literal(value: Any) -> str:
    """A fact value as CEL writes it (`true`, `null`, `'text'`, `[1, 2]`), for traces people read
    next to CEL rules: Python's `True`, `None` or `['a']` would be a different language."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(cel_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{cel_literal(str(k))}: {cel_literal(v)}" for k, v in value.items()) + "}"
    return cel_literal(str(value))


def make_context(tree: dict) -> Any:
    """One CEL activation for a facts tree, reused by every expression of an evaluation."""
    return cel.Context(variables=cel_ready(tree))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one expression did: `status` is 'true', 'false', 'null' (it read a blank fact and
    could not decide) or 'error' (missing fact, wrong type, not a bool)."""

    status: str
    facts: dict
    missing: tuple[str, ...]
    message: str = ""
    nulls: tuple[str, ...] = ()  # the blank facts that made the status 'null'


def _cel_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "double"
    return {str: "string", list: "list", dict: "map"}.get(type(value), type(value).__name__)


def run(compiled: CompiledExpression, tree: dict, context: Any) -> Outcome:
    """Evaluate a compiled boolean expression; never raises for data problems."""
    facts: dict = {}
    missing: list[str] = []
    nulls: list[str] = []
    for ref in compiled.references:
        value = lookup(tree, ref.path)
        if value is MISSING:
            if ref.path not in missing:
                missing.append(ref.path)
            if not ref.in_has:
                facts.setdefault(ref.path, None)
            continue
        facts[ref.path] = value
        if value is None and not ref.in_has:
            nulls.append(ref.path)
    for path in missing:
        facts.pop(path, None)
    try:
        result = compiled.program.execute(context)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a Rust panic is a BaseException; never crash
        unguarded = [r.path for r in compiled.references if r.path in missing and not r.in_has]
        if unguarded:
            return Outcome("error", facts, tuple(missing),
                           "unknown fact " + ", ".join(f"'{p}'" for p in unguarded)
                           + " (not in the facts tree; see the fact reference)")
        if nulls:
            return Outcome("null", facts, tuple(missing),
                           ", ".join(nulls) + (" is" if len(nulls) == 1 else " are")
                           + " blank (null), so the rule cannot decide", tuple(nulls))
        return Outcome("error", facts, tuple(missing), f"{type(exc).__name__}: {exc}")
    if not isinstance(result, bool):
        return Outcome("error", facts, tuple(missing),
                       f"must evaluate to true or false, got {_cel_type(result)} {result!r}")
    return Outcome("true" if result else "false", facts, tuple(missing))
