"""What a customer sees of their order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.reading_money import money_view, refunds_view
from intake.return_views import return_documents
from models.domain.lifecycle import DeliveryMethod, OrderStatus
from models.domain.mail import place_line
from models.store.catalog import product_names
from models.store.order_parts import parcel_view, parts_view, payment_view
from models.store.parts import lines_waiting
from models.store.warehouses import pickup_warehouse
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Allocation, AllocationReceipt, Payment, Shipment
from models.tables.orders import Order, OrderEvent


def _lines(session: Session, order: Order) -> list[dict[str, Any]]:
    names = product_names(session, order)
    return [
        {
            "line_no": line.line_no,
            "article_number": line.article_number,
            "name": names.get(line.article_number),
            "quantity": line.quantity,
            "cancelled_quantity": line.cancelled_quantity,
            "unit_price": line.unit_price,
            "amount": line.quantity * line.unit_price,
        }
        for line in order.lines
    ]


def _allocation(session: Session, order: Order) -> dict[str, Any] | None:
    receipt = session.scalars(
        select(AllocationReceipt)
        .where(AllocationReceipt.order_id == order.id)
        .order_by(AllocationReceipt.id.desc())
        .limit(1)
    ).first()
    if receipt is None:
        return None
    rows = session.execute(
        select(Allocation.article_number, Allocation.quantity, Warehouse.code, Warehouse.name)
        .join(Warehouse, Warehouse.id == Allocation.warehouse_id)
        .where(Allocation.order_id == order.id)
        .order_by(Allocation.id)
    ).all()
    return {
        "outcome": receipt.outcome,
        "reason": receipt.reason,
        "lines": [
            {"article_number": r[0], "quantity": r[1], "warehouse": r[2], "warehouse_name": r[3]}
            for r in rows
        ],
    }


def _pickup(session: Session, order: Order) -> dict[str, Any] | None:
    """Where a pickup order is collected: its one warehouse, once it is allocated."""
    if order.delivery_method != DeliveryMethod.SELF_SERVICE.value:
        return None
    place = pickup_warehouse(session, order.id)
    if place is None:
        return None
    return {
        "warehouse": place.code,
        "name": place.name,
        "address_line1": place.address_line1,
        "postal_code": place.postal_code,
        "city": place.city,
        "country": place.country,
        "opening_hours": place.opening_hours,
        "address": place_line(
            place.name, place.address_line1, place.postal_code, place.city, place.country
        ),
        "ready_at": order.pickup_ready_at.isoformat() if order.pickup_ready_at else None,
        "hold_until": order.pickup_hold_until.isoformat() if order.pickup_hold_until else None,
    }


def _payment(session: Session, order: Order) -> dict[str, Any] | None:
    """Part 1's payment: the whole order's, unless it ships in parts (then see `parts`)."""
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id, Payment.part == 1))
    return None if payment is None else payment_view(payment)


def _waiting(session: Session, order: Order) -> list[dict[str, Any]]:
    """Units of a partially shipped order that no part holds yet: they follow later."""
    if order.status != OrderStatus.PARTIALLY_SHIPPED.value:
        return []
    waiting = lines_waiting(session, order.id)
    return [{"article_number": a, "quantity": q} for a, q in waiting.items()]


def order_view(session: Session, order: Order) -> dict[str, Any]:
    """Status, lines, costs, ETA, allocation, payment, tracking and the timeline."""
    return {
        "order_id": str(order.id),
        "status": order.status,
        "customer": {"email": order.customer_email, "name": order.customer_name},
        "delivery_method": order.delivery_method,
        "lines": _lines(session, order),
        "costs": {
            "currency": order.currency,
            "subtotal": order.subtotal,
            "delivery": order.delivery_cost,
            "total": order.total,
        },
        "eta": order.eta.isoformat(),
        "allocation": _allocation(session, order),
        "payment": _payment(session, order),
        "refunds": refunds_view(session, order),
        "money": money_view(session, order),
        "shipments": _shipments(session, order),
        "parts": parts_view(session, order.id),
        "waiting": _waiting(session, order),
        "pickup": _pickup(session, order),
        "timeline": timeline(session, order),
        "returns": return_documents(session, order.id),
        "created_at": order.created_at.isoformat(),
    }


def _shipments(session: Session, order: Order) -> list[dict[str, Any]]:
    shipments = session.scalars(
        select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
    )
    return [parcel_view(s) for s in shipments]


def timeline(session: Session, order: Order) -> list[dict[str, Any]]:
    events = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    )
    return [
        {"at": e.created_at.isoformat(), "event": e.kind, "status": e.to_status, "detail": e.detail}
        for e in events
    ]
