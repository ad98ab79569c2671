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


@register.filter
def cost_table_rows(numbers, explain_base: str = ""):
    """The cost table's body, one row a pricing plan (the template's loop and its ~30 lookups a
    row cost ~0.3 ms of a typing preview)."""
    base = explain_base or ""

    def cell(number, after: str = "") -> str:
        if number is None:
            return f'<td class="num" data-path="">{after}</td>'
        return f'<td class="num" data-path="{escape(number.path)}">{escape(number.text)}{after}</td>'

    rows = []
    for row in numbers.cost_rows:
        chosen = ' <span class="badge">chosen</span>' if row.chosen else ""
        negotiated = (' <span class="prov entered" title="negotiated: entered for this design">negotiated</span>'
                      if row.negotiated else "")
        rows.append(
            f'<tr class="{"chosen" if row.chosen else ""}" data-plan="{escape(row.plan)}">'
            f'<th scope="row">{row.monthly.label_html(base)}{chosen}</th>{cell(row.hourly, negotiated)}'
            f'{cell(row.monthly)}{cell(row.per_run) if numbers.is_batch else ""}'
            f'{cell(row.per_1k_requests)}{cell(row.per_1m_tokens)}</tr>'
        )
    return mark_safe("".join(rows))
