"""Partial fulfilment (SHORTAGE_POLICY=ship_available) on real PostgreSQL, the payment sandbox
over HTTP and a real SMTP server, each step run through its Celery task as a worker runs it."""

from __future__ import annotations

import uuid
from email.message import Message
from typing import Any

import requests
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from intake.api_models import OrderView
from models.domain.lifecycle import OrderStatus
from models.services.allocate import Allocated, allocate_order
from models.services.charge import Charged, charge_order
from models.services.charge_part import PartCharged, charge_part
from models.services.ship import Shipped, ship_order
from models.services.ship_part import ship_part
from models.store.parts import parts_waiting
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from models.tables.catalog import Stock
from models.tables.fulfilment import Allocation, Payment, Shipment
from models.tables.orders import Order, OrderEvent, OrderLine
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse, order_body, stock_of
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox

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


def test_an_order_with_a_line_out_of_stock_ships_what_it_can_as_part_one(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    sessions = context.work.sessions
    order_id, newark, bed, lamp = part_one_shipped(client, context)
    order = order_of(sessions, order_id)
    delivery = order.delivery_cost

    # Part 1: the beds and the delivery, charged and shipped; the lamp waits.
    assert order.status == "partially_shipped"
    assert payments(sessions, order_id) == [
        (1, "succeeded", 2 * BED + delivery, f"order-{order_id}-charge")
    ]
    assert shipments(sessions, order_id) == [(1, newark)]
    assert stock_of(sessions, newark, bed) == (3, 0)
    assert events(sessions, order_id)[:5] == [
        "received", "allocated", "part_backordered", "paid", "partially_shipped",
    ]  # fmt: skip
    # Each step again changes nothing.
    assert charge_order(context.work, context.gateway, order_id) is Charged.SKIPPED
    assert ship_order(context.work, context.carriers, order_id) is Shipped.SKIPPED
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.STILL_SHORT
    assert len(ledger_for(context, str(order_id))) == 1
    (partial,) = [m for m in mailbox.for_order(str(order_id)) if "Part of" in m["Subject"]]
    # What ships (the beds), then what follows (the lamp).
    assert bullets(partial) == [(2, bed), (1, lamp)]


def test_the_rest_ships_as_part_two_when_it_arrives_charged_for_its_lines_alone(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    sessions = context.work.sessions
    order_id, newark, bed, lamp = part_one_shipped(client, context)
    order = order_of(sessions, order_id)
    delivery = order.delivery_cost

    restock(sessions, newark, lamp, 1)
    with sessions() as session:
        ready = session.scalars(select(Order.id).where(parts_waiting(), Order.id == order_id))
        assert list(ready) == [order_id]
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.ALLOCATED
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.SKIPPED
    assert stock_of(sessions, newark, lamp) == (1, 1)
    ran = run_follow_ups(context, order_id)
    assert [(task, args) for task, args, _ in ran if "part" in task] == [
        ("fulfillment.charge_part", [str(order_id), 2]),
        ("fulfillment.ship_part", [str(order_id), 2]),
    ]

    assert order_of(sessions, order_id).status == "shipped"
    assert payments(sessions, order_id) == [
        (1, "succeeded", 2 * BED + delivery, f"order-{order_id}-charge"),
        (2, "succeeded", LAMP, f"order-{order_id}-charge-2"),
    ]
    assert sum(amount for _, _, amount, _ in payments(sessions, order_id)) == order.total
    assert shipments(sessions, order_id) == [(1, newark), (2, newark)]
    assert stock_of(sessions, newark, lamp) == (0, 0)
    assert parts_of(sessions, order_id) == sorted([(bed, 1), (lamp, 2)])
    # Each step of part 2 again changes nothing: no second charge, no second parcel.
    assert charge_part(context.work, context.gateway, order_id, 2) is PartCharged.SKIPPED
    assert ship_part(context.work, context.carriers, order_id, 2) is Shipped.SKIPPED
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.SKIPPED
    assert len(ledger_for(context, f"{order_id}/part-2")) == 1
    assert len(shipments(sessions, order_id)) == 2
    subjects = [m["Subject"] for m in mailbox.for_order(str(order_id))]
    assert sum("on its way" in s for s in subjects) == 2
    assert sum("Payment received" in s for s in subjects) == 2


def test_the_order_document_shows_each_part_and_what_still_follows(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    bed, lamp = add_product(sessions, price=BED), add_product(sessions, price=LAMP)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5, lamp: 0})
    response = client.post("/orders", json=order_body([(bed, 2), (lamp, 1)]))
    order_id, token = uuid.UUID(response.get_json()["order_id"]), response.get_json()["order_token"]
    assert allocate(context, order_id) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)

    document = client.get(f"/orders/{order_id}", headers={"Authorization": f"Bearer {token}"})
    assert document.status_code == 200
    view = OrderView.model_validate(document.get_json())
    assert view.status == "partially_shipped"
    (part,) = view.parts
    assert [(line.article_number, line.quantity, line.state) for line in part.lines] == [
        (bed, 2, "shipped")
    ]
    assert part.payment is not None
    assert (part.payment.status, part.payment.amount) == (
        "succeeded",
        2 * BED + view.costs.delivery,
    )
    assert [s.tracking_number for s in part.shipments] == [
        s.tracking_number for s in view.shipments
    ]
    assert [(w.article_number, w.quantity) for w in view.waiting] == [(lamp, 1)]
    # Its shipped units are on their way: it cannot be cancelled.
    refused = client.post(
        f"/orders/{order_id}/cancel", headers={"Authorization": f"Bearer {token}"}, json={}
    )
    assert refused.status_code == 409


def test_a_declined_second_part_cancels_its_lines_and_the_order_is_shipped_for_what_did_ship(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    sessions = context.work.sessions
    order_id, newark, bed, lamp = part_one_shipped(client, context)
    charged = 2 * BED + order_of(sessions, order_id).delivery_cost
    # The card stops working before the lamp arrives.
    with sessions() as session, session.begin():
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(payment_method="pm_card_chargeDeclined")
        )
    restock(sessions, newark, lamp, 1)
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)

    assert order_of(sessions, order_id).status == "shipped"
    assert [(p, s, a) for p, s, a, _ in payments(sessions, order_id)] == [
        (1, "succeeded", charged),
        (2, "failed", LAMP),
    ]
    assert stock_of(sessions, newark, lamp) == (1, 0)  # released, back on sale
    assert shipments(sessions, order_id) == [(1, newark)]
    with sessions() as session:
        cancelled = dict(
            session.execute(
                select(OrderLine.article_number, OrderLine.cancelled_quantity).where(
                    OrderLine.order_id == order_id
                )
            ).all()
        )
    assert cancelled == {bed: 0, lamp: 1}
    assert not any(e["status"] == "succeeded" for e in ledger_for(context, f"{order_id}/part-2"))
    (told,) = [m for m in mailbox.for_order(str(order_id)) if "was cancelled" in m["Subject"]]
    assert bullets(told) == [(1, lamp)]
    # Nothing more happens: the order waits for no part.
    assert charge_part(context.work, context.gateway, order_id, 2) is PartCharged.SKIPPED
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.SKIPPED


def test_an_order_with_nothing_in_stock_is_backordered_whole(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    lamp = add_product(sessions, price=LAMP)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 0})
    order_id = place(client, [(lamp, 1)])

    assert allocate(context, order_id) is Allocated.BACKORDERED
    assert order_of(sessions, order_id).status == "backordered"


def test_an_order_in_stock_whole_ships_whole_under_ship_available(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    bed = add_product(sessions, price=BED)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    order_id = place(client, [(bed, 2)])

    assert allocate(context, order_id) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)
    order = order_of(sessions, order_id)
    assert order.status == "shipped"
    assert [(p, s, a) for p, s, a, _ in payments(sessions, order_id)] == [
        (1, "succeeded", order.total)
    ]


def test_the_default_policy_still_rejects_an_order_it_cannot_cover_whole(
    client: FlaskClient, context: Context, settings: Settings
) -> None:
    sessions = context.work.sessions
    bed, lamp = add_product(sessions, price=BED), add_product(sessions, price=LAMP)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5, lamp: 0})
    order_id = place(client, [(bed, 2), (lamp, 1)])
    directory = WarehouseDirectory(refresh=0)

    result = allocate_order(Work(sessions), directory, settings, order_id)
    assert (settings.shortage_policy, result.outcome) == ("reject", Allocated.REJECTED)
