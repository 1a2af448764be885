"""`flask --app intake ops dlq ...` against moto's SQS, PostgreSQL and the real dispatcher."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bootstrap import Context
from intake import create_app
from models.domain.clock import utcnow
from models.domain.messages import OrderPlaced
from models.ports import DeadLetter
from models.services.dead_letters import replay
from models.services.dispatch import Dispatcher, Handled
from models.tables.orders import Order, OrderEvent
from settings import Settings
from tests.factories import order_body
from tests.follow_up_support import pending
from tests.keyed_client import KeyedClient
from workers.adapters.sqs import OrdersQueue, sqs_client


@pytest.fixture
def own(settings: Settings) -> Settings:
    """Settings naming an orders queue and DLQ of this test's own."""
    run = uuid.uuid4().hex[:8]
    return settings.model_copy(update={"orders_queue": f"q-{run}", "orders_dlq": f"dlq-{run}"})


@pytest.fixture
def own_queue(own: Settings) -> OrdersQueue:
    queue = OrdersQueue.from_settings(own, timeout=5)
    queue.ensure(max_receive_count=2, visibility_timeout=1)
    return queue


@pytest.fixture
def ops_app(own: Settings, context: Context) -> Flask:
    """The intake app whose ops commands read this test's queues."""
    app = create_app(own, dataclasses.replace(context, settings=own))
    app.test_client_class = KeyedClient
    return app


def ops(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["ops", *args])
    return result.exit_code, result.output.strip()


def placed_order(client: FlaskClient, product: str) -> uuid.UUID:
    response = client.post("/orders", json=order_body([(product, 1)]))
    assert response.status_code == 202
    return uuid.UUID(response.get_json()["order_id"])


def redriven_by_sqs(queue: OrdersQueue, order_id: uuid.UUID) -> None:
    """The order's message, received until SQS's redrive policy moves it to the DLQ.

    As when a dispatcher dies holding it, again and again (the database away, say).
    """
    queue.publish(OrderPlaced(order_id, utcnow()).to_json())
    for _ in range(10):
        queue.receive(wait_seconds=0, visibility_timeout=0)
        if queue.depth("dlq") == 1:
            return
    raise AssertionError("SQS never moved the message to the dead-letter queue")


def dispatcher(queue: OrdersQueue, context: Context) -> Dispatcher:
    """The dispatcher as `python -m workers.dispatcher` runs it: the real follow-ups."""
    return Dispatcher(queue, context.work, wait_seconds=1, visibility_timeout=5)


def dispatched_events(context: Context, order_id: uuid.UUID) -> int:
    with context.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OrderEvent)
                .where(OrderEvent.order_id == order_id, OrderEvent.kind == "dispatched")
            )
            or 0
        )


def was_dispatched(context: Context, order_id: uuid.UUID) -> bool:
    with context.sessions() as session:
        return session.scalar(select(Order.dispatched_at).where(Order.id == order_id)) is not None


def test_listing_and_showing_dead_letters_leaves_them_in_the_queue(
    ops_app: Flask, client: FlaskClient, own_queue: OrdersQueue, product: str
) -> None:
    order_id = placed_order(client, product)
    redriven_by_sqs(own_queue, order_id)

    first = ops(ops_app, "dlq", "list")
    second = ops(ops_app, "dlq", "list")
    message_id = first[1].splitlines()[1].split()[0]
    shown = ops(ops_app, "dlq", "show", message_id)

    assert (first[0], second[0], shown[0]) == (0, 0, 0)
    assert str(order_id) in first[1]
    assert "moved by SQS after too many receives" in first[1]
    assert message_id in second[1]
    assert "order.placed" in shown[1]
    assert f'"order_id": "{order_id}"' in shown[1]
    assert own_queue.depth("dlq") == 1  # visible again at once: no look consumed it


def test_a_dead_letter_replayed_with_dry_run_changes_nothing_and_without_it_starts_once(
    ops_app: Flask, client: FlaskClient, context: Context, own_queue: OrdersQueue, product: str
) -> None:
    order_id = placed_order(client, product)
    redriven_by_sqs(own_queue, order_id)
    message_id = ops(ops_app, "dlq", "list")[1].splitlines()[1].split()[0]

    dry = ops(ops_app, "dlq", "replay", "--all", "--dry-run")

    assert dry[0] == 0
    assert "would replay" in dry[1]
    assert own_queue.depth("dlq") == 1
    assert dispatcher(own_queue, context).run_once() == []
    assert not was_dispatched(context, order_id)
    assert pending(context, order_id) == []

    done = ops(ops_app, "dlq", "replay", message_id)
    outcomes = dispatcher(own_queue, context).run_once()

    assert done[0] == 0
    assert "replayed" in done[1]
    assert own_queue.depth("dlq") == 0
    assert outcomes == [Handled.STARTED]
    assert dispatched_events(context, order_id) == 1
    assert sorted(task for task, _ in pending(context, order_id)) == [
        "fulfillment.allocate",
        "fulfillment.notify",
    ]


class DiesBeforeDelete(OrdersQueue):
    """The orders queue, as seen by a replay whose process dies after the send."""

    def drop(self, letter: DeadLetter) -> None:
        raise ConnectionError("killed between the send and the delete")


def test_a_replay_that_dies_between_send_and_delete_replays_twice_and_starts_once(
    client: FlaskClient, context: Context, own: Settings, own_queue: OrdersQueue, product: str
) -> None:
    order_id = placed_order(client, product)
    redriven_by_sqs(own_queue, order_id)
    dying = DiesBeforeDelete(sqs_client(own, timeout=5), own.orders_queue, own.orders_dlq)

    with pytest.raises(ConnectionError):
        replay(dying, None)
    assert own_queue.depth("dlq") == 1  # handed back, not lost
    replayed = replay(own_queue, None)  # the operator runs it again
    outcomes = dispatcher(own_queue, context).run_once()
    outcomes += dispatcher(own_queue, context).run_once()

    assert [r.outcome.value for r in replayed] == ["replayed"]
    assert sorted(outcomes) == sorted([Handled.STARTED, Handled.ALREADY_MOVING])
    assert dispatched_events(context, order_id) == 1
    assert [task for task, _ in pending(context, order_id)].count("fulfillment.allocate") == 1


def test_the_reason_the_dispatcher_recorded_is_shown(
    ops_app: Flask, context: Context, own: Settings, own_queue: OrdersQueue
) -> None:
    raw = sqs_client(own, timeout=5)
    raw.send_message(
        QueueUrl=raw.get_queue_url(QueueName=own.orders_queue)["QueueUrl"], MessageBody="{not json"
    )
    assert dispatcher(own_queue, context).run_once() == [Handled.DEAD_LETTERED]

    listed = ops(ops_app, "dlq", "list")
    message_id = listed[1].splitlines()[1].split()[0]
    shown = ops(ops_app, "dlq", "show", message_id)

    assert "malformed" in listed[1]
    assert "unreadable" in listed[1]
    assert "reason         malformed" in shown[1]
    assert "attribute      original_message_id=" in shown[1]
    assert "{not json" in shown[1]


def test_an_unknown_message_id_exits_1_and_names_it(ops_app: Flask, own_queue: OrdersQueue) -> None:
    shown = ops(ops_app, "dlq", "show", "no-such-message")
    replayed = ops(ops_app, "dlq", "replay", "no-such-message")
    both = ops(ops_app, "dlq", "replay", "x", "--all")

    assert shown == (1, "Error: no dead letter no-such-message")
    assert replayed[0] == 1
    assert replayed[1].endswith("Error: no dead letter no-such-message")
    assert both[0] == 2
