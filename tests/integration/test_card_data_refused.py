"""Card data sent to POST /orders is refused by field and never answered, logged or stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from intake.problems import register_problem_handlers
from models.tables.orders import Order
from tests.factories import order_body, stored_key

pytest_plugins = ["tests.log_capture"]

CARD = "4242 4242 4242 4242"
OTHER_CARD = "5555-5555-5555-4444"
# Every way the numbers were or could have been written down.
FORMS = (CARD, CARD.replace(" ", ""), OTHER_CARD, OTHER_CARD.replace("-", ""))
REASON = "looks like a card number: send a payment method token (pm_...) instead"


def guest(email: str) -> dict[str, str]:
    return {"email": email, "name": "Ada Lovelace"}


def post(client: FlaskClient, body: Any, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": f'"{key}"'} if key else {}
    return client.post("/orders", json=body, headers=headers)


def orders_for(sessions: sessionmaker[Session], email: str) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).where(Order.customer_email == email)) or 0


def leaks(lines: list[str]) -> list[str]:
    return [line for line in lines if any(form in line for form in FORMS)]


def key_is_stored(sessions: sessionmaker[Session], key: str) -> bool:
    with sessions() as session:
        return stored_key(session, key) is not None


def with_address_line2(body: dict[str, Any]) -> None:
    body["shipping_address"]["line2"] = f"c/o {CARD}"


def with_name(body: dict[str, Any]) -> None:
    body["customer"]["name"] = f"Ada {CARD}"


def with_payment_method(body: dict[str, Any]) -> None:
    body["payment_method"] = CARD


def with_unknown_field(body: dict[str, Any]) -> None:
    body["card"] = {"number": OTHER_CARD, "cvc": "123"}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (with_address_line2, "shipping_address.line2"),
        (with_name, "customer.name"),
        (with_payment_method, "payment_method"),
        (with_unknown_field, "card.number"),
    ],
)
def test_a_card_number_anywhere_is_refused_naming_the_field_and_stores_nothing(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    product: str,
    log_lines: list[str],
    mutate: Callable[[dict[str, Any]], None],
    field: str,
) -> None:
    email = f"{uuid.uuid4().hex}@example.com"
    body = order_body([(product, 1)], customer=guest(email))
    mutate(body)

    response = post(client, body, key=str(uuid.uuid4()))

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == [{"field": field, "reason": REASON}]
    assert not leaks([response.get_data(as_text=True)])
    assert not leaks(log_lines)
    assert orders_for(sessions, email) == 0


def test_a_long_number_that_is_not_a_card_number_is_accepted(
    client: FlaskClient, sessions: sessionmaker[Session], product: str
) -> None:
    email = f"{uuid.uuid4().hex}@example.com"
    body = order_body([(product, 1)], customer=guest(email))
    body["shipping_address"]["line2"] = "Delivery ref 4242 4242 4242 4241, call +1 212-555-0100"

    assert post(client, body).status_code == 202
    assert orders_for(sessions, email) == 1


def test_a_refused_body_repeated_under_one_key_stores_nothing_and_frees_the_key(
    client: FlaskClient, sessions: sessionmaker[Session], product: str
) -> None:
    key = str(uuid.uuid4())
    email = f"{uuid.uuid4().hex}@example.com"
    clean = order_body([(product, 1)], customer=guest(email))
    carded = order_body([(product, 1)], customer=guest(email), payment_method=CARD)

    first = post(client, carded, key)
    second = post(client, carded, key)

    assert first.status_code == second.status_code == 422
    assert "Idempotent-Replayed" not in second.headers
    assert not key_is_stored(sessions, key)
    assert orders_for(sessions, email) == 0
    accepted = post(client, clean, key)
    assert accepted.status_code == 202
    assert "Idempotent-Replayed" not in accepted.headers
    assert orders_for(sessions, email) == 1


def test_an_unexpected_error_quoting_a_card_number_is_logged_without_its_message(
    log_lines: list[str],
) -> None:
    app = Flask(__name__)
    register_problem_handlers(app)

    @app.post("/boom")
    def boom() -> str:
        raise RuntimeError(f"could not handle {CARD}")

    response = app.test_client().post("/boom")

    assert response.status_code == 503
    logged = [line for line in log_lines if "unhandled error" in line]
    assert logged
    assert "RuntimeError" in logged[0]
    assert "[withheld]" in logged[0]
    assert not leaks(log_lines)
