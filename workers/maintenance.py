"""Housekeeping that keeps the system honest: the outbox relay, the watchdog, key expiry."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.catalog import StockAlert
from models.domain.lifecycle import OrderStatus, next_step
from models.fulfilment import Notification, Payment
from models.infra import IdempotencyKey, Outbox
from models.orders import Order
from models.transitions import record_event
from workers.adapters.sqs import OrdersQueue

log = logging.getLogger(__name__)

MOVING = [OrderStatus.RECEIVED.value, OrderStatus.ALLOCATED.value, OrderStatus.PAID.value]


def relay_outbox(
    sessions: sessionmaker[Session], queue: OrdersQueue, *, grace_seconds: float, batch: int = 100
) -> int:
    """Publish what the intake recorded but could not publish; how many went out."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    published = 0
    with sessions() as session, session.begin():
        rows = session.scalars(
            select(Outbox)
            .where(Outbox.published_at.is_(None), Outbox.created_at < cutoff)
            .order_by(Outbox.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            try:
                queue.publish(row.payload)
            except Exception as exc:  # SQS is down: keep the row, try again next round
                row.attempts += 1
                row.last_error = str(exc)[:500]
                log.warning(
                    "outbox relay: publish failed: %s", exc, extra={"order_id": row.message_key}
                )
                break
            row.published_at = utcnow()
            row.attempts += 1
            published += 1
    if published:
        log.info("outbox relay published %d message(s)", published)
    return published


def stuck_orders(
    sessions: sessionmaker[Session], *, sla_seconds: int, limit: int = 200
) -> list[tuple[uuid.UUID, str]]:
    """Orders that have not moved within the SLA, with the step that moves them; clock restarted."""
    cutoff = utcnow() - timedelta(seconds=sla_seconds)
    found: list[tuple[uuid.UUID, str]] = []
    with sessions() as session, session.begin():
        rows = session.execute(
            select(Order.id, Order.status)
            .where(Order.status.in_(MOVING), Order.updated_at < cutoff)
            .order_by(Order.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for order_id, status in rows:
            step = next_step(OrderStatus(status))
            if step is None:
                continue
            session.execute(update(Order).where(Order.id == order_id).values(updated_at=utcnow()))
            record_event(session, order_id, "redispatched", detail={"step": step})
            found.append((order_id, step))
    for order_id, step in found:
        log.warning("watchdog: %s again", step, extra={"order_id": str(order_id)})
    return found


def unsent_notifications(
    sessions: sessionmaker[Session], *, sla_seconds: int, limit: int = 200
) -> list[tuple[uuid.UUID, str]]:
    """Emails claimed but not sent within the SLA."""
    cutoff = utcnow() - timedelta(seconds=sla_seconds)
    with sessions() as session:
        rows = session.execute(
            select(Notification.order_id, Notification.kind)
            .where(Notification.status == "pending", Notification.created_at < cutoff)
            .limit(limit)
        ).all()
        return [(order_id, kind) for order_id, kind in rows]


def pending_refunds(
    sessions: sessionmaker[Session], *, sla_seconds: int, limit: int = 200
) -> list[uuid.UUID]:
    """Orders whose refund has waited longer than the SLA (its task lost, or the gateway down)."""
    cutoff = utcnow() - timedelta(seconds=sla_seconds)
    with sessions() as session:
        return list(
            session.scalars(
                select(Payment.order_id)
                .where(Payment.status == "refund_pending", Payment.updated_at < cutoff)
                .order_by(Payment.updated_at)
                .limit(limit)
            )
        )


def unsent_low_stock_alerts(sessions: sessionmaker[Session], limit: int = 200) -> list[int]:
    """Open low-stock alerts nobody has told operations about yet."""
    with sessions() as session:
        return list(
            session.scalars(
                select(StockAlert.id)
                .where(StockAlert.notified_at.is_(None), StockAlert.cleared_at.is_(None))
                .order_by(StockAlert.id)
                .limit(limit)
            )
        )


def expire_idempotency_keys(sessions: sessionmaker[Session]) -> int:
    """Forget stored responses past their expiry."""
    with sessions() as session, session.begin():
        result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < utcnow()))
        return int(getattr(result, "rowcount", 0) or 0)
