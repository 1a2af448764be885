"""Staff moving an order by hand: only along the transitions a person may take, each with the
same rules as the pipeline's own (a cancel releases stock and refunds; a delivery delivers the
parcels and mails the customer; a collection takes a pickup order's stock off the shelf)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.domain.lifecycle import OrderStatus
from models.services.cancel import CANCELLABLE, cancel_order
from models.services.pickup import collect_order
from models.services.track import apply_tracking
from models.tables.fulfilment import Shipment
from models.tables.orders import Order

# The moves left to the pipeline (allocated, paid, shipped, rejected, payment failed) need what
# only it has: stock picked, a charge, a label. A person may cancel, confirm a delivery, or
# record that the customer collected a pickup order.
BY_HAND: dict[OrderStatus, frozenset[OrderStatus]] = {
    **{status: frozenset({OrderStatus.CANCELLED}) for status in CANCELLABLE},
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.READY_FOR_PICKUP: frozenset({OrderStatus.COLLECTED, OrderStatus.CANCELLED}),
}


class IllegalTransition(Exception):
    """The order cannot move to the wanted status from where it is; `allowed` says where to."""

    def __init__(self, current: str, target: str, allowed: list[str]) -> None:
        super().__init__(f"an order that is {current} cannot be set to {target} by hand")
        self.current = current
        self.allowed = allowed


@dataclass(frozen=True)
class StatusChange:
    """The order's status after the change, and whether it moved."""

    order_id: uuid.UUID
    status: str
    changed: bool


def allowed_from(status: OrderStatus) -> list[str]:
    """The statuses staff may set an order in `status` to."""
    return sorted(target.value for target in BY_HAND.get(status, frozenset()))


def change_status(
    session: Session,
    order_id: uuid.UUID,
    target: OrderStatus,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> StatusChange:
    """Move the order to `target` in the caller's transaction; asking again changes nothing."""
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        raise LookupError(str(order_id))
    current = OrderStatus(order.status)
    if current is target:
        return StatusChange(order_id, current.value, False)
    if target not in BY_HAND.get(current, frozenset()):
        raise IllegalTransition(current.value, target.value, allowed_from(current))
    if target is OrderStatus.CANCELLED:
        cancel_order(session, order_id, reason=reason, actor=actor, now=now)
    elif target is OrderStatus.COLLECTED:
        collect_order(session, order_id, actor=actor)
    else:
        _deliver(session, order_id, actor=actor, now=now)
    now_status = session.scalar(select(Order.status).where(Order.id == order_id))
    return StatusChange(order_id, str(now_status), now_status != current.value)


def _deliver(session: Session, order_id: uuid.UUID, *, actor: str, now: datetime) -> None:
    numbers = session.scalars(
        select(Shipment.tracking_number).where(
            Shipment.order_id == order_id, Shipment.status != "delivered"
        )
    ).all()
    for number in numbers:
        apply_tracking(session, number, "delivered", at=now, source=f"staff {actor}")
