"""The SQS dispatcher and the outbox relay against moto's SQS server and real PostgreSQL."""

from __future__ import annotations

import json
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.messages import OrderCancelled, OrderMessage, OrderPlaced, parse_order_placed
from models.services.dispatch import Dispatcher, Handled
from models.services.relay import relay
from models.store.unit_of_work import Work
from models.tables.orders import Order, OrderEvent
from models.tables.outbox import Outbox
from settings import Settings
from tests.factories import add_product, order_body
from tests.follow_up_support import pending
from workers.adapters.publishers import MessagePublisher
from workers.adapters.sqs import OrdersQueue, sqs_client


@pytest.fixture
def private_queue(settings: Settings) -> OrdersQueue:
    """A queue of this test's own, so no other test's messages arrive here."""
    run = uuid.uuid4().hex[:8]
    own = settings.model_copy(update={"orders_queue": f"q-{run}", "orders_dlq": f"dlq-{run}"})
    queue = OrdersQueue.from_settings(own, timeout=5)
    queue.ensure(max_receive_count=3, visibility_timeout=1)
    return queue


class Starts:
    """Records the orders whose pipeline was started; can be told to fail like a down broker."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.failing = False

    def __call__(self, session: Session, message: OrderMessage) -> None:
        if self.failing:
            raise ConnectionError("database unreachable")
        self.started.append(str(message.order_id))


def dispatcher(queue: OrdersQueue, sessions: sessionmaker[Session], starts: Starts) -> Dispatcher:
    return Dispatcher(queue, Work(sessions), wait_seconds=1, visibility_timeout=1, follow=starts)


def relay_messages(sessions: sessionmaker[Session], queue: OrdersQueue) -> int:
    """One round of the relay, publishing messages to `queue`."""
    publisher = MessagePublisher(queue, sessions)
    return relay(sessions, publisher, lease_seconds=30, on_give_up=lambda *_: None)


def unpublish(sessions: sessionmaker[Session], order_id: str) -> None:
    """Make the order's message look as if the intake never got it to SQS."""
    with sessions() as session, session.begin():
        session.execute(
            update(Outbox)
            .where(Outbox.message_key == order_id)
            .values(done_at=None, published_at=None, due_at=utcnow())
        )


def placed_order(client: FlaskClient, sessions: sessionmaker[Session]) -> str:
    product = add_product(sessions)
    response = client.post("/orders", json=order_body([(product, 1)]))
    assert response.status_code == 202
    return str(response.get_json()["order_id"])


def dlq_bodies(queue: OrdersQueue) -> list[tuple[str, str]]:
    return [(message.body, reason) for message, reason in queue.dead_letters(wait_seconds=2)]


def test_a_placed_order_starts_the_pipeline_once_and_its_message_is_deleted(
    client: FlaskClient, sessions: sessionmaker[Session], private_queue: OrdersQueue
) -> None:
    order_id = placed_order(client, sessions)
    message = OrderPlaced(uuid.UUID(order_id), utcnow()).to_json()
    private_queue.publish(message)
    private_queue.publish(message)  # SQS delivers at least once
    starts = Starts()

    outcomes = dispatcher(private_queue, sessions, starts).run_once()

    assert outcomes == [Handled.STARTED, Handled.ALREADY_MOVING]
    assert starts.started == [order_id]
    assert private_queue.receive(wait_seconds=2, visibility_timeout=1) == []
    with sessions() as session:
        order = session.get(Order, uuid.UUID(order_id))
        assert order is not None
        assert order.dispatched_at is not None
        kinds = session.scalars(
            select(OrderEvent.kind).where(OrderEvent.order_id == order.id)
        ).all()
    assert kinds.count("dispatched") == 1


def test_a_message_for_an_order_that_has_moved_on_is_deleted_without_a_start(
    client: FlaskClient, sessions: sessionmaker[Session], private_queue: OrdersQueue
) -> None:
    order_id = placed_order(client, sessions)
    with sessions() as session, session.begin():
        session.execute(
            update(Order).where(Order.id == uuid.UUID(order_id)).values(status="rejected")
        )
    private_queue.publish(OrderPlaced(uuid.UUID(order_id), utcnow()).to_json())
    starts = Starts()

    assert dispatcher(private_queue, sessions, starts).run_once() == [Handled.ALREADY_MOVING]
    assert starts.started == []
    assert private_queue.receive(wait_seconds=2, visibility_timeout=1) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "malformed"),
        (json.dumps({"type": "order.placed", "version": 99}), "malformed"),
        (
            json.dumps({"type": "order.placed", "version": 1, "order_id": "x", "occurred_at": "y"}),
            "malformed",
        ),
        (
            json.dumps(OrderPlaced(uuid.uuid4(), utcnow()).to_json()),
            "unknown order",
        ),
    ],
)
def test_a_message_nobody_can_use_goes_to_the_dead_letter_queue_and_the_loop_goes_on(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    private_queue: OrdersQueue,
    settings: Settings,
    body: str,
    reason: str,
) -> None:
    good = placed_order(client, sessions)
    raw = sqs_client(settings, timeout=5)
    raw.send_message(
        QueueUrl=raw.get_queue_url(QueueName=private_queue.name)["QueueUrl"], MessageBody=body
    )
    private_queue.publish(OrderPlaced(uuid.UUID(good), utcnow()).to_json())
    starts = Starts()

    outcomes = dispatcher(private_queue, sessions, starts).run_once()
    outcomes += dispatcher(private_queue, sessions, starts).run_once()

    assert sorted(outcomes) == sorted([Handled.DEAD_LETTERED, Handled.STARTED])
    assert starts.started == [good]
    dead = dlq_bodies(private_queue)
    assert [b for b, _ in dead] == [body]
    assert dead[0][1].startswith(reason)


def test_a_message_that_cannot_be_dispatched_now_returns_and_is_dispatched_later(
    client: FlaskClient, sessions: sessionmaker[Session], private_queue: OrdersQueue
) -> None:
    order_id = placed_order(client, sessions)
    private_queue.publish(OrderPlaced(uuid.UUID(order_id), utcnow()).to_json())
    starts = Starts()
    starts.failing = True

    assert dispatcher(private_queue, sessions, starts).run_once() == [Handled.RETRY_LATER]
    starts.failing = False
    later: list[Handled] = []
    for _ in range(5):
        later += dispatcher(private_queue, sessions, starts).run_once()
        if later:
            break

    assert later == [Handled.STARTED]
    assert starts.started == [order_id]


def test_with_the_database_away_a_batch_returns_whole_without_a_try_per_message(
    client: FlaskClient, sessions: sessionmaker[Session], private_queue: OrdersQueue
) -> None:
    orders = [placed_order(client, sessions) for _ in range(3)]
    for order_id in orders:
        private_queue.publish(OrderPlaced(uuid.UUID(order_id), utcnow()).to_json())
    tries: list[str] = []

    def unreachable(session: Session, message: OrderMessage) -> None:
        tries.append(str(message.order_id))
        raise OperationalError("SELECT 1", {}, ConnectionError("database unreachable"))

    away = Dispatcher(
        private_queue, Work(sessions), wait_seconds=1, visibility_timeout=1, follow=unreachable
    )
    outcomes: list[Handled] = []
    for _ in range(5):
        if outcomes := away.run_once():
            break

    assert outcomes == [Handled.RETRY_LATER] * len(outcomes)
    # The batch's transaction stopped at its first message, and nothing was tried again.
    assert len(tries) == 1


def test_the_relay_publishes_what_the_intake_could_not(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    queue: OrdersQueue,
    private_queue: OrdersQueue,
) -> None:
    order_id = placed_order(client, sessions)
    unpublish(sessions, order_id)

    published = relay_messages(sessions, private_queue)
    again = relay_messages(sessions, private_queue)

    assert published >= 1
    assert again == 0
    received = private_queue.receive(wait_seconds=2, visibility_timeout=30)
    assert order_id in [str(parse_order_placed(m.body).order_id) for m in received]
    with sessions() as session:
        row = session.scalars(select(Outbox).where(Outbox.message_key == order_id)).one()
        assert row.published_at is not None
        assert row.done_at is not None


def test_the_relay_keeps_rows_while_sqs_is_down(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    order_id = placed_order(client, sessions)
    unpublish(sessions, order_id)
    down = OrdersQueue.from_settings(
        settings.model_copy(update={"sqs_endpoint_url": "http://127.0.0.1:9"}),
        timeout=0.5,
        attempts=1,
    )

    relay_messages(sessions, down)

    with sessions() as session:
        row = session.scalars(select(Outbox).where(Outbox.message_key == order_id)).one()
        # Still owed, leased for a later round, and the first failure says why.
        assert row.done_at is None
        assert row.attempts >= 1
        assert row.due_at > utcnow()
        failed = session.scalars(
            select(Outbox)
            .where(Outbox.done_at.is_(None), Outbox.last_error.is_not(None))
            .order_by(Outbox.id.desc())
            .limit(1)
        ).one()
        assert failed.last_error


def test_a_cancellation_message_starts_the_refund_and_a_stale_one_is_dead_lettered(
    client: FlaskClient, sessions: sessionmaker[Session], private_queue: OrdersQueue
) -> None:
    cancelled, still_open = placed_order(client, sessions), placed_order(client, sessions)
    with sessions() as session, session.begin():
        session.execute(
            update(Order).where(Order.id == uuid.UUID(cancelled)).values(status="cancelled")
        )
    for order_id in (cancelled, still_open):
        private_queue.publish(OrderCancelled(uuid.UUID(order_id), utcnow()).to_json())
    starts = Starts()

    outcomes = dispatcher(private_queue, sessions, starts).run_once()

    assert sorted(outcomes) == sorted([Handled.STARTED, Handled.DEAD_LETTERED])
    assert starts.started == [cancelled]
    assert [reason for _, reason in private_queue.dead_letters(wait_seconds=2)] == [
        f"order {still_open} is received, not cancelled"
    ]


def test_an_order_cancelled_before_its_message_came_is_still_acknowledged_to_the_customer(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    private_queue: OrdersQueue,
    context: Context,
) -> None:
    order_id = placed_order(client, sessions)
    with sessions() as session, session.begin():
        session.execute(
            update(Order).where(Order.id == uuid.UUID(order_id)).values(status="cancelled")
        )
    private_queue.publish(OrderPlaced(uuid.UUID(order_id), utcnow()).to_json())
    starts = Starts()

    assert dispatcher(private_queue, sessions, starts).run_once() == [Handled.ALREADY_MOVING]
    assert dispatcher(private_queue, sessions, starts).run_once() == []

    assert starts.started == []
    assert pending(context, order_id) == [("fulfillment.notify", [order_id, "received"])]
