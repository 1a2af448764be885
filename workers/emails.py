"""The order emails: subjects, HTML and text from Jinja2 templates, and the finished message."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from models.orders import Order
from workers.email_context import EmailView, build_view

SUBJECTS = {
    "received": "We received your order {short}",
    "paid": "Payment received for order {short}",
    "backordered": "Part of your order {short} is on backorder",
    "back_in_stock": "Your order {short} is back in stock and on its way to you",
    "shipped": "Your order {short} is on its way",
    "delivered": "Your order {short} was delivered",
    "rejected": "We could not fulfil your order {short}",
    "payment_failed": "Payment for your order {short} did not go through",
    "cancelled": "Your order {short} was cancelled",
    "refunded": "Your refund for order {short}",
    "payment_abandoned": "Payment abandoned for order {short}: the gateway stayed unreachable",
    "charged_after_abandon": "Order {short} was charged after its payment was abandoned",
    "refund_failed": "Refund for order {short} failed: a person must return the money",
    "shipping_failed": "Order {short} could not be shipped: its route is not served",
    "mail_failed": "An email about order {short} could not be sent",
    "step_failed": "Order {short} is stuck: a step failed for good",
}

KINDS = frozenset(SUBJECTS)
# Mails about an order that go to operations, not to the customer.
OPERATIONS_KINDS = frozenset(
    {
        "payment_abandoned",
        "charged_after_abandon",
        "refund_failed",
        "shipping_failed",
        "mail_failed",
        "step_failed",
    }
)

TEMPLATES = Path(__file__).resolve().parent / "templates" / "email"

# StrictUndefined: a misspelt or missing variable fails the render instead of mailing a gap.
ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Mail:
    """A rendered email; an empty `html` sends the text alone."""

    subject: str
    text: str
    html: str = ""


def render_view(view: EmailView, kind: str) -> Mail:
    """The subject, text and HTML of the `kind` email for an order's view."""
    subject = SUBJECTS[kind].format(short=view.order_id[:8])
    values = {"view": view, "subject": subject, "kind": kind}
    text = ENVIRONMENT.get_template(f"{kind}.txt.j2").render(values)
    html = ENVIRONMENT.get_template(f"{kind}.html.j2").render(values)
    return Mail(subject, text, html)


def render(session: Session, order: Order, kind: str) -> Mail:
    """The subject, text and HTML of the `kind` email for the order as stored."""
    return render_view(build_view(session, order), kind)


def message_id(order_id: uuid.UUID, kind: str, mail_from: str) -> str:
    """A Message-ID derived from (order, kind): a resend is recognisably the same message."""
    _, at, domain = parseaddr(mail_from)[1].rpartition("@")
    domain = domain if at and domain else "fulfillment.local"
    return f"<{kind}.{order_id}@{domain}>"


def build_message(mail: Mail, *, sender: str, recipient: str, msgid: str) -> EmailMessage:
    """A ready-to-send message: the text, with the HTML as its alternative when there is one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = msgid or make_msgid()
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message
