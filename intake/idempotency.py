"""Idempotency-Key: the same key and body get the stored response again.

Follows draft-ietf-httpapi-idempotency-key-header: the key is a structured-field string
(`Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`), a different body under a used key
is 422, and a key is the client's own: a customer's keys are scoped to their account, a guest's
to the body sent with it (a guest has nothing else a stranger could not also send), so the
same key from two clients makes two orders.

The key is claimed, with the response it gets, in the statement that records the order, so a
crash leaves either both or neither; a second request under a key whose first is still
being recorded waits the moment that statement takes, then gets its response.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from http_sfv.item import Item

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
    "require_key",
    "scope_of",
    "stored",
]

HEADER = "Idempotency-Key"
CARD_REASON = "looks like a card number: use a random key, such as a UUID"
REPLAYED_HEADER = "Idempotent-Replayed"


def fingerprint(body: Any) -> str:
    """A digest of the request body that ignores key order and white space."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _invalid(reason: str) -> Problem:
    return Problem(400, "Invalid request", errors=[{"field": HEADER, "reason": reason}])


EXAMPLE = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'
SF_STRING = f"must be a quoted structured-field string, such as {EXAMPLE}"


def parse_key(raw: str | None) -> str | None:
    """The key from the header, or a 400 unless it is a structured-field string of 1 to 255
    printable ASCII characters."""
    if raw is None:
        return None
    item = Item()
    try:
        item.parse(raw.encode("latin-1"))
    except (ValueError, UnicodeEncodeError):
        raise _invalid(SF_STRING) from None
    key = item.value
    if type(key) is not str or item.params:
        raise _invalid(SF_STRING)
    if not 0 < len(key) <= 255:
        raise _invalid("must be 1 to 255 printable ASCII characters")
    if not _is_uuid(key) and looks_like_card_number(key):
        # It would be stored and logged as a key: card data must be neither.
        raise _invalid(CARD_REASON)
    return key


def require_key(key: str | None, required: bool) -> None:
    """A 400 when the request has no key and keys are required."""
    if key is None and required:
        raise _invalid(f"required: a fresh random key with each new order, such as {EXAMPLE}")


def scope_of(subject: str | None, body: Any) -> str:
    """Whose key it is: the account's, or for a guest the body's (`fingerprint`)."""
    return f"customer:{subject}" if subject else f"guest:{fingerprint(body)}"


def _is_uuid(key: str) -> bool:
    """Whether the key is a UUID as written canonically: hex groups, never a card number."""
    try:
        return str(uuid.UUID(key)) == key.lower()
    except ValueError:
        return False


def claim_for(
    scope: str, key: str, body: Any, response: StoredResponse, ttl_hours: int
) -> KeyClaim:
    """The claim on the client's `key` of a request with `body`, to be answered with `response`."""
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    return KeyClaim(scope, key, fingerprint(body), response, expires_at)


def stored(work: Work, claim: KeyClaim) -> StoredResponse | None:
    """The response stored under the claim's key, if any: 422 if it answered another body."""
    with work.single_statements() as connection:
        try:
            return stored_responses.replay(connection, claim)
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
