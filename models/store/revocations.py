"""Revoked tokens: recorded once, looked up by id on every request that presents one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.tables.tokens import RevokedToken


def revoke(session: Session, jti: str, *, subject: str, expires_at: datetime, by: str) -> bool:
    """Refuse the token `jti` from now on; False if it was revoked already."""
    revoked = session.execute(
        insert(RevokedToken)
        .values(jti=jti, subject=subject, expires_at=expires_at, revoked_at=utcnow(), revoked_by=by)
        .on_conflict_do_nothing(index_elements=[RevokedToken.jti])
        .returning(RevokedToken.jti)
    ).first()
    return revoked is not None


def is_revoked(session: Session, jti: str) -> bool:
    """Whether the token `jti` was revoked."""
    return session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti)) is not None


def forget_expired(session: Session) -> int:
    """Drop revocations of tokens that have expired anyway; how many."""
    result = session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
