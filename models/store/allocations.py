"""The allocate step's reads and writes, two statements in all: allocation is the hot path.

One statement locks the order and reads its lines with every warehouse's sellable units
(and, for an order that ships in parts, what earlier parts allocated);
the other reserves every pick (rows locked in (warehouse, article) order, so concurrent
allocations cannot deadlock), records the allocations, the receipt, the status change
and its timeline entry, and only does the recording when every reservation held.

A line's cancelled units are not wanted. The first statement may have read the lines before
a line cancel that held the order's lock committed (a lock wait re-reads the order's row, not
its lines), so the second also checks that the units still wanted are the ones planned for;
if not, nothing is recorded and the step plans again. For a later part of a partially shipped
order the units still wanted are those no earlier part holds.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from models.domain.allocation import Plan
from models.domain.geo import Point
from models.domain.lifecycle import DeliveryMethod, OrderStatus, can_transition

# An order's first allocation (received or backordered: nothing allocated yet), the hot path.
READ = text(
    """
    SELECT o.ship_latitude, o.ship_longitude, o.ship_country, o.delivery_method,
           l.id AS line_id, l.article_number, l.quantity - l.cancelled_quantity AS quantity,
           s.warehouse_id, s.on_hand - s.reserved AS sellable, 0 AS in_flight, 0 AS parts
    FROM "order" o
    JOIN order_line l ON l.order_id = o.id AND l.quantity > l.cancelled_quantity
    LEFT JOIN stock s ON s.article_number = l.article_number AND s.on_hand > s.reserved
    WHERE o.id = CAST(:order_id AS uuid) AND o.status = :expected
    FOR UPDATE OF o
    """
)

# The next part of a partially shipped order: what each line still wants once earlier parts'
# allocations are counted, whether a part is still on its way, and the highest part so far.
READ_NEXT_PART = text(
    """
    SELECT o.ship_latitude, o.ship_longitude, o.ship_country, o.delivery_method,
           l.id AS line_id, l.article_number,
           l.quantity - l.cancelled_quantity - held.units AS quantity,
           s.warehouse_id, s.on_hand - s.reserved AS sellable,
           done.in_flight, done.parts
    FROM "order" o
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE a.released_at IS NULL AND a.shipped_at IS NULL)
                   AS in_flight,
               COALESCE(max(a.part), 0) AS parts
        FROM allocation a WHERE a.order_id = o.id
    ) done
    JOIN order_line l ON l.order_id = o.id
    CROSS JOIN LATERAL (
        SELECT COALESCE(sum(a.quantity), 0) AS units FROM allocation a
        WHERE a.order_line_id = l.id AND a.released_at IS NULL
    ) held
    LEFT JOIN stock s ON s.article_number = l.article_number AND s.on_hand > s.reserved
    WHERE o.id = CAST(:order_id AS uuid) AND o.status = :expected
    FOR UPDATE OF o
    """
)

WRITE = text(
    """
    WITH picks AS (
        SELECT * FROM jsonb_to_recordset(CAST(:picks AS jsonb))
            AS p(warehouse_id integer, article_number text, quantity integer, line_id integer)
    ),
    locked AS (
        SELECT s.warehouse_id FROM stock s
        JOIN picks p ON p.warehouse_id = s.warehouse_id AND p.article_number = s.article_number
        ORDER BY s.warehouse_id, s.article_number
        FOR UPDATE OF s
    ),
    reserved AS (
        UPDATE stock s SET reserved = s.reserved + p.quantity, updated_at = :now
        FROM picks p
        WHERE s.warehouse_id = p.warehouse_id AND s.article_number = p.article_number
          AND s.on_hand - s.reserved >= p.quantity
          AND (SELECT count(*) FROM locked) = :n
        RETURNING s.warehouse_id, s.article_number,
                  s.on_hand - s.reserved AS sellable, s.low_stock_threshold
    ),
    wanted AS (
        SELECT * FROM jsonb_to_recordset(CAST(:wanted AS jsonb))
            AS w(line_id integer, quantity integer)
    ),
    still AS (
        SELECT l.id, l.quantity - l.cancelled_quantity - CASE WHEN :later_part THEN COALESCE(
                   (SELECT sum(a.quantity) FROM allocation a
                    WHERE a.order_line_id = l.id AND a.released_at IS NULL), 0) ELSE 0 END
                   AS units
        FROM order_line l
        WHERE l.order_id = CAST(:order_id AS uuid)
    ),
    fresh AS (
        SELECT count(*) AS live,
               count(*) FILTER (WHERE (l.id, l.units)
                                      IN (SELECT line_id, quantity FROM wanted)) AS same
        FROM still l
        WHERE l.units > 0
    ),
    complete AS (
        SELECT count(*) = :n AND (SELECT live = same AND same = :lines FROM fresh) AS ok
        FROM reserved
    ),
    allocations AS (
        INSERT INTO allocation
            (order_id, order_line_id, warehouse_id, article_number, quantity, part, created_at)
        SELECT CAST(:order_id AS uuid), p.line_id, p.warehouse_id, p.article_number,
               p.quantity, :part, :now
        FROM picks p, complete WHERE complete.ok
    ),
    receipt AS (
        INSERT INTO allocation_receipt
            (order_id, outcome, rule, reason, candidates, picks, created_at)
        SELECT CAST(:order_id AS uuid), :outcome, :rule, :reason, CAST(:candidates AS jsonb),
               CAST(:receipt_picks AS jsonb), :now
        FROM complete WHERE complete.ok
    ),
    moved AS (
        UPDATE "order" SET status = :target, updated_at = :now
        WHERE id = CAST(:order_id AS uuid) AND status = :expected
          AND (SELECT ok FROM complete)
        RETURNING id
    ),
    event AS (
        INSERT INTO order_event (order_id, kind, from_status, to_status, detail, created_at)
        SELECT id, :event, :expected, :target, CAST(:detail AS jsonb), :now FROM moved
    )
    SELECT r.warehouse_id, r.article_number, r.sellable, r.low_stock_threshold,
           (SELECT count(*) FROM moved) AS moved
    FROM reserved r
    """
)


@dataclass(frozen=True)
class Reserved:
    """A stock row just after a reservation: what is left to sell, and its alert threshold."""

    warehouse_id: int
    article_number: str
    sellable: int
    threshold: int | None


@dataclass(frozen=True)
class OrderToAllocate:
    """The little of an order that allocation needs, read with the order row locked."""

    order_id: uuid.UUID
    location: Point
    market: str
    self_service: bool
    line_ids: dict[str, int]
    # Units of each line not yet allocated (all of them, unless earlier parts took some).
    wanted: dict[str, int]
    stock: dict[int, dict[str, int]]
    # Units allocated and not yet shipped or released: a part on its way through the steps.
    in_flight: int = 0
    # The highest part allocated so far (0 before the first).
    parts: int = 0


def read_for_allocation(
    session: Session, order_id: uuid.UUID, expected: OrderStatus
) -> OrderToAllocate | None:
    """Lock the order if it is in `expected`; its lines and the sellable stock of each."""
    statement = READ_NEXT_PART if expected is OrderStatus.PARTIALLY_SHIPPED else READ
    rows = session.execute(statement, {"order_id": str(order_id), "expected": expected.value}).all()
    if not rows:
        return None
    stock: dict[int, dict[str, int]] = defaultdict(dict)
    line_ids: dict[str, int] = {}
    wanted: dict[str, int] = {}
    for row in rows:
        if row.quantity <= 0:  # allocated by an earlier part, or cancelled
            continue
        line_ids[row.article_number] = row.line_id
        wanted[row.article_number] = row.quantity
        if row.warehouse_id is not None:
            stock[row.warehouse_id][row.article_number] = row.sellable
    head = rows[0]
    return OrderToAllocate(
        order_id,
        Point(head.ship_latitude, head.ship_longitude),
        head.ship_country,
        head.delivery_method == DeliveryMethod.SELF_SERVICE,
        line_ids,
        wanted,
        dict(stock),
        int(head.in_flight),
        int(head.parts),
    )


def _picks(order: OrderToAllocate, plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "warehouse_id": p.warehouse_id,
            "article_number": p.article_number,
            "quantity": p.quantity,
            "line_id": order.line_ids[p.article_number],
        }
        for p in plan.picks
    ]


def _status_change(expected: OrderStatus, part: int) -> dict[str, str]:
    """Part 1 moves the order to allocated; a later part leaves it partially shipped."""
    target = OrderStatus.ALLOCATED if part == 1 else expected
    if part == 1 and not can_transition(expected, target):
        raise ValueError(f"{expected} -> {target} is not a transition")
    event = "allocated" if part == 1 else "part_allocated"
    return {"expected": expected.value, "target": target.value, "event": event}


def _receipt_columns(receipt: dict[str, Any]) -> dict[str, Any]:
    return {
        "outcome": receipt["outcome"],
        "rule": receipt["rule"],
        "reason": receipt["reason"],
        "candidates": json.dumps(receipt["candidates"]),
        "receipt_picks": json.dumps(receipt["picks"]),
    }


def _wanted(order: OrderToAllocate) -> dict[str, Any]:
    """The units planned for, per line, for the write to check they are still wanted."""
    wanted = [{"line_id": order.line_ids[a], "quantity": q} for a, q in order.wanted.items()]
    return {"wanted": json.dumps(wanted), "lines": len(wanted)}


def record_plan(
    session: Session,
    order: OrderToAllocate,
    expected: OrderStatus,
    plan: Plan,
    *,
    receipt: dict[str, Any],
    detail: dict[str, Any],
    now: datetime,
    part: int = 1,
) -> list[Reserved] | None:
    """Reserve and record the plan as `part` of the order; None when a pick could not be
    reserved (roll back then).

    The status change is part of the one statement below (guarded by `status = :expected`,
    as `advance` guards it), and obeys the same state machine. A later part of a partially
    shipped order leaves its status as it is and puts `part_allocated` on its timeline.
    """
    picks = _picks(order, plan)
    rows = session.execute(
        WRITE,
        _wanted(order)
        | {
            "order_id": str(order.order_id),
            "part": part,
            "later_part": part > 1,
            "picks": json.dumps(picks),
            "n": len(picks),
            "now": now,
            "detail": json.dumps(detail),
            **_status_change(expected, part),
            **_receipt_columns(receipt),
        },
    ).all()
    if len(rows) != len(picks) or not rows or rows[0].moved != 1:
        return None
    return [
        Reserved(r.warehouse_id, r.article_number, r.sellable, r.low_stock_threshold) for r in rows
    ]
