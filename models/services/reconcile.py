"""Reconciliation: money checked against the orders, and against the gateway when it was unknown.

Two sweeps, both idempotent:

- Payments whose charge outcome we never learnt (given up while the gateway was away, or
  cancelled in flight) are checked again once the gateway's search has caught up; a charge
  found then is refunded and operations are told.
- Every payment that holds money, or may, for an order that will not be fulfilled is
  settled (workers/settling.py), and every refund still owed is asked for again. Each of
  these already has a follow-up row; the sweep is the net under the net.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from models.domain.clock import utcnow
from models.domain.payments import NOT_FULFILLED, UNKNOWN_OUTCOMES, charge_reference
from models.domain.tasks import REFUND, SETTLE_PAYMENT
from models.ports import PaymentGateway
from models.store.follow_ups import later, mail
from models.store.orders import record_event
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment
from models.tables.orders import Order

log = logging.getLogger(__name__)

# Search results can trail a charge by up to an hour; idempotency keys live 24 hours.
SETTLE = timedelta(minutes=65)
WINDOW = timedelta(hours=24)


def due(work: Work, limit: int = 100) -> list[uuid.UUID]:
    """Payments of unknown outcome old enough for the gateway to know, and not yet checked."""
    now = utcnow()
    with work.sessions() as session:
        return list(
            session.scalars(
                select(Payment.order_id)
                .distinct()
                .where(
                    Payment.status == "failed",
                    Payment.failure_code.in_(UNKNOWN_OUTCOMES),
                    Payment.reconciled_at.is_(None),
                    Payment.updated_at < now - SETTLE,
                    Payment.updated_at > now - WINDOW,
                )
                .limit(limit)
            )
        )


def _unchecked_parts(work: Work, order_id: uuid.UUID) -> list[int]:
    with work.sessions() as session:
        return list(
            session.scalars(
                select(Payment.part)
                .where(
                    Payment.order_id == order_id,
                    Payment.status == "failed",
                    Payment.reconciled_at.is_(None),
                )
                .order_by(Payment.part)
            )
        )


def reconcile(work: Work, gateway: PaymentGateway, order_id: uuid.UUID) -> bool:
    """Check the order's payments of unknown outcome, each under its own reference (a part of
    a partially shipped order has its own); True when a late charge was found and refunded."""
    found_any = False
    for part in _unchecked_parts(work, order_id):
        found_any |= _reconcile_part(work, gateway, order_id, part)
    return found_any


def _reconcile_part(work: Work, gateway: PaymentGateway, order_id: uuid.UUID, part: int) -> bool:
    found = gateway.find_charge(order_id=charge_reference(order_id, part))
    landed = found is not None and found.status in ("succeeded", "authorized")
    charge_id = found.gateway_id if found is not None and landed else None
    with work() as session:
        values: dict[str, object] = {"reconciled_at": utcnow()}
        if charge_id is not None:
            values |= {"status": "refund_pending", "gateway_id": charge_id}
        if charge_id is not None and found is not None and found.status == "authorized":
            # Held on the card, not taken: the refund step voids it rather than refunding.
            values |= {"authorized_amount": Payment.amount}
        moved = session.execute(
            update(Payment)
            .where(
                Payment.order_id == order_id,
                Payment.part == part,
                Payment.status == "failed",
                Payment.reconciled_at.is_(None),
            )
            .values(**values, updated_at=utcnow())
            .returning(Payment.id)
        ).first()
        if moved is None or charge_id is None:
            return False
        detail = {"payment": charge_id} | ({"part": part} if part > 1 else {})
        record_event(session, order_id, "charged_after_abandon", detail=detail)
        later(session, REFUND, str(order_id))
        mail(session, order_id, "charged_after_abandon")
    log.error(
        "a payment of unknown outcome was charged after all; refunding",
        extra={"order_id": str(order_id)},
    )
    return True


def owed(work: Work, *, older_than: timedelta, limit: int = 200) -> int:
    """Ask again for every settlement and refund still owed; how many were asked for."""
    cutoff = utcnow() - older_than
    holds_money = or_(
        Payment.status == "succeeded", and_(Payment.status == "pending", Payment.attempts > 0)
    )
    with work() as session:
        unsettled = session.scalars(
            select(Payment.order_id)
            .join(Order, Order.id == Payment.order_id)
            .where(holds_money, Order.status.in_(NOT_FULFILLED), Payment.updated_at < cutoff)
            .limit(limit)
        ).all()
        refunds = session.scalars(
            select(Payment.order_id)
            .where(Payment.status == "refund_pending", Payment.updated_at < cutoff)
            .limit(limit)
        ).all()
        asked = [later(session, SETTLE_PAYMENT, str(o)) for o in unsettled]
        asked += [later(session, REFUND, str(o)) for o in refunds]
    return sum(1 for follow_up in asked if follow_up is not None)
