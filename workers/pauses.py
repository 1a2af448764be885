"""A worker starting while a queue is paused leaves that queue alone until it is resumed."""

from __future__ import annotations

import logging
from typing import Any

from models.store.db import unit_of_work
from models.store.errors import TRANSIENT_DB_ERRORS
from models.store.pauses import add_workers, paused_queues
from settings import Settings
from workers.celery_queues import queue_name

log = logging.getLogger(__name__)


def leave_paused_queues(node: str, queues: Any, settings: Settings) -> list[str]:
    """Deselect the paused queues among those this worker would consume; their names.

    The worker is noted on each pause, so resuming tells it to consume the queue again. With
    the database away the worker consumes every queue it was given: a pause is then kept by
    the relay alone, which publishes nothing new to the queue.
    """
    selected = set(queues.consume_from or queues)
    prefix = settings.celery_queue_prefix
    try:
        with unit_of_work(settings.require_database_url()) as session:
            paused = [
                p.queue for p in paused_queues(session) if queue_name(prefix, p.queue) in selected
            ]
            for queue in paused:
                add_workers(session, queue, [node])
    except TRANSIENT_DB_ERRORS:
        log.warning("could not read the paused queues; consuming every queue given")
        return []
    for queue in paused:
        queues.deselect(queue_name(prefix, queue))
        log.warning("queue %s is paused: not consuming it until it is resumed", queue)
    return paused
