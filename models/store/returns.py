"""Returns in the database: what reached the customer, what other returns claim, the rows of a
return, and returned units back into stock."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.returns import Arrival
from models.tables.returns import OrderReturn, ReturnLine

# Each shipped allocation of the order and when its units arrived: a pickup order's when it
# was collected, any other's when the parcel of its warehouse and part was delivered.
ARRIVALS = text(
    """
    SELECT a.order_line_id, a.warehouse_id, a.quantity,
           CASE WHEN o.delivery_method = 'self_service' THEN
                CASE WHEN o.status = 'collected' THEN a.shipped_at END
                ELSE s.delivered_at END AS arrived_at
    FROM allocation a
    JOIN "order" o ON o.id = a.order_id
    LEFT JOIN shipment s ON s.order_id = a.order_id AND s.warehouse_id = a.warehouse_id
                        AND s.part = a.part AND s.status = 'delivered'
    WHERE a.order_id = CAST(:order_id AS uuid)
      AND a.shipped_at IS NOT NULL AND a.released_at IS NULL
    ORDER BY a.id
    """
)


def arrivals(session: Session, order_id: uuid.UUID) -> list[Arrival]:
    """The order's shipped units per line and warehouse, and when they arrived."""
    rows = session.execute(ARRIVALS, {"order_id": str(order_id)}).all()
    return [Arrival(int(line), int(wh), int(q), at) for line, wh, q, at in rows]


def claimed_units(session: Session, order_id: uuid.UUID) -> dict[int, int]:
    """Units per order line that returns already claim: all of an open return's, the accepted
    ones of a return that was received."""
    units = case(
        (OrderReturn.status == "open", ReturnLine.quantity), else_=ReturnLine.accepted_quantity
    )
    rows = session.execute(
        select(ReturnLine.order_line_id, func.sum(units))
        .join(OrderReturn, OrderReturn.id == ReturnLine.return_id)
        .where(OrderReturn.order_id == order_id)
        .group_by(ReturnLine.order_line_id)
    ).all()
    return {int(line): int(total) for line, total in rows}


def lock_return(session: Session, order_id: uuid.UUID, rma: str) -> OrderReturn | None:
    """The order's return with this RMA number, row-locked; None if it has none."""
    return session.scalar(
        select(OrderReturn)
        .where(OrderReturn.order_id == order_id, OrderReturn.rma_number == rma)
        .with_for_update()
    )


def return_lines(session: Session, return_id: int) -> list[ReturnLine]:
    """The lines of a return, in order-line order."""
    return list(
        session.scalars(
            select(ReturnLine).where(ReturnLine.return_id == return_id).order_by(ReturnLine.id)
        )
    )


# Accepted units back into one warehouse: on hand, or held apart in quarantine. The rows are
# locked in (warehouse, article) order, as the allocate and ship steps lock them; a warehouse
# that never held the article gets a row.
PUT_BACK = text(
    """
    INSERT INTO stock AS s (warehouse_id, article_number, on_hand, reserved, quarantined,
                            updated_at)
    VALUES (:warehouse_id, :article_number, :on_hand, 0, :quarantined, :now)
    ON CONFLICT (warehouse_id, article_number) DO UPDATE
        SET on_hand = s.on_hand + EXCLUDED.on_hand,
            quarantined = s.quarantined + EXCLUDED.quarantined, updated_at = EXCLUDED.updated_at
    """
)


def put_back(session: Session, warehouse_id: int, units: Mapping[str, tuple[int, int]]) -> None:
    """Add units to the warehouse's stock: article -> (on hand, quarantined)."""
    now = utcnow()
    for article in sorted(units):
        on_hand, quarantined = units[article]
        session.execute(
            PUT_BACK,
            {
                "warehouse_id": warehouse_id,
                "article_number": article,
                "on_hand": on_hand,
                "quarantined": quarantined,
                "now": now,
            },
        )
