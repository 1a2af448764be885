"""A broker that lost its queues: the tasks published to it within their lease are due at
once, the rest keep their time; a broker that keeps its data changes nothing.

On a database of its own (every pending row in it is the test's) and the run's Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devstack.postgres import fresh_database
from models.domain.clock import utcnow
from models.domain.follow_ups import ORDERS, TASK
from models.store.db import session_factory
from models.tables.outbox import Outbox
from settings import Settings
from workers.broker_loss import MARKER, send_again_if_lost

LEASE = 40.0


@pytest.fixture
def own(settings: Settings) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """Settings with a database and a marker of the test's own."""
    with fresh_database(settings.require_database_url()) as database:
        prefix = f"loss{uuid.uuid4().hex[:8]}-"
        update = {"database_url": database, "celery_queue_prefix": prefix}
        yield (
            settings.model_copy(update=update | {"follow_up_lease_seconds": LEASE}),
            (session_factory(database)),
        )


def add_row(
    sessions: sessionmaker[Session],
    name: str,
    *,
    published: float | None,
    due: float,
    **more: object,
) -> None:
    """A pending row, published `published` seconds ago (None: never), due in `due` seconds."""
    now = utcnow()
    with sessions() as session, session.begin():
        session.add(
            Outbox(
                topic=more.pop("topic", TASK),
                message_key=name,
                payload={"task": "fulfillment.ship", "args": [name]},
                dedupe_key=name,
                due_at=now + timedelta(seconds=due),
                published_at=None if published is None else now - timedelta(seconds=published),
                attempts=1,
                **more,
            )
        )


def due_now(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        now: datetime = utcnow()
        return set(session.scalars(select(Outbox.message_key).where(Outbox.due_at <= now)))


def test_only_the_tasks_published_within_their_lease_come_forward_once_the_broker_lost_them(
    own: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, sessions = own
    add_row(sessions, "leased", published=1, due=LEASE - 1)
    add_row(sessions, "short retry", published=20, due=5)
    add_row(sessions, "long backoff", published=60, due=3600)
    add_row(sessions, "delayed, never published", published=None, due=10)
    add_row(sessions, "sqs message", published=1, due=LEASE - 1, topic=ORDERS)
    add_row(sessions, "done", published=1, due=LEASE - 1, done_at=utcnow())
    broker = redis.Redis.from_url(settings.require_redis_url())
    key = f"{settings.celery_queue_prefix}{MARKER}"
    assert broker.exists(key) == 0

    # The first look finds no marker: whatever was published before may be gone.
    assert send_again_if_lost(settings, sessions) == 2
    assert due_now(sessions) == {"leased", "short retry"}
    assert broker.exists(key) == 1

    add_row(sessions, "published after", published=0, due=LEASE)
    assert send_again_if_lost(settings, sessions) == 0  # the broker kept its data
    assert "published after" not in due_now(sessions)

    broker.delete(key)  # as a Redis restarted without persistence
    assert send_again_if_lost(settings, sessions) == 1
    assert "published after" in due_now(sessions)
    broker.delete(key)
    broker.close()


def test_a_broker_that_cannot_be_asked_brings_nothing_forward(
    own: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, sessions = own
    add_row(sessions, "leased", published=1, due=LEASE - 1)
    away = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})

    assert send_again_if_lost(away, sessions) == 0
    assert due_now(sessions) == set()
