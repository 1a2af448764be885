"""Guarded status changes: one UPDATE that names the status it expects, and a timeline entry."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus, can_transition
from models.domain.webhooks import TIMELINE_TYPES
from models.store.webhook_events import record_with_hooks
from models.tables.orders import Order, OrderEvent

EVENTS = cast(Table, OrderEvent.__table__)


def lock_order(session: Session, order_id: uuid.UUID, expected: OrderStatus) -> Order | None:
    """The order, row-locked, if it is in `expected`; None if it has moved on (or never was)."""
    return session.scalar(
        select(Order).where(Order.id == order_id, Order.status == expected.value).with_for_update()
    )


def record_event(
    session: Session,
    order_id: uuid.UUID,
    kind: str,
    *,
    from_status: OrderStatus | None = None,
    to_status: OrderStatus | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the order's timeline, and the shop's webhook deliveries if it hears of it."""
    event_type = TIMELINE_TYPES.get(kind)
    if event_type is not None:
        record_with_hooks(
            session,
            order_id,
            kind,
            event_type,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value if to_status else None,
            detail=detail or {},
            at=utcnow(),
        )
        return
    # A plain INSERT through the session: it flushes pending objects first, then skips the
    # unit of work for a row nothing reads back in this transaction.
    session.execute(
        insert(EVENTS).values(
            order_id=order_id,
            kind=kind,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value if to_status else None,
            detail=detail or {},
            created_at=utcnow(),
        )
    )


def advance(
    session: Session,
    order_id: uuid.UUID,
    expected: OrderStatus,
    target: OrderStatus,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Move the order from `expected` to `target`; False if it was not in `expected`."""
    if not can_transition(expected, target):
        raise ValueError(f"{expected} -> {target} is not a transition")
    moved = session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == expected.value)
        .values(status=target.value, updated_at=utcnow())
        .returning(Order.id)
    ).first()
    if moved is None:
        return False
    record_event(
        session, order_id, target.value, from_status=expected, to_status=target, detail=detail
    )
    return True
