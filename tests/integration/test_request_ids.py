"""The request id: answered by the intake, logged on its access line, and carried by the order's
queue message and the follow-ups the dispatcher records for it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models.services.dispatch import Dispatcher, Handled
from models.services.relay import relay
from models.store.unit_of_work import Work
from models.tables.outbox import Outbox
from settings import Settings
from tests.factories import add_product, order_body
from workers.adapters.publishers import MessagePublisher
from workers.adapters.sqs import OrdersQueue

pytest_plugins = ["tests.log_capture"]

HEADER = "X-Request-ID"


def place(
    client: FlaskClient, sessions: sessionmaker[Session], headers: dict[str, str]
) -> tuple[str, str]:
    """Place an order; its id and the request id the intake answered with."""
    response = client.post(
        "/orders", json=order_body([(add_product(sessions), 1)]), headers=headers
    )
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["order_id"]), response.headers[HEADER]


def payloads(sessions: sessionmaker[Session], order_id: str) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(
            select(Outbox.payload).where(Outbox.message_key == order_id).order_by(Outbox.id)
        )
        return list(rows)


def access_lines(log_lines: list[str]) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in log_lines]
    return [entry for entry in entries if entry["logger"] == "intake.access"]


def test_the_clients_request_id_is_answered_logged_and_stored_with_the_orders_message(
    client: FlaskClient, sessions: sessionmaker[Session], log_lines: list[str]
) -> None:
    request_id = f"client-{uuid.uuid4()}"

    order_id, answered = place(client, sessions, {HEADER: request_id})

    assert answered == request_id
    [message] = payloads(sessions, order_id)
    assert (message["type"], message["request_id"]) == ("order.placed", request_id)
    [line] = access_lines(log_lines)
    assert line["method"] == "POST"
    assert line["route"] == "/orders"
    assert line["status"] == 202
    assert line["duration_ms"] > 0
    assert (line["order_id"], line["request_id"]) == (order_id, request_id)


@pytest.mark.parametrize(
    "sent", ["ada@example.com", "x" * 65, "two words"], ids=["email", "long", "spaces"]
)
def test_an_unfit_request_id_is_replaced_by_a_fresh_one(
    client: FlaskClient, sessions: sessionmaker[Session], log_lines: list[str], sent: str
) -> None:
    order_id, answered = place(client, sessions, {HEADER: sent})

    assert answered != sent
    assert len(answered) == 32
    assert payloads(sessions, order_id)[0]["request_id"] == answered
    assert sent not in "\n".join(log_lines)


def test_each_request_without_an_id_gets_a_new_one(client: FlaskClient) -> None:
    ids = {client.get("/healthz").headers[HEADER] for _ in range(3)}
    assert len(ids) == 3


def test_the_access_line_names_the_route_not_the_path_or_query_it_was_asked_with(
    client: FlaskClient, sessions: sessionmaker[Session], log_lines: list[str]
) -> None:
    order_id, _ = place(client, sessions, {})
    log_lines.clear()

    response = client.get(f"/orders/{order_id}?token=s3cr3t-token-value")

    [line] = access_lines(log_lines)
    assert (line["route"], line["status"]) == ("/orders/<order_id>", response.status_code)
    assert line["order_id"] == order_id
    assert "s3cr3t" not in "\n".join(log_lines)


def test_the_follow_ups_the_dispatcher_records_carry_the_request_id_of_the_message(
    client: FlaskClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    run = uuid.uuid4().hex[:8]
    own = settings.model_copy(update={"orders_queue": f"q-{run}", "orders_dlq": f"dlq-{run}"})
    queue = OrdersQueue.from_settings(own, timeout=5)
    queue.ensure(max_receive_count=3, visibility_timeout=5)
    order_id, request_id = place(client, sessions, {HEADER: f"req-{run}"})
    # The intake published it to the shared queue already: published again to this one.
    with sessions() as session, session.begin():
        session.execute(
            update(Outbox)
            .where(Outbox.message_key == order_id)
            .values(done_at=None, due_at=Outbox.created_at)
        )
    relay(sessions, MessagePublisher(queue, sessions), lease_seconds=30, on_give_up=lambda *_: None)

    dispatcher = Dispatcher(queue, Work(sessions), wait_seconds=1, visibility_timeout=5)
    # The relay sent every row that was due, other tests' too: drain them all.
    handled: list[Handled] = []
    while batch := dispatcher.run_once():
        handled += batch
    assert Handled.STARTED in handled

    tasks = [p for p in payloads(sessions, order_id) if "task" in p]
    assert {p["task"] for p in tasks} == {"fulfillment.allocate", "fulfillment.notify"}
    assert all(p["request_id"] == request_id for p in tasks)
