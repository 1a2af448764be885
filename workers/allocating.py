"""The allocate step: reserve the whole order in the nearest warehouse that holds it."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models.catalog import Stock, Warehouse
from models.domain.allocation import Decision, WarehouseStock, choose_warehouse
from models.domain.geo import Point
from models.domain.lifecycle import DeliveryMethod, OrderStatus
from models.fulfilment import Allocation, AllocationReceipt
from models.orders import Order
from models.stock import reserve
from models.transitions import advance, lock_order
from workers.errors import is_lost_race

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RECEIPT_CANDIDATES = 20


class Allocated(StrEnum):
    """What the allocate step did."""

    ALLOCATED = "allocated"
    REJECTED = "rejected"
    SKIPPED = "skipped"


class AllocationContended(Exception):
    """Stock kept moving under this order; the task will try again later."""


class _StockMoved(Exception):
    """Stock read as available was taken before it could be reserved."""


def _warehouses(session: Session, order: Order, articles: list[str]) -> list[WarehouseStock]:
    query = select(Warehouse).where(Warehouse.active.is_(True))
    if order.delivery_method == DeliveryMethod.SELF_SERVICE:
        query = query.where(Warehouse.allows_self_service.is_(True))
    warehouses = session.scalars(query).all()
    available: dict[int, dict[str, int]] = defaultdict(dict)
    for warehouse_id, article, sellable in session.execute(
        select(Stock.warehouse_id, Stock.article_number, Stock.on_hand - Stock.reserved).where(
            Stock.article_number.in_(articles)
        )
    ).all():
        available[warehouse_id][article] = sellable
    return [
        WarehouseStock(w.id, w.code, Point(w.latitude, w.longitude), available.get(w.id, {}))
        for w in warehouses
    ]


def _receipt(order_id: uuid.UUID, decision: Decision) -> AllocationReceipt:
    # The nearest few explain the choice; the chosen one is kept even when it lies further out.
    kept = [
        (rank, c)
        for rank, c in enumerate(decision.candidates, start=1)
        if rank <= RECEIPT_CANDIDATES or c.warehouse_id == decision.warehouse_id
    ]
    return AllocationReceipt(
        order_id=order_id,
        reason=decision.reason,
        candidates=[
            {
                "rank": rank,
                "warehouse": c.code,
                "distance_km": c.distance_km,
                "can_fill": c.can_fill,
                "chosen": c.warehouse_id == decision.warehouse_id,
            }
            for rank, c in kept
        ],
    )


def _allocate_once(session: Session, order_id: uuid.UUID) -> Allocated:
    order = lock_order(session, order_id, OrderStatus.RECEIVED)
    if order is None:
        return Allocated.SKIPPED
    wanted = {line.article_number: line.quantity for line in order.lines}
    warehouses = _warehouses(session, order, list(wanted))
    decision = choose_warehouse(
        Point(order.ship_latitude, order.ship_longitude), wanted, warehouses
    )
    session.add(_receipt(order_id, decision))
    if decision.warehouse_id is None:
        advance(
            session,
            order_id,
            OrderStatus.RECEIVED,
            OrderStatus.REJECTED,
            {"reason": decision.reason},
        )
        return Allocated.REJECTED
    if not reserve(session, decision.warehouse_id, wanted):
        raise _StockMoved
    session.add_all(
        Allocation(
            order_id=order_id,
            order_line_id=line.id,
            warehouse_id=decision.warehouse_id,
            article_number=line.article_number,
            quantity=line.quantity,
        )
        for line in order.lines
    )
    chosen = next(c for c in decision.candidates if c.warehouse_id == decision.warehouse_id)
    advance(
        session,
        order_id,
        OrderStatus.RECEIVED,
        OrderStatus.ALLOCATED,
        {"warehouse": chosen.code, "distance_km": chosen.distance_km, "reason": decision.reason},
    )
    return Allocated.ALLOCATED


def allocate_order(sessions: sessionmaker[Session], order_id: uuid.UUID) -> Allocated:
    """Allocate the order in one transaction, again from the start when it loses a race."""
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with sessions() as session, session.begin():
                outcome = _allocate_once(session, order_id)
        except _StockMoved:
            continue
        except DBAPIError as exc:
            if not is_lost_race(exc):
                raise
            continue
        log.info("allocate: %s", outcome, extra={"order_id": str(order_id)})
        return outcome
    raise AllocationContended(str(order_id))
