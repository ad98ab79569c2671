"""Celery tasks of actions, on the default queue: thin, they call webhooks and services."""

from celery import shared_task


@shared_task(name="reviewapp.actions.tasks.webhook_deliver", bind=True, acks_late=True, max_retries=None)
def webhook_deliver(self, delivery_pk: int) -> str:
    """Send one webhook delivery; retried with exponential backoff until WEBHOOK_MAX_ATTEMPTS."""
    from reviewapp.actions import webhooks

    attempts = webhooks.max_attempts()
    try:
        return webhooks.delivery_attempt(delivery_pk=delivery_pk, last_attempt=self.request.retries + 1 >= attempts)
    except webhooks.DeliveryFailed as exc:
        raise self.retry(exc=exc, countdown=webhooks.backoff_s(self.request.retries), max_retries=attempts - 1) from None


@shared_task(name="reviewapp.actions.tasks.actions_notify_overdue")
def actions_notify_overdue() -> int:
    """Remind the owners of overdue actions (run daily: celery beat or cron with the command)."""
    from django.utils import timezone

    from reviewapp.actions import services

    return services.actions_notify_overdue(today=timezone.localdate())
