"""Reserving, releasing and shipping stock with conditional updates that cannot oversell."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.catalog import Stock
from models.fulfilment import Allocation


@dataclass(frozen=True)
class Reserved:
    """A stock row just after a reservation: what is left to sell, and its alert threshold."""

    warehouse_id: int
    article_number: str
    sellable: int
    threshold: int | None


def reserve(
    session: Session, warehouse_id: int, wanted: Mapping[str, int]
) -> list[Reserved] | None:
    """Reserve every wanted quantity in the warehouse; None if one is short.

    Rows are touched in article order so that concurrent reservations lock them in the
    same order and cannot deadlock each other. On None the caller must roll back.
    """
    rows: list[Reserved] = []
    for article_number in sorted(wanted):
        quantity = wanted[article_number]
        row = session.execute(
            update(Stock)
            .where(
                Stock.warehouse_id == warehouse_id,
                Stock.article_number == article_number,
                Stock.on_hand - Stock.reserved >= quantity,
            )
            .values(reserved=Stock.reserved + quantity, updated_at=utcnow())
            .returning(Stock.on_hand - Stock.reserved, Stock.low_stock_threshold)
        ).first()
        if row is None:
            return None
        rows.append(Reserved(warehouse_id, article_number, row[0], row[1]))
    return rows


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
