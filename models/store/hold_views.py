"""What the hold mails show: why operations must look at a held order, and why the customer's
order was cancelled when its reservation ran out."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, select

from models.domain.holds import NOT_PAID, NOT_RELEASED, RESERVATION_EXPIRY_ACTOR
from models.domain.mail import base_kind
from models.tables.orders import OrderEvent

# The reason a cancel by the reservation's expiry records, in the customer's words.
EXPIRED_BECAUSE = {
    NOT_RELEASED: "We held your order for a check before taking payment, and it could not be "
    "completed in time, so the items we kept for you went back on the shelf.",
    NOT_PAID: "We could not take payment for your order in time, so the items we kept for you "
    "went back on the shelf.",
}


def _newest(connection: Connection, order_id: uuid.UUID, kind: str) -> dict[str, Any]:
    detail: dict[str, Any] | None = connection.execute(
        select(OrderEvent.detail)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == kind)
        .order_by(OrderEvent.id.desc())
        .limit(1)
    ).scalar()
    return detail or {}


def hold_fields(connection: Connection, order_id: uuid.UUID, kind: str) -> dict[str, Any]:
    """The view's hold fields for a mail of `kind`: none for a mail not about a hold."""
    if base_kind(kind) == "order_held":
        held = _newest(connection, order_id, "held")
        return {"hold_reason": f"{held.get('reason', '')}: {held.get('note', '')}"}
    if kind == "cancelled":
        cancelled = _newest(connection, order_id, "cancelled")
        if cancelled.get("by") == RESERVATION_EXPIRY_ACTOR:
            return {"expired_because": EXPIRED_BECAUSE.get(str(cancelled.get("reason")), "")}
    return {}
