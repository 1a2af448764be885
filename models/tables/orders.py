"""Orders, their lines and their timeline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.domain.clock import utcnow
from models.domain.lifecycle import DeliveryMethod, OrderStatus
from models.tables.base import Base
from models.tables.catalog import iso_country


def _one_of(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Order(Base):
    """A customer's order and where it is in its life."""

    __tablename__ = "order"
    __table_args__ = (
        CheckConstraint(_one_of("status", [s.value for s in OrderStatus]), name="status_known"),
        CheckConstraint(
            _one_of("delivery_method", [m.value for m in DeliveryMethod]), name="method_known"
        ),
        CheckConstraint("subtotal >= 0 AND delivery_cost >= 0", name="amounts_not_negative"),
        CheckConstraint("total = subtotal + delivery_cost", name="total_adds_up"),
        CheckConstraint(iso_country("ship_country"), name="ship_country_iso_3166"),
        Index(
            "ix_order_customer_subject_created_at",
            "customer_subject",
            "created_at",
            "id",
            postgresql_where=text("customer_subject IS NOT NULL"),
        ),
        Index("ix_order_created_at_id", "created_at", "id"),
        Index("ix_order_customer_email_created_at", "customer_email", "created_at"),
        Index("ix_order_hold_until", "hold_until", postgresql_where=text("status = 'on_hold'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.RECEIVED.value, index=True)
    customer_email: Mapped[str] = mapped_column(String(320))
    customer_name: Mapped[str] = mapped_column(String(200))
    guest_token_hash: Mapped[str] = mapped_column(String(64))
    # The customer account that placed it, if one did; guests' orders belong to no account.
    customer_subject: Mapped[str | None] = mapped_column(String(100))
    ship_line1: Mapped[str] = mapped_column(String(200))
    ship_line2: Mapped[str | None] = mapped_column(String(200))
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_region: Mapped[str | None] = mapped_column(String(100))
    ship_postal_code: Mapped[str] = mapped_column(String(16))
    ship_country: Mapped[str] = mapped_column(String(2))
    ship_latitude: Mapped[float]
    ship_longitude: Mapped[float]
    delivery_method: Mapped[str] = mapped_column(String(20))
    payment_method: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int]
    delivery_cost: Mapped[int]
    total: Mapped[int]
    eta: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    dispatched_at: Mapped[datetime | None]
    # A pickup order: when it was ready at the warehouse, and until when it is held there.
    pickup_ready_at: Mapped[datetime | None]
    pickup_hold_until: Mapped[datetime | None]
    # An order held for review before it is charged: why, since when, and until when it keeps
    # its stock (models/domain/holds.py).
    hold_reason: Mapped[str | None] = mapped_column(String(40))
    hold_note: Mapped[str | None] = mapped_column(String(300))
    held_at: Mapped[datetime | None]
    hold_until: Mapped[datetime | None]

    # Read when touched: a step loading an order to change it needs the row alone. A query
    # that shows the lines of many orders asks for them with selectinload (one more statement).
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", lazy="select"
    )


class OrderLine(Base):
    """A product and quantity within an order, priced at purchase."""

    __tablename__ = "order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint(
            "cancelled_quantity >= 0 AND returned_quantity >= 0 "
            "AND cancelled_quantity + returned_quantity <= quantity",
            name="changes_within_quantity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"))
    line_no: Mapped[int]
    article_number: Mapped[str] = mapped_column(ForeignKey("product.article_number"))
    quantity: Mapped[int]
    unit_price: Mapped[int]
    # Units cancelled before they shipped, and units returned and accepted back.
    cancelled_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    returned_quantity: Mapped[int] = mapped_column(default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderEvent(Base):
    """One entry of an order's timeline."""

    __tablename__ = "order_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
