"""The report job (the `default` queue)."""

from celery import shared_task


@shared_task(name="reviewapp.reports.tasks.report_generate", acks_late=True)
def report_generate(report_id: int) -> str | None:
    """Render one report's PDF; a redelivery of an ended report does nothing."""
    from reviewapp.reports.services import report_generate as generate

    report = generate(report_id=report_id)
    return report.status if report is not None else None
