"""Receiving a return: the units that came back go onto the shelf or into quarantine, and the
accepted ones are refunded, all in one transaction.

Only an open return can be received. The order's row, then the return's, are locked first, so
a second receipt (a replayed webhook, staff pressing twice, the two at once) waits, finds the
return no longer open, and changes nothing: a return received twice restocks once and
refunds once.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.mail import instance_kind
from models.domain.returns import Counted, disposition_of, receipt_error, receipt_status
from models.services.returns import ReturnRefused
from models.store.follow_ups import mail
from models.store.orders import record_event
from models.store.refunds import owe_refund, payment_for_line
from models.store.returns import lock_return, put_back, return_lines
from models.tables.orders import Order, OrderLine
from models.tables.returns import OrderReturn, ReturnLine


@dataclass(frozen=True)
class Count:
    """What staff counted of one line of a return: units received, and of those accepted."""

    line_no: int
    received: int
    accepted: int


@dataclass(frozen=True)
class Receipt:
    """What receiving did: nothing (`already`, the return was received before), or the new
    status and the money owed back."""

    return_id: int
    rma_number: str
    status: str
    already: bool
    refunded: int = 0


def _counts(
    lines: list[ReturnLine], numbers: dict[int, OrderLine], counts: Sequence[Count] | None
) -> dict[int, Counted]:
    """Received and accepted per order line id: all of it when nobody counted, else as counted
    (a line not named came back empty); a 422 naming each count that cannot be."""
    if counts is None:
        return {r.order_line_id: Counted(r.quantity, r.quantity, r.quantity) for r in lines}
    asked = {numbers[r.order_line_id].line_no: r for r in lines}
    seen = Counter(c.line_no for c in counts)
    errors: list[dict[str, str]] = []
    for i, c in enumerate(counts):
        line = asked.get(c.line_no)
        if line is None or seen[c.line_no] > 1:
            why = "named more than once" if line else f"line {c.line_no} is not in this return"
            errors.append({"field": f"lines[{i}].line_no", "reason": why})
        elif fault := receipt_error(line.quantity, c.received, c.accepted):
            field = "accepted" if fault.startswith("accepted") else "received"
            errors.append({"field": f"lines[{i}].{field}", "reason": fault})
    if errors:
        raise ReturnRefused(422, errors)
    named = {asked[c.line_no].order_line_id: c for c in counts}
    return {
        r.order_line_id: Counted(
            r.quantity,
            named[r.order_line_id].received if r.order_line_id in named else 0,
            named[r.order_line_id].accepted if r.order_line_id in named else 0,
        )
        for r in lines
    }


def _restock(
    session: Session, ret: OrderReturn, accepted: dict[int, int], numbers: dict[int, OrderLine]
) -> None:
    """Accepted units back to the return's warehouse, and counted as returned on their lines."""
    quarantine = disposition_of(ret.reason) == "quarantine"
    units: dict[str, tuple[int, int]] = {}
    for line_id, count in accepted.items():
        on_hand, held = units.get(numbers[line_id].article_number, (0, 0))
        units[numbers[line_id].article_number] = (
            (on_hand, held + count) if quarantine else (on_hand + count, held)
        )
    put_back(session, ret.warehouse_id, units)
    for line_id, count in sorted(accepted.items()):
        session.execute(
            update(OrderLine)
            .where(OrderLine.id == line_id)
            .values(returned_quantity=OrderLine.returned_quantity + count)
        )


def _refund(session: Session, ret: OrderReturn, accepted: dict[int, int], actor: str) -> int:
    """Refunds of the accepted units, one per payment that took money for them; the total."""
    by_payment: dict[int, dict[int, int]] = defaultdict(dict)
    payments = {}
    for line_id in sorted(accepted):
        payment = payment_for_line(session, line_id)
        if payment is not None:
            payments[payment.id] = payment
            by_payment[payment.id][line_id] = accepted[line_id]
    total = 0
    for payment_id, units in sorted(by_payment.items()):
        owed = owe_refund(
            session,
            payments[payment_id],
            units,
            kind="return",
            reason=f"return {ret.rma_number}",
            actor=actor,
            return_id=ret.id,
        )
        total += owed.amount if owed is not None else 0
    return total


def _record(
    session: Session, ret: OrderReturn, lines: list[ReturnLine], counted: dict[int, Counted]
) -> None:
    disposition = disposition_of(ret.reason)
    for line in lines:
        count = counted[line.order_line_id]
        line.received_quantity = count.received
        line.accepted_quantity = count.accepted
        line.disposition = disposition if count.accepted else None
    session.flush()


def _received_event(
    session: Session,
    ret: OrderReturn,
    counted: dict[int, Counted],
    numbers: dict[int, OrderLine],
    *,
    refunded: int,
    actor: str,
) -> None:
    detail = {
        "return_id": ret.id,
        "rma_number": ret.rma_number,
        "status": ret.status,
        "lines": [
            {"line_no": numbers[i].line_no, "received": c.received, "accepted": c.accepted}
            for i, c in counted.items()
        ],
        "disposition": disposition_of(ret.reason),
        "refunded": refunded,
        "by": actor,
    }
    record_event(session, ret.order_id, "return_received", detail=detail)


def receive_return(
    session: Session,
    order_id: uuid.UUID,
    rma: str,
    counts: Sequence[Count] | None,
    *,
    actor: str,
    now: datetime,
) -> Receipt:
    """Receive the return in the caller's transaction: `counts` as staff counted them, or None
    for every unit asked received and accepted (the carrier delivered the parcel).

    LookupError if the order has no such return; ReturnRefused for counts that cannot be.
    """
    if session.scalar(select(Order.id).where(Order.id == order_id).with_for_update()) is None:
        raise LookupError(str(order_id))
    ret = lock_return(session, order_id, rma)
    if ret is None:
        raise LookupError(rma)
    if ret.status != "open":
        return Receipt(ret.id, ret.rma_number, ret.status, already=True)
    lines = return_lines(session, ret.id)
    numbers = {
        line.id: line
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order_id))
    }
    counted = _counts(lines, numbers, counts)
    _record(session, ret, lines, counted)
    ret.status = receipt_status(counted.values())
    ret.received_at = now
    ret.received_by = actor[:100]
    accepted = {line: c.accepted for line, c in counted.items() if c.accepted}
    _restock(session, ret, accepted, numbers)
    refunded = _refund(session, ret, accepted, actor)
    session.flush()
    _received_event(session, ret, counted, numbers, refunded=refunded, actor=actor)
    mail(session, order_id, instance_kind("return_received", ret.id))
    return Receipt(ret.id, ret.rma_number, ret.status, False, refunded)
