"""Moving shipments along (in transit, delivered) and the order with them once all arrive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.lifecycle import OrderStatus
from models.domain.messages import OrderDelivered
from models.store.follow_ups import send
from models.store.orders import advance, record_event
from models.tables.fulfilment import CarrierEvent, Shipment
from models.tables.orders import Order

# A shipment only moves forward: a late "in transit" after "delivered" changes nothing.
PROGRESS = {"label_created": 0, "in_transit": 1, "delivered": 2}


class UnknownShipment(LookupError):
    """No shipment of ours carries that tracking number."""


class ReplayedEvent(LookupError):
    """A carrier event with this id was received before."""


@dataclass(frozen=True)
class TrackingResult:
    """What a tracking update did."""

    order_id: uuid.UUID
    shipment_status: str
    changed: bool
    order_delivered: bool


def _move(shipment: Shipment, status: str, at: datetime) -> bool:
    if PROGRESS[status] <= PROGRESS[shipment.status]:
        return False
    shipment.status = status
    if status == "in_transit":
        shipment.in_transit_at = at
    else:
        shipment.delivered_at = at
        shipment.in_transit_at = shipment.in_transit_at or at
    return True


def _all_delivered(session: Session, order_id: uuid.UUID) -> bool:
    waiting = session.scalar(
        select(func.count())
        .select_from(Shipment)
        .where(Shipment.order_id == order_id, Shipment.status != "delivered")
    )
    return waiting == 0


def _lock_shipment(session: Session, tracking_number: str) -> Shipment:
    order_id = session.scalar(
        select(Shipment.order_id).where(Shipment.tracking_number == tracking_number)
    )
    if order_id is None:
        raise UnknownShipment(tracking_number)
    # The order row first, then the parcel, in every update: two parcels of one order arriving
    # at once take turns, so the second sees the first delivered instead of each counting the
    # other as still on its way.
    session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
    return session.scalars(
        select(Shipment).where(Shipment.tracking_number == tracking_number).with_for_update()
    ).one()


def _claim_event(
    session: Session, event_id: str, shipment_id: int, kind: str, at: datetime
) -> None:
    inserted = session.execute(
        insert(CarrierEvent)
        .values(event_id=event_id, shipment_id=shipment_id, kind=kind, occurred_at=at)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(CarrierEvent.id)
    ).first()
    if inserted is None:
        raise ReplayedEvent(event_id)


def apply_tracking(
    session: Session,
    tracking_number: str,
    status: str,
    *,
    at: datetime,
    source: str,
    event_id: str | None = None,
) -> TrackingResult:
    """Move the shipment to `status` (a carrier's event only once); the last delivers the order."""
    shipment = _lock_shipment(session, tracking_number)
    # Claimed under the locks: two events for one parcel would otherwise each hold the key
    # share the event row takes on the parcel, and deadlock waiting to update it.
    if event_id is not None:
        _claim_event(session, event_id, shipment.id, f"shipment.{status}", at)
    changed = _move(shipment, status, at)
    if not changed:
        return TrackingResult(shipment.order_id, shipment.status, False, False)
    session.flush()
    record_event(
        session,
        shipment.order_id,
        f"shipment_{status}",
        detail={"tracking_number": tracking_number, "source": source},
    )
    if not _all_delivered(session, shipment.order_id):
        return TrackingResult(shipment.order_id, shipment.status, True, False)
    delivered = advance(session, shipment.order_id, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    if not delivered:
        return TrackingResult(shipment.order_id, shipment.status, True, False)
    # The message says when the parcel arrived; the row is stamped with our clock.
    send(session, OrderDelivered(shipment.order_id, at).to_json(), subject=shipment.order_id)
    return TrackingResult(shipment.order_id, shipment.status, True, True)
