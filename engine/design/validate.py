"""Validate and normalise a design document. Never raises on bad input."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Iterable, Mapping

from engine.design.schema import LIST_KINDS, Field, condition_fields

_TRUE = {"true", "on", "yes", "y", "1"}
_FALSE = {"false", "off", "no", "n", "0"}
_SPLIT = re.compile(r"[,\n;]")
_NUMBER_NOISE = re.compile(r"[\s_,]")
MAX_ITEM_CHARS = 200


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """What `validate` found.

    `document` is the normalised nested design, `{"requirements": {...}, "architecture": {...}}`,
    holding every field's typed value, or None where the field is blank, invalid or hidden.
    `errors` maps a field key to messages that each start with the field's label.
    `unknown_keys` lists input keys that are no design field (ignored, e.g. a CSRF token).
    `missing` lists visible fields left blank (a half-filled design is allowed).
    """

    document: dict[str, dict[str, Any]]
    errors: dict[str, list[str]]
    unknown_keys: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    hidden: tuple[str, ...] = dataclass_field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors

    def flat(self) -> dict[str, Any]:
        """The document as `{"group.name": value}`."""
        return {f"{g}.{k}": v for g, values in self.document.items() for k, v in values.items()}


def flatten_inputs(inputs: Any, fields_by_key: Mapping[str, Field]) -> tuple[dict[str, Any], list[str]]:
    """Accept flat `{"group.name": v}`, nested `{"group": {"name": v}}`, or a mix; return flat + unknown keys."""
    flat: dict[str, Any] = {}
    unknown: list[str] = []
    if not isinstance(inputs, Mapping):
        return flat, ["(document)"] if inputs is not None else []
    for raw_key, value in inputs.items():
        key = str(raw_key)
        if key in ("requirements", "architecture") and isinstance(value, Mapping):
            for sub_key, sub_value in value.items():
                full = f"{key}.{sub_key}"
                if full in fields_by_key:
                    flat.setdefault(full, sub_value)
                else:
                    unknown.append(full)
        elif key in fields_by_key:
            flat[key] = value
        else:
            unknown.append(key)
    return flat, unknown


def parse_value(f: Field, raw: Any, choice_values: Iterable[str] | None = None) -> tuple[Any, str | None]:
    """Parse one raw value for field `f`: (typed value or None, error message or None)."""
    try:
        return _parse(f, raw, tuple(choice_values) if choice_values is not None else f.choice_values)
    except Exception:  # defensive: no input may crash validation
        return None, f"{f.label}: is not a valid value."


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _parse(f: Field, raw: Any, choices: tuple[str, ...]) -> tuple[Any, str | None]:
    if f.kind in ("multichoice", "ordered", "text_list"):
        return _parse_list(f, raw, choices)
    if isinstance(raw, (list, tuple)):
        # A form library may hand over every value as a list; one item is that value.
        if len(raw) == 0:
            return None, None
        if len(raw) > 1:
            return None, f"{f.label}: expects a single value, not a list."
        raw = raw[0]
    if _blank(raw):
        return None, None
    if isinstance(raw, (dict, set, bytes, bytearray)) or isinstance(raw, (list, tuple)):
        return None, f"{f.label}: expects a single value."
    if f.kind in ("int", "float"):
        return _parse_number(f, raw)
    if f.kind == "bool":
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, (int, float)) and raw in (0, 1):
            return bool(raw), None
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        return None, f"{f.label}: answer yes or no."
    if f.kind == "choice":
        return _parse_choice(f, raw, choices)
    # text
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        return None, f"{f.label}: expects text."
    text = str(raw).strip()
    if len(text) > f.max_length:
        return None, f"{f.label}: at most {f.max_length} characters (got {len(text)})."
    if "\x00" in text:
        # PostgreSQL cannot store NUL in JSON text: refuse it here, not as a failed save.
        return None, f"{f.label}: contains a NUL character."
    return text, None


def _parse_number(f: Field, raw: Any) -> tuple[Any, str | None]:
    if isinstance(raw, bool):
        return None, f"{f.label}: expects a number."
    if isinstance(raw, (int, float)):
        number: float | int = raw
    elif isinstance(raw, str):
        text = _NUMBER_NOISE.sub("", raw)
        if len(text) > 50:
            return None, f"{f.label}: expects a number."
        try:
            number = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            return None, f"{f.label}: expects a number."
    else:
        return None, f"{f.label}: expects a number."
    if isinstance(number, float) and not math.isfinite(number):
        return None, f"{f.label}: must be a finite number."
    unit = f" {f.unit}" if f.unit else ""
    if f.min is not None and number < f.min:
        return None, f"{f.label}: must be at least {_fmt(f.min)}{unit}."
    if f.max is not None and number > f.max:
        return None, f"{f.label}: must be at most {_fmt(f.max)}{unit}."
    if f.kind == "int":
        if isinstance(number, float):
            if not number.is_integer():
                return None, f"{f.label}: expects a whole number."
            number = int(number)
        return int(number), None
    return float(number), None


def _fmt(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def _parse_choice(f: Field, raw: Any, choices: tuple[str, ...]) -> tuple[Any, str | None]:
    if not isinstance(raw, str):
        return None, f"{f.label}: choose one of {', '.join(choices)}."
    text = raw.strip()
    for value in choices:
        if text.lower() == value.lower():
            return value, None
    return None, f"{f.label}: {_short(text)!r} is not one of {', '.join(choices)}."


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_list(f: Field, raw: Any, choices: tuple[str, ...]) -> tuple[Any, str | None]:
    if _blank(raw):
        return [], None
    if isinstance(raw, str):
        items: list[Any] = [part for part in _SPLIT.split(raw)]
    elif isinstance(raw, (list, tuple)):
        items = list(raw)
    else:
        return None, f"{f.label}: expects a list."
    if len(items) > max(f.max_items, len(choices)):
        return None, f"{f.label}: at most {f.max_items} items."
    cleaned: list[str] = []
    for item in items:
        if not isinstance(item, str) or isinstance(item, bool):
            return None, f"{f.label}: every item must be text."
        text = item.strip()
        if "\x00" in text:
            return None, f"{f.label}: contains a NUL character."
        if text:
            cleaned.append(text)
    if f.kind == "text_list":
        for text in cleaned:
            if len(text) > min(f.max_length, MAX_ITEM_CHARS):
                return None, f"{f.label}: items are at most {min(f.max_length, MAX_ITEM_CHARS)} characters."
        deduped = list(dict.fromkeys(cleaned))
        return deduped, None
    lookup = {value.lower(): value for value in choices}
    values: list[str] = []
    for text in cleaned:
        value = lookup.get(text.lower())
        if value is None:
            return None, f"{f.label}: {_short(text)!r} is not one of {', '.join(choices)}."
        if value in values:
            if f.kind == "ordered":
                return None, f"{f.label}: lists {value!r} twice."
            continue
        values.append(value)
    if f.kind == "multichoice":
        values = [value for value in choices if value in values]
    return values, None


# --- visibility -----------------------------------------------------------------------------------


def condition_holds(condition: Mapping[str, Any], values: Mapping[str, Any], shown: Mapping[str, bool]) -> bool:
    """Evaluate a `shown_when` condition against flat values; a hidden controlling field counts as blank."""
    if "all" in condition:
        return all(condition_holds(sub, values, shown) for sub in condition["all"])
    if "any" in condition:
        return any(condition_holds(sub, values, shown) for sub in condition["any"])
    key = condition["field"]
    value = values.get(key) if shown.get(key, True) else None
    if "in" in condition:
        if isinstance(value, list):
            return False
        return value is not None and value in condition["in"]
    if "not_in" in condition:
        return not isinstance(value, list) and value not in condition["not_in"]
    return isinstance(value, list) and condition["contains"] in value


def visibility(values: Mapping[str, Any], fields: Iterable[Field]) -> dict[str, bool]:
    """Which fields are shown for these flat typed values, in field order (conditions cascade)."""
    fields = list(fields)
    by_key = {f.key: f for f in fields}
    shown: dict[str, bool] = {}

    def resolve(key: str, stack: tuple[str, ...]) -> bool:
        if key in shown:
            return shown[key]
        f = by_key.get(key)
        if f is None or f.shown_when is None or key in stack:
            result = True
        else:
            for dep in condition_fields(f.shown_when):
                resolve(dep, stack + (key,))
            result = condition_holds(f.shown_when, values, shown)
        shown[key] = result
        return result

    for f in fields:
        resolve(f.key, ())
    return shown


# --- the whole document ---------------------------------------------------------------------------


def validate_document(
    inputs: Any, fields: tuple[Field, ...], *, gpu_keys: Iterable[str] | None = None
) -> ValidationResult:
    by_key = {f.key: f for f in fields}
    flat_raw, unknown = flatten_inputs(inputs, by_key)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    gpu_keys = tuple(gpu_keys) if gpu_keys is not None else None
    for f in fields:
        choices = gpu_keys if (f.key == "architecture.gpu_type" and gpu_keys is not None) else None
        value, error = parse_value(f, flat_raw.get(f.key), choices)
        if value is None and f.kind in LIST_KINDS:
            value = []  # lists are never null, so rules can always call size()
        values[f.key] = value
        if error:
            errors[f.key] = [error]
    shown = visibility(values, fields)
    hidden = [key for key, is_shown in shown.items() if not is_shown]
    for key in hidden:
        values[key] = [] if by_key[key].kind in LIST_KINDS else None
        errors.pop(key, None)
    for key, message in cross_field_errors(values, by_key):
        if key not in errors:
            errors[key] = [message]
            # An invalid field is left out of every calculation while it is invalid (it counts as
            # blank), the same as a value that did not parse.
            values[key] = [] if by_key[key].kind in LIST_KINDS else None
    document: dict[str, dict[str, Any]] = {"requirements": {}, "architecture": {}}
    for f in fields:
        document[f.group][f.name] = values[f.key]
    missing = tuple(
        f.key for f in fields if shown[f.key] and values[f.key] in (None, []) and f.key not in errors
    )
    ordered_errors = {f.key: errors[f.key] for f in fields if f.key in errors}
    return ValidationResult(document, ordered_errors, tuple(unknown), missing, tuple(hidden))


def cross_field_errors(values: Mapping[str, Any], by_key: Mapping[str, Field]) -> list[tuple[str, str]]:
    """Checks that span fields; each error is attached to the field that should change."""
    out: list[tuple[str, str]] = []

    def label(key: str) -> str:
        return by_key[key].label

    def num(key: str) -> float | None:
        value = values.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    p50, p95, p99 = (num(f"requirements.latency_{p}_ms") for p in ("p50", "p95", "p99"))
    if p50 is not None and p95 is not None and p95 < p50:
        out.append(("requirements.latency_p95_ms",
                    f"{label('requirements.latency_p95_ms')}: must be at least the P50 latency ({p50:g} ms)."))
    if p95 is not None and p99 is not None and p99 < p95:
        out.append(("requirements.latency_p99_ms",
                    f"{label('requirements.latency_p99_ms')}: must be at least the P95 latency ({p95:g} ms)."))
    elif p95 is None and p50 is not None and p99 is not None and p99 < p50:
        out.append(("requirements.latency_p99_ms",
                    f"{label('requirements.latency_p99_ms')}: must be at least the P50 latency ({p50:g} ms)."))
    ttft = num("requirements.time_to_first_token_ms")
    if ttft is not None and p99 is not None and ttft > p99:
        out.append(("requirements.time_to_first_token_ms",
                    f"{label('requirements.time_to_first_token_ms')}: cannot exceed the P99 latency ({p99:g} ms)."))
    avg, peak = num("requirements.average_qps"), num("requirements.peak_qps")
    if avg is not None and peak is not None and peak < avg:
        out.append(("requirements.peak_qps",
                    f"{label('requirements.peak_qps')}: must be at least the average QPS ({avg:g} req/s)."))
    tokens_in = num("requirements.input_tokens_per_request")
    tokens_out = num("requirements.output_tokens_per_request")
    seq = num("requirements.sequence_length_tokens")
    if seq is not None and (tokens_in is not None or tokens_out is not None):
        total = (tokens_in or 0) + (tokens_out or 0)
        if total > seq:
            key = ("requirements.output_tokens_per_request" if tokens_out is not None
                   else "requirements.input_tokens_per_request")
            out.append((key, f"{label(key)}: input + output tokens ({total:,}) exceed the max sequence length "
                             f"({int(seq):,} tokens)."))
    lo, hi = num("architecture.min_replicas"), num("architecture.max_replicas")
    if lo is not None and hi is not None and lo > hi:
        out.append(("architecture.min_replicas",
                    f"{label('architecture.min_replicas')}: must not exceed the max replicas ({int(hi)})."))
    reserved, spot = num("architecture.reserved_share_pct"), num("architecture.spot_share_pct")
    if reserved is not None and spot is not None and reserved + spot > 100:
        out.append(("architecture.spot_share_pct",
                    f"{label('architecture.spot_share_pct')}: reserved + spot shares add up to "
                    f"{reserved + spot:g} %; they must not exceed 100 % (on-demand covers the rest)."))
    window, deadline = num("requirements.processing_window_h"), num("requirements.deadline_h")
    if window is not None and deadline is not None and deadline < window:
        out.append(("requirements.deadline_h",
                    f"{label('requirements.deadline_h')}: must be at least the processing window ({window:g} h); "
                    "the job is sized to finish within the window."))
    events, peak_events = num("requirements.events_per_second"), num("requirements.peak_events_per_second")
    if events is not None and peak_events is not None and peak_events < events:
        out.append(("requirements.peak_events_per_second",
                    f"{label('requirements.peak_events_per_second')}: must be at least the average "
                    f"({events:g} events/s)."))
    batch_delay = num("architecture.max_batch_delay_ms")
    if batch_delay is not None and p99 is not None and batch_delay >= p99:
        out.append(("architecture.max_batch_delay_ms",
                    f"{label('architecture.max_batch_delay_ms')}: must be below the P99 latency ({p99:g} ms)."))
    return out
