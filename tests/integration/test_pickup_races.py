"""Pickup orders under concurrency and from every door: expiries run at once, a collection
racing an expiry, a customer cancelling while it waits, and the ops CLI at the counter."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from bootstrap import Context
from models.domain.clock import utcnow
from models.services.allocate import allocate_order
from models.services.charge import charge_order
from models.services.pickup import collect_order, expire_pickups
from models.services.ship import ship_order
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Payment
from models.tables.orders import Order, OrderEvent
from tests.concurrency import at_once
from tests.factories import add_product, order_body, stock_of
from tests.integration.order_api_support import bearer
from tests.integration.test_pickup import (
    cancel_messages,
    cancellations,
    overdue,
    pickup_warehouse,
    ready_order,
)
from tests.integration.test_pipeline import status


def test_expiries_running_at_once_cancel_and_refund_each_order_once(
    client: FlaskClient, context: Context
) -> None:
    orders = [ready_order(client, context) for _ in range(3)]
    for order_id, _, _ in orders:
        overdue(context, order_id)
    expired: list[uuid.UUID] = []

    at_once(
        *[
            lambda: expired.extend(expire_pickups(context.work, now=utcnow(), hold_days=7))
            for _ in range(4)
        ]
    )

    ids = [order_id for order_id, _, _ in orders]
    assert sorted(o for o in expired if o in ids) == sorted(ids)
    for order_id, warehouse, bed in orders:
        assert status(context.work.sessions, order_id) == "cancelled"
        assert stock_of(context.work.sessions, warehouse, bed) == (5, 0)
        assert cancel_messages(context, order_id) == 1


def test_a_collection_racing_an_expiry_ends_with_exactly_one_of_them(
    client: FlaskClient, context: Context
) -> None:
    order_id, warehouse, bed = ready_order(client, context)
    overdue(context, order_id)
    collected: list[bool] = []

    def collect() -> None:
        with context.work() as session:
            collected.append(collect_order(session, order_id, actor="staff desk"))

    at_once(collect, lambda: expire_pickups(context.work, now=utcnow(), hold_days=7))

    final = status(context.work.sessions, order_id)
    assert final in {"collected", "cancelled"}
    assert collected == [final == "collected"]
    on_hand = 3 if final == "collected" else 5
    assert stock_of(context.work.sessions, warehouse, bed) == (on_hand, 0)
    with context.work.sessions() as session:
        payment = session.scalar(select(Payment.status).where(Payment.order_id == order_id))
        moves = session.scalar(
            select(func.count()).where(
                OrderEvent.order_id == order_id,
                OrderEvent.from_status == "ready_for_pickup",
            )
        )
    assert payment == ("succeeded" if final == "collected" else "refund_pending")
    assert moves == 1


def test_a_guest_cancels_an_order_waiting_at_the_warehouse_and_is_refunded(
    client: FlaskClient, context: Context
) -> None:
    bed = add_product(context.work.sessions, price=10000)
    warehouse = pickup_warehouse(context, bed)
    placed = client.post("/orders", json=order_body([(bed, 2)], delivery_method="self_service"))
    order_id, token = uuid.UUID(placed.get_json()["order_id"]), placed.get_json()["order_token"]
    allocate_order(context.work, context.directory, context.settings, order_id)
    charge_order(context.work, context.gateway, order_id)
    ship_order(context.work, context.carriers, order_id)
    assert status(context.work.sessions, order_id) == "ready_for_pickup"

    done = client.post(f"/orders/{order_id}/cancel", headers=bearer(token))

    assert done.status_code == 202
    assert (done.get_json()["refund"], done.get_json()["units_released"]) == ("pending", 2)
    assert status(context.work.sessions, order_id) == "cancelled"
    assert stock_of(context.work.sessions, warehouse, bed) == (5, 0)


def test_the_ops_cli_records_a_collection_once_and_refuses_an_order_not_ready(
    app: Flask, client: FlaskClient, context: Context
) -> None:
    order_id, warehouse, bed = ready_order(client, context)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["ops", "collect", str(order_id), "--by", "desk-2"])
    again = runner.invoke(args=["ops", "collect", str(order_id)])
    unknown = runner.invoke(args=["ops", "collect", "not-an-order"])

    assert (first.exit_code, first.output.strip()) == (0, f"order {order_id}: collected")
    assert (again.exit_code, again.output.strip()) == (0, f"order {order_id}: collected before")
    assert unknown.exit_code == 1
    assert "no order not-an-order" in unknown.output
    assert stock_of(context.work.sessions, warehouse, bed) == (3, 0)
    with context.work.sessions() as session:
        detail = session.scalar(
            select(OrderEvent.detail).where(
                OrderEvent.order_id == order_id, OrderEvent.kind == "collected"
            )
        )
    assert detail == {"by": "staff desk-2", "units": 2}


def test_an_expired_pickup_names_the_hold_it_was_given_not_todays_setting(
    client: FlaskClient, context: Context
) -> None:
    order_id, _, _ = ready_order(client, context)
    with context.work.sessions() as session, session.begin():
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(
                pickup_ready_at=utcnow() - timedelta(days=2, minutes=1),
                pickup_hold_until=utcnow() - timedelta(minutes=1),
            )
        )

    expire_pickups(context.work, now=utcnow(), hold_days=7)

    assert cancellations(context, order_id) == [
        {"reason": "not collected within 2 days", "by": "system"}
    ]


def test_the_story_of_a_pickup_order_says_where_it_waits_not_a_home_address(
    app: Flask, client: FlaskClient, context: Context
) -> None:
    order_id, warehouse, _ = ready_order(client, context)
    with context.sessions() as session:
        code = session.scalars(select(Warehouse.code).where(Warehouse.id == warehouse)).one()

    result = app.test_cli_runner().invoke(args=["ops", "story", str(order_id)])

    assert result.exit_code == 0, result.output
    assert f"pickup at {code}, Newark" in result.output
    assert "to New York" not in result.output
