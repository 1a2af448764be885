"""The ship step: a shipment with a tracking number per warehouse, stock taken off the shelf.

A pickup (self-service) order is not shipped: it becomes ready for pickup at the one
warehouse it was allocated to, held there until `hold_until`, with no carrier and no parcel.
Its units stay reserved until staff record it collected (models/services/pickup.py).

Labels are booked with no transaction open (a carrier is a network call), then the order is
locked and moved to shipped only if it is still paid. A carrier that cannot serve a route
will not serve it on the next try either: the step ends, the order stays paid, and
operations are told once, to fix the warehouse or the route and send it again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, and_, insert, select, update
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.lifecycle import DeliveryMethod, OrderStatus
from models.domain.mail import instance_kind
from models.ports import Carrier, Label, PaymentGateway, RouteNotServed
from models.services.capture import Captured, capture_payment
from models.store.follow_ups import finish_current, mail
from models.store.orders import advance, record_event
from models.store.parts import lines_waiting
from models.store.stock import commit_shipped
from models.store.unit_of_work import Work
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Allocation, Shipment
from models.tables.orders import Order

log = logging.getLogger(__name__)

# A table rather than the mapped class: a plain INSERT, no unit-of-work bookkeeping.
SHIPMENTS = cast(Table, Shipment.__table__)


class Shipped(StrEnum):
    """What the ship step did."""

    SHIPPED = "shipped"
    # Some lines shipped; the rest follows as later parts (models/services/ship_part.py).
    PARTIALLY_SHIPPED = "partially_shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    SKIPPED = "skipped"
    FAILED = "failed"


Parcel = tuple[int, Label]
# What _book says of a pickup order: no carrier is asked, nothing is booked.
PICKUP: list[Parcel] = []


def _book(work: Work, carriers: Callable[..., Carrier], order_id: uuid.UUID) -> list[Parcel] | None:
    """A label per warehouse the order was allocated from; None if it is not waiting to ship;
    PICKUP if it is collected, not shipped."""
    # One read in autocommit: nothing is held while the carriers are asked.
    with work.single_statements() as connection:
        rows = connection.execute(
            select(
                Order.ship_country,
                Warehouse.id,
                Warehouse.code,
                Warehouse.country,
                Order.delivery_method,
            )
            .select_from(Order)
            .outerjoin(
                Allocation, and_(Allocation.order_id == Order.id, Allocation.released_at.is_(None))
            )
            .outerjoin(Warehouse, Warehouse.id == Allocation.warehouse_id)
            .where(Order.id == order_id, Order.status == OrderStatus.PAID.value)
            .distinct()
            .order_by(Warehouse.id)
        ).all()
    if not rows:
        return None
    if rows[0].delivery_method == DeliveryMethod.SELF_SERVICE.value:
        return PICKUP
    destination = rows[0].ship_country
    warehouses = [(w_id, code, country) for _, w_id, code, country, _ in rows if w_id is not None]
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


def insert_parcels(
    session: Session, order_id: uuid.UUID, parcels: list[Parcel], eta: date, part: int
) -> None:
    """The parcels of `part` of the order, each a shipment row with its tracking number."""
    session.execute(
        insert(SHIPMENTS),
        [
            {
                "order_id": order_id,
                "warehouse_id": warehouse_id,
                "part": part,
                "carrier": label.carrier,
                "tracking_number": label.tracking_number,
                "tracking_url": label.tracking_url,
                "status": "label_created",
                "eta": eta,
                "created_at": utcnow(),
            }
            for warehouse_id, label in parcels
        ],
    )


def _record(work: Work, order_id: uuid.UUID, parcels: list[Parcel]) -> Shipped:
    with work() as session:
        # The order's row, locked while it is still paid: its promised date is all we read.
        eta = session.scalar(
            select(Order.eta)
            .where(Order.id == order_id, Order.status == OrderStatus.PAID.value)
            .with_for_update()
        )
        if eta is None:
            finish_current(session)
            return Shipped.SKIPPED
        # A line cancelled since the labels were booked may have emptied a parcel: only the
        # warehouses whose units leave the shelf now get a shipment.
        leaving = commit_shipped(session, order_id)
        parcels = [(warehouse, label) for warehouse, label in parcels if warehouse in leaving]
        insert_parcels(session, order_id, parcels, eta, 1)
        tracking = [label.tracking_number for _, label in parcels]
        waiting = lines_waiting(session, order_id)
        if waiting:  # part 1 of an order that ships in parts: the rest follows
            detail = {"tracking": tracking, "part": 1, "waiting": waiting}
            advance(session, order_id, OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, detail)
            mail(session, order_id, instance_kind("partially_shipped", 1))
            finish_current(session)
            return Shipped.PARTIALLY_SHIPPED
        advance(session, order_id, OrderStatus.PAID, OrderStatus.SHIPPED, {"tracking": tracking})
        mail(session, order_id, "shipped")
        finish_current(session)
    return Shipped.SHIPPED


def _ready(work: Work, order_id: uuid.UUID, hold: timedelta) -> Shipped:
    """Mark the paid pickup order ready at its warehouse, held for `hold`; mail the customer."""
    now = utcnow()
    with work() as session:
        moved = advance(
            session,
            order_id,
            OrderStatus.PAID,
            OrderStatus.READY_FOR_PICKUP,
            {"hold_until": (now + hold).isoformat()},
        )
        if not moved:
            finish_current(session)
            return Shipped.SKIPPED
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(pickup_ready_at=now, pickup_hold_until=now + hold)
        )
        mail(session, order_id, "ready_for_pickup")
        finish_current(session)
    return Shipped.READY_FOR_PICKUP


def _refused(work: Work, order_id: uuid.UUID, error: RouteNotServed) -> Shipped:
    with work() as session:
        record_event(session, order_id, "shipping_failed", detail={"error": str(error)[:300]})
        mail(session, order_id, "shipping_failed")
        finish_current(session)
    log.error("shipping failed for good: %s", error, extra={"order_id": str(order_id)})
    return Shipped.FAILED


def ship_order(
    work: Work,
    carriers: Callable[..., Carrier],
    order_id: uuid.UUID,
    *,
    hold: timedelta = timedelta(days=7),
    gateway: PaymentGateway | None = None,
    hold_for: timedelta = timedelta(hours=72),
) -> Shipped:
    """Capture an authorised payment first (with `gateway`: an authorisation that lapsed holds
    the order for `hold_for`), book the order's parcels, then record them and mark it shipped
    in one transaction; or mark a pickup order ready at its warehouse, held there for `hold`."""
    if gateway is not None:
        captured = capture_payment(work, gateway, order_id, hold_for=hold_for)
        if captured in (Captured.HELD, Captured.STUCK):
            return Shipped.SKIPPED
    try:
        parcels = _book(work, carriers, order_id)
    except RouteNotServed as error:  # retrying will not change the route
        return _refused(work, order_id, error)
    if parcels is None:
        outcome = Shipped.SKIPPED
    elif parcels is PICKUP:
        outcome = _ready(work, order_id, hold)
    else:
        outcome = _record(work, order_id, parcels)
    log.debug("ship: %s", outcome, extra={"order_id": str(order_id)})
    return outcome
