"""The customer emails: what each kind says, built from the order as stored."""

from __future__ import annotations

import uuid
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
}

KINDS = frozenset(SUBJECTS)


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


def _body(session: Session, order: Order, kind: str) -> list[str]:
    if kind == "received":
        return ["Thank you, we received your order.", f"Expected delivery: {order.eta}."]
    if kind == "backordered":
        return [
            "Some items of your order are out of stock right now.",
            "We are holding your order and will send it as soon as they arrive;",
            "you will not be charged until then.",
        ]
    if kind == "back_in_stock":
        return [
            "Good news: everything in your order is in stock again.",
            "We are preparing it now.",
        ]
    if kind == "shipped":
        shipments = session.scalars(select(Shipment).where(Shipment.order_id == order.id)).all()
        tracking = [
            f"  {s.carrier.upper()} {s.tracking_number}: {s.tracking_url}" for s in shipments
        ]
        return ["Your order has shipped.", *tracking, f"Expected delivery: {order.eta}."]
    if kind == "rejected":
        return [
            "We are sorry: we do not have the stock to fulfil this order.",
            "You were not charged.",
        ]
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
    reason = payment.failure_code if payment and payment.failure_code else "payment failed"
    return [f"Your payment could not be completed ({reason}).", "You were not charged."]


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
