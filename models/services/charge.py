"""The charge step: take payment once, whatever the network does; a decline releases the stock."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.holds import HoldRules
from models.domain.lifecycle import OrderStatus
from models.domain.payments import GATEWAY_UNAVAILABLE, NOT_FULFILLED, NOT_SETTLED, charge_key
from models.domain.tasks import REFUND, SETTLE_PAYMENT, SHIP
from models.ports import (
    CaptureMethod,
    ChargeResult,
    PaymentGateway,
    PaymentRejected,
    PaymentUnavailable,
)
from models.services.holds import hold_for_review
from models.store.follow_ups import finish_current, later, mail
from models.store.orders import advance, record_event
from models.store.parts import part_amount
from models.store.stock import release
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment
from models.tables.orders import Order

log = logging.getLogger(__name__)


# Attempts (each asking the gateway first) before a charge is given up.
MAX_ATTEMPTS = 8
# Gateway answers that mean the money is the order's: taken, or held on the card for capture.
TAKEN_OR_HELD = ("succeeded", "authorized")
# Payment rows whose money may have to go back when the order will not be fulfilled: taken,
# held on the card, being captured, or sent and never answered.
HELD_OR_TAKEN = ("pending", "succeeded", "failed", "authorized", "capturing")


class Charged(StrEnum):
    """What the charge step did."""

    PAID = "paid"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    # Charged, but the order will not be fulfilled (cancelled meanwhile): the money goes back.
    REFUND_NEEDED = "refund_needed"
    # The gateway has not decided yet (processing, or waiting on the customer).
    PENDING = "pending"
    # Held for review before any money was asked for (models/services/holds.py).
    HELD = "held"
    SKIPPED = "skipped"


def _claim_attempt(session: Session, order: Order) -> tuple[int, int, str]:
    """Count this attempt; how many came before it, and the amount to charge: what the order
    comes to now, or part 1's share of it when the order ships in parts.

    The amount is the payment row's, set by the first attempt: every attempt sends the same
    one under the same key (no line can be cancelled while the order waits for its charge).
    The key is the row's too: derived from the order, and renewed when an authorisation
    lapsed (models/services/capture.py), so that charge is never replayed.
    """
    session.execute(
        insert(Payment)
        .values(
            order_id=order.id,
            idempotency_key=charge_key(order.id),
            status="pending",
            amount=part_amount(session, order, 1),
            currency=order.currency,
            attempts=0,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["order_id", "part"])
    )
    attempts, amount, key = session.execute(
        update(Payment)
        .where(Payment.order_id == order.id, Payment.part == 1)
        .values(attempts=Payment.attempts + 1, updated_at=utcnow())
        .returning(Payment.attempts, Payment.amount, Payment.idempotency_key)
    ).one()
    return int(attempts) - 1, int(amount), str(key)


def _fail(session: Session, order_id: uuid.UUID, code: str, message: str | None) -> bool:
    """Fail a pending payment; True if that failed the order too (stock released, mail due)."""
    session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.part == 1, Payment.status == "pending")
        .values(status="failed", failure_code=code, failure_message=message, updated_at=utcnow())
    )
    moved = advance(
        session, order_id, OrderStatus.ALLOCATED, OrderStatus.PAYMENT_FAILED, {"code": code}
    )
    if moved:
        release(session, order_id)
        mail(session, order_id, "payment_failed")
    return moved


def refund_charge(session: Session, order_id: uuid.UUID, gateway_id: str, why: str) -> bool:
    """Money was taken for an order that will not be fulfilled: mark it for refund, once."""
    refunding = session.execute(
        update(Payment)
        # `failed` too: a charge given up on may land after all, and it is money all the same.
        .where(Payment.order_id == order_id, Payment.status.in_(HELD_OR_TAKEN))
        .values(status="refund_pending", gateway_id=gateway_id, updated_at=utcnow())
        .returning(Payment.id)
    ).first()
    if refunding is None:
        return False
    record_event(session, order_id, why, detail={"payment": gateway_id})
    later(session, REFUND, str(order_id))
    log.warning("%s; refunding", why.replace("_", " "), extra={"order_id": str(order_id)})
    return True


def _succeeded(session: Session, order_id: uuid.UUID, result: ChargeResult) -> None:
    """The pending payment took the money, or (authorised) holds it on the card."""
    values: dict[str, object] = {"status": "succeeded"}
    if result.status == "authorized":
        values = {
            "status": "authorized",
            "authorized_amount": Payment.amount,
            "capture_before": result.capture_before,
        }
    session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.part == 1, Payment.status == "pending")
        .values(gateway_id=result.gateway_id, updated_at=utcnow(), **values)
    )


def record_charge(session: Session, order_id: uuid.UUID, result: ChargeResult) -> Charged:
    """Record what the gateway said, and what must follow it, in the caller's transaction."""
    if result.status == "pending":
        session.execute(
            update(Payment)
            .where(Payment.order_id == order_id, Payment.part == 1, Payment.status == "pending")
            .values(gateway_id=result.gateway_id, failure_code=result.failure_code)
        )
        return Charged.PENDING
    if result.status == "declined":
        code = result.failure_code or "declined"
        failed = _fail(session, order_id, code, result.failure_message)
        return Charged.DECLINED if failed else Charged.SKIPPED
    _succeeded(session, order_id, result)
    paid = {"payment": result.gateway_id}
    if advance(session, order_id, OrderStatus.ALLOCATED, OrderStatus.PAID, paid):
        mail(session, order_id, "paid")
        later(session, SHIP, str(order_id))
        return Charged.PAID
    status = session.scalar(select(Order.status).where(Order.id == order_id))
    # Cancelled, or given up on, while the charge was in flight: the money taken goes back.
    if status in NOT_FULFILLED and result.gateway_id is not None:
        why = "charged_after_cancel" if status == OrderStatus.CANCELLED else f"charged_{status}"
        if refund_charge(session, order_id, result.gateway_id, why):
            return Charged.REFUND_NEEDED
    return Charged.SKIPPED


@dataclass(frozen=True)
class _Attempt:
    """One charge attempt as claimed: attempts before it, the amount, currency, payment method
    and key, and how it is captured."""

    earlier: int
    amount: int
    currency: str
    method: str
    key: str
    capture: CaptureMethod


def _ask_or_charge(gateway: PaymentGateway, order_id: uuid.UUID, attempt: _Attempt) -> ChargeResult:
    # After an attempt whose outcome we never learnt, the gateway is asked first: the
    # charge may have gone through, and only the gateway knows.
    if attempt.earlier:
        known = gateway.find_charge(order_id=str(order_id))
        if known is not None:
            return known
    try:
        return gateway.charge(
            idempotency_key=attempt.key,
            amount=attempt.amount,
            currency=attempt.currency.lower(),
            payment_method=attempt.method,
            order_id=str(order_id),
            capture=attempt.capture,
        )
    except PaymentRejected as exc:
        # The gateway refused the request itself (say, an unknown payment method): final.
        return ChargeResult("declined", None, "payment_rejected", str(exc)[:500])


def _cancel_unsettled(
    gateway: PaymentGateway, order_id: uuid.UUID, result: ChargeResult
) -> ChargeResult:
    """Never settled (the customer never authenticated, say): cancel it at the gateway."""
    assert result.gateway_id is not None
    result = gateway.cancel(payment_intent_id=result.gateway_id, order_id=str(order_id))
    if result.status in TAKEN_OR_HELD:
        return result
    return ChargeResult("declined", result.gateway_id, NOT_SETTLED, result.failure_code)


def _not_ours(session: Session, order: Order | None, order_id: uuid.UUID) -> Charged:
    """The order is not waiting for a charge; money that may be in flight is settled instead."""
    if order is None:
        raise LookupError(f"no order {order_id}")
    payment = session.scalar(select(Payment).where(Payment.order_id == order_id, Payment.part == 1))
    unknown = payment is not None and payment.status == "pending" and payment.attempts > 0
    if unknown and order.status in NOT_FULFILLED:
        # A charge was sent and never answered: only the gateway can say if money moved.
        later(session, SETTLE_PAYMENT, str(order_id))
    finish_current(session)
    return Charged.SKIPPED


def charge_order(
    work: Work,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    *,
    holds: HoldRules | None = None,
    capture: CaptureMethod = "automatic",
) -> Charged:
    """Charge the order's total under its derived key (or, with manual capture, authorise it
    for the shipment to capture), unless a hold rule stops it first; TryLater while the
    gateway is away."""
    with work() as session:
        order = session.get(Order, order_id)
        if order is None or order.status != OrderStatus.ALLOCATED:
            return _not_ours(session, order, order_id)
        if holds is not None and hold_for_review(session, order_id, holds, utcnow()):
            finish_current(session)
            return Charged.HELD
        earlier, amount, key = _claim_attempt(session, order)
        attempt = _Attempt(earlier, amount, order.currency, order.payment_method, key, capture)
    # No transaction is open across the gateway calls: nothing waits on our locks.
    try:
        result = _ask_or_charge(gateway, order_id, attempt)
    except PaymentUnavailable as exc:
        if earlier + 1 >= MAX_ATTEMPTS:
            return give_up(work, gateway, order_id, str(exc))
        raise TryLater(str(exc), delay=backoff(earlier, cap=STEP_CAP_SECONDS)) from exc
    if result.status == "pending" and earlier + 1 >= MAX_ATTEMPTS:
        result = _cancel_unsettled(gateway, order_id, result)
    with work() as session:
        outcome = record_charge(session, order_id, result)
        if outcome is not Charged.PENDING:
            finish_current(session)
    log.debug("charge: %s", outcome, extra={"order_id": str(order_id)})
    if outcome is Charged.PENDING:
        raise TryLater(
            f"payment is {result.failure_code}", delay=backoff(earlier, cap=STEP_CAP_SECONDS)
        )
    return outcome


def give_up(work: Work, gateway: PaymentGateway, order_id: uuid.UUID, reason: str) -> Charged:
    """Attempts ran out: unless the gateway knows of a charge, fail the payment and free stock.

    Search can trail a fresh charge, so a payment failed here is checked again later
    (workers/reconciling.py) and refunded if it was charged after all.
    """
    try:
        known = gateway.find_charge(order_id=str(order_id))
        if known is not None and known.status == "pending" and known.gateway_id is not None:
            known = gateway.cancel(payment_intent_id=known.gateway_id, order_id=str(order_id))
    except PaymentUnavailable:  # still unreachable: nothing learnt; anything else is a bug
        log.warning("gateway unreachable while giving up", extra={"order_id": str(order_id)})
        known = None
    with work() as session:
        if known is not None and known.status in TAKEN_OR_HELD:
            outcome = record_charge(session, order_id, known)
            finish_current(session)
            return outcome
        failed = _fail(session, order_id, GATEWAY_UNAVAILABLE, reason[:500])
        if failed:
            mail(session, order_id, "payment_abandoned")
        finish_current(session)
    log.error("payment abandoned: %s", reason, extra={"order_id": str(order_id)})
    return Charged.ABANDONED if failed else Charged.SKIPPED
