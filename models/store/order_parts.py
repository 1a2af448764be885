"""An order's parts as the API and the ops story show them: each part's units, payment and
parcels. A whole order has one part; a partially fulfilled one a part per shipment wave."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables.catalog import Warehouse
from models.tables.fulfilment import Allocation, Payment, Shipment


def _unit_state(shipped: bool, released: bool) -> str:
    return "shipped" if shipped else "released" if released else "allocated"


def payment_view(payment: Payment) -> dict[str, Any]:
    """A payment as the order document shows it."""
    return {
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "failure_code": payment.failure_code,
        "capture_before": payment.capture_before.isoformat() if payment.capture_before else None,
    }


def parcel_view(shipment: Shipment) -> dict[str, Any]:
    """A shipment as the order document shows it."""
    return {
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "status": shipment.status,
        "eta": shipment.eta.isoformat() if shipment.eta else None,
        "delivered_at": shipment.delivered_at.isoformat() if shipment.delivered_at else None,
    }


def parts_view(session: Session, order_id: uuid.UUID) -> list[dict[str, Any]]:
    """Each part of the order, in order: its allocated units, its payment and its parcels."""
    units = session.execute(
        select(
            Allocation.part,
            Allocation.article_number,
            Allocation.quantity,
            Warehouse.code,
            Allocation.shipped_at.is_not(None),
            Allocation.released_at.is_not(None),
        )
        .join(Warehouse, Warehouse.id == Allocation.warehouse_id)
        .where(Allocation.order_id == order_id)
        .order_by(Allocation.part, Allocation.id)
    ).all()
    payments = {
        p.part: p for p in session.scalars(select(Payment).where(Payment.order_id == order_id))
    }
    shipments = list(
        session.scalars(select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id))
    )
    numbers = sorted({row[0] for row in units} | set(payments))
    return [
        {
            "part": n,
            "lines": [
                {
                    "article_number": article,
                    "quantity": quantity,
                    "warehouse": code,
                    "state": _unit_state(shipped, released),
                }
                for part, article, quantity, code, shipped, released in units
                if part == n
            ],
            "payment": payment_view(payments[n]) if n in payments else None,
            "shipments": [parcel_view(s) for s in shipments if s.part == n],
        }
        for n in numbers
    ]
