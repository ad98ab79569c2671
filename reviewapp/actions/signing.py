"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" (the timestamp is signed too, so an
old delivery cannot be replayed with a fresh timestamp). Plain Python: receivers may copy it."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Review-Signature"
TIMESTAMP_HEADER = "X-Review-Timestamp"
DELIVERY_HEADER = "X-Review-Delivery"
EVENT_HEADER = "X-Review-Event"
DEFAULT_TOLERANCE_S = 300


def signature(body: bytes, *, secret: str, timestamp: int) -> str:
    """The header value, `sha256=<hex>`, for `body` sent at `timestamp` (Unix seconds)."""
    message = str(int(timestamp)).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(body: bytes, *, secret: str, timestamp: str | int, signature_header: str, now_s: float,
           tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """True if `signature_header` signs `body` at `timestamp` with `secret`, and the timestamp is
    within `tolerance_s` of `now_s` (a replayed old request is refused)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now_s - sent_at) > tolerance_s:
        return False
    return hmac.compare_digest(signature(body, secret=secret, timestamp=sent_at), signature_header or "")
