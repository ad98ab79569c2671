"""How diff values read on screen (the diff itself is plain data: reviewapp.reviews.diff)."""

from django import template
from engine import vocabulary

from reviewapp.designs.assessment import format_value

register = template.Library()


@register.filter
def plain(value) -> str:
    """An input or fact value as a person reads it (lists joined, blanks as a dash)."""
    if value is None or value == "" or value == []:
        return "—"
    return format_value(value)


@register.filter
def signed(value, unit: str | None = None) -> str:
    """A delta with its sign: +168, −2.5, $+1,200."""
    if value is None:
        return ""
    if value == 0:
        return "±0"
    text = format_value(abs(value), unit)
    return ("+" if value > 0 else "−") + text


@register.filter
def percent(value) -> str:
    if value is None:
        return ""
    return f"{'+' if value > 0 else '−' if value < 0 else '±'}{abs(value):.0f} %"


@register.filter
def verdict_label(value) -> str:
    return vocabulary.VERDICTS.get(value, value or "—")


@register.filter
def outcome_label(value) -> str:
    return vocabulary.OUTCOMES.get(value, "not in the checklist") if value else "not in the checklist"
