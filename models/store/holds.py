"""Holding an order and releasing it: one guarded UPDATE each, with its timeline entry and
what must follow, in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from models.domain.holds import Hold
from models.domain.lifecycle import OrderStatus
from models.domain.mail import instance_kind
from models.domain.tasks import CHARGE
from models.store.follow_ups import later, mail
from models.store.orders import record_event
from models.tables.fulfilment import Payment
from models.tables.orders import Order, OrderEvent

HELD = "held"
RELEASED = "hold_released"


def was_released(session: Session, order_id: uuid.UUID) -> bool:
    """Whether a person released the order from a hold before: the rules let it pass then."""
    return bool(
        session.scalar(
            select(exists().where(OrderEvent.order_id == order_id, OrderEvent.kind == RELEASED))
        )
    )


def charge_attempted(session: Session, order_id: uuid.UUID) -> bool:
    """Whether a charge was sent for the order: past that point a hold would come too late."""
    return bool(
        session.scalar(select(exists().where(Payment.order_id == order_id, Payment.attempts > 0)))
    )


def orders_in_the_hour(session: Session, email: str, placed_at: datetime) -> int:
    """How many orders the address placed in the hour up to `placed_at`, that one included."""
    since = placed_at - timedelta(hours=1)
    query = select(func.count()).where(
        Order.customer_email == email, Order.created_at > since, Order.created_at <= placed_at
    )
    return int(session.scalar(query) or 0)


def hold(
    session: Session,
    order_id: uuid.UUID,
    held: Hold,
    *,
    by: str,
    now: datetime,
    until: datetime,
    from_status: OrderStatus = OrderStatus.ALLOCATED,
) -> bool:
    """Hold an allocated order (or a paid one whose authorisation lapsed): its reason kept,
    its stock kept until `until`, operations mailed. False if it was not in `from_status`."""
    moved = session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == from_status.value)
        .values(
            status=OrderStatus.ON_HOLD.value,
            hold_reason=held.reason.value,
            hold_note=held.note[:300],
            held_at=now,
            hold_until=until,
            updated_at=now,
        )
        .returning(Order.id)
    ).first()
    if moved is None:
        return False
    detail = {"reason": held.reason.value, "note": held.note, "by": by, "until": until.isoformat()}
    to = OrderStatus.ON_HOLD
    record_event(session, order_id, HELD, from_status=from_status, to_status=to, detail=detail)
    times = session.scalar(
        select(func.count()).where(OrderEvent.order_id == order_id, OrderEvent.kind == HELD)
    )
    # One mail per hold: an order held again after a release is news again.
    mail(session, order_id, instance_kind("order_held", times))
    return True


def release(session: Session, order_id: uuid.UUID, *, by: str, now: datetime) -> str | None:
    """Release a held order and ask for its charge, once; the reason it was held, or None if
    it was not on hold (released or cancelled meanwhile)."""
    released = session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == OrderStatus.ON_HOLD.value)
        .values(
            status=OrderStatus.ALLOCATED.value,
            hold_reason=None,
            hold_note=None,
            held_at=None,
            hold_until=None,
            updated_at=now,
        )
        .returning(Order.id)
    ).first()
    if released is None:
        return None
    reason = session.scalar(
        select(OrderEvent.detail["reason"].astext)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == HELD)
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    record_event(
        session,
        order_id,
        RELEASED,
        from_status=OrderStatus.ON_HOLD,
        to_status=OrderStatus.ALLOCATED,
        detail={"by": by, "reason": reason},
    )
    later(session, CHARGE, str(order_id))
    return reason or ""


def held_orders(session: Session, limit: int = 500) -> list[Order]:
    """The orders on hold, the longest held first."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.status == OrderStatus.ON_HOLD.value)
            .order_by(Order.held_at, Order.id)
            .limit(limit)
        )
    )
