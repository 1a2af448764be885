"""The fakes keep their ports' promises, so a test built on one tests what production does."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from models.domain.tracking import is_valid_ups
from models.ports import (
    Carrier,
    ChargeResult,
    Mailer,
    MessageQueue,
    PaymentGateway,
    RouteNotServed,
)
from workers.adapters.fakes import FakeCarrier, FakeGateway, FakeMailer, FakeQueue


def test_a_received_message_stays_hidden_until_deleted_and_a_dead_letter_keeps_its_reason() -> None:
    queue: MessageQueue = FakeQueue()
    first = queue.publish({"type": "order.placed", "n": 1})
    queue.publish({"type": "order.placed", "n": 2})

    taken = queue.receive(wait_seconds=0, visibility_timeout=30)
    again = queue.receive(wait_seconds=0, visibility_timeout=30)
    queue.dead_letter(taken[1], "malformed")
    failed = queue.delete([taken[0], taken[0]])

    assert taken[0].message_id == first
    assert again == []
    assert failed == [first]  # the second delete finds nothing to delete
    assert (queue.depth(), queue.depth("dlq")) == (0, 1)


def test_the_fake_mailer_keeps_what_it_is_given() -> None:
    mailer = FakeMailer()
    port: Mailer = mailer
    message = EmailMessage()
    message["Subject"] = "Hello"

    port.send(message)

    assert [m["Subject"] for m in mailer.sent] == ["Hello"]


def test_the_fake_carrier_books_valid_numbers_and_refuses_a_closed_route() -> None:
    carriers = FakeCarrier(closed=frozenset({("SE", "US")}))
    carrier: Carrier = carriers(origin_country="US", destination_country="US")

    label = carrier.create_label(order_id="o-1", warehouse_code="NJ")

    assert is_valid_ups(label.tracking_number)
    assert label.tracking_number in label.tracking_url
    with pytest.raises(RouteNotServed):
        carriers(origin_country="SE", destination_country="US")


def charge(gateway: PaymentGateway, key: str, method: str) -> ChargeResult:
    return gateway.charge(
        idempotency_key=key, amount=100, currency="usd", payment_method=method, order_id=key
    )


def test_the_fake_gateway_charges_once_per_key_and_declines_declined_cards() -> None:
    gateway: PaymentGateway = FakeGateway()

    first = charge(gateway, "k1", "pm_card_visa")
    again = charge(gateway, "k1", "pm_card_visa")
    declined = charge(gateway, "k2", "pm_card_chargeDeclined")

    assert first == again
    assert first.status == "succeeded"
    assert declined.status == "declined"
