"""Partial refunds, recorded in the caller's transaction with caps that hold under concurrency.

`owe_refund` prices the units given back and records one refund with its lines and the
follow-up that sends it to the gateway. It never gives back more than was charged: per line
(its units times its price, less what earlier refunds gave back for it) and per payment (its
amount, less every refund on it that has not failed). The payment's row is locked while the
caps are read and the refund written, so two refunds recorded at once cannot both take the
last of the money.

A whole-order refund (models/services/refund.py) gives back the rest of the payment, so
partial and whole refunds together come to at most what was charged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, func, insert, select
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.tasks import REFUND_PART
from models.store.follow_ups import later
from models.tables.fulfilment import Allocation, Payment
from models.tables.money import Refund, RefundLine
from models.tables.orders import OrderLine

# Refunds that count against the caps: sent or on their way. A failed one gave nothing back.
LIVE = ("pending", "succeeded")
# Payment statuses with money taken that partial refunds may give back.
REFUNDABLE = ("succeeded",)


@dataclass(frozen=True)
class OwedRefund:
    """A refund recorded: its id, amount and what each line got back (line id -> minor units)."""

    refund_id: int
    amount: int
    lines: Mapping[int, int]


def payment_for_line(session: Session, order_line_id: int) -> Payment | None:
    """The payment that took money for the line, locked; None if none did (or it was given
    back in whole).

    A line is charged by the payment of the part its units were allocated in: the newest
    such part with a payment that took money.
    """
    parts = select(Allocation.part).where(Allocation.order_line_id == order_line_id)
    return session.scalar(
        select(Payment)
        .join(OrderLine, OrderLine.order_id == Payment.order_id)
        .where(
            OrderLine.id == order_line_id,
            Payment.status.in_(REFUNDABLE),
            Payment.part.in_(parts.scalar_subquery()),
        )
        .order_by(Payment.part.desc())
        .limit(1)
        .with_for_update(of=Payment)
    )


def refunded_per_line(session: Session, order_line_ids: list[int]) -> dict[int, int]:
    """What live refunds gave back per line, in minor units."""
    rows = session.execute(
        select(RefundLine.order_line_id, func.sum(RefundLine.amount))
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(RefundLine.order_line_id.in_(order_line_ids), Refund.status.in_(LIVE))
        .group_by(RefundLine.order_line_id)
    ).all()
    return {int(line_id): int(total) for line_id, total in rows}


def refunded_of_payment(session: Session, payment_id: int) -> int:
    """What live partial refunds gave back of a payment, in minor units."""
    total = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment_id, Refund.status.in_(LIVE)
        )
    )
    return int(total or 0)


def _priced(
    lines: Sequence[Row[int, int, int]],
    units: Mapping[int, int],
    refunded: Mapping[int, int],
) -> dict[int, int]:
    """Minor units per line: its units times its price, within what is left of the line."""
    owed: dict[int, int] = {}
    for line_id, quantity, unit_price in lines:
        left = quantity * unit_price - refunded.get(line_id, 0)
        owed[line_id] = max(0, min(units[line_id] * unit_price, left))
    return owed


def _cap(owed: dict[int, int], room: int) -> dict[int, int]:
    """Trim the amounts, last line first, so they add up to at most `room`."""
    over = sum(owed.values()) - max(0, room)
    for line_id in sorted(owed, reverse=True):
        if over <= 0:
            break
        cut = min(over, owed[line_id])
        owed[line_id] -= cut
        over -= cut
    return owed


def _insert(
    session: Session,
    payment: Payment,
    amount: int,
    *,
    kind: str,
    reason: str,
    actor: str,
    return_id: int | None,
) -> int:
    """Insert the refund row; its id."""
    return session.execute(
        insert(Refund)
        .values(
            order_id=payment.order_id,
            payment_id=payment.id,
            return_id=return_id,
            kind=kind,
            # Unique per refund, stored, so the same on every attempt.
            idempotency_key=refund_key_of(payment.order_id),
            amount=amount,
            currency=payment.currency,
            status="pending",
            attempts=0,
            reason=reason[:200],
            actor=actor[:100],
            created_at=utcnow(),
        )
        .returning(Refund.id)
    ).scalar_one()


def owe_refund(
    session: Session,
    payment: Payment,
    units: Mapping[int, int],
    *,
    kind: str,
    reason: str,
    actor: str,
    return_id: int | None = None,
) -> OwedRefund | None:
    """Record a refund of `units` (order line id -> units) of a locked payment; None when
    nothing is left to give back. The refund step sends it once this transaction commits."""
    lines = session.execute(
        select(OrderLine.id, OrderLine.quantity, OrderLine.unit_price)
        .where(OrderLine.id.in_(list(units)), OrderLine.order_id == payment.order_id)
        .order_by(OrderLine.id)
    ).all()
    room = payment.amount - refunded_of_payment(session, payment.id)
    owed = _cap(_priced(lines, units, refunded_per_line(session, list(units))), room)
    amount = sum(owed.values())
    if amount <= 0:
        return None
    refund_id = _insert(
        session, payment, amount, kind=kind, reason=reason, actor=actor, return_id=return_id
    )
    session.execute(
        insert(RefundLine),
        [
            {"refund_id": refund_id, "order_line_id": line, "quantity": units[line], "amount": a}
            for line, a in owed.items()
        ],
    )
    later(session, REFUND_PART, str(payment.order_id), refund_id)
    return OwedRefund(refund_id, amount, owed)


def refund_key_of(order_id: uuid.UUID) -> str:
    """A new gateway idempotency key for one partial refund; stored with it, so every attempt
    sends the same one."""
    return f"order-{order_id}-refund-{uuid.uuid4().hex[:12]}"
