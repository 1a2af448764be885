"""Moving shipments along (in transit, delivered) and the order with them once all arrive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.lifecycle import OrderStatus
from models.follow_ups import send
from models.fulfilment import CarrierEvent, Shipment
from models.messages import OrderDelivered
from models.transitions import advance, record_event

# A shipment only moves forward: a late "in transit" after "delivered" changes nothing.
PROGRESS = {"label_created": 0, "in_transit": 1, "delivered": 2}


class UnknownShipment(LookupError):
    """No shipment of ours carries that tracking number."""


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


def apply_tracking(
    session: Session, tracking_number: str, status: str, *, at: datetime, source: str
) -> TrackingResult:
    """Move the shipment to `status`; deliver the order when its last shipment arrives."""
    shipment = session.scalar(
        select(Shipment).where(Shipment.tracking_number == tracking_number).with_for_update()
    )
    if shipment is None:
        raise UnknownShipment(tracking_number)
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
    send(session, OrderDelivered(shipment.order_id, at).to_json(), subject=shipment.order_id)
    return TrackingResult(shipment.order_id, shipment.status, True, True)


def claim_event(session: Session, event_id: str, shipment_id: int, kind: str, at: datetime) -> bool:
    """Record a carrier event by its id; False when it was seen before (a replay)."""
    inserted = session.execute(
        insert(CarrierEvent)
        .values(event_id=event_id, shipment_id=shipment_id, kind=kind, occurred_at=at)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(CarrierEvent.id)
    ).first()
    return inserted is not None


def shipment_id_for(session: Session, tracking_number: str) -> int | None:
    """The id of the shipment carrying `tracking_number`."""
    return session.scalar(select(Shipment.id).where(Shipment.tracking_number == tracking_number))
