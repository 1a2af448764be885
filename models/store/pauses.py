"""Paused queues: recorded in PostgreSQL, so the relay, and workers that start later, see them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.tasks import QUEUE_TASKS
from models.tables.operations import PausedQueue


def pause(session: Session, queue: str, *, by: str, reason: str) -> bool:
    """Record the queue as paused; False if it was paused already."""
    row = session.execute(
        insert(PausedQueue)
        .values(
            queue=queue, paused_at=utcnow(), paused_by=by[:100], reason=reason[:500], workers=[]
        )
        .on_conflict_do_nothing(index_elements=[PausedQueue.queue])
        .returning(PausedQueue.queue)
    ).first()
    return row is not None


def add_workers(session: Session, queue: str, workers: Sequence[str]) -> None:
    """Note workers that stopped consuming the paused queue, to be started again on resume."""
    paused = session.get(PausedQueue, queue, with_for_update=True)
    if paused is not None and workers:
        known = list(dict.fromkeys([*paused.workers, *workers]))
        session.execute(update(PausedQueue).where(PausedQueue.queue == queue).values(workers=known))


def resume(session: Session, queue: str) -> PausedQueue | None:
    """Forget the queue's pause; the pause it was, or None if it was not paused."""
    paused = session.get(PausedQueue, queue)
    if paused is not None:
        session.execute(delete(PausedQueue).where(PausedQueue.queue == queue))
    return paused


def paused_queues(session: Session) -> list[PausedQueue]:
    """Every paused queue, oldest pause first."""
    return list(session.scalars(select(PausedQueue).order_by(PausedQueue.paused_at)))


def is_paused(connection: Connection, queue: str) -> bool:
    """Whether the queue is paused: one read, fit for a connection in autocommit."""
    return bool(connection.scalar(select(exists().where(PausedQueue.queue == queue))))


def paused_tasks(session: Session) -> list[str]:
    """The tasks whose follow-up rows the relay leaves alone while their queue is paused."""
    queues = session.scalars(select(PausedQueue.queue)).all()
    return [task for queue in queues for task in QUEUE_TASKS.get(queue, ())]
