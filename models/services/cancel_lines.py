"""Cancelling some units of an order's lines before they ship: their reservation goes back on
the shelf, the money taken for them goes back through the gateway, and a mail says what
changed. Cancelling every unit left cancels the whole order instead (delivery cost back too).

Everything happens in the caller's transaction, with the order's row locked first, so line
cancels, a whole-order cancel, a charge being recorded and a ship step take turns.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from models.domain.lifecycle import OrderStatus
from models.domain.mail import instance_kind
from models.services.cancel import CANCELLABLE, cancel_order
from models.services.part_end import complete_parts
from models.store.follow_ups import mail
from models.store.line_units import LineUnits, add_cancelled, line_units, release_units
from models.store.refunds import OwedRefund, owe_refund, payment_for_line
from models.tables.fulfilment import Payment
from models.tables.orders import Order, OrderEvent

EVENTS = cast(Table, OrderEvent.__table__)

# While units are not shipped. `allocated` is left out: a charge may be in flight for the
# order's amount, so a cancel then waits for its outcome (PaymentInProgress).
LINES_CANCELLABLE = frozenset(
    {
        OrderStatus.RECEIVED,
        OrderStatus.BACKORDERED,
        OrderStatus.PAID,
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.PARTIALLY_SHIPPED,
    }
)
# How long a client should wait before asking again while a charge is in flight.
RETRY_AFTER_SECONDS = 5


class CannotCancelLines(Exception):
    """The order is past the point where any of its units can be cancelled."""

    def __init__(self, status: str) -> None:
        super().__init__(f"lines of an order that is {status} cannot be cancelled")
        self.status = status


class PaymentInProgress(Exception):
    """A charge may be in flight: the cancel must wait for its outcome."""

    def __init__(self) -> None:
        super().__init__("payment in progress, try again shortly")


@dataclass(frozen=True)
class LineFault:
    """What is wrong with the units asked of one line: `field` is `line_no` or `quantity`."""

    line_no: int
    field: str
    reason: str


class InvalidLines(Exception):
    """Some of the units asked for cannot be cancelled; nothing was."""

    def __init__(self, faults: list[LineFault]) -> None:
        super().__init__("; ".join(f"line {f.line_no}: {f.reason}" for f in faults))
        self.faults = faults


@dataclass(frozen=True)
class LinesCancelled:
    """What a line cancel did: units per line number, units released, refunds owed, and
    whether it cancelled the whole order."""

    order_id: uuid.UUID
    units: Mapping[int, int]
    released: int
    refunds: list[OwedRefund] = field(default_factory=list)
    whole_order: bool = False
    event_id: int | None = None

    @property
    def refund_amount(self) -> int:
        """What the partial refunds of this cancel give back, in minor units."""
        return sum(refund.amount for refund in self.refunds)


def _status(session: Session, order: Order) -> OrderStatus:
    status = OrderStatus(order.status)
    if status is OrderStatus.ALLOCATED:
        raise PaymentInProgress
    if status not in LINES_CANCELLABLE:
        raise CannotCancelLines(status.value)
    # A later part's charge claimed and not answered (a partially shipped order): what it
    # takes is not known, so its units could be released paid for and never refunded.
    # So may a capture (authorise-then-capture): it takes what the order came to when sent.
    in_flight = select(Payment.id).where(
        Payment.order_id == order.id, Payment.status.in_(("pending", "capturing"))
    )
    if session.scalar(in_flight.limit(1)) is not None:
        raise PaymentInProgress
    return status


def _fault(line: LineUnits | None, line_no: int, units: int) -> LineFault | None:
    if line is None:
        return LineFault(line_no, "line_no", f"the order has no line {line_no}")
    if units < 1:
        return LineFault(line_no, "quantity", "must be at least 1")
    if units <= line.cancellable:
        return None
    if line.cancellable == 0:
        return LineFault(line_no, "quantity", f"line {line_no} has no units left to cancel")
    why = f": {line.shipped} have shipped" if line.shipped else ""
    reason = f"at most {line.cancellable} of line {line_no} can be cancelled{why}"
    return LineFault(line_no, "quantity", reason)


def _validate(lines: Mapping[int, LineUnits], units: Mapping[int, int]) -> None:
    faults = [
        fault
        for line_no, count in units.items()
        if (fault := _fault(lines.get(line_no), line_no, count)) is not None
    ]
    if not units:
        faults.append(LineFault(0, "lines", "name at least one line"))
    if faults:
        raise InvalidLines(faults)


def _owe(
    session: Session, by_line: Mapping[int, int], *, reason: str, actor: str
) -> list[OwedRefund]:
    """A refund per payment that took money for the lines (line id -> units)."""
    grouped: dict[int, tuple[Payment, dict[int, int]]] = {}
    for line_id, count in sorted(by_line.items()):
        payment = payment_for_line(session, line_id)
        if payment is not None:
            grouped.setdefault(payment.id, (payment, {}))[1][line_id] = count
    owed = (
        owe_refund(session, payment, units, kind="line_cancel", reason=reason, actor=actor)
        for payment, units in grouped.values()
    )
    return [refund for refund in owed if refund is not None]


def _detail(
    lines: Mapping[int, LineUnits],
    units: Mapping[int, int],
    refunds: list[OwedRefund],
    *,
    reason: str,
    actor: str,
) -> dict[str, Any]:
    """The timeline entry's detail: each line's units cancelled, left and refunded."""
    given = {line: a for refund in refunds for line, a in refund.lines.items()}
    return {
        "lines": [
            {
                "line_no": line_no,
                "article_number": lines[line_no].article_number,
                "quantity": count,
                "remaining": lines[line_no].quantity - lines[line_no].cancelled - count,
                "refund": given.get(lines[line_no].id, 0),
            }
            for line_no, count in sorted(units.items())
        ],
        "refund": sum(refund.amount for refund in refunds),
        "refund_ids": [refund.refund_id for refund in refunds],
        "reason": reason,
        "by": actor,
    }


def _record(session: Session, order_id: uuid.UUID, detail: dict[str, Any], now: datetime) -> int:
    """The `lines_cancelled` timeline entry; its id names the mail about it."""
    return int(
        session.execute(
            insert(EVENTS)
            .values(order_id=order_id, kind="lines_cancelled", detail=detail, created_at=now)
            .returning(EVENTS.c.id)
        ).scalar_one()
    )


def cancel_lines(
    session: Session,
    order_id: uuid.UUID,
    units: Mapping[int, int],
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> LinesCancelled:
    """Cancel `units` (line number -> units) of the order in the caller's transaction."""
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        raise LookupError(str(order_id))
    status = _status(session, order)
    lines = line_units(session, order_id)
    _validate(lines, units)
    by_line = {lines[line_no].id: count for line_no, count in units.items()}
    add_cancelled(session, by_line)
    left = sum(line.quantity - line.cancelled for line in lines.values()) - sum(units.values())
    if left == 0 and status in CANCELLABLE:
        # Nothing would be left: the whole order goes, its delivery cost back with it.
        done = cancel_order(session, order_id, reason=reason, actor=actor, now=now)
        session.expire_all()
        return LinesCancelled(order_id, dict(units), done.units_released, whole_order=True)
    # Units waiting for stock go first: they hold nothing, and the reserved ones can leave.
    reserved = {lines[n].id: max(0, c - lines[n].unreserved) for n, c in units.items()}
    released = release_units(session, reserved, now)
    refunds = _owe(session, by_line, reason=reason, actor=actor)
    detail = _detail(lines, units, refunds, reason=reason, actor=actor)
    event_id = _record(session, order_id, detail, now)
    session.execute(update(Order).where(Order.id == order_id).values(updated_at=now))
    mail(session, order_id, instance_kind("lines_cancelled", event_id))
    if status is OrderStatus.PARTIALLY_SHIPPED:  # nothing may be left to follow: shipped
        complete_parts(session, order_id)
    # The lines changed under the session's loaded objects: whoever reads them next rereads.
    session.expire_all()
    return LinesCancelled(order_id, dict(units), released, refunds, event_id=event_id)
