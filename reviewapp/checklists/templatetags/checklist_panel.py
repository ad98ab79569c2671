"""`{% checklist_panel_context as p %}`: the findings panel's data, so that a page which only
includes `checklists/_panel.html` (the design page) renders the panel server-side, without JS."""

import logging

from django import template

from reviewapp.checklists.panel import panel_context

register = template.Library()
logger = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def checklist_panel_context(context) -> dict:
    existing = context.get("checklist_panel")
    if existing is not None:
        return existing
    design = context.get("design")
    request = context.get("request")
    if design is None or request is None:
        return {"unavailable": "The findings panel needs a design."}
    try:
        return panel_context(request, design)
    except Exception:  # the design page must render even if the assessment breaks
        logger.exception("findings panel failed for design %s", design.pk)
        return {"unavailable": "The findings could not be computed; the error is logged for staff."}
