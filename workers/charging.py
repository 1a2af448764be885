"""The charge step: take payment once, whatever the network does; a decline releases the stock."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.domain.lifecycle import OrderStatus
from models.fulfilment import Payment
from models.orders import Order
from models.stock import release
from models.transitions import advance
from workers.adapters.payments import ChargeResult, PaymentGateway, PaymentRejected

log = logging.getLogger(__name__)


class Charged(StrEnum):
    """What the charge step did."""

    PAID = "paid"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    SKIPPED = "skipped"


def charge_key(order_id: uuid.UUID) -> str:
    """The gateway idempotency key: derived from the order, the same on every attempt."""
    return f"order-{order_id}-charge"


def _claim_attempt(session: Session, order: Order) -> None:
    session.execute(
        insert(Payment)
        .values(
            order_id=order.id,
            idempotency_key=charge_key(order.id),
            status="pending",
            amount=order.total,
            currency=order.currency,
            attempts=0,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
    )
    session.execute(
        update(Payment)
        .where(Payment.order_id == order.id)
        .values(attempts=Payment.attempts + 1, updated_at=utcnow())
    )


def _fail(session: Session, order_id: uuid.UUID, code: str, message: str | None) -> bool:
    session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.status == "pending")
        .values(status="failed", failure_code=code, failure_message=message, updated_at=utcnow())
    )
    moved = advance(
        session, order_id, OrderStatus.ALLOCATED, OrderStatus.PAYMENT_FAILED, {"code": code}
    )
    if moved:
        release(session, order_id)
    return moved


def _record(session: Session, order_id: uuid.UUID, result: ChargeResult) -> Charged:
    if result.status == "declined":
        code = result.failure_code or "declined"
        return (
            Charged.DECLINED
            if _fail(session, order_id, code, result.failure_message)
            else Charged.SKIPPED
        )
    session.execute(
        update(Payment)
        .where(Payment.order_id == order_id)
        .values(status="succeeded", gateway_id=result.gateway_id, updated_at=utcnow())
    )
    if advance(
        session, order_id, OrderStatus.ALLOCATED, OrderStatus.PAID, {"payment": result.gateway_id}
    ):
        return Charged.PAID
    # Charged, but the order moved on meanwhile (cancelled): the money must go back.
    log.warning("charged an order that is no longer allocated", extra={"order_id": str(order_id)})
    return Charged.SKIPPED


def charge_order(
    sessions: sessionmaker[Session], gateway: PaymentGateway, order_id: uuid.UUID
) -> Charged:
    """Charge the order's total under its derived key; PaymentUnavailable propagates for retry."""
    with sessions() as session, session.begin():
        order = session.get(Order, order_id)
        if order is None or order.status != OrderStatus.ALLOCATED:
            return Charged.SKIPPED
        _claim_attempt(session, order)
        amount, currency, method = order.total, order.currency, order.payment_method
    # No transaction is open across the gateway call: nothing waits on our locks.
    try:
        result = gateway.charge(
            idempotency_key=charge_key(order_id),
            amount=amount,
            currency=currency.lower(),
            payment_method=method,
            order_id=str(order_id),
        )
    except PaymentRejected as exc:
        # The gateway refused the request itself (say, an unknown payment method): final.
        result = ChargeResult("declined", None, "payment_rejected", str(exc)[:500])
    with sessions() as session, session.begin():
        outcome = _record(session, order_id, result)
    log.info("charge: %s", outcome, extra={"order_id": str(order_id)})
    return outcome


def give_up(sessions: sessionmaker[Session], order_id: uuid.UUID, reason: str) -> bool:
    """The gateway stayed unreachable: fail the payment and release the stock."""
    with sessions() as session, session.begin():
        moved = _fail(session, order_id, "gateway_unavailable", reason[:500])
    log.error("payment abandoned: %s", reason, extra={"order_id": str(order_id)})
    return moved
