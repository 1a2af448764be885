"""What the mails about an order that changed show: the lines cancelled, and how a whole-order
refund relates to the partial refunds before it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, func, select

from models.domain.mail import LineView, base_kind, instance_of, money
from models.tables.catalog import Product
from models.tables.money import Refund
from models.tables.orders import OrderEvent


def standing(
    lines: list[dict[str, Any]], total: int, currency: str
) -> tuple[tuple[LineView, ...], str]:
    """The lines and total as the order stands: cancelled units left out. An order whose
    every unit was cancelled (so the order was) shows as it was placed."""
    left = [(line, line["quantity"] - int(line.get("cancelled") or 0)) for line in lines]
    if all(units == 0 for _, units in left):
        left = [(line, line["quantity"]) for line in lines]
    gone = sum((line["quantity"] - units) * line["unit_price"] for line, units in left)
    views = tuple(
        LineView(
            line["article_number"] if line["name"] is None else line["name"],
            line["article_number"],
            units,
            money(units * line["unit_price"], currency),
        )
        for line, units in left
        if units > 0
    )
    return views, money(total - gone, currency)


def _names(connection: Connection, articles: list[str]) -> dict[str, str]:
    rows = connection.execute(
        select(Product.article_number, Product.name).where(Product.article_number.in_(articles))
    ).all()
    return {str(article): str(name) for article, name in rows}


def _cancelled_line(line: dict[str, Any], name: str) -> str:
    left = int(line["remaining"])
    rest = f"{left} still on the order" if left else "none left on the order"
    return f"{line['quantity']} x {name} ({line['article_number']}) cancelled, {rest}"


def lines_cancelled_view(connection: Connection, kind: str, currency: str) -> dict[str, Any]:
    """The cancel a lines_cancelled#<event> mail is about: its lines and the refund to come."""
    instance = instance_of(kind)
    if base_kind(kind) != "lines_cancelled" or instance is None or not instance.isdigit():
        return {}
    detail: dict[str, Any] | None = connection.execute(
        select(OrderEvent.detail).where(
            OrderEvent.id == int(instance), OrderEvent.kind == "lines_cancelled"
        )
    ).scalar()
    if detail is None:
        return {}
    lines = detail.get("lines") or []
    names = _names(connection, [str(line["article_number"]) for line in lines])
    refund = int(detail.get("refund") or 0)
    return {
        "cancelled_lines": tuple(
            _cancelled_line(line, names.get(line["article_number"], line["article_number"]))
            for line in lines
        ),
        "cancel_refund": money(refund, currency) if refund > 0 else "",
    }


def _partly_refunded(connection: Connection, order_id: uuid.UUID, statuses: tuple[str, ...]) -> int:
    total = connection.execute(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order_id, Refund.status.in_(statuses)
        )
    ).scalar()
    return int(total or 0)


def whole_refund_view(
    connection: Connection,
    order_id: uuid.UUID,
    kind: str,
    currency: str,
    payment: dict[str, Any] | None,
) -> dict[str, Any]:
    """For the cancelled and refunded mails after partial refunds: the rest that goes (or
    went) back, and what partial refunds gave back before it."""
    if kind not in ("cancelled", "refunded") or payment is None:
        return {}
    if kind == "cancelled":
        before = _partly_refunded(connection, order_id, ("pending", "succeeded"))
        if not before:
            return {}
        rest = max(0, int(payment["amount"]) - before)
        return {"refund_amount": money(rest, currency), "refunded_before": money(before, currency)}
    detail: dict[str, Any] | None = connection.execute(
        select(OrderEvent.detail)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == "refunded")
        .order_by(OrderEvent.id.desc())
        .limit(1)
    ).scalar()
    if detail is None or detail.get("amount") is None:
        return {}
    amount = int(detail["amount"])
    before = _partly_refunded(connection, order_id, ("succeeded",))
    return {
        "refund_amount": money(amount, currency) if amount > 0 else "",
        "refunded_before": money(before, currency) if before else "",
    }


def change_view(
    connection: Connection,
    order_id: uuid.UUID,
    kind: str,
    currency: str,
    payment: dict[str, Any] | None,
) -> dict[str, Any]:
    """The view's fields about cancelled lines and partial refunds, for the kinds that show them."""
    return lines_cancelled_view(connection, kind, currency) | whole_refund_view(
        connection, order_id, kind, currency, payment
    )
