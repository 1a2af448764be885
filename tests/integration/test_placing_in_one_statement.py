"""An order is written in one statement, together with the claim on its Idempotency-Key."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from models.domain.clock import utcnow
from models.domain.messages import ORDER_PLACED
from models.tables.catalog import Product
from models.tables.idempotency import IdempotencyKey
from models.tables.orders import Order, OrderEvent, OrderLine
from models.tables.outbox import Outbox
from tests.factories import add_product, order_body, stored_key
from tests.integration.conftest import PRODUCT_PRICE, recorded_statements


@pytest.fixture
def statements(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    """Every statement the engine sends while the test runs, in order."""
    with recorded_statements(sessions) as sent:
        yield sent


def post(client: FlaskClient, body: Any, key: str) -> Any:
    return client.post("/orders", json=body, headers={"Idempotency-Key": f'"{key}"'})


def test_an_order_is_one_read_and_one_write(
    client: FlaskClient, product: str, sessions: sessionmaker[Session], statements: list[str]
) -> None:
    other = add_product(sessions, price=800)
    statements.clear()

    response = post(client, order_body([(product, 2), (other, 1)]), str(uuid.uuid4()))

    assert response.status_code == 202
    # The prices, then everything the order writes: no ORM flush, no BEGIN and COMMIT. The
    # tests' publisher sends the message before the request returns, and marks it sent.
    assert [s.split()[0] for s in statements[:2]] == ["SELECT", "WITH"]
    assert all(s.startswith("UPDATE outbox SET done_at") for s in statements[2:])
    order_id = uuid.UUID(response.get_json()["order_id"])
    with sessions() as session:
        order = session.get(Order, order_id)
        assert order is not None
        assert order.subtotal == 2 * PRODUCT_PRICE + 800
        assert [(line.line_no, line.quantity) for line in order.lines] == [(1, 2), (2, 1)]
        kinds = session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order_id))
        assert list(kinds) == ["received"]
        message = session.scalars(select(Outbox).where(Outbox.message_key == str(order_id))).one()
        assert message.payload["type"] == ORDER_PLACED
        assert message.topic == "orders"


def test_a_held_key_writes_nothing_and_replays(
    client: FlaskClient, product: str, sessions: sessionmaker[Session]
) -> None:
    key, email = str(uuid.uuid4()), f"{uuid.uuid4().hex}@example.com"
    body = order_body([(product, 1)], customer={"email": email, "name": "Twice"})

    first, second = post(client, body, key), post(client, body, key)

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    with sessions() as session:
        orders = session.scalar(select(func.count()).where(Order.customer_email == email))
        assert orders == 1


def test_the_stored_answer_keeps_no_token_and_a_replay_derives_the_same_one(
    client: FlaskClient, product: str, sessions: sessionmaker[Session]
) -> None:
    key, body = str(uuid.uuid4()), order_body([(product, 1)])

    first, again = post(client, body, key), post(client, body, key)

    token = first.get_json()["order_token"]
    assert again.get_json()["order_token"] == token
    with sessions() as session:
        stored = stored_key(session, key)
        assert stored is not None
        assert token not in json.dumps(stored.response_body)
        assert "order_token" not in stored.response_body
    opened = client.get(
        f"/orders/{first.get_json()['order_id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert opened.status_code == 200


def test_an_expired_key_is_claimed_afresh(
    client: FlaskClient, product: str, sessions: sessionmaker[Session]
) -> None:
    key = str(uuid.uuid4())
    body = order_body([(product, 1)])
    first = post(client, body, key)
    with sessions.begin() as session:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == key)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    # The same request under the expired key is a new order, not a replay.
    second = post(client, body, key)

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.get_json()["order_id"] != first.get_json()["order_id"]
    assert "Idempotent-Replayed" not in second.headers
    with sessions() as session:
        stored = stored_key(session, key)
        assert stored is not None
        assert stored.expires_at > utcnow()
        assert stored.response_body["order_id"] == second.get_json()["order_id"]


def test_a_replay_answers_as_the_first_request_did_after_the_catalogue_changed(
    client: FlaskClient, product: str, sessions: sessionmaker[Session]
) -> None:
    key, body = str(uuid.uuid4()), order_body([(product, 1)])
    first = post(client, body, key)
    with sessions.begin() as session:
        session.execute(
            update(Product).where(Product.article_number == product).values(currency="SEK")
        )

    again = post(client, body, key)
    fresh = post(client, body, str(uuid.uuid4()))

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json() == first.get_json()
    assert fresh.status_code == 422


def test_an_order_that_cannot_be_priced_leaves_no_row(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    key = str(uuid.uuid4())

    response = post(client, order_body([("NO-SUCH-ARTICLE", 1)]), key)

    assert response.status_code == 422
    with sessions() as session:
        assert stored_key(session, key) is None
        lines = select(func.count()).where(OrderLine.article_number == "NO-SUCH-ARTICLE")
        assert session.scalar(lines) == 0
