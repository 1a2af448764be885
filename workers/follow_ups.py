"""Publishing follow-ups: tasks to the broker, messages to SQS, and the relay behind both."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models.follow_ups import ORDERS, TASK, FollowUp, claim_due, fail, finish
from models.infra import Outbox
from models.unit_of_work import Publisher
from workers.adapters.sqs import OrdersQueue

log = logging.getLogger(__name__)

# Publishes of one row before the relay gives it up: far beyond any step's own retries,
# so only a task that crashes every time it runs (a bug) ever gets here.
MAX_PUBLISHES = 30

SendTask = Callable[..., Any]


class TaskPublisher:
    """Sends task rows to the broker by name; the task marks its row done when it has run."""

    topics = frozenset({TASK})

    def __init__(self, send_task: SendTask) -> None:
        self._send_task = send_task

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        """Send each task; a broker that is down leaves the rows to the relay."""
        for follow_up in follow_ups:
            try:
                self._send_task(
                    follow_up.task, args=follow_up.args, kwargs={"follow_up": follow_up.id}
                )
            except Exception as exc:  # the broker is down: the relay sends it once it is back
                log.warning("could not send %s, the relay will: %s", follow_up.task, exc)
                return


class MessagePublisher:
    """Sends message rows to the SQS orders queue, and marks each done once SQS has it."""

    topics = frozenset({ORDERS})

    def __init__(self, queue: OrdersQueue, sessions: sessionmaker[Session]) -> None:
        self._queue = queue
        self._sessions = sessions

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        """Send each message; any failure leaves the rest to the relay, never to the caller."""
        sent: list[int] = []
        failed: tuple[int, str] | None = None
        for follow_up in follow_ups:
            try:
                self._queue.publish(follow_up.payload)
            except Exception as exc:  # SQS is slow or down: the relay publishes it later
                log.warning(
                    "publish failed, the relay will retry: %s",
                    exc,
                    extra={"order_id": follow_up.payload.get("order_id")},
                )
                failed = (follow_up.id, str(exc) or type(exc).__name__)
                break
            sent.append(follow_up.id)
        if not sent and failed is None:
            return
        with self._sessions() as session, session.begin():
            for follow_up_id in sent:
                finish(session, follow_up_id)
            if failed is not None:
                session.execute(
                    update(Outbox).where(Outbox.id == failed[0]).values(last_error=failed[1][:500])
                )


class Publishers:
    """Every publisher a process has, each taking the rows of its own topics."""

    def __init__(self, *publishers: Publisher) -> None:
        self._publishers = publishers
        self.topics = frozenset(topic for p in publishers for topic in p.topics)

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        """Hand each row to the publisher of its topic."""
        for publisher in self._publishers:
            mine = [f for f in follow_ups if f.topic in publisher.topics]
            if mine:
                publisher.publish(mine)


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
