"""Releasing and shipping reserved stock; reserving is the allocate step's (allocation_store)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.tables.catalog import Stock
from models.tables.fulfilment import Allocation


def _open_allocations(session: Session, order_id: uuid.UUID) -> list[Allocation]:
    return list(
        session.scalars(
            select(Allocation)
            .where(
                Allocation.order_id == order_id,
                Allocation.released_at.is_(None),
                Allocation.shipped_at.is_(None),
            )
            .order_by(Allocation.warehouse_id, Allocation.article_number)
            .with_for_update()
        )
    )


def release(session: Session, order_id: uuid.UUID) -> int:
    """Give back every unit the order still holds; how many units were released."""
    units = 0
    for allocation in _open_allocations(session, order_id):
        session.execute(
            update(Stock)
            .where(
                Stock.warehouse_id == allocation.warehouse_id,
                Stock.article_number == allocation.article_number,
            )
            .values(reserved=Stock.reserved - allocation.quantity, updated_at=utcnow())
        )
        allocation.released_at = utcnow()
        units += allocation.quantity
    return units


# Takes every open allocation of the order off the shelf. The stock rows are locked in
# (warehouse, article) order first, as the allocate step locks them, so the two cannot
# deadlock; two allocations of one stock row (two lines of one article) are summed, since
# an UPDATE ... FROM changes a row once however many rows it joins.
SHIP = text(
    """
    WITH open AS (
        SELECT a.id, a.warehouse_id, a.article_number, a.quantity FROM allocation a
        WHERE a.order_id = CAST(:order_id AS uuid)
          AND a.released_at IS NULL AND a.shipped_at IS NULL
        FOR UPDATE
    ),
    units AS (
        SELECT warehouse_id, article_number, sum(quantity) AS quantity FROM open
        GROUP BY warehouse_id, article_number
    ),
    locked AS (
        SELECT s.warehouse_id FROM stock s
        JOIN units u ON u.warehouse_id = s.warehouse_id AND u.article_number = s.article_number
        ORDER BY s.warehouse_id, s.article_number
        FOR UPDATE OF s
    ),
    taken AS (
        UPDATE stock s SET on_hand = s.on_hand - u.quantity, reserved = s.reserved - u.quantity,
                           updated_at = :now
        FROM units u
        WHERE s.warehouse_id = u.warehouse_id AND s.article_number = u.article_number
          AND (SELECT count(*) FROM locked) >= 0
    ),
    shipped AS (
        UPDATE allocation a SET shipped_at = :now FROM open WHERE a.id = open.id
    )
    SELECT warehouse_id, sum(quantity) AS units FROM open GROUP BY warehouse_id
    """
)


def commit_shipped(session: Session, order_id: uuid.UUID) -> dict[int, int]:
    """Take shipped units off the shelf, in one statement; units shipped per warehouse."""
    rows = session.execute(SHIP, {"order_id": str(order_id), "now": utcnow()})
    return {warehouse_id: int(units) for warehouse_id, units in rows}
