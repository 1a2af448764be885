"""GET /admin/orders/<order_id>: what the customer sees, and why the order went where it went."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, g, jsonify
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from intake.admin.api_models import AdminOrder
from intake.bodies import validated
from intake.openapi import STAFF, operation
from intake.order_actions import CANCEL_REPLIES, cancelled
from intake.problems import Problem
from intake.reading import order_view
from intake.runtime import runtime
from models.tables.fulfilment import AllocationReceipt
from models.tables.orders import Order

bp = Blueprint("orders", __name__)


def _receipt_view(receipt: AllocationReceipt) -> dict[str, Any]:
    return {
        "id": receipt.id,
        "outcome": receipt.outcome,
        "rule": receipt.rule,
        "reason": receipt.reason,
        "candidates": receipt.candidates,
        "picks": receipt.picks,
        "at": receipt.created_at.isoformat(),
    }


def _order_key(order_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(order_id)
    except ValueError:
        raise Problem(404, "Order not found") from None


@bp.get("/orders/<order_id>")
@operation(replies={200: AdminOrder}, problems=(429,), auth=STAFF, path={"order_id": uuid.UUID})
def get_order(order_id: str) -> Response:
    """The order as its customer sees it, with every allocation receipt, oldest first."""
    key = _order_key(order_id)
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


class CancelRequest(BaseModel):
    """Why the order is cancelled."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=200)


@bp.post("/orders/<order_id>/cancel")
@operation(
    body=CancelRequest,
    replies=CANCEL_REPLIES,
    problems=(409, 415, 422, 429),
    auth=STAFF,
    path={"order_id": uuid.UUID},
)
def cancel(order_id: str) -> Response:
    """Cancel an order that has not shipped: stock released, a refund queued if it was paid."""
    key = _order_key(order_id)
    # Read as every JSON body is: a NUL character or JSON nested too deep is a 4xx, not a 503.
    wanted = validated(CancelRequest)
    with runtime().work() as session:
        return cancelled(session, key, reason=wanted.reason, actor=str(g.admin_subject))
