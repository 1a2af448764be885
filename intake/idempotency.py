"""Idempotency-Key: the same key and body get the stored response again.

Follows draft-ietf-httpapi-idempotency-key-header: a different body under a used key is
422, a key whose first request is still running is 409. The key is claimed with a
transaction-scoped advisory lock and stored in the same transaction as the order, so a
crash leaves either both or neither.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from intake.problems import Problem
from models.store import idempotency as stored_responses
from models.store.idempotency import KeyInUse, KeyReused, StoredResponse, record

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "StoredResponse",
    "claim",
    "fingerprint",
    "parse_key",
    "record",
]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def fingerprint(body: Any) -> str:
    """A digest of the request body that ignores key order and white space."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_key(raw: str | None) -> str | None:
    """The key from the header, or a 400 when it is not 1 to 255 printable ASCII characters."""
    if raw is None:
        return None
    key = raw.strip().strip('"')
    if not 0 < len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise Problem(
            400,
            "Invalid request",
            errors=[{"field": HEADER, "reason": "must be 1 to 255 printable ASCII characters"}],
        )
    return key


def claim(session: Session, key: str, request_fingerprint: str) -> StoredResponse | None:
    """Hold the key for this request's transaction; the stored response of a replay."""
    try:
        return stored_responses.claim(session, key, request_fingerprint)
    except KeyInUse:
        raise Problem(
            409,
            "Request in progress",
            detail="a request with this Idempotency-Key is still being processed; retry shortly",
            headers={"Retry-After": "1"},
        ) from None
    except KeyReused:
        raise Problem(
            422,
            "Idempotency-Key reused",
            errors=[{"field": HEADER, "reason": "was already used with a different request body"}],
        ) from None
