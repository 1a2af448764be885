"""Helpers the hold and reservation tests share: an allocated order, what the order holds and
what its timeline, the gateway and the outbox say about it."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from bootstrap import Context
from intake.auth import STAFF_READ, STAFF_WRITE
from models.services.allocate import Allocated, allocate_order
from models.tables.fulfilment import Payment, Shipment
from models.tables.orders import Order, OrderEvent
from models.tables.outbox import Outbox
from tests.factories import NEW_YORK, add_product, add_warehouse, order_body
from tests.integration.order_api_support import account_token, bearer


def staff(context: Context, *roles: str) -> dict[str, str]:
    return bearer(account_token(context.settings, *(roles or (STAFF_READ, STAFF_WRITE))))


def stocked(context: Context, *, price: int = 10000, units: int = 5) -> tuple[str, int]:
    """A new product with `units` of it in a new warehouse in New York."""
    product = add_product(context.work.sessions, price=price)
    warehouse = add_warehouse(
        context.work.sessions, latitude=NEW_YORK[0], longitude=NEW_YORK[1], stock={product: units}
    )
    return product, warehouse


def allocated(
    client: FlaskClient, context: Context, product: str, quantity: int = 1, **body: Any
) -> uuid.UUID:
    """An order of `quantity` of `product`, placed and allocated (not yet charged)."""
    placed = client.post("/orders", json=order_body([(product, quantity)], **body))
    assert placed.status_code == 202, placed.get_json()
    order_id = uuid.UUID(placed.get_json()["order_id"])
    result = allocate_order(context.work, context.directory, context.settings, order_id)
    assert result.outcome is Allocated.ALLOCATED
    return order_id


def order_of(context: Context, order_id: uuid.UUID) -> Order:
    with context.work.sessions() as session:
        order = session.get(Order, order_id)
        assert order is not None
        session.expunge(order)
        return order


def events(context: Context, order_id: uuid.UUID, kind: str) -> list[dict[str, Any]]:
    with context.work.sessions() as session:
        return list(
            session.scalars(
                select(OrderEvent.detail)
                .where(OrderEvent.order_id == order_id, OrderEvent.kind == kind)
                .order_by(OrderEvent.id)
            )
        )


def payments(context: Context, order_id: uuid.UUID) -> list[tuple[str, int]]:
    with context.work.sessions() as session:
        rows = session.execute(
            select(Payment.status, Payment.attempts).where(Payment.order_id == order_id)
        )
        return [(row.status, row.attempts) for row in rows]


def shipments(context: Context, order_id: uuid.UUID) -> int:
    with context.work.sessions() as session:
        query = select(func.count()).select_from(Shipment).where(Shipment.order_id == order_id)
        return int(session.scalar(query) or 0)


def mails_asked(context: Context, order_id: uuid.UUID) -> list[str]:
    """The kinds of mail asked for the order, pending or done, oldest first."""
    with context.work.sessions() as session:
        rows = session.scalars(
            select(Outbox.payload)
            .where(
                Outbox.message_key == str(order_id), Outbox.payload["task"].astext.like("%notify")
            )
            .order_by(Outbox.id)
        )
        return [row["args"][1] for row in rows]
