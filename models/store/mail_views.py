"""What an order email shows, from the one statement that claims the mail, formatted for the
templates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date
from typing import Any

from sqlalchemy import Connection, select

from models.domain.lifecycle import PICKUP_EXPIRY_ACTOR
from models.domain.mail import (
    CHARGED_STATUSES,
    OPERATIONS_KINDS,
    EmailView,
    LineView,
    ShipmentView,
    base_kind,
    failure_reason,
    instance_of,
    long_date,
    money,
    payment_settled,
    place_line,
)
from models.domain.payments import charge_key
from models.store.change_mail_views import change_view, standing
from models.store.hold_views import hold_fields
from models.store.mail_claims import ClaimedMail
from models.store.mail_parts import part_fields
from models.store.return_views import return_fields
from models.tables.catalog import Product
from models.tables.fulfilment import Notification
from models.tables.money import Refund, RefundLine
from models.tables.orders import OrderEvent, OrderLine


def _address(order: dict[str, Any]) -> tuple[str, ...]:
    place = " ".join(
        p for p in (f"{order['ship_city']},", order["ship_region"], order["ship_postal_code"]) if p
    )
    parts = (
        order["customer_name"],
        order["ship_line1"],
        order["ship_line2"],
        place,
        order["ship_country"],
    )
    return tuple(p for p in parts if p)


def _shipments(claimed: ClaimedMail) -> tuple[ShipmentView, ...]:
    promised: date = claimed.order["eta"]
    # A parcel without the carrier's own estimate keeps the date promised with the order.
    return tuple(
        ShipmentView(
            s["carrier"].upper(),
            s["tracking_number"],
            s["tracking_url"],
            long_date(date.fromisoformat(s["eta"]) if s["eta"] else promised),
        )
        for s in claimed.shipments
    )


# Timeline entries that record a failure operations must act on.
PROBLEM_EVENTS = (
    "step_failed",
    "refund_failed",
    "shipping_failed",
    "return_label_failed",
    "capture_failed",
)


def _latest_detail(
    connection: Connection, order_id: uuid.UUID, kinds: Iterable[str]
) -> dict[str, Any] | None:
    """The detail of the order's newest timeline entry of one of `kinds`."""
    detail: dict[str, Any] | None = connection.execute(
        select(OrderEvent.detail)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind.in_(kinds))
        .order_by(OrderEvent.id.desc())
        .limit(1)
    ).scalar()
    return detail


def _problem(connection: Connection, order_id: uuid.UUID) -> str:
    event = _latest_detail(connection, order_id, PROBLEM_EVENTS)
    if event is not None:
        task = event.get("task")
        return f"{task}: {event.get('error')}" if task else str(event.get("error"))
    failed = connection.execute(
        select(Notification.kind, Notification.last_error)
        .where(Notification.order_id == order_id, Notification.status == "failed")
        .order_by(Notification.id.desc())
        .limit(1)
    ).first()
    return f"the {failed.kind} email: {failed.last_error}" if failed is not None else ""


# Mails that say what the order lacks.
SHORT_KINDS = frozenset({"rejected", "backordered"})


def _short_lines(
    connection: Connection, order_id: uuid.UUID, lines: tuple[LineView, ...]
) -> tuple[str, ...]:
    shortages = _latest_detail(connection, order_id, SHORT_KINDS)
    short = (shortages or {}).get("shortages") or {}
    names = {line.article_number: line.name for line in lines}
    return tuple(
        f"{names.get(article, article)} ({article}): {count} more than we have"
        for article, count in short.items()
    )


def _not_collected(connection: Connection, order_id: uuid.UUID) -> bool:
    """Whether the order was cancelled by its pickup's expiry, not by a person."""
    cancelled = _latest_detail(connection, order_id, ("cancelled",))
    return (cancelled or {}).get("by") == PICKUP_EXPIRY_ACTOR


def _pickup(
    connection: Connection, order: dict[str, Any], order_id: uuid.UUID, kind: str
) -> dict[str, Any]:
    """The pickup fields of the view: empty for an order that is delivered."""
    if order["delivery_method"] != "self_service":
        return {}
    place = order["pickup"] or {}
    until = order["pickup_hold_until"]
    return {
        "pickup": True,
        "pickup_place": place_line(
            place["name"],
            place["address_line1"],
            place["postal_code"],
            place["city"],
            place["country"],
        )
        if place
        else "",
        "pickup_hours": place.get("opening_hours") or "",
        "pickup_until": long_date(until.astimezone(UTC).date()) if until is not None else "",
        "not_collected": kind == "cancelled" and _not_collected(connection, order_id),
    }


def _refund(connection: Connection, kind: str, currency: str) -> dict[str, Any]:
    """The partial refund a refund_issued mail is about: its amount and a line per order line."""
    instance = instance_of(kind)
    if base_kind(kind) != "refund_issued" or instance is None or not instance.isdigit():
        return {}
    amount = connection.execute(select(Refund.amount).where(Refund.id == int(instance))).scalar()
    rows = connection.execute(
        select(Product.name, OrderLine.article_number, RefundLine.quantity, RefundLine.amount)
        .join(OrderLine, OrderLine.id == RefundLine.order_line_id)
        .outerjoin(Product, Product.article_number == OrderLine.article_number)
        .where(RefundLine.refund_id == int(instance))
        .order_by(OrderLine.line_no)
    ).all()
    return {
        "refund_amount": money(int(amount or 0), currency),
        "refund_lines": tuple(
            f"{q} x {name or article} ({article}): {money(a, currency)}"
            for name, article, q, a in rows
        ),
    }


def build_view(
    connection: Connection, claimed: ClaimedMail, order_id: uuid.UUID, kind: str, order_url: str
) -> EmailView:
    """The view of the claimed mail's order for its `kind` of email, with the order's link.
    Only a mail to operations says what went wrong; a customer's mail skips reading it."""
    order, payment, currency = claimed.order, claimed.payment, claimed.order["currency"]
    lines, total = standing(claimed.lines, order["total"], currency)
    return EmailView(
        order_id=str(order_id),
        customer_name=order["customer_name"],
        lines=lines,
        delivery_method=order["delivery_method"].replace("_", " "),
        delivery_cost=money(order["delivery_cost"], currency),
        total=total,
        eta=long_date(order["eta"]),
        ship_to=_address(order),
        shipments=_shipments(claimed),
        charged=_charged(payment),
        authorized=payment is not None and payment.get("uncaptured", False),
        paid_amount=money(payment["amount"] if payment else order["total"], currency),
        failure_reason=failure_reason(payment["failure_code"] if payment else None),
        payment_attempts=payment["attempts"] if payment else 0,
        charge_key=charge_key(order_id),
        problem=_problem(connection, order_id) if base_kind(kind) in OPERATIONS_KINDS else "",
        order_url=order_url,
        settled=payment_settled(
            payment["status"] if payment else None, payment["failure_code"] if payment else None
        ),
        short_lines=_short_lines(connection, order_id, lines) if kind in SHORT_KINDS else (),
        **_pickup(connection, order, order_id, kind),
        **_refund(connection, kind, currency),
        **part_fields(claimed, kind),
        **hold_fields(connection, order_id, kind),
        **change_view(connection, order_id, kind, currency, payment),
        **return_fields(connection, kind, currency),
    )


def _charged(payment: dict[str, Any] | None) -> bool:
    """Whether money was taken: an authorisation never captured took none."""
    if payment is None or payment.get("uncaptured", False):
        return False
    return payment["status"] in CHARGED_STATUSES
