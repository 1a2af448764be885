"""What the intake answers with, as pydantic models: the OpenAPI document's response schemas.

The views build plain dicts; these models describe them, and the tests hold every answer
against the document built from them. A field always present is required (null where it
can be empty); a field sometimes left out is optional and never null.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from intake.api_parts import OrderPart, Parcel, Payment, WaitingLine
from intake.return_models import ReturnView
from models.domain.lifecycle import DeliveryMethod, OrderStatus


class Closed(BaseModel):
    """An answer with exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class FieldError(Closed):
    """One faulty part of the request and what is wrong with it."""

    field: str = Field(description="where: `lines[0].quantity`, `Idempotency-Key`, `body`")
    reason: str


def _left_out_not_null(schema: dict[str, Any]) -> None:
    # A member that is left out when empty has no null default in the document.
    for member in schema.get("properties", {}).values():
        if "default" in member and member["default"] is None:
            del member["default"]


class Problem(BaseModel):
    """An error as an RFC 9457 problem document (`application/problem+json`)."""

    # RFC 9457 lets a problem type carry members of its own.
    model_config = ConfigDict(extra="allow", json_schema_extra=_left_out_not_null)

    type: str = Field("about:blank", description="always `about:blank`: the status says it")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | SkipJsonSchema[None] = None
    errors: list[FieldError] = Field(
        default_factory=list, description="each faulty field and why; left out when none"
    )


class OrderAccepted(Closed):
    """A recorded order: where to read it, and the token that opens it."""

    order_id: uuid.UUID
    status: Literal["received"]
    status_url: str = Field(description="GET it with the order token")
    order_token: str = Field(description="send as `Authorization: Bearer <order_token>`")


class CustomerOut(Closed):
    """Who the order is for."""

    email: str
    name: str


class Line(Closed):
    """One line of the order, priced when it was placed (minor units)."""

    line_no: int = Field(description="names the line in `POST /orders/{order_id}/lines/cancel`")
    article_number: str
    name: str | None = Field(description="the product's name now; null if it is gone")
    quantity: int = Field(description="units ordered, cancelled ones included")
    cancelled_quantity: int = Field(description="units cancelled before they shipped")
    unit_price: int
    amount: int


class Costs(Closed):
    """What the order costs, in minor units of `currency`."""

    currency: str
    subtotal: int
    delivery: int
    total: int


class AllocatedLine(Closed):
    """Units of one article reserved in one warehouse."""

    article_number: str
    quantity: int
    warehouse: str = Field(description="the warehouse's code")
    warehouse_name: str


class Allocation(Closed):
    """Where the order's stock was reserved, and why there."""

    outcome: str = Field(description="`single`, `split` or `short`")
    reason: str
    lines: list[AllocatedLine]


class RefundedLine(Closed):
    """What one refund gave back for one line."""

    line_no: int
    quantity: int = Field(description="units given back")
    amount: int = Field(description="minor units")


class PartialRefund(Closed):
    """Money given back for some lines: a cancelled line, a return."""

    refund_id: int
    kind: Literal["line_cancel", "return"]
    amount: int
    currency: str
    status: Literal["pending", "succeeded", "failed"] = Field(
        description="`pending` until the gateway took it; `failed`: operations were told"
    )
    created_at: datetime
    refunded_at: datetime | None
    lines: list[RefundedLine]


class MoneySummary(Closed):
    """The order's money in all, in minor units: what was charged and what went back."""

    currency: str
    charged: int = Field(description="taken by the gateway")
    refunded: int = Field(description="given back, partial and whole-order refunds together")
    refunding: int = Field(description="on its way back")


class PickupPlace(Closed):
    """Where a pickup order is collected, and how long it is held there."""

    warehouse: str = Field(description="the warehouse's code")
    name: str
    address_line1: str | None
    postal_code: str
    city: str | None
    country: str
    opening_hours: str | None
    address: str = Field(description="the place in one line, as the mails show it")
    ready_at: datetime | None = Field(description="when it became ready; null until then")
    hold_until: datetime | None = Field(description="cancelled and refunded if not collected by")


class TimelineEntry(Closed):
    """Something that happened to the order."""

    at: datetime
    event: str
    status: OrderStatus | None = Field(description="the status it moved to, if it moved")
    detail: dict[str, Any]


class OrderView(Closed):
    """An order as its customer sees it."""

    order_id: uuid.UUID
    status: OrderStatus
    customer: CustomerOut
    delivery_method: DeliveryMethod
    lines: list[Line]
    costs: Costs
    eta: date = Field(description="promised delivery day (UTC)")
    allocation: Allocation | None
    payment: Payment | None
    refunds: list[PartialRefund] = Field(description="partial refunds, oldest first")
    money: MoneySummary
    shipments: list[Parcel]
    parts: list[OrderPart] = Field(description="each part with its lines, payment and parcels")
    waiting: list[WaitingLine] = Field(
        description="units of a partially shipped order still to follow; empty otherwise"
    )
    pickup: PickupPlace | None = Field(
        description="a pickup order's warehouse once it is allocated; null for a delivery"
    )
    timeline: list[TimelineEntry]
    returns: list[ReturnView] = Field(description="the order's returns, oldest first")
    created_at: datetime


class OrderSummary(Closed):
    """An order as a list shows it."""

    order_id: uuid.UUID
    status: OrderStatus
    currency: str
    total: int
    items: int = Field(description="units over all lines")
    delivery_method: DeliveryMethod
    created_at: datetime
    updated_at: datetime
    status_url: str


class OrderPage(Closed):
    """A page of orders, newest first."""

    orders: list[OrderSummary]
    next_cursor: str | None = Field(description="send as `cursor` for the next page; null: last")


class OrderEvents(Closed):
    """The order's timeline, oldest first."""

    order_id: uuid.UUID
    events: list[TimelineEntry]


class StatusChanged(Closed):
    """The order's status after a change by hand."""

    order_id: uuid.UUID
    status: OrderStatus
    changed: bool = Field(description="false when the order already had that status")


class Cancelled(Closed):
    """An order cancelled now (202) or before (200)."""

    order_id: uuid.UUID
    status: Literal["cancelled"]
    already_cancelled: bool
    refund: Literal["pending", "none"] = Field(description="`pending`: a refund is queued")
    units_released: int


class TrackingAnswer(Closed):
    """What a tracking update changed."""

    order_id: uuid.UUID
    shipment_status: str
    changed: bool = Field(description="false when the parcel was already there")
    order_status: Literal["delivered"] | None = Field(
        description="`delivered` when this was the order's last parcel"
    )


class Alive(Closed):
    """The process answers."""

    status: Literal["ok"]


class Checks(Closed):
    """Each dependency: `ok`, or `error: <exception type>`."""

    database: str
    redis: str
    sqs: str


class Readiness(Closed):
    """Whether the intake can take orders now."""

    status: Literal["ready", "not ready"]
    checks: Checks
