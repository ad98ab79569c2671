"""The requirements and architecture forms, generated from the engine's design schema.

This module is the one seam between `engine.design` and Django forms: Django fields here only
carry the raw posted text to the engine (`SchemaField` never judges a value), and
`DesignInputsForm.clean` turns the engine's `ValidationResult.errors` into the form's errors.
No field is listed by hand: labels, units, help, choices, bounds and visibility all come from
`engine.design.FIELDS`.
"""

from __future__ import annotations

import functools
import hashlib
import html
from dataclasses import dataclass
from typing import Any, Mapping

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

import engine.design as schema
from engine.design import Field, ValidationResult

# Keys the design page posts besides the design's fields (the findings filters ride along with the
# typing preview); anything else is refused as an unknown field.
FORM_KEYS = {"csrfmiddlewaretoken", "revision", "severity", "outcome"}
# Changes whenever a field definition changes, so cached form markup never outlives its schema.
SCHEMA_DIGEST = hashlib.blake2b(repr(schema.FIELDS).encode(), digest_size=8).hexdigest()
# A text field longer than this gets a textarea.
TEXTAREA_FROM_CHARS = 500


def html_id(key: str) -> str:
    """A CSS-safe element id for a field key (dots would need escaping in selectors)."""
    return "f-" + key.replace(".", "-").replace("_", "-")


def errors_id(key: str) -> str:
    return html_id(key) + "-errors"


class OrderedChoiceWidget(forms.Widget):
    """An ordered pick of distinct choices (a fallback chain): one select per position.

    Every select posts under the same name, so the order of the posted list is the chain's
    order; blank positions are dropped. Works without JavaScript.
    """

    def __init__(self, choices: tuple[tuple[str, str], ...], attrs: dict | None = None):
        super().__init__(attrs)
        self.choices = choices

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer=None) -> str:
        chosen = [v for v in (value or []) if isinstance(v, str)]
        final = self.build_attrs(self.attrs, attrs)
        base_id = final.pop("id", name)
        final.pop("aria-describedby", None)
        items = []
        for i in range(len(self.choices)):
            current = chosen[i] if i < len(chosen) else ""
            options = format_html_join(
                "", '<option value="{}"{}>{}</option>',
                ((v, mark_safe(" selected") if v == current else "", label)
                 for v, label in (("", "—"), *self.choices)),
            )
            items.append(format_html(
                '<li><label for="{id}">{n}.</label> <select name="{name}" id="{id}" aria-label="{label}"{attrs}>'
                "{options}</select></li>",
                id=f"{base_id}-{i + 1}", n=i + 1, name=name, label=f"Step {i + 1}",
                attrs=flatatt(final), options=options,
            ))
        return format_html('<ol class="ordered-choice" id="{}">{}</ol>', base_id, mark_safe("".join(items)))

    def value_from_datadict(self, data, files, name: str) -> list[str]:
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
        if isinstance(values, str):
            values = [values]
        return [v for v in values if isinstance(v, str) and v.strip()]

    def value_omitted_from_data(self, data, files, name: str) -> bool:
        return False

    def id_for_label(self, id_: str) -> str:
        return f"{id_}-1" if id_ else id_


# The design form has 84 widgets; Django's template-based widget rendering cost about 1 ms each
# (over half the page's time, measured with benchmarks/page_profile.py), and format_html's lazy
# checks most of the rest, so these widgets and `FieldView.html` write the same markup with
# f-strings over `_e` (html.escape, the same five characters as Django's escape).
def _e(value: Any) -> str:
    return html.escape(str(value))


def _attrs(attrs: Mapping[str, Any]) -> str:
    """Like django.forms.utils.flatatt: True is a bare attribute, False and None are left out."""
    return "".join(f" {k}" if v is True else f' {k}="{_e(v)}"' for k, v in attrs.items() if v is not None and v is not False)


class NumberInput(forms.NumberInput):
    def render(self, name, value, attrs=None, renderer=None):
        return _input(self.input_type, name, self.format_value(value), self.build_attrs(self.attrs, attrs))


class TextInput(forms.TextInput):
    def render(self, name, value, attrs=None, renderer=None):
        return _input(self.input_type, name, self.format_value(value), self.build_attrs(self.attrs, attrs))


class Textarea(forms.Textarea):
    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        return mark_safe(f'<textarea name="{_e(name)}"{_attrs(final)}>\n{_e(self.format_value(value) or "")}</textarea>')


class Select(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = "".join(f'<option value="{_e(v)}"{" selected" if str(v) in chosen else ""}>{_e(label)}</option>'
                          for v, label in self.choices)
        return mark_safe(f'<select name="{_e(name)}"{_attrs(self.build_attrs(self.attrs, attrs))}>{options}</select>')


class CheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        base_id = _e(final.pop("id", name))
        chosen, common = set(self.format_value(value)), _attrs(final)
        boxes = "".join(
            f'<div><label for="{base_id}_{i}"><input type="checkbox" name="{_e(name)}" value="{_e(v)}" '
            f'id="{base_id}_{i}"{common}{" checked" if str(v) in chosen else ""}> {_e(label)}</label></div>'
            for i, (v, label) in enumerate(self.choices)
        )
        return mark_safe(f'<div id="{base_id}">{boxes}</div>')


def _input(input_type: str, name: str, value, attrs: dict) -> str:
    shown = f' value="{_e(value)}"' if value not in (None, "") else ""
    return mark_safe(f'<input type="{input_type}" name="{_e(name)}"{shown}{_attrs(attrs)}>')


class SchemaField(forms.Field):
    """One design field as the form posts it. The engine types and checks the raw value."""

    def __init__(self, spec: Field, *, choices: tuple[tuple[str, str], ...] | None = None):
        self.spec = spec
        self.choice_pairs = choices if choices is not None else tuple((c.value, c.label) for c in spec.choices)
        super().__init__(required=False, label=spec.label, help_text=spec.help, widget=self._widget())

    def _widget(self) -> forms.Widget:
        spec = self.spec
        # hx-preserve: a redraw (a choice changed) keeps the live inputs instead of the server's copy,
        # so keystrokes typed while the redraw was in flight are not lost.
        attrs: dict[str, Any] = {"id": html_id(spec.key), "aria-describedby": errors_id(spec.key), "hx-preserve": "true"}
        if spec.placeholder:
            attrs["placeholder"] = spec.placeholder
        if spec.kind in ("int", "float"):
            attrs["step"] = "1" if spec.kind == "int" else "any"
            attrs["inputmode"] = "numeric" if spec.kind == "int" else "decimal"
            if spec.min is not None:
                attrs["min"] = _plain_number(spec.min)
            if spec.max is not None:
                attrs["max"] = _plain_number(spec.max)
            return NumberInput(attrs)
        if spec.kind == "bool":
            return Select(attrs, choices=[("", "—"), ("true", "Yes"), ("false", "No")])
        if spec.kind == "choice":
            return Select(attrs, choices=[("", "—"), *self.choice_pairs])
        if spec.kind == "multichoice":
            return CheckboxSelectMultiple(attrs, choices=self.choice_pairs)
        if spec.kind == "ordered":
            return OrderedChoiceWidget(self.choice_pairs, attrs)
        if spec.kind == "text_list":
            attrs["maxlength"] = str(spec.max_items * (min(spec.max_length, 200) + 2))
            return TextInput(attrs)
        attrs["maxlength"] = str(spec.max_length)
        if spec.max_length >= TEXTAREA_FROM_CHARS:
            return Textarea({**attrs, "rows": 2})
        return TextInput(attrs)

    def to_python(self, value: Any) -> Any:
        return value  # raw: the engine decides what it means

    def validate(self, value: Any) -> None:
        pass  # the engine validates, in DesignInputsForm.clean

    def prepare_value(self, value: Any) -> Any:
        """A typed value (from the stored document) as the widget shows it."""
        kind = self.spec.kind
        if value is None:
            return [] if kind in ("multichoice", "ordered") else ""
        if kind == "bool":
            if isinstance(value, bool):
                return "true" if value else "false"
            return value
        if kind in ("int", "float") and isinstance(value, (int, float)):
            return _plain_number(value)
        if kind == "text_list" and isinstance(value, (list, tuple)):
            return ", ".join(str(v) for v in value)
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        return True


def _plain_number(number: float) -> str:
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number) if isinstance(number, float) else str(number)


def initial_values(document: Mapping[str, Any] | None) -> dict[str, Any]:
    """Flat initial form values: the stored value, or the field's default where none is stored."""
    document = document if isinstance(document, Mapping) else {}
    initial: dict[str, Any] = {}
    for spec in schema.FIELDS:
        group = document.get(spec.group)
        if isinstance(group, Mapping) and spec.name in group:
            initial[spec.key] = group[spec.name]
        else:
            initial[spec.key] = list(spec.default) if isinstance(spec.default, tuple) else spec.default
    return initial


def form_data(document: Mapping[str, Any], *, revision: int | None = None) -> dict[str, Any]:
    """The flat form data a browser would post for this document (lists stay lists)."""
    data: dict[str, Any] = {}
    for spec in schema.FIELDS:
        group = document.get(spec.group) if isinstance(document, Mapping) else None
        value = group.get(spec.name) if isinstance(group, Mapping) else None
        shown = SchemaField(spec).prepare_value(value)
        if spec.kind in ("multichoice", "ordered"):
            data[spec.key] = list(shown)
        else:
            data[spec.key] = shown
    if revision is not None:
        data["revision"] = str(revision)
    return data


def validate_inputs(data: Any, *, gpu_catalog: Mapping[str, Any]) -> ValidationResult:
    """The engine's verdict on raw (flat or nested) design inputs, against the staff catalog."""
    return schema.validate(data, gpu_catalog=gpu_catalog)


def validation_error(result: ValidationResult) -> ValidationError:
    """The engine's errors as one Django ValidationError keyed by field (for services)."""
    return ValidationError({key: messages for key, messages in result.errors.items()})


def inline_message(spec: Field, message: str) -> str:
    """Engine messages start with the label; under the field itself the label is noise."""
    prefix = f"{spec.label}: "
    if not message.startswith(prefix):
        return message
    rest = message[len(prefix):]
    return rest[:1].upper() + rest[1:]


@functools.lru_cache(maxsize=16)
def schema_fields(gpu_pairs: tuple[tuple[str, str], ...]) -> dict[str, SchemaField]:
    """The design's form fields, built once per GPU menu and shared by every form instance.

    Building them cost about 8 ms a form (Django normalises every choice list of every widget);
    sharing is safe because nothing mutates a field or its widget after construction (Django's
    own per-instance copy exists for forms that do)."""
    return {spec.key: SchemaField(spec, choices=gpu_pairs if spec.key == "architecture.gpu_type" else None)
            for spec in schema.FIELDS}


class DesignInputsForm(forms.Form):
    """Requirements and architecture in one form, so one save is one revision of one document."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, data=None, *, design_inputs: Mapping[str, Any] | None = None,
                 revision: int | None = None, gpu_catalog: Mapping[str, Any]):
        initial = {**initial_values(design_inputs), "revision": revision}
        super().__init__(data, initial=initial)
        self.gpu_catalog = gpu_catalog
        self.result: ValidationResult | None = None
        self._raw: dict[str, Any] | None = None
        gpu_pairs = tuple((key, str(gpu.get("label", key))) for key, gpu in gpu_catalog["gpus"].items())
        self.fields.update(schema_fields(gpu_pairs))

    def raw_inputs(self) -> dict[str, Any]:
        """The posted design values, flat, as the widgets read them (no judgement yet). Read once:
        callers get the same dict and do not change it."""
        if self._raw is None:
            if not self.is_bound:
                self._raw = {key: self.initial.get(key) for key in self.schema_keys()}
            else:
                self._raw = {key: self.fields[key].widget.value_from_datadict(self.data, self.files, self.add_prefix(key))
                             for key in self.schema_keys()}
        return self._raw

    def _clean_fields(self) -> None:
        # A SchemaField's clean() is the identity (the engine judges the values, in clean()), so the
        # design's fields are taken as read instead of one BoundField and clean() call each: that
        # was most of the form's validation (~0.4 ms of a typing preview).
        self.cleaned_data.update(self.raw_inputs())
        for name, field in self.fields.items():
            if isinstance(field, SchemaField):
                continue
            try:
                self.cleaned_data[name] = field._clean_bound_field(self[name])
            except ValidationError as exc:
                self.add_error(name, exc)

    @staticmethod
    def schema_keys() -> list[str]:
        return [spec.key for spec in schema.FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        unknown = sorted(k for k in self.data if k not in self.fields and k not in FORM_KEYS)
        if unknown:
            shown = ", ".join(k[:60] for k in unknown[:5]) + (" …" if len(unknown) > 5 else "")
            self.add_error(None, f"Unknown field{'s' if len(unknown) > 1 else ''}: {shown} (not part of a design).")
        raw = {key: cleaned.get(key) for key in self.schema_keys()}
        self.result = validate_inputs(raw, gpu_catalog=self.gpu_catalog)
        for key, messages in self.result.errors.items():
            if key in self.errors:
                continue
            spec = schema.field(key)
            self.add_error(key, [inline_message(spec, m) for m in messages])
        cleaned["document"] = self.result.document
        return cleaned

    def evaluate(self) -> ValidationResult:
        """Validate without requiring the form to be complete (for the live preview)."""
        self.is_valid()
        assert self.result is not None  # set by clean(), which full_clean always runs
        return self.result


@dataclass(frozen=True, slots=True)
class FieldView:
    """One field as the form draws it: the bound field, its spec, whether it shows, and whether
    changing it redraws the form (then `redraw_url` is where the redraw posts).

    The markup is written here rather than in a template included 84 times: the include cost
    about 0.15 ms a field, most of the page (benchmarks/page_profile.py)."""

    bound: forms.BoundField
    spec: Field
    shown: bool
    controls: bool
    redraw_url: str = ""

    @property
    def html_id(self) -> str:
        return html_id(self.spec.key)

    @property
    def errors_id(self) -> str:
        return errors_id(self.spec.key)

    def errors_html(self) -> str:
        return errors_html(self.spec.key, self.bound.errors)

    def html(self) -> str:
        spec = self.spec
        # One redraw at a time for the whole form (a newer choice aborts the older redraw): two
        # quick choices, say workload timing then model task, must not land out of order.
        redraw = (f' hx-post="{_e(self.redraw_url)}" hx-trigger="change" hx-target="#design-form" hx-swap="outerHTML" '
                  'hx-sync="#design-forms:replace"') if self.controls and self.redraw_url else ""
        if spec.kind in ("multichoice", "ordered"):
            ordered = ' <small class="muted">(in order)</small>' if spec.kind == "ordered" else ""
            control = f"<fieldset><legend>{_e(spec.label)}{ordered}</legend>{self.bound}</fieldset>"
        else:
            unit = f' <span class="unit">({_e(spec.unit)})</span>' if spec.unit else ""
            control = f'<label for="{_e(self.bound.id_for_label)}">{_e(spec.label)}{unit}</label>{self.bound}'
        help_text = f'<small class="muted help">{_e(spec.help)}</small>' if spec.help else ""
        return mark_safe(f'<div class="field field-{spec.kind}" id="{self.html_id}-field" data-key="{_e(spec.key)}"'
                         f'{redraw}{" hidden" if not self.shown else ""}>{control}{self.errors_html()}{help_text}</div>')


@dataclass(frozen=True, slots=True)
class SectionView:
    key: str
    label: str
    help: str
    fields: tuple[FieldView, ...]

    @property
    def error_count(self) -> int:
        return sum(1 for f in self.fields if f.shown and f.bound.errors)

    @property
    def shown(self) -> bool:
        """False when every field is hidden (the batch job section of an online design)."""
        return any(f.shown for f in self.fields)


@dataclass(frozen=True, slots=True)
class GroupView:
    key: str
    label: str
    sections: tuple[SectionView, ...]


GROUP_LABELS = {"requirements": "Requirements", "architecture": "Architecture"}


def controlling_keys() -> set[str]:
    """Fields that some other field's visibility depends on: changing one redraws the form."""
    from engine.design.schema import condition_fields

    keys: set[str] = set()
    for spec in schema.FIELDS:
        keys.update(condition_fields(spec.shown_when))
    return keys


def errors_html(key: str, errors, *, oob: bool = False) -> str:
    """A field's error list; out of band (htmx) in a preview, so errors that were fixed disappear."""
    items = "".join(f"<li>{_e(e)}</li>" for e in errors)
    swap = ' hx-swap-oob="true"' if oob else ""
    return f'<ul class="errorlist" id="{errors_id(key)}"{swap}>{items}</ul>'


def field_errors_oob(form: DesignInputsForm) -> str:
    """Every field's error list, out of band, for the typing preview (empty lists clear old errors)."""
    return mark_safe("".join(errors_html(key, form.errors.get(key, ()), oob=True) for key in form.schema_keys()))


def layout(form: DesignInputsForm, *, redraw_url: str = "") -> list[GroupView]:
    """The form in groups and sections as the schema orders them, with each field's visibility.

    Visibility follows the values the form shows (posted if bound, else stored), so a reload and
    an htmx redraw agree.
    """
    result = form.result or validate_inputs(form.raw_inputs(), gpu_catalog=form.gpu_catalog)
    hidden = set(result.hidden)
    controls = controlling_keys()
    groups = []
    for group in schema.GROUPS:
        sections = []
        for section in schema.sections(group):
            fields = tuple(
                FieldView(form[spec.key], spec, spec.key not in hidden, spec.key in controls, redraw_url)
                for spec in section.fields
            )
            sections.append(SectionView(section.key, section.label, section.help, fields))
        groups.append(GroupView(group, GROUP_LABELS[group], tuple(sections)))
    return groups


def posted_inputs(data, *, design, catalog: Mapping[str, Any]) -> dict[str, Any] | None:
    """The unsaved design values a request carries (the page's forms, as htmx includes them),
    read by the same form as save and preview; None when it carries none (assess the saved design)."""
    if not any(key in data for key in DesignInputsForm.schema_keys()):
        return None
    return DesignInputsForm(data, design_inputs=design.inputs, revision=design.revision, gpu_catalog=catalog).raw_inputs()
