"""The names of the workers' tasks, as follow-up rows name them.

Rows are written by the intake, the dispatcher and the workers alike; the names are the
contract between them, so none of the writers needs to import the task code.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from models.follow_ups import later
from models.messages import OrderCancelled, OrderDelivered, OrderMessage

ALLOCATE = "fulfillment.allocate"
CHARGE = "fulfillment.charge"
SHIP = "fulfillment.ship"
NOTIFY = "fulfillment.notify"
REFUND = "fulfillment.refund"
SETTLE_PAYMENT = "fulfillment.settle_payment"
ALERT_LOW_STOCK = "fulfillment.alert_low_stock"


def mail(session: Session, order_id: uuid.UUID, kind: str) -> None:
    """Record that the `kind` email about the order must go out once this transaction commits."""
    later(session, NOTIFY, str(order_id), kind)


def follow_message(session: Session, message: OrderMessage) -> None:
    """Record the work a queue message asks for, in the transaction that accepts the message."""
    order_id = str(message.order_id)
    if isinstance(message, OrderDelivered):
        mail(session, message.order_id, "delivered")
    elif isinstance(message, OrderCancelled):
        mail(session, message.order_id, "cancelled")
        # The one place the money of an order that will not be fulfilled is decided.
        later(session, SETTLE_PAYMENT, order_id)
    else:
        mail(session, message.order_id, "received")
        later(session, ALLOCATE, order_id)
