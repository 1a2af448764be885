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
    """A client's key, the request's fingerprint, and the response to store under it until it
    expires. The scope names the client: keys of two clients never meet."""

    scope: str
    key: str
    fingerprint: str
    response: StoredResponse
    expires_at: datetime

    def parameters(self) -> dict[str, Any]:
        """The claim as the statement that records it takes it."""
        return {
            "scope": self.scope,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "response_status": self.response.status,
            "response_body": json.dumps(self.response.body),
            "response_headers": json.dumps(self.response.headers),
            "expires_at": self.expires_at,
        }


# Every statement that claims a key starts with this; an expired row is claimed afresh.
CLAIM_SQL = """INSERT INTO idempotency_key AS held
    (scope, key, fingerprint, response_status, response_body, response_headers, created_at,
     expires_at)
VALUES (%(scope)s, %(key)s, %(fingerprint)s, %(response_status)s, %(response_body)s::jsonb,
        %(response_headers)s::jsonb, %(now)s, %(expires_at)s)
ON CONFLICT (scope, key) DO UPDATE SET
    fingerprint = EXCLUDED.fingerprint, response_status = EXCLUDED.response_status,
    response_body = EXCLUDED.response_body, response_headers = EXCLUDED.response_headers,
    created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
WHERE held.expires_at <= EXCLUDED.created_at
RETURNING held.key"""


def replay(connection: Connection, claim: KeyClaim) -> StoredResponse | None:
    """The response stored under the claim's key; KeyReused if it answered another body; None
    if there is none."""
    row = connection.execute(
        select(
            IdempotencyKey.fingerprint,
            IdempotencyKey.response_status,
            IdempotencyKey.response_body,
            IdempotencyKey.response_headers,
        ).where(IdempotencyKey.scope == claim.scope, IdempotencyKey.key == claim.key)
    ).first()
    if row is None:
        return None
    if row.fingerprint != claim.fingerprint:
        raise KeyReused(claim.key)
    return StoredResponse(row.response_status, row.response_body, row.response_headers)
