"""Idempotency-Key: the same key and body get the stored response again.

Follows draft-ietf-httpapi-idempotency-key-header: a different body under a used key is
422. The key is claimed, with the response it gets, in the statement that records the order,
so a crash leaves either both or neither; a second request under a key whose first is still
being recorded waits the moment that statement takes, then gets its response.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from intake.card_data import looks_like_card_number
from intake.problems import Problem
from models.domain.clock import utcnow
from models.store import idempotency as stored_responses
from models.store.idempotency import KeyClaim, KeyReused, StoredResponse
from models.store.unit_of_work import Work

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "KeyClaim",
    "StoredResponse",
    "claim_for",
    "fingerprint",
    "parse_key",
    "replay",
    "stored",
]

HEADER = "Idempotency-Key"
CARD_REASON = "looks like a card number: use a random key, such as a UUID"
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
    if not _is_uuid(key) and looks_like_card_number(key):
        # It would be stored and logged as a key: card data must be neither.
        raise Problem(400, "Invalid request", errors=[{"field": HEADER, "reason": CARD_REASON}])
    return key


def _is_uuid(key: str) -> bool:
    """Whether the key is a UUID as written canonically: hex groups, never a card number."""
    try:
        return str(uuid.UUID(key)) == key.lower()
    except ValueError:
        return False


def claim_for(key: str, body: Any, response: StoredResponse, ttl_hours: int) -> KeyClaim:
    """The claim on `key` of a request with `body`, to be answered with `response`."""
    return KeyClaim(key, fingerprint(body), response, utcnow() + timedelta(hours=ttl_hours))


def stored(work: Work, claim: KeyClaim) -> StoredResponse | None:
    """The response stored under the claim's key, if any: 422 if it answered another body."""
    with work.single_statements() as connection:
        try:
            return stored_responses.replay(connection, claim.key, claim.fingerprint)
        except KeyReused:
            raise Problem(
                422,
                "Idempotency-Key reused",
                errors=[
                    {"field": HEADER, "reason": "was already used with a different request body"}
                ],
            ) from None


def replay(work: Work, claim: KeyClaim) -> StoredResponse:
    """The response stored under a key the request found held."""
    found = stored(work, claim)
    if found is None:
        # Held a moment ago and gone now: it expired in between. A retry claims it afresh.
        raise Problem(
            409,
            "Request in progress",
            detail="the request with this Idempotency-Key changed while it was read; retry",
            headers={"Retry-After": "1"},
        )
    return found
