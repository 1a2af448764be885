"""The ship step takes every allocation off the shelf in one statement, stock locked in order."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from bootstrap import Context
from models.services.allocate import Allocated, allocate_order
from models.services.charge import Charged, charge_order
from models.services.ship import Shipped, ship_order
from models.tables.fulfilment import Allocation, Shipment
from tests.factories import CHICAGO, NEWARK, add_product, add_warehouse, order_body, stock_of


def paid_split_order(client: FlaskClient, context: Context) -> tuple[uuid.UUID, int, int, str, str]:
    """An order of a bed from Newark and two lamps from Chicago, allocated and paid."""
    bed, lamp = add_product(context.sessions), add_product(context.sessions)
    newark = add_warehouse(
        context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 3}
    )
    chicago = add_warehouse(
        context.sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={lamp: 5}
    )
    response = client.post("/orders", json=order_body([(bed, 1), (lamp, 2)]))
    assert response.status_code == 202
    order_id = uuid.UUID(response.get_json()["order_id"])
    allocated = allocate_order(context.work, context.directory, context.settings, order_id)
    assert allocated.outcome is Allocated.ALLOCATED
    assert charge_order(context.work, context.gateway, order_id) is Charged.PAID
    return order_id, newark, chicago, bed, lamp


def test_a_split_order_ships_with_one_stock_statement_and_no_orm_loads(
    client: FlaskClient, context: Context, statements: list[str]
) -> None:
    order_id, newark, chicago, bed, lamp = paid_split_order(client, context)
    statements.clear()

    assert ship_order(context.work, context.carriers, order_id) is Shipped.SHIPPED

    taking = [s for s in statements if "UPDATE stock" in s]
    assert len(taking) == 1
    assert taking[0].startswith("WITH open AS")
    assert not any(s.startswith("UPDATE allocation") for s in statements)
    # Booking is one read (the country and the warehouses); recording writes the rest, and
    # reads which lines still wait for stock (partial fulfilment: shipped or partly shipped).
    assert len(statements) <= 8, statements
    assert stock_of(context.sessions, newark, bed) == (2, 0)
    assert stock_of(context.sessions, chicago, lamp) == (3, 0)
    with context.sessions() as session:
        allocations = session.scalars(select(Allocation).where(Allocation.order_id == order_id))
        assert all(a.shipped_at is not None for a in allocations)
        parcels = session.scalars(select(Shipment).where(Shipment.order_id == order_id)).all()
    assert sorted(p.warehouse_id for p in parcels) == sorted([newark, chicago])
    assert all(p.status == "label_created" and p.eta is not None for p in parcels)


def test_shipping_again_takes_nothing_off_the_shelf_twice(
    client: FlaskClient, context: Context
) -> None:
    order_id, newark, chicago, bed, lamp = paid_split_order(client, context)

    assert ship_order(context.work, context.carriers, order_id) is Shipped.SHIPPED
    assert ship_order(context.work, context.carriers, order_id) is Shipped.SKIPPED

    assert stock_of(context.sessions, newark, bed) == (2, 0)
    assert stock_of(context.sessions, chicago, lamp) == (3, 0)


# How SQLAlchemy reads an order's lines eagerly: one SELECT of every column for the orders read.
EAGER_LINES = "order_line.order_id IN"


def test_the_charge_and_the_capture_read_the_order_row_without_its_lines(
    client: FlaskClient, context: Context, statements: list[str]
) -> None:
    bed = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 3})
    response = client.post("/orders", json=order_body([(bed, 1)]))
    order_id = uuid.UUID(response.get_json()["order_id"])
    allocated = allocate_order(context.work, context.directory, context.settings, order_id)
    assert allocated.outcome is Allocated.ALLOCATED
    statements.clear()

    assert charge_order(context.work, context.gateway, order_id, capture="manual") is Charged.PAID
    # What to charge is one read of the lines: whether any waits, and what was cancelled.
    assert len([s for s in statements if "FROM order_line" in s]) == 1, statements
    assert ship_order(context.work, context.carriers, order_id) is Shipped.SHIPPED

    # Both lock and read the order; neither needs its lines as objects.
    assert any(s.startswith('SELECT "order".') and "FOR UPDATE" in s for s in statements)
    assert not [s for s in statements if EAGER_LINES in s]
