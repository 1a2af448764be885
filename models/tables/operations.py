"""What operations switched: queues paused by hand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.domain.clock import utcnow
from models.tables.base import Base


class PausedQueue(Base):
    """A Celery queue no worker consumes and the relay publishes nothing to, until resumed."""

    __tablename__ = "paused_queue"

    queue: Mapped[str] = mapped_column(String(40), primary_key=True)
    paused_at: Mapped[datetime] = mapped_column(default=utcnow)
    paused_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    # The workers told to stop consuming it, told to start again on resume.
    workers: Mapped[list[str]] = mapped_column(JSONB, default=list)
