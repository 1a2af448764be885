"""Helpers for the tracking tests: orders shipped for real, their shipments, status and messages."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.services.allocate import Allocated, allocate_order
from models.services.charge import Charged, charge_order
from models.services.ship import Shipped, ship_order
from models.tables.fulfilment import Shipment
from models.tables.orders import Order
from models.tables.outbox import Outbox
from tests.factories import order_body

# Times a parcel update must refuse: one without a time zone, one that is not a time, and
# one whose UTC falls before the year 1 (it was a 503: converting it overflowed).
NOT_A_MOMENT = [
    ("2026-11-21T12:00:00", "timezone"),
    ("yesterday", "datetime"),
    ("0001-01-01T00:00:00+01:00", "year 1"),
]


def shipped_order(
    client: FlaskClient, context: Context, lines: list[tuple[str, int]], **overrides: Any
) -> uuid.UUID:
    """A new order placed, allocated, charged and shipped; its id."""
    response = client.post("/orders", json=order_body(lines, **overrides))
    assert response.status_code == 202, response.get_json()
    order_id = uuid.UUID(response.get_json()["order_id"])
    assert (
        allocate_order(context.work, context.directory, context.settings, order_id).outcome
        is Allocated.ALLOCATED
    )
    assert charge_order(context.work, context.gateway, order_id) is Charged.PAID
    assert ship_order(context.work, context.carriers, order_id) is Shipped.SHIPPED
    return order_id


def shipments(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[Shipment]:
    """The order's shipments, oldest first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
            )
        )


def order_status(sessions: sessionmaker[Session], order_id: uuid.UUID) -> str:
    """The order's status as stored now."""
    with sessions() as session:
        order = session.get(Order, order_id)
        assert order is not None
        return order.status


def delivered_messages(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[Outbox]:
    """The outbox rows announcing that the order was delivered."""
    with sessions() as session:
        return [
            row
            for row in session.scalars(select(Outbox).where(Outbox.message_key == str(order_id)))
            if row.payload.get("type") == "order.delivered"
        ]
