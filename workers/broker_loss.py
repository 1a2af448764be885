"""Telling that the broker lost its queues, so the tasks sent to it run again at once.

A Redis that restarts without persistence (or fails over to a replica that had not caught
up) comes back without the tasks queued in it. Their rows are safe in PostgreSQL and the
relay publishes them again once their lease (`FOLLOW_UP_LEASE_SECONDS`) runs out; this
makes that wait a relay round instead. The relay keeps a marker key in the broker: a Redis
that lost its data lost the marker too, so the relay's next `SET NX` succeeds, and every
task published within its lease is made due now. Running a task twice changes nothing, so
a marker lost for another reason (an eviction, a `FLUSHALL`) costs one round of re-sends.
Should that update fail once the marker is set, nothing is lost: the leases still run out.
"""

from __future__ import annotations

import logging
from functools import cache

import redis
from sqlalchemy.orm import Session, sessionmaker

from models.store.follow_ups import bring_forward_published
from settings import Settings

log = logging.getLogger(__name__)

MARKER = "fulfillment:broker-kept"
TIMEOUT_SECONDS = 2.0


@cache
def _client(url: str) -> redis.Redis:
    # One per process (a prefork child makes its own on first use); it reconnects by itself.
    return redis.Redis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )


def broker_lost_its_queues(settings: Settings) -> bool:
    """True once after the broker came back without its data (and the first time it is
    asked at all); False while it keeps it, or when it cannot be asked."""
    key = f"{settings.celery_queue_prefix}{MARKER}"
    try:
        return bool(_client(settings.require_redis_url()).set(key, "1", nx=True))
    except redis.RedisError as exc:  # the broker is away: nothing can be published anyway
        log.info("could not check the broker's marker: %s", exc)
        return False


def send_again_if_lost(settings: Settings, sessions: sessionmaker[Session]) -> int:
    """If the broker lost its queues, make every task published within its lease due now; how
    many were."""
    if not broker_lost_its_queues(settings):
        return 0
    with sessions() as session, session.begin():
        moved = bring_forward_published(session, lease_seconds=settings.follow_up_lease_seconds)
    if moved:
        log.warning("the broker lost its queues: %d published task(s) are sent again now", moved)
    return moved
