"""The outbox: every follow-up of a committed change, until it is done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.domain.clock import utcnow
from models.tables.base import Base

PENDING = text("done_at IS NULL AND failed_at IS NULL")


class Outbox(Base):
    """Something that must follow a committed change: an SQS message, or a task to run.

    Written in the transaction of the change that calls for it; published right after
    commit, and again by the relay whenever it is due and not yet done. A message is done
    when SQS takes it, a task when it has run to an outcome.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "due_at", postgresql_where=PENDING),
        # At most one pending follow-up of a kind for a subject (say, one charge per order).
        Index("uq_outbox_pending_dedupe_key", "dedupe_key", unique=True, postgresql_where=PENDING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    message_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the relay should publish it next: now, after a retry's backoff, or after a lease.
    due_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    published_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
