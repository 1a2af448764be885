"""HMAC signatures on webhook bodies: `t=<unix seconds>,v1=<hex sha256>` over `t.body`."""

from __future__ import annotations

import hashlib
import hmac


class BadSignature(ValueError):
    """The signature is missing, malformed, wrong, or too old to trust."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a sender puts on `body` at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str | None, body: bytes, *, now: float, tolerance: float) -> int:
    """The signed timestamp if `header` signs `body`; BadSignature saying why otherwise.

    The timestamp is inside the signature, so an old request replayed verbatim is refused
    once it is older than `tolerance` seconds.
    """
    if not header:
        raise BadSignature("missing")
    if not header.isascii():
        raise BadSignature("malformed")
    parts = dict(item.partition("=")[::2] for item in header.split(","))
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        raise BadSignature("malformed") from None
    expected = sign(secret, body, timestamp).partition(",v1=")[2]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise BadSignature("does not match the body")
    if abs(now - timestamp) > tolerance:
        raise BadSignature("timestamp outside the tolerance")
    return timestamp
