"""The end of a partially shipped order's later parts when one cannot be paid for."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus
from models.domain.mail import instance_kind
from models.domain.messages import OrderDelivered
from models.store.follow_ups import mail, send
from models.store.orders import advance
from models.store.parts import cancel_unshipped, in_flight_part, lines_waiting
from models.tables.fulfilment import Shipment


def end_parts(session: Session, order_id: uuid.UUID, part: int, code: str) -> None:
    """Part `part` was not paid for: its units go back on the shelf, every line's unshipped
    rest is cancelled, the customer is told, and the order is shipped for what did ship (or
    delivered, if every parcel it had has arrived). The caller holds the order's row lock."""
    cancelled = cancel_unshipped(session, order_id)
    detail = {"part": part, "code": code, "cancelled": {str(k): v for k, v in cancelled.items()}}
    if not advance(session, order_id, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, detail):
        return
    mail(session, order_id, instance_kind("part_payment_failed", part))
    _delivered_if_arrived(session, order_id)


def complete_parts(session: Session, order_id: uuid.UUID) -> bool:
    """A partially shipped order that nothing follows for any more (its waiting units were
    cancelled, and no part is on its way) is shipped for what did ship; True if it moved.
    The caller holds the order's row lock."""
    if lines_waiting(session, order_id) or in_flight_part(session, order_id) is not None:
        return False
    done = {"reason": "nothing left to follow"}
    if not advance(session, order_id, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, done):
        return False
    _delivered_if_arrived(session, order_id)
    return True


def _delivered_if_arrived(session: Session, order_id: uuid.UUID) -> None:
    on_the_way = session.scalar(
        select(exists().where(Shipment.order_id == order_id, Shipment.status != "delivered"))
    )
    if on_the_way:
        return
    # Every parcel it had has arrived already: delivered, as the carrier's last event would
    # have made it (models/services/track.py), with the same message after it.
    arrived = session.scalar(
        select(func.max(Shipment.delivered_at)).where(Shipment.order_id == order_id)
    )
    if advance(session, order_id, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        message = OrderDelivered(order_id, arrived or utcnow()).to_json()
        send(session, message, subject=order_id)
