"""The refund step: money back for an order that will not be fulfilled, exactly once.

The gateway key is derived from the order, so however often the step runs, at once or after
a crash, the gateway refunds once. A refund the gateway refuses for good ends in
`refund_failed` with one notice to operations; one it cannot reach is tried again with
backoff, and after `MAX_ATTEMPTS` is treated the same way, so no failure is re-driven forever.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.mail import instance_kind
from models.domain.payments import refund_key
from models.domain.tasks import REFUND
from models.ports import PaymentGateway, PaymentRejected, PaymentUnavailable
from models.store.follow_ups import finish_current, later, mail
from models.store.orders import record_event
from models.store.refunds import refunded_of_payment
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20


class Refunded(StrEnum):
    """What the refund step did."""

    REFUNDED = "refunded"
    NOTHING_TO_REFUND = "nothing_to_refund"
    # An authorisation released: no money was taken, so none goes back.
    VOIDED = "voided"
    FAILED = "failed"


def _give_up(work: Work, order_id: uuid.UUID, payment_id: int, error: str) -> Refunded:
    with work() as session:
        moved = session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.status == "refund_pending")
            .values(status="refund_failed", failure_message=error[:500], updated_at=utcnow())
            .returning(Payment.id)
        ).first()
        if moved is not None:
            record_event(session, order_id, "refund_failed", detail={"error": error[:300]})
            mail(session, order_id, "refund_failed")
        _next_payment(session, order_id)
    log.error("refund failed for good: %s", error, extra={"order_id": str(order_id)})
    return Refunded.FAILED


def refund_order(work: Work, gateway: PaymentGateway, order_id: uuid.UUID) -> Refunded:
    """Refund a payment marked for refund; TryLater while the gateway cannot be reached."""
    claimed = _count_attempt(work, order_id)
    if claimed is None:
        return Refunded.NOTHING_TO_REFUND
    if claimed.rest <= 0:  # partial refunds already gave everything back
        return _refunded(work, order_id, claimed, None)
    # An authorisation taken back in whole, should a capture in flight have taken it after all.
    amount = None if claimed.uncaptured else claimed.rest
    try:
        if claimed.uncaptured and not _captured_after_all(gateway, order_id, claimed):
            return _voided(work, order_id, claimed)
        # The key makes the gateway refund once even when two of these run at the same moment.
        refund_id = gateway.refund(
            idempotency_key=refund_key(order_id, claimed.part),
            payment_intent_id=claimed.intent,
            amount=amount,
            order_id=str(order_id),
        )
    except PaymentRejected as exc:
        return _give_up(work, order_id, claimed.id, f"the gateway refused the refund: {exc}")
    except PaymentUnavailable as exc:
        if claimed.attempts >= MAX_ATTEMPTS:
            error = f"the gateway stayed unreachable: {exc}"
            return _give_up(work, order_id, claimed.id, error)
        raise TryLater(str(exc), delay=backoff(claimed.attempts, cap=STEP_CAP_SECONDS)) from exc
    return _refunded(work, order_id, claimed, refund_id)


@dataclass(frozen=True)
class _Claimed:
    """The payment to refund: its row, part, intent, this attempt's number, what is left, and
    whether it is an authorisation no capture was recorded for."""

    id: int
    part: int
    intent: str
    attempts: int
    rest: int
    uncaptured: bool = False


def _count_attempt(work: Work, order_id: uuid.UUID) -> _Claimed | None:
    """The next payment of the order marked for refund (a partially shipped order may have
    one per part, each refunded under its own key), with what is left to give back (the
    payment less what partial refunds gave or are giving back); None when none is owed."""
    with work() as session:
        first = (
            select(Payment.id)
            .where(Payment.order_id == order_id, Payment.status == "refund_pending")
            .order_by(Payment.part)
            .limit(1)
            .scalar_subquery()
        )
        claimed = session.execute(
            update(Payment)
            .where(Payment.id == first)
            .values(refund_attempts=Payment.refund_attempts + 1)
            .returning(
                Payment.gateway_id,
                Payment.refund_attempts,
                Payment.amount,
                Payment.id,
                Payment.part,
                Payment.authorized_amount.is_not(None) & Payment.captured_at.is_(None),
            )
        ).first()
        if claimed is None or claimed[0] is None:
            finish_current(session)
            return None
        rest = int(claimed[2]) - refunded_of_payment(session, int(claimed[3]))
    row = (int(claimed[3]), int(claimed[4]), str(claimed[0]), int(claimed[1]), rest)
    return _Claimed(*row, uncaptured=bool(claimed[5]))


def _captured_after_all(gateway: PaymentGateway, order_id: uuid.UUID, claimed: _Claimed) -> bool:
    """Void the authorisation, which releases the money it held; True if the gateway says a
    capture took the money first (then that is refunded)."""
    voided = gateway.cancel(payment_intent_id=claimed.intent, order_id=str(order_id))
    return voided.status == "succeeded"


def _voided(work: Work, order_id: uuid.UUID, claimed: _Claimed) -> Refunded:
    """The authorisation was released with no money taken: nothing to refund."""
    with work() as session:
        moved = session.execute(
            update(Payment)
            .where(Payment.id == claimed.id, Payment.status == "refund_pending")
            .values(status="voided", updated_at=utcnow())
            .returning(Payment.id)
        ).first()
        if moved is not None:
            detail = {"payment": claimed.intent}
            record_event(session, order_id, "authorization_voided", detail=detail)
        _next_payment(session, order_id)
    log.debug("voided %s", claimed.intent, extra={"order_id": str(order_id)})
    return Refunded.VOIDED


def _next_payment(session: Session, order_id: uuid.UUID) -> None:
    """End this run; if another payment of the order waits for its refund, run again for it."""
    finish_current(session)
    waiting = session.scalar(
        select(Payment.id)
        .where(Payment.order_id == order_id, Payment.status == "refund_pending")
        .limit(1)
    )
    if waiting is not None:
        later(session, REFUND, str(order_id))


def _refunded(
    work: Work, order_id: uuid.UUID, claimed: _Claimed, refund_id: str | None
) -> Refunded:
    amount = max(claimed.rest, 0)
    with work() as session:
        moved = session.execute(
            update(Payment)
            .where(Payment.id == claimed.id, Payment.status == "refund_pending")
            .values(
                status="refunded", refund_id=refund_id, refunded_at=utcnow(), updated_at=utcnow()
            )
            .returning(Payment.id)
        ).first()
        if moved is not None:
            detail = {"refund": refund_id, "amount": amount}
            if claimed.part > 1:
                detail["part"] = claimed.part
            record_event(session, order_id, "refunded", detail=detail)
            kind = "refunded" if claimed.part == 1 else instance_kind("refunded", claimed.part)
            mail(session, order_id, kind)
        _next_payment(session, order_id)
    log.debug("refunded %s", refund_id, extra={"order_id": str(order_id)})
    return Refunded.REFUNDED if moved is not None else Refunded.NOTHING_TO_REFUND
