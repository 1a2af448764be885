"""Stuck orders for operations: which orders stopped moving, what waits for them, a re-drive.

A re-drive goes the watchdog's way (`watchdog.redrive_order`): the step that moves the order
on is asked for again as a follow-up row, whose dedupe key admits one pending row. Re-driving
an order twice, or one the watchdog re-drove a moment ago, asks once; and every step is
idempotent besides, so a step never runs twice for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus, next_step
from models.services.watchdog import MOVING, redrive_order
from models.store.unit_of_work import Work
from models.tables.orders import Order
from models.tables.outbox import PENDING, Outbox


@dataclass(frozen=True)
class Waiting:
    """A follow-up of the order not yet done: a task, or a message for the orders queue."""

    what: str
    attempts: int
    due_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class Stuck:
    """An order in a moving state for longer than it should be."""

    order_id: uuid.UUID
    status: str
    since: datetime
    next_step: str | None
    pending: list[Waiting] = field(default_factory=list)

    def age_seconds(self, now: datetime) -> int:
        """How long it has been in its state."""
        return int((now - self.since).total_seconds())


def _pending(session: Session, order_ids: list[str]) -> dict[str, list[Waiting]]:
    rows = session.execute(
        select(
            Outbox.message_key, Outbox.payload, Outbox.attempts, Outbox.due_at, Outbox.last_error
        )
        .where(PENDING, Outbox.message_key.in_(order_ids))
        .order_by(Outbox.id)
    ).all()
    found: dict[str, list[Waiting]] = {}
    for key, payload, attempts, due_at, error in rows:
        what = str(payload.get("task") or payload.get("type") or "?").removeprefix("fulfillment.")
        if payload.get("task") == "fulfillment.notify" and len(payload.get("args", [])) > 1:
            what = f"notify {payload['args'][1]}"
        found.setdefault(key, []).append(Waiting(what, attempts, due_at, error))
    return found


def list_stuck(
    sessions: sessionmaker[Session], *, older_than_seconds: int, limit: int = 500
) -> list[Stuck]:
    """Orders received, allocated or paid and unchanged for longer than `older_than_seconds`.

    Shipped orders wait on the carrier, pickup orders ready at their warehouse on their
    customer (expire_pickups ends those held too long) and backordered ones on stock: none of
    them is listed.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with sessions() as session:
        rows = session.execute(
            select(Order.id, Order.status, Order.updated_at)
            .where(Order.status.in_(MOVING), Order.updated_at < cutoff)
            .order_by(Order.updated_at)
            .limit(limit)
        ).all()
        pending = _pending(session, [str(order_id) for order_id, _, _ in rows])
    return [
        Stuck(
            order_id, status, since, next_step(OrderStatus(status)), pending.get(str(order_id), [])
        )
        for order_id, status, since in rows
    ]


class Redriven(StrEnum):
    """What a re-drive did for one order."""

    ASKED = "asked"
    WOULD_ASK = "would ask"
    ALREADY_PENDING = "already pending"
    NOT_MOVING = "not moving"
    UNKNOWN = "unknown order"


@dataclass(frozen=True)
class Redrive:
    """One order's re-drive: what became of it, and the step asked for (or that would be)."""

    order_id: str
    outcome: Redriven
    step: str | None = None
    status: str | None = None


def _one(session: Session, order_id: str, *, dry_run: bool) -> Redrive:
    try:
        key = uuid.UUID(order_id)
    except ValueError:
        return Redrive(order_id, Redriven.UNKNOWN)
    status = session.scalar(select(Order.status).where(Order.id == key).with_for_update())
    if status is None:
        return Redrive(order_id, Redriven.UNKNOWN)
    step = next_step(OrderStatus(status)) if status in MOVING else None
    if step is None:
        return Redrive(order_id, Redriven.NOT_MOVING, status=status)
    if dry_run:
        waiting = _pending(session, [order_id]).get(order_id, [])
        outcome = Redriven.ALREADY_PENDING if _asks(waiting, step) else Redriven.WOULD_ASK
        return Redrive(order_id, outcome, step, status)
    asked = redrive_order(session, key, status, by="operations")
    return Redrive(order_id, Redriven.ASKED if asked else Redriven.ALREADY_PENDING, step, status)


def _asks(waiting: list[Waiting], step: str) -> bool:
    return any(w.what == step for w in waiting)


def redrive(work: Work, order_ids: list[str], *, dry_run: bool = False) -> list[Redrive]:
    """Ask again for the next step of each order, the watchdog's way; or say what would be."""
    with work() as session:
        return [_one(session, order_id, dry_run=dry_run) for order_id in order_ids]
