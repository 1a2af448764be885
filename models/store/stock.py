"""Releasing and shipping reserved stock; reserving is the allocate step's (allocation_store)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
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


def commit_shipped(session: Session, order_id: uuid.UUID) -> dict[int, int]:
    """Take shipped units off the shelf; units shipped per warehouse."""
    shipped: dict[int, int] = {}
    for allocation in _open_allocations(session, order_id):
        session.execute(
            update(Stock)
            .where(
                Stock.warehouse_id == allocation.warehouse_id,
                Stock.article_number == allocation.article_number,
            )
            .values(
                on_hand=Stock.on_hand - allocation.quantity,
                reserved=Stock.reserved - allocation.quantity,
                updated_at=utcnow(),
            )
        )
        allocation.shipped_at = utcnow()
        shipped[allocation.warehouse_id] = (
            shipped.get(allocation.warehouse_id, 0) + allocation.quantity
        )
    return shipped
