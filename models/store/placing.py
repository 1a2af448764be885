"""A placed order written in one statement: its key's claim, the order, its lines, its first
event, its SQS message, and the shop's webhook deliveries of order.placed if any are wanted.

One statement is one round trip and commits on its own, as atomic as a transaction: all of
it is stored, or none. With an Idempotency-Key, every insert after the claim reads the claim's
row, so a key already held writes nothing and the statement returns no row.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection

from models.domain.follow_ups import TASK
from models.domain.pricing import PricedLine
from models.domain.tasks import DELIVER_WEBHOOK
from models.store.idempotency import CLAIM_SQL, KeyClaim
from models.store.webhook_events import WANTS, event_data

_ORDER_COLUMNS = (
    "id",
    "status",
    "customer_email",
    "customer_name",
    "guest_token_hash",
    "customer_subject",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "ship_latitude",
    "ship_longitude",
    "delivery_method",
    "payment_method",
    "currency",
    "subtotal",
    "delivery_cost",
    "total",
    "eta",
    "created_at",
    "updated_at",
)

_PLACE_SQL = """WITH claimed AS ({claim}),
placed AS (
    INSERT INTO "order" ({order_columns})
    SELECT {order_values} WHERE EXISTS (SELECT FROM claimed)
    RETURNING id
),
lines AS (
    INSERT INTO order_line (order_id, line_no, article_number, quantity, unit_price)
    SELECT placed.id, line.line_no, line.article_number, line.quantity, line.unit_price
    FROM placed, unnest(%(line_nos)s::int[], %(article_numbers)s::text[],
                        %(quantities)s::int[], %(unit_prices)s::int[])
         AS line (line_no, article_number, quantity, unit_price)
),
event AS (
    INSERT INTO order_event (order_id, kind, to_status, detail, created_at)
    SELECT id, 'received', %(status)s, %(event_detail)s::jsonb, %(created_at)s FROM placed
),
{hooks}
INSERT INTO outbox
    (topic, message_key, payload, dedupe_key, created_at, due_at, attempts, published_at)
SELECT %(topic)s, %(message_key)s, %(payload)s::jsonb, %(dedupe_key)s, %(created_at)s,
       %(due_at)s, %(attempts)s, %(published_at)s
FROM placed
RETURNING id"""


# order.placed for the shop's webhooks (models/store/webhook_events.py): with no subscription
# that wants it, one probe of a small indexed table and no row.
_HOOKS_TEMPLATE = """hook AS (
    INSERT INTO webhook_event (order_id, type, data, created_at)
    SELECT id, 'order.placed', %(hook_data)s::jsonb, %(created_at)s FROM placed
    WHERE EXISTS (SELECT FROM webhook_subscription s WHERE {wants})
    RETURNING id, order_id
),
delivery AS (
    INSERT INTO webhook_delivery
        (subscription_id, event_id, order_id, status, attempts, created_at)
    SELECT s.id, hook.id, hook.order_id, 'pending', 0, %(created_at)s
    FROM hook, webhook_subscription s WHERE {wants}
    RETURNING id
),
delivery_follow_up AS (
    INSERT INTO outbox (topic, message_key, payload, dedupe_key, created_at, due_at, attempts)
    SELECT '{task}', delivery.id::text,
           jsonb_build_object('task', '{deliver}', 'args', jsonb_build_array(delivery.id)),
           '{deliver}:' || delivery.id, %(created_at)s, %(created_at)s, 0
    FROM delivery
)"""
_HOOKS_SQL = _HOOKS_TEMPLATE.format(
    wants=WANTS.format(type="'order.placed'"), task=TASK, deliver=DELIVER_WEBHOOK
)


def _statement(claim: str) -> str:
    return _PLACE_SQL.format(
        claim=claim,
        hooks=_HOOKS_SQL,
        order_columns=", ".join(_ORDER_COLUMNS),
        order_values=", ".join(f"%({column})s" for column in _ORDER_COLUMNS),
    )


_WITH_KEY = _statement(CLAIM_SQL)
_WITHOUT_KEY = _statement("SELECT 1")


@dataclass(frozen=True)
class NewOrder:
    """Everything the statement writes: the order's columns, its lines, its first event and
    its message's outbox row (`models.store.follow_ups.pending_row`)."""

    order: dict[str, Any]
    lines: list[PricedLine]
    event_detail: dict[str, Any]
    message: dict[str, Any]

    @property
    def order_id(self) -> uuid.UUID:
        """The order's id, chosen before it is written."""
        order_id: uuid.UUID = self.order["id"]
        return order_id


class Price(NamedTuple):
    """An article's price now, in minor units of its currency."""

    amount: int
    currency: str


def prices(connection: Connection, article_numbers: list[str]) -> dict[str, Price]:
    """The price of each of the articles the catalogue has."""
    rows = connection.exec_driver_sql(
        "SELECT article_number, price, currency FROM product WHERE article_number = ANY(%s)",
        (article_numbers,),
    )
    return {article_number: Price(price, currency) for article_number, price, currency in rows}


def insert_order(connection: Connection, new: NewOrder, claim: KeyClaim | None) -> int | None:
    """Write `new` in one statement; its message's outbox id, or None if the key was held.

    `connection` must be in autocommit (`Work.single_statements`): the statement commits as
    it returns.
    """
    parameters: dict[str, Any] = {
        **new.order,
        "line_nos": list(range(1, len(new.lines) + 1)),
        "article_numbers": [line.article_number for line in new.lines],
        "quantities": [line.quantity for line in new.lines],
        "unit_prices": [line.unit_price for line in new.lines],
        "event_detail": json.dumps(new.event_detail),
        "hook_data": json.dumps(
            event_data(new.order_id, "received", None, new.order["status"], new.event_detail)
        ),
        **new.message,
        "payload": json.dumps(new.message["payload"]),
    }
    if claim is not None:
        parameters.update(claim.parameters(), now=new.order["created_at"])
    statement = _WITH_KEY if claim is not None else _WITHOUT_KEY
    row = connection.exec_driver_sql(statement, parameters).first()
    return None if row is None else int(row[0])
