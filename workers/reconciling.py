"""Abandoned payments checked again later: a charge the gateway took after all is refunded.

A payment is abandoned when the gateway stayed unreachable; the customer was told they
were not charged. Stripe's search can lag new charges, so the check runs once the lag
has passed, and any charge it finds goes back through the refund step.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.fulfilment import Payment
from models.transitions import record_event
from workers.adapters.payments import PaymentGateway
from workers.charging import GATEWAY_UNAVAILABLE

log = logging.getLogger(__name__)

# Search results can trail a charge by up to an hour; idempotency keys live 24 hours.
SETTLE = timedelta(minutes=65)
WINDOW = timedelta(hours=24)


def due(sessions: sessionmaker[Session], limit: int = 100) -> list[uuid.UUID]:
    """Abandoned payments old enough for the gateway to know, and not yet checked."""
    now = utcnow()
    with sessions() as session:
        return list(
            session.scalars(
                select(Payment.order_id)
                .where(
                    Payment.status == "failed",
                    Payment.failure_code == GATEWAY_UNAVAILABLE,
                    Payment.reconciled_at.is_(None),
                    Payment.updated_at < now - SETTLE,
                    Payment.updated_at > now - WINDOW,
                )
                .limit(limit)
            )
        )


def reconcile(
    sessions: sessionmaker[Session], gateway: PaymentGateway, order_id: uuid.UUID
) -> bool:
    """Check one abandoned payment; True when a late charge was found and queued for refund."""
    found = gateway.find_charge(order_id=str(order_id))
    charge_id = found.gateway_id if found is not None and found.status == "succeeded" else None
    with sessions() as session, session.begin():
        values: dict[str, object] = {"reconciled_at": utcnow()}
        if charge_id is not None:
            values |= {"status": "refund_pending", "gateway_id": charge_id}
        moved = session.execute(
            update(Payment)
            .where(
                Payment.order_id == order_id,
                Payment.status == "failed",
                Payment.reconciled_at.is_(None),
            )
            .values(**values, updated_at=utcnow())
            .returning(Payment.id)
        ).first()
        if moved is None or charge_id is None:
            return False
        record_event(session, order_id, "charged_after_abandon", detail={"payment": charge_id})
    log.error(
        "an abandoned payment was charged after all; refunding", extra={"order_id": str(order_id)}
    )
    return True
