"""The ship step: a shipment with a tracking number per warehouse, stock taken off the shelf."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.catalog import Warehouse
from models.domain.lifecycle import OrderStatus
from models.fulfilment import Allocation, Shipment
from models.stock import commit_shipped
from models.transitions import advance, lock_order
from workers.adapters.carrier import Carrier

log = logging.getLogger(__name__)


class Shipped(StrEnum):
    """What the ship step did."""

    SHIPPED = "shipped"
    SKIPPED = "skipped"


def _ship_once(session: Session, carriers: Callable[..., Carrier], order_id: uuid.UUID) -> Shipped:
    order = lock_order(session, order_id, OrderStatus.PAID)
    if order is None:
        return Shipped.SKIPPED
    warehouses = session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.country)
        .join(Allocation, Allocation.warehouse_id == Warehouse.id)
        .where(Allocation.order_id == order_id, Allocation.released_at.is_(None))
        .distinct()
        .order_by(Warehouse.id)
    ).all()
    tracking = []
    for warehouse_id, code, country in warehouses:
        # A split order ships one parcel per warehouse, each with the carrier for its route.
        carrier = carriers(origin_country=country, destination_country=order.ship_country)
        label = carrier.create_label(order_id=str(order_id), warehouse_code=code)
        session.add(
            Shipment(
                order_id=order_id,
                warehouse_id=warehouse_id,
                carrier=label.carrier,
                tracking_number=label.tracking_number,
                tracking_url=label.tracking_url,
                eta=order.eta,
            )
        )
        tracking.append(label.tracking_number)
    commit_shipped(session, order_id)
    advance(session, order_id, OrderStatus.PAID, OrderStatus.SHIPPED, {"tracking": tracking})
    return Shipped.SHIPPED


def ship_order(
    sessions: sessionmaker[Session], carriers: Callable[..., Carrier], order_id: uuid.UUID
) -> Shipped:
    """Create the order's shipments and mark it shipped, in one transaction."""
    with sessions() as session, session.begin():
        outcome = _ship_once(session, carriers, order_id)
    log.info("ship: %s", outcome, extra={"order_id": str(order_id)})
    return outcome
