"""Reachability checks for /healthz. Each returns (ok, detail) and never raises."""

from django.db import connection

from reviewapp.celery import app as celery_app


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "unreachable"
        return False, f"{type(exc).__name__}: {exc}"
    return True, connection.vendor


def check_broker(timeout_s: float = 2.0) -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout_s)
            transport = conn.transport_cls
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, str(transport)


def check_worker(timeout_s: float = 10.0) -> tuple[bool, str]:
    """Send a real task and wait for a worker to answer it."""
    from reviewapp.core.tasks import ping

    try:
        result = ping.apply_async(args=["healthz"], expires=timeout_s)
        value = result.get(timeout=timeout_s)
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, f"pid {value['worker_pid']} on {value['worker_host']}"
