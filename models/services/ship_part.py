"""The shipping of a later part of a partially shipped order, keyed by (order, part).

Labels are booked with no transaction open, for each warehouse holding the part's units
once its payment succeeded; then, with the order locked and the part's units still
unshipped, the parcels are recorded (shipment.part) and the units taken off the shelf. When
no line waits any more the order moves `partially_shipped` -> `shipped`; otherwise it stays
partially shipped and the next part waits for stock (models/services/allocate.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from sqlalchemy import and_, select

from models.domain.lifecycle import OrderStatus
from models.domain.mail import instance_kind
from models.ports import Carrier, RouteNotServed
from models.services.ship import Parcel, Shipped, insert_parcels
from models.store.follow_ups import finish_current, mail
from models.store.orders import advance, lock_order, record_event
from models.store.parts import in_flight_part, lines_waiting
from models.store.stock import commit_shipped
from models.store.unit_of_work import Work
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Allocation, Payment
from models.tables.orders import Order

log = logging.getLogger(__name__)


def _book(
    work: Work, carriers: Callable[..., Carrier], order_id: uuid.UUID, part: int
) -> list[Parcel]:
    """A label per warehouse holding the part's unshipped units, once the part is paid."""
    with work.single_statements() as connection:
        rows = connection.execute(
            select(Order.ship_country, Warehouse.id, Warehouse.code, Warehouse.country)
            .select_from(Order)
            .join(Payment, and_(Payment.order_id == Order.id, Payment.part == part))
            .join(Allocation, Allocation.order_id == Order.id)
            .join(Warehouse, Warehouse.id == Allocation.warehouse_id)
            .where(
                Order.id == order_id,
                Order.status == OrderStatus.PARTIALLY_SHIPPED.value,
                Payment.status == "succeeded",
                Allocation.part == part,
                Allocation.released_at.is_(None),
                Allocation.shipped_at.is_(None),
            )
            .distinct()
            .order_by(Warehouse.id)
        ).all()
    return [
        (
            warehouse_id,
            carriers(origin_country=country, destination_country=destination).create_label(
                order_id=str(order_id), warehouse_code=code
            ),
        )
        for destination, warehouse_id, code, country in rows
    ]


def _record(work: Work, order_id: uuid.UUID, part: int, parcels: list[Parcel]) -> Shipped:
    with work() as session:
        order = lock_order(session, order_id, OrderStatus.PARTIALLY_SHIPPED)
        if order is None or in_flight_part(session, order_id) != part:
            finish_current(session)
            return Shipped.SKIPPED
        # As for a whole order: a parcel a line cancel emptied meanwhile gets no shipment.
        leaving = commit_shipped(session, order_id)
        parcels = [(warehouse, label) for warehouse, label in parcels if warehouse in leaving]
        insert_parcels(session, order_id, parcels, order.eta, part)
        detail = {"tracking": [label.tracking_number for _, label in parcels], "part": part}
        waiting = lines_waiting(session, order_id)
        if waiting:
            record_event(session, order_id, "part_shipped", detail=detail | {"waiting": waiting})
            mail(session, order_id, instance_kind("partially_shipped", part))
            outcome = Shipped.PARTIALLY_SHIPPED
        else:
            advance(session, order_id, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, detail)
            mail(session, order_id, instance_kind("shipped", part))
            outcome = Shipped.SHIPPED
        finish_current(session)
    return outcome


def _refused(work: Work, order_id: uuid.UUID, part: int, error: RouteNotServed) -> Shipped:
    with work() as session:
        detail = {"error": str(error)[:300], "part": part}
        record_event(session, order_id, "shipping_failed", detail=detail)
        mail(session, order_id, instance_kind("shipping_failed", part))
        finish_current(session)
    log.error(
        "shipping part %s failed for good: %s", part, error, extra={"order_id": str(order_id)}
    )
    return Shipped.FAILED


def ship_part(
    work: Work, carriers: Callable[..., Carrier], order_id: uuid.UUID, part: int
) -> Shipped:
    """Book part `part`'s parcels, then record them, all in one transaction after the calls."""
    try:
        parcels = _book(work, carriers, order_id, part)
    except RouteNotServed as error:  # retrying will not change the route
        return _refused(work, order_id, part, error)
    if not parcels:
        with work() as session:
            finish_current(session)
        outcome = Shipped.SKIPPED
    else:
        outcome = _record(work, order_id, part, parcels)
    log.debug("ship part %s: %s", part, outcome, extra={"order_id": str(order_id)})
    return outcome
