"""Order events for the shop's webhooks, written in the statement that writes the timeline entry.

An order event the shop may hear of (models.domain.webhooks.TIMELINE_TYPES) is stored once
(`webhook_event`) with one delivery per active subscription that asks for its type, in the
same statement as its timeline entry: with no such subscription that is one probe of a
small indexed table and no row at all. Each delivery is a follow-up (the outbox) for the
webhooks queue.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from models.domain.tasks import DELIVER_WEBHOOK
from models.domain.webhooks import TIMELINE_TYPES
from models.store.follow_ups import later

# The active subscriptions that want an event of type `:type` (a parameter of the statement).
WANTS = "s.active AND (cardinality(s.event_types) = 0 OR {type} = ANY(s.event_types))"

_TIMELINE_SQL = """timeline AS (
    INSERT INTO order_event (order_id, kind, from_status, to_status, detail, created_at)
    VALUES (:order_id, :kind, :from_status, :to_status, CAST(:detail AS jsonb), :created_at)
),
"""
_HOOKS_SQL = """WITH {timeline}hook AS (
    INSERT INTO webhook_event (order_id, type, data, created_at)
    SELECT :order_id, CAST(:type AS varchar), CAST(:data AS jsonb), :created_at
    WHERE EXISTS (SELECT FROM webhook_subscription s WHERE {wants})
    RETURNING id
)
INSERT INTO webhook_delivery (subscription_id, event_id, order_id, status, attempts, created_at)
SELECT s.id, hook.id, :order_id, 'pending', 0, :created_at
FROM hook, webhook_subscription s WHERE {wants}
RETURNING id"""
_WANTS_TYPE = WANTS.format(type="CAST(:type AS varchar)")
_TIMELINE_AND_HOOKS = text(_HOOKS_SQL.format(timeline=_TIMELINE_SQL, wants=_WANTS_TYPE))
# For a timeline entry another statement wrote (an allocation's, models/store/allocations.py).
_HOOKS_ONLY = text(_HOOKS_SQL.format(timeline="", wants=_WANTS_TYPE))


def event_data(
    order_id: uuid.UUID,
    kind: str,
    from_status: str | None,
    to_status: str | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """What the shop is told of an order event: the order, the change, its details."""
    return {
        "order_id": str(order_id),
        "kind": kind,
        "from_status": from_status,
        "status": to_status,
        "detail": detail,
    }


def record_with_hooks(
    session: Session,
    order_id: uuid.UUID,
    kind: str,
    event_type: str,
    *,
    from_status: str | None,
    to_status: str | None,
    detail: dict[str, Any],
    at: datetime,
    timeline: bool = True,
) -> list[int]:
    """Write the timeline entry (unless `timeline` is False: written already) and, for each
    subscription that wants it, a delivery; their ids."""
    data = event_data(order_id, kind, from_status, to_status, detail)
    deliveries = list(
        session.execute(
            _TIMELINE_AND_HOOKS if timeline else _HOOKS_ONLY,
            {
                "order_id": order_id,
                "kind": kind,
                "from_status": from_status,
                "to_status": to_status,
                "detail": json.dumps(detail),
                "created_at": at,
                "type": event_type,
                "data": json.dumps(data),
            },
        ).scalars()
    )
    for delivery_id in deliveries:
        later(session, DELIVER_WEBHOOK, delivery_id)
    return deliveries


def hooks_of_written(
    session: Session,
    order_id: uuid.UUID,
    kind: str,
    *,
    from_status: str | None,
    to_status: str | None,
    detail: dict[str, Any],
    at: datetime,
) -> list[int]:
    """The deliveries of a timeline entry another statement wrote (an allocation's)."""
    return record_with_hooks(
        session,
        order_id,
        kind,
        TIMELINE_TYPES[kind],
        from_status=from_status,
        to_status=to_status,
        detail=detail,
        at=at,
        timeline=False,
    )
