"""The return documents of an order, as the API and the order page show them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.tables.catalog import Warehouse
from models.tables.money import Refund
from models.tables.orders import Order, OrderLine
from models.tables.returns import OrderReturn, ReturnLine


def _lines(session: Session, return_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = session.execute(
        select(ReturnLine, OrderLine.line_no, OrderLine.article_number)
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(ReturnLine.return_id.in_(return_ids))
        .order_by(OrderLine.line_no)
    ).all()
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line, line_no, article in rows:
        lines[line.return_id].append(
            {
                "line_no": line_no,
                "article_number": article,
                "quantity": line.quantity,
                "received": line.received_quantity,
                "accepted": line.accepted_quantity,
                "disposition": line.disposition,
            }
        )
    return lines


def _refunded(session: Session, return_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Refund.return_id, func.sum(Refund.amount))
        .where(Refund.return_id.in_(return_ids), Refund.status.in_(("pending", "succeeded")))
        .group_by(Refund.return_id)
    ).all()
    return {int(r or 0): int(total) for r, total in rows}


def _document(
    ret: OrderReturn, code: str, currency: str, lines: list[dict[str, Any]], refunded: int
) -> dict[str, Any]:
    label = None
    if ret.tracking_number is not None:
        label = {
            "carrier": ret.carrier or "",
            "tracking_number": ret.tracking_number,
            "tracking_url": ret.tracking_url or "",
        }
    return {
        "rma_number": ret.rma_number,
        "status": ret.status,
        "reason": ret.reason,
        "note": ret.note,
        "warehouse": code,
        "label": label,
        "lines": lines,
        "refunded": refunded,
        "currency": currency,
        "created_at": ret.created_at.isoformat(),
        "received_at": ret.received_at.isoformat() if ret.received_at else None,
    }


def return_documents(
    session: Session, order_id: uuid.UUID, rma: str | None = None
) -> list[dict[str, Any]]:
    """The order's returns (or the one with this RMA number), oldest first."""
    query = (
        select(OrderReturn, Warehouse.code, Order.currency)
        .join(Warehouse, Warehouse.id == OrderReturn.warehouse_id)
        .join(Order, Order.id == OrderReturn.order_id)
        .where(OrderReturn.order_id == order_id)
        .order_by(OrderReturn.id)
    )
    if rma is not None:
        query = query.where(OrderReturn.rma_number == rma)
    found = session.execute(query).all()
    ids = [ret.id for ret, _, _ in found]
    if not ids:
        return []
    lines, refunded = _lines(session, ids), _refunded(session, ids)
    return [
        _document(ret, code, currency, lines[ret.id], refunded.get(ret.id, 0))
        for ret, code, currency in found
    ]
