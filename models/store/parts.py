"""The parts of a partially fulfilled order, as its allocations record them.

A part is the allocations made at one time (allocation.part); it has its own payment and
its own shipments. One part moves through charge and ship at a time: the next is allocated
only once every unit of the one before it has shipped (or been released).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.orm import Session

from models.domain.lifecycle import OrderStatus
from models.domain.partial import part_charge
from models.store.stock import release
from models.tables.fulfilment import Allocation
from models.tables.orders import Order, OrderLine


def _allocated(line: type[OrderLine] = OrderLine) -> ColumnElement[int]:
    """Units of the line held or shipped by its allocations (released ones gave theirs back)."""
    return (
        select(func.coalesce(func.sum(Allocation.quantity), 0))
        .where(Allocation.order_line_id == line.id, Allocation.released_at.is_(None))
        .correlate(line)
        .scalar_subquery()
    )


def _unallocated() -> ColumnElement[bool]:
    return OrderLine.quantity - OrderLine.cancelled_quantity > _allocated()


def parts_waiting() -> ColumnElement[bool]:
    """Partially shipped orders ready for their next part: lines still wait, none in flight."""
    waiting = exists().where(OrderLine.order_id == Order.id, _unallocated()).correlate(Order)
    in_flight = (
        exists()
        .where(
            Allocation.order_id == Order.id,
            Allocation.released_at.is_(None),
            Allocation.shipped_at.is_(None),
        )
        .correlate(Order)
    )
    return and_(Order.status == OrderStatus.PARTIALLY_SHIPPED.value, waiting, ~in_flight)


def lines_waiting(session: Session, order_id: uuid.UUID) -> dict[str, int]:
    """Units of each article no part has allocated yet (and nobody cancelled)."""
    rows = session.execute(
        select(
            OrderLine.article_number,
            OrderLine.quantity - OrderLine.cancelled_quantity - _allocated(),
        ).where(OrderLine.order_id == order_id, _unallocated())
    ).all()
    return {article: int(units) for article, units in rows}


def units_of_part(session: Session, order_id: uuid.UUID, part: int) -> dict[int, int]:
    """Units each line holds in `part` (allocations not released), by order line id."""
    rows = session.execute(
        select(Allocation.order_line_id, func.sum(Allocation.quantity))
        .where(
            Allocation.order_id == order_id,
            Allocation.part == part,
            Allocation.released_at.is_(None),
        )
        .group_by(Allocation.order_line_id)
    ).all()
    return {line_id: int(units) for line_id, units in rows}


def part_amount(session: Session, order: Order, part: int) -> int:
    """What `part` of the order is charged: when part 1 is the whole order, its total less
    the units cancelled before the charge; else the value of the part's units (plus the
    delivery cost on part 1)."""
    if part == 1:
        # One read: does any line still wait for stock, and what did cancelled units come to?
        waiting, cancelled = session.execute(
            select(
                func.bool_or(_unallocated()),
                func.coalesce(func.sum(OrderLine.cancelled_quantity * OrderLine.unit_price), 0),
            ).where(OrderLine.order_id == order.id)
        ).one()
        if not waiting:
            # The whole order: its total less the units cancelled before the charge.
            return max(0, order.total - int(cancelled or 0))
    units = units_of_part(session, order.id, part)
    prices = dict(
        session.execute(
            select(OrderLine.id, OrderLine.unit_price).where(OrderLine.order_id == order.id)
        ).all()
    )
    return part_charge(units, prices, part=part, delivery_cost=order.delivery_cost)


def in_flight_part(session: Session, order_id: uuid.UUID) -> int | None:
    """The part whose units are allocated and not yet shipped or released, if any."""
    return session.scalar(
        select(func.max(Allocation.part)).where(
            Allocation.order_id == order_id,
            Allocation.released_at.is_(None),
            Allocation.shipped_at.is_(None),
        )
    )


def cancel_unshipped(session: Session, order_id: uuid.UUID) -> dict[int, int]:
    """Give up every unit of the order that has not shipped: reserved ones are released and
    each line's cancelled quantity becomes all it did not ship. Units cancelled, by line."""
    release(session, order_id)
    shipped = (
        select(func.coalesce(func.sum(Allocation.quantity), 0))
        .where(Allocation.order_line_id == OrderLine.id, Allocation.shipped_at.is_not(None))
        .correlate(OrderLine)
        .scalar_subquery()
    )
    rows = session.execute(
        update(OrderLine)
        .where(
            OrderLine.order_id == order_id,
            OrderLine.quantity - OrderLine.cancelled_quantity > shipped,
        )
        .values(cancelled_quantity=OrderLine.quantity - shipped)
        .returning(OrderLine.id, OrderLine.cancelled_quantity)
    ).all()
    return {line_id: int(units) for line_id, units in rows}
