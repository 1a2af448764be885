"""Order email templates: every kind renders as text and HTML from a view, with no database."""

from __future__ import annotations

import dataclasses
from datetime import date
from types import SimpleNamespace

import pytest
from jinja2 import UndefinedError

from models.domain.mail import (
    KINDS,
    OPERATIONS_KINDS,
    EmailView,
    LineView,
    Mail,
    ShipmentView,
    build_message,
    failure_reason,
    long_date,
    money,
)
from workers.adapters.mail_templates import ENVIRONMENT, TEMPLATES, render_view

ORDER_ID = "0b9c1c7e-2d4f-4b8a-9a61-3f5e7d9c1a2b"
TRACK = "https://www.ups.com/track?tracknum={}"

VIEW = EmailView(
    order_id=ORDER_ID,
    customer_name="Ada Lovelace",
    lines=(
        LineView("Oak bed frame", "493.857.51", 2, "1,234.50 USD"),
        LineView("Reading lamp", "102.340.07", 1, "39.99 USD"),
    ),
    delivery_method="curbside",
    delivery_cost="49.00 USD",
    total="1,323.49 USD",
    eta="Friday, March 14, 2025",
    ship_to=("Ada Lovelace", "1 Main St", "New York, NY 10001", "US"),
    shipments=(
        ShipmentView("UPS", "1Z8X4F2A030000017", TRACK.format("1Z8X4F2A030000017"), "Friday"),
        ShipmentView("UPS", "1Z8X4F2A030000025", TRACK.format("1Z8X4F2A030000025"), "Friday"),
    ),
    charged=True,
    paid_amount="1,323.49 USD",
    failure_reason="the card has insufficient funds",
    payment_attempts=3,
    charge_key=f"order-{ORDER_ID}-charge",
)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_text_and_an_html_template(kind: str) -> None:
    assert (TEMPLATES / f"{kind}.txt.j2").is_file()
    assert (TEMPLATES / f"{kind}.html.j2").is_file()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_shows_the_order_its_lines_delivery_and_total(kind: str) -> None:
    mail = render_view(VIEW, kind)

    assert ORDER_ID[:8] in mail.subject
    for body in (mail.text, mail.html):
        assert ORDER_ID in body
        assert "Oak bed frame" in body
        assert "493.857.51" in body
        assert "1,234.50 USD" in body
        assert "49.00 USD" in body
        assert "1,323.49 USD" in body


@pytest.mark.parametrize("kind", sorted(KINDS - OPERATIONS_KINDS))
def test_customer_mails_greet_the_customer_and_operations_mails_do_not(kind: str) -> None:
    assert "Hello Ada Lovelace," in render_view(VIEW, kind).text
    for operations_kind in OPERATIONS_KINDS:
        assert "Hello" not in render_view(VIEW, operations_kind).text


def test_a_view_missing_a_value_fails_the_render_instead_of_mailing_a_gap() -> None:
    fields = dataclasses.asdict(VIEW)
    del fields["total"]
    template = ENVIRONMENT.get_template("received.txt.j2")

    with pytest.raises(UndefinedError):
        template.render(view=SimpleNamespace(**fields), subject="s", kind="received")


def test_the_html_escapes_a_hostile_customer_name_and_product_name() -> None:
    view = dataclasses.replace(
        VIEW,
        customer_name="<script>alert(1)</script>",
        lines=(LineView("Bed & <b>frame</b>", "493.857.51", 1, "10.00 USD"),),
    )
    mail = render_view(view, "received")

    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert "Bed &amp; &lt;b&gt;frame&lt;/b&gt;" in mail.html
    # Plain text is not HTML: the name reads as typed.
    assert "Hello <script>alert(1)</script>," in mail.text


def test_the_shipped_mail_links_every_tracking_number_and_shows_the_eta() -> None:
    mail = render_view(VIEW, "shipped")

    for parcel in VIEW.shipments:
        link = f'<a href="{parcel.tracking_url}"'
        assert link in mail.html
        assert f">{parcel.tracking_number}</a>" in mail.html
        assert parcel.tracking_number in mail.text
        assert parcel.tracking_url in mail.text
    assert "expected Friday" in mail.text


def test_a_cancelled_paid_order_promises_a_refund_and_an_unpaid_one_says_not_charged() -> None:
    paid = render_view(VIEW, "cancelled")
    unpaid = render_view(dataclasses.replace(VIEW, charged=False), "cancelled")

    assert "A refund of 1,323.49 USD is on its way" in paid.text
    assert "You were not charged." not in paid.text
    assert "You were not charged." in unpaid.text
    assert "refund" not in unpaid.text


def test_the_paid_mail_of_an_authorisation_says_the_money_is_taken_when_it_ships() -> None:
    held = render_view(dataclasses.replace(VIEW, authorized=True), "paid")
    taken = render_view(VIEW, "paid")

    for mail in (held.text, held.html):
        assert "authorised for" in mail
        assert "when your order ships" in mail
        assert "We received your payment" not in mail
    assert "We received your payment of 1,323.49 USD" in taken.text
    assert "authorised" not in taken.text
    # One subject for both, and true of both: nothing is taken from the card yet when held.
    assert held.subject == taken.subject == f"Your order {VIEW.order_id[:8]} is confirmed"


def test_the_abandoned_payment_mail_names_the_attempts_and_the_charge_key() -> None:
    mail = render_view(VIEW, "payment_abandoned")

    assert "after 3 attempts" in mail.text
    assert f"order-{ORDER_ID}-charge" in mail.text
    assert f"<code>order-{ORDER_ID}-charge</code>" in mail.html


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123450, "USD", "1,234.50 USD"),
        (5, "USD", "0.05 USD"),
        (0, "EUR", "0.00 EUR"),
        (100000000, "SEK", "1,000,000.00 SEK"),
        (1500, "JPY", "1,500 JPY"),
        (-250, "USD", "-2.50 USD"),
    ],
)
def test_money_in_minor_units_reads_with_separators_and_its_currency(
    amount: int, currency: str, shown: str
) -> None:
    assert money(amount, currency) == shown


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("card_declined", "your card was declined"),
        ("insufficient_funds", "the card has insufficient funds"),
        ("processing_error", "the card issuer had a processing error"),
        ("gateway_unavailable", "our payment provider could not be reached"),
        ("payment_rejected", "the payment was rejected"),
        ("something_new", "the payment could not be completed"),
        (None, "the payment could not be completed"),
    ],
)
def test_a_payment_failure_code_reads_as_words(code: str | None, words: str) -> None:
    assert failure_reason(code) == words


def test_the_eta_is_spelt_out() -> None:
    assert long_date(date(2025, 3, 14)) == "Friday, March 14, 2025"


def test_a_message_with_html_is_text_with_an_html_alternative() -> None:
    mail = render_view(VIEW, "received")
    message = build_message(mail, sender="a@shop.example", recipient="b@x.example", msgid="<m@x>")

    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert "Total: 1,323.49 USD" in text.get_content()
    assert "<!DOCTYPE html>" in html.get_content()


def test_a_message_without_html_stays_plain_text() -> None:
    message = build_message(
        Mail("Low stock", "Three left.\n"), sender="a@x.example", recipient="b@x.example", msgid=""
    )

    assert message.get_content_type() == "text/plain"


PICKUP = dataclasses.replace(
    VIEW,
    delivery_method="self service",
    shipments=(),
    pickup=True,
    pickup_place="Newark Store, 12 Market St, 07102 Newark, US",
    pickup_hours="Mon-Sat 10-20",
    pickup_until="Tuesday, December 8, 2026",
)


@pytest.mark.parametrize("kind", sorted(KINDS - OPERATIONS_KINDS - {"shipped", "delivered"}))
def test_every_customer_mail_of_a_pickup_order_names_the_pickup_place(kind: str) -> None:
    mail = render_view(PICKUP, kind)

    for body in (mail.text, mail.html):
        assert "Newark Store, 12 Market St, 07102 Newark, US" in body
        assert "1 Main St" not in body
        assert "Expected delivery" not in body


def test_the_ready_mail_says_where_until_when_and_the_opening_hours() -> None:
    mail = render_view(PICKUP, "ready_for_pickup")

    assert mail.subject == f"Your order {ORDER_ID[:8]} is ready for pickup"
    for body in (mail.text, mail.html):
        assert "ready for pickup at" in body
        assert "Tuesday, December 8, 2026" in body
        assert "Mon-Sat 10-20" in body


def test_a_pickup_order_mailed_before_its_warehouse_is_chosen_promises_to_name_it() -> None:
    mail = render_view(dataclasses.replace(PICKUP, pickup_place=""), "received")

    assert "the next email names it with its address" in mail.text
    assert "1 Main St" not in mail.text


def test_a_pickup_cancelled_for_want_of_collection_says_so_and_one_cancelled_by_hand_not() -> None:
    expired = render_view(dataclasses.replace(PICKUP, not_collected=True), "cancelled")
    by_hand = render_view(PICKUP, "cancelled")

    assert "until Tuesday, December 8, 2026, and it was not collected in time" in expired.text
    assert "not collected" not in by_hand.text
    assert "is no longer held for pickup" in by_hand.text
