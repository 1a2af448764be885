"""The pipeline steps on real PostgreSQL, the payment sandbox over HTTP and a real SMTP server."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.follow_ups import TryLater
from models.domain.payments import charge_key
from models.domain.tracking import is_valid_ups
from models.services.allocate import Allocated
from models.services.allocate import allocate_order as allocate_with
from models.services.charge import Charged, charge_order
from models.services.notify import Notified, send_notification
from models.services.ship import Shipped, ship_order
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from models.tables.fulfilment import AllocationReceipt, Notification, Payment, Shipment
from models.tables.orders import Order, OrderEvent
from settings import Settings
from tests.factories import (
    CHICAGO,
    NEWARK,
    SEATTLE,
    add_product,
    add_warehouse,
    order_body,
    stock_of,
)
from tests.infra import Mailbox, message_text


def allocate_order(sessions: sessionmaker[Session], order_id: uuid.UUID) -> Allocated:
    """The allocate step with a directory that sees every warehouse the test just made."""
    settings = Settings()
    directory = WarehouseDirectory(refresh=0)
    return allocate_with(Work(sessions), directory, settings, order_id).outcome


def place(client: FlaskClient, lines: list[tuple[str, int]], **overrides: Any) -> uuid.UUID:
    response = client.post("/orders", json=order_body(lines, **overrides))
    assert response.status_code == 202, response.get_json()
    return uuid.UUID(response.get_json()["order_id"])


def status(sessions: sessionmaker[Session], order_id: uuid.UUID) -> str:
    with sessions() as session:
        order = session.get(Order, order_id)
        assert order is not None
        return order.status


def test_the_nearest_warehouse_holding_the_whole_order_is_chosen(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    bed, lamp = add_product(sessions), add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    chicago = add_warehouse(
        sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={bed: 5, lamp: 5}
    )
    add_warehouse(sessions, latitude=SEATTLE[0], longitude=SEATTLE[1], stock={bed: 5, lamp: 5})
    order_id = place(client, [(bed, 2), (lamp, 1)])

    assert allocate_order(sessions, order_id) is Allocated.ALLOCATED

    assert status(sessions, order_id) == "allocated"
    assert stock_of(sessions, chicago, bed) == (5, 2)
    assert stock_of(sessions, chicago, lamp) == (5, 1)
    assert stock_of(sessions, newark, bed) == (5, 0)
    with sessions() as session:
        receipt = session.scalars(
            select(AllocationReceipt).where(AllocationReceipt.order_id == order_id)
        ).one()
        chosen = [c for c in receipt.candidates if c["chosen"]]
        assert len(chosen) == 1
        assert chosen[0]["can_fill"]
        nearer = [c for c in receipt.candidates if c["rank"] < chosen[0]["rank"]]
        assert not any(c["can_fill"] for c in nearer)
        assert f"{chosen[0]['rank'] - 1} nearer cannot" in receipt.reason


def test_an_order_no_warehouse_can_hold_is_rejected_and_reserves_nothing(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 2})
    order_id = place(client, [(bed, 3)])

    assert allocate_order(sessions, order_id) is Allocated.REJECTED

    assert status(sessions, order_id) == "rejected"
    assert stock_of(sessions, newark, bed) == (2, 0)


def test_a_redelivered_allocation_reserves_once(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 10})
    order_id = place(client, [(bed, 4)])
    outcomes: list[Allocated] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(allocate_order(sessions, order_id)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == sorted([Allocated.ALLOCATED] + [Allocated.SKIPPED] * 3)
    assert stock_of(sessions, newark, bed) == (10, 4)


def test_concurrent_buyers_never_oversell(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 20})
    orders = [place(client, [(bed, 1)]) for _ in range(30)]
    outcomes: list[Allocated] = []
    lock = threading.Lock()

    def buy(order_id: uuid.UUID) -> None:
        outcome = allocate_order(sessions, order_id)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=buy, args=(o,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count(Allocated.ALLOCATED) == 20
    assert outcomes.count(Allocated.REJECTED) == 10
    assert stock_of(sessions, newark, bed) == (20, 20)


def allocated_order(
    client: FlaskClient, sessions: sessionmaker[Session], method: str
) -> tuple[uuid.UUID, int, str]:
    bed = add_product(sessions, price=10000)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    order_id = place(client, [(bed, 2)], payment_method=method)
    assert allocate_order(sessions, order_id) is Allocated.ALLOCATED
    return order_id, newark, bed


def test_a_paid_order_ships_with_a_valid_tracking_number_and_leaves_the_shelf(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    order_id, newark, bed = allocated_order(client, sessions, "pm_card_visa")

    assert charge_order(context.work, context.gateway, order_id) is Charged.PAID
    assert ship_order(context.work, context.carriers, order_id) is Shipped.SHIPPED

    assert status(sessions, order_id) == "shipped"
    assert stock_of(sessions, newark, bed) == (3, 0)
    with sessions() as session:
        payment = session.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        assert (payment.status, payment.amount, payment.attempts) == ("succeeded", 24900, 1)
        assert str(payment.gateway_id).startswith("pi_")
        shipment = session.scalars(select(Shipment).where(Shipment.order_id == order_id)).one()
        assert is_valid_ups(shipment.tracking_number)
        events = session.scalars(
            select(OrderEvent.kind).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        ).all()
        assert events == ["received", "allocated", "paid", "shipped"]


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_a_declined_card_fails_the_payment_and_releases_the_stock(
    client: FlaskClient, context: Context, method: str, code: str
) -> None:
    sessions = context.work.sessions
    order_id, newark, bed = allocated_order(client, sessions, method)

    assert charge_order(context.work, context.gateway, order_id) is Charged.DECLINED

    assert status(sessions, order_id) == "payment_failed"
    assert stock_of(sessions, newark, bed) == (5, 0)
    with sessions() as session:
        payment = session.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        assert (payment.status, payment.failure_code) == ("failed", code)


def charges_for(context: Context, order_id: uuid.UUID) -> list[dict[str, Any]]:
    """The sandbox ledger's charges for the order."""
    base = context.settings.payment_api_base
    ledger = requests.get(f"{base}/_sandbox/ledger", timeout=5).json()
    return [entry for entry in ledger if entry["metadata"].get("order_id") == str(order_id)]


def test_a_worker_that_crashed_after_charging_does_not_charge_again(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    order_id, _, _ = allocated_order(client, sessions, "pm_card_visa")
    # The first attempt reached the gateway, then the worker died before recording it.
    first = context.gateway.charge(
        idempotency_key=charge_key(order_id),
        amount=24900,
        currency="usd",
        payment_method="pm_card_visa",
        order_id=str(order_id),
    )

    assert charge_order(context.work, context.gateway, order_id) is Charged.PAID
    assert charge_order(context.work, context.gateway, order_id) is Charged.SKIPPED

    charges = charges_for(context, order_id)
    assert len(charges) == 1
    with sessions() as session:
        payment = session.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        assert payment.gateway_id == first.gateway_id


def test_a_notification_sent_twice_at_once_arrives_once(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    bed = add_product(context.work.sessions)
    order_id = place(client, [(bed, 1)])
    outcomes: list[Notified | str] = []

    def send() -> None:
        try:
            outcome: Notified | str = send_notification(
                context.work, context.post, context.settings, order_id, "received"
            )
        except TryLater:
            outcome = "held by another sender"
        outcomes.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count(Notified.SENT) == 1
    assert set(outcomes) <= {Notified.SENT, Notified.ALREADY_SENT, "held by another sender"}
    received = mailbox.for_order(str(order_id))
    assert len(received) == 1
    assert received[0]["Message-ID"].strip() == f"<received.{order_id}@fulfillment.example>"
    assert "We received your order" in received[0]["Subject"]
    assert "Total: 59.00 USD" in message_text(received[0])


def test_a_temporary_smtp_refusal_is_retried_and_a_permanent_one_is_not(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    bed = add_product(context.work.sessions)
    first, second = place(client, [(bed, 1)]), place(client, [(bed, 1)])
    args = (context.work, context.post, context.settings)

    mailbox.refuse_with.append("451 4.3.0 try again later")
    with pytest.raises(TryLater):
        send_notification(*args, first, "received")
    assert send_notification(*args, first, "received") is Notified.SENT

    mailbox.refuse_with.append("550 5.1.1 no such mailbox")
    assert send_notification(*args, second, "received") is Notified.REJECTED
    assert send_notification(*args, second, "received") is Notified.REJECTED

    with context.work.sessions() as session:
        notes = {
            n.order_id: n
            for n in session.scalars(
                select(Notification).where(Notification.order_id.in_([first, second]))
            )
        }
    assert (notes[first].status, notes[first].attempts) == ("sent", 2)
    assert (notes[second].status, notes[second].attempts) == ("rejected", 1)
    assert len(mailbox.for_order(str(first))) == 1
    assert mailbox.for_order(str(second)) == []
