"""Partial fulfilment (SHORTAGE_POLICY=ship_available) on real PostgreSQL, the payment sandbox
over HTTP and a real SMTP server, each step run through its Celery task as a worker runs it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select, update

from bootstrap import Context
from models.domain.lifecycle import OrderStatus
from models.services.allocate import Allocated
from models.services.charge import Charged, charge_order
from models.services.charge_part import PartCharged, charge_part
from models.services.ship import Shipped, ship_order
from models.services.ship_part import ship_part
from models.store.parts import parts_waiting
from models.tables.orders import Order, OrderLine
from tests.factories import stock_of
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox
from tests.integration.partial_support import (
    BED,
    LAMP,
    allocate,
    bullets,
    events,
    ledger_for,
    order_of,
    part_one_shipped,
    parts_of,
    payments,
    restock,
    shipments,
)


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
    # Authorised at the charge, captured as part 1 left (PAYMENT_CAPTURE=at_shipment).
    assert events(sessions, order_id)[:6] == [
        "received", "allocated", "part_backordered", "paid", "captured", "partially_shipped",
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
    assert sum("is confirmed" in s for s in subjects) == 2


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
