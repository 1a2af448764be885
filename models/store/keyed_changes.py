"""Idempotency-Keys of changes to an order (a return opened): claimed in the change's own
transaction, and answered with the response recorded in it.

The key is claimed before the change is made and its response stored after, both in the one
transaction: a crash leaves both or neither. A second request under the key waits for the
first's transaction on the key's unique index, then finds it held and replays its response.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.store.idempotency import KeyClaim, StoredResponse
from models.tables.idempotency import IdempotencyKey


def claim_key(session: Session, claim: KeyClaim) -> bool:
    """Hold the key for this transaction's change; False if another request holds it (or
    held it and has not expired)."""
    now = utcnow()
    values = {
        "scope": claim.scope,
        "key": claim.key,
        "fingerprint": claim.fingerprint,
        "response_status": claim.response.status,
        "response_body": claim.response.body,
        "response_headers": claim.response.headers,
        "created_at": now,
        "expires_at": claim.expires_at,
    }
    statement = insert(IdempotencyKey).values(**values)
    held = session.execute(
        statement.on_conflict_do_update(
            index_elements=[IdempotencyKey.scope, IdempotencyKey.key],
            set_={k: statement.excluded[k] for k in values if k not in ("scope", "key")},
            where=IdempotencyKey.expires_at <= now,
        ).returning(IdempotencyKey.key)
    ).first()
    return held is not None


def answer_key(session: Session, claim: KeyClaim, response: StoredResponse) -> None:
    """Store the response the change got under its key, in the change's transaction."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == claim.scope, IdempotencyKey.key == claim.key)
        .values(
            response_status=response.status,
            response_body=response.body,
            response_headers=response.headers,
        )
    )
