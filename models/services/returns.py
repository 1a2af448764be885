"""Opening a return: units of delivered lines, within the return window, under an RMA number.

The order's row is locked first, so two returns opened at once for the same units take turns
and the second sees the first's claim. The label is booked by a follow-up, outside any
transaction (models/services/return_label.py); its mail carries the RMA number and the label.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models.domain.returns import REASONS, Arrival, disposition_of, returnable, rma_number
from models.domain.tasks import RETURN_LABEL
from models.store.follow_ups import later
from models.store.orders import record_event
from models.store.returns import arrivals, claimed_units
from models.tables.orders import Order, OrderLine
from models.tables.returns import OrderReturn, ReturnLine


class ReturnRefused(Exception):
    """A return that cannot be opened or received as asked: the status to answer and, per
    field, why."""

    def __init__(self, status: int, errors: list[dict[str, str]], title: str = "") -> None:
        super().__init__(title or "; ".join(f"{e['field']}: {e['reason']}" for e in errors))
        self.status = status
        self.errors = errors
        self.title = title or "Return refused"


@dataclass(frozen=True)
class Asked:
    """Units of one order line the customer wants to send back."""

    line_no: int
    quantity: int


@dataclass(frozen=True)
class Opened:
    """A return opened: its id and RMA number."""

    return_id: int
    rma_number: str


def _lines(session: Session, order_id: uuid.UUID, asked: Sequence[Asked]) -> dict[int, OrderLine]:
    """The order lines asked for, by line number; a 422 naming each unknown or repeated one."""
    lines = {
        line.line_no: line
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order_id))
    }
    seen = Counter(a.line_no for a in asked)
    errors = [
        {"field": f"lines[{i}].line_no", "reason": reason}
        for i, a in enumerate(asked)
        if (reason := _line_fault(a, lines, seen))
    ]
    if errors:
        raise ReturnRefused(422, errors)
    return lines


def _line_fault(asked: Asked, lines: dict[int, OrderLine], seen: Counter[int]) -> str:
    if asked.line_no not in lines:
        return f"the order has no line {asked.line_no}"
    if seen[asked.line_no] > 1:
        return "named more than once"
    return ""


def _check_window(arrived: list[Arrival], cutoff: datetime, days: int) -> None:
    """A 409 unless some units reached the customer, and some within the return window."""
    times = [a.arrived_at for a in arrived if a.arrived_at is not None]
    if not times:
        reason = "nothing of the order has been delivered or collected yet"
        raise ReturnRefused(409, [{"field": "order", "reason": reason}], "Order not delivered")
    if max(times) < cutoff:
        reason = f"delivered more than {days} days ago: the return window has closed"
        raise ReturnRefused(409, [{"field": "order", "reason": reason}], "Return window closed")


def _check_units(
    asked: Sequence[Asked],
    lines: dict[int, OrderLine],
    arrived: list[Arrival],
    claimed: dict[int, int],
    cutoff: datetime,
) -> None:
    errors = []
    for i, a in enumerate(asked):
        line = lines[a.line_no]
        own = [x for x in arrived if x.order_line_id == line.id]
        left = returnable(own, claimed.get(line.id, 0), cutoff)
        if a.quantity > left:
            errors.append({"field": f"lines[{i}].quantity", "reason": _too_many(a.line_no, left)})
    if errors:
        raise ReturnRefused(422, errors)


def _too_many(line_no: int, left: int) -> str:
    if left == 0:
        return (
            f"no unit of line {line_no} can be returned: none has arrived, or every one that "
            "did is in a return already or arrived before the return window"
        )
    return f"at most {left} unit{'' if left == 1 else 's'} of line {line_no} can be returned"


def _warehouse(lines: list[OrderLine], arrived: list[Arrival]) -> int:
    """The warehouse that shipped most of the returned lines' units (the lowest id on a tie)."""
    ids = {line.id for line in lines}
    shipped: Counter[int] = Counter()
    for a in arrived:
        if a.order_line_id in ids:
            shipped[a.warehouse_id] += a.quantity
    return min(shipped, key=lambda w: (-shipped[w], w))


def _insert(
    session: Session,
    order_id: uuid.UUID,
    rows: list[tuple[OrderLine, int]],
    *,
    reason: str,
    note: str | None,
    actor: str,
    warehouse_id: int,
    now: datetime,
) -> Opened:
    rma = rma_number()
    return_id = session.execute(
        insert(OrderReturn)
        .values(
            order_id=order_id,
            rma_number=rma,
            status="open",
            reason=reason,
            note=note,
            opened_by=actor[:100],
            warehouse_id=warehouse_id,
            created_at=now,
        )
        .returning(OrderReturn.id)
    ).scalar_one()
    session.execute(
        insert(ReturnLine),
        [{"return_id": return_id, "order_line_id": line.id, "quantity": q} for line, q in rows],
    )
    return Opened(return_id, rma)


def _opened_event(
    session: Session,
    order_id: uuid.UUID,
    opened: Opened,
    asked: Sequence[Asked],
    *,
    reason: str,
    actor: str,
) -> None:
    detail = {
        "return_id": opened.return_id,
        "rma_number": opened.rma_number,
        "reason": reason,
        "disposition": disposition_of(reason),
        "lines": [{"line_no": a.line_no, "quantity": a.quantity} for a in asked],
        "by": actor,
    }
    record_event(session, order_id, "return_opened", detail=detail)


def _lock(session: Session, order_id: uuid.UUID, reason: str) -> None:
    """Lock the order's row for the return; a 422 for an unknown reason, LookupError for an
    unknown order."""
    if reason not in REASONS:
        why = f"must be one of {', '.join(REASONS)}"
        raise ReturnRefused(422, [{"field": "reason", "reason": why}])
    if session.scalar(select(Order.id).where(Order.id == order_id).with_for_update()) is None:
        raise LookupError(str(order_id))


def open_return(
    session: Session,
    order_id: uuid.UUID,
    asked: Sequence[Asked],
    *,
    reason: str,
    note: str | None,
    actor: str,
    now: datetime,
    window_days: int,
) -> Opened:
    """Open a return of `asked` in the caller's transaction; ReturnRefused saying why not.

    The label is booked and the customer mailed by the follow-up it records.
    """
    _lock(session, order_id, reason)
    lines = _lines(session, order_id, asked)
    arrived = arrivals(session, order_id)
    cutoff = now - timedelta(days=window_days)
    _check_window(arrived, cutoff, window_days)
    _check_units(asked, lines, arrived, claimed_units(session, order_id), cutoff)
    rows = [(lines[a.line_no], a.quantity) for a in asked]
    warehouse_id = _warehouse([line for line, _ in rows], arrived)
    opened = _insert(
        session,
        order_id,
        rows,
        reason=reason,
        note=note,
        actor=actor,
        warehouse_id=warehouse_id,
        now=now,
    )
    _opened_event(session, order_id, opened, asked, reason=reason, actor=actor)
    later(session, RETURN_LABEL, str(order_id), opened.return_id)
    return opened


def returnable_units(
    session: Session, order_id: uuid.UUID, *, now: datetime, window_days: int
) -> dict[int, int]:
    """Units of each order line (by line number) that may be returned now; lines with none
    are left out. A read: the order is not locked, open_return checks again under its lock."""
    cutoff = now - timedelta(days=window_days)
    arrived = arrivals(session, order_id)
    claimed = claimed_units(session, order_id)
    lines = session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
    )
    units = {
        line.line_no: returnable(
            [a for a in arrived if a.order_line_id == line.id], claimed.get(line.id, 0), cutoff
        )
        for line in lines
    }
    return {line_no: n for line_no, n in units.items() if n > 0}
