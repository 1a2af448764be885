"""What happens to an order: allocations, payment, shipments and notifications."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.domain.clock import utcnow
from models.tables.base import Base


class Allocation(Base):
    """Units of an order line reserved in a warehouse."""

    __tablename__ = "allocation"
    __table_args__ = (
        UniqueConstraint("order_line_id", "warehouse_id", "part"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    article_number: Mapped[str] = mapped_column(ForeignKey("product.article_number"))
    quantity: Mapped[int]
    # Which part of a partially fulfilled order reserved these units (1 for a whole order).
    part: Mapped[int] = mapped_column(default=1, server_default="1")
    released_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AllocationReceipt(Base):
    """Why an order went where it went: every candidate, its distance and stock, the choice.

    One per planning: a backordered order gets one when it is held and one when it is filled.
    """

    __tablename__ = "allocation_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    # Which rule decided (models.domain.allocation.Rule); empty on receipts that predate it.
    rule: Mapped[str] = mapped_column(String(20), server_default="")
    reason: Mapped[str] = mapped_column(String(500))
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    picks: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


PAYMENT_STATUSES = (
    "pending",
    "succeeded",
    "failed",
    "refund_pending",
    "refunded",
    # The gateway refused the refund for good: operations were told, a person takes it on.
    "refund_failed",
    # Authorise, then capture (PAYMENT_CAPTURE=at_shipment): the money is held on the card...
    "authorized",
    # ...a capture was sent and its answer is not recorded yet...
    "capturing",
    # ...or the authorisation was released with no money taken (the order was cancelled).
    "voided",
)


class Payment(Base):
    """The charge of an order at the payment gateway, and its refund if the order is cancelled."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("order_id", "part"),
        Index(
            "ix_payment_capture_before",
            "capture_before",
            postgresql_where=text("status = 'authorized'"),
        ),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in PAYMENT_STATUSES)})", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    # One payment per part of the order: a whole order has one, part 1.
    part: Mapped[int] = mapped_column(default=1, server_default="1")
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    gateway_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    attempts: Mapped[int] = mapped_column(default=0)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    refund_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    refunded_at: Mapped[datetime | None]
    # When an abandoned payment was last checked against the gateway for a late charge.
    reconciled_at: Mapped[datetime | None]
    # Authorise, then capture: what was authorised (`amount` becomes what was captured), when
    # the authorisation lapses, when it was captured, and the attempts at each.
    authorized_amount: Mapped[int | None]
    capture_before: Mapped[datetime | None]
    captured_at: Mapped[datetime | None]
    capture_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    reauthorizations: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


SHIPMENT_STATUSES = ("label_created", "in_transit", "delivered")


class Shipment(Base):
    """A parcel leaving one warehouse for the customer."""

    __tablename__ = "shipment"
    __table_args__ = (
        UniqueConstraint("order_id", "warehouse_id", "part"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in SHIPMENT_STATUSES)})", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    part: Mapped[int] = mapped_column(default=1, server_default="1")
    carrier: Mapped[str] = mapped_column(String(20))
    tracking_number: Mapped[str] = mapped_column(String(40), unique=True)
    tracking_url: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="label_created")
    eta: Mapped[date | None]
    in_transit_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CarrierEvent(Base):
    """A tracking event a carrier sent us; its id makes a replay recognisable."""

    __tablename__ = "carrier_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


NOTIFICATION_STATUSES = ("pending", "sending", "sent", "rejected", "failed")


class Notification(Base):
    """One email about one event of an order; the dedupe key makes it one."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in NOTIFICATION_STATUSES)})",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # When a sender took it: a claim older than a send can take was left by a dead worker.
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
