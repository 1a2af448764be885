"""The allocate step: plan the order over the nearest warehouses and reserve it atomically."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models.alerts import open_alerts_below
from models.base import utcnow
from models.catalog import Stock
from models.directory import WarehouseDirectory
from models.domain.allocation import Outcome, Plan, plan_allocation, rank
from models.domain.geo import Point
from models.domain.lifecycle import DeliveryMethod, OrderStatus
from models.fulfilment import Allocation, AllocationReceipt
from models.orders import Order, OrderLine
from models.stock import Reserved, reserve
from models.transitions import advance
from settings import Settings
from workers.errors import is_lost_race

log = logging.getLogger(__name__)

# Tables rather than mapped classes: plain multi-row INSERTs, no unit-of-work bookkeeping.
ALLOCATIONS = cast(Table, Allocation.__table__)
RECEIPTS = cast(Table, AllocationReceipt.__table__)

MAX_ATTEMPTS = 8
RECEIPT_CANDIDATES = 25


class Allocated(StrEnum):
    """What the allocate step did."""

    ALLOCATED = "allocated"
    BACKORDERED = "backordered"
    REJECTED = "rejected"
    STILL_SHORT = "still_short"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class AllocationResult:
    """The outcome, and the low-stock alerts the reservation opened."""

    outcome: Allocated
    alert_ids: list[int] = field(default_factory=list)


class AllocationContended(Exception):
    """Stock kept moving under this order; the task will try again later."""


class _StockMoved(Exception):
    """Stock read as sellable was taken before it could be reserved."""


def _sellable(session: Session, articles: list[str]) -> dict[int, dict[str, int]]:
    stock: dict[int, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(Stock.warehouse_id, Stock.article_number, Stock.on_hand - Stock.reserved).where(
            Stock.article_number.in_(articles), Stock.on_hand > Stock.reserved
        )
    ).all()
    for warehouse_id, article, sellable in rows:
        stock[warehouse_id][article] = sellable
    return stock


def _receipt(order_id: uuid.UUID, plan: Plan) -> dict[str, Any]:
    # The nearest few explain the choice; chosen ones are kept even when they lie further out.
    chosen = set(plan.warehouse_ids)
    kept = [c for c in plan.candidates if c.rank <= RECEIPT_CANDIDATES or c.warehouse_id in chosen]
    return {
        "order_id": order_id,
        "outcome": plan.outcome.value,
        "reason": plan.reason[:500],
        "candidates": [
            {
                "rank": c.rank,
                "warehouse": c.code,
                "distance_km": c.distance_km,
                "available": dict(c.available),
                "can_fill": c.can_fill,
                "chosen": c.warehouse_id in chosen,
            }
            for c in kept
        ],
        "picks": [
            {
                "warehouse_id": p.warehouse_id,
                "article_number": p.article_number,
                "quantity": p.quantity,
            }
            for p in plan.picks
        ],
        "created_at": utcnow(),
    }


@dataclass(frozen=True)
class _Order:
    """The little of an order that allocation reads, fetched with its row locked."""

    order_id: uuid.UUID
    location: Point
    self_service: bool
    line_ids: dict[str, int]
    wanted: dict[str, int]


def _lock(session: Session, order_id: uuid.UUID, expected: OrderStatus) -> _Order | None:
    # Plain rows rather than mapped objects: allocation is the hot path, and it needs few columns.
    head = session.execute(
        select(Order.ship_latitude, Order.ship_longitude, Order.delivery_method)
        .where(Order.id == order_id, Order.status == expected.value)
        .with_for_update()
    ).first()
    if head is None:
        return None
    lines = session.execute(
        select(OrderLine.id, OrderLine.article_number, OrderLine.quantity).where(
            OrderLine.order_id == order_id
        )
    ).all()
    return _Order(
        order_id,
        Point(head.ship_latitude, head.ship_longitude),
        head.delivery_method == DeliveryMethod.SELF_SERVICE,
        {line.article_number: line.id for line in lines},
        {line.article_number: line.quantity for line in lines},
    )


def _short(
    session: Session, order: _Order, expected: OrderStatus, plan: Plan, settings: Settings
) -> Allocated:
    if expected is OrderStatus.BACKORDERED:
        return Allocated.STILL_SHORT
    session.execute(insert(RECEIPTS), [_receipt(order.order_id, plan)])
    detail = {"reason": plan.reason, "shortages": dict(plan.shortages)}
    if settings.shortage_policy == "backorder":
        advance(session, order.order_id, expected, OrderStatus.BACKORDERED, detail)
        return Allocated.BACKORDERED
    advance(session, order.order_id, expected, OrderStatus.REJECTED, detail)
    return Allocated.REJECTED


def _reserve_all(session: Session, plan: Plan) -> list[Reserved]:
    by_warehouse: dict[int, dict[str, int]] = defaultdict(dict)
    for pick in plan.picks:
        by_warehouse[pick.warehouse_id][pick.article_number] = pick.quantity
    # Warehouses in id order, articles sorted inside: every allocation locks rows in one order.
    reserved: list[Reserved] = []
    for warehouse_id in sorted(by_warehouse):
        rows = reserve(session, warehouse_id, by_warehouse[warehouse_id])
        if rows is None:
            raise _StockMoved
        reserved += rows
    return reserved


def _allocate_once(
    session: Session,
    directory: WarehouseDirectory,
    order_id: uuid.UUID,
    expected: OrderStatus,
    settings: Settings,
) -> AllocationResult:
    order = _lock(session, order_id, expected)
    if order is None:
        return AllocationResult(Allocated.SKIPPED)
    stock = _sellable(session, list(order.wanted))
    # Only warehouses holding some of the order can take part, so only they are ranked:
    # a few dozen distances instead of one per warehouse in the network.
    sites = directory.sites(session)
    ranked = rank(order.location, [sites[w] for w in stock if w in sites])
    plan = plan_allocation(order.wanted, ranked, stock, self_service=order.self_service)
    if plan.outcome is Outcome.SHORT:
        return AllocationResult(_short(session, order, expected, plan, settings))
    reserved = _reserve_all(session, plan)
    session.execute(
        insert(ALLOCATIONS),
        [
            {
                "order_id": order_id,
                "order_line_id": order.line_ids[p.article_number],
                "warehouse_id": p.warehouse_id,
                "article_number": p.article_number,
                "quantity": p.quantity,
                "created_at": utcnow(),
            }
            for p in plan.picks
        ],
    )
    session.execute(insert(RECEIPTS), [_receipt(order_id, plan)])
    chosen = set(plan.warehouse_ids)
    codes = [c.code for c in plan.candidates if c.warehouse_id in chosen]
    advance(
        session,
        order_id,
        expected,
        OrderStatus.ALLOCATED,
        {"outcome": plan.outcome.value, "warehouses": codes, "reason": plan.reason},
    )
    below = [(r.warehouse_id, r.article_number, r.sellable, r.threshold) for r in reserved]
    alerts = open_alerts_below(session, below, settings.low_stock_threshold)
    return AllocationResult(Allocated.ALLOCATED, alerts)


def allocate_order(
    sessions: sessionmaker[Session],
    directory: WarehouseDirectory,
    settings: Settings,
    order_id: uuid.UUID,
    *,
    expected: OrderStatus = OrderStatus.RECEIVED,
) -> AllocationResult:
    """Allocate the order in one transaction, again from the start when it loses a race."""
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with sessions() as session, session.begin():
                result = _allocate_once(session, directory, order_id, expected, settings)
        except _StockMoved:
            continue
        except DBAPIError as exc:
            if not is_lost_race(exc):
                raise
            continue
        log.info("allocate: %s", result.outcome, extra={"order_id": str(order_id)})
        return result
    raise AllocationContended(str(order_id))


# One filler at a time keeps arrival order: two would race for the same units.
BACKORDER_LOCK = 0x6261636B6F726472  # "backordr"


def fill_backorders(
    sessions: sessionmaker[Session],
    directory: WarehouseDirectory,
    settings: Settings,
    limit: int = 500,
) -> list[tuple[uuid.UUID, AllocationResult]]:
    """Offer sellable stock to held orders, oldest first; what happened to each."""
    with sessions() as guard, guard.begin():
        if not guard.execute(select(func.pg_try_advisory_xact_lock(BACKORDER_LOCK))).scalar_one():
            return []
        waiting = guard.scalars(
            select(Order.id)
            .where(Order.status == OrderStatus.BACKORDERED.value)
            .order_by(Order.created_at, Order.id)
            .limit(limit)
        ).all()
        return [
            (
                order_id,
                allocate_order(
                    sessions, directory, settings, order_id, expected=OrderStatus.BACKORDERED
                ),
            )
            for order_id in waiting
        ]
