"""Shared pieces of the planning calculators: fact metadata on result fields, notes, constants.

Every result dataclass declares its fields with `fact(unit, description)`. The facts tree and the
generated fact reference both read that metadata, so a number and its documentation cannot drift.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any

HOURS_PER_MONTH = 730.0  # 365 * 24 / 12, the cloud billing convention
DAYS_PER_MONTH = 365.0 / 12.0
SECONDS_PER_DAY = 86_400.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
SEVERITIES = ("info", "warning", "error")


def fact(unit: str | None, description: str, *, default: Any = dataclasses.MISSING) -> Any:
    """A result field with its unit and description (read by the fact reference)."""
    metadata = {"unit": unit, "description": description}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def notes_field() -> Any:
    """The `notes` field of a result: warnings, kept out of the facts tree."""
    return dataclasses.field(default=(), metadata={"tree": False})


@dataclass(frozen=True, slots=True)
class Note:
    """A warning about a fact: `path` is the fact it concerns, severity info | warning | error."""

    path: str
    message: str
    severity: str = "warning"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "severity": self.severity}


def to_tree(result: Any) -> Any:
    """A result dataclass as a nested plain dict (CEL-friendly: tuples become lists, notes left out)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {
            f.name: to_tree(getattr(result, f.name))
            for f in dataclasses.fields(result)
            if f.metadata.get("tree", True)
        }
    if isinstance(result, (list, tuple)):
        return [to_tree(item) for item in result]
    if isinstance(result, dict):
        return {str(k): to_tree(v) for k, v in result.items()}
    if isinstance(result, float) and not math.isfinite(result):
        return None
    return result


def reference_rows(cls: type, prefix: str, *, parent_unit: str | None = None,
                   parent_description: str = "") -> list[dict[str, Any]]:
    """Reference rows `{path, unit, description, type}` for every tree field of a result class."""
    hints = typing.get_type_hints(cls)
    rows: list[dict[str, Any]] = []
    for f in dataclasses.fields(cls):
        if not f.metadata.get("tree", True):
            continue
        path = f"{prefix}.{f.name}"
        unit = f.metadata.get("unit") or parent_unit
        description = f.metadata.get("description", "")
        if parent_description:
            description = f"{parent_description} {description}".strip()
        hint = hints[f.name]
        nested = _dataclass_in(hint)
        if nested is not None:
            rows.extend(reference_rows(nested, path, parent_unit=unit, parent_description=description))
            continue
        rows.append({"path": path, "unit": unit, "description": description, "type": cel_type(hint)})
    return rows


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint
    for arg in typing.get_args(hint):
        if dataclasses.is_dataclass(arg):
            return arg
    return None


def cel_type(hint: Any) -> str:
    """The CEL type name for a Python annotation; `?` marks a value that may be null."""
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        base = cel_type(inner[0]) if len(inner) == 1 else "dyn"
        return base + "?" if type(None) in args else base
    if origin in (list, tuple):
        item = args[0] if args else Any
        return f"list({cel_type(item)})"
    if origin is dict:
        return "map"
    return {bool: "bool", int: "int", float: "double", str: "string"}.get(hint, "dyn")


def finite(value: Any) -> float | None:
    """value as a float if it is a finite real number, else None (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def ceil_div(numerator: float, denominator: float) -> int:
    """ceil(numerator / denominator) that tolerates float noise (3.0000000001 -> 3)."""
    ratio = numerator / denominator
    nearest = round(ratio)
    if abs(ratio - nearest) < 1e-9:
        return int(nearest)
    return int(math.ceil(ratio))
