"""Pickup orders after they are ready at their warehouse: collected by the customer, or, when
nobody comes within the hold, cancelled and refunded.

A ready order keeps its units reserved; collecting takes them off the shelf as shipping does
(on hand and reserved both drop, the allocations are marked shipped), and cancelling gives
them back. Both happen under the order's row lock with the status they expect, so a collect
and an expiry racing each other end with exactly one of them done.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.domain.lifecycle import PICKUP_EXPIRY_ACTOR, OrderStatus
from models.services.cancel import cancel_order
from models.store.follow_ups import mail
from models.store.orders import advance, lock_order
from models.store.stock import commit_shipped
from models.store.unit_of_work import Work
from models.tables.orders import Order

log = logging.getLogger(__name__)


def collect_order(session: Session, order_id: uuid.UUID, *, actor: str) -> bool:
    """Record the ready order collected in the caller's transaction: its stock leaves the
    shelf and the customer is mailed. False if it was not ready for pickup."""
    if lock_order(session, order_id, OrderStatus.READY_FOR_PICKUP) is None:
        return False
    units = commit_shipped(session, order_id)
    advance(
        session,
        order_id,
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.COLLECTED,
        {"by": actor, "units": sum(units.values())},
    )
    mail(session, order_id, "collected")
    return True


def not_collected_reason(hold_days: int) -> str:
    """Why an expired pickup was cancelled, as its timeline says."""
    return f"not collected within {hold_days} day{'' if hold_days == 1 else 's'}"


def _expire_one(session: Session, order_id: uuid.UUID, *, now: datetime, hold_days: int) -> bool:
    order = lock_order(session, order_id, OrderStatus.READY_FOR_PICKUP)
    # Collected, cancelled or given more time since it was listed: nothing to do.
    if order is None or order.pickup_hold_until is None or order.pickup_hold_until > now:
        return False
    if order.pickup_ready_at is not None:
        # The hold it was given when it became ready, whatever PICKUP_HOLD_DAYS says now.
        hold_days = round((order.pickup_hold_until - order.pickup_ready_at).total_seconds() / 86400)
    reason = not_collected_reason(hold_days)
    # The lock above holds it ready for pickup, which may always be cancelled.
    return not cancel_order(
        session, order_id, reason=reason, actor=PICKUP_EXPIRY_ACTOR, now=now
    ).already


def expire_pickups(
    work: Work, *, now: datetime, hold_days: int, limit: int = 200
) -> list[uuid.UUID]:
    """Cancel every pickup order held past its hold: its reservation released, a refund queued,
    the customer mailed (the cancel's own follow-ups). The reason names the hold the order was
    given (`hold_days` only if it has no ready time). Each order is cancelled in its own short
    transaction; running this twice, or twice at once, cancels each order once."""
    with work() as session:
        due = session.scalars(
            select(Order.id)
            .where(
                Order.status == OrderStatus.READY_FOR_PICKUP.value,
                Order.pickup_hold_until <= now,
            )
            .order_by(Order.pickup_hold_until)
            .limit(limit)
        ).all()
    expired: list[uuid.UUID] = []
    for order_id in due:
        with work() as session:
            if _expire_one(session, order_id, now=now, hold_days=hold_days):
                expired.append(order_id)
    for order_id in expired:
        log.info("pickup expired: cancelled", extra={"order_id": str(order_id)})
    return expired
