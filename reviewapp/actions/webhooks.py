"""Outgoing webhooks: one `WebhookDelivery` row per event and endpoint, sent by a Celery task on
the default queue, retried with exponential backoff, and never delivered twice.

The payload is built when the event happens (what was true then) and stored on the row; each
attempt signs the stored body with a fresh timestamp. Settings (optional): WEBHOOK_TIMEOUT_S
(default 5, at most 30), WEBHOOK_MAX_ATTEMPTS (6), WEBHOOK_RETRY_BASE_S (30; the n-th retry waits
base x 2^(n-1), at most an hour)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from reviewapp.actions import signing
from reviewapp.actions.models import Action, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
MAX_TIMEOUT_S = 30.0


def timeout_s() -> float:
    return min(float(getattr(settings, "WEBHOOK_TIMEOUT_S", 5)), MAX_TIMEOUT_S)


def max_attempts() -> int:
    return max(1, int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 6)))


def backoff_s(retries_so_far: int) -> int:
    """Seconds before the next attempt after `retries_so_far` retries: base, 2 x base, 4 x base, ..."""
    return min(int(getattr(settings, "WEBHOOK_RETRY_BASE_S", 30)) * 2**retries_so_far, 3600)


def _link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def action_payload(action: Action, *, event: str, delivery_id: str, today: dt.date | None = None) -> dict:
    """What a ticketing system receives (docs/actions.md): flat enough to map onto an issue."""
    today = today or timezone.localdate()
    design = action.design
    owner = action.owner
    return {
        "delivery_id": delivery_id,
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "action": {
            "id": action.pk,
            "title": action.title,
            "status": action.status,
            "status_label": action.get_status_display(),
            "due_on": action.due_on.isoformat(),
            "overdue": action.is_overdue(today),
            "wont_do_reason": action.wont_do_reason,
            "owner": {"username": owner.get_username(), "email": owner.email} if owner else None,
        },
        "design": {"id": design.pk, "name": design.name, "team": design.team.slug, "revision": design.revision},
        "finding": {"item_key": action.item_key, "title": action.title, "severity": action.severity,
                    "improvement_plan": action.improvement_plan},
        "links": {
            "action": _link(reverse("actions:detail", args=[action.pk])),
            "design": _link(reverse("designs:detail", args=[design.pk])),
            "finding": _link(reverse("checklists:finding", args=[design.pk, action.item_key])),
            "team_actions": _link(reverse("actions:team", args=[design.team.slug])),
        },
    }


def deliveries_create(*, action: Action, event: str, today: dt.date | None = None) -> list[WebhookDelivery]:
    """A pending delivery of `event` to each active endpoint of the action's team, sent after the
    transaction commits (call inside the write's transaction)."""
    endpoints = list(WebhookEndpoint.objects.filter(team_id=action.team_id, is_active=True))
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(endpoint=endpoint, action=action, event=event, payload={})
        delivery.payload = action_payload(action, event=event, delivery_id=str(delivery.delivery_id), today=today)
        delivery.save()
        transaction.on_commit(partial(_enqueue, delivery.pk))
        deliveries.append(delivery)
    return deliveries


def _enqueue(delivery_pk: int) -> None:
    from reviewapp.actions.tasks import webhook_deliver

    try:
        webhook_deliver.apply_async(args=[delivery_pk], queue="default", retry=False)
    except Exception:  # the action is saved; a broker that is down leaves the delivery pending, visible in the admin
        log.exception("webhook delivery %s not queued", delivery_pk)


class DeliveryFailed(Exception):
    """This attempt did not deliver; the task retries while attempts remain."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could point anywhere (another scheme, an internal host): it counts as a failure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def delivery_attempt(*, delivery_pk: int, last_attempt: bool) -> str:
    """One attempt of one delivery: "delivered", "already delivered" (a retry or redelivery of a
    delivered row sends nothing), "failed" (with `last_attempt`). Raises DeliveryFailed to ask
    for a retry. The row records attempts, the status code, the last error and delivered_at."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_pk)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return "already delivered"
    endpoint = delivery.endpoint
    body = body_bytes(delivery.payload)
    timestamp = int(time.time())
    status_code, error = None, ""
    if urlsplit(endpoint.url).scheme not in ("http", "https"):
        error = "Only http:// and https:// endpoints are called."
    else:
        request = urllib.request.Request(endpoint.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "User-Agent": "ai-design-review-webhook/1",
            signing.SIGNATURE_HEADER: signing.signature(body, secret=endpoint.secret, timestamp=timestamp),
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.DELIVERY_HEADER: str(delivery.delivery_id),
            signing.EVENT_HEADER: delivery.event,
        })  # fmt: skip
        try:
            with _opener.open(request, timeout=timeout_s()) as response:
                status_code = response.status
        except urllib.error.HTTPError as exc:
            status_code, error = exc.code, f"HTTP {exc.code}: {exc.read(500).decode(errors='replace')}"
        except Exception as exc:  # refused, timed out, DNS, TLS: all mean "not delivered"
            error = f"{type(exc).__name__}: {exc}"
    delivered = status_code is not None and 200 <= status_code < 300
    status = (WebhookDelivery.Status.DELIVERED if delivered
              else WebhookDelivery.Status.FAILED if last_attempt else WebhookDelivery.Status.PENDING)
    fields = {"attempts": delivery.attempts + 1, "status_code": status_code, "status": status,
              "last_error": "" if delivered else error[:2000]}
    if delivered:
        fields["delivered_at"] = timezone.now()
    # Only a row still undelivered is updated: a concurrent attempt that delivered first wins.
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDelivery.Status.DELIVERED).update(**fields)
    if delivered:
        return "delivered"
    if last_attempt:
        return "failed"
    raise DeliveryFailed(error or f"HTTP {status_code}")
