"""Stored Idempotency-Key responses: held for a transaction, replayed, recorded with the order."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.tables.idempotency import IdempotencyKey


class KeyInUse(Exception):
    """Another request holds the key right now."""


class KeyReused(Exception):
    """The key was first used with another request."""


@dataclass(frozen=True)
class StoredResponse:
    """A response recorded under a key."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def claim(session: Session, key: str, request_fingerprint: str) -> StoredResponse | None:
    """Hold the key for this transaction; the stored response if the request was already made."""
    locked = session.execute(select(func.pg_try_advisory_xact_lock(_lock_id(key)))).scalar_one()
    if not locked:
        raise KeyInUse(key)
    stored = session.get(IdempotencyKey, key)
    if stored is not None and stored.expires_at <= utcnow():
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.key == key))
        stored = None
    if stored is None:
        return None
    if stored.fingerprint != request_fingerprint:
        raise KeyReused(key)
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
