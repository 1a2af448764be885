"""The Stripe adapter, through the official SDK over real HTTP, against the payment sandbox."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from models.ports import PaymentRejected, PaymentUnavailable
from settings import Settings
from tests.integration.stripe_support import (
    API_KEY,
    charge,
    charges_under,
    gateway,
    new_key,
    requests_with,
    set_faults,
)
from workers.adapters.stripe import StripeGateway


def test_a_visa_charge_succeeds_with_the_order_in_its_metadata(sandbox: str) -> None:
    key = new_key()

    result = charge(gateway(sandbox), key)

    assert result.status == "succeeded"
    assert result.gateway_id is not None
    assert result.gateway_id.startswith("pi_")
    [entry] = charges_under(sandbox, key)
    assert (entry["payment_intent"], entry["amount"], entry["currency"]) == (
        result.gateway_id,
        4200,
        "usd",
    )
    assert entry["metadata"] == {"order_id": f"ord-{key}"}


@pytest.mark.parametrize(
    ("method", "failure_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_chargeDeclinedProcessingError", "processing_error"),
    ],
)
def test_a_declining_card_is_a_declined_result_not_an_error(
    sandbox: str, method: str, failure_code: str
) -> None:
    key = new_key()

    result = charge(gateway(sandbox), key, method=method)

    assert (result.status, result.failure_code) == ("declined", failure_code)
    assert result.gateway_id is not None
    assert result.failure_message
    assert charges_under(sandbox, key) == []
    assert len(requests_with(sandbox, key)) == 1


def test_charging_twice_with_one_key_charges_once_and_returns_the_same_intent(
    sandbox: str,
) -> None:
    key = new_key()

    first = charge(gateway(sandbox), key)
    second = charge(gateway(sandbox), key)

    assert first == second
    assert len(charges_under(sandbox, key)) == 1


def test_one_key_for_a_different_amount_is_rejected_and_charges_nothing_more(
    sandbox: str,
) -> None:
    key = new_key()
    charge(gateway(sandbox), key)

    with pytest.raises(PaymentRejected, match="same parameters"):
        charge(gateway(sandbox), key, amount=4300)

    assert len(charges_under(sandbox, key)) == 1


def test_an_unknown_payment_method_is_rejected(sandbox: str) -> None:
    with pytest.raises(PaymentRejected, match="No such PaymentMethod"):
        charge(gateway(sandbox), new_key(), method="pm_card_nonsense")


def test_a_wrong_api_key_is_rejected_without_retrying(sandbox: str) -> None:
    key = new_key()
    wrong = StripeGateway(api_key="sk_live_wrong", api_base=sandbox, timeout=5, attempts=3)

    with pytest.raises(PaymentRejected, match="Invalid API Key"):
        charge(wrong, key)

    assert len(requests_with(sandbox, key)) == 1


def test_a_failing_gateway_is_unavailable_after_every_attempt_and_charges_nothing(
    sandbox: str,
) -> None:
    key = new_key()
    set_faults(sandbox, failure_rate=1.0)

    with pytest.raises(PaymentUnavailable):
        charge(gateway(sandbox, attempts=3), key)
    set_faults(sandbox, failure_rate=0.0)
    later = charge(gateway(sandbox), key)

    statuses = [entry["status"] for entry in requests_with(sandbox, key)]
    assert statuses == [500, 500, 500, 200]
    assert later.status == "succeeded"
    assert len(charges_under(sandbox, key)) == 1


def test_a_charge_whose_answer_was_lost_is_found_again_under_its_key(sandbox: str) -> None:
    key = new_key()
    set_faults(sandbox, timeout_after_charge_rate=1.0, stall_seconds=2.0)

    with pytest.raises(PaymentUnavailable):
        charge(gateway(sandbox, timeout=0.5, attempts=1), key)
    [lost] = charges_under(sandbox, key)
    set_faults(sandbox, timeout_after_charge_rate=0.0)
    retried = charge(gateway(sandbox), key)

    assert retried.gateway_id == lost["payment_intent"]
    assert len(charges_under(sandbox, key)) == 1


def test_retrying_inside_one_call_recovers_a_charge_whose_answer_was_lost(sandbox: str) -> None:
    key = new_key()
    set_faults(sandbox, timeout_after_charge_rate=1.0, stall_seconds=2.0)

    result = charge(gateway(sandbox, timeout=0.5, attempts=3), key)

    [entry] = charges_under(sandbox, key)
    assert result.gateway_id == entry["payment_intent"]
    assert len(requests_with(sandbox, key)) == 2


def test_concurrent_charges_with_one_key_charge_once(sandbox: str) -> None:
    key, shared = new_key(), gateway(sandbox, attempts=5)
    set_faults(sandbox, latency=0.3)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: charge(shared, key), range(4)))

    assert len({result.gateway_id for result in results}) == 1
    assert {result.status for result in results} == {"succeeded"}
    assert len(charges_under(sandbox, key)) == 1
    assert 409 in {entry["status"] for entry in requests_with(sandbox, key)}


def test_a_refund_sent_twice_with_one_key_refunds_once(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    intent_id = charge(payments, key).gateway_id
    assert intent_id is not None

    first = payments.refund(idempotency_key=f"refund-{key}", payment_intent_id=intent_id)
    second = payments.refund(idempotency_key=f"refund-{key}", payment_intent_id=intent_id)

    assert first == second
    assert first.startswith("re_")
    [entry] = charges_under(sandbox, key)
    assert entry["refunded"] == 4200
    assert [refund["id"] for refund in entry["refunds"]] == [first]


def test_refunding_what_is_already_refunded_is_rejected(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    intent_id = charge(payments, key).gateway_id
    assert intent_id is not None
    payments.refund(idempotency_key=f"part-{key}", payment_intent_id=intent_id, amount=200)
    payments.refund(idempotency_key=f"rest-{key}", payment_intent_id=intent_id)

    with pytest.raises(PaymentRejected, match="already been refunded"):
        payments.refund(idempotency_key=f"more-{key}", payment_intent_id=intent_id)

    assert [refund["amount"] for refund in charges_under(sandbox, key)[0]["refunds"]] == [200, 4000]


def test_the_gateway_is_built_from_the_settings(sandbox: str) -> None:
    settings = Settings(
        payment_api_base=sandbox,
        payment_api_key=SecretStr(API_KEY),
        payment_timeout=2.0,
        payment_attempts=2,
    )

    result = charge(StripeGateway.from_settings(settings), new_key())

    assert result.status == "succeeded"
