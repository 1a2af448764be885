"""Reservations that expire: a held order nobody released and an order stuck before payment
are cancelled once their time is up, the customer is told once, the money converges, and the
units go to the oldest backorder first."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.holds import HoldRules
from models.domain.messages import OrderCancelled
from models.domain.payments import charge_key
from models.domain.tasks import CHARGE
from models.services.allocate import Allocated, allocate_order
from models.services.charge import Charged, charge_order
from models.services.dispatch import follow_message
from models.services.notify import Notified, send_notification
from models.services.reservations import expire_reservations
from models.tables.fulfilment import Payment
from models.tables.orders import Order
from models.tables.outbox import Outbox
from tests.factories import order_body, stock_of
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox, message_text
from tests.integration.hold_support import allocated, events, order_of, payments, stocked

# Long enough that no allocated order of this run counts as stuck unless a test says so.
NEVER = 10**7


def held(client: FlaskClient, context: Context, product: str, quantity: int = 1) -> uuid.UUID:
    order_id = allocated(client, context, product, quantity)
    rules = HoldRules(amount_above=1, reservation_hours=72)
    assert charge_order(context.work, context.gateway, order_id, holds=rules) is Charged.HELD
    return order_id


def cancel_messages(context: Context, order_id: uuid.UUID) -> int:
    with context.work.sessions() as session:
        query = select(func.count()).where(
            Outbox.message_key == str(order_id), Outbox.payload["type"].astext == "order.cancelled"
        )
        return int(session.scalar(query) or 0)


def mailed(context: Context, mailbox: Mailbox, order_id: uuid.UUID, kind: str) -> str:
    assert send_notification(context.work, context.post, context.settings, order_id, kind) in (
        Notified.SENT,
        Notified.ALREADY_SENT,
    )
    mine = f"<{kind}.{order_id}@"
    found = [m for m in mailbox.for_order(str(order_id)) if mine in str(m["Message-ID"])]
    assert len(found) == 1
    return message_text(found[0])


def test_a_held_order_keeps_its_stock_until_its_hold_runs_out_then_is_cancelled_once(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    product, warehouse = stocked(context)
    order_id = held(client, context, product, 2)
    until = order_of(context, order_id).hold_until
    assert until is not None

    early = expire_reservations(
        context.work, now=until - timedelta(minutes=1), unpaid_minutes=NEVER
    )
    first = expire_reservations(context.work, now=until, unpaid_minutes=NEVER)
    second = expire_reservations(context.work, now=until + timedelta(hours=1), unpaid_minutes=NEVER)

    assert order_id not in early.held
    assert order_id in first.held
    assert order_id not in second.held
    assert order_of(context, order_id).status == "cancelled"
    assert stock_of(context.work.sessions, warehouse, product) == (5, 0)
    assert events(context, order_id, "cancelled") == [
        {"reason": "not released in time", "by": "system (reservation expired)"}
    ]
    assert cancel_messages(context, order_id) == 1
    told = mailed(context, mailbox, order_id, "cancelled")
    assert "could not be completed in time" in told
    assert "You were not charged." in told
    assert mailed(context, mailbox, order_id, "cancelled") == told


def test_operations_are_told_why_an_order_is_held(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    product, _ = stocked(context)
    order_id = held(client, context, product)

    told = mailed(context, mailbox, order_id, "order_held#1")

    assert "is on hold for review and has not been charged" in told
    assert "Reason: amount_over_threshold: total" in told
    assert "hold/release" in told


def stuck_before_payment(context: Context, order_id: uuid.UUID, minutes: int) -> None:
    """Make the order's last move `minutes` ago, and any charge attempt with it; its charge
    step ended long since (given up on, or lost with nothing to re-drive it)."""
    then = utcnow() - timedelta(minutes=minutes)
    with context.work.sessions() as session, session.begin():
        session.execute(
            update(Outbox)
            .where(Outbox.message_key == str(order_id), Outbox.payload["task"].astext == CHARGE)
            .values(done_at=then)
        )
        session.execute(update(Order).where(Order.id == order_id).values(updated_at=then))
        session.execute(update(Payment).where(Payment.order_id == order_id).values(updated_at=then))


def charged_unknowingly(context: Context, order_id: uuid.UUID) -> None:
    """A charge that reached the gateway and whose answer never came back: our records say
    pending after one attempt, the gateway says it took the money."""
    total = order_of(context, order_id).total
    with context.work.sessions() as session, session.begin():
        session.add(
            Payment(
                order_id=order_id,
                idempotency_key=charge_key(order_id),
                status="pending",
                amount=total,
                currency="USD",
                attempts=1,
            )
        )
    landed = context.gateway.charge(
        idempotency_key=charge_key(order_id),
        amount=total,
        currency="usd",
        payment_method="pm_card_visa",
        order_id=str(order_id),
    )
    assert landed.status == "succeeded"


def test_an_order_stuck_before_payment_is_cancelled_and_a_charge_that_landed_refunded(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    product, warehouse = stocked(context)
    order_id = allocated(client, context, product)
    fresh = allocated(client, context, product)
    charged_unknowingly(context, order_id)
    stuck_before_payment(context, order_id, 1441)

    expired = expire_reservations(context.work, now=utcnow(), unpaid_minutes=1440)
    # What the dispatcher records when the cancellation's message arrives: the mail and the
    # settling of the money. The charge step never runs again.
    with context.work() as session:
        follow_message(session, OrderCancelled(order_id, utcnow()))
    ran = run_follow_ups(context, order_id)

    assert order_id in expired.unpaid
    assert fresh not in expired.unpaid
    assert "fulfillment.charge" not in [task for task, _, _ in ran]
    assert order_of(context, order_id).status == "cancelled"
    assert order_of(context, fresh).status == "allocated"
    assert events(context, order_id, "cancelled")[0]["reason"] == "not paid in time"
    assert stock_of(context.work.sessions, warehouse, product) == (5, 1)
    # Not assumed failed: the gateway was asked, and the money it took went back.
    assert payments(context, order_id) == [("refunded", 1)]
    assert "could not take payment for your order in time" in mailed(
        context, mailbox, order_id, "cancelled"
    )


def test_expiries_at_once_cancel_each_order_once(client: FlaskClient, context: Context) -> None:
    product, warehouse = stocked(context, units=6)
    orders = [held(client, context, product, 2) for _ in range(3)]
    later = max(order_of(context, o).hold_until or utcnow() for o in orders)
    found: list[uuid.UUID] = []
    start = threading.Barrier(3)

    def run() -> None:
        start.wait()
        found.extend(expire_reservations(context.work, now=later, unpaid_minutes=NEVER).held)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    mine = [o for o in found if o in orders]
    assert sorted(mine) == sorted(orders)
    for order_id in orders:
        assert len(events(context, order_id, "cancelled")) == 1
        assert cancel_messages(context, order_id) == 1
    assert stock_of(context.work.sessions, warehouse, product) == (6, 0)


def backordered(client: FlaskClient, context: Context, product: str, quantity: int) -> uuid.UUID:
    placed = client.post("/orders", json=order_body([(product, quantity)]))
    order_id = uuid.UUID(placed.get_json()["order_id"])
    waiting = context.settings.model_copy(update={"shortage_policy": "backorder"})
    result = allocate_order(context.work, context.directory, waiting, order_id)
    assert result.outcome is Allocated.BACKORDERED
    return order_id


def test_units_of_an_expired_hold_go_to_the_oldest_backorder_first(
    client: FlaskClient, context: Context
) -> None:
    from workers import tasks  # noqa: PLC0415 - registers the tasks on the app

    product, warehouse = stocked(context, units=2)
    holding = held(client, context, product, 2)
    oldest = backordered(client, context, product, 2)
    newer = backordered(client, context, product, 2)
    with context.work.sessions() as session, session.begin():
        past = utcnow() - timedelta(minutes=1)
        session.execute(update(Order).where(Order.id == holding).values(hold_until=past))

    # The beat task itself: it expires the hold, then offers the units to the backorders.
    assert tasks.expire_reservations() >= 1

    assert order_of(context, holding).status == "cancelled"
    assert order_of(context, oldest).status == "allocated"
    assert order_of(context, newer).status == "backordered"
    assert stock_of(context.work.sessions, warehouse, product) == (2, 2)
