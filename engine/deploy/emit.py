"""A small YAML emitter for the subset the manifests use, with a comment on any value.

PyYAML cannot write comments, so the manifests are built as plain data in which any value may be
wrapped in `Sourced(value, comment)`. `plain()` unwraps the tree (what `yaml.safe_load` of the
text must give back); `emit()` writes block-style YAML with the comment after the value (or
after the key, for a mapping or a list). Scalars are written by PyYAML itself (in flow style, one
at a time), so quoting follows YAML's rules exactly: a string that looks like a number, a bool or
null stays a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class Sourced:
    """A value and where it came from (a design field, a fact, or an assumption)."""

    value: Any
    comment: str

    def __post_init__(self) -> None:
        if not self.comment.isprintable():
            raise ValueError("a comment is one line of printable text")


def plain(node: Any) -> Any:
    """The tree without its comments: dicts, lists and scalars only."""
    if isinstance(node, Sourced):
        return plain(node.value)
    if isinstance(node, dict):
        return {key: plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(value) for value in node]
    return node


def scalar(value: Any) -> str:
    """One scalar (or an empty mapping or list) as YAML flow text that reads back as itself."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        text = yaml.safe_dump([value], default_flow_style=True, width=1 << 30, allow_unicode=True)
        text = text.strip()[1:-1]
        if isinstance(value, str) and ("\n" in text or not value.isprintable()):
            return _double_quoted(value)  # a line break or control character: one escaped line instead
        return text
    if value == {} or value == []:
        return "{}" if isinstance(value, dict) else "[]"
    raise TypeError(f"not a YAML scalar: {value!r}")


def _double_quoted(text: str) -> str:
    """A YAML double-quoted scalar on one line: printable ASCII as is, everything else escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _comment(text: str) -> str:
    return f"  # {text}" if text else ""


def _unwrap(node: Any) -> tuple[Any, str]:
    comment = ""
    while isinstance(node, Sourced):
        comment = comment or node.comment
        node = node.value
    return node, comment


def _is_block(value: Any) -> bool:
    return isinstance(value, (dict, list)) and len(value) > 0


def _mapping(node: dict, indent: int, out: list[str], first_prefix: str | None = None) -> None:
    pad = " " * indent
    for index, (key, raw) in enumerate(node.items()):
        if not isinstance(key, str):
            raise TypeError(f"mapping keys are strings: {key!r}")
        value, comment = _unwrap(raw)
        lead = first_prefix if (index == 0 and first_prefix is not None) else pad
        if _is_block(value):
            out.append(f"{lead}{scalar(key)}:{_comment(comment)}")
            _block(value, indent + 2 if isinstance(value, dict) else indent, out)
        else:
            out.append(f"{lead}{scalar(key)}: {scalar(value)}{_comment(comment)}")


def _sequence(node: list, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for raw in node:
        value, comment = _unwrap(raw)
        if isinstance(value, dict) and value:
            if comment:
                out.append(f"{pad}-{_comment(comment)}")
                _mapping(value, indent + 2, out)
            else:
                _mapping(value, indent + 2, out, first_prefix=f"{pad}- ")
        elif isinstance(value, list) and value:
            out.append(f"{pad}-{_comment(comment)}")
            _sequence(value, indent + 2, out)
        else:
            out.append(f"{pad}- {scalar(value)}{_comment(comment)}")


def _block(node: Any, indent: int, out: list[str]) -> None:
    if isinstance(node, dict):
        _mapping(node, indent, out)
    else:
        _sequence(node, indent, out)


def emit(documents: list[Any], header: list[str] | tuple[str, ...] = ()) -> str:
    """The documents as one YAML stream: header comment lines, then `---` before each document."""
    out = [f"# {line}".rstrip() for line in header]
    for raw in documents:
        value, comment = _unwrap(raw)
        out.append("---" + _comment(comment))
        if _is_block(value):
            _block(value, 0, out)
        else:
            out.append(scalar(value))
    return "\n".join(out) + "\n"


__all__ = ["Sourced", "emit", "plain", "scalar"]
