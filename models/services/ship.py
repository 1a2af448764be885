"""The ship step: a shipment with a tracking number per warehouse, stock taken off the shelf.

Labels are booked with no transaction open (a carrier is a network call), then the order is
locked and moved to shipped only if it is still paid. A carrier that cannot serve a route
will not serve it on the next try either: the step ends, the order stays paid, and
operations are told once, to fix the warehouse or the route and send it again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import select

from models.domain.lifecycle import OrderStatus
from models.ports import Carrier, Label, RouteNotServed
from models.store.follow_ups import finish_current, mail
from models.store.orders import advance, lock_order, record_event
from models.store.stock import commit_shipped
from models.store.unit_of_work import Work
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Allocation, Shipment
from models.tables.orders import Order

log = logging.getLogger(__name__)


class Shipped(StrEnum):
    """What the ship step did."""

    SHIPPED = "shipped"
    SKIPPED = "skipped"
    FAILED = "failed"


Parcel = tuple[int, Label]


def _book(work: Work, carriers: Callable[..., Carrier], order_id: uuid.UUID) -> list[Parcel] | None:
    """A label per warehouse the order was allocated from; None if it is not waiting to ship."""
    with work.sessions() as session:
        order = session.scalar(
            select(Order).where(Order.id == order_id, Order.status == OrderStatus.PAID.value)
        )
        if order is None:
            return None
        destination = order.ship_country
        warehouses = session.execute(
            select(Warehouse.id, Warehouse.code, Warehouse.country)
            .join(Allocation, Allocation.warehouse_id == Warehouse.id)
            .where(Allocation.order_id == order_id, Allocation.released_at.is_(None))
            .distinct()
            .order_by(Warehouse.id)
        ).all()
    # A split order ships one parcel per warehouse, each with the carrier for its route.
    return [
        (
            warehouse_id,
            carriers(origin_country=country, destination_country=destination).create_label(
                order_id=str(order_id), warehouse_code=code
            ),
        )
        for warehouse_id, code, country in warehouses
    ]


def _record(work: Work, order_id: uuid.UUID, parcels: list[Parcel]) -> Shipped:
    with work() as session:
        order = lock_order(session, order_id, OrderStatus.PAID)
        if order is None:
            finish_current(session)
            return Shipped.SKIPPED
        for warehouse_id, label in parcels:
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
        commit_shipped(session, order_id)
        tracking = [label.tracking_number for _, label in parcels]
        advance(session, order_id, OrderStatus.PAID, OrderStatus.SHIPPED, {"tracking": tracking})
        mail(session, order_id, "shipped")
        finish_current(session)
    return Shipped.SHIPPED


def _refused(work: Work, order_id: uuid.UUID, error: RouteNotServed) -> Shipped:
    with work() as session:
        record_event(session, order_id, "shipping_failed", detail={"error": str(error)[:300]})
        mail(session, order_id, "shipping_failed")
        finish_current(session)
    log.error("shipping failed for good: %s", error, extra={"order_id": str(order_id)})
    return Shipped.FAILED


def ship_order(work: Work, carriers: Callable[..., Carrier], order_id: uuid.UUID) -> Shipped:
    """Book the order's parcels, then record them and mark it shipped in one transaction."""
    try:
        parcels = _book(work, carriers, order_id)
    except RouteNotServed as error:  # retrying will not change the route
        return _refused(work, order_id, error)
    outcome = Shipped.SKIPPED if parcels is None else _record(work, order_id, parcels)
    log.info("ship: %s", outcome, extra={"order_id": str(order_id)})
    return outcome
