"""Webhooks to the shop: subscriptions, the events sent, one delivery per subscriber and event,
and every attempt of a delivery (its log)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.domain.clock import utcnow
from models.domain.webhooks import DELIVERY_STATUSES
from models.tables.base import Base

UNFINISHED = text("status = 'pending'")


class WebhookSubscription(Base):
    """A shop's endpoint: where events go, the secret they are signed with, which it wants."""

    __tablename__ = "webhook_subscription"
    __table_args__ = (Index("ix_webhook_subscription_active", "id", postgresql_where="active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Never logged, shown once when the subscription is made.
    secret: Mapped[str] = mapped_column(String(200))
    # Empty: every event type.
    event_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), default=list, server_default="{}"
    )
    description: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Since when every delivery has failed; cleared by the next success.
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    # When operations were told the subscription was disabled (once per disabling).
    notified_at: Mapped[datetime | None]


class WebhookEvent(Base):
    """One public event of an order, written with the change it tells of."""

    __tablename__ = "webhook_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order.id"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event to one subscription, until it succeeded, was refused or ran out of attempts."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in DELIVERY_STATUSES)})", name="status_known"
        ),
        # What keeps an order's events in order: the unfinished deliveries before this one.
        Index(
            "ix_webhook_delivery_unfinished",
            "subscription_id",
            "order_id",
            "id",
            postgresql_where=UNFINISHED,
        ),
        Index("ix_webhook_delivery_subscription", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_event.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # Set while an attempt is on the wire; an older one is a worker that died mid-attempt.
    claimed_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_latency_ms: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One POST of a delivery: what came back, how long it took."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(500))
    # succeeded, failed (refused for good), retry, exhausted.
    outcome: Mapped[str] = mapped_column(String(20))
