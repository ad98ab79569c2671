"""Personal API tokens: create (the secret is shown once), revoke, and authenticate a bearer token.

A token reads `adr_<prefix>_<secret>`: the prefix (public, stored in clear) finds the row, the
whole token's sha256 is compared in constant time. Nothing that can rebuild the token is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from reviewapp.api.models import ApiToken

TOKEN_PREFIX = "adr"
# last_used_at is written at most this often per token, so a busy client does not cost a write per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
MAX_TOKENS_PER_USER = 50


class TokenRefused(Exception):
    """A token that cannot be made (too many); `str()` says why."""


@dataclass(frozen=True, slots=True)
class NewToken:
    token: ApiToken
    raw: str  # shown once, never stored


def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, expires_at: dt.datetime | None = None) -> NewToken:
    if ApiToken.objects.filter(user=user).usable().count() >= MAX_TOKENS_PER_USER:
        raise TokenRefused(f"You have {MAX_TOKENS_PER_USER} active tokens: revoke one first.")
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, secret_sha256=_sha256(raw),
                                    expires_at=expires_at)
    return NewToken(token=token, raw=raw)


def api_token_revoke(*, token: ApiToken, now: dt.datetime | None = None) -> bool:
    """Revoke `token` (True), or say it already was (False)."""
    now = now or timezone.now()
    return ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now) == 1


def api_token_user(raw: str, *, now: dt.datetime | None = None):
    """The active user a raw bearer token belongs to, or None (unknown, malformed, revoked, expired,
    or the user is inactive). Records the use, at most once per LAST_USED_RESOLUTION."""
    parts = raw.split("_", 2)  # the secret itself may hold "_" (URL-safe base64)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or len(raw) > 200:
        return None
    now = now or timezone.now()
    token = ApiToken.objects.usable(now).select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_sha256, _sha256(raw)):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
