"""Authorise, then capture (PAYMENT_CAPTURE=at_shipment), against the payment sandbox over
HTTP: the charge step only holds the money, the ship step takes what ships, a cancel before
shipping takes nothing, and an authorisation that lapses is renewed or holds the order."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.services.cancel import cancel_order
from models.services.cancel_lines import cancel_lines
from models.services.capture import MAX_ATTEMPTS as CAPTURE_ATTEMPTS
from models.services.capture import Captured, capture_payment
from models.services.charge import Charged, charge_order
from models.services.holds import release_by_hand
from models.services.refund import Refunded, refund_order
from models.services.renew import Renewed, renew_authorization
from models.services.settle import Settled, settle_payment
from models.services.ship import Shipped
from models.tables.orders import Order
from tests.factories import stock_of
from tests.integration.capture_support import (
    HOLD_FOR,
    authorisations_lasting,
    authorised,
    intent,
    intents_of,
    payment_of,
    sandbox,
    ship,
    taken,
)
from tests.integration.hold_support import allocated, events, mails_asked, order_of, stocked
from tests.integration.stripe_support import faults, gateway

RENEW_WITHIN = timedelta(hours=24)


def test_the_charge_only_authorises_and_the_shipment_captures_it_once(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context, price=10000)
    order_id = authorised(client, context, product, 2)

    held = payment_of(context, order_id)
    assert (held.status, held.authorized_amount, held.captured_at) == (
        "authorized",
        held.amount,
        None,
    )
    assert held.capture_before is not None
    assert timedelta(days=6) < held.capture_before - utcnow() <= timedelta(days=7)
    assert taken(context, order_id) == []  # held on the card, not taken
    assert intent(context, str(held.gateway_id))["status"] == "requires_capture"

    assert ship(context, order_id) is Shipped.SHIPPED
    captured = payment_of(context, order_id)
    assert (captured.status, captured.amount) == ("succeeded", held.amount)
    assert captured.captured_at is not None
    assert taken(context, order_id) == [held.amount]
    (event,) = events(context, order_id, "captured")
    assert event == {"payment": held.gateway_id, "amount": held.amount}
    # Run again (a redelivered task): nothing more is captured.
    assert ship(context, order_id) is Shipped.SKIPPED
    assert taken(context, order_id) == [held.amount]


def test_a_line_cancelled_before_shipping_is_never_taken(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context, price=10000)
    order_id = authorised(client, context, product, 3)
    held = payment_of(context, order_id)

    with context.work() as session:
        done = cancel_lines(
            session, order_id, {1: 1}, reason="changed mind", actor="c", now=utcnow()
        )
    assert done.refunds == []  # nothing was taken, so nothing goes back

    assert ship(context, order_id) is Shipped.SHIPPED
    # The capture takes what shipped; the sandbox releases the rest of the authorisation.
    assert taken(context, order_id) == [held.amount - 10000]
    assert payment_of(context, order_id).amount == held.amount - 10000
    shown = intent(context, str(held.gateway_id))
    assert (shown["amount_received"], shown["amount_capturable"]) == (held.amount - 10000, 0)


def test_a_cancel_before_shipping_captures_nothing_and_voids_the_hold(
    client: FlaskClient, context: Context
) -> None:
    product, warehouse = stocked(context)
    order_id = authorised(client, context, product, 2)
    held = payment_of(context, order_id)

    with context.work() as session:
        cancel_order(session, order_id, reason="customer asked", actor="c", now=utcnow())
    assert refund_order(context.work, context.gateway, order_id) is Refunded.VOIDED

    assert payment_of(context, order_id).status == "voided"
    assert intent(context, str(held.gateway_id))["status"] == "canceled"
    assert taken(context, order_id) == []
    assert [e["payment"] for e in events(context, order_id, "authorization_voided")] == [
        held.gateway_id
    ]
    assert ship(context, order_id) is Shipped.SKIPPED  # the cancelled order never ships
    assert stock_of(context.work.sessions, warehouse, product) == (5, 0)


def test_a_lapsed_authorisation_holds_the_order_and_a_release_charges_it_again(
    client: FlaskClient, context: Context
) -> None:
    product, warehouse = stocked(context)
    with authorisations_lasting(context, 1.0):
        order_id = authorised(client, context, product, 2)
        first = payment_of(context, order_id)
        time.sleep(1.5)
        assert ship(context, order_id) is Shipped.SKIPPED

    order = order_of(context, order_id)
    assert (order.status, order.hold_reason) == ("on_hold", "authorization_lapsed")
    assert stock_of(context.work.sessions, warehouse, product) == (5, 2)  # still reserved
    assert "order_held#1" in mails_asked(context, order_id)  # staff are told
    assert taken(context, order_id) == []
    reset = payment_of(context, order_id)
    assert (reset.status, reset.gateway_id, reset.attempts) == ("pending", None, 0)
    assert reset.idempotency_key != first.idempotency_key

    with context.work() as session:
        release_by_hand(session, order_id, by="staff", now=utcnow())
    assert charge_order(context.work, context.gateway, order_id, capture="manual") is Charged.PAID
    again = payment_of(context, order_id)
    assert again.status == "authorized"
    assert again.gateway_id not in (None, first.gateway_id)
    assert ship(context, order_id) is Shipped.SHIPPED
    assert taken(context, order_id) == [first.amount]


def test_an_authorisation_near_its_end_is_renewed_and_the_old_one_voided(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context)
    with authorisations_lasting(context, 3600.0):  # lapses within the renewal window
        order_id = authorised(client, context, product, 1)
    old = payment_of(context, order_id)

    renewed = renew_authorization(
        context.work, context.gateway, order_id, within=RENEW_WITHIN, hold_for=HOLD_FOR
    )
    assert renewed is Renewed.RENEWED
    new = payment_of(context, order_id)
    assert (new.status, new.reauthorizations) == ("authorized", 1)
    assert new.gateway_id != old.gateway_id
    assert new.capture_before is not None
    assert old.capture_before is not None
    assert new.capture_before - old.capture_before > timedelta(days=6)
    assert intent(context, str(old.gateway_id))["status"] == "canceled"
    # Far from its end now: asked again, nothing happens.
    again = renew_authorization(
        context.work, context.gateway, order_id, within=RENEW_WITHIN, hold_for=HOLD_FOR
    )
    assert again is Renewed.SKIPPED
    assert ship(context, order_id) is Shipped.SHIPPED
    assert taken(context, order_id) == [old.amount]
    assert intent(context, str(new.gateway_id))["status"] == "succeeded"


def test_a_card_that_refuses_the_renewal_holds_the_order_for_staff(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context)
    with authorisations_lasting(context, 3600.0):
        order_id = authorised(client, context, product, 1)
    old = payment_of(context, order_id)
    # The card was blocked since: the renewal is declined.
    with context.work() as session:
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(payment_method="pm_card_chargeDeclined")
        )

    renewed = renew_authorization(
        context.work, context.gateway, order_id, within=RENEW_WITHIN, hold_for=HOLD_FOR
    )
    assert renewed is Renewed.HELD
    order = order_of(context, order_id)
    assert (order.status, order.hold_reason) == ("on_hold", "authorization_lapsed")
    assert intent(context, str(old.gateway_id))["status"] == "canceled"
    assert taken(context, order_id) == []
    assert "order_held#1" in mails_asked(context, order_id)


def test_an_authorisation_that_landed_after_its_order_was_cancelled_is_voided(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context)
    order_id = allocated(client, context, product, 1)
    url = sandbox(context)
    # The card is authorised, but the answer comes after the worker stopped waiting.
    impatient = gateway(url, timeout=0.5, attempts=1)
    with faults(url, timeout_after_charge_rate=1.0, stall_seconds=1.5), pytest.raises(TryLater):
        charge_order(context.work, impatient, order_id, capture="manual")
    with context.work() as session:
        cancel_order(session, order_id, reason="customer asked", actor="c", now=utcnow())
    time.sleep(impatient.longest_call_seconds)

    assert settle_payment(context.work, impatient, order_id) is Settled.NOT_CHARGED
    (held,) = intents_of(context, order_id)
    assert (held["status"], held["amount_received"]) == ("canceled", 0)
    assert taken(context, order_id) == []
    assert payment_of(context, order_id).status == "failed"


def test_a_capture_the_gateway_never_answers_ends_with_one_notice_to_operations(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context)
    order_id = authorised(client, context, product, 1)
    url = sandbox(context)
    impatient = gateway(url, timeout=1.0, attempts=1)
    with faults(url, failure_rate=1.0):
        for _ in range(CAPTURE_ATTEMPTS - 1):
            with pytest.raises(TryLater):
                capture_payment(context.work, impatient, order_id, hold_for=HOLD_FOR)
        assert capture_payment(context.work, impatient, order_id, hold_for=HOLD_FOR) is (
            Captured.STUCK
        )

    (failed,) = events(context, order_id, "capture_failed")
    assert failed["task"] == "capture"
    assert "unreachable" in failed["error"]
    assert mails_asked(context, order_id).count("step_failed") == 1
    assert (order_of(context, order_id).status, payment_of(context, order_id).status) == (
        "paid",
        "capturing",
    )
    # A person cancels it: the refund step asks the gateway, which took nothing, and voids.
    with context.work() as session:
        cancel_order(session, order_id, reason="stuck", actor="staff", now=utcnow())
    assert refund_order(context.work, context.gateway, order_id) is Refunded.VOIDED
    assert taken(context, order_id) == []
