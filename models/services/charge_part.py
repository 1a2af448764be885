"""The charge of a later part of a partially shipped order: that part's lines, no delivery.

The order stays `partially_shipped` while its part n is charged, so the step is keyed by
(order, part): the payment row of the part (unique per order and part, its own gateway key
`order-<id>-charge-<n>` and reference) is what moves, pending -> succeeded | failed, in a
guarded UPDATE with the order's row locked. Success asks for the part's shipping. A
decline (or a gateway that stayed away) gives the part up: its units are released, every
line's unshipped rest is cancelled, the customer is told, and the order is `shipped` for
what did ship; nothing was taken for the part.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.lifecycle import OrderStatus
from models.domain.mail import instance_kind
from models.domain.payments import GATEWAY_UNAVAILABLE, charge_key, charge_reference
from models.domain.tasks import SHIP_PART
from models.ports import ChargeResult, PaymentGateway, PaymentRejected, PaymentUnavailable
from models.services.charge import MAX_ATTEMPTS
from models.services.part_end import end_parts
from models.store.follow_ups import finish_current, later, mail
from models.store.orders import lock_order, record_event
from models.store.parts import in_flight_part, part_amount
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment

log = logging.getLogger(__name__)


class PartCharged(StrEnum):
    """What the charge of a part did."""

    PAID = "paid"
    DECLINED = "declined"
    PENDING = "pending"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class _Attempt:
    earlier: int
    amount: int
    currency: str
    method: str


def _claim(session: Session, order_id: uuid.UUID, part: int) -> _Attempt | None:
    """Count an attempt at the part's charge; None when the part is not waiting for one."""
    order = lock_order(session, order_id, OrderStatus.PARTIALLY_SHIPPED)
    if order is None or in_flight_part(session, order_id) != part:
        return None
    session.execute(
        insert(Payment)
        .values(
            order_id=order_id,
            part=part,
            idempotency_key=charge_key(order_id, part),
            status="pending",
            amount=part_amount(session, order, part),
            currency=order.currency,
            attempts=0,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["order_id", "part"])
    )
    claimed = session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.part == part, Payment.status == "pending")
        .values(attempts=Payment.attempts + 1, updated_at=utcnow())
        .returning(Payment.attempts, Payment.amount)
    ).first()
    if claimed is None:  # decided already
        return None
    return _Attempt(int(claimed[0]) - 1, int(claimed[1]), order.currency, order.payment_method)


def _decided(
    session: Session, order_id: uuid.UUID, part: int, values: Mapping[str, object]
) -> bool:
    """Move the part's pending payment to its outcome; False if it was decided already."""
    moved = session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.part == part, Payment.status == "pending")
        .values(**values, updated_at=utcnow())
        .returning(Payment.id)
    ).first()
    return moved is not None


def record_part_charge(
    session: Session, order_id: uuid.UUID, part: int, result: ChargeResult
) -> PartCharged:
    """Record what the gateway said of the part's charge, and what follows, in one go."""
    if lock_order(session, order_id, OrderStatus.PARTIALLY_SHIPPED) is None:
        return PartCharged.SKIPPED
    if result.status == "pending":
        session.execute(
            update(Payment)
            .where(Payment.order_id == order_id, Payment.part == part, Payment.status == "pending")
            .values(gateway_id=result.gateway_id, failure_code=result.failure_code)
        )
        return PartCharged.PENDING
    if result.status == "declined":
        code = (result.failure_code or "declined")[:100]
        failed = {"status": "failed", "failure_code": code}
        if not _decided(session, order_id, part, failed | {"gateway_id": result.gateway_id}):
            return PartCharged.SKIPPED
        end_parts(session, order_id, part, code)
        return PartCharged.DECLINED
    paid = {"status": "succeeded", "gateway_id": result.gateway_id}
    if not _decided(session, order_id, part, paid):
        return PartCharged.SKIPPED
    record_event(
        session, order_id, "part_paid", detail={"part": part, "payment": result.gateway_id}
    )
    mail(session, order_id, instance_kind("paid", part))
    later(session, SHIP_PART, str(order_id), part)
    return PartCharged.PAID


def _ask_or_charge(
    gateway: PaymentGateway, order_id: uuid.UUID, part: int, at: _Attempt
) -> ChargeResult:
    reference = charge_reference(order_id, part)
    if at.earlier:  # an earlier attempt's outcome was never learnt: the gateway knows
        known = gateway.find_charge(order_id=reference)
        if known is not None:
            return known
    try:
        return gateway.charge(
            idempotency_key=charge_key(order_id, part),
            amount=at.amount,
            currency=at.currency.lower(),
            payment_method=at.method,
            order_id=reference,
        )
    except PaymentRejected as exc:
        return ChargeResult("declined", None, "payment_rejected", str(exc)[:500])


def _last_word(gateway: PaymentGateway, order_id: uuid.UUID, part: int) -> ChargeResult:
    """Attempts ran out: a charge the gateway knows of counts; anything else is given up
    (an intent still pending is cancelled first, so it cannot take money later)."""
    reference = charge_reference(order_id, part)
    try:
        known = gateway.find_charge(order_id=reference)
        if known is not None and known.status == "pending" and known.gateway_id is not None:
            known = gateway.cancel(payment_intent_id=known.gateway_id, order_id=reference)
    except PaymentUnavailable:
        known = None
    if known is not None and known.status == "succeeded":
        return known
    return ChargeResult("declined", None, GATEWAY_UNAVAILABLE, "the gateway stayed unreachable")


def charge_part(work: Work, gateway: PaymentGateway, order_id: uuid.UUID, part: int) -> PartCharged:
    """Charge part `part` of a partially shipped order once; TryLater while the gateway is away."""
    with work() as session:
        attempt = _claim(session, order_id, part)
        if attempt is None:
            finish_current(session)
            return PartCharged.SKIPPED
    try:  # no transaction is open across the gateway calls
        result = _ask_or_charge(gateway, order_id, part, attempt)
    except PaymentUnavailable as exc:
        if attempt.earlier + 1 < MAX_ATTEMPTS:
            raise TryLater(str(exc), delay=backoff(attempt.earlier, cap=STEP_CAP_SECONDS)) from exc
        result = _last_word(gateway, order_id, part)
    if result.status == "pending" and attempt.earlier + 1 >= MAX_ATTEMPTS:
        result = _last_word(gateway, order_id, part)
    with work() as session:
        outcome = record_part_charge(session, order_id, part, result)
        if outcome is not PartCharged.PENDING:
            finish_current(session)
    log.debug("charge part %s: %s", part, outcome, extra={"order_id": str(order_id)})
    if outcome is PartCharged.PENDING:
        delay = backoff(attempt.earlier, cap=STEP_CAP_SECONDS)
        raise TryLater(f"payment is {result.failure_code}", delay=delay)
    return outcome
