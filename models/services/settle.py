"""Settling an order's money: a charge on an order that will not be fulfilled goes back.

Cancel, decline, give-up and a late success all end here. When our records say a charge
was sent but never answered, the gateway is asked (the outcome is unknown, so nothing is
decided without it); an intent still pending is cancelled; a charge found is refunded.
"""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from sqlalchemy import select, update

from models.domain.clock import utcnow
from models.domain.tasks import REFUND
from models.ports import ChargeResult, PaymentGateway, PaymentUnavailable
from models.services.charge import NOT_FULFILLED, refund_charge
from models.store.follow_ups import TryLater, finish_current, later
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment
from models.tables.orders import Order

log = logging.getLogger(__name__)

# The failure code of a charge sent for an order cancelled before its answer came, where the
# gateway then knew of no charge. Search can trail a charge, so it is checked again later.
CANCELLED_IN_FLIGHT = "cancelled_in_flight"
RETRY_SECONDS = 30.0


class Settled(StrEnum):
    """What settling did."""

    NOTHING_TO_SETTLE = "nothing_to_settle"
    REFUND_QUEUED = "refund_queued"
    NOT_CHARGED = "not_charged"


def _ask(gateway: PaymentGateway, order_id: uuid.UUID) -> ChargeResult | None:
    """What the gateway knows; an intent still pending is cancelled so it cannot take money."""
    found = gateway.find_charge(order_id=str(order_id))
    if found is not None and found.status == "pending" and found.gateway_id is not None:
        found = gateway.cancel(payment_intent_id=found.gateway_id, order_id=str(order_id))
    return found


def settle_payment(work: Work, gateway: PaymentGateway, order_id: uuid.UUID) -> Settled:
    """Make the order's money match its fate; TryLater while the gateway cannot be asked."""
    with work() as session:
        status = session.scalar(select(Order.status).where(Order.id == order_id))
        payment = session.scalar(select(Payment).where(Payment.order_id == order_id))
        if status is None:
            raise LookupError(f"no order {order_id}")
        if payment is None or status not in NOT_FULFILLED:
            finish_current(session)
            return Settled.NOTHING_TO_SETTLE
        if payment.status == "succeeded" and payment.gateway_id is not None:
            refund_charge(session, order_id, payment.gateway_id, f"charged_{status}")
            finish_current(session)
            return Settled.REFUND_QUEUED
        if payment.status == "refund_pending":
            later(session, REFUND, str(order_id))
            finish_current(session)
            return Settled.REFUND_QUEUED
        if payment.status != "pending" or payment.attempts == 0:
            finish_current(session)
            return Settled.NOTHING_TO_SETTLE
    try:
        found = _ask(gateway, order_id)
    except PaymentUnavailable as exc:
        raise TryLater(str(exc), delay=RETRY_SECONDS) from exc
    with work() as session:
        if found is not None and found.status == "succeeded" and found.gateway_id is not None:
            refund_charge(session, order_id, found.gateway_id, f"charged_{status}")
            outcome = Settled.REFUND_QUEUED
        else:
            code = found.failure_code if found is not None else None
            session.execute(
                update(Payment)
                .where(Payment.order_id == order_id, Payment.status == "pending")
                .values(
                    status="failed",
                    failure_code=(code or CANCELLED_IN_FLIGHT)[:100],
                    updated_at=utcnow(),
                )
            )
            outcome = Settled.NOT_CHARGED
        finish_current(session)
    log.info("settle: %s", outcome, extra={"order_id": str(order_id)})
    return outcome
