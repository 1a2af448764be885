"""The partial refund step: money back for some lines of an order, exactly once per refund.

Each refund row carries its own gateway key, stored when it was recorded, so however often
the step runs the gateway refunds it once. A refusal ends it `failed` with one notice to
operations; an unreachable gateway is tried again with backoff, then treated as a refusal.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.mail import instance_kind
from models.ports import PaymentGateway, PaymentRejected, PaymentUnavailable
from models.services.refund import MAX_ATTEMPTS, Refunded
from models.store.follow_ups import finish_current, mail
from models.store.orders import record_event
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment
from models.tables.money import Refund, RefundLine

log = logging.getLogger(__name__)


def _claim(work: Work, refund_id: int) -> tuple[str, str, int, int] | None:
    """The intent, key, amount and attempt number of a pending refund; None if it is not."""
    with work() as session:
        claimed = session.execute(
            update(Refund)
            .where(Refund.id == refund_id, Refund.status == "pending")
            .values(attempts=Refund.attempts + 1)
            .returning(Refund.payment_id, Refund.idempotency_key, Refund.amount, Refund.attempts)
        ).first()
        intent = (
            session.scalar(select(Payment.gateway_id).where(Payment.id == claimed[0]))
            if claimed is not None
            else None
        )
        if claimed is None or intent is None:
            finish_current(session)
            return None
    return str(intent), str(claimed[1]), int(claimed[2]), int(claimed[3])


def _detail(session: Session, refund_id: int, *, amount: int, kind: str) -> dict[str, Any]:
    """The refund as its timeline entry records it: amount, kind and each line's share."""
    lines = session.execute(
        select(RefundLine.order_line_id, RefundLine.quantity, RefundLine.amount).where(
            RefundLine.refund_id == refund_id
        )
    ).all()
    return {
        "refund_id": refund_id,
        "amount": amount,
        "kind": kind,
        "lines": [{"order_line_id": i, "quantity": q, "amount": a} for i, q, a in lines],
    }


def _end(
    work: Work, order_id: uuid.UUID, refund_id: int, *, gateway_id: str | None, error: str = ""
) -> Refunded:
    """Record the gateway's answer: refunded, or failed for good with one notice."""
    succeeded = gateway_id is not None
    with work() as session:
        moved = session.execute(
            update(Refund)
            .where(Refund.id == refund_id, Refund.status == "pending")
            .values(
                status="succeeded" if succeeded else "failed",
                gateway_refund_id=gateway_id,
                refunded_at=utcnow() if succeeded else None,
                failure_message=error[:500] or None,
            )
            .returning(Refund.amount, Refund.kind)
        ).first()
        if moved is not None:
            detail = _detail(session, refund_id, amount=moved[0], kind=moved[1])
            if succeeded:
                record_event(
                    session, order_id, "part_refunded", detail=detail | {"refund": gateway_id}
                )
                mail(session, order_id, instance_kind("refund_issued", refund_id))
            else:
                record_event(
                    session, order_id, "refund_failed", detail=detail | {"error": error[:300]}
                )
                mail(session, order_id, instance_kind("refund_failed", refund_id))
        finish_current(session)
    if not succeeded:
        log.error("partial refund failed for good: %s", error, extra={"order_id": str(order_id)})
    if moved is None:
        return Refunded.NOTHING_TO_REFUND
    return Refunded.REFUNDED if succeeded else Refunded.FAILED


def refund_part(
    work: Work, gateway: PaymentGateway, order_id: uuid.UUID, refund_id: int
) -> Refunded:
    """Send one partial refund to the gateway; TryLater while it cannot be reached."""
    claimed = _claim(work, refund_id)
    if claimed is None:
        return Refunded.NOTHING_TO_REFUND
    intent, key, amount, attempts = claimed
    try:
        gateway_id = gateway.refund(
            idempotency_key=key, payment_intent_id=intent, amount=amount, order_id=str(order_id)
        )
    except PaymentRejected as exc:
        error = f"the gateway refused the refund: {exc}"
        return _end(work, order_id, refund_id, gateway_id=None, error=error)
    except PaymentUnavailable as exc:
        if attempts >= MAX_ATTEMPTS:
            error = f"the gateway stayed unreachable: {exc}"
            return _end(work, order_id, refund_id, gateway_id=None, error=error)
        raise TryLater(str(exc), delay=backoff(attempts, cap=STEP_CAP_SECONDS)) from exc
    return _end(work, order_id, refund_id, gateway_id=gateway_id)
