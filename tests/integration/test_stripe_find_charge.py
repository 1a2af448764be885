"""Asking the gateway what became of an order's charge, through the SDK's search."""

from __future__ import annotations

import pytest

from models.ports import ChargeResult, PaymentUnavailable
from tests.integration.stripe_support import (
    charge,
    charges_under,
    gateway,
    new_key,
    requests_with,
    search_statuses,
    set_faults,
)


def test_finding_a_paid_order_gives_its_charge(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    charged = charge(payments, key)

    found = payments.find_charge(order_id=f"ord-{key}")

    assert found == ChargeResult("succeeded", charged.gateway_id)


def test_finding_a_declined_order_gives_the_decline_not_nothing(sandbox: str) -> None:
    key, payments = new_key(), gateway(sandbox)
    declined = charge(payments, key, method="pm_card_chargeDeclinedInsufficientFunds")

    found = payments.find_charge(order_id=f"ord-{key}")

    assert found == declined
    assert (declined.status, declined.failure_code) == ("declined", "insufficient_funds")


def test_a_paid_order_is_found_as_paid_even_after_an_earlier_decline(sandbox: str) -> None:
    order_id, payments = f"ord-{new_key()}", gateway(sandbox)
    charge(payments, new_key(), method="pm_card_chargeDeclined", order_id=order_id)
    paid = charge(payments, new_key(), order_id=order_id)
    charge(payments, new_key(), method="pm_card_chargeDeclined", order_id=order_id)

    assert paid.status == "succeeded"
    assert payments.find_charge(order_id=order_id) == paid


def test_finding_an_order_the_gateway_never_saw_gives_none(sandbox: str) -> None:
    assert gateway(sandbox).find_charge(order_id=f"ord-{new_key()}") is None


def test_a_charge_whose_answer_was_lost_is_found_by_searching_for_its_order(
    sandbox: str,
) -> None:
    key = new_key()
    set_faults(sandbox, timeout_after_charge_rate=1.0, stall_seconds=2.0)

    with pytest.raises(PaymentUnavailable):
        charge(gateway(sandbox, timeout=0.5, attempts=1), key)
    found = gateway(sandbox).find_charge(order_id=f"ord-{key}")

    [lost] = charges_under(sandbox, key)
    assert found == ChargeResult("succeeded", lost["payment_intent"])
    assert len(requests_with(sandbox, key)) == 1


def test_a_failing_search_is_retried_then_unavailable(sandbox: str) -> None:
    before = len(search_statuses(sandbox))
    set_faults(sandbox, failure_rate=1.0)

    with pytest.raises(PaymentUnavailable):
        gateway(sandbox, attempts=3).find_charge(order_id=f"ord-{new_key()}")

    assert search_statuses(sandbox)[before:] == [500, 500, 500]
