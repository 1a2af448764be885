"""The relay: the guarantee behind publishing after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from models.domain.follow_ups import FollowUp
from models.ports import Publisher
from models.store.follow_ups import claim_due, fail

log = logging.getLogger(__name__)

# Publishes of one row before the relay gives it up: far beyond any step's own retries,
# so only a task that crashes every time it runs (a bug) ever gets here.
MAX_PUBLISHES = 30


def relay(
    sessions: sessionmaker[Session],
    publisher: Publisher,
    *,
    lease_seconds: float,
    on_give_up: Callable[[Session, FollowUp], None],
    limit: int = 200,
) -> int:
    """Publish every follow-up that is due and not done; how many were published.

    Rows are leased in a transaction of their own, so nothing is locked while the broker
    or SQS is being talked to.
    """
    with sessions() as session, session.begin():
        due = claim_due(session, topics=publisher.topics, limit=limit, lease_seconds=lease_seconds)
        given_up = [f for f in due if f.attempts > MAX_PUBLISHES]
        for follow_up in given_up:
            fail(session, follow_up.id, error=f"published {MAX_PUBLISHES} times without an end")
            on_give_up(session, follow_up)
    for follow_up in given_up:
        log.error("follow-up %s given up after %d publishes", follow_up.id, MAX_PUBLISHES)
    ready = [f for f in due if f.attempts <= MAX_PUBLISHES]
    if ready:
        publisher.publish(ready)
        log.info("relay published %d follow-up(s)", len(ready))
    return len(ready)
