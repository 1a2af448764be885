"""Orders that ship in parts (SHORTAGE_POLICY=ship_available), for the partial tests."""

from __future__ import annotations

import uuid
from email.message import Message
from typing import Any

import requests
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.lifecycle import OrderStatus
from models.services.allocate import Allocated, allocate_order
from models.store.warehouses import WarehouseDirectory
from models.tables.catalog import Stock
from models.tables.fulfilment import Allocation, Payment, Shipment
from models.tables.orders import Order, OrderEvent
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.follow_up_support import run_follow_ups

# Prices of the two products: a bed in stock, a lamp that is not.
BED, LAMP = 10000, 2500


def place(client: FlaskClient, lines: list[tuple[str, int]], **overrides: Any) -> uuid.UUID:
    response = client.post("/orders", json=order_body(lines, **overrides))
    assert response.status_code == 202, response.get_json()
    return uuid.UUID(response.get_json()["order_id"])


def allocate(
    context: Context, order_id: uuid.UUID, expected: OrderStatus = OrderStatus.RECEIVED
) -> Allocated:
    settings = context.settings.model_copy(update={"shortage_policy": "ship_available"})
    directory = WarehouseDirectory(refresh=0)
    return allocate_order(context.work, directory, settings, order_id, expected=expected).outcome


def order_of(sessions: sessionmaker[Session], order_id: uuid.UUID) -> Order:
    with sessions() as session:
        order = session.get(Order, order_id)
        assert order is not None
        session.expunge(order)
        return order


def payments(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[tuple[Any, ...]]:
    with sessions() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Payment.part, Payment.status, Payment.amount, Payment.idempotency_key)
                .where(Payment.order_id == order_id)
                .order_by(Payment.part)
            )
        ]


def shipments(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[tuple[int, int]]:
    with sessions() as session:
        rows = session.execute(
            select(Shipment.part, Shipment.warehouse_id).where(Shipment.order_id == order_id)
        )
        return sorted((part, warehouse) for part, warehouse in rows)


def events(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(
                select(OrderEvent.kind)
                .where(OrderEvent.order_id == order_id, OrderEvent.kind != "notified")
                .order_by(OrderEvent.id)
            )
        )


def parts_of(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[tuple[str, int]]:
    """(article, part) of each of the order's allocations."""
    with sessions() as session:
        rows = session.execute(
            select(Allocation.article_number, Allocation.part).where(
                Allocation.order_id == order_id
            )
        )
        return sorted((article, part) for article, part in rows)


def restock(sessions: sessionmaker[Session], warehouse_id: int, article: str, units: int) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(Stock)
            .where(Stock.warehouse_id == warehouse_id, Stock.article_number == article)
            .values(on_hand=units)
        )


def ledger_for(context: Context, reference: str) -> list[dict[str, Any]]:
    base = context.settings.payment_api_base
    entries = requests.get(f"{base}/_sandbox/ledger", timeout=5).json()
    return [e for e in entries if e["metadata"].get("order_id") == reference]


def bullets(message: Message) -> list[tuple[int, str]]:
    """The '- 2 x Name (article)' lines of a mail's text: (units, article)."""
    (plain,) = [part for part in message.walk() if part.get_content_type() == "text/plain"]
    payload = plain.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return [
        (int(line[2:].split(" x ")[0]), line.rsplit("(", 1)[1].rstrip(")"))
        for line in payload.decode().splitlines()
        if line.startswith("- ") and " x " in line
    ]


def part_one_shipped(
    client: FlaskClient, context: Context, **overrides: Any
) -> tuple[uuid.UUID, int, str, str]:
    """An order of 2 beds (in stock) and 1 lamp (none anywhere), its part 1 shipped."""
    sessions = context.work.sessions
    bed, lamp = add_product(sessions, price=BED), add_product(sessions, price=LAMP)
    newark = add_warehouse(
        sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5, lamp: 0}
    )
    order_id = place(client, [(bed, 2), (lamp, 1)], **overrides)
    assert allocate(context, order_id) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)
    return order_id, newark, bed, lamp
