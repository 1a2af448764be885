"""Idempotency-Keys held inside the transaction of the change they answer.

For a request that changes an existing order (a line cancel, a return opened), the key is
claimed first in the change's own transaction and its response stored before that commits:
a crash leaves both or neither. A second request under the same key waits on the key's
unique index while the first is open, then finds it held and replays its answer; if the
first rolled back (a refusal), the second claims the key afresh.
"""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.store.idempotency import KeyClaim, StoredResponse
from models.tables.idempotency import IdempotencyKey

# What a claim of an expired key replaces.
REPLACED = (
    "fingerprint",
    "response_status",
    "response_body",
    "response_headers",
    "created_at",
    "expires_at",
)


def hold_key(session: Session, claim: KeyClaim) -> bool:
    """Claim the key in the session's transaction; False if another request holds it."""
    now = utcnow()
    values = claim.parameters() | {"created_at": now}
    values["response_body"] = claim.response.body
    values["response_headers"] = claim.response.headers
    statement = insert(IdempotencyKey).values(**values)
    held = session.execute(
        statement.on_conflict_do_update(
            index_elements=[IdempotencyKey.scope, IdempotencyKey.key],
            set_={name: statement.excluded[name] for name in REPLACED},
            where=IdempotencyKey.expires_at <= now,
        ).returning(IdempotencyKey.key)
    ).first()
    return held is not None


def answer_key(session: Session, claim: KeyClaim, response: StoredResponse) -> None:
    """Store the response a held key gets from now on, in the same transaction."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == claim.scope, IdempotencyKey.key == claim.key)
        .values(
            response_status=response.status,
            response_body=json.loads(json.dumps(response.body)),
            response_headers=dict(response.headers),
        )
    )
