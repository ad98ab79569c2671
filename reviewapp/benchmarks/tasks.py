"""Celery tasks of benchmark runs (routed to the `gpu` queue by CELERY_TASK_ROUTES)."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded


@shared_task(name="reviewapp.benchmarks.tasks.benchmark_run", bind=True, acks_late=True)
def benchmark_run(self, run_id: int) -> str | None:
    """Run one benchmark; idempotent for a redelivery (an ended run is left as it is)."""
    from reviewapp.benchmarks.execute import run_execute

    return run_execute(run_id, task_id=self.request.id or "", soft_time_limit_exceptions=(SoftTimeLimitExceeded,))
