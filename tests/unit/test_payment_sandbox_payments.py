"""The payment sandbox charges, declines and refunds like Stripe; the fake gateway keeps faith."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.unit.sandbox_support import API_KEY, charge_form, ledger, new_key, post, sandbox_client
from workers.adapters.payments import (
    ChargeResult,
    FakeGateway,
    PaymentRejected,
    PaymentUnavailable,
)


@pytest.fixture
def client() -> FlaskClient:
    return sandbox_client()


def test_a_confirmed_visa_payment_succeeds_and_is_charged_once(client: FlaskClient) -> None:
    response = post(client, "/v1/payment_intents", charge_form(), new_key())

    intent = response.get_json()
    assert response.status_code == 200
    assert intent["id"].startswith("pi_")
    assert intent["latest_charge"].startswith("ch_")
    assert (intent["object"], intent["status"]) == ("payment_intent", "succeeded")
    assert (intent["amount"], intent["amount_received"], intent["currency"]) == (2500, 2500, "usd")
    assert intent["metadata"] == {"order_id": "ord_1"}
    [entry] = ledger(client)
    assert (entry["payment_intent"], entry["amount"], entry["refunded"]) == (intent["id"], 2500, 0)


@pytest.mark.parametrize(
    ("method", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedProcessingError", "processing_error", None),
    ],
)
def test_each_declining_test_card_gives_its_stripe_error_and_charges_nothing(
    client: FlaskClient, method: str, code: str, decline_code: str | None
) -> None:
    response = post(client, "/v1/payment_intents", charge_form(payment_method=method), new_key())

    error = response.get_json()["error"]
    assert response.status_code == 402
    assert (error["type"], error["code"], error.get("decline_code")) == (
        "card_error",
        code,
        decline_code,
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert ledger(client) == []


def test_an_unknown_payment_method_is_a_missing_resource(client: FlaskClient) -> None:
    response = post(client, "/v1/payment_intents", charge_form(payment_method="pm_nope"))

    error = response.get_json()["error"]
    assert response.status_code == 400
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "resource_missing",
        "payment_method",
    )


def test_a_missing_amount_is_refused_with_the_parameter_named(client: FlaskClient) -> None:
    form = charge_form()
    del form["amount"]

    response = post(client, "/v1/payment_intents", form)

    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "amount"


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer pk_live_nope", "Basic abc"])
def test_a_request_without_a_valid_secret_key_is_unauthorized(
    client: FlaskClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = client.post("/v1/payment_intents", data=charge_form(), headers=headers)

    assert response.status_code == 401
    assert response.get_json()["error"]["type"] == "invalid_request_error"
    assert ledger(client) == []


def test_a_charge_can_be_retrieved_by_id_and_an_unknown_id_is_404(client: FlaskClient) -> None:
    intent = post(client, "/v1/payment_intents", charge_form()).get_json()
    headers = {"Authorization": f"Bearer {API_KEY}"}

    found = client.get(f"/v1/payment_intents/{intent['id']}", headers=headers)
    missing = client.get("/v1/payment_intents/pi_missing", headers=headers)

    assert found.get_json() == intent
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "resource_missing"


def test_a_partial_refund_then_the_rest_then_one_more_is_already_refunded(
    client: FlaskClient,
) -> None:
    intent = post(client, "/v1/payment_intents", charge_form()).get_json()
    refund = {"payment_intent": intent["id"]}

    part = post(client, "/v1/refunds", {**refund, "amount": "1000"}, new_key())
    rest = post(client, "/v1/refunds", refund, new_key())
    again = post(client, "/v1/refunds", refund, new_key())

    assert (part.get_json()["amount"], rest.get_json()["amount"]) == (1000, 1500)
    assert part.get_json()["object"] == "refund"
    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == "charge_already_refunded"
    [entry] = ledger(client)
    assert entry["refunded"] == 2500
    assert len(entry["refunds"]) == 2


def test_refunding_more_than_was_charged_is_refused(client: FlaskClient) -> None:
    intent = post(client, "/v1/payment_intents", charge_form()).get_json()

    response = post(client, "/v1/refunds", {"payment_intent": intent["id"], "amount": "9999"})

    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "amount"
    assert ledger(client)[0]["refunded"] == 0


def test_an_unknown_url_answers_in_stripes_error_shape(client: FlaskClient) -> None:
    response = client.get("/v1/charges_of_the_light_brigade")

    assert response.status_code == 404
    assert response.get_json()["error"]["type"] == "invalid_request_error"


def fake_charge(gateway: FakeGateway, key: str, method: str = "pm_card_visa") -> ChargeResult:
    return gateway.charge(
        idempotency_key=key, amount=100, currency="USD", payment_method=method, order_id="ord_fake"
    )


def test_the_fake_gateway_charges_once_per_key_and_declines_declined_cards() -> None:
    gateway = FakeGateway()

    first = fake_charge(gateway, "k1")
    again = fake_charge(gateway, "k1")
    broke = fake_charge(gateway, "k2", "pm_card_chargeDeclinedInsufficientFunds")

    assert first == again
    assert first.status == "succeeded"
    assert (broke.status, broke.failure_code) == ("declined", "insufficient_funds")
    assert len(gateway.charges) == 1


def test_the_fake_gateway_can_be_unavailable_and_refunds_once_per_key() -> None:
    gateway = FakeGateway(unavailable_times=1)
    with pytest.raises(PaymentUnavailable):
        fake_charge(gateway, "k1")
    intent_id = fake_charge(gateway, "k1").gateway_id
    assert intent_id is not None

    first = gateway.refund(idempotency_key="r1", payment_intent_id=intent_id)
    again = gateway.refund(idempotency_key="r1", payment_intent_id=intent_id)

    assert first == again
    assert len(gateway.refunds) == 1
    with pytest.raises(PaymentRejected):
        gateway.refund(idempotency_key="r2", payment_intent_id="pi_unknown")
