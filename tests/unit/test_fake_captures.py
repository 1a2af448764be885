"""The fake gateway authorises and captures as the Stripe adapter does against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.ports import AUTHORIZATION_EXPIRED, CANCELED, ChargeResult, PaymentRejected
from workers.adapters.fakes import FakeGateway


def authorize(gateway: FakeGateway, key: str, order_id: str = "ord_1") -> str:
    result = gateway.charge(
        idempotency_key=key,
        amount=4200,
        currency="usd",
        payment_method="pm_card_visa",
        order_id=order_id,
        capture="manual",
    )
    assert result.status == "authorized"
    assert result.gateway_id is not None
    return result.gateway_id


def capture(gateway: FakeGateway, key: str, intent_id: str, amount: int) -> ChargeResult:
    return gateway.capture(
        idempotency_key=key, payment_intent_id=intent_id, amount=amount, order_id="ord_1"
    )


def test_an_authorisation_takes_nothing_until_captured_once_for_its_amount() -> None:
    gateway = FakeGateway()
    intent_id = authorize(gateway, "k1")
    found = gateway.find_charge(order_id="ord_1")

    first = capture(gateway, "c1", intent_id, 3000)
    again = capture(gateway, "c1", intent_id, 3000)

    assert found is not None
    assert found.capture_before is not None
    assert abs(found.capture_before - (datetime.now(UTC) + timedelta(days=7))) < timedelta(1)
    assert first == again == ChargeResult("succeeded", intent_id)
    assert [c.amount for c in gateway.captures.values()] == [3000]
    assert [c.amount for c in gateway.charges] == [3000]
    assert gateway.find_charge(order_id="ord_1") == first


def test_capturing_more_than_authorised_is_refused_and_leaves_the_hold() -> None:
    gateway = FakeGateway()
    intent_id = authorize(gateway, "k1")

    with pytest.raises(PaymentRejected):
        capture(gateway, "c1", intent_id, 4201)

    assert capture(gateway, "c2", intent_id, 4200).status == "succeeded"


def test_a_lapsed_or_voided_authorisation_declines_its_capture() -> None:
    gateway = FakeGateway()
    lapsed, voided = authorize(gateway, "k1"), authorize(gateway, "k2")
    gateway.expire(lapsed)
    cancelled = gateway.cancel(payment_intent_id=voided, order_id="ord_1")

    late = capture(gateway, "c1", lapsed, 4200)
    void = capture(gateway, "c2", voided, 4200)

    assert (late.status, late.failure_code) == ("declined", AUTHORIZATION_EXPIRED)
    assert (cancelled.failure_code, void.failure_code) == (CANCELED, CANCELED)
    assert gateway.captures == {}
    assert gateway.charges == []


def test_a_refund_after_a_partial_capture_is_capped_at_the_capture() -> None:
    gateway = FakeGateway()
    intent_id = authorize(gateway, "k1")
    capture(gateway, "c1", intent_id, 3000)

    with pytest.raises(PaymentRejected):
        gateway.refund(idempotency_key="r1", payment_intent_id=intent_id, amount=4200)
    gateway.refund(idempotency_key="r2", payment_intent_id=intent_id)

    assert [r.amount for r in gateway.refunds.values()] == [3000]
