"""Carrier events for return labels: the parcel delivered back to the warehouse receives its
return, every unit asked for accepted (staff receive by hand to say otherwise)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.services.return_receipt import receive_return
from models.services.track import TrackingResult, UnknownShipment
from models.tables.returns import OrderReturn

# Who receives a return whose parcel the carrier delivered, as the timeline records it.
CARRIER_ACTOR = "carrier"


def apply_return_tracking(
    session: Session, tracking_number: str, status: str, *, at: datetime, source: str
) -> TrackingResult:
    """Receive the return whose label carries the number once it is delivered; an earlier
    event changes nothing. UnknownShipment if no return label carries it."""
    found = session.execute(
        select(OrderReturn.order_id, OrderReturn.rma_number).where(
            OrderReturn.tracking_number == tracking_number
        )
    ).first()
    if found is None:
        raise UnknownShipment(tracking_number)
    order_id, rma = found
    if status != "delivered":
        return TrackingResult(order_id, status, changed=False, order_delivered=False)
    receipt = receive_return(
        session, order_id, rma, None, actor=f"{CARRIER_ACTOR} ({source})", now=utcnow()
    )
    return TrackingResult(order_id, "delivered", changed=not receipt.already, order_delivered=False)
