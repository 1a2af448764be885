"""The allocate step: plan the order over the nearest warehouses and reserve it atomically."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, func, insert, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models.domain.allocation import Outcome, Plan, plan_allocation, rank
from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus
from models.domain.partial import Split, coverable
from models.domain.tasks import CHARGE, CHARGE_PART
from models.store.alerts import open_alerts_below
from models.store.allocations import (
    OrderToAllocate,
    Reserved,
    read_for_allocation,
    record_plan,
)
from models.store.errors import is_lost_race
from models.store.follow_ups import finish_current, later, mail
from models.store.orders import advance, record_event
from models.store.parts import parts_waiting
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from models.store.webhook_events import hooks_of_written
from models.tables.fulfilment import AllocationReceipt
from models.tables.orders import Order
from settings import Settings

log = logging.getLogger(__name__)

# A table rather than the mapped class: a plain INSERT, no unit-of-work bookkeeping.
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
    # Where it was allocated: from one warehouse (single) or several (split).
    shape: Outcome | None = None


class AllocationContended(Exception):
    """Stock kept moving under this order; the task will try again later."""


class _StockMoved(Exception):
    """Stock read as sellable was taken before it could be reserved."""


def _receipt(order_id: uuid.UUID, plan: Plan) -> dict[str, Any]:
    # The nearest few explain the choice; chosen ones are kept even when they lie further out.
    chosen = set(plan.warehouse_ids)
    kept = [c for c in plan.candidates if c.rank <= RECEIPT_CANDIDATES or c.warehouse_id in chosen]
    return {
        "order_id": order_id,
        "outcome": plan.outcome.value,
        "rule": plan.rule.value,
        "reason": plan.reason[:500],
        "candidates": [
            {
                "rank": c.rank,
                "warehouse": c.code,
                "distance_km": c.distance_km,
                "available": dict(c.available),
                "can_fill": c.can_fill,
                "abroad": c.foreign,
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


def _short(
    session: Session, order_id: uuid.UUID, expected: OrderStatus, plan: Plan, settings: Settings
) -> Allocated:
    if expected is OrderStatus.BACKORDERED:
        return Allocated.STILL_SHORT
    session.execute(insert(RECEIPTS), [_receipt(order_id, plan)])
    detail = {"reason": plan.reason, "shortages": dict(plan.shortages)}
    # Nothing at all can ship now: a partial fulfilment holds the order as a backorder does.
    if settings.shortage_policy in ("backorder", "ship_available"):
        if advance(session, order_id, expected, OrderStatus.BACKORDERED, detail):
            mail(session, order_id, "backordered")
        return Allocated.BACKORDERED
    if advance(session, order_id, expected, OrderStatus.REJECTED, detail):
        mail(session, order_id, "rejected")
    return Allocated.REJECTED


def _plan(
    session: Session,
    directory: WarehouseDirectory,
    order: OrderToAllocate,
    settings: Settings,
    wanted: dict[str, int] | None = None,
) -> Plan:
    # Only warehouses holding some of the order can take part, so only they are ranked:
    # a few dozen distances instead of one per warehouse in the network.
    sites = directory.sites(session)
    ranked = rank(order.location, [sites[w] for w in order.stock if w in sites])
    return plan_allocation(
        order.wanted if wanted is None else wanted,
        ranked,
        order.stock,
        self_service=order.self_service,
        market=order.market,
        exact_lines=settings.allocation_exact_max_lines,
    )


def _part_plan(
    session: Session, directory: WarehouseDirectory, order: OrderToAllocate, settings: Settings
) -> tuple[Plan, Split | None]:
    """The plan for the order's next part: all it still wants, or under ship_available, when
    that is short, the whole lines that can ship now (models/domain/partial.py)."""
    plan = _plan(session, directory, order, settings)
    if settings.shortage_policy != "ship_available" or order.self_service:
        return plan, None
    split = coverable(plan, order.wanted)
    if split is None:
        return plan, None
    part = _plan(session, directory, order, settings, split.now)
    waiting = ", ".join(f"{a} x{q}" for a, q in split.waiting.items())
    reason = f"part {order.parts + 1}, the rest ({waiting}) follows: {part.reason}"
    return replace(part, reason=reason[:500]), split


def _allocate_once(
    session: Session,
    directory: WarehouseDirectory,
    order_id: uuid.UUID,
    expected: OrderStatus,
    settings: Settings,
) -> AllocationResult:
    order = read_for_allocation(session, order_id, expected)
    later_part = expected is OrderStatus.PARTIALLY_SHIPPED
    # A later part waits until the one before it has shipped: one part moves at a time.
    if order is None or not order.wanted or (later_part and order.in_flight):
        return AllocationResult(Allocated.SKIPPED)
    plan, split = _part_plan(session, directory, order, settings)
    if plan.outcome is Outcome.SHORT:
        if later_part:
            return AllocationResult(Allocated.STILL_SHORT)
        return AllocationResult(_short(session, order.order_id, expected, plan, settings))
    part = order.parts + 1
    reserved = _reserve(session, order, expected, plan, part)
    below = [(r.warehouse_id, r.article_number, r.sellable, r.threshold) for r in reserved]
    alerts = open_alerts_below(session, below, settings.low_stock_threshold)
    # Back in stock, all of it; part of it only, and the partially shipped mail says which.
    if expected is OrderStatus.BACKORDERED and split is None:
        mail(session, order_id, "back_in_stock")
    if split is not None:
        detail = {"part": part, "waiting": split.waiting, "shipping": split.now}
        record_event(session, order_id, "part_backordered", detail=detail)
    if part == 1:
        later(session, CHARGE, str(order_id))
    else:
        later(session, CHARGE_PART, str(order_id), part)
    return AllocationResult(Allocated.ALLOCATED, alerts, plan.outcome)


def _reserve(
    session: Session, order: OrderToAllocate, expected: OrderStatus, plan: Plan, part: int
) -> list[Reserved]:
    chosen = set(plan.warehouse_ids)
    codes = [c.code for c in plan.candidates if c.warehouse_id in chosen]
    detail = {
        "outcome": plan.outcome.value,
        "rule": plan.rule.value,
        "warehouses": codes,
        "reason": plan.reason,
        **({"part": part} if part > 1 else {}),
    }
    now = utcnow()
    receipt = _receipt(order.order_id, plan)
    reserved = record_plan(
        session, order, expected, plan, receipt=receipt, detail=detail, now=now, part=part
    )
    if reserved is None:
        raise _StockMoved
    if part == 1:
        # The statement wrote the timeline entry; the shop's webhooks hear of it here.
        target = OrderStatus.ALLOCATED.value
        hooks_of_written(
            session,
            order.order_id,
            "allocated",
            from_status=expected.value,
            to_status=target,
            detail=detail,
            at=now,
        )
    return reserved


def allocate_order(
    work: Work,
    directory: WarehouseDirectory,
    settings: Settings,
    order_id: uuid.UUID,
    *,
    expected: OrderStatus = OrderStatus.RECEIVED,
) -> AllocationResult:
    """Allocate the order in one transaction, again from the start when it loses a race.

    The same transaction records what follows: the charge, or the customer's email.
    """
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with work() as session:
                result = _allocate_once(session, directory, order_id, expected, settings)
                finish_current(session)
        except _StockMoved:
            continue
        except DBAPIError as exc:
            if not is_lost_race(exc):
                raise
            continue
        log.debug("allocate: %s", result.outcome, extra={"order_id": str(order_id)})
        return result
    raise AllocationContended(str(order_id))


# One filler at a time keeps arrival order: two would race for the same units.
BACKORDER_LOCK = 0x6261636B6F726472  # "backordr"


def fill_backorders(
    work: Work, directory: WarehouseDirectory, settings: Settings, limit: int = 500
) -> list[tuple[uuid.UUID, AllocationResult]]:
    """Offer sellable stock to held orders, oldest first; what happened to each. Held are
    backordered orders, and partially shipped ones whose last part has shipped and that
    still wait for lines (their next part).

    The lock is a session-level advisory lock on a connection with no transaction open:
    each order is allocated in a transaction of its own, so a long round holds no rows.
    """
    engine = work.sessions.kw["bind"]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as guard:
        if not guard.execute(select(func.pg_try_advisory_lock(BACKORDER_LOCK))).scalar_one():
            return []
        try:
            waiting = guard.execute(
                select(Order.id, Order.status)
                .where(or_(Order.status == OrderStatus.BACKORDERED.value, parts_waiting()))
                .order_by(Order.created_at, Order.id)
                .limit(limit)
            ).all()
            return [
                (
                    order_id,
                    allocate_order(
                        work, directory, settings, order_id, expected=OrderStatus(status)
                    ),
                )
                for order_id, status in waiting
            ]
        finally:
            guard.execute(select(func.pg_advisory_unlock(BACKORDER_LOCK)))
