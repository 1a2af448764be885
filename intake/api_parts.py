"""The parts of an order in the order document: what was allocated, charged and shipped
together (SHORTAGE_POLICY `ship_available`), each with its payment and parcels, and what
still follows. intake/api_models.py imports these."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Closed(BaseModel):
    """An answer with exactly these fields (as intake/api_models.py's)."""

    model_config = ConfigDict(extra="forbid")


class Payment(Closed):
    """A payment of the order (of part 1 at the top of the document: the whole order's,
    unless it ships in parts)."""

    status: str = Field(
        description="`pending`, `authorized` (held on the card until its shipment captures it),"
        " `capturing`, `succeeded` (taken), `failed`, `voided` (released, nothing taken),"
        " `refund_pending`, `refunded`, `refund_failed`"
    )
    amount: int = Field(description="what was charged; while authorized, what is held")
    currency: str
    failure_code: str | None
    capture_before: datetime | None = Field(
        description="while authorized: when the authorisation lapses unless renewed"
    )


class Parcel(Closed):
    """One shipment: a carrier's parcel from one warehouse."""

    carrier: str
    tracking_number: str
    tracking_url: str
    status: str = Field(description="`label_created`, `in_transit` or `delivered`")
    eta: date | None
    delivered_at: datetime | None


class PartLine(Closed):
    """Units of one article a part of the order holds in one warehouse."""

    article_number: str
    quantity: int
    warehouse: str = Field(description="the warehouse's code")
    state: str = Field(description="`allocated`, `shipped`, or `released` (given back)")


class OrderPart(Closed):
    """One part of the order: what was allocated together, charged together and shipped
    together. A whole order has one; an order shipped as stock allows (SHORTAGE_POLICY
    `ship_available`) has one per wave, each with its own payment and parcels."""

    part: int = Field(description="1, 2, ... in the order they were allocated")
    lines: list[PartLine]
    payment: Payment | None = Field(description="null until the part is charged")
    shipments: list[Parcel]


class WaitingLine(Closed):
    """Units of a partially shipped order no part holds yet: they follow when stock arrives."""

    article_number: str
    quantity: int
