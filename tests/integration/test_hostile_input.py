"""Hostile input gets a 4xx problem document naming field and reason: never a 5xx, never PII
in a log line."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError

from bootstrap import Context
from intake import orders as orders_module
from intake.signatures import sign
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.integration.tracking_support import shipments, shipped_order

pytest_plugins = ["tests.admin_fixtures", "tests.log_capture"]

PII = "hostile.customer@example.com"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def with_nul(body: dict[str, Any]) -> dict[str, Any]:
    body["customer"]["name"] = "Ada\u0000Lovelace"
    return body


def assert_problem(response: Any, status_range: range = range(400, 500)) -> dict[str, Any]:
    assert response.status_code in status_range, (response.status_code, response.data[:300])
    assert response.content_type == "application/problem+json"
    problem: dict[str, Any] = response.get_json()
    return problem


def fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


def test_a_nul_byte_anywhere_in_an_order_is_a_422_naming_the_field(
    client: FlaskClient, product: str
) -> None:
    cases = [
        (with_nul(order_body([(product, 1)])), "customer.name"),
        ({**order_body([(product, 1)]), "payment_method": "pm_\u0000x"}, "payment_method"),
        ({"\u0000": 1}, "body"),
    ]
    for body, field in cases:
        key = {"Idempotency-Key": f'"{uuid.uuid4()}"'}
        problem = assert_problem(client.post("/orders", json=body, headers=key))
        assert field in fields(problem)


def test_json_nested_a_thousand_deep_is_a_400(client: FlaskClient) -> None:
    for depth in (33, 100, 1_000, 20_000):
        response = client.post(
            "/orders", data=nested(depth), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, depth
        assert fields(assert_problem(response)) == ["body"]
    within = client.post("/orders", data=nested(32), headers={"Content-Type": "application/json"})
    assert assert_problem(within).get("title") == "Invalid request"  # a list, not an order


def test_a_nul_byte_in_an_admin_body_or_query_is_a_4xx(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    body = {"code": "NUL\u0000", "name": "x", "country": "US", "latitude": 1, "longitude": 1}
    created = client.post("/admin/warehouses", json=body, headers=admin_headers)
    listed = client.get("/admin/warehouses?code=%00", headers=admin_headers)
    read = client.get("/admin/products/49%00", headers=admin_headers)

    for response in (created, listed, read):
        assert_problem(response)


def test_a_carrier_signature_that_is_not_ascii_is_a_401(
    client: FlaskClient, settings: Settings
) -> None:
    body = json.dumps({"id": "evt_1", "type": "shipment.delivered"}).encode()
    good = sign(settings.carrier_webhook_secret.get_secret_value(), body, int(time.time()))
    for header in ("t=1,v1=\u00e9\u00e9", good + "\u00ff", "t=\u00e9"):
        response = client.post(
            "/webhooks/carrier",
            data=body,
            headers={"Carrier-Signature": header, "Content-Type": "application/json"},
        )
        assert fields(assert_problem(response, range(401, 402))) == ["Carrier-Signature"]


def test_a_nul_in_a_cancel_reason_a_stock_file_or_a_carrier_event_id_is_a_422(
    client: FlaskClient, context: Context, settings: Settings, admin_headers: dict[str, str]
) -> None:
    # Each was a 503: these bodies are not read by intake.bodies, and PostgreSQL refuses NUL.
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 5})
    order_id = shipped_order(client, context, [(lamp, 1)])
    (parcel,) = shipments(context.sessions, order_id)
    placed = client.post("/orders", json=order_body([(lamp, 1)])).get_json()["order_id"]
    event = {
        "id": "evt\u0000",
        "type": "shipment.delivered",
        "tracking_number": parcel.tracking_number,
        "occurred_at": "2026-11-21T12:00:00+00:00",
    }
    body = json.dumps(event).encode()
    signature = sign(settings.carrier_webhook_secret.get_secret_value(), body, int(time.time()))

    cancelled = client.post(
        f"/admin/orders/{placed}/cancel", json={"reason": "a\u0000b"}, headers=admin_headers
    )
    imported = client.post(
        "/admin/stock/import",
        data=f"X\x00,{lamp},5\n".encode(),
        headers={**admin_headers, "Content-Type": "text/csv"},
    )
    received = client.post(
        "/webhooks/carrier",
        data=body,
        headers={"Carrier-Signature": signature, "Content-Type": "application/json"},
    )

    assert fields(assert_problem(cancelled, range(422, 423))) == ["reason"]
    assert fields(assert_problem(imported, range(422, 423))) == ["body"]
    assert fields(assert_problem(received, range(422, 423))) == ["id"]


def test_a_cancel_body_nested_too_deep_is_a_400(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        f"/admin/orders/{uuid.uuid4()}/cancel",
        data=nested(5_000),
        headers={**admin_headers, "Content-Type": "application/json"},
    )

    assert fields(assert_problem(response, range(400, 401))) == ["body"]


def test_numbers_past_what_the_database_or_int_can_take_are_4xx(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    # A shipment id past PostgreSQL's integer, and a digit int() refuses: both were a 503.
    label = client.get("/admin/shipments/19367052083977292611584/label.pdf", headers=admin_headers)
    movements = client.get(
        "/admin/stock/W-1/493.857.51/movements",
        query_string={"limit": "\u00b2"},
        headers=admin_headers,
    )

    assert_problem(label, range(404, 405))
    assert fields(assert_problem(movements, range(422, 423))) == ["limit"]


@pytest.mark.parametrize(
    "written", ["4242.4242.4242.4242", "4242/4242/4242/4242", "4242  4242  4242  4242"]
)
def test_a_card_number_with_any_separator_is_refused(client: FlaskClient, written: str) -> None:
    body = order_body([("493.857.51", 1)])
    body["shipping_address"]["line1"] = f"card {written}"

    response = client.post("/orders", json=body, headers={"Idempotency-Key": f'"{uuid.uuid4()}"'})

    assert "shipping_address.line1" in fields(assert_problem(response))


def test_a_card_number_as_the_idempotency_key_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/orders",
        json=order_body([("493.857.51", 1)]),
        headers={"Idempotency-Key": '"4242424242424242"'},
    )

    assert fields(assert_problem(response)) == ["Idempotency-Key"]


def test_an_unexpected_error_logs_no_customer_data(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, log_lines: list[str]
) -> None:
    def fails(*_: Any, **__: Any) -> bool:
        raise IntegrityError(
            "INSERT INTO order (customer_email) VALUES (%(customer_email)s)",
            {"customer_email": PII},
            Exception(f"duplicate key value: Key (customer_email)=({PII}) already exists"),
        )

    monkeypatch.setattr(orders_module, "place_order", fails)
    body = order_body([("493.857.51", 1)], customer={"email": PII, "name": "Hostile"})

    response = client.post("/orders", json=body, headers={"Idempotency-Key": f'"{uuid.uuid4()}"'})

    assert response.status_code == 503
    logged = "\n".join(log_lines)
    assert "IntegrityError" in logged
    assert PII not in logged


def test_responses_that_carry_a_token_are_never_cached(client: FlaskClient) -> None:
    response = client.post("/orders", json=order_body([("493.857.51", 1)]))

    assert response.headers["Cache-Control"] == "no-store"
