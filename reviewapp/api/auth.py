"""Who is calling: a personal token (`Authorization: Bearer …`) or the browser's session.

Either way `request.user` becomes that user, so the API reaches designs through the same access
helper (`get_design_for_user`) and role rules as the pages: a token grants exactly its user's rights.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from django.conf import settings

from reviewapp.api.tokens import api_token_user


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_user(token)
        if user is not None:
            request.user = user
            request.api_token_auth = True  # requests with a token need no CSRF token
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session, with Django's CSRF check on unsafe methods (as ninja's
    `django_auth`), but checked only when there is a session: an anonymous call is a 401."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key):
        if not request.user.is_authenticated:
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header with the session's CSRF token.")
        return request.user


token_auth = TokenAuth()
session_auth = SessionAuth()
