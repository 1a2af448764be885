"""Stored Idempotency-Key responses: claimed with the order they answer, replayed after.

A key is claimed by inserting its row, with the response it will get, in the statement that
records the order (`models.store.placing`). A request under a key whose first request is
still being recorded waits for that statement on the key's unique index, then finds the row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from models.tables.idempotency import IdempotencyKey


class KeyReused(Exception):
    """The key was first used with another request."""


@dataclass(frozen=True)
class StoredResponse:
    """A response recorded under a key."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True)
class KeyClaim:
    """A key, the request's fingerprint, and the response to store under it until it expires."""

    key: str
    fingerprint: str
    response: StoredResponse
    expires_at: datetime

    def parameters(self) -> dict[str, Any]:
        """The claim as the statement that records it takes it."""
        return {
            "key": self.key,
            "fingerprint": self.fingerprint,
            "response_status": self.response.status,
            "response_body": json.dumps(self.response.body),
            "response_headers": json.dumps(self.response.headers),
            "expires_at": self.expires_at,
        }


# Every statement that claims a key starts with this; an expired row is claimed afresh.
CLAIM_SQL = """INSERT INTO idempotency_key AS held
    (key, fingerprint, response_status, response_body, response_headers, created_at, expires_at)
VALUES (%(key)s, %(fingerprint)s, %(response_status)s, %(response_body)s::jsonb,
        %(response_headers)s::jsonb, %(now)s, %(expires_at)s)
ON CONFLICT (key) DO UPDATE SET
    fingerprint = EXCLUDED.fingerprint, response_status = EXCLUDED.response_status,
    response_body = EXCLUDED.response_body, response_headers = EXCLUDED.response_headers,
    created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
WHERE held.expires_at <= EXCLUDED.created_at
RETURNING held.key"""


def replay(connection: Connection, key: str, request_fingerprint: str) -> StoredResponse | None:
    """The response stored under `key`; KeyReused if it answered another body; None if gone."""
    row = connection.execute(
        select(
            IdempotencyKey.fingerprint,
            IdempotencyKey.response_status,
            IdempotencyKey.response_body,
            IdempotencyKey.response_headers,
        ).where(IdempotencyKey.key == key)
    ).first()
    if row is None:
        return None
    if row.fingerprint != request_fingerprint:
        raise KeyReused(key)
    return StoredResponse(row.response_status, row.response_body, row.response_headers)
