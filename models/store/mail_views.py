"""What an order email shows, read from the database once and formatted for the templates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.domain.mail import (
    CHARGED_STATUSES,
    OPERATIONS_KINDS,
    EmailView,
    LineView,
    ShipmentView,
    failure_reason,
    long_date,
    money,
)
from models.domain.payments import charge_key
from models.store.catalog import product_names
from models.tables.fulfilment import Notification, Payment, Shipment
from models.tables.orders import Order, OrderEvent


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


def build_view(session: Session, order: Order, kind: str, order_url: str = "") -> EmailView:
    """The view of the order for its `kind` of email, with the link that opens the order.

    Only a mail to operations says what went wrong; a customer's mail skips reading it.
    """
    names = product_names(session, order)
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
        problem=_problem(session, order) if kind in OPERATIONS_KINDS else "",
        order_url=order_url,
    )
