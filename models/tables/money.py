"""Refunds of part of a payment: a cancelled line, a returned parcel. Each has its own gateway
idempotency key and names the lines and amounts it gives back, so no line and no order is ever
refunded more than was charged for it.

A whole-order refund (an order cancelled outright) stays on its payment row
(models/tables/fulfilment.py); it gives back what partial refunds have not.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.domain.clock import utcnow
from models.tables.base import Base

REFUND_STATUSES = ("pending", "succeeded", "failed")
REFUND_KINDS = ("line_cancel", "return")


class Refund(Base):
    """Money given back on one payment for some lines of an order."""

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in REFUND_STATUSES)})", name="status_known"
        ),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in REFUND_KINDS)})", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), index=True)
    # The return it pays back, for a refund of kind "return".
    return_id: Mapped[int | None] = mapped_column(ForeignKey("order_return.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The gateway key: derived from the refund's own id, the same on every attempt.
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    gateway_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    failure_message: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    refunded_at: Mapped[datetime | None]


class RefundLine(Base):
    """How much of one order line a refund gives back: units and money."""

    __tablename__ = "refund_line"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    quantity: Mapped[int]
    amount: Mapped[int]
