"""The payment sandbox charges, declines and refunds like Stripe; the fake gateway keeps faith."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from models.ports import ChargeResult, PaymentRejected, PaymentUnavailable
from tests.unit.sandbox_support import (
    API_KEY,
    by_order,
    charge_form,
    ledger,
    new_key,
    post,
    sandbox_client,
    search,
)
from workers.adapters.fakes import FakeGateway


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


def test_search_by_order_finds_its_charge_and_its_decline_newest_first(
    client: FlaskClient,
) -> None:
    declined = post(
        client, "/v1/payment_intents", charge_form(payment_method="pm_card_chargeDeclined")
    )
    charged = post(client, "/v1/payment_intents", charge_form()).get_json()
    post(client, "/v1/payment_intents", charge_form(**{"metadata[order_id]": "ord_other"}))

    response = search(client, by_order("ord_1"))

    body = response.get_json()
    assert response.status_code == 200
    assert {k: body[k] for k in ("object", "url", "has_more", "next_page")} == {
        "object": "search_result",
        "url": "/v1/payment_intents/search",
        "has_more": False,
        "next_page": None,
    }
    assert [intent["id"] for intent in body["data"]] == [
        charged["id"],
        declined.get_json()["error"]["payment_intent"]["id"],
    ]
    refused = body["data"][1]
    assert refused["status"] == "requires_payment_method"
    assert refused["last_payment_error"]["decline_code"] == "generic_decline"


def test_search_accepts_double_quotes_and_finds_nothing_for_an_unknown_order(
    client: FlaskClient,
) -> None:
    charged = post(client, "/v1/payment_intents", charge_form()).get_json()

    quoted = search(client, 'metadata["order_id"]:"ord_1"').get_json()
    unknown = search(client, by_order("ord_never_seen")).get_json()

    assert [intent["id"] for intent in quoted["data"]] == [charged["id"]]
    assert unknown["data"] == []


@pytest.mark.parametrize("query", ["", "status:'succeeded'", "metadata['order_id']:ord_1"])
def test_a_search_the_sandbox_cannot_answer_is_refused_naming_the_query(
    client: FlaskClient, query: str
) -> None:
    response = search(client, query)

    error = response.get_json()["error"]
    assert response.status_code == 400
    assert (error["type"], error["param"]) == ("invalid_request_error", "query")


def test_search_needs_a_secret_key_and_is_logged_like_any_request(client: FlaskClient) -> None:
    anonymous = client.get("/v1/payment_intents/search", query_string={"query": by_order("x")})
    search(client, by_order("x"))

    logged = client.get("/_sandbox/requests").get_json()
    assert anonymous.status_code == 401
    assert [(e["method"], e["path"], e["status"]) for e in logged] == [
        ("GET", "/v1/payment_intents/search", 401),
        ("GET", "/v1/payment_intents/search", 200),
    ]


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


def fake_charge(
    gateway: FakeGateway, key: str, method: str = "pm_card_visa", order_id: str = "ord_fake"
) -> ChargeResult:
    return gateway.charge(
        idempotency_key=key, amount=100, currency="USD", payment_method=method, order_id=order_id
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


def test_the_fake_gateway_finds_a_success_over_declines_and_nothing_for_an_unknown_order() -> None:
    gateway = FakeGateway()
    fake_charge(gateway, "k1", "pm_card_chargeDeclined", order_id="ord_a")
    paid = fake_charge(gateway, "k2", order_id="ord_a")
    fake_charge(gateway, "k3", "pm_card_chargeDeclined", order_id="ord_b")
    newest = fake_charge(gateway, "k4", "pm_card_chargeDeclinedInsufficientFunds", order_id="ord_b")

    assert gateway.find_charge(order_id="ord_a") == paid
    assert gateway.find_charge(order_id="ord_b") == newest
    assert newest.failure_code == "insufficient_funds"
    assert gateway.find_charge(order_id="ord_unknown") is None
