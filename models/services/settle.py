"""Settling an order's money: a charge on an order that will not be fulfilled goes back.

Cancel, decline, give-up and a late success all end here. When our records say a charge
was sent but never answered, the gateway is asked (the outcome is unknown, so nothing is
decided without it); an intent still pending is cancelled; a charge found is refunded.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.payments import CANCELLED_IN_FLIGHT, NOT_FULFILLED
from models.domain.tasks import REFUND
from models.ports import ChargeResult, PaymentGateway, PaymentUnavailable
from models.services.charge import refund_charge
from models.store.follow_ups import finish_current, later
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment
from models.tables.orders import Order

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0


class Settled(StrEnum):
    """What settling did."""

    NOTHING_TO_SETTLE = "nothing_to_settle"
    REFUND_QUEUED = "refund_queued"
    NOT_CHARGED = "not_charged"


# Payments whose money is taken or held on the card: the refund step refunds or voids them.
HELD_OR_CAPTURED = ("succeeded", "authorized", "capturing")


def _ask(gateway: PaymentGateway, order_id: uuid.UUID) -> ChargeResult | None:
    """What the gateway knows; an intent still pending is cancelled so it cannot take money."""
    found = gateway.find_charge(order_id=str(order_id))
    # An authorisation (manual capture) is voided the same way: it holds money, takes none.
    unsettled = found is not None and found.status in ("pending", "authorized")
    if unsettled and found is not None and found.gateway_id is not None:
        found = gateway.cancel(payment_intent_id=found.gateway_id, order_id=str(order_id))
    return found


def _from_records(session: Session, order_id: uuid.UUID, in_flight: float) -> Settled | str:
    """Settle what our records decide; the order's status when only the gateway can.

    TryLater while a charge attempt that was never answered may still land: a gateway with
    no charge then has not said its last word. (Once the gateway has answered with an intent,
    every later attempt under the same key is that intent, which settling cancels.)
    """
    status = session.scalar(select(Order.status).where(Order.id == order_id))
    # An order that will not be fulfilled never shipped a part: its one payment is part 1.
    payment = session.scalar(select(Payment).where(Payment.order_id == order_id, Payment.part == 1))
    if status is None:
        raise LookupError(f"no order {order_id}")
    if payment is None or status not in NOT_FULFILLED:
        return Settled.NOTHING_TO_SETTLE
    if payment.status in HELD_OR_CAPTURED and payment.gateway_id is not None:
        refund_charge(session, order_id, payment.gateway_id, f"charged_{status}")
        return Settled.REFUND_QUEUED
    if payment.status == "refund_pending":
        later(session, REFUND, str(order_id))
        return Settled.REFUND_QUEUED
    if payment.status != "pending" or payment.attempts == 0:
        return Settled.NOTHING_TO_SETTLE
    landing = payment.updated_at + timedelta(seconds=in_flight) - utcnow()
    if payment.gateway_id is None and landing > timedelta(0):
        raise TryLater("a charge sent moments ago may still land", delay=landing.total_seconds())
    return str(status)


def _from_gateway(
    session: Session, order_id: uuid.UUID, status: str, found: ChargeResult | None
) -> Settled:
    """Settle by what the gateway said of a charge whose answer we never had."""
    if found is not None and found.status == "succeeded" and found.gateway_id is not None:
        refund_charge(session, order_id, found.gateway_id, f"charged_{status}")
        return Settled.REFUND_QUEUED
    code = found.failure_code if found is not None else None
    session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.part == 1, Payment.status == "pending")
        .values(
            status="failed", failure_code=(code or CANCELLED_IN_FLIGHT)[:100], updated_at=utcnow()
        )
    )
    return Settled.NOT_CHARGED


def settle_payment(work: Work, gateway: PaymentGateway, order_id: uuid.UUID) -> Settled:
    """Make the order's money match its fate; TryLater while the gateway cannot be asked."""
    with work() as session:
        decided = _from_records(session, order_id, gateway.longest_call_seconds)
        if isinstance(decided, Settled):
            finish_current(session)
            return decided
    try:
        found = _ask(gateway, order_id)
    except PaymentUnavailable as exc:
        raise TryLater(str(exc), delay=RETRY_SECONDS) from exc
    with work() as session:
        outcome = _from_gateway(session, order_id, decided, found)
        finish_current(session)
    log.debug("settle: %s", outcome, extra={"order_id": str(order_id)})
    return outcome
