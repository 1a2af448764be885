"""What a mail about a return shows: its RMA number, label, lines, and what its receipt made of
it, read by id from the mail's kind (`return_opened#12`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from models.domain.mail import base_kind, instance_of, money, place_line
from models.tables.catalog import Product, Warehouse
from models.tables.money import Refund
from models.tables.orders import OrderLine
from models.tables.returns import OrderReturn, ReturnLine

RETURN_KINDS = frozenset({"return_opened", "return_received", "return_label_failed"})


def _units(count: int, name: str, article: str) -> str:
    return f"{count} x {name} ({article})"


def _lines(connection: Connection, return_id: int) -> list[Any]:
    return list(
        connection.execute(
            select(
                func.coalesce(Product.name, OrderLine.article_number),
                OrderLine.article_number,
                ReturnLine.quantity,
                ReturnLine.received_quantity,
                ReturnLine.accepted_quantity,
            )
            .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
            .outerjoin(Product, Product.article_number == OrderLine.article_number)
            .where(ReturnLine.return_id == return_id)
            .order_by(OrderLine.line_no)
        ).all()
    )


def _refunded(connection: Connection, return_id: int) -> int:
    total = connection.execute(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.return_id == return_id, Refund.status.in_(("pending", "succeeded"))
        )
    ).scalar()
    return int(total or 0)


def _return_row(connection: Connection, return_id: int) -> Any:
    return connection.execute(
        select(
            OrderReturn.id,
            OrderReturn.rma_number,
            OrderReturn.status,
            OrderReturn.carrier,
            OrderReturn.tracking_number,
            OrderReturn.tracking_url,
            Warehouse.name,
            Warehouse.address_line1,
            Warehouse.postal_code,
            Warehouse.city,
            Warehouse.country,
        )
        .join(Warehouse, Warehouse.id == OrderReturn.warehouse_id)
        .where(OrderReturn.id == return_id)
    ).first()


def return_fields(connection: Connection, kind: str, currency: str) -> dict[str, Any]:
    """The return fields of an EmailView for a mail about one return; empty for any other."""
    instance = instance_of(kind)
    if base_kind(kind) not in RETURN_KINDS or instance is None or not instance.isdigit():
        return {}
    ret = _return_row(connection, int(instance))
    if ret is None:
        return {}
    lines = _lines(connection, ret.id)
    return {
        "rma_number": ret.rma_number,
        "return_carrier": (ret.carrier or "").upper(),
        "return_tracking_number": ret.tracking_number or "",
        "return_tracking_url": ret.tracking_url or "",
        "return_to": place_line(
            ret.name, ret.address_line1, ret.postal_code, ret.city, ret.country
        ),
        "return_lines": tuple(_units(q, name, art) for name, art, q, _, _ in lines),
        "return_status": ret.status,
        "return_accepted": tuple(_units(a, name, art) for name, art, _, _, a in lines if a),
        "return_refused": tuple(
            _units(q - a, name, art)
            for name, art, q, _, a in lines
            if q - a and ret.status != "open"
        ),
        "return_refund": money(_refunded(connection, ret.id), currency),
    }
