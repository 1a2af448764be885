"""GET /orders (a customer's own, or everyone's for staff) and GET /orders/<id>/events."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Any

from flask import Blueprint, Response, jsonify, request
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from intake.access import Viewer, order_for, unauthorized, viewer
from intake.api_models import OrderEvents, OrderPage
from intake.auth import CUSTOMER, STAFF_READ, forbidden
from intake.openapi import ACCOUNT, ORDER_READER, operation
from intake.problems import field_error, from_validation_error
from intake.reading import timeline
from intake.runtime import runtime
from models.domain.lifecycle import OrderStatus
from models.store.order_list import OrderFilter, Position, page_of_orders
from models.tables.orders import Order

bp = Blueprint("order_list", __name__)

CURSOR_REASON = "is not a cursor this API handed out"


def _iso_time(value: object) -> object:
    # Pydantic reads a number as seconds since 1970; a query names a time as ISO 8601.
    if (isinstance(value, str) and not value[:4].isdigit()) or not isinstance(value, str):
        raise ValueError("must be a time such as 2026-11-30T12:00:00Z, with its offset")
    if len(value) < 16:
        raise ValueError("must be a time such as 2026-11-30T12:00:00Z, with its offset")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_time)]


class ListQuery(BaseModel):
    """The query of GET /orders."""

    model_config = ConfigDict(extra="forbid")

    status: list[OrderStatus] = Field(
        default_factory=list, max_length=len(OrderStatus), description="any of these; repeat"
    )
    created_from: IsoTime | None = Field(None, description="at or after, with an offset")
    created_before: IsoTime | None = Field(None, description="before, with an offset")
    limit: int = Field(20, ge=1, le=100, description="orders per page")
    cursor: str | None = Field(None, max_length=200, description="the last page's next_cursor")


def _query() -> ListQuery:
    given: dict[str, Any] = {
        name: request.args.getlist(name) if name == "status" else request.args.get(name)
        for name in request.args
    }
    try:
        return ListQuery.model_validate(given)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def encode_cursor(position: Position) -> str:
    """An opaque cursor for the page after `position`."""
    raw = f"{position.created_at.isoformat()}|{position.order_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor stands for; a 422 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, _, order_id = raw.partition("|")
        at = datetime.fromisoformat(created_at)
        if at.tzinfo is None:
            raise ValueError("naive")
        return Position(at, uuid.UUID(order_id))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise field_error("cursor", CURSOR_REASON) from None


def _whose(who: Viewer) -> str | None:
    """Whose orders the request may list: an account's, or (None) everyone's for staff."""
    if who.customer is not None:
        return who.customer
    if who.staff(STAFF_READ):
        return None
    if who.account is not None:
        raise forbidden(f"{CUSTOMER} or {STAFF_READ}")
    raise unauthorized("listing orders takes a customer account's or staff:read API token")


def _summary(order: Order, base_url: str) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "status": order.status,
        "currency": order.currency,
        "total": order.total,
        "items": sum(line.quantity for line in order.lines),
        "delivery_method": order.delivery_method,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
        "status_url": f"{base_url.rstrip('/')}/orders/{order.id}",
    }


@bp.get("/orders")
@operation(replies={200: OrderPage}, problems=(422, 429), auth=ACCOUNT, query=ListQuery)
def list_orders() -> Response:
    """Orders newest first, a page at a time; `next_cursor` fetches the next page."""
    who = viewer()
    owner = _whose(who)
    query = _query()
    wanted = OrderFilter(
        owner, tuple(s.value for s in query.status), query.created_from, query.created_before
    )
    after = decode_cursor(query.cursor) if query.cursor else None
    rt = runtime()
    with rt.sessions() as session:
        orders, last = page_of_orders(session, wanted, after, query.limit)
        page = [_summary(order, rt.settings.public_base_url) for order in orders]
    return jsonify({"orders": page, "next_cursor": encode_cursor(last) if last else None})


@bp.get("/orders/<order_id>/events")
@operation(
    replies={200: OrderEvents}, problems=(429,), auth=ORDER_READER, path={"order_id": uuid.UUID}
)
def order_events(order_id: str) -> Response:
    """The order's timeline, oldest first."""
    who = viewer()
    with runtime().sessions() as session:
        order = order_for(session, order_id, who)
        return jsonify({"order_id": str(order.id), "events": timeline(session, order)})
