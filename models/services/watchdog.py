"""Housekeeping that keeps the system honest: the watchdog and key expiry.

Every follow-up is a row the relay publishes until it is done (workers/follow_ups.py), so
nothing waits on a broker message surviving. The watchdog is the net under that net: an
order that stopped moving with nothing pending for it gets its next step asked for again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import String, cast, delete, exists, select, update
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus, next_step
from models.domain.tasks import ALERT_LOW_STOCK, ALLOCATE, CHARGE, SHIP
from models.store.follow_ups import later
from models.store.orders import record_event
from models.store.revocations import forget_expired
from models.store.unit_of_work import Work
from models.tables.catalog import StockAlert
from models.tables.idempotency import IdempotencyKey
from models.tables.orders import Order
from models.tables.outbox import PENDING, Outbox

log = logging.getLogger(__name__)

MOVING = [OrderStatus.RECEIVED.value, OrderStatus.ALLOCATED.value, OrderStatus.PAID.value]
STEP_TASKS = {"allocate": ALLOCATE, "charge": CHARGE, "ship": SHIP}


def redrive_order(
    session: Session, order_id: uuid.UUID, status: str, *, by: str = "watchdog"
) -> str | None:
    """Ask again for the step that moves the order on from `status`; the step, or None.

    None when no step moves it on, or when that step is pending already: the follow-up's
    dedupe key admits one pending row, so asking twice never runs a step twice.
    """
    step = next_step(OrderStatus(status))
    if step is None or later(session, STEP_TASKS[step], str(order_id)) is None:
        return None
    session.execute(update(Order).where(Order.id == order_id).values(updated_at=utcnow()))
    record_event(session, order_id, "redispatched", detail={"step": step, "by": by})
    return step


def stuck_orders(work: Work, *, sla_seconds: int, limit: int = 200) -> list[tuple[uuid.UUID, str]]:
    """Orders that have not moved within the SLA with nothing pending for them; re-driven."""
    cutoff = utcnow() - timedelta(seconds=sla_seconds)
    nothing_pending = ~exists().where(PENDING, Outbox.message_key == cast(Order.id, String))
    found: list[tuple[uuid.UUID, str]] = []
    with work() as session:
        rows = session.execute(
            select(Order.id, Order.status)
            .where(Order.status.in_(MOVING), Order.updated_at < cutoff, nothing_pending)
            .order_by(Order.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for order_id, status in rows:
            step = redrive_order(session, order_id, status)
            if step is not None:
                found.append((order_id, step))
    for order_id, step in found:
        log.warning("watchdog: %s again", step, extra={"order_id": str(order_id)})
    return found


def unsent_low_stock_alerts(work: Work, *, sla_seconds: int, limit: int = 200) -> int:
    """Ask again for open alerts nobody has told operations about within the SLA."""
    cutoff = utcnow() - timedelta(seconds=sla_seconds)
    with work() as session:
        ids = session.scalars(
            select(StockAlert.id)
            .where(
                StockAlert.notified_at.is_(None),
                StockAlert.cleared_at.is_(None),
                StockAlert.failed_at.is_(None),
                StockAlert.fired_at < cutoff,
            )
            .order_by(StockAlert.id)
            .limit(limit)
        ).all()
        asked = [later(session, ALERT_LOW_STOCK, alert_id) for alert_id in ids]
    return sum(1 for follow_up in asked if follow_up is not None)


def expire_idempotency_keys(work: Work) -> int:
    """Forget stored responses past their expiry, and revocations of tokens expired anyway."""
    with work() as session:
        result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < utcnow()))
        forget_expired(session)
        return int(getattr(result, "rowcount", 0) or 0)
