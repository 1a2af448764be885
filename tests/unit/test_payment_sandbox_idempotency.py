"""The payment sandbox runs a request once per idempotency key, through faults, stalls, resets."""

from __future__ import annotations

import threading
import time

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from devstack.paysandbox import create_sandbox_app
from tests.unit.sandbox_support import (
    by_order,
    charge_form,
    ledger,
    new_key,
    post,
    sandbox_client,
    search,
)


@pytest.fixture
def client() -> FlaskClient:
    return sandbox_client()


def test_the_same_key_and_parameters_replay_the_first_answer_exactly(client: FlaskClient) -> None:
    key = new_key()
    first = post(client, "/v1/payment_intents", charge_form(), key)

    second = post(client, "/v1/payment_intents", charge_form(), key)

    assert (second.status_code, second.data) == (first.status_code, first.data)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(ledger(client)) == 1


def test_a_replayed_decline_is_the_same_decline(client: FlaskClient) -> None:
    key, form = new_key(), charge_form(payment_method="pm_card_chargeDeclined")
    first = post(client, "/v1/payment_intents", form, key)

    second = post(client, "/v1/payment_intents", form, key)

    assert (second.status_code, second.data) == (402, first.data)


def test_the_same_key_with_other_parameters_is_an_idempotency_error(client: FlaskClient) -> None:
    key = new_key()
    post(client, "/v1/payment_intents", charge_form(), key)

    response = post(client, "/v1/payment_intents", charge_form(amount="2600"), key)

    assert response.status_code == 400
    assert response.get_json()["error"]["type"] == "idempotency_error"
    assert len(ledger(client)) == 1


def test_idempotency_keys_belong_to_one_api_key(client: FlaskClient) -> None:
    key = new_key()
    post(client, "/v1/payment_intents", charge_form(), key)

    other = post(client, "/v1/payment_intents", charge_form(), key, api_key="sk_test_other")

    assert other.status_code == 200
    assert "Idempotent-Replayed" not in other.headers
    assert len(ledger(client)) == 2


def test_a_key_held_by_a_running_request_is_answered_409_in_use() -> None:
    app = create_sandbox_app(latency=0.3)
    key, answers = new_key(), []
    first = threading.Thread(
        target=lambda: answers.append(
            post(app.test_client(), "/v1/payment_intents", charge_form(), key)
        )
    )
    first.start()
    time.sleep(0.1)

    second = post(app.test_client(), "/v1/payment_intents", charge_form(), key)
    first.join()

    error = second.get_json()["error"]
    assert second.status_code == 409
    assert (error["type"], error["code"]) == ("invalid_request_error", "idempotency_key_in_use")
    assert answers[0].status_code == 200
    assert len(ledger(app.test_client())) == 1


def test_a_500_fault_charges_nothing_and_leaves_the_key_free_for_a_retry(
    client: FlaskClient,
) -> None:
    key = new_key()
    client.post("/_sandbox/faults", json={"failure_rate": 1.0})
    failed = post(client, "/v1/payment_intents", charge_form(), key)
    client.post("/_sandbox/faults", json={"failure_rate": 0.0})

    retried = post(client, "/v1/payment_intents", charge_form(), key)

    assert failed.status_code == 500
    assert failed.get_json()["error"]["type"] == "api_error"
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried.headers
    assert len(ledger(client)) == 1


def test_a_stalled_charge_is_stored_before_the_stall_so_a_retry_gets_it() -> None:
    app = create_sandbox_app(timeout_after_charge_rate=1.0, stall_seconds=0.5)
    key, stalled = new_key(), []
    thread = threading.Thread(
        target=lambda: stalled.append(
            post(app.test_client(), "/v1/payment_intents", charge_form(), key)
        )
    )
    thread.start()
    time.sleep(0.2)

    retry = post(app.test_client(), "/v1/payment_intents", charge_form(), key)
    thread.join()

    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.data == stalled[0].data
    assert len(ledger(app.test_client())) == 1


def test_a_stalled_charge_is_found_by_search_while_its_answer_is_still_missing() -> None:
    app = create_sandbox_app(timeout_after_charge_rate=1.0, stall_seconds=0.5)
    stalled: list[TestResponse] = []
    thread = threading.Thread(
        target=lambda: stalled.append(
            post(app.test_client(), "/v1/payment_intents", charge_form(), new_key())
        )
    )
    thread.start()
    time.sleep(0.2)

    found = search(app.test_client(), by_order("ord_1")).get_json()["data"]
    answer_still_missing = thread.is_alive()
    thread.join()

    assert answer_still_missing
    assert [intent["id"] for intent in found] == [stalled[0].get_json()["id"]]
    assert found[0]["status"] == "succeeded"


def test_search_suffers_latency_and_failures_but_never_the_stall_after_a_charge() -> None:
    app = create_sandbox_app(latency=0.2, timeout_after_charge_rate=1.0, stall_seconds=5)
    client = app.test_client()

    started = time.perf_counter()
    slow = search(client, by_order("ord_1"))
    seconds = time.perf_counter() - started
    client.post("/_sandbox/faults", json={"failure_rate": 1.0, "latency": 0})
    failed = search(client, by_order("ord_1"))

    assert slow.status_code == 200
    assert 0.2 <= seconds < 1
    assert failed.status_code == 500
    assert failed.get_json()["error"]["type"] == "api_error"


def test_faults_can_be_read_back_and_nonsense_is_refused(client: FlaskClient) -> None:
    changed = client.post("/_sandbox/faults", json={"latency": 0.01, "stall_seconds": 1})
    nonsense = client.post("/_sandbox/faults", json={"chaos": 1})
    negative = client.post("/_sandbox/faults", json={"latency": -1})

    assert changed.get_json()["latency"] == 0.01
    assert changed.get_json()["stall_seconds"] == 1
    assert (nonsense.status_code, negative.status_code) == (400, 400)


def test_reset_forgets_charges_and_keys(client: FlaskClient) -> None:
    key = new_key()
    post(client, "/v1/payment_intents", charge_form(), key)

    client.post("/_sandbox/reset")
    again = post(client, "/v1/payment_intents", charge_form(), key)

    assert "Idempotent-Replayed" not in again.headers
    assert len(ledger(client)) == 1
    assert client.get("/_sandbox/health").status_code == 200
