"""The numbers panel's rows, written in Python (reviewapp.designs.assessment.Number.row): a row
opens its explanation from `explain_base`, the design's `designs:number` URL up to the path."""

from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def number_row(number, explain_base: str = ""):
    return mark_safe(number.row(explain_base or ""))


@register.filter
def number_rows(numbers, explain_base: str = ""):
    """A table's rows in one call: the template engine's loop cost ~5 µs a row on top of the row."""
    base = explain_base or ""
    return mark_safe("".join(number.row(base) for number in numbers))


@register.filter
def note_items(notes, with_severity: bool = False):
    """Warnings (`with_severity`: their severity as the class) or assumptions as list items."""
    items = []
    for note in notes:
        css = f' class="{escape(note["severity"])}"' if with_severity else ""
        items.append(f'<li{css} data-path="{escape(note["path"])}">{escape(note["message"])}</li>')
    return mark_safe("".join(items))


@register.filter
def number_label(number, explain_base: str = ""):
    """Only the label, opening the explanation (a cost row's plan name)."""
    return mark_safe(number.label_html(explain_base or ""))
