"""What an order email shows, read from the database once and formatted for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalog import Product
from models.fulfilment import Notification, Payment, Shipment
from models.orders import Order, OrderEvent
from workers.charging import charge_key

# Currencies whose minor unit is the whole unit (Stripe's list); every other one has cents.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"}
    | {"PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
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


def _names(session: Session, order: Order) -> dict[str, str]:
    numbers = [line.article_number for line in order.lines]
    rows = session.execute(
        select(Product.article_number, Product.name).where(Product.article_number.in_(numbers))
    )
    return dict(rows.all())


def _address(order: Order) -> tuple[str, ...]:
    place = " ".join(
        p for p in (f"{order.ship_city},", order.ship_region, order.ship_postal_code) if p
    )
    parts = (order.customer_name, order.ship_line1, order.ship_line2, place, order.ship_country)
    return tuple(p for p in parts if p)


def _shipments(session: Session, order: Order) -> tuple[ShipmentView, ...]:
    rows = session.scalars(
        select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
    )
    # A parcel without the carrier's own estimate keeps the date promised with the order.
    return tuple(
        ShipmentView(
            s.carrier.upper(), s.tracking_number, s.tracking_url, long_date(s.eta or order.eta)
        )
        for s in rows
    )


# Timeline entries that record a failure operations must act on.
PROBLEM_EVENTS = ("step_failed", "refund_failed", "shipping_failed")


def _problem(session: Session, order: Order) -> str:
    event = session.scalars(
        select(OrderEvent)
        .where(OrderEvent.order_id == order.id, OrderEvent.kind.in_(PROBLEM_EVENTS))
        .order_by(OrderEvent.id.desc())
        .limit(1)
    ).first()
    if event is not None:
        task = event.detail.get("task")
        return f"{task}: {event.detail.get('error')}" if task else str(event.detail.get("error"))
    failed = session.scalars(
        select(Notification)
        .where(Notification.order_id == order.id, Notification.status == "failed")
        .order_by(Notification.id.desc())
        .limit(1)
    ).first()
    return f"the {failed.kind} email: {failed.last_error}" if failed is not None else ""


def build_view(session: Session, order: Order) -> EmailView:
    """The view of the order for its emails."""
    names = _names(session, order)
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
    lines = tuple(
        LineView(
            names.get(line.article_number, line.article_number),
            line.article_number,
            line.quantity,
            money(line.quantity * line.unit_price, order.currency),
        )
        for line in order.lines
    )
    return EmailView(
        order_id=str(order.id),
        customer_name=order.customer_name,
        lines=lines,
        delivery_method=order.delivery_method.replace("_", " "),
        delivery_cost=money(order.delivery_cost, order.currency),
        total=money(order.total, order.currency),
        eta=long_date(order.eta),
        ship_to=_address(order),
        shipments=_shipments(session, order),
        charged=payment is not None and payment.status in CHARGED_STATUSES,
        paid_amount=money(payment.amount if payment else order.total, order.currency),
        failure_reason=failure_reason(payment.failure_code if payment else None),
        payment_attempts=payment.attempts if payment else 0,
        charge_key=charge_key(order.id),
        problem=_problem(session, order),
    )
