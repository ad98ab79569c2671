"""Writes of reports: request a PDF (or find it in the cache), and the job that renders it.

Status changes are compare-and-set updates: the job claims a queued report, and only the job
that holds it running writes its result, so a redelivered task or a retry changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from reviewapp.reports.models import Report
from reviewapp.reports.selectors import ReportSource, stored_source

logger = logging.getLogger(__name__)
Status = Report.Status


def is_overdue(report: Report, *, now: dt.datetime | None = None) -> bool:
    """Queued with no worker, or running past the hard time limit (its worker was lost)."""
    now = now or timezone.now()
    if report.status == Status.QUEUED:
        return (now - report.created_at).total_seconds() > settings.REPORT_QUEUED_TIMEOUT_S
    if report.status == Status.RUNNING and report.started_at:
        return (now - report.started_at).total_seconds() > settings.REPORT_TIME_LIMIT_S + 60
    return False


def cached_report(source: ReportSource) -> Report | None:
    """The queued, running or ready report of exactly this content, if there is one."""
    return (Report.objects.defer("pdf", "snapshot")
            .filter(design=source.design, cache_key=source.cache_key, status__in=Report.LIVE).first())


def report_request(*, source: ReportSource, user, now: dt.datetime | None = None) -> tuple[Report, bool]:
    """The PDF report of `source`: the cached one when this content was already rendered or is
    being rendered (False: nothing new), else a new queued report whose job is published once
    the row is committed (True)."""
    now = now or timezone.now()
    with transaction.atomic():
        existing = cached_report(source)
        if existing is not None and is_overdue(existing, now=now):
            Report.objects.filter(pk=existing.pk, status=existing.status).update(
                status=Status.FAILED, finished_at=now,
                reason="No worker finished the job in time (queued too long, or its worker was lost).")
            existing = None
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                report = Report.objects.create(
                    design=source.design, milestone=source.milestone, previous=source.previous,
                    snapshot=None if source.milestone else source.snapshot, content_hash=source.content_hash,
                    cache_key=source.cache_key, requested_by=user,
                )  # fmt: skip
        except IntegrityError:  # a concurrent request created it first
            return cached_report(source), False
        transaction.on_commit(partial(_publish, report.pk))
    return report, True


def _publish(report_id: int) -> None:
    """Send the job; if the broker cannot be reached, the report fails and says so."""
    from reviewapp.celery import app
    from reviewapp.reports.tasks import report_generate

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=0, timeout=settings.REPORT_PUBLISH_TIMEOUT_S)
            result = report_generate.apply_async(
                args=[report_id], connection=conn, retry=False, queue="default",
                soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT_S, time_limit=settings.REPORT_TIME_LIMIT_S,
            )  # fmt: skip
    except Exception as exc:  # any transport error means "not sent"
        logger.warning("report %s not published: %s", report_id, exc)
        Report.objects.filter(pk=report_id, status=Status.QUEUED).update(
            status=Status.FAILED, finished_at=timezone.now(),
            reason=f"The job queue (broker) cannot be reached ({type(exc).__name__}); try again in a minute.")
        return
    Report.objects.filter(pk=report_id, task_id="").update(task_id=result.id or "")


def report_generate(*, report_id: int, renderer=None) -> Report | None:
    """The job: claim the queued report, render its PDF, save it. None if it was not queued
    (a redelivery, or another worker has it)."""
    from reviewapp.reports.render import render_pdf

    claimed = Report.objects.filter(pk=report_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return None
    report = Report.objects.select_related("design__team", "milestone__created_by", "previous__created_by").get(
        pk=report_id)
    try:
        rendered = render_pdf(stored_source(report), renderer=renderer)
    except Exception as exc:  # includes the soft time limit: the report ends failed, with why
        logger.exception("report %s failed", report_id)
        Report.objects.filter(pk=report_id, status=Status.RUNNING).update(
            status=Status.FAILED, finished_at=timezone.now(), reason=f"{type(exc).__name__}: {exc}"[:1000])
    else:
        Report.objects.filter(pk=report_id, status=Status.RUNNING).update(
            status=Status.READY, finished_at=timezone.now(), pdf=rendered.pdf, pdf_size_bytes=len(rendered.pdf),
            page_count=rendered.page_count, render_seconds=rendered.seconds)
    report.refresh_from_db()
    return report
