"""The order emails as data: their kinds and subjects, what they show, and the finished message."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import default
from email.utils import formatdate, make_msgid, parseaddr

SUBJECTS = {
    "received": "We received your order {short}",
    "paid": "Your order {short} is confirmed",  # also when the card is only authorised
    "backordered": "Part of your order {short} is on backorder",
    "back_in_stock": "Your order {short} is back in stock and on its way to you",
    "shipped": "Your order {short} is on its way",
    "partially_shipped": "Part of your order {short} is on its way",
    "part_payment_failed": "Part of your order {short} was cancelled: payment did not go through",
    "delivered": "Your order {short} was delivered",
    "ready_for_pickup": "Your order {short} is ready for pickup",
    "collected": "You collected your order {short}",
    "rejected": "We could not fulfil your order {short}",
    "payment_failed": "Payment for your order {short} did not go through",
    "cancelled": "Your order {short} was cancelled",
    "refunded": "Your refund for order {short}",
    "refund_issued": "We refunded part of your order {short}",
    "lines_cancelled": "We cancelled part of your order {short}",
    "payment_abandoned": "Payment abandoned for order {short}: the gateway stayed unreachable",
    "charged_after_abandon": "Order {short} was charged after its payment was abandoned",
    "refund_failed": "Refund for order {short} failed: a person must return the money",
    "shipping_failed": "Order {short} could not be shipped: its route is not served",
    "return_opened": "How to send back your return for order {short}",
    "return_received": "We received your return for order {short}",
    "return_label_failed": "A return of order {short} has no label: its route is not served",
    "mail_failed": "An email about order {short} could not be sent",
    "step_failed": "Order {short} is stuck: a step failed for good",
    "order_held": "Order {short} is on hold for review before payment",
}

KINDS = frozenset(SUBJECTS)
# A kind that can happen more than once to an order (a cancelled line, a return) names its
# instance after this mark: "lines_cancelled#12". The part before it picks subject and
# templates; the whole makes the mail one per instance, not one per order.
INSTANCE_MARK = "#"


def base_kind(kind: str) -> str:
    """The kind of mail without its instance: 'refund_issued#12' -> 'refund_issued'."""
    return kind.split(INSTANCE_MARK, 1)[0]


def instance_of(kind: str) -> str | None:
    """The instance a kind names ('12' of 'refund_issued#12'), or None."""
    _, mark, instance = kind.partition(INSTANCE_MARK)
    return instance if mark else None


def instance_kind(kind: str, instance: object) -> str:
    """The kind of mail about one instance of a repeatable event: 'refund_issued#12'."""
    return f"{kind}{INSTANCE_MARK}{instance}"


# Mails about an order that go to operations, not to the customer.
OPERATIONS_KINDS = frozenset(
    {
        "payment_abandoned",
        "charged_after_abandon",
        "refund_failed",
        "shipping_failed",
        "return_label_failed",
        "mail_failed",
        "step_failed",
        "order_held",
    }
)


@dataclass(frozen=True)
class Mail:
    """A rendered email; an empty `html` sends the text alone."""

    subject: str
    text: str
    html: str = ""


# Currencies whose minor unit is the whole unit (Stripe's list); every other one has cents.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()  # noqa: SIM905
)

# Payment failure codes in words a customer understands; the gateway's codes are for us.
FAILURE_REASONS = {
    "card_declined": "your card was declined",
    "declined": "your card was declined",
    "expired_card": "your card has expired",
    "incorrect_cvc": "the card's security code was incorrect",
    "insufficient_funds": "the card has insufficient funds",
    "processing_error": "the card issuer had a processing error",
    "gateway_unavailable": "our payment provider could not be reached",
    "payment_rejected": "the payment was rejected",
}
UNKNOWN_FAILURE = "the payment could not be completed"

# A cancelled order with its payment in one of these was charged, so money goes back.
CHARGED_STATUSES = frozenset({"succeeded", "refund_pending", "refunded"})
# A payment in one of these (an authorisation, held or voided, too) has a known outcome; any
# other may still turn out charged, and so may one given up because the gateway was away.
SETTLED_STATUSES = CHARGED_STATUSES | {"failed", "refund_failed", "authorized", "voided"}
UNSETTLED_FAILURES = frozenset({"gateway_unavailable"})


def payment_settled(status: str | None, failure_code: str | None) -> bool:
    """Whether a mail may say what the payment came to: no payment, or a known outcome."""
    if status is None:
        return True
    return status in SETTLED_STATUSES and failure_code not in UNSETTLED_FAILURES


def money(amount: int, currency: str) -> str:
    """Minor units as the customer reads them: 123450 USD is '1,234.50 USD'."""
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return f"{sign}{amount:,} {currency}"
    # Integer arithmetic: money never passes through a float.
    return f"{sign}{amount // 100:,}.{amount % 100:02d} {currency}"


def long_date(day: date) -> str:
    """A date spelt out without locale surprises: 'Friday, March 14, 2025'."""
    return f"{day:%A, %B} {day.day}, {day.year}"


def failure_reason(code: str | None) -> str:
    """The failure code of a payment in words."""
    return FAILURE_REASONS.get(code or "", UNKNOWN_FAILURE)


@dataclass(frozen=True)
class LineView:
    """One order line as shown."""

    name: str
    article_number: str
    quantity: int
    amount: str


@dataclass(frozen=True)
class ShipmentView:
    """One parcel as shown, with where to follow it."""

    carrier: str
    tracking_number: str
    tracking_url: str
    eta: str


@dataclass(frozen=True)
class EmailView:
    """Everything any order email may show, already formatted."""

    order_id: str
    customer_name: str
    lines: tuple[LineView, ...]
    delivery_method: str
    delivery_cost: str
    total: str
    eta: str
    ship_to: tuple[str, ...]
    shipments: tuple[ShipmentView, ...]
    charged: bool
    paid_amount: str
    failure_reason: str
    payment_attempts: int
    charge_key: str
    # For operations: the newest failure recorded on the order, in one line.
    problem: str = ""
    # A signed link that opens the order for a while (models/domain/links.py).
    order_url: str = ""
    # False while the payment may still turn out taken: no mail then says "not charged".
    settled: bool = True
    authorized: bool = False  # paid by an authorisation: held on the card, taken at shipment
    # What the order lacks, a line each ("Lamp (123.456.78): 2 more than we have").
    short_lines: tuple[str, ...] = ()
    # A pickup (self-service) order: collected at a warehouse, never delivered. The place is
    # empty until the order is allocated to one; `pickup_until` once it is ready there.
    pickup: bool = False
    pickup_place: str = ""
    pickup_hours: str = ""
    pickup_until: str = ""
    # A pickup order cancelled because nobody collected it within its hold.
    not_collected: bool = False
    # A partial refund (refund_issued): how much, and a line per order line it gave back for.
    refund_amount: str = ""
    refund_lines: tuple[str, ...] = ()
    # A part of an order shipped in parts (models/domain/mail_parts.py): units in, to follow.
    part: int = 0
    part_lines: tuple[str, ...] = ()
    waiting_lines: tuple[str, ...] = ()
    part_cancelled_lines: tuple[str, ...] = ()
    # For operations: why the order is held ("amount_over_threshold: total 250000 USD ...").
    hold_reason: str = ""
    # An order cancelled because its reservation ran out: why, in the customer's words.
    expired_because: str = ""
    # A cancel of some lines (lines_cancelled): a line per order line it cancelled units of,
    # and the refund to come for them ("" when nothing was charged for them).
    cancelled_lines: tuple[str, ...] = ()
    cancel_refund: str = ""
    # A whole-order refund (refunded) after partial ones: what those gave back before it.
    refunded_before: str = ""
    # A return (return_opened, return_received): its RMA number, its label, where it goes,
    # a line per order line asked for, and, once received, what was accepted and refunded.
    rma_number: str = ""
    return_carrier: str = ""
    return_tracking_number: str = ""
    return_tracking_url: str = ""
    return_to: str = ""
    return_lines: tuple[str, ...] = ()
    return_status: str = ""
    return_accepted: tuple[str, ...] = ()
    return_refused: tuple[str, ...] = ()
    return_refund: str = ""


def place_line(
    name: str,
    line1: str | None,
    postal_code: str | None,
    city: str | None,
    country: str | None,
) -> str:
    """A pickup place in one line: 'Newark Store, 12 Market St, 07102 Newark, US'."""
    town = " ".join(part for part in (postal_code, city) if part)
    return ", ".join(part for part in (name, line1, town, country) if part)


# Anything shaped like an email address, as a mail server quotes one in a reply.
_ADDRESS = re.compile(r"[^\s<>()\[\]@,;:'\"]+@[^\s<>()\[\]@,;:'\"]+")


def without_addresses(text: str) -> str:
    """`text` with every email address replaced by a marker.

    A mail server's refusal often quotes the recipient, and the reason is logged and stored
    with the mail: customers' addresses belong in neither.
    """
    return _ADDRESS.sub("[address]", text)


def derived_message_id(local_part: str, mail_from: str) -> str:
    """A Message-ID made from what the mail is about, in the sender's domain: a resend after a
    crash carries the same one, so it is recognisably the same message."""
    _, at, domain = parseaddr(mail_from)[1].rpartition("@")
    domain = domain if at and domain else "fulfillment.local"
    return f"<{local_part}@{domain}>"


def message_id(order_id: uuid.UUID, kind: str, mail_from: str) -> str:
    """The Message-ID of the `kind` email about the order."""
    return derived_message_id(f"{kind}.{order_id}", mail_from)


class _KeptHeaderClasses(HeaderRegistry):
    """The standard header registry, making each kind of header's class once.

    The standard one makes a new class for every header it parses (a dozen a message), which
    was a third of building a mail; the headers and the message are the same.
    """

    def __init__(self) -> None:
        super().__init__()
        self._kept: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        kind = name.lower()
        if kind not in self._kept:
            self._kept[kind] = super().__getitem__(name)
        return self._kept[kind]


# The standard policy (email.policy.default) with the registry above.
MAIL_POLICY = default.clone(header_factory=_KeptHeaderClasses())


def build_message(mail: Mail, *, sender: str, recipient: str, msgid: str) -> EmailMessage:
    """A ready-to-send message: the text, with the HTML as its alternative when there is one."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = msgid or make_msgid()
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message
