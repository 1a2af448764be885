"""Revocations are kept until their tokens would have expired, then forgotten."""

from __future__ import annotations

import uuid
from datetime import timedelta

from bootstrap import Context
from models.domain.clock import utcnow
from models.services.watchdog import expire_idempotency_keys
from models.store.revocations import is_revoked, revoke


def test_the_hourly_sweep_forgets_revocations_of_expired_tokens_only(context: Context) -> None:
    expired, live = uuid.uuid4().hex, uuid.uuid4().hex
    with context.work() as session:
        for jti, expires in ((expired, -timedelta(minutes=1)), (live, timedelta(minutes=30))):
            revoke(session, jti, subject="alice", expires_at=utcnow() + expires, by="test")

    expire_idempotency_keys(context.work)

    with context.sessions() as session:
        assert not is_revoked(session, expired)
        assert is_revoked(session, live)
