"""The customer emails: what each kind says, built from the order as stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalog import Product
from models.fulfilment import Payment, Shipment
from models.orders import Order

SUBJECTS = {
    "received": "We received your order {short}",
    "backordered": "Part of your order {short} is on backorder",
    "back_in_stock": "Your order {short} is back in stock and on its way to you",
    "shipped": "Your order {short} is on its way",
    "rejected": "We could not fulfil your order {short}",
    "payment_failed": "Payment for your order {short} did not go through",
    "cancelled": "Your order {short} was cancelled",
    "refunded": "Your refund for order {short}",
    "payment_abandoned": "Payment abandoned for order {short}: the gateway stayed unreachable",
}

KINDS = frozenset(SUBJECTS)
# Mails about an order that go to operations, not to the customer.
OPERATIONS_KINDS = frozenset({"payment_abandoned"})


@dataclass(frozen=True)
class Mail:
    """A rendered email."""

    subject: str
    text: str


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:,.2f} {currency}"


def _summary(session: Session, order: Order) -> list[str]:
    names = dict(
        session.execute(
            select(Product.article_number, Product.name).where(
                Product.article_number.in_([line.article_number for line in order.lines])
            )
        ).all()
    )
    lines = [
        f"  {line.quantity} x {names.get(line.article_number, '')} ({line.article_number})"
        f"  {_money(line.quantity * line.unit_price, order.currency)}"
        for line in order.lines
    ]
    return [
        *lines,
        f"  Delivery ({order.delivery_method.replace('_', ' ')}): "
        f"{_money(order.delivery_cost, order.currency)}",
        f"  Total: {_money(order.total, order.currency)}",
    ]


def _payment(session: Session, order: Order) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.order_id == order.id))


def _shipped(session: Session, order: Order) -> list[str]:
    shipments = session.scalars(select(Shipment).where(Shipment.order_id == order.id)).all()
    tracking = [f"  {s.carrier.upper()} {s.tracking_number}: {s.tracking_url}" for s in shipments]
    return ["Your order has shipped.", *tracking, f"Expected delivery: {order.eta}."]


def _payment_failed(session: Session, order: Order) -> list[str]:
    payment = _payment(session, order)
    reason = payment.failure_code if payment and payment.failure_code else "payment failed"
    return [f"Your payment could not be completed ({reason}).", "You were not charged."]


def _cancelled(session: Session, order: Order) -> list[str]:
    payment = _payment(session, order)
    paid = payment is not None and payment.status in {"refund_pending", "refunded"}
    refund = f"A refund of {_money(order.total, order.currency)} is on its way."
    return [
        "Your order was cancelled and will not be sent.",
        refund if paid else "You were not charged.",
    ]


def _payment_abandoned(session: Session, order: Order) -> list[str]:
    attempts = payment.attempts if (payment := _payment(session, order)) else 0
    return [
        f"The payment gateway could not be reached after {attempts} attempts.",
        "The payment was marked failed and the stock released; the customer was told.",
        f"Check the gateway for a charge under key order-{order.id}-charge.",
    ]


BODIES: dict[str, Callable[[Session, Order], list[str]]] = {
    "received": lambda _, o: ["Thank you, we received your order.", f"Expected delivery: {o.eta}."],
    "backordered": lambda _, o: [
        "Some items of your order are out of stock right now.",
        "We are holding your order and will send it as soon as they arrive;",
        "you will not be charged until then.",
    ],
    "back_in_stock": lambda _, o: [
        "Good news: everything in your order is in stock again.",
        "We are preparing it now.",
    ],
    "shipped": _shipped,
    "rejected": lambda _, o: [
        "We are sorry: we do not have the stock to fulfil this order.",
        "You were not charged.",
    ],
    "payment_failed": _payment_failed,
    "cancelled": _cancelled,
    "refunded": lambda _, o: [f"We refunded {_money(o.total, o.currency)} to your payment method."],
    "payment_abandoned": _payment_abandoned,
}


def _body(session: Session, order: Order, kind: str) -> list[str]:
    return BODIES[kind](session, order)


def render(session: Session, order: Order, kind: str) -> Mail:
    """The subject and text of the `kind` email for the order."""
    short = str(order.id)[:8]
    text = "\n".join(
        [
            f"Hello {order.customer_name},",
            "",
            *_body(session, order, kind),
            "",
            f"Order {order.id}",
            *_summary(session, order),
            "",
        ]
    )
    return Mail(SUBJECTS[kind].format(short=short), text)


def message_id(order_id: uuid.UUID, kind: str, mail_from: str) -> str:
    """A Message-ID derived from (order, kind): a resend is recognisably the same message."""
    _, at, domain = parseaddr(mail_from)[1].rpartition("@")
    domain = domain if at and domain else "fulfillment.local"
    return f"<{kind}.{order_id}@{domain}>"


def build_message(mail: Mail, *, sender: str, recipient: str, msgid: str) -> EmailMessage:
    """A ready-to-send message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = msgid or make_msgid()
    message.set_content(mail.text)
    return message
