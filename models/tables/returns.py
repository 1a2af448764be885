"""Returns: a customer sends back units of delivered lines, under an RMA number and a label."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.domain.clock import utcnow
from models.tables.base import Base

# open: label issued, parcel awaited. received: every unit came back and was accepted.
# partially_received: some units came back or were accepted. refused: nothing was accepted.
RETURN_STATUSES = ("open", "received", "partially_received", "refused")
DISPOSITIONS = ("restock", "quarantine")


class OrderReturn(Base):
    """One return of an order: its RMA number, its label and what became of it."""

    __tablename__ = "order_return"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in RETURN_STATUSES)})", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    rma_number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(500))
    opened_by: Mapped[str] = mapped_column(String(100))
    # Where the parcel goes back to, and the label it travels under.
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    carrier: Mapped[str | None] = mapped_column(String(20))
    tracking_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    tracking_url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None]
    received_by: Mapped[str | None] = mapped_column(String(100))


class ReturnLine(Base):
    """Units of one order line in a return: asked for, received, accepted, and where they went."""

    __tablename__ = "return_line"
    __table_args__ = (
        UniqueConstraint("return_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "received_quantity BETWEEN 0 AND quantity AND accepted_quantity BETWEEN 0 AND "
            "received_quantity",
            name="received_within_asked",
        ),
        CheckConstraint(
            f"disposition IS NULL OR disposition IN ({', '.join(repr(d) for d in DISPOSITIONS)})",
            name="disposition_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("order_return.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[int]
    received_quantity: Mapped[int] = mapped_column(default=0)
    accepted_quantity: Mapped[int] = mapped_column(default=0)
    disposition: Mapped[str | None] = mapped_column(String(20))
