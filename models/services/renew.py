"""Authorisations renewed before they lapse (PAYMENT_CAPTURE=at_shipment).

A card authorisation lasts about a week (7 days at Stripe). A paid order whose authorisation
lapses within AUTHORIZATION_RENEW_HOURS before it is captured is authorised again: a new
intent for the same amount under a key derived from the order and the renewal's number, so a
retry after a lost answer replays it rather than holding the money twice. The new intent is
recorded only if the payment is still the authorisation it replaces (a capture may have
claimed it meanwhile); then the old one is voided, else the new one is.

A card that refuses the renewal ends the authorisation: the old one is voided and the order
is held for staff (`authorization_lapsed`, models/services/capture.py), its stock kept.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update

from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus
from models.domain.payments import renewal_key
from models.ports import ChargeResult, PaymentGateway, PaymentUnavailable
from models.services.capture import lapse
from models.store.orders import record_event
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment
from models.tables.orders import Order

log = logging.getLogger(__name__)


class Renewed(StrEnum):
    """What a renewal did."""

    RENEWED = "renewed"
    HELD = "held"
    SKIPPED = "skipped"


def due(work: Work, *, now: datetime, within: timedelta, limit: int = 100) -> list[uuid.UUID]:
    """Paid orders whose authorisation lapses within `within`, soonest first."""
    with work.single_statements() as connection:
        rows = connection.execute(
            select(Payment.order_id)
            .join(Order, Order.id == Payment.order_id)
            .where(
                Payment.status == "authorized",
                Payment.capture_before <= now + within,
                Order.status == OrderStatus.PAID.value,
            )
            .order_by(Payment.capture_before)
            .limit(limit)
        ).all()
    return [row.order_id for row in rows]


@dataclass(frozen=True)
class _Claim:
    payment_id: int
    intent: str
    amount: int
    currency: str
    method: str
    renewal: int


def _claim(work: Work, order_id: uuid.UUID, until: datetime) -> _Claim | None:
    with work() as session:
        row = session.execute(
            select(Payment, Order.payment_method)
            .join(Order, Order.id == Payment.order_id)
            .where(
                Payment.order_id == order_id,
                Payment.part == 1,
                Payment.status == "authorized",
                Payment.capture_before <= until,
                Order.status == OrderStatus.PAID.value,
            )
        ).first()
        if row is None:
            return None
        payment, method = row
        assert payment.gateway_id is not None
        amount = payment.authorized_amount or payment.amount
        # Not counted until recorded: a retry after a lost answer sends the same key again.
        renewal = payment.reauthorizations + 1
        return _Claim(payment.id, payment.gateway_id, amount, payment.currency, method, renewal)


def renew_authorization(
    work: Work,
    gateway: PaymentGateway,
    order_id: uuid.UUID,
    *,
    within: timedelta,
    hold_for: timedelta,
) -> Renewed:
    """Authorise the paid order's payment again if it lapses within `within`; hold the order
    for `hold_for` if the card refuses. PaymentUnavailable while the gateway is away."""
    claim = _claim(work, order_id, utcnow() + within)
    if claim is None:
        return Renewed.SKIPPED
    result = gateway.charge(
        idempotency_key=renewal_key(order_id, claim.renewal),
        amount=claim.amount,
        currency=claim.currency.lower(),
        payment_method=claim.method,
        order_id=str(order_id),
        capture="manual",
    )
    if result.status == "authorized":
        return _replace(work, gateway, order_id, claim, result)
    if result.status == "pending" and result.gateway_id is not None:
        gateway.cancel(payment_intent_id=result.gateway_id, order_id=str(order_id))
    return _refused(work, gateway, order_id, claim, hold_for)


def _replace(
    work: Work, gateway: PaymentGateway, order_id: uuid.UUID, claim: _Claim, result: ChargeResult
) -> Renewed:
    with work() as session:
        moved = session.execute(
            update(Payment)
            .where(
                Payment.id == claim.payment_id,
                Payment.status == "authorized",
                Payment.gateway_id == claim.intent,
            )
            .values(
                gateway_id=result.gateway_id,
                capture_before=result.capture_before,
                reauthorizations=claim.renewal,
                updated_at=utcnow(),
            )
            .returning(Payment.id)
        ).first()
        if moved is not None:
            detail = {"payment": result.gateway_id, "replaces": claim.intent}
            record_event(session, order_id, "reauthorized", detail=detail)
    # The authorisation no longer recorded is released; if that fails it lapses by itself.
    stale = claim.intent if moved is not None else result.gateway_id
    if stale is not None:
        _void(gateway, order_id, stale)
    log.info("authorisation renewed", extra={"order_id": str(order_id)})
    return Renewed.RENEWED if moved is not None else Renewed.SKIPPED


def _refused(
    work: Work, gateway: PaymentGateway, order_id: uuid.UUID, claim: _Claim, hold_for: timedelta
) -> Renewed:
    """The card refused a new authorisation: void the old one and hold the order for staff."""
    voided = gateway.cancel(payment_intent_id=claim.intent, order_id=str(order_id))
    if voided.status == "succeeded":  # a capture took it meanwhile: the order ships
        return Renewed.SKIPPED
    with work() as session:
        held = lapse(
            session, order_id, claim.payment_id, voided, was="authorized", hold_for=hold_for
        )
    return Renewed.HELD if held else Renewed.SKIPPED


def _void(gateway: PaymentGateway, order_id: uuid.UUID, intent: str) -> None:
    try:
        gateway.cancel(payment_intent_id=intent, order_id=str(order_id))
    except PaymentUnavailable:
        log.warning("could not void a replaced authorisation", extra={"order_id": str(order_id)})
