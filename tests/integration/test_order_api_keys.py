"""Idempotency-Key per client, and the tokens a customer shows: keys of two clients never meet,
a key is required and parsed as a structured-field string, and forged or stale tokens open
nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from intake.auth import CUSTOMER, decode, expires_at
from models.domain.clock import utcnow
from models.store.revocations import revoke
from settings import Settings
from tests.factories import order_body
from tests.integration.order_api_support import account_token, bearer, place


def keyed(key: str, token: str | None = None) -> dict[str, str]:
    return {"Idempotency-Key": f'"{key}"', **(bearer(token) if token else {})}


def test_one_key_from_two_customers_makes_two_orders(
    client: FlaskClient, settings: Settings, product: str
) -> None:
    key, body = str(uuid.uuid4()), order_body([(product, 1)])
    first = client.post("/orders", json=body, headers=keyed(key, account_token(settings, CUSTOMER)))
    other = client.post("/orders", json=body, headers=keyed(key, account_token(settings, CUSTOMER)))

    assert (first.status_code, other.status_code) == (202, 202)
    assert first.get_json()["order_id"] != other.get_json()["order_id"]
    assert "Idempotent-Replayed" not in other.headers


def test_a_customers_key_replays_their_order_and_refuses_another_body(
    client: FlaskClient, settings: Settings, product: str
) -> None:
    key, token = str(uuid.uuid4()), account_token(settings, CUSTOMER)
    body = order_body([(product, 1)])
    first = client.post("/orders", json=body, headers=keyed(key, token))
    again = client.post("/orders", json=body, headers=keyed(key, token))
    changed = client.post("/orders", json=order_body([(product, 2)]), headers=keyed(key, token))

    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert changed.status_code == 422
    assert changed.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_an_order_placed_with_a_customer_token_belongs_to_its_subject(
    client: FlaskClient, settings: Settings, product: str
) -> None:
    token = account_token(settings, CUSTOMER, subject=f"ada-{uuid.uuid4().hex[:8]}")
    placed = place(client, product, token)

    mine = client.get(f"/orders/{placed.order_id}", headers=bearer(token))
    with_its_token = client.get(f"/orders/{placed.order_id}", headers=bearer(placed.order_token))

    assert mine.status_code == 200
    assert with_its_token.status_code == 200  # the token in the answer opens it too
    staff_token = account_token(settings, "staff:read")
    refused = client.post("/orders", json=order_body([(product, 1)]), headers=bearer(staff_token))
    assert refused.status_code == 403  # only customer accounts own orders


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "required"),
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "structured-field string"),
        ('"unterminated', "structured-field string"),
        ('"a";param=1', "structured-field string"),
        ("?1", "structured-field string"),
        ('""', "1 to 255"),
        ('"' + "k" * 256 + '"', "1 to 255"),
        ('"caf\u00e9"', "structured-field string"),
    ],
)
def test_a_missing_or_malformed_key_is_a_400_naming_the_header(
    app: Flask, product: str, header: str | None, reason: str
) -> None:
    headers = {} if header is None else {"Idempotency-Key": header}
    # The plain client: it adds no key of its own.
    response = FlaskClient(app).post("/orders", json=order_body([(product, 1)]), headers=headers)

    assert response.status_code == 400
    [error] = response.get_json()["errors"]
    assert error["field"] == "Idempotency-Key"
    assert reason in error["reason"]


def test_escapes_in_the_key_are_read_as_structured_fields_define_them(
    client: FlaskClient, product: str
) -> None:
    body = order_body([(product, 1)])
    first = client.post("/orders", json=body, headers={"Idempotency-Key": r'"a\"b\\c-1"'})
    again = client.post("/orders", json=body, headers={"Idempotency-Key": r'"a\"b\\c-1"'})

    assert first.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"


def forged(settings: Settings, **changes: Any) -> str:
    now = utcnow()
    claims = {
        "sub": "customer-c",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": "fulfillment",
        "aud": "fulfillment-api",
        "jti": uuid.uuid4().hex,
        "roles": [CUSTOMER],
        **changes,
    }
    secret = settings.admin_jwt_secret.get_secret_value()
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, "HS256")


def attacks(settings: Settings) -> dict[str, str]:
    head, _, signature = forged(settings).split(".")
    edited = forged(settings, sub="customer-d").split(".")[1]
    now = utcnow()
    return {
        "none": jwt.encode({"sub": "customer-c", "roles": [CUSTOMER]}, "", algorithm="none"),
        "wrong key": jwt.encode(
            {"sub": "customer-c"}, "another-secret-at-least-32-bytes-long", "HS256"
        ),
        "expired": forged(settings, iat=now - timedelta(hours=2), exp=now - timedelta(hours=1)),
        "wrong audience": forged(settings, aud="another-api"),
        "edited claims": ".".join([head, edited, signature]),
        "over-long": forged(settings, exp=now + timedelta(days=3650)),
        "no jti": forged(settings, jti=None),
    }


def test_forged_and_stale_customer_tokens_open_nothing(
    client: FlaskClient, settings: Settings, product: str, sessions: sessionmaker[Session]
) -> None:
    real = account_token(settings, CUSTOMER, subject="customer-c")
    placed = place(client, product, real)
    revoked = account_token(settings, CUSTOMER, subject="customer-c")
    claims = decode(settings, revoked)
    with sessions.begin() as session:
        revoke(session, claims["jti"], subject="customer-c", expires_at=expires_at(claims), by="t")

    for name, token in {**attacks(settings), "revoked": revoked}.items():
        for route in (f"/orders/{placed.order_id}", "/orders"):
            refused = client.get(route, headers=bearer(token))
            assert refused.status_code == 401, (name, route)
            assert refused.headers["WWW-Authenticate"].startswith("Bearer"), name
        placing = client.post("/orders", json=order_body([(product, 1)]), headers=bearer(token))
        assert placing.status_code == 401, name
