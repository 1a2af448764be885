"""Holds for review: each rule stops the charge with its reason, a release resumes the order
exactly once, and a held order is cancelled like any other."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.holds import HoldRules
from models.domain.payments import charge_key
from models.services.charge import Charged, charge_order
from models.services.holds import release_by_hand
from models.tables.fulfilment import Payment
from tests.factories import stock_of
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox
from tests.integration.hold_support import (
    allocated,
    events,
    mails_asked,
    order_of,
    payments,
    shipments,
    staff,
    stocked,
)


def fresh_email() -> str:
    return f"buyer-{uuid.uuid4().hex[:10]}@example.com"


def customer(email: str) -> dict[str, Any]:
    return {"customer": {"email": email, "name": "Ada Lovelace"}}


def address(postal_code: str) -> dict[str, Any]:
    where = {"line1": "1 Main St", "city": "New York", "postal_code": postal_code, "country": "US"}
    return {"shipping_address": where}


# Each rule on its own, an order that trips it, and the reason it is held for.
RULES: list[tuple[HoldRules, dict[str, Any], str]] = [
    (HoldRules(amount_above=5000), {}, "amount_over_threshold"),
    (HoldRules(country_mismatch=True), {"payment_method": "pm_card_se"}, "country_mismatch"),
    (HoldRules(imprecise_address=True), address("10097"), "imprecise_address"),
]


@pytest.mark.parametrize(("rules", "body", "reason"), RULES, ids=[r[2] for r in RULES])
def test_a_rule_holds_the_order_before_any_charge_with_its_reason(
    client: FlaskClient, context: Context, rules: HoldRules, body: dict[str, Any], reason: str
) -> None:
    product, warehouse = stocked(context)
    order_id = allocated(client, context, product, 2, **body)

    assert charge_order(context.work, context.gateway, order_id, holds=rules) is Charged.HELD

    order = order_of(context, order_id)
    assert (order.status, order.hold_reason) == ("on_hold", reason)
    assert order.held_at is not None
    assert order.hold_until is not None
    assert order.hold_until - order.held_at == rules.hold_until(order.held_at) - order.held_at
    (held,) = events(context, order_id, "held")
    assert held["reason"] == reason
    assert held["by"] == "hold rules"
    assert held["note"]
    # Not charged: no payment row, and the gateway never heard of the order.
    assert payments(context, order_id) == []
    assert context.gateway.find_charge(order_id=str(order_id)) is None
    assert stock_of(context.work.sessions, warehouse, product) == (5, 2)
    assert "order_held#1" in mails_asked(context, order_id)
    # Asked again (a redelivered task), the held order is neither charged nor held twice.
    assert charge_order(context.work, context.gateway, order_id, holds=rules) is Charged.SKIPPED
    assert len(events(context, order_id, "held")) == 1


def test_too_many_orders_from_one_email_in_an_hour_holds_the_one_over_the_limit(
    client: FlaskClient, context: Context
) -> None:
    rules = HoldRules(orders_per_email_hour=2)
    product, _ = stocked(context)
    email = fresh_email()
    first, second, third = (allocated(client, context, product, **customer(email)) for _ in "abc")

    assert charge_order(context.work, context.gateway, first, holds=rules) is Charged.PAID
    assert charge_order(context.work, context.gateway, second, holds=rules) is Charged.PAID
    assert charge_order(context.work, context.gateway, third, holds=rules) is Charged.HELD
    assert order_of(context, third).hold_reason == "too_many_orders"
    assert "3 orders from this email in an hour (limit 2)" in (
        order_of(context, third).hold_note or ""
    )


def test_an_order_no_rule_catches_is_charged_as_before(
    client: FlaskClient, context: Context
) -> None:
    rules = HoldRules(
        amount_above=10**9,
        country_mismatch=True,
        orders_per_email_hour=5,
        imprecise_address=True,
    )
    product, _ = stocked(context)
    # A US card shipping to an exactly known US postal code, once, for little.
    order_id = allocated(
        client, context, product, payment_method="pm_card_us", **customer(fresh_email())
    )

    assert charge_order(context.work, context.gateway, order_id, holds=rules) is Charged.PAID
    assert events(context, order_id, "held") == []


def held_order(client: FlaskClient, context: Context) -> tuple[uuid.UUID, str, int]:
    product, warehouse = stocked(context)
    order_id = allocated(client, context, product, 2)
    rules = HoldRules(amount_above=1)
    assert charge_order(context.work, context.gateway, order_id, holds=rules) is Charged.HELD
    return order_id, product, warehouse


def test_two_releases_at_once_resume_the_order_once_one_charge_one_shipment(
    client: FlaskClient, context: Context
) -> None:
    order_id, _, _ = held_order(client, context)
    changes: list[bool] = []
    start = threading.Barrier(2)

    def release() -> None:
        start.wait()
        with context.work() as session:
            changes.append(release_by_hand(session, order_id, by="staff x", now=utcnow()).changed)

    threads = [threading.Thread(target=release) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ran = run_follow_ups(context, order_id)

    assert sorted(changes) == [False, True]
    assert [args for task, args, _ in ran if task == "fulfillment.charge"] == [[str(order_id)]]
    assert order_of(context, order_id).status == "shipped"
    assert payments(context, order_id) == [("succeeded", 1)]
    assert shipments(context, order_id) == 1
    (released,) = events(context, order_id, "hold_released")
    assert released == {"by": "staff x", "reason": "amount_over_threshold"}
    assert mails_asked(context, order_id).count("paid") == 1


def test_an_order_released_once_is_not_held_again_by_the_rules(
    client: FlaskClient, context: Context
) -> None:
    order_id, _, _ = held_order(client, context)
    with context.work() as session:
        assert release_by_hand(session, order_id, by="staff x", now=utcnow()).changed

    rules = HoldRules(amount_above=1)
    assert charge_order(context.work, context.gateway, order_id, holds=rules) is Charged.PAID
    assert len(events(context, order_id, "held")) == 1


def test_cancelling_a_held_order_releases_its_stock_and_refunds_nothing(
    client: FlaskClient, context: Context
) -> None:
    order_id, product, warehouse = held_order(client, context)

    cancelled = client.post(
        f"/orders/{order_id}/cancel", json={"reason": "fraud confirmed"}, headers=staff(context)
    )

    assert cancelled.status_code == 202, cancelled.get_json()
    assert cancelled.get_json()["refund"] == "none"
    assert cancelled.get_json()["units_released"] == 2
    assert order_of(context, order_id).status == "cancelled"
    assert stock_of(context.work.sessions, warehouse, product) == (5, 0)
    run_follow_ups(context, order_id)
    assert payments(context, order_id) == []
    assert context.gateway.find_charge(order_id=str(order_id)) is None


def test_a_charge_already_sent_is_never_held_afterwards(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context)
    order_id = allocated(client, context, product)
    # A first attempt went out and its answer was lost: the gateway is unreachable now.
    with context.work() as session:
        session.add(
            Payment(
                order_id=order_id,
                idempotency_key=charge_key(order_id),
                status="pending",
                amount=order_of(context, order_id).total,
                currency="USD",
                attempts=1,
            )
        )

    by_hand = client.post(f"/orders/{order_id}/hold", json={}, headers=staff(context))
    charged = charge_order(context.work, context.gateway, order_id, holds=HoldRules(amount_above=1))

    assert by_hand.status_code == 409
    assert "a charge was sent for it already" in by_hand.get_json()["detail"]
    assert charged is Charged.PAID
    assert events(context, order_id, "held") == []


def test_the_worker_holds_what_the_settings_catch_and_a_release_ships_it(
    client: FlaskClient, context: Context, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = context.settings.model_copy(update={"hold_amount_above": 1000})
    monkeypatch.setattr(context, "settings", strict)
    product, _ = stocked(context)
    order_id = allocated(client, context, product)

    first = run_follow_ups(context, order_id)
    released = client.post(f"/orders/{order_id}/hold/release", headers=staff(context))
    second = run_follow_ups(context, order_id)

    assert ("fulfillment.charge", [str(order_id)], "held") in first
    to_operations = [m for m in mailbox.for_order(str(order_id)) if "order_held" in m["Message-ID"]]
    assert [m["To"] for m in to_operations] == [strict.operations_email]
    assert released.status_code == 202
    assert [r for t, _, r in second if t == "fulfillment.charge"] == ["paid"]
    assert order_of(context, order_id).status == "shipped"
