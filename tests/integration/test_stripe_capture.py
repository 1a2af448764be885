"""Authorise, then capture: the Stripe adapter over real HTTP against the payment sandbox,
whose ledger shows only money taken (what a capture took), never a mere authorisation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from models.ports import AUTHORIZATION_EXPIRED, CANCELED, ChargeResult, PaymentRejected
from tests.integration.stripe_support import (
    charge,
    charges_under,
    gateway,
    intent_in,
    new_key,
    set_faults,
)
from workers.adapters.stripe import StripeGateway

WEEK = timedelta(days=7)


def authorize(payments: StripeGateway, key: str, method: str = "pm_card_visa") -> str:
    result = charge(payments, key, method=method, capture="manual")
    assert result.status == "authorized"
    assert result.gateway_id is not None
    return result.gateway_id


def capture(payments: StripeGateway, key: str, intent_id: str, amount: int) -> ChargeResult:
    return payments.capture(
        idempotency_key=key, payment_intent_id=intent_id, amount=amount, order_id=f"ord-{key}"
    )


def test_an_authorisation_takes_no_money_and_says_until_when_it_holds(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)

    result = charge(payments, key, capture="manual")

    assert result.status == "authorized"
    assert result.capture_before is not None
    assert abs(result.capture_before - (datetime.now(UTC) + WEEK)) < timedelta(seconds=5)
    intent = intent_in(sandbox, result.gateway_id)
    assert (intent["status"], intent["capture_method"]) == ("requires_capture", "manual")
    assert (intent["amount_capturable"], intent["amount_received"]) == (4200, 0)
    assert intent["latest_charge"]["captured"] is False
    assert charges_under(sandbox, key) == []


def test_a_full_capture_takes_the_whole_authorisation(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    intent_id = authorize(payments, key)

    result = capture(payments, f"capture-{key}", intent_id, 4200)

    assert result == ChargeResult("succeeded", intent_id)
    [entry] = charges_under(sandbox, f"capture-{key}")
    assert (entry["payment_intent"], entry["amount"]) == (intent_id, 4200)


def test_a_partial_capture_takes_only_its_amount_and_releases_the_rest(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    intent_id = authorize(payments, key)

    result = capture(payments, f"capture-{key}", intent_id, 3000)

    assert result.status == "succeeded"
    assert [e["amount"] for e in charges_under(sandbox, f"capture-{key}")] == [3000]
    intent = intent_in(sandbox, intent_id)
    assert (intent["amount_received"], intent["amount_capturable"]) == (3000, 0)
    assert intent["latest_charge"]["amount_captured"] == 3000


def test_capturing_twice_under_one_key_captures_once(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    intent_id = authorize(payments, key)

    first = capture(payments, f"capture-{key}", intent_id, 4200)
    again = capture(payments, f"capture-{key}", intent_id, 4200)
    other_key = capture(payments, f"later-{key}", intent_id, 4200)

    assert first == again == other_key == ChargeResult("succeeded", intent_id)
    assert len(charges_under(sandbox, f"capture-{key}")) == 1
    assert charges_under(sandbox, f"later-{key}") == []


def test_capturing_more_than_was_authorised_is_refused(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    intent_id = authorize(payments, key)

    with pytest.raises(PaymentRejected, match="greater than the amount capturable"):
        capture(payments, f"capture-{key}", intent_id, 4201)

    assert charges_under(sandbox, f"capture-{key}") == []
    assert intent_in(sandbox, intent_id)["status"] == "requires_capture"


def test_a_lapsed_authorisation_cannot_be_captured(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    set_faults(sandbox, authorization_seconds=1)
    result = charge(payments, key, capture="manual")
    assert result.capture_before is not None
    assert result.gateway_id is not None
    assert abs(result.capture_before - datetime.now(UTC)) < timedelta(seconds=2)
    time.sleep(1.5)

    captured = capture(payments, f"capture-{key}", result.gateway_id, 4200)

    assert (captured.status, captured.failure_code) == ("declined", AUTHORIZATION_EXPIRED)
    intent = intent_in(sandbox, result.gateway_id)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "automatic")
    assert charges_under(sandbox, f"capture-{key}") == []


def test_a_voided_authorisation_cannot_be_captured(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    intent_id = authorize(payments, key)

    voided = payments.cancel(payment_intent_id=intent_id, order_id=f"ord-{key}")
    captured = capture(payments, f"capture-{key}", intent_id, 4200)

    assert (voided.status, voided.failure_code) == ("declined", CANCELED)
    assert (captured.status, captured.failure_code) == ("declined", CANCELED)
    assert intent_in(sandbox, intent_id)["amount_capturable"] == 0
    assert charges_under(sandbox, f"capture-{key}") == []


def test_find_charge_prefers_an_authorisation_to_a_decline_and_a_capture_to_both(
    sandbox: str,
) -> None:
    key, payments = new_key(), gateway(sandbox)
    set_faults(sandbox, authorization_seconds=600)
    order = f"ord-{key}"
    charge(payments, f"d-{key}", method="pm_card_chargeDeclined", order_id=order)
    intent_id = charge(payments, key, order_id=order, capture="manual").gateway_id
    assert intent_id is not None

    found = payments.find_charge(order_id=order)

    assert found is not None
    assert (found.status, found.gateway_id) == ("authorized", intent_id)
    assert found.capture_before is not None
    ahead = found.capture_before - datetime.now(UTC)
    assert timedelta(seconds=595) < ahead <= timedelta(seconds=600)
    capture(payments, f"capture-{key}", intent_id, 100)
    assert payments.find_charge(order_id=order) == ChargeResult("succeeded", intent_id)


def test_a_processing_payment_with_manual_capture_settles_as_an_authorisation(
    sandbox: str,
) -> None:
    key, payments = new_key(), gateway(sandbox)

    first = charge(payments, key, method="pm_card_processing", capture="manual")
    time.sleep(1.2)
    later = payments.find_charge(order_id=f"ord-{key}")

    assert (first.status, first.failure_code) == ("pending", "processing")
    assert later is not None
    assert (later.status, later.gateway_id) == ("authorized", first.gateway_id)
    assert charges_under(sandbox, key) == []


def test_a_refund_after_a_partial_capture_is_capped_at_what_was_captured(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    intent_id = authorize(payments, key)
    capture(payments, f"capture-{key}", intent_id, 3000)

    with pytest.raises(PaymentRejected, match="greater than unrefunded"):
        payments.refund(idempotency_key=f"r1-{key}", payment_intent_id=intent_id, amount=4200)
    payments.refund(idempotency_key=f"r2-{key}", payment_intent_id=intent_id)

    [entry] = charges_under(sandbox, f"capture-{key}")
    assert (entry["amount"], entry["refunded"]) == (3000, 3000)


def test_a_declining_card_declines_a_manual_capture_charge_too(sandbox: str) -> None:
    result = charge(gateway(sandbox), new_key(), method="pm_card_chargeDeclined", capture="manual")

    assert (result.status, result.failure_code) == ("declined", "generic_decline")
