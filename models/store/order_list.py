"""Orders newest first, a page at a time: by account, status and time, with a keyset cursor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session, selectinload

from models.tables.orders import Order


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last order's creation time and id."""

    created_at: datetime
    order_id: uuid.UUID


@dataclass(frozen=True)
class OrderFilter:
    """Which orders: one account's (None: everyone's), in these statuses, created in a span."""

    customer: str | None = None
    statuses: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_before: datetime | None = None


def _query(wanted: OrderFilter, after: Position | None) -> Select[Order]:
    # Each summary counts its order's items: every page's lines in one more statement.
    query = select(Order).options(selectinload(Order.lines))
    if wanted.customer is not None:
        query = query.where(Order.customer_subject == wanted.customer)
    if wanted.statuses:
        query = query.where(Order.status.in_(wanted.statuses))
    if wanted.created_from is not None:
        query = query.where(Order.created_at >= wanted.created_from)
    if wanted.created_before is not None:
        query = query.where(Order.created_at < wanted.created_before)
    if after is not None:
        query = query.where(
            tuple_(Order.created_at, Order.id) < tuple_(after.created_at, after.order_id)
        )
    return query.order_by(Order.created_at.desc(), Order.id.desc())


def page_of_orders(
    session: Session, wanted: OrderFilter, after: Position | None, limit: int
) -> tuple[list[Order], Position | None]:
    """Up to `limit` orders after `after`, and where the next page starts (None: no more)."""
    found = list(session.scalars(_query(wanted, after).limit(limit + 1)))
    if len(found) <= limit:
        return found, None
    last = found[limit - 1]
    return found[:limit], Position(last.created_at, last.id)
