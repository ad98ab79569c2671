"""The numbers panel's rows, written in Python (reviewapp.designs.assessment.Number.row): a row
opens its explanation from `explain_base`, the design's `designs:number` URL up to the path."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def number_row(number, explain_base: str = ""):
    return mark_safe(number.row(explain_base or ""))


@register.filter
def number_label(number, explain_base: str = ""):
    """Only the label, opening the explanation (a cost row's plan name)."""
    return mark_safe(number.label_html(explain_base or ""))
