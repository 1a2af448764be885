"""Reservations that expire: a held order nobody released in time, and an order stuck before
payment, give their stock back; the units go to the oldest backorders first.

Both are cancelled through the ordinary cancel (models/services/cancel.py), in a short
transaction each: the stock released, the customer mailed `cancelled` with the reason, and
the money settled against the gateway by the cancel's own follow-up. An order stuck before
payment may have a charge whose outcome we never learnt; cancelling does not assume it
failed: settling asks the gateway and refunds a charge that landed, and a charge recorded
after the cancel is refunded too (models/services/charge.py `record_charge`).

Rows are taken with FOR UPDATE SKIP LOCKED, so runs at once share the work, and each order is
checked again under its lock, so running twice cancels each order once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Exists, Select, exists, select
from sqlalchemy.orm import Session

from models.domain.holds import NOT_PAID, NOT_RELEASED, RESERVATION_EXPIRY_ACTOR
from models.domain.lifecycle import OrderStatus
from models.services.cancel import cancel_order
from models.store.unit_of_work import Work
from models.tables.fulfilment import Payment
from models.tables.orders import Order

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Expired:
    """What a run cancelled: held orders not released in time, orders not paid in time."""

    held: list[uuid.UUID]
    unpaid: list[uuid.UUID]

    @property
    def units_back(self) -> bool:
        """Whether any stock came back (and backorders may be filled)."""
        return bool(self.held or self.unpaid)


def _money_taken() -> Exists:
    # A charge recorded as taken: the order is being paid, not stuck (the pipeline moves it).
    return exists().where(
        Payment.order_id == Order.id, Payment.status.in_(("succeeded", "authorized"))
    )


def _held_due(now: datetime) -> Select[uuid.UUID]:
    return (
        select(Order.id)
        .where(Order.status == OrderStatus.ON_HOLD.value, Order.hold_until <= now)
        .order_by(Order.hold_until)
    )


def _unpaid_due(now: datetime, minutes: int) -> Select[uuid.UUID]:
    return (
        select(Order.id)
        .where(
            Order.status == OrderStatus.ALLOCATED.value,
            Order.updated_at <= now - timedelta(minutes=minutes),
            ~_money_taken(),
        )
        .order_by(Order.updated_at)
    )


def _expire_one(
    session: Session, order_id: uuid.UUID, due: Select[uuid.UUID], reason: str, now: datetime
) -> bool:
    # Still due under its lock; one another run (or a release, a charge) holds is skipped.
    locked = session.scalar(
        due.where(Order.id == order_id).with_for_update(of=Order, skip_locked=True)
    )
    if locked is None:
        return False
    done = cancel_order(session, order_id, reason=reason, actor=RESERVATION_EXPIRY_ACTOR, now=now)
    return not done.already


def _expire(
    work: Work, due: Select[uuid.UUID], reason: str, now: datetime, limit: int
) -> list[uuid.UUID]:
    with work() as session:
        listed = session.scalars(due.limit(limit)).all()
    expired: list[uuid.UUID] = []
    for order_id in listed:
        with work() as session:
            if _expire_one(session, order_id, due, reason, now):
                expired.append(order_id)
    for order_id in expired:
        log.info("reservation expired (%s): cancelled", reason, extra={"order_id": str(order_id)})
    return expired


def expire_reservations(
    work: Work, *, now: datetime, unpaid_minutes: int, limit: int = 200
) -> Expired:
    """Cancel held orders past their hold and allocated orders not paid within
    `unpaid_minutes`, at most `limit` of each per run."""
    held = _expire(work, _held_due(now), NOT_RELEASED, now, limit)
    unpaid = _expire(work, _unpaid_due(now, unpaid_minutes), NOT_PAID, now, limit)
    return Expired(held, unpaid)
