"""Idempotency-Key: the same key and body get the stored response again.

Follows draft-ietf-httpapi-idempotency-key-header: a different body under a used key is
422, a key whose first request is still running is 409. The key is claimed with a
transaction-scoped advisory lock and stored in the same transaction as the order, so a
crash leaves either both or neither.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from intake.problems import Problem
from models.domain.clock import utcnow
from models.tables.idempotency import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class StoredResponse:
    """A response recorded under a key."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


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


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def claim(session: Session, key: str, request_fingerprint: str) -> StoredResponse | None:
    """Hold the key for this transaction; the stored response if the request was already made."""
    locked = session.execute(select(func.pg_try_advisory_xact_lock(_lock_id(key)))).scalar_one()
    if not locked:
        raise Problem(
            409,
            "Request in progress",
            detail="a request with this Idempotency-Key is still being processed; retry shortly",
            headers={"Retry-After": "1"},
        )
    stored = session.get(IdempotencyKey, key)
    if stored is not None and stored.expires_at <= utcnow():
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.key == key))
        stored = None
    if stored is None:
        return None
    if stored.fingerprint != request_fingerprint:
        raise Problem(
            422,
            "Idempotency-Key reused",
            errors=[{"field": HEADER, "reason": "was already used with a different request body"}],
        )
    return StoredResponse(stored.response_status, stored.response_body, stored.response_headers)


def record(
    session: Session, key: str, request_fingerprint: str, response: StoredResponse, ttl_hours: int
) -> None:
    """Store the response under the key, in the caller's transaction."""
    session.add(
        IdempotencyKey(
            key=key,
            fingerprint=request_fingerprint,
            response_status=response.status,
            response_body=response.body,
            response_headers=response.headers,
            expires_at=utcnow() + timedelta(hours=ttl_hours),
        )
    )
