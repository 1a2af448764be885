"""Mails a worker sends itself right after a step, instead of a broker round trip each.

A step's mails reach the worker that runs the step in two ways (workers/adapters/
publishers.py): riding in the step's message, when the mails were committed with the step
elsewhere (the dispatcher's "received" with the allocation, the charge's "paid" with the
shipping), or committed by the step itself in a worker that consumes the mail queue (the
"shipped" mail). Either way each mail's row was leased when it was committed, as a
published row is: a worker that dies before sending leaves it to the relay, once the lease
runs out, and the mail's own claim keeps a second run from sending it twice.

A worker that does not consume the mail queue, or finds it paused, publishes the mails to
the broker as their writer would have; so does one whose run here fails before it ends.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from bootstrap import get_context
from models.domain.follow_ups import REQUEST_ID_FIELD, TASK, FollowUp
from models.domain.tasks import NOTIFY, QUEUE_TASKS
from models.store.errors import TRANSIENT_DB_ERRORS
from models.store.pauses import is_paused
from workers.adapters.publishers import TaskPublisher

log = logging.getLogger(__name__)

# The queue mails wait on, as `ops pause notify` names it (models/domain/tasks.py).
MAIL_QUEUE = next(queue for queue, tasks in QUEUE_TASKS.items() if NOTIFY in tasks)


def riders_of(riders: list[list[Any]] | None, request_id: str | None) -> list[FollowUp]:
    """The mails that rode in a task's message, as the rows they are."""
    traced = {REQUEST_ID_FIELD: request_id} if request_id else {}
    return [
        FollowUp(int(row), TASK, {"task": str(task), "args": list(args), **traced})
        for row, task, args in riders or []
    ]


def sends_mail_here(app: Celery) -> bool:
    """Whether this worker consumes the mail queue (the queues it was started with)."""
    consumed = app.amqp.queues.consume_from
    if not consumed:
        return False
    return str(app.amqp.router.route({}, NOTIFY)["queue"].name) in consumed


def send_mails(app: Celery, mails: list[FollowUp], *, here: bool, by: str | None) -> None:
    """Send each mail now in this process, or publish it when this worker may not.

    A mail sent here logs as a task whose id is that of the task `by` that sent it, then its
    row's, so its line is told apart from every other and traced to the step before it.
    """
    if here and mails and not _mail_paused_or_unknown():
        for mail in mails:
            _send_here(app, mail, f"{by}+{mail.id}")
        return
    if mails:
        TaskPublisher(app.send_task).publish(mails)


def _mail_paused_or_unknown() -> bool:
    """Whether operations paused the mail queue (or the database cannot say): then the mails
    go to the broker, where a paused queue's tasks wait."""
    try:
        with get_context().work.single_statements() as connection:
            return is_paused(connection, MAIL_QUEUE)
    except TRANSIENT_DB_ERRORS:
        return True


def _send_here(app: Celery, mail: FollowUp, task_id: str) -> None:
    task = app.tasks[mail.task]
    # The request the order's work traces back to, as the task's headers would carry it.
    task.push_request(id=task_id, **{REQUEST_ID_FIELD: mail.payload.get(REQUEST_ID_FIELD)})
    try:
        task(*mail.args, follow_up=mail.id)
    except Exception as exc:  # database trouble: Celery's retry, through the broker
        log.warning("mail %s not sent here, published instead: %s", mail.id, exc)
        TaskPublisher(app.send_task).publish([mail])
    finally:
        task.pop_request()
