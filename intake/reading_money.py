"""The money of an order as its document shows it: partial refunds, and what was charged and
given back in all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.tables.fulfilment import Payment
from models.tables.money import Refund, RefundLine
from models.tables.orders import Order, OrderLine

# Payment statuses in which money was taken (and may since have gone back).
TAKEN = ("succeeded", "refund_pending", "refunded", "refund_failed")


def refunds_view(session: Session, order: Order) -> list[dict[str, Any]]:
    """Each partial refund, oldest first: amount, status and what each line got back."""
    refunds = session.scalars(
        select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)
    ).all()
    shares = session.execute(
        select(RefundLine.refund_id, OrderLine.line_no, RefundLine.quantity, RefundLine.amount)
        .join(OrderLine, OrderLine.id == RefundLine.order_line_id)
        .where(RefundLine.refund_id.in_([r.id for r in refunds]))
        .order_by(RefundLine.refund_id, OrderLine.line_no)
    ).all()
    return [
        {
            "refund_id": r.id,
            "kind": r.kind,
            "amount": r.amount,
            "currency": r.currency,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
            "refunded_at": r.refunded_at.isoformat() if r.refunded_at else None,
            "lines": [
                {"line_no": n, "quantity": q, "amount": a} for rid, n, q, a in shares if rid == r.id
            ],
        }
        for r in refunds
    ]


def money_view(session: Session, order: Order) -> dict[str, Any]:
    """Charged, refunded and on its way back, in minor units of the order's currency."""
    payments = session.scalars(select(Payment).where(Payment.order_id == order.id)).all()
    rows = session.execute(
        select(Refund.payment_id, Refund.status, func.sum(Refund.amount))
        .where(Refund.order_id == order.id)
        .group_by(Refund.payment_id, Refund.status)
    ).all()
    partial = {(int(p), str(s)): int(total) for p, s, total in rows}
    charged = refunded = refunding = 0
    for p in payments:
        done, pending = partial.get((p.id, "succeeded"), 0), partial.get((p.id, "pending"), 0)
        rest = max(0, p.amount - done - pending)  # what a whole-order refund gives back
        charged += p.amount if p.status in TAKEN else 0
        refunded += done + (rest if p.status == "refunded" else 0)
        refunding += pending + (rest if p.status == "refund_pending" else 0)
    return {
        "currency": order.currency,
        "charged": charged,
        "refunded": refunded,
        "refunding": refunding,
    }
