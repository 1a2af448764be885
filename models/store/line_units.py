"""An order's lines as cancelling sees them: units ordered, cancelled, shipped and reserved;
and giving back the reservation of units cancelled."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.orm import Session

from models.tables.catalog import Stock
from models.tables.fulfilment import Allocation
from models.tables.orders import OrderLine


@dataclass(frozen=True)
class LineUnits:
    """One line's units: ordered, cancelled, shipped, and held (reserved or shipped)."""

    id: int
    line_no: int
    article_number: str
    quantity: int
    unit_price: int
    cancelled: int
    shipped: int
    held: int

    @property
    def cancellable(self) -> int:
        """Units that may still be cancelled: neither cancelled nor shipped."""
        return max(0, self.quantity - self.cancelled - self.shipped)

    @property
    def unreserved(self) -> int:
        """Units still wanted that no allocation holds (waiting for stock, or not yet planned)."""
        return max(0, self.quantity - self.cancelled - self.held)


def line_units(session: Session, order_id: uuid.UUID) -> dict[int, LineUnits]:
    """The order's lines by line number, with their shipped and held units."""
    live = Allocation.released_at.is_(None)
    shipped = func.coalesce(
        func.sum(Allocation.quantity).filter(live, Allocation.shipped_at.is_not(None)), 0
    )
    held = func.coalesce(func.sum(Allocation.quantity).filter(live), 0)
    rows = session.execute(
        select(
            OrderLine.id,
            OrderLine.line_no,
            OrderLine.article_number,
            OrderLine.quantity,
            OrderLine.unit_price,
            OrderLine.cancelled_quantity,
            shipped,
            held,
        )
        .outerjoin(Allocation, Allocation.order_line_id == OrderLine.id)
        .where(OrderLine.order_id == order_id)
        .group_by(OrderLine.id)
        .order_by(OrderLine.line_no)
    ).all()
    return {
        int(row[1]): LineUnits(int(row[0]), int(row[1]), str(row[2]), *map(int, row[3:]))
        for row in rows
    }


def add_cancelled(session: Session, units: Mapping[int, int]) -> None:
    """Count `units` (line id -> units) as cancelled on their lines."""
    for line_id, count in sorted(units.items()):
        session.execute(
            update(OrderLine)
            .where(OrderLine.id == line_id)
            .values(cancelled_quantity=OrderLine.cancelled_quantity + count)
        )


def _open_allocations(session: Session, line_ids: list[int]) -> list[Allocation]:
    # The newest part's units go back first: the oldest part is the nearest to leaving.
    return list(
        session.scalars(
            select(Allocation)
            .where(
                Allocation.order_line_id.in_(line_ids),
                Allocation.released_at.is_(None),
                Allocation.shipped_at.is_(None),
            )
            .order_by(Allocation.part.desc(), Allocation.warehouse_id, Allocation.id)
            .with_for_update()
        )
    )


def _lock_stock(session: Session, keys: set[tuple[int, str]]) -> None:
    # In (warehouse, article) order, as the allocate and ship steps lock them.
    session.execute(
        select(Stock.warehouse_id)
        .where(tuple_(Stock.warehouse_id, Stock.article_number).in_(sorted(keys)))
        .order_by(Stock.warehouse_id, Stock.article_number)
        .with_for_update()
    ).all()


def release_units(session: Session, units: Mapping[int, int], now: datetime) -> int:
    """Give back the reservation of `units` (line id -> units) from the lines' open
    allocations; how many units went back on the shelf.

    An allocation left with no units is released (its quantity stays, as `release` leaves
    it: the CHECK wants it positive); one left with some keeps the rest.
    """
    left = {line_id: count for line_id, count in units.items() if count > 0}
    if not left:
        return 0
    taken: list[tuple[Allocation, int]] = []
    for allocation in _open_allocations(session, sorted(left)):
        take = min(left[allocation.order_line_id], allocation.quantity)
        if take > 0:
            taken.append((allocation, take))
            left[allocation.order_line_id] -= take
    if not taken:
        return 0
    _lock_stock(session, {(a.warehouse_id, a.article_number) for a, _ in taken})
    for allocation, take in taken:
        session.execute(
            update(Stock)
            .where(
                and_(
                    Stock.warehouse_id == allocation.warehouse_id,
                    Stock.article_number == allocation.article_number,
                )
            )
            .values(reserved=Stock.reserved - take, updated_at=now)
        )
        if take == allocation.quantity:
            allocation.released_at = now
        else:
            allocation.quantity -= take
    session.flush()
    return sum(take for _, take in taken)
