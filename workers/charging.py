"""The charge step: take payment once, whatever the network does; a decline releases the stock."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.domain.lifecycle import OrderStatus
from models.fulfilment import Payment
from models.orders import Order
from models.stock import release
from models.transitions import advance, record_event
from workers.adapters.payments import ChargeResult, PaymentGateway, PaymentRejected

log = logging.getLogger(__name__)


class Charged(StrEnum):
    """What the charge step did."""

    PAID = "paid"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    # Charged, but the order was cancelled meanwhile: the money goes back.
    REFUND_NEEDED = "refund_needed"
    SKIPPED = "skipped"


# The failure code of a payment given up on because the gateway stayed unreachable.
GATEWAY_UNAVAILABLE = "gateway_unavailable"


def charge_key(order_id: uuid.UUID) -> str:
    """The gateway idempotency key: derived from the order, the same on every attempt."""
    return f"order-{order_id}-charge"


def _claim_attempt(session: Session, order: Order) -> int:
    """Count this attempt; how many came before it."""
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
    attempts = session.execute(
        update(Payment)
        .where(Payment.order_id == order.id)
        .values(attempts=Payment.attempts + 1, updated_at=utcnow())
        .returning(Payment.attempts)
    ).scalar_one()
    return int(attempts) - 1


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
        failed = _fail(session, order_id, code, result.failure_message)
        return Charged.DECLINED if failed else Charged.SKIPPED
    session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.status == "pending")
        .values(status="succeeded", gateway_id=result.gateway_id, updated_at=utcnow())
    )
    if advance(
        session, order_id, OrderStatus.ALLOCATED, OrderStatus.PAID, {"payment": result.gateway_id}
    ):
        return Charged.PAID
    status = session.scalar(select(Order.status).where(Order.id == order_id))
    if status != OrderStatus.CANCELLED:
        return Charged.SKIPPED
    # Cancelled while the charge was in flight: the money taken must go back.
    refunding = session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.status == "succeeded")
        .values(status="refund_pending", updated_at=utcnow())
        .returning(Payment.id)
    ).first()
    if refunding is None:
        return Charged.SKIPPED
    record_event(session, order_id, "charged_after_cancel", detail={"payment": result.gateway_id})
    log.warning("charged a cancelled order; refunding", extra={"order_id": str(order_id)})
    return Charged.REFUND_NEEDED


def _ask_or_charge(
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    *,
    earlier: int,
    amount: int,
    currency: str,
    method: str,
) -> ChargeResult:
    # After an attempt whose outcome we never learnt, the gateway is asked first: the
    # charge may have gone through, and only the gateway knows.
    if earlier:
        known = gateway.find_charge(order_id=str(order_id))
        if known is not None:
            return known
    try:
        return gateway.charge(
            idempotency_key=charge_key(order_id),
            amount=amount,
            currency=currency.lower(),
            payment_method=method,
            order_id=str(order_id),
        )
    except PaymentRejected as exc:
        # The gateway refused the request itself (say, an unknown payment method): final.
        return ChargeResult("declined", None, "payment_rejected", str(exc)[:500])


def charge_order(
    sessions: sessionmaker[Session], gateway: PaymentGateway, order_id: uuid.UUID
) -> Charged:
    """Charge the order's total under its derived key; PaymentUnavailable propagates for retry."""
    with sessions() as session, session.begin():
        order = session.get(Order, order_id)
        if order is None or order.status != OrderStatus.ALLOCATED:
            return Charged.SKIPPED
        earlier = _claim_attempt(session, order)
        amount, currency, method = order.total, order.currency, order.payment_method
    # No transaction is open across the gateway calls: nothing waits on our locks.
    result = _ask_or_charge(
        gateway, order_id, earlier=earlier, amount=amount, currency=currency, method=method
    )
    with sessions() as session, session.begin():
        outcome = _record(session, order_id, result)
    log.info("charge: %s", outcome, extra={"order_id": str(order_id)})
    return outcome


def give_up(
    sessions: sessionmaker[Session], gateway: PaymentGateway, order_id: uuid.UUID, reason: str
) -> Charged:
    """Attempts ran out: unless the gateway knows of a charge, fail the payment and free stock."""
    try:
        known = gateway.find_charge(order_id=str(order_id))
    except Exception:  # the gateway is still down: nothing learnt, nothing charged that we know
        log.exception(
            "could not ask the gateway before giving up", extra={"order_id": str(order_id)}
        )
        known = None
    with sessions() as session, session.begin():
        if known is not None:
            return _record(session, order_id, known)
        failed = _fail(session, order_id, GATEWAY_UNAVAILABLE, reason[:500])
    log.error("payment abandoned: %s", reason, extra={"order_id": str(order_id)})
    return Charged.ABANDONED if failed else Charged.SKIPPED
