"""Tracking updates: an admin's PATCH, and the carriers' signed webhook."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
)
from sqlalchemy.orm import Session

from intake.api_models import TrackingAnswer
from intake.auth import require_admin
from intake.bodies import validated
from intake.openapi import CARRIER_SIGNATURE, STAFF, operation
from intake.problems import field_error, from_validation_error
from intake.runtime import runtime
from intake.signatures import BadSignature, verify
from models.domain.clock import utcnow
from models.domain.tracking import identify, normalize_tracking_number
from models.services.return_tracking import apply_return_tracking
from models.services.track import ReplayedEvent, TrackingResult, UnknownShipment, apply_tracking

SIGNATURE_HEADER = "Carrier-Signature"


def _known_format(number: str) -> str:
    # Every number we accept from outside must be one a real carrier could have issued.
    if identify(number) is None:
        raise ValueError("not a valid UPS, USPS or UPU S10 tracking number (check digit included)")
    return normalize_tracking_number(number)


def _in_utc(at: datetime) -> datetime:
    try:
        return at.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+01:00 is a valid time whose UTC lies before the year 1.
        raise ValueError("must be a time from the year 1 to 9999 in UTC") from None


def _no_nul(text: str) -> str:
    # The raw body is read here, not by intake.bodies; PostgreSQL cannot store a NUL.
    if "\x00" in text:
        raise ValueError("must not contain a NUL character")
    return text


TrackingNumber = Annotated[str, AfterValidator(_known_format)]
# A time without its offset could be anyone's local time: it is refused, not guessed at.
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class TrackingPatch(BaseModel):
    """An admin moving one shipment of an order along."""

    model_config = ConfigDict(extra="forbid")

    tracking_number: TrackingNumber
    status: Literal["in_transit", "delivered"]
    occurred_at: Moment | None = None


class CarrierEvent(BaseModel):
    """A carrier's tracking event."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_no_nul)]
    type: Literal["shipment.in_transit", "shipment.delivered"]
    tracking_number: TrackingNumber
    occurred_at: Moment


def _event() -> CarrierEvent:
    # The raw body, whatever its declared type: it is what the signature covers.
    try:
        return CarrierEvent.model_validate_json(request.get_data() or b"{}")
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def _answer(result: TrackingResult, session_order: str) -> Response:
    return jsonify(
        {
            "order_id": session_order,
            "shipment_status": result.shipment_status,
            "changed": result.changed,
            "order_status": "delivered" if result.order_delivered else None,
        }
    )


admin_bp = Blueprint("tracking", __name__)
admin_bp.before_request(require_admin)


@admin_bp.patch("/orders/<order_id>/tracking")
@operation(
    body=TrackingPatch,
    replies={200: TrackingAnswer},
    problems=(415, 422),
    auth=STAFF,
    path={"order_id": uuid.UUID},
)
def patch_tracking(order_id: str) -> Response:
    """Move one shipment of the order to in transit or delivered."""
    patch = validated(TrackingPatch)
    rt = runtime()
    with rt.work() as session:
        at = patch.occurred_at or utcnow()
        result = _apply(session, patch.tracking_number, patch.status, at, source="admin")
        if str(result.order_id) != order_id:
            raise field_error("tracking_number", "belongs to another order", status=404)
    return _answer(result, order_id)


def _apply(
    session: Session,
    number: str,
    status: str,
    at: datetime,
    *,
    source: str,
    event_id: str | None = None,
) -> TrackingResult:
    try:
        return apply_tracking(session, number, status, at=at, source=source, event_id=event_id)
    except UnknownShipment:
        pass
    except ReplayedEvent:
        raise field_error("id", "this event was already received", status=409) from None
    try:
        # A return label's number: the parcel coming back (models/services/return_tracking.py).
        return apply_return_tracking(session, number, status, at=at, source=source)
    except UnknownShipment:
        raise field_error(
            "tracking_number", "no shipment carries this number", status=404
        ) from None


webhook_bp = Blueprint("carrier_webhook", __name__)


@webhook_bp.post("/webhooks/carrier")
@operation(
    body=CarrierEvent,
    replies={200: TrackingAnswer},
    problems=(404, 409, 422, 429),
    auth=CARRIER_SIGNATURE,
)
def carrier_webhook() -> Response:
    """A signed tracking event from a carrier; a replay or a forgery is refused."""
    rt = runtime()
    body = request.get_data()
    try:
        verify(
            rt.settings.carrier_webhook_secret.get_secret_value(),
            request.headers.get(SIGNATURE_HEADER),
            body,
            now=time.time(),
            tolerance=rt.settings.carrier_webhook_tolerance_seconds,
        )
    except BadSignature as exc:
        raise field_error(SIGNATURE_HEADER, str(exc), status=401) from None
    event = _event()
    status = event.type.removeprefix("shipment.")
    with rt.work() as session:
        result = _apply(
            session,
            event.tracking_number,
            status,
            event.occurred_at,
            source="carrier",
            event_id=event.id,
        )
    return _answer(result, str(result.order_id))
