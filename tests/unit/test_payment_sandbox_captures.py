"""The payment sandbox authorises and captures in Stripe's shapes and refusals."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from devstack.paysandbox import create_sandbox_app
from tests.unit.sandbox_support import API_KEY, charge_form, ledger, new_key, post

WEEK = 7 * 24 * 3600
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def client() -> FlaskClient:
    return create_sandbox_app(seed=7).test_client()


def authorize(client: FlaskClient, **form: str) -> dict[str, Any]:
    manual = charge_form(capture_method="manual", **form)
    intent: dict[str, Any] = post(client, "/v1/payment_intents", manual, new_key()).get_json()
    return intent


def test_a_manual_capture_payment_is_held_not_taken(client: FlaskClient) -> None:
    intent = authorize(client, **{"expand[0]": "latest_charge"})

    assert (intent["status"], intent["capture_method"]) == ("requires_capture", "manual")
    assert (intent["amount_capturable"], intent["amount_received"]) == (2500, 0)
    held = intent["latest_charge"]
    assert (held["object"], held["captured"], held["amount_captured"]) == ("charge", False, 0)
    assert held["payment_intent"] == intent["id"]
    capture_before = held["payment_method_details"]["card"]["capture_before"]
    assert abs(capture_before - (time.time() + WEEK)) < 5
    assert ledger(client) == []


def test_the_charge_is_expanded_only_when_asked(client: FlaskClient) -> None:
    intent = authorize(client)
    path = f"/v1/payment_intents/{intent['id']}"

    plain = client.get(path, headers=AUTH).get_json()
    expanded = client.get(path, query_string={"expand[0]": "latest_charge"}, headers=AUTH)

    assert isinstance(intent["latest_charge"], str)
    assert plain["latest_charge"] == intent["latest_charge"]
    assert expanded.get_json()["latest_charge"]["id"] == intent["latest_charge"]


def test_a_partial_capture_ledgers_only_the_captured_amount(client: FlaskClient) -> None:
    intent = authorize(client)
    key = new_key()

    done = post(
        client, f"/v1/payment_intents/{intent['id']}/capture", {"amount_to_capture": "900"}, key
    )
    again = post(
        client, f"/v1/payment_intents/{intent['id']}/capture", {"amount_to_capture": "900"}, key
    )

    assert done.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    captured = done.get_json()
    assert (captured["status"], captured["amount_received"], captured["amount_capturable"]) == (
        "succeeded",
        900,
        0,
    )
    [entry] = ledger(client)
    assert (entry["amount"], entry["idempotency_key"]) == (900, key)


def test_capturing_more_than_is_capturable_is_refused(client: FlaskClient) -> None:
    intent = authorize(client)

    response = post(
        client, f"/v1/payment_intents/{intent['id']}/capture", {"amount_to_capture": "2501"}
    )

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["param"]) == ("amount_too_large", "amount_to_capture")
    assert ledger(client) == []


def test_a_voided_authorisation_cannot_be_captured(client: FlaskClient) -> None:
    intent = authorize(client)

    voided = post(client, f"/v1/payment_intents/{intent['id']}/cancel", {})
    response = post(client, f"/v1/payment_intents/{intent['id']}/capture", {})

    assert voided.get_json()["cancellation_reason"] == "requested_by_customer"
    assert voided.get_json()["amount_capturable"] == 0
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "payment_intent_unexpected_state"
    assert "has a status of canceled" in error["message"]
    assert error["payment_intent"]["status"] == "canceled"


def test_a_captured_payment_cannot_be_cancelled(client: FlaskClient) -> None:
    intent = authorize(client)
    post(client, f"/v1/payment_intents/{intent['id']}/capture", {})

    response = post(client, f"/v1/payment_intents/{intent['id']}/cancel", {})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "payment_intent_unexpected_state"


def test_an_authorisation_lapses_after_its_seconds() -> None:
    client = create_sandbox_app(seed=7, authorization_seconds=0.3).test_client()
    intent = authorize(client)
    time.sleep(0.4)

    [lapsed] = client.get("/_sandbox/intents").get_json()

    assert lapsed["id"] == intent["id"]
    assert (lapsed["status"], lapsed["cancellation_reason"]) == ("canceled", "automatic")
    assert lapsed["amount_capturable"] == 0


def test_the_authorisation_seconds_change_at_runtime(client: FlaskClient) -> None:
    changed = client.post("/_sandbox/faults", json={"authorization_seconds": 60})
    intent = authorize(client, **{"expand[0]": "latest_charge"})

    assert changed.get_json()["authorization_seconds"] == 60
    capture_before = intent["latest_charge"]["payment_method_details"]["card"]["capture_before"]
    assert abs(capture_before - (time.time() + 60)) < 2


def test_an_unknown_capture_method_is_refused(client: FlaskClient) -> None:
    response = post(client, "/v1/payment_intents", charge_form(capture_method="later"))

    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "capture_method"
