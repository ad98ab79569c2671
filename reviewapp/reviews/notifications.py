"""Review emails through Django's email backend (console by default, SMTP by settings; see
docs/configuration.md). Sent after the transaction commits; a mail server that fails is logged and
never undoes or breaks the review action that was already recorded."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from engine.text import as_one_line
from reviewapp.reviews.models import Decision, ReviewRequest

log = logging.getLogger(__name__)


def _link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send(subject: str, body: str, users) -> int:
    recipients = sorted({u.email for u in users if u.email})
    if not recipients:
        return 0
    # Names are refused with line breaks now, but older rows or the admin may still hold one, and a
    # header with a line break fails the whole message (BadHeaderError).
    subject = as_one_line(subject)
    try:
        return send_mail(subject, body, None, recipients)
    except Exception:  # the review is recorded; a mail server's trouble must not turn it into an error page
        log.exception("Could not send %r to %s", subject, recipients)
        return 0


def review_requested(request_id: int) -> int:
    """Tell the named reviewers (or, with none named, the team's reviewers and owners) that a review
    is waiting for them."""
    request = ReviewRequest.objects.select_related("design__team", "requested_by").get(pk=request_id)
    design = request.design
    users = list(request.reviewers.all())
    if not users:
        users = list(get_user_model().objects.filter(
            memberships__team_id=design.team_id, memberships__role__in=["reviewer", "owner"]
        ).exclude(pk=request.requested_by_id))  # fmt: skip
    who = request.requested_by.get_username() if request.requested_by else "Someone"
    body = (
        f"{who} asks for a review of “{design.name}” ({design.team}), revision {request.design_revision}.\n\n"
        + (f"Message:\n{request.message}\n\n" if request.message else "")
        + f"Review it: {_link(reverse('designs:detail', args=[design.pk]))}\n"
    )
    return _send(f"Review requested: {design.name}", body, users)


def decision_made(decision_id: int) -> int:
    """Tell the requester and the design's author what was decided."""
    decision = Decision.objects.select_related(
        "design__team", "design__created_by", "decided_by", "request__requested_by", "milestone"
    ).get(pk=decision_id)
    design = decision.design
    users = [u for u in (decision.request.requested_by if decision.request else None, design.created_by)
             if u is not None and u.pk != decision.decided_by_id]
    who = decision.decided_by.get_username() if decision.decided_by else "A reviewer"
    body = (
        f"{who}: {decision.get_outcome_display().lower()} — “{design.name}” ({design.team}), revision "
        f"{decision.design_revision} (milestone M{decision.milestone.number}).\n\nComment:\n{decision.comment}\n\n"
        + (f"Approved over open high risks or rule errors. Reason:\n{decision.override_reason}\n\n"
           if decision.override_reason else "")
        + f"See it: {_link(reverse('designs:detail', args=[design.pk]))}\n"
    )  # fmt: skip
    return _send(f"{decision.get_outcome_display()}: {design.name}", body, users)
