"""The design file: a design as one YAML or JSON document, and its JSON Schema.

    format: ai-design-review/design
    version: 1
    name: Support assistant
    description: optional text
    inputs:                      # the design document exactly as the app stores it
      requirements: {latency_p99_ms: 8000.0, ...}
      architecture: {gpu_type: h100-80gb, ...}
    measurements:                # optional: what a benchmark measured for one replica
      max_qps_at_p99: 3.2

Public API (plain data in, plain data out; no Django):

    FORMAT, VERSION                     the envelope's `format` and `version`
    dump(inputs, *, name, description="", measurements=None) -> dict
    dumps(inputs, *, name, ..., fmt="yaml" | "json") -> str
    load(text_or_mapping, *, gpu_catalog=None) -> DesignFile      or DesignFileError
    json_schema() -> dict              generated from engine.design's field definitions

`load` checks the file with the JSON Schema's rules (envelope, keys, types) and then with the same
rules as the design forms (`engine.design.validate`: ranges, choices, cross-field checks); every
problem is reported as `(path, message)`, the path naming the field
(`inputs.requirements.latency_p99_ms`) or, for text that does not parse, the line (`line 12`).
A value for a field that the design's own choices hide (a batch job's window on an online
service) is refused rather than silently dropped, so what loads is exactly what the file says.
See docs/design-file.md.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass, fields as dataclass_fields
from typing import Any, Mapping

import yaml

from engine.design import FIELDS, GROUPS, Field, validate
from engine.design.schema import CHOICE_KINDS, LIST_KINDS, condition_fields
from engine.design.validate import MAX_ITEM_CHARS
from engine.facts.benchmark import _BENCH_INTS, _BENCH_NUMBERS, _BENCH_TEXTS, BenchmarkFacts
from engine.jsontext import JsonTextError, read_json
from engine.planning.gpu_catalog import gpu_choices
from engine.text import refused_character

FORMAT = "ai-design-review/design"
VERSION = 1
MAX_FILE_BYTES = 1_000_000
NAME_MAX_LENGTH = 200  # as the app's design name
DESCRIPTION_MAX_LENGTH = 5000
MEASUREMENT_TEXT_MAX_LENGTH = 200
ENVELOPE_REQUIRED = ("format", "version", "name", "inputs")
ENVELOPE_OPTIONAL = ("description", "measurements")
# The measurements `build_facts` reads (engine.facts.benchmark), in the order the reference lists them.
MEASUREMENT_KEYS = tuple(
    f.name for f in dataclass_fields(BenchmarkFacts) if f.name in (*_BENCH_NUMBERS, *_BENCH_INTS, *_BENCH_TEXTS)
)

__all__ = [
    "DESCRIPTION_MAX_LENGTH", "FORMAT", "MAX_FILE_BYTES", "MEASUREMENT_KEYS", "NAME_MAX_LENGTH", "VERSION",
    "DesignFile", "DesignFileError", "check_measurements", "dump", "dumps", "json_schema", "load",
]


@dataclass(frozen=True, slots=True)
class DesignFile:
    """A loaded design file. `inputs` is the complete, normalised design document (every field,
    blank ones as None or []), as `engine.design.validate` returns it and the app stores it;
    `measurements` only the keys `build_facts` reads, or None."""

    name: str
    description: str
    inputs: dict[str, dict[str, Any]]
    measurements: dict[str, Any] | None = None


class DesignFileError(ValueError):
    """`errors`: every problem found, as (path, message); the path names the field
    (`inputs.requirements.latency_p99_ms`, `name`, `(document)`) or the line (`line 12`)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.errors))


# --- writing --------------------------------------------------------------------------------------


def dump(inputs: Mapping[str, Any] | None, *, name: str, description: str = "",
         measurements: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The design file for a nested design document, as plain data.

    Every design field is written, in form order, blank ones as null (lists as []), so the file
    shows what can be filled in; values are written as they are (not re-validated), keys that are
    no design field are left out. `measurements` keeps only the keys `build_facts` reads."""
    inputs = inputs if isinstance(inputs, Mapping) else {}
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": name}
    if description:
        document["description"] = description
    nested: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
    for f in FIELDS:
        group = inputs.get(f.group)
        value = group.get(f.name) if isinstance(group, Mapping) else None
        if value is None and f.kind in LIST_KINDS:
            value = []
        nested[f.group][f.name] = list(value) if isinstance(value, (list, tuple)) else value
    document["inputs"] = nested
    if isinstance(measurements, Mapping):
        kept = {key: measurements[key] for key in MEASUREMENT_KEYS if measurements.get(key) is not None}
        if kept:
            document["measurements"] = kept
    return document


def dumps(inputs: Mapping[str, Any] | None, *, name: str, description: str = "",
          measurements: Mapping[str, Any] | None = None, fmt: str = "yaml") -> str:
    """`dump` as YAML (with a header comment) or JSON text."""
    document = dump(inputs, name=name, description=description, measurements=measurements)
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise ValueError(f"fmt must be 'yaml' or 'json', not {fmt!r}")
    header = ("# An AI design review design file (docs/design-file.md); its JSON Schema is\n"
              "# schemas/design-file.schema.json. Check it with: python -m engine assess THIS_FILE\n")
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False,
                                   width=100)


# --- reading --------------------------------------------------------------------------------------


def load(source: str | bytes | bytearray | Mapping[str, Any], *,
         gpu_catalog: Mapping[str, Any] | None = None) -> DesignFile:
    """Read and check a design file: YAML or JSON text (JSON when it starts with `{`), or an
    already parsed mapping. Raises DesignFileError listing every problem; never anything else
    for bad input. `gpu_catalog` decides which accelerators exist (default: the shipped one)."""
    if isinstance(source, Mapping):
        document, lines = source, {}
    else:
        document, lines = _parse(source)
    errors: list[tuple[str, str]] = []

    def bad(path: str, message: str) -> None:
        line = lines.get(path)
        errors.append((path, f"{message.rstrip('.')} (line {line})" if line else message))

    if not isinstance(document, Mapping):
        raise DesignFileError([("(document)", "a design file must be a mapping of format, version, name and inputs; "
                                              f"got {_kind(document)}")])
    for key in document:
        if key not in ENVELOPE_REQUIRED and key not in ENVELOPE_OPTIONAL:
            bad(str(key), f"unknown key (allowed: {', '.join(ENVELOPE_REQUIRED + ENVELOPE_OPTIONAL)})")
    for key in ENVELOPE_REQUIRED:
        if key not in document:
            bad(key, f"is required{_required_hint(key)}")
    if "format" in document and document["format"] != FORMAT:
        bad("format", f"must be {FORMAT!r}, got {_short(document['format'])}: this is not a design file")
    if "version" in document:
        version = document["version"]
        if isinstance(version, bool) or not isinstance(version, int):
            bad("version", f"must be the whole number {VERSION}, got {_kind(version)}")
        elif version != VERSION:
            bad("version", f"this reader understands version {VERSION}, the file is version {version}")
    name = _text(document.get("name"), "name", NAME_MAX_LENGTH, bad, required="name" in document)
    description = _text(document.get("description"), "description", DESCRIPTION_MAX_LENGTH, bad, multiline=True)
    inputs = None
    if "inputs" in document:
        inputs = _inputs(document["inputs"], gpu_catalog, bad)
    measurements = _measurements(document.get("measurements"), "measurements", bad)
    if errors:
        raise DesignFileError(errors)
    return DesignFile(name=name, description=description, inputs=inputs, measurements=measurements)


def _required_hint(key: str) -> str:
    return {"format": f" (format: {FORMAT})", "version": f" (version: {VERSION})",
            "name": " (the design's name)", "inputs": " (requirements and architecture)"}.get(key, "")


def _text(value: Any, path: str, max_length: int, bad, *, required: bool = False, multiline: bool = False) -> str:
    if value is None:
        if required:
            bad(path, "must not be blank")
        return ""
    if not isinstance(value, str):
        bad(path, f"must be text, got {_kind(value)}")
        return ""
    text = value.strip()
    if required and not text:
        bad(path, "must not be blank")
    elif len(text) > max_length:
        bad(path, f"at most {max_length:,} characters (got {len(text):,})")
    elif problem := refused_character(text, multiline=multiline):
        bad(path, problem)
    return text


def _inputs(value: Any, gpu_catalog, bad) -> dict[str, dict[str, Any]] | None:
    if not isinstance(value, Mapping):
        bad("inputs", f"must be a mapping with requirements and architecture, got {_kind(value)}")
        return None
    by_key = {f.key: f for f in FIELDS}
    raw: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
    typed_ok = True
    for group, values in value.items():
        if group not in GROUPS:
            bad(f"inputs.{group}", f"unknown key (allowed: {', '.join(GROUPS)})")
            typed_ok = False
            continue
        if values is None:
            continue
        if not isinstance(values, Mapping):
            bad(f"inputs.{group}", f"must be a mapping of field names to values, got {_kind(values)}")
            typed_ok = False
            continue
        for name, raw_value in values.items():
            key = f"{group}.{name}"
            f = by_key.get(key)
            if f is None:
                close = difflib.get_close_matches(str(name), [f.name for f in FIELDS if f.group == group], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else " (see the schema's field names)"
                bad(f"inputs.{key}", f"unknown field of {group}{hint}")
                typed_ok = False
                continue
            problem = _type_problem(f, raw_value)
            if problem:
                bad(f"inputs.{key}", problem)
                typed_ok = False
                continue
            raw[group][name] = raw_value
    result = validate(raw, gpu_catalog=gpu_catalog)
    for key, messages in result.errors.items():
        for message in messages:
            bad(f"inputs.{key}", message)
    # (A field refused for its type counts as blank, which can hide the fields that depend on it:
    # say so only once the types are right, rather than blame fields that are fine.)
    for key in result.hidden if typed_ok else ():
        f = by_key[key]
        given = raw[f.group].get(f.name)
        if given is not None and given != [] and not (isinstance(given, str) and not given.strip()):
            controls = ", ".join(dict.fromkeys(condition_fields(f.shown_when)))
            bad(f"inputs.{key}", f"{f.label}: not used by this design (it depends on {controls}); "
                                 "leave it blank (null) or remove it")
    return result.document if typed_ok and result.ok else None


def _type_problem(f: Field, value: Any) -> str | None:
    """What is wrong with the JSON type of `value` for `f` (the schema's `type`), or None."""
    if value is None:
        return None
    if f.kind in LIST_KINDS:
        if not isinstance(value, list):
            return f"{f.label}: expects a list of text, got {_kind(value)}"
        for item in value:
            if not isinstance(item, str):
                return f"{f.label}: every item must be text, got {_kind(item)}"
        return None
    unit = f" ({f.unit})" if f.unit else ""
    if f.kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{f.label}: expects a whole number{unit}, got {_kind(value)}"
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            return f"{f.label}: expects a whole number{unit}, got {value!r}"
        return None
    if f.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{f.label}: expects a number{unit}, got {_kind(value)}{_number_hint(value)}"
        return None
    if f.kind == "bool":
        return None if isinstance(value, bool) else f"{f.label}: expects true or false, got {_kind(value)}"
    if not isinstance(value, str):
        what = "one of the choices" if f.kind in CHOICE_KINDS else "text"
        return f"{f.label}: expects {what} (a string), got {_kind(value)}"
    return None


def check_measurements(value: Any) -> dict[str, Any] | None:
    """A measurements mapping (the design file's `measurements`, or a file of them) checked and
    cleaned: only the keys `build_facts` reads, numbers as floats. Raises DesignFileError."""
    errors: list[tuple[str, str]] = []
    clean = _measurements(value, "", lambda path, message: errors.append((path, message)))
    if errors:
        raise DesignFileError(errors)
    return clean


def _number_hint(value: Any) -> str:
    """PyYAML reads `1e3` (no dot) as text; say how to write it as a number."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        if "e" in value.lower():
            return " (YAML reads an exponent without a dot as text: write 1.0e3, or 1000)"
        return " (remove the quotes)"
    return ""


def _measurements(value: Any, base: str, bad) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        bad(base or "(document)", f"must be a mapping of measurement names to values, got {_kind(value)}")
        return None
    clean: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{base}.{key}" if base else str(key)
        if key not in MEASUREMENT_KEYS:
            bad(path, f"unknown measurement (allowed: {', '.join(MEASUREMENT_KEYS)})")
        elif item is None:
            continue
        elif key in _BENCH_TEXTS:
            if not isinstance(item, str) or len(item) > MEASUREMENT_TEXT_MAX_LENGTH or "\x00" in item:
                bad(path, f"expects text of at most {MEASUREMENT_TEXT_MAX_LENGTH} characters, got {_kind(item)}")
            else:
                clean[key] = item
        elif key in _BENCH_INTS:
            if isinstance(item, bool) or not isinstance(item, int) or item < 0:
                bad(path, f"expects a whole number >= 0, got {_kind(item)}")
            else:
                clean[key] = item
        elif isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item) or item < 0:
            bad(path, f"expects a finite number >= 0{_measurement_unit(key)}, got {_kind(item)}")
        else:
            clean[key] = float(item)
    return clean or None


def _measurement_unit(key: str) -> str:
    unit = _MEASUREMENT_META[key]["unit"]
    return f" ({unit})" if unit else ""


_MEASUREMENT_META = {f.name: f.metadata for f in dataclass_fields(BenchmarkFacts)}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"text {_short(value)}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 42 else text[:39] + "..."


# --- parsing text ---------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML without aliases: a design file needs none, and an alias bomb (a few lines that
    expand to millions of nodes) must not reach the checks."""

    def compose_node(self, parent, index):  # noqa: ANN001 (PyYAML's signature)
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a design file", mark)
        return super().compose_node(parent, index)


def _parse(source: Any) -> tuple[Any, dict[str, int]]:
    """The parsed document and the line of each value (by path) where the text says it."""
    if isinstance(source, (bytes, bytearray)):
        if len(source) > MAX_FILE_BYTES:
            raise DesignFileError([("(document)", f"the file is {len(source):,} bytes; a design file is at most "
                                                  f"{MAX_FILE_BYTES:,}")])
        head = bytes(source[:4]).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"{"):
            return _parse_json(source), {}
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DesignFileError([("(document)", f"not UTF-8 text (byte {exc.start})")]) from None
    elif not isinstance(source, str):
        raise DesignFileError([("(document)", f"expected the text of a YAML or JSON file, got {_kind(source)}")])
    if len(source) > MAX_FILE_BYTES:
        raise DesignFileError([("(document)", f"the file is {len(source):,} characters; a design file is at most "
                                              f"{MAX_FILE_BYTES:,}")])
    source = source.removeprefix("\ufeff")
    if source.lstrip().startswith("{"):
        return _parse_json(source), {}
    if not source.strip():
        raise DesignFileError([("(document)", "the file is empty")])
    return _parse_yaml(source)


def _parse_json(text: str | bytes | bytearray) -> Any:
    try:
        return read_json(text)
    except JsonTextError as exc:
        where = f"line {exc.line}" if exc.line else (exc.path or "(document)")
        raise DesignFileError([(where, exc.message)]) from None


def _parse_yaml(text: str) -> tuple[Any, dict[str, int]]:
    try:
        # The reader refuses characters YAML does not allow (C0 controls but tab and newlines, DEL's
        # neighbours, U+FFFE) when it is made, so the loader is made inside the try.
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        raise DesignFileError([_unprintable(text, exc)]) from None
    try:
        node = loader.get_single_node()
        document = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        if mark is None:
            raise DesignFileError([("(document)", f"invalid YAML: {problem}")]) from None
        raise DesignFileError([(f"line {mark.line + 1}", f"invalid YAML at line {mark.line + 1} column "
                                                         f"{mark.column + 1}: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise DesignFileError([("(document)", f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise DesignFileError([("(document)", "invalid YAML: nested too deeply")]) from None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, str]] = []
    _line_map(node, "", 0, lines, duplicates)
    if duplicates:
        raise DesignFileError(duplicates)
    return document, lines


def _unprintable(text: str, exc: yaml.reader.ReaderError) -> tuple[str, str]:
    """Where the character the YAML reader refused is (its position counts characters of `text`)."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    return (f"line {line}", f"invalid YAML at line {line} column {column}: control character U+{exc.character:04X} "
                            "is not allowed in a design file")


def _line_map(node: Any, path: str, depth: int, lines: dict[str, int], duplicates: list) -> None:
    """Record the line of every value down to the design fields (envelope > inputs > group > field),
    and refuse a key given twice (YAML would silently keep the last)."""
    if not isinstance(node, yaml.MappingNode) or depth > 3:
        return
    seen: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = f"{path}.{key_node.value}" if path else str(key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen:
            duplicates.append((key, f"given twice (again at line {line})"))
        seen.add(key)
        lines[key] = line
        _line_map(value_node, key, depth + 1, lines, duplicates)


# --- the JSON Schema ------------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """The design file's JSON Schema (draft 2020-12), generated from the field definitions of
    `engine.design` and the measurements `build_facts` reads. The accelerators listed are the
    shipped catalog's (the app's staff may add others)."""
    groups = {
        group: {
            "type": ["object", "null"],
            "description": f"The design's {group}: one key per field, null (or absent) when blank.",
            "additionalProperties": False,
            "properties": {f.name: _field_schema(f) for f in FIELDS if f.group == group},
        }
        for group in GROUPS
    }
    measurement_props = {}
    for key in MEASUREMENT_KEYS:
        meta = _MEASUREMENT_META[key]
        unit = meta["unit"]
        prop: dict[str, Any] = {"description": meta["description"] + (f" Unit: {unit}." if unit else "")}
        if key in _BENCH_TEXTS:
            prop.update(type=["string", "null"], maxLength=MEASUREMENT_TEXT_MAX_LENGTH)
        else:
            prop.update(type=["integer" if key in _BENCH_INTS else "number", "null"], minimum=0)
        if unit:
            prop["x-unit"] = unit
        measurement_props[key] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:ai-design-review:design-file:1",
        "$comment": "Generated from engine.design by `python -m engine schema`; do not edit by hand.",
        "title": "AI design review: design file",
        "description": "A design's requirements and architecture as one file (docs/design-file.md). "
                       "Blank fields are null or absent. Loading also applies the cross-field checks of "
                       "the design forms (e.g. P99 >= P95 latency) and refuses values for fields that the "
                       "design's own choices hide.",
        "type": "object",
        "required": list(ENVELOPE_REQUIRED),
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT, "description": "What this file is."},
            "version": {"const": VERSION, "description": "Version of the design-file format."},
            "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX_LENGTH, "pattern": r"\S",
                     "description": "The design's name (unique within a team in the app)."},
            "description": {"type": ["string", "null"], "maxLength": DESCRIPTION_MAX_LENGTH,
                            "description": "What the design is, for people."},
            "inputs": {
                "type": "object",
                "description": "The design document: requirements and architecture, as the app stores it.",
                "additionalProperties": False,
                "properties": groups,
            },
            "measurements": {
                "type": ["object", "null"],
                "description": "What a benchmark measured for one replica (python -m engine.bench); replaces "
                               "the capacity estimate. Omit when nothing was measured.",
                "additionalProperties": False,
                "properties": measurement_props,
            },
        },
    }


def _field_schema(f: Field) -> dict[str, Any]:
    description = f.help
    if f.unit:
        description += f"{' ' if description else ''}Unit: {f.unit}."
    if f.shown_when:
        description += f"{' ' if description else ''}Used only when {_condition_text(f.shown_when)}; " \
                       "otherwise leave it blank."
    prop: dict[str, Any] = {"title": f.label}
    if description:
        prop["description"] = description
    if f.kind in ("int", "float"):
        prop["type"] = ["integer" if f.kind == "int" else "number", "null"]
        if f.min is not None:
            prop["minimum"] = f.min
        if f.max is not None:
            prop["maximum"] = f.max
    elif f.kind == "bool":
        prop["type"] = ["boolean", "null"]
    elif f.kind == "choice":
        values = [key for key, _label in gpu_choices()] if f.key == "architecture.gpu_type" else list(f.choice_values)
        prop["type"] = ["string", "null"]
        prop["enum"] = [*values, None]
    elif f.kind == "text":
        prop["type"] = ["string", "null"]
        prop["maxLength"] = f.max_length
    elif f.kind == "text_list":
        prop["type"] = ["array", "null"]
        prop["items"] = {"type": "string", "maxLength": min(f.max_length, MAX_ITEM_CHARS)}
        prop["maxItems"] = f.max_items
    else:  # multichoice, ordered
        prop["type"] = ["array", "null"]
        prop["items"] = {"enum": list(f.choice_values)}
        prop["uniqueItems"] = True
        prop["maxItems"] = max(f.max_items, len(f.choices))
        if f.kind == "ordered":
            prop["description"] = (prop.get("description", "") + " Order matters.").strip()
    if f.unit:
        prop["x-unit"] = f.unit
    if f.default is not None:
        prop["default"] = list(f.default) if isinstance(f.default, tuple) else f.default
    return prop


def _condition_text(condition: Mapping[str, Any]) -> str:
    if "all" in condition:
        return " and ".join(_condition_text(sub) for sub in condition["all"])
    if "any" in condition:
        return "(" + " or ".join(_condition_text(sub) for sub in condition["any"]) + ")"
    key = condition["field"]
    if "in" in condition:
        return f"{key} is {_alternatives(condition['in'])}"
    if "not_in" in condition:
        return f"{key} is not {_alternatives(condition['not_in'])}"
    return f"{key} includes {condition['contains']!r}"


def _alternatives(values: list[Any]) -> str:
    words = [json.dumps(v) for v in values]
    return words[0] if len(words) == 1 else "one of " + ", ".join(words)
