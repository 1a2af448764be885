"""Pausing a step: its queue is left alone by the workers and the relay until it resumes.

The pause is a row in PostgreSQL, written first: from then on the relay publishes none of
the queue's follow-up rows (they wait, their publishes unspent, so none is given up), and a
worker that starts later does not consume the queue. Then the workers consuming it are told
to stop, so tasks already on the broker wait there. Nothing is lost: every task of the queue
is a follow-up row still pending, published again once the queue resumes. Resuming tells
those workers to consume it again, then removes the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.domain.tasks import STEP_QUEUES
from models.ports import QueueControl
from models.store.pauses import add_workers, pause, paused_queues, resume
from models.store.unit_of_work import Work
from models.tables.operations import PausedQueue


@dataclass(frozen=True)
class Switched:
    """A pause or a resume: the queue, the steps on it, the workers told, whether it changed."""

    queue: str
    steps: list[str]
    workers: list[str]
    changed: bool


@dataclass(frozen=True)
class Pause:
    """A queue paused now."""

    queue: str
    steps: list[str]
    paused_at: datetime
    paused_by: str
    reason: str
    workers: list[str]


def steps_on(queue: str) -> list[str]:
    """The steps whose tasks wait on `queue`."""
    return sorted(step for step, on in STEP_QUEUES.items() if on == queue)


def pause_step(work: Work, control: QueueControl, step: str, *, by: str, reason: str) -> Switched:
    """Pause the step's queue: recorded first, then its consumers cancelled."""
    queue = STEP_QUEUES[step]
    with work() as session:
        fresh = pause(session, queue, by=by, reason=reason)
    workers = control.stop_consuming(queue)
    with work() as session:
        add_workers(session, queue, workers)
    return Switched(queue, steps_on(queue), workers, fresh)


def resume_step(work: Work, control: QueueControl, step: str) -> Switched:
    """Resume the step's queue: its consumers added again, then the record removed."""
    queue = STEP_QUEUES[step]
    with work.sessions() as session:
        paused = session.get(PausedQueue, queue)
        workers = list(paused.workers) if paused is not None else []
    started = control.start_consuming(queue, workers) if paused is not None else []
    with work() as session:
        resumed = resume(session, queue) is not None
    return Switched(queue, steps_on(queue), started, resumed)


def pauses(work: Work) -> list[Pause]:
    """Every paused queue."""
    with work.sessions() as session:
        return [
            Pause(p.queue, steps_on(p.queue), p.paused_at, p.paused_by, p.reason, list(p.workers))
            for p in paused_queues(session)
        ]
