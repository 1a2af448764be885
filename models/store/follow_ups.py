"""Follow-ups: what must happen after a change, recorded as outbox rows in the change's transaction.

A follow-up is either a task for the workers (`TASK`) or a message for the SQS orders queue
(`ORDERS`). Recording one is part of the change: both commit, or neither does. Whoever
committed publishes it right away when it can (an optimisation); the relay publishes every
row that is due and not done (the guarantee). A task row stays pending until the task has
run to an outcome, so a task lost with the broker's memory is published again once its
lease runs out, or at once when the broker is seen to have lost its queues
(`bring_forward_published`); every task is idempotent, so a second run changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Interval, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.follow_ups import (
    CURRENT,
    DEFAULT_LEASE_SECONDS,
    FINISHES,
    LEASE,
    ORDERS,
    PUBLISHES,
    RECORDED,
    REQUEST_ID,
    REQUEST_ID_FIELD,
    TASK,
    Arg,
    FollowUp,
)
from models.domain.tasks import NOTIFY
from models.store.pauses import paused_tasks
from models.tables.outbox import PENDING, Outbox


def _subject(args: tuple[Arg, ...]) -> str:
    return str(args[0]) if args else ""


def pending_row(
    *,
    topic: str,
    subject: str,
    payload: dict[str, Any],
    key: str,
    delay: float,
    publish_now: bool,
    lease: float,
    now: datetime,
) -> dict[str, Any]:
    """An outbox row's columns: due at once, or after `lease` when its writer publishes it.

    The payload carries the request the work traces back to, if there is one (REQUEST_ID).
    """
    # Published by its writer right after commit: the relay waits out a lease before trying.
    wait = lease if publish_now else delay
    request_id = REQUEST_ID.get()
    return {
        "topic": topic,
        "message_key": subject[:100],
        "payload": payload if request_id is None else payload | {REQUEST_ID_FIELD: request_id},
        "dedupe_key": key[:200],
        "created_at": now,
        "due_at": now + timedelta(seconds=max(0.0, wait)),
        "attempts": 1 if publish_now else 0,
        "published_at": now if publish_now else None,
    }


def _record(
    session: Session,
    *,
    topic: str,
    subject: str,
    payload: dict[str, Any],
    key: str,
    delay: float,
) -> FollowUp | None:
    publish_now = delay <= 0 and topic in session.info.get(PUBLISHES, frozenset())
    values = pending_row(
        topic=topic,
        subject=subject,
        payload=payload,
        key=key,
        delay=delay,
        publish_now=publish_now,
        lease=float(session.info.get(LEASE, DEFAULT_LEASE_SECONDS)),
        now=utcnow(),
    )
    row = session.execute(
        insert(Outbox)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Outbox.dedupe_key], index_where=PENDING)
        .returning(Outbox.id)
    ).scalar()
    if row is None:
        return None
    follow_up = FollowUp(row, topic, values["payload"], values["attempts"], publish_now)
    session.info.setdefault(RECORDED, []).append(follow_up)
    return follow_up


def later(
    session: Session, task: str, *args: Arg, key: str | None = None, delay: float = 0.0
) -> FollowUp | None:
    """Record that `task(*args)` must run once this transaction commits; None if already pending.

    The key (by default the task and its arguments) admits one pending row at a time, so a
    step that runs twice does not ask twice for what follows it.
    """
    payload = {"task": task, "args": list(args)}
    dedupe = key or ":".join([task, *(str(a) for a in args)])
    return _record(
        session, topic=TASK, subject=_subject(args), payload=payload, key=dedupe, delay=delay
    )


def send(session: Session, document: dict[str, Any], *, subject: uuid.UUID | str) -> None:
    """Record a message for the SQS orders queue, sent once this transaction commits."""
    key = message_dedupe_key(document, subject)
    _record(session, topic=ORDERS, subject=str(subject), payload=document, key=key, delay=0.0)


def message_dedupe_key(document: dict[str, Any], subject: uuid.UUID | str) -> str:
    """What admits one pending SQS message of a kind for a subject."""
    return f"{document.get('type', 'message')}:{subject}"


def finish(session: Session, follow_up_id: int, at: datetime | None = None) -> None:
    """Mark a follow-up done: it ran to an outcome, or SQS took it."""
    finish_all(session, [follow_up_id], at)


def finish_all(session: Session, follow_up_ids: Sequence[int], at: datetime | None = None) -> None:
    """Mark follow-ups done in one statement (a task's row, or the messages a batch delivered)."""
    if follow_up_ids:
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(follow_up_ids), Outbox.done_at.is_(None))
            .values(done_at=at or utcnow())
        )


def finish_current(session: Session) -> None:
    """Mark the running task's follow-up done in this transaction, with the step's outcome."""
    current = CURRENT.get()
    if current is not None and not current.finished:
        finish(session, current.id)
        session.info[FINISHES] = current


def reschedule(session: Session, follow_up_id: int, *, delay: float, error: str) -> None:
    """Publish the follow-up again after `delay` seconds: the step will try again then."""
    session.execute(
        update(Outbox)
        .where(Outbox.id == follow_up_id, Outbox.done_at.is_(None))
        .values(due_at=utcnow() + timedelta(seconds=delay), last_error=error[:500])
    )


def fail(session: Session, follow_up_id: int, *, error: str) -> None:
    """Give the follow-up up for good: it is never published again."""
    session.execute(
        update(Outbox)
        .where(Outbox.id == follow_up_id, Outbox.done_at.is_(None), Outbox.failed_at.is_(None))
        .values(failed_at=utcnow(), last_error=error[:500])
    )


def _not_paused(session: Session) -> ColumnElement[bool]:
    """Rows not of a paused queue: those wait, unpublished and unspent, until it resumes."""
    held = paused_tasks(session)
    if not held:
        return true()
    return or_(Outbox.topic != TASK, Outbox.payload["task"].astext.not_in(held))


def claim_due(
    session: Session, *, topics: frozenset[str], limit: int, lease_seconds: float
) -> list[FollowUp]:
    """Rows of these topics due for publishing, each leased so no other relay takes it."""
    now = utcnow()
    due = (
        select(Outbox.id)
        .where(PENDING, Outbox.due_at <= now, Outbox.topic.in_(topics), _not_paused(session))
        .order_by(Outbox.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Outbox)
        .where(Outbox.id.in_(due.scalar_subquery()))
        .values(
            due_at=now + timedelta(seconds=lease_seconds),
            attempts=Outbox.attempts + 1,
            published_at=now,
        )
        .returning(Outbox.id, Outbox.topic, Outbox.payload, Outbox.attempts)
    ).all()
    return sorted(
        (FollowUp(row_id, topic, payload, attempts) for row_id, topic, payload, attempts in rows),
        key=lambda f: f.id,
    )


def bring_forward_published(session: Session, *, lease_seconds: float) -> int:
    """Make due now the tasks published within their lease and not done: the broker they went
    to lost its queues, so they wait for nothing. How many rows came forward.

    A retry whose backoff ends within its lease comes forward too: one try sooner, which a
    step takes like any retry. Longer backoffs, and rows never published, keep their time.
    """
    now = utcnow()
    moved = session.execute(
        update(Outbox)
        .where(
            PENDING,
            Outbox.topic == TASK,
            Outbox.due_at > now,
            Outbox.published_at.is_not(None),
            Outbox.due_at
            <= Outbox.published_at + literal(timedelta(seconds=lease_seconds), Interval()),
        )
        .values(due_at=now)
        .returning(Outbox.id)
    ).all()
    return len(moved)


def mail(session: Session, order_id: uuid.UUID, kind: str) -> None:
    """Record that the `kind` email about the order must go out once this transaction commits."""
    later(session, NOTIFY, str(order_id), kind)
