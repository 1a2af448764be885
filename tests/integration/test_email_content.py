"""Order emails as a real SMTP server receives them: text and HTML, with the order's own data."""

from __future__ import annotations

import random
import uuid
from email.message import Message

import pytest
from flask.testing import FlaskClient

from bootstrap import Context
from models.domain.mail import KINDS, long_date
from models.domain.tracking import UPS_TRACKING_URL, ups_tracking_number
from models.services.notify import Notified, send_notification
from models.tables.fulfilment import Payment, Shipment
from models.tables.orders import Order
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.infra import Mailbox

PRICE = 61725  # two of them make 1,234.50 USD
TOTAL = "1,283.50 USD"  # with curbside delivery at 49.00 USD


def place(client: FlaskClient, context: Context) -> tuple[uuid.UUID, list[str]]:
    """An order of two of one product; its id and the product names."""
    bed = add_product(context.sessions, price=PRICE)
    response = client.post("/orders", json=order_body([(bed, 2)]))
    assert response.status_code == 202, response.get_json()
    return uuid.UUID(response.get_json()["order_id"]), [f"Test {bed}"]


def add_payment(context: Context, order_id: uuid.UUID, **values: object) -> None:
    """A payment row for the order in the given state."""
    with context.sessions() as session, session.begin():
        session.add(
            Payment(
                order_id=order_id,
                idempotency_key=f"order-{order_id}-charge",
                amount=PRICE * 2 + 4900,
                currency="USD",
                **values,
            )
        )


def send(context: Context, mailbox: Mailbox, order_id: uuid.UUID, kind: str) -> Message:
    """Send the kind's mail for the order; the message the SMTP server received."""
    notified = send_notification(context.work, context.post, context.settings, order_id, kind)
    assert notified is Notified.SENT
    msgid = f"<{kind}.{order_id}@fulfillment.example>"
    (message,) = [
        m for m in mailbox.for_order(str(order_id)) if str(m["Message-ID"]).strip() == msgid
    ]
    return message


def parts(message: Message) -> dict[str, str]:
    """The decoded text of each leaf part, by content type."""
    found: dict[str, str] = {}
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_mail_arrives_as_text_and_html_naming_the_order_lines_and_total(
    client: FlaskClient, context: Context, mailbox: Mailbox, kind: str
) -> None:
    order_id, names = place(client, context)

    message = send(context, mailbox, order_id, kind)

    assert message.get_content_type() == "multipart/alternative"
    bodies = parts(message)
    assert set(bodies) == {"text/plain", "text/html"}
    for body in bodies.values():
        assert str(order_id) in body
        assert all(name in body for name in names)
        assert "1,234.50 USD" in body
        assert "49.00 USD" in body
        assert TOTAL in body
        # The order's own link, signed and expiring: the guest token is kept only as a hash.
        assert f"{context.settings.public_base_url}/orders/{order_id}?access=" in body


def test_the_shipped_mail_links_each_tracking_number_and_gives_the_eta(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, _ = place(client, context)
    numbers = [ups_tracking_number("8X4F2A", "03", random.randrange(10**7)) for _ in range(2)]
    warehouses = [
        add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1]) for _ in numbers
    ]
    with context.sessions() as session, session.begin():
        for number, warehouse in zip(numbers, warehouses, strict=True):
            session.add(
                Shipment(
                    order_id=order_id,
                    warehouse_id=warehouse,
                    carrier="ups",
                    tracking_number=number,
                    tracking_url=UPS_TRACKING_URL.format(number=number),
                )
            )
        order = session.get(Order, order_id)
        assert order is not None
        eta = long_date(order.eta)

    bodies = parts(send(context, mailbox, order_id, "shipped"))

    for number in numbers:
        url = UPS_TRACKING_URL.format(number=number)
        assert f'<a href="{url}"' in bodies["text/html"]
        assert f">{number}</a>" in bodies["text/html"]
        assert url in bodies["text/plain"]
    assert f"expected {eta}" in bodies["text/plain"]
    assert f"expected {eta}" in bodies["text/html"]


def test_the_payment_failed_mail_gives_the_reason_in_words(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, _ = place(client, context)
    add_payment(context, order_id, status="failed", failure_code="insufficient_funds", attempts=1)

    bodies = parts(send(context, mailbox, order_id, "payment_failed"))

    for body in bodies.values():
        assert "could not be completed: the card has insufficient funds." in body
        assert "insufficient_funds" not in body


def test_a_cancelled_paid_order_mail_promises_the_refund_of_what_was_paid(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, _ = place(client, context)
    add_payment(context, order_id, status="refund_pending", attempts=1)

    text = parts(send(context, mailbox, order_id, "cancelled"))["text/plain"]

    assert f"A refund of {TOTAL} is on its way to your payment method." in text
    assert "You were not charged." not in text


def test_the_abandoned_payment_mail_goes_to_operations_with_the_charge_key(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, _ = place(client, context)
    add_payment(context, order_id, status="failed", attempts=5)

    message = send(context, mailbox, order_id, "payment_abandoned")

    assert message["To"] == context.settings.operations_email
    text = parts(message)["text/plain"]
    assert "after 5 attempts" in text
    assert f"order-{order_id}-charge" in text
