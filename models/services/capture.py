"""The capture of authorise-then-capture (PAYMENT_CAPTURE=at_shipment): the money held on the
card is taken when the order leaves, for what leaves.

The ship step captures before it books labels. The capture is claimed in one transaction (the
payment moves to `capturing` with the amount to take, so a line cancel waits for its answer),
sent with no transaction open under a key derived from the intent, and recorded in another.
What is captured is what the order comes to now: the authorisation less the lines cancelled
since; Stripe releases the rest of the authorisation with the capture.

An authorisation that lapsed or was voided cannot be captured: the order is held for staff
(`authorization_lapsed`) with its stock kept, and its payment is reset so that a release
charges the card again under a new key. A gateway that stays away ends the step with one
notice to operations; a cancel then settles the money through the refund step.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.holds import Hold, HoldReason
from models.domain.lifecycle import OrderStatus
from models.domain.payments import capture_key, charge_generation_key
from models.ports import ChargeResult, PaymentGateway, PaymentRejected, PaymentUnavailable
from models.store import holds as hold_store
from models.store.follow_ups import finish_current, mail
from models.store.orders import record_event
from models.store.parts import part_amount
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment
from models.tables.orders import Order

log = logging.getLogger(__name__)

# Attempts at a capture the gateway does not answer before operations are told.
MAX_ATTEMPTS = 8
# Who holds an order whose authorisation lapsed, as its timeline records it.
CAPTURE_ACTOR = "system (authorisation lapsed)"


class Captured(StrEnum):
    """What the capture did."""

    CAPTURED = "captured"
    # Charged at order (PAYMENT_CAPTURE=at_order), or captured before: nothing to take.
    NOT_NEEDED = "not_needed"
    # The order is no longer paid (cancelled meanwhile): the refund step settles the money.
    SKIPPED = "skipped"
    # The authorisation lapsed or was voided: the order is held for staff.
    HELD = "held"
    # The gateway stayed away: operations were told, the payment stays `capturing`.
    STUCK = "stuck"


@dataclass(frozen=True)
class _Claim:
    payment_id: int
    intent: str
    amount: int
    attempts: int


def _claim(work: Work, order_id: uuid.UUID) -> _Claim | Captured:
    """Lock the paid order and its payment; move an authorisation to `capturing` with what the
    order comes to now (a retry sends the amount the first attempt sent)."""
    with work() as session:
        order = session.get(Order, order_id, with_for_update=True)
        if order is None or order.status != OrderStatus.PAID.value:
            return Captured.SKIPPED
        payment = session.scalar(
            select(Payment).where(Payment.order_id == order_id, Payment.part == 1).with_for_update()
        )
        if payment is None or payment.status not in ("authorized", "capturing"):
            return Captured.NOT_NEEDED
        if payment.status == "authorized":
            authorized = payment.authorized_amount or payment.amount
            payment.amount = min(authorized, part_amount(session, order, 1))
            payment.status = "capturing"
        payment.capture_attempts += 1
        payment.updated_at = utcnow()
        assert payment.gateway_id is not None, "an authorisation always has its intent"
        return _Claim(payment.id, payment.gateway_id, payment.amount, payment.capture_attempts)


def capture_payment(
    work: Work, gateway: PaymentGateway, order_id: uuid.UUID, *, hold_for: timedelta
) -> Captured:
    """Capture the paid order's authorisation for what it comes to now, once; TryLater while
    the gateway is away."""
    claim = _claim(work, order_id)
    if isinstance(claim, Captured):
        return claim
    try:
        result = gateway.capture(
            idempotency_key=capture_key(order_id, claim.intent),
            payment_intent_id=claim.intent,
            amount=claim.amount,
            order_id=str(order_id),
        )
    except PaymentRejected as exc:
        return _stuck(work, order_id, f"the gateway refused the capture: {exc}")
    except PaymentUnavailable as exc:
        if claim.attempts >= MAX_ATTEMPTS:
            return _stuck(work, order_id, f"the gateway stayed unreachable: {exc}")
        raise TryLater(str(exc), delay=backoff(claim.attempts, cap=STEP_CAP_SECONDS)) from exc
    if result.status == "succeeded":
        return _captured(work, order_id, claim)
    with work() as session:
        held = lapse(
            session, order_id, claim.payment_id, result, was="capturing", hold_for=hold_for
        )
        if held:
            finish_current(session)
    return Captured.HELD if held else Captured.SKIPPED


def _captured(work: Work, order_id: uuid.UUID, claim: _Claim) -> Captured:
    with work() as session:
        moved = session.execute(
            update(Payment)
            .where(Payment.id == claim.payment_id, Payment.status == "capturing")
            .values(status="succeeded", captured_at=utcnow(), updated_at=utcnow())
            .returning(Payment.id)
        ).first()
        if moved is not None:
            detail = {"payment": claim.intent, "amount": claim.amount}
            record_event(session, order_id, "captured", detail=detail)
    log.debug("captured %s", claim.amount, extra={"order_id": str(order_id)})
    # A cancel that came meanwhile made it refund_pending: the refund step gives it back.
    return Captured.CAPTURED


def _stuck(work: Work, order_id: uuid.UUID, error: str) -> Captured:
    with work() as session:
        detail = {"task": "capture", "error": error[:300]}
        record_event(session, order_id, "capture_failed", detail=detail)
        mail(session, order_id, "step_failed")
        finish_current(session)
    log.error("capture failed: %s", error, extra={"order_id": str(order_id)})
    return Captured.STUCK


def lapse(
    session: Session,
    order_id: uuid.UUID,
    payment_id: int,
    result: ChargeResult,
    *,
    was: str,
    hold_for: timedelta,
) -> bool:
    """The payment's authorisation is gone (lapsed or voided, no money taken): hold the paid
    order for staff with its stock kept, and reset the payment so a release charges anew.
    False if the payment or order moved on meanwhile (a cancel, a renewal)."""
    payment = session.scalar(
        select(Payment).where(Payment.id == payment_id, Payment.status == was).with_for_update()
    )
    if payment is None:
        return False
    now, note = utcnow(), f"the card's authorisation ended ({result.failure_code})"
    held = Hold(HoldReason.AUTHORIZATION_LAPSED, note)
    paid = OrderStatus.PAID
    if not hold_store.hold(
        session, order_id, held, by=CAPTURE_ACTOR, now=now, until=now + hold_for, from_status=paid
    ):
        return False
    generation = payment.reauthorizations + 1
    record_event(session, order_id, "authorization_lapsed", detail={"payment": payment.gateway_id})
    payment.status, payment.attempts, payment.capture_attempts = "pending", 0, 0
    payment.idempotency_key = charge_generation_key(order_id, generation)
    payment.reauthorizations = generation
    payment.gateway_id = payment.authorized_amount = payment.capture_before = None
    payment.failure_code, payment.updated_at = result.failure_code, now
    log.warning("authorisation lapsed; order held", extra={"order_id": str(order_id)})
    return True
