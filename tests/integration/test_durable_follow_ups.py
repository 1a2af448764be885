"""Nothing that must happen lives only in the broker: every follow-up is a row until it is done."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.follow_ups import FollowUp
from models.services.allocate import allocate_order
from models.services.charge import charge_order
from models.services.relay import MAX_PUBLISHES, relay
from models.services.ship import ship_order
from models.services.watchdog import stuck_orders
from models.store.follow_ups import later
from models.store.unit_of_work import Work
from models.tables.orders import Order, OrderEvent
from models.tables.outbox import Outbox
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.follow_up_support import pending, run_follow_ups
from tests.infra import Mailbox
from workers.adapters.publishers import TaskPublisher


class Dropping:
    """A broker that takes every task and loses it, as Redis does when it restarts empty."""

    topics = frozenset({"task"})

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[object], dict[str, object]]] = []

    def send_task(self, name: str, args: list[object], kwargs: dict[str, object]) -> None:
        self.sent.append((name, args, kwargs))


def placed(client: FlaskClient, ctx: Context) -> uuid.UUID:
    bed = add_product(ctx.sessions)
    add_warehouse(ctx.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    response = client.post("/orders", json=order_body([(bed, 1)]))
    assert response.status_code == 202
    return uuid.UUID(response.get_json()["order_id"])


def test_each_step_commits_what_follows_it_with_its_own_change(
    client: FlaskClient, context: Context
) -> None:
    order_id = placed(client, context)

    allocate_order(context.work, context.directory, context.settings, order_id)
    after_allocation = pending(context, order_id)
    charge_order(context.work, context.gateway, order_id)
    after_charge = pending(context, order_id)
    ship_order(context.work, context.carriers, order_id)
    after_shipping = pending(context, order_id)

    assert ("fulfillment.charge", [str(order_id)]) in after_allocation
    assert ("fulfillment.ship", [str(order_id)]) in after_charge
    assert ("fulfillment.notify", [str(order_id), "paid"]) in after_charge
    assert ("fulfillment.notify", [str(order_id), "shipped"]) in after_shipping


def test_a_shipped_mail_lost_with_the_broker_goes_out_once_the_relay_sends_it_again(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id = placed(client, context)
    broker = Dropping()
    publisher = TaskPublisher(broker.send_task)
    # Published right after commit, then lost; the relay waits out the lease first.
    work = Work(context.sessions, publisher, lease_seconds=60)
    allocate_order(work, context.directory, context.settings, order_id)
    charge_order(work, context.gateway, order_id)
    ship_order(work, context.carriers, order_id)
    sent_at_commit = [name for name, _, _ in broker.sent]

    broker.sent.clear()
    relay(context.sessions, publisher, lease_seconds=60, on_give_up=lambda *_: None)
    too_soon = [args for _, args, _ in broker.sent if args and args[0] == str(order_id)]
    with context.sessions() as session, session.begin():  # the lease runs out
        session.execute(
            update(Outbox)
            .where(Outbox.message_key == str(order_id))
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
    broker.sent.clear()
    relay(context.sessions, publisher, lease_seconds=60, on_give_up=lambda *_: None)
    again = [(name, args) for name, args, _ in broker.sent if args and args[0] == str(order_id)]

    assert "fulfillment.notify" in sent_at_commit
    assert too_soon == []
    assert ("fulfillment.notify", [str(order_id), "shipped"]) in again
    run_follow_ups(context, order_id)
    ids = [str(m["Message-ID"]).strip().strip("<") for m in mailbox.for_order(str(order_id))]
    kinds = [i.split(".")[0] for i in ids]
    assert kinds.count("shipped") == 1
    assert pending(context, order_id) == []


def test_a_follow_up_that_never_ends_is_given_up_with_one_notice(context: Context) -> None:
    published: list[Sequence[FollowUp]] = []

    class Recording:
        topics = frozenset({"task"})

        def publish(self, follow_ups: Sequence[FollowUp]) -> None:
            published.append(follow_ups)

    subject = f"never-{uuid.uuid4()}"
    with context.work() as session:
        row = later(session, "fulfillment.notify", subject, "received")
        assert row is not None
        session.execute(update(Outbox).where(Outbox.id == row.id).values(attempts=MAX_PUBLISHES))
    given_up: list[int] = []

    relay(
        context.sessions,
        Recording(),
        lease_seconds=30,
        on_give_up=lambda _session, follow_up: given_up.append(follow_up.id),
    )

    assert given_up == [row.id]
    assert all(f.id != row.id for batch in published for f in batch)
    with context.sessions() as session:
        stored = session.get(Outbox, row.id)
        assert stored is not None
        assert stored.failed_at is not None
        assert stored.done_at is None


def test_an_order_that_stopped_with_nothing_pending_is_driven_on_by_the_watchdog(
    client: FlaskClient, context: Context
) -> None:
    order_id = placed(client, context)
    allocate_order(context.work, context.directory, context.settings, order_id)
    with context.sessions() as session, session.begin():
        # As after a bug, or a row written before follow-ups were durable.
        session.execute(
            update(Outbox).where(Outbox.message_key == str(order_id)).values(done_at=utcnow())
        )
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(updated_at=utcnow() - timedelta(minutes=10))
        )

    redriven = stuck_orders(context.work, sla_seconds=300)
    run_follow_ups(context, order_id)

    assert (order_id, "charge") in redriven
    with context.sessions() as session:
        assert session.scalar(select(Order.status).where(Order.id == order_id)) == "shipped"
        kinds = session.scalars(
            select(OrderEvent.kind).where(OrderEvent.order_id == order_id)
        ).all()
    assert "redispatched" in kinds
