from django import template

from reviewapp.designs.assessment import display_unit, format_value

register = template.Library()


@register.filter
def fact_value(value, unit=None) -> str:
    return format_value(value, unit)


@register.filter
def fact_unit(unit) -> str:
    return display_unit(unit)
