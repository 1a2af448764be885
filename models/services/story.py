"""An order's whole story for operations: what happened to it, in the order it happened.

Its timeline events, allocation receipts, payment, parcels and mails, and what is still
pending for it, as plain data ready for a table or JSON. Operations see the customer's email
and the city the order goes to (or the warehouse a pickup waits at); never a token, a token's
hash or the payment method.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.lifecycle import DeliveryMethod
from models.store.warehouses import pickup_warehouse
from models.tables.catalog import Warehouse
from models.tables.fulfilment import (
    AllocationReceipt,
    Notification,
    Payment,
    Shipment,
)
from models.tables.orders import Order, OrderEvent
from models.tables.outbox import Outbox

Entry = dict[str, Any]


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _destination(session: Session, order: Order) -> str:
    # A pickup order goes nowhere: it waits at the warehouse its stock was reserved in.
    if order.delivery_method != DeliveryMethod.SELF_SERVICE:
        return f"{order.ship_city}, {order.ship_country}"
    place = pickup_warehouse(session, order.id)
    if place is None:
        return "pickup, place not chosen yet"
    return f"pickup at {place.code}" + (f", {place.city}" if place.city else "")


def _order(session: Session, order: Order) -> Entry:
    return {
        "id": str(order.id),
        "status": order.status,
        "customer_email": order.customer_email,
        "ship_to": _destination(session, order),
        "delivery_method": order.delivery_method,
        "total": order.total,
        "currency": order.currency,
        "lines": [[line.article_number, line.quantity] for line in order.lines],
        "created_at": _at(order.created_at),
        "updated_at": _at(order.updated_at),
        "dispatched_at": _at(order.dispatched_at),
    }


def _payment(payment: Payment | None) -> Entry | None:
    if payment is None:
        return None
    return {
        "part": payment.part,
        "status": payment.status,
        "attempts": payment.attempts,
        "gateway_id": payment.gateway_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "failure_code": payment.failure_code,
        "refund_id": payment.refund_id,
        "refund_attempts": payment.refund_attempts,
        "created_at": _at(payment.created_at),
        "updated_at": _at(payment.updated_at),
        "refunded_at": _at(payment.refunded_at),
    }


def _payments(session: Session, order_id: uuid.UUID) -> Entry:
    """Part 1's payment (the whole order's), and every part's for an order shipped in parts."""
    every = list(
        session.scalars(select(Payment).where(Payment.order_id == order_id).order_by(Payment.part))
    )
    first = next((p for p in every if p.part == 1), None)
    return {"payment": _payment(first), "payments": [_payment(p) for p in every]}


def _shipments(session: Session, order_id: uuid.UUID) -> list[Entry]:
    rows = session.execute(
        select(Shipment, Warehouse.code)
        .join(Warehouse, Warehouse.id == Shipment.warehouse_id)
        .where(Shipment.order_id == order_id)
        .order_by(Shipment.id)
    ).all()
    return [
        {
            "part": s.part,
            "warehouse": code,
            "carrier": s.carrier,
            "tracking_number": s.tracking_number,
            "status": s.status,
            "created_at": _at(s.created_at),
            "in_transit_at": _at(s.in_transit_at),
            "delivered_at": _at(s.delivered_at),
        }
        for s, code in rows
    ]


def _of(session: Session, table: Any, order_id: uuid.UUID) -> list[Any]:
    return list(session.scalars(select(table).where(table.order_id == order_id).order_by(table.id)))


def _parts(session: Session, order_id: uuid.UUID) -> Entry:
    return {
        "events": [
            {"at": _at(e.created_at), "kind": e.kind, "to_status": e.to_status, "detail": e.detail}
            for e in _of(session, OrderEvent, order_id)
        ],
        "allocation_receipts": [
            {
                "at": _at(r.created_at),
                "outcome": r.outcome,
                "rule": r.rule,
                "reason": r.reason,
                "picks": r.picks,
            }
            for r in _of(session, AllocationReceipt, order_id)
        ],
        **_payments(session, order_id),
        "shipments": _shipments(session, order_id),
        "mails": [
            {
                "kind": n.kind,
                "status": n.status,
                "attempts": n.attempts,
                "recipient": n.recipient,
                "last_error": n.last_error,
                "created_at": _at(n.created_at),
                "sent_at": _at(n.sent_at),
            }
            for n in _of(session, Notification, order_id)
        ],
        "pending": _pending(session, order_id),
    }


def _pending(session: Session, order_id: uuid.UUID) -> list[Entry]:
    rows = session.scalars(
        select(Outbox)
        .where(Outbox.message_key == str(order_id), Outbox.done_at.is_(None))
        .order_by(Outbox.id)
    )
    return [
        {
            "what": str(row.payload.get("task") or row.payload.get("type")),
            "args": row.payload.get("args", [])[1:],
            "attempts": row.attempts,
            "due_at": _at(row.due_at),
            "failed_at": _at(row.failed_at),
            "last_error": row.last_error,
        }
        for row in rows
    ]


def timeline(story: Entry) -> list[tuple[str, str, str]]:
    """Everything in the story that has a time, oldest first: (when, what, detail)."""
    entries: list[tuple[str | None, str, str]] = []
    for e in story["events"]:
        entries.append((e["at"], f"event {e['kind']}", _detail(e["detail"])))
    for r in story["allocation_receipts"]:
        entries.append((r["at"], f"allocation {r['outcome']}", r["reason"]))
    for p in story["payments"]:
        which = "payment" if p["part"] == 1 else f"payment part {p['part']}"
        entries.append((p["created_at"], f"{which} created", f"{p['amount']} {p['currency']}"))
        said = f"attempts {p['attempts']}, gateway {p['gateway_id'] or '-'}"
        entries.append((p["updated_at"], f"{which} {p['status']}", said))
    for s in story["shipments"]:
        parcel = f"{s['carrier']} {s['tracking_number']} from {s['warehouse']}"
        entries.append((s["created_at"], "parcel label created", parcel))
        entries.append((s["in_transit_at"], "parcel in transit", parcel))
        entries.append((s["delivered_at"], "parcel delivered", parcel))
    for m in story["mails"]:
        entries.append((m["created_at"], f"mail {m['kind']} queued", m["recipient"]))
        entries.append((m["sent_at"], f"mail {m['kind']} sent", f"attempts {m['attempts']}"))
    return sorted(((at, what, detail) for at, what, detail in entries if at), key=lambda e: e[0])


def _detail(detail: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in detail.items())


def story_of(sessions: sessionmaker[Session], order_id: str) -> Entry | None:
    """The order's whole story, or None when there is no such order."""
    try:
        key = uuid.UUID(order_id)
    except ValueError:
        return None
    with sessions() as session:
        order = session.get(Order, key)
        if order is None:
            return None
        story = {"order": _order(session, order), **_parts(session, key)}
    story["timeline"] = [{"at": at, "what": w, "detail": d} for at, w, d in timeline(story)]
    return story
