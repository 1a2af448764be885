"""Revoked API tokens: refused until they would have expired anyway."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base


class RevokedToken(Base):
    """A token's id (its `jti`), refused from `revoked_at` on; kept until it `expires_at`."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime]
    revoked_by: Mapped[str] = mapped_column(String(100))
