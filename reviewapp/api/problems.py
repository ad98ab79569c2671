"""RFC 9457 problem details: every error the API answers is one of these, as application/problem+json.

    {"type": "urn:ai-design-review:problem:<slug>", "title": ..., "status": ..., "detail": ...,
     "errors": [{"field": "requirements.latency_p99_ms", "message": "..."}]}

`field` is a dotted path into the request body (or `header.If-Match`, `query.format`, `path.pk`),
"" when the error is about the whole request.
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
# A stable, non-dereferenceable identifier per kind of problem; docs/api.md lists them.
TYPE_BASE = "urn:ai-design-review:problem:"
TITLES = {
    400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 412: "Precondition failed", 413: "Request body too large", 415: "Unsupported media type",
    422: "Unprocessable content", 428: "Precondition required", 429: "Too many requests",
    500: "Server error", 503: "Service unavailable",
}  # fmt: skip
SLUGS = {400: "invalid-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
         409: "conflict", 412: "stale-etag", 413: "too-large", 422: "unprocessable", 428: "if-match-required",
         503: "unavailable"}  # fmt: skip


class Problem(Exception):
    """Raise from an endpoint to answer a problem: `Problem(412, "…", errors=[...])`."""

    def __init__(self, status: int, detail: str, *, errors: list[dict] | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors or [], headers or {}


def problem_response(status: int, detail: str, errors: list[dict] | None = None,
                     headers: dict | None = None) -> HttpResponse:
    body = {
        "type": TYPE_BASE + SLUGS.get(status, "error"),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "errors": [{"field": str(e.get("field", "")), "message": str(e.get("message", ""))} for e in errors or []],
    }
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def field_errors(error: DjangoValidationError, *, prefix: str = "") -> list[dict]:
    """A Django ValidationError (a form's, or a service's keyed by field) as problem errors."""
    if hasattr(error, "error_dict"):
        return [{"field": "" if key == "__all__" else prefix + key, "message": message}
                for key, messages in error.message_dict.items() for message in messages]
    return [{"field": "", "message": message} for message in error.messages]


def form_errors(form, *, prefix: str = "") -> list[dict]:
    return [{"field": "" if key == "__all__" else prefix + key, "message": str(message)}
            for key, messages in form.errors.items() for message in messages]


def _loc_field(loc) -> str:
    """pydantic's error location without ninja's wrapping: ("body", "payload", "name") -> "name"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 1 and parts[1] == "payload" else parts[1:]
    elif parts and parts[0] in ("query", "path", "header"):
        parts = [parts[0], *parts[1:]]
    return ".".join(parts)


def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        field = _loc_field(error.get("loc", ()))
        message = error.get("msg", "Invalid value.")
        if error.get("type") == "extra_forbidden":
            message = "Unknown field (not part of this request's schema)."
        errors.append({"field": field, "message": message})
    shown = ", ".join(e["field"] or "(body)" for e in errors[:5])
    return problem_response(400, f"The request is not valid: {shown}.", errors)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    detail = str(exc)
    if status == 400 and detail == "Cannot parse request body":
        detail = "The request body is not valid JSON."
        return problem_response(400, detail, [{"field": "", "message": detail}])
    return problem_response(status, detail)


def _authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(401, "Send `Authorization: Bearer <token>` with a personal API token "
                            "(create one at /api/tokens/), or sign in.", headers={"WWW-Authenticate": "Bearer"})


def install(api: NinjaAPI) -> None:
    """Replace ninja's default handlers: nothing leaves the API but a problem (or a success)."""

    @api.exception_handler(Problem)
    def _problem(request, exc: Problem):
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)

    api.add_exception_handler(NinjaValidationError, _validation)
    api.add_exception_handler(AuthenticationError, _authentication)
    api.add_exception_handler(AuthorizationError, lambda request, exc: problem_response(403, str(exc)))
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, lambda request, exc: problem_response(
        404, "No such resource, or it belongs to a team you are not in."))
    api.add_exception_handler(PermissionDenied, lambda request, exc: problem_response(
        403, str(exc) or "Your role does not allow this."))
    api.add_exception_handler(DjangoValidationError, lambda request, exc: problem_response(
        400, "The request is not valid.", field_errors(exc)))
    api.add_exception_handler(RequestDataTooBig, lambda request, exc: problem_response(
        413, "The request body is larger than this server accepts."))
    api.add_exception_handler(SuspiciousOperation, lambda request, exc: problem_response(400, "Bad request."))

    @api.exception_handler(Exception)
    def _unexpected(request, exc: Exception):
        logger.exception("API error on %s %s", request.method, request.path)
        return problem_response(500, "The server failed to answer this request; it has been logged.")
