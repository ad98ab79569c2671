from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from reviewapp.core import health


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability; `?worker=1` also round-trips a task."""
    checks = {"database": health.check_database(), "broker": health.check_broker()}
    if request.GET.get("worker") == "1":
        checks["worker"] = health.check_worker()
    ok = all(passed for passed, _ in checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: {"ok": passed, "detail": detail} for name, (passed, detail) in checks.items()},
    }
    return JsonResponse(body, status=200 if ok else 503)
