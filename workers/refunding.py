"""The refund step: money back for a cancelled order, exactly once, however often it runs."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.fulfilment import Payment
from models.transitions import record_event
from workers.adapters.payments import PaymentGateway

log = logging.getLogger(__name__)


class Refunded(StrEnum):
    """What the refund step did."""

    REFUNDED = "refunded"
    NOTHING_TO_REFUND = "nothing_to_refund"


def refund_key(order_id: uuid.UUID) -> str:
    """The gateway idempotency key of the order's refund: the same on every attempt."""
    return f"order-{order_id}-refund"


def refund_order(
    sessions: sessionmaker[Session], gateway: PaymentGateway, order_id: uuid.UUID
) -> Refunded:
    """Refund a payment marked for refund; PaymentUnavailable propagates for retry."""
    with sessions() as session:
        intent = session.scalar(
            select(Payment.gateway_id).where(
                Payment.order_id == order_id, Payment.status == "refund_pending"
            )
        )
    if intent is None:
        return Refunded.NOTHING_TO_REFUND
    # The key makes the gateway refund once even when two of these run at the same moment.
    refund_id = gateway.refund(
        idempotency_key=refund_key(order_id), payment_intent_id=intent, order_id=str(order_id)
    )
    with sessions() as session, session.begin():
        moved = session.execute(
            update(Payment)
            .where(Payment.order_id == order_id, Payment.status == "refund_pending")
            .values(
                status="refunded", refund_id=refund_id, refunded_at=utcnow(), updated_at=utcnow()
            )
            .returning(Payment.amount)
        ).first()
        if moved is None:
            return Refunded.NOTHING_TO_REFUND
        record_event(
            session, order_id, "refunded", detail={"refund": refund_id, "amount": moved[0]}
        )
    log.info("refunded %s", refund_id, extra={"order_id": str(order_id)})
    return Refunded.REFUNDED
