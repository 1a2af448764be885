"""Cancelling an order before it ships or is collected: stock back on the shelf, a refund
queued if it was paid."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.lifecycle import OrderStatus
from models.domain.messages import OrderCancelled
from models.store.follow_ups import send
from models.store.orders import advance
from models.store.stock import release
from models.tables.fulfilment import Payment
from models.tables.orders import Order

# A pickup order waiting at its warehouse still holds its units: cancelling gives them back.
CANCELLABLE = frozenset(
    {
        OrderStatus.RECEIVED,
        OrderStatus.BACKORDERED,
        OrderStatus.ALLOCATED,
        OrderStatus.ON_HOLD,
        OrderStatus.PAID,
        OrderStatus.READY_FOR_PICKUP,
    }
)


class CannotCancel(Exception):
    """The order is past the point where it can be cancelled."""

    def __init__(self, status: str) -> None:
        super().__init__(f"an order that is {status} cannot be cancelled")
        self.status = status


@dataclass(frozen=True)
class Cancellation:
    """What cancelling did: nothing (it was already cancelled), or a change to publish."""

    order_id: uuid.UUID
    already: bool
    refund: bool
    units_released: int = 0


# Payments a cancel hands to the refund step: charged, authorised, or being captured.
SETTLED_BY_REFUND = ("succeeded", "authorized", "capturing")


def cancel_order(
    session: Session, order_id: uuid.UUID, *, reason: str, actor: str, now: datetime
) -> Cancellation:
    """Cancel the order in the caller's transaction; asking twice cancels once."""
    # The row lock makes a second cancel, a ship or a charge being recorded wait their turn.
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        raise LookupError(str(order_id))
    status = OrderStatus(order.status)
    if status is OrderStatus.CANCELLED:
        paid = session.scalar(select(Payment.status).where(Payment.order_id == order_id))
        return Cancellation(order_id, already=True, refund=paid in {"refund_pending", "refunded"})
    if status not in CANCELLABLE:
        raise CannotCancel(status.value)
    advance(session, order_id, status, OrderStatus.CANCELLED, {"reason": reason, "by": actor})
    units = release(session, order_id)
    # A charge still in flight is caught when its result is recorded (workers/charging.py).
    refunding = session.execute(
        update(Payment)
        # Money taken, or held on the card: the refund step gives it back or voids it.
        .where(Payment.order_id == order_id, Payment.status.in_(SETTLED_BY_REFUND))
        .values(status="refund_pending", updated_at=now)
        .returning(Payment.id)
    ).first()
    # The message carries the cancellation to the workers: the mail, and settling the money.
    send(session, OrderCancelled(order_id, now).to_json(), subject=order_id)
    return Cancellation(order_id, False, refunding is not None, units)
