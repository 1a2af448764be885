"""The publishing port's adapters: tasks to the broker, messages to the SQS orders queue."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models.domain.follow_ups import ORDERS, REQUEST_ID_FIELD, SENT_HERE, TASK, FollowUp
from models.domain.tasks import NOTIFY
from models.ports import MessageQueue, Publisher
from models.store.follow_ups import finish_all
from models.tables.outbox import Outbox

log = logging.getLogger(__name__)

SendTask = Callable[..., Any]
# SendMessageBatch takes at most ten entries.
SQS_BATCH = 10


class TaskPublisher:
    """Sends task rows to the broker by name; the task marks its row done when it has run.

    With `carry_mails` (what a unit of work commits, not what the relay publishes) a mail
    committed with a step of the same order rides in that step's message (`riders`) and is
    sent by the worker that runs the step once the step has ended; and a mail committed
    inside a task of a worker that sends mails itself (`SENT_HERE`) is left to that task.
    Either way the mail's row is leased as a published one is, so the relay sends it on its
    own if the message or the process is lost: riding saves a task, it guarantees nothing.
    """

    topics = frozenset({TASK})

    def __init__(self, send_task: SendTask, *, carry_mails: bool = False) -> None:
        self._send_task = send_task
        self._carry_mails = carry_mails

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        """Send each task; a broker that is down leaves the rows to the relay."""
        messages = _with_riders(follow_ups) if self._carry_mails else [(f, []) for f in follow_ups]
        for follow_up, riders in messages:
            # The request it traces back to travels in the task's headers (workers/step_log.py).
            request_id = follow_up.payload.get(REQUEST_ID_FIELD)
            headers = {"headers": {REQUEST_ID_FIELD: request_id}} if request_id else {}
            carried = {"riders": [[r.id, r.task, r.args] for r in riders]} if riders else {}
            try:
                self._send_task(
                    follow_up.task,
                    args=follow_up.args,
                    kwargs={"follow_up": follow_up.id, **carried},
                    **headers,
                )
            except Exception as exc:  # the broker is down: the relay sends it once it is back
                log.warning("could not send %s, the relay will: %s", follow_up.task, exc)
                return


def _with_riders(follow_ups: Sequence[FollowUp]) -> list[tuple[FollowUp, list[FollowUp]]]:
    """The messages to send, each with the mails that ride in it; mails sent here left out."""
    here = SENT_HERE.get()
    mails = [f for f in follow_ups if f.topic == TASK and f.task == NOTIFY]
    if here is not None:
        here.extend(mails)
        mails = []
    steps = [(f, list[FollowUp]()) for f in follow_ups if f.topic == TASK and f.task != NOTIFY]
    by_order = {str(f.args[0]): riders for f, riders in reversed(steps) if f.args}
    alone: list[tuple[FollowUp, list[FollowUp]]] = []
    for mail in mails:
        riders = by_order.get(str(mail.args[0])) if mail.args else None
        if riders is None:
            alone.append((mail, []))
        else:
            riders.append(mail)
    return steps + alone


class MessagePublisher:
    """Sends message rows to the SQS orders queue, ten to a call, and marks done what SQS took."""

    topics = frozenset({ORDERS})

    def __init__(self, queue: MessageQueue, sessions: sessionmaker[Session]) -> None:
        self._queue = queue
        self._sessions = sessions

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        """Send the messages; any failure leaves the rest to the relay, never to the caller."""
        sent: list[int] = []
        refused: list[tuple[int, str]] = []
        for start in range(0, len(follow_ups), SQS_BATCH):
            batch = follow_ups[start : start + SQS_BATCH]
            try:
                ids = self._queue.publish_batch([follow_up.payload for follow_up in batch])
            except Exception as exc:  # SQS is slow or down: the relay publishes them later
                log.warning("publish failed, the relay will retry: %s", exc)
                refused += [(f.id, str(exc) or type(exc).__name__) for f in batch]
                break
            sent += [f.id for f, message_id in zip(batch, ids, strict=True) if message_id]
            refused += [(f.id, "refused by SQS") for f, m in zip(batch, ids, strict=True) if not m]
        if sent or refused:
            self._record(sent, refused)

    def _record(self, sent: list[int], refused: list[tuple[int, str]]) -> None:
        with self._sessions() as session, session.begin():
            finish_all(session, sent)
            for follow_up_id, error in refused:
                session.execute(
                    update(Outbox).where(Outbox.id == follow_up_id).values(last_error=error[:500])
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
