"""GET /admin/orders/<order_id>: what the customer sees, and why the order went where it went."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from intake.problems import Problem
from intake.reading import order_view
from intake.runtime import runtime
from models.fulfilment import AllocationReceipt
from models.orders import Order

bp = Blueprint("orders", __name__)


def _receipt_view(receipt: AllocationReceipt) -> dict[str, Any]:
    return {
        "id": receipt.id,
        "outcome": receipt.outcome,
        "reason": receipt.reason,
        "candidates": receipt.candidates,
        "picks": receipt.picks,
        "at": receipt.created_at.isoformat(),
    }


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    """The order as its customer sees it, with every allocation receipt, oldest first."""
    try:
        key = uuid.UUID(order_id)
    except ValueError:
        raise Problem(404, "Order not found") from None
    with runtime().sessions() as session:
        order = session.get(Order, key)
        if order is None:
            raise Problem(404, "Order not found")
        receipts = session.scalars(
            select(AllocationReceipt)
            .where(AllocationReceipt.order_id == order.id)
            .order_by(AllocationReceipt.created_at, AllocationReceipt.id)
        ).all()
        return jsonify(
            {**order_view(session, order), "receipts": [_receipt_view(r) for r in receipts]}
        )
