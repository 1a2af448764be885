"""Pickup orders on real PostgreSQL and SMTP: ready at their warehouse with no parcel, named
with its address in every mail and in the API, collected by staff, or expired and refunded."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from bootstrap import Context
from intake.auth import STAFF_READ, STAFF_WRITE
from models.domain.clock import utcnow
from models.services.allocate import Allocated, allocate_order
from models.services.charge import Charged, charge_order
from models.services.notify import Notified, send_notification
from models.services.pickup import expire_pickups
from models.services.ship import Shipped, ship_order
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Allocation, Payment, Shipment
from models.tables.orders import Order, OrderEvent
from models.tables.outbox import Outbox
from tests.factories import NEWARK, add_product, add_warehouse, order_body, stock_of
from tests.infra import Mailbox, message_text
from tests.integration.order_api_support import account_token, bearer
from tests.integration.test_pipeline import status

ADDRESS = "12 Market St"
HOLD = timedelta(days=7)


def pickup_warehouse(context: Context, article: str) -> int:
    """A pickup warehouse near New York with 5 of `article`, and a street address."""
    sessions = context.work.sessions
    warehouse = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={article: 5})
    with sessions() as session, session.begin():
        session.execute(
            update(Warehouse)
            .where(Warehouse.id == warehouse)
            .values(address_line1=ADDRESS, city="Newark", opening_hours="Mon-Sat 10-20")
        )
    return warehouse


def paid_order(client: FlaskClient, context: Context, method: str) -> tuple[uuid.UUID, int, str]:
    """A paid order of 2 units from a new pickup warehouse; its id, the warehouse, the article."""
    bed = add_product(context.work.sessions, price=10000)
    warehouse = pickup_warehouse(context, bed)
    placed = client.post("/orders", json=order_body([(bed, 2)], delivery_method=method))
    assert placed.status_code == 202, placed.get_json()
    order_id = uuid.UUID(placed.get_json()["order_id"])
    allocated = allocate_order(context.work, context.directory, context.settings, order_id)
    assert allocated.outcome is Allocated.ALLOCATED
    assert charge_order(context.work, context.gateway, order_id) is Charged.PAID
    return order_id, warehouse, bed


def ready_order(client: FlaskClient, context: Context) -> tuple[uuid.UUID, int, str]:
    order_id, warehouse, bed = paid_order(client, context, "self_service")
    outcome = ship_order(context.work, context.carriers, order_id, hold=HOLD)
    assert outcome is Shipped.READY_FOR_PICKUP
    return order_id, warehouse, bed


def overdue(context: Context, order_id: uuid.UUID) -> None:
    """Make a ready order's hold run out a minute ago."""
    with context.work.sessions() as session, session.begin():
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(
                pickup_ready_at=utcnow() - HOLD - timedelta(minutes=1),
                pickup_hold_until=utcnow() - timedelta(minutes=1),
            )
        )


def parcels(context: Context, order_id: uuid.UUID) -> int:
    with context.work.sessions() as session:
        query = select(func.count()).select_from(Shipment).where(Shipment.order_id == order_id)
        return int(session.scalar(query) or 0)


def mailed(context: Context, mailbox: Mailbox, order_id: uuid.UUID, kind: str) -> str:
    """Send the `kind` mail about the order; its subject and text as received."""
    sent = send_notification(context.work, context.post, context.settings, order_id, kind)
    assert sent is Notified.SENT
    mine = f"<{kind}.{order_id}@"
    (message,) = [m for m in mailbox.for_order(str(order_id)) if mine in str(m["Message-ID"])]
    return message_text(message)


def test_a_paid_pickup_order_waits_at_its_warehouse_with_no_parcel_and_its_units_held(
    client: FlaskClient, context: Context
) -> None:
    order_id, warehouse, bed = ready_order(client, context)

    assert status(context.work.sessions, order_id) == "ready_for_pickup"
    assert parcels(context, order_id) == 0
    assert stock_of(context.work.sessions, warehouse, bed) == (5, 2)
    with context.work.sessions() as session:
        order = session.get(Order, order_id)
        assert order is not None
        assert order.pickup_ready_at is not None
        assert order.pickup_hold_until == order.pickup_ready_at + HOLD
    assert ship_order(context.work, context.carriers, order_id) is Shipped.SKIPPED


def test_every_mail_of_a_pickup_order_names_the_warehouse_and_its_address_not_a_parcel(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, _, _ = ready_order(client, context)

    paid = mailed(context, mailbox, order_id, "paid")
    ready = mailed(context, mailbox, order_id, "ready_for_pickup")

    for text in (paid, ready):
        assert f"{ADDRESS}, 00000 Newark, US" in text
        assert "1 Main St" not in text
        assert "parcel" not in text
        assert "Expected delivery" not in text
    assert f"Your order {str(order_id)[:8]} is ready for pickup" in ready
    with context.work.sessions() as session:
        until = session.scalar(select(Order.pickup_hold_until).where(Order.id == order_id))
    assert until is not None
    assert f"{until:%B} {until.day}, {until.year}" in ready
    assert "Mon-Sat 10-20" in ready


def test_a_home_delivery_order_still_ships_as_a_parcel_to_its_address(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, warehouse, bed = paid_order(client, context, "curbside")

    assert ship_order(context.work, context.carriers, order_id) is Shipped.SHIPPED

    assert parcels(context, order_id) == 1
    assert stock_of(context.work.sessions, warehouse, bed) == (3, 0)
    paid = mailed(context, mailbox, order_id, "paid")
    assert "1 Main St" in paid
    assert "Pickup" not in paid
    assert client.get(f"/orders/{order_id}", headers=staff(context)).get_json()["pickup"] is None


def staff(context: Context) -> dict[str, str]:
    return bearer(account_token(context.settings, STAFF_READ, STAFF_WRITE))


def test_staff_record_a_collection_once_and_its_stock_leaves_the_shelf(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, warehouse, bed = ready_order(client, context)
    url, headers = f"/orders/{order_id}/status", staff(context)

    first = client.patch(url, json={"status": "collected"}, headers=headers)
    again = client.patch(url, json={"status": "collected"}, headers=headers)
    cancel = client.post(f"/orders/{order_id}/cancel", headers=headers)

    assert (first.status_code, first.get_json()["changed"]) == (200, True)
    assert (again.status_code, again.get_json()["changed"]) == (200, False)
    assert cancel.status_code == 409
    assert status(context.work.sessions, order_id) == "collected"
    assert stock_of(context.work.sessions, warehouse, bed) == (3, 0)
    with context.work.sessions() as session:
        shipped_at = session.scalars(
            select(Allocation.shipped_at).where(Allocation.order_id == order_id)
        ).all()
    assert shipped_at
    assert all(at is not None for at in shipped_at)
    collected = mailed(context, mailbox, order_id, "collected")
    assert "You collected your order at" in collected
    assert f"{ADDRESS}, 00000 Newark, US" in collected


def test_an_order_not_ready_for_pickup_cannot_be_set_collected(
    client: FlaskClient, context: Context
) -> None:
    order_id, _, _ = paid_order(client, context, "self_service")

    refused = client.patch(
        f"/orders/{order_id}/status", json={"status": "collected"}, headers=staff(context)
    )

    assert refused.status_code == 409
    assert refused.get_json()["allowed"] == ["cancelled"]


def cancellations(context: Context, order_id: uuid.UUID) -> list[dict[str, object]]:
    with context.work.sessions() as session:
        return list(
            session.scalars(
                select(OrderEvent.detail).where(
                    OrderEvent.order_id == order_id, OrderEvent.kind == "cancelled"
                )
            )
        )


def cancel_messages(context: Context, order_id: uuid.UUID) -> int:
    with context.work.sessions() as session:
        query = select(func.count()).where(
            Outbox.message_key == str(order_id), Outbox.payload["type"].astext == "order.cancelled"
        )
        return int(session.scalar(query) or 0)


def test_an_unclaimed_pickup_expires_once_its_units_released_and_its_refund_queued(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, warehouse, bed = ready_order(client, context)
    waiting, _, _ = ready_order(client, context)
    overdue(context, order_id)

    first = expire_pickups(context.work, now=utcnow(), hold_days=7)
    second = expire_pickups(context.work, now=utcnow(), hold_days=7)

    assert order_id in first
    assert order_id not in second
    assert status(context.work.sessions, order_id) == "cancelled"
    assert status(context.work.sessions, waiting) == "ready_for_pickup"
    assert stock_of(context.work.sessions, warehouse, bed) == (5, 0)
    with context.work.sessions() as session:
        payment = session.scalar(select(Payment.status).where(Payment.order_id == order_id))
    assert payment == "refund_pending"
    assert cancellations(context, order_id) == [
        {"reason": "not collected within 7 days", "by": "system"}
    ]
    assert cancel_messages(context, order_id) == 1
    told = mailed(context, mailbox, order_id, "cancelled")
    assert "is no longer held for pickup" in told
    assert "it was not collected in time" in told
    assert "A refund of 200.00 USD is on its way" in told


def test_the_api_and_the_page_show_the_pickup_place_and_until_when_it_is_held(
    client: FlaskClient, context: Context
) -> None:
    order_id, _, _ = ready_order(client, context)
    headers = staff(context)

    pickup = client.get(f"/orders/{order_id}", headers=headers).get_json()["pickup"]
    page = client.get(f"/orders/{order_id}", headers=headers | {"Accept": "text/html"})

    assert pickup["address_line1"] == ADDRESS
    assert pickup["address"].endswith(f"{ADDRESS}, 00000 Newark, US")
    assert pickup["ready_at"] is not None
    assert pickup["hold_until"] is not None
    html = page.get_data(as_text=True)
    assert f"{ADDRESS}, 00000 Newark, US" in html
    assert "held for you until" in html
