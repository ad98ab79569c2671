"""JSON text from outside (imports, uploads) read without a server error. Standard library only.

Every importer reads through `read_json`, which refuses, with a message and where it is:
- nesting deeper than `max_depth`, counted before the parser runs (Python's parser recurses, and a
  document nested about a thousand deep ends in RecursionError, not in a message);
- malformed JSON and text that is not UTF-8/16/32 (line and column);
- a NUL character (`\\u0000`) in any string or key: PostgreSQL stores NUL neither in text columns
  nor in jsonb, so such a document can only fail later, at the save.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

MAX_DEPTH = 64
# A string token (skipped whole: brackets inside it do not count) or a bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class JsonTextError(ValueError):
    """`path` is the JSON path of the problem ("" for the document as a whole); `line` and
    `column` are set for problems located in the text; `syntax` is the parser's own message when
    the text is malformed JSON."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None, column: int | None = None,
                 syntax: str = ""):
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.syntax = syntax


def read_json(
    text: str | bytes | bytearray,
    *,
    max_depth: int = MAX_DEPTH,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """The parsed document, or JsonTextError. `parse_constant` is json.loads's (NaN, Infinity)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode(json.detect_encoding(text))
        except UnicodeDecodeError as exc:
            raise JsonTextError(f"not UTF-8 text (byte {exc.start})") from None
    elif not isinstance(text, str):
        raise JsonTextError(f"expected JSON text, got {type(text).__name__}")
    check_depth(text, max_depth)
    try:
        document = json.loads(text) if parse_constant is None else json.loads(text, parse_constant=parse_constant)
    except json.JSONDecodeError as exc:
        raise JsonTextError(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                            line=exc.lineno, column=exc.colno, syntax=exc.msg) from None
    except RecursionError:  # not reached after check_depth; kept so no path can end in a 500
        raise JsonTextError(f"nested more than {max_depth} levels deep") from None
    # JSON text can hold NUL only as the escape \u0000 (a raw control character is malformed).
    if "\\u0000" in text and (path := nul_path(document)) is not None:
        raise JsonTextError("contains a NUL character (\\u0000), which cannot be stored", path=path)
    return document


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """JsonTextError (with line and column) if brackets outside strings nest deeper than
    `max_depth`. Linear in the text; free when there are fewer brackets than the limit."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                pos = match.start()
                line = text.count("\n", 0, pos) + 1
                column = pos - text.rfind("\n", 0, pos)
                raise JsonTextError(f"nested more than {max_depth} levels deep (at line {line} column {column})",
                                    line=line, column=column)
        elif token in "]}":
            depth -= 1


def nul_path(document: Any) -> str | None:
    """The JSON path of the first string or key holding a NUL character, or None. Iterative."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return path
        elif isinstance(node, dict):
            for key in node:
                if "\x00" in str(key):
                    name = str(key).replace("\x00", "\\u0000")
                    return f"{path}.{name}" if path else name
            stack.extend((value, f"{path}.{key}" if path else str(key)) for key, value in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{i}]") for i, value in reversed(list(enumerate(node))))
    return None
