"""Health endpoints. `/healthz` is public and cheap: readiness (database and broker reachable),
status only. `/healthz/detail` names each check's outcome and may round-trip a task through a
worker (`?worker=1`); it answers staff, or a probe that sends `Authorization: Bearer
<HEALTHZ_TOKEN>`, and nobody else: internals (hosts, ports, pids) are not for the public, and a
task round trip that holds a web worker up to 10 s must not be an anonymous amplifier."""

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reviewapp.core import health


def _run_checks(*, worker: bool) -> tuple[bool, dict]:
    checks = {"database": health.check_database(), "broker": health.check_broker()}
    if worker:
        checks["worker"] = health.check_worker()
    return all(passed for passed, _ in checks.values()), checks


def _status(ok: bool) -> str:
    return "ok" if ok else "unavailable"


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness for load balancers and probes: 200 {"status": "ok"} or 503, nothing else."""
    ok, _ = _run_checks(worker=False)
    return JsonResponse({"status": _status(ok)}, status=200 if ok else 503)


def _has_health_token(request: HttpRequest) -> bool:
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


@login_not_required
@never_cache
@require_GET
def healthz_detail(request: HttpRequest) -> JsonResponse:
    """Each check with its detail; `?worker=1` also sends a real task and waits for a worker."""
    if not (request.user.is_staff or _has_health_token(request)):
        return JsonResponse({"status": "forbidden"}, status=403)
    ok, checks = _run_checks(worker=request.GET.get("worker") == "1")
    body = {
        "status": _status(ok),
        "checks": {name: {"ok": passed, "detail": detail} for name, (passed, detail) in checks.items()},
    }
    return JsonResponse(body, status=200 if ok else 503)
