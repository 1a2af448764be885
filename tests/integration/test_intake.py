"""POST /orders and GET /orders/<id> against real PostgreSQL and SQS."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from intake.runtime import runtime
from models.domain.messages import parse_message
from models.store.unit_of_work import Work
from models.tables.orders import Order
from models.tables.outbox import Outbox
from tests.factories import order_body
from workers.adapters.publishers import MessagePublisher
from workers.adapters.sqs import OrdersQueue


def post(client: FlaskClient, body: Any, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": f'"{key}"'} if key else {}
    return client.post("/orders", json=body, headers=headers)


def count_orders(sessions: sessionmaker[Session], email: str) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).where(Order.customer_email == email)) or 0


def drain(queue: OrdersQueue) -> list[str]:
    """Order ids of every message now on the queue, deleting them."""
    found: list[str] = []
    while messages := queue.receive(wait_seconds=0, visibility_timeout=30):
        # Other tests' cancellations share the queue: only the orders placed count here.
        found += [str(parse_message(m.body).order_id) for m in messages if "placed" in m.body]
        queue.delete(messages)
    return found


def test_a_valid_order_is_recorded_queued_and_answered_with_202(
    client: FlaskClient, product: str, sessions: sessionmaker[Session], queue: OrdersQueue
) -> None:
    response = post(client, order_body([(product, 2)]), key=str(uuid.uuid4()))

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "received"
    assert body["status_url"].endswith(f"/orders/{body['order_id']}")
    assert response.headers["Location"] == body["status_url"]
    assert len(body["order_token"]) >= 32
    with sessions() as session:
        order = session.get(Order, uuid.UUID(body["order_id"]))
        assert order is not None
        assert (order.subtotal, order.delivery_cost, order.total) == (5000, 4900, 9900)
        outbox = session.scalars(select(Outbox).where(Outbox.message_key == body["order_id"])).one()
        assert outbox.published_at is not None
    assert body["order_id"] in drain(queue)


def test_the_same_key_and_body_replays_the_first_response(
    client: FlaskClient, product: str, sessions: sessionmaker[Session]
) -> None:
    key = str(uuid.uuid4())
    email = f"{uuid.uuid4().hex}@example.com"
    body = order_body([(product, 1)], customer={"email": email, "name": "Replay"})

    first = post(client, body, key)
    second = post(client, body, key)

    assert first.status_code == second.status_code == 202
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count_orders(sessions, email) == 1


def test_a_guests_key_with_another_body_is_another_guests_order(
    client: FlaskClient, product: str
) -> None:
    # A guest's key is scoped to the body it came with: a stranger who picks the same key
    # neither blocks this order nor gets its answer (accounts' keys: test_order_api_keys.py).
    key = str(uuid.uuid4())
    first = post(client, order_body([(product, 1)]), key)

    second = post(client, order_body([(product, 2)]), key)

    assert (first.status_code, second.status_code) == (202, 202)
    assert first.get_json()["order_id"] != second.get_json()["order_id"]
    assert second.get_json()["order_token"] != first.get_json()["order_token"]


def test_the_same_key_sent_twenty_times_at_once_makes_one_order(
    app: Flask, product: str, sessions: sessionmaker[Session]
) -> None:
    key = str(uuid.uuid4())
    email = f"{uuid.uuid4().hex}@example.com"
    body = order_body([(product, 1)], customer={"email": email, "name": "Race"})
    answers: list[Any] = []
    barrier = threading.Barrier(20)

    def place() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(post(client, body, key))

    threads = [threading.Thread(target=place) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert count_orders(sessions, email) == 1
    # The claim is written with the order: the others wait for it and replay its answer.
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.get_json()["order_id"] for answer in answers}) == 1
    assert sum("Idempotent-Replayed" not in answer.headers for answer in answers) == 1


def test_an_order_reads_back_with_its_token_only(client: FlaskClient, product: str) -> None:
    placed = post(client, order_body([(product, 3)])).get_json()
    url = f"/orders/{placed['order_id']}"

    ok = client.get(url, headers={"Authorization": f"Bearer {placed['order_token']}"})
    missing = client.get(url)
    wrong = client.get(url, headers={"Authorization": "Bearer not-the-token"})

    assert ok.status_code == 200
    view = ok.get_json()
    assert view["status"] == "received"
    assert view["lines"] == [
        {
            "line_no": 1,
            "article_number": product,
            "name": f"Test {product}",
            "quantity": 3,
            "cancelled_quantity": 0,
            "unit_price": 2500,
            "amount": 7500,
        }
    ]
    assert view["costs"] == {"currency": "USD", "subtotal": 7500, "delivery": 4900, "total": 12400}
    assert view["timeline"][0]["event"] == "received"
    assert missing.status_code == 401
    assert missing.get_json()["errors"][0]["field"] == "Authorization"
    assert wrong.status_code == 404


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b, p: b["lines"][0].update(quantity=0), "lines[0].quantity"),
        (lambda b, p: b["lines"][0].update(quantity=10**9), "lines[0].quantity"),
        (lambda b, p: b["lines"][0].update(quantity="2"), "lines[0].quantity"),
        (lambda b, p: b["lines"][0].update(article_number="999.999.99"), "lines[0].article_number"),
        (lambda b, p: b["lines"][0].update(article_number="bed"), "lines[0].article_number"),
        (
            lambda b, p: b["shipping_address"].update(postal_code="00000"),
            "shipping_address.postal_code",
        ),
        (lambda b, p: b["shipping_address"].update(country="XX"), "shipping_address.country"),
        (lambda b, p: b["shipping_address"].update(country="UK"), "shipping_address.country"),
        (lambda b, p: b.pop("payment_method"), "payment_method"),
        (lambda b, p: b.update(payment_method="4242424242424242"), "payment_method"),
        (lambda b, p: b.update(delivery_method="drone"), "delivery_method"),
        (lambda b, p: b.update(coupon="FREE"), "coupon"),
        (lambda b, p: b["customer"].update(email="not-an-email"), "customer.email"),
        (lambda b, p: b.update(lines=[]), "lines"),
        (lambda b, p: b.update(lines=[{"article_number": p, "quantity": 1}] * 2), "lines"),
    ],
)
def test_bad_input_gets_a_422_naming_the_field(
    client: FlaskClient, product: str, mutate: Any, field: str
) -> None:
    body = order_body([(product, 1)])
    mutate(body, product)

    response = post(client, body)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert field in [error["field"] for error in problem["errors"]]
    assert all(error["reason"] for error in problem["errors"])


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[]", "application/json", 422),
        ("null", "application/json", 400),
        ('"text"', "application/json", 422),
        ("customer=ada", "application/x-www-form-urlencoded", 415),
        ("x" * 70_000, "application/json", 413),
    ],
)
def test_malformed_bodies_get_a_clear_4xx(
    client: FlaskClient, data: str, content_type: str, status: int
) -> None:
    response = client.post("/orders", data=data, content_type=content_type)

    assert response.status_code == status
    assert response.get_json()["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)


def test_an_order_is_kept_when_sqs_is_down_and_left_for_the_relay(
    app: Flask, product: str, sessions: sessionmaker[Session]
) -> None:
    with app.app_context():
        rt = runtime()
    working = rt.work
    down = OrdersQueue.from_settings(
        rt.settings.model_copy(update={"sqs_endpoint_url": "http://127.0.0.1:9"}),
        timeout=0.5,
        attempts=1,
    )
    rt.work = Work(sessions, MessagePublisher(down, sessions), lease_seconds=5)
    try:
        response = post(app.test_client(), order_body([(product, 1)]))
    finally:
        rt.work = working

    assert response.status_code == 202
    with sessions() as session:
        outbox = session.scalars(
            select(Outbox).where(Outbox.message_key == response.get_json()["order_id"])
        ).one()
    assert outbox.done_at is None
    assert outbox.last_error
    assert json.loads(json.dumps(outbox.payload))["type"] == "order.placed"


def test_readiness_reports_each_dependency(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "redis": "ok", "sqs": "ok"}
