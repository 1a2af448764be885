"""Helpers for the returns tests: a delivered order on the payment sandbox, its returns opened
through the API, what came back, and what the sandbox's ledger says was refunded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bootstrap import Context
from intake.auth import STAFF_WRITE, issue_admin_token
from models.domain.clock import utcnow
from models.services.place import order_token
from models.services.track import apply_tracking
from models.tables.catalog import Stock
from models.tables.money import Refund
from tests.factories import NEWARK, add_product, add_warehouse
from tests.integration.tracking_support import shipments, shipped_order

PRICE = 2000


@dataclass(frozen=True)
class Delivered:
    """A delivered order of one article, and what opens it."""

    order_id: uuid.UUID
    article: str
    warehouse_id: int
    headers: dict[str, str]


def delivered(
    client: FlaskClient, ctx: Context, units: int = 3, *, days_ago: float = 1.0
) -> Delivered:
    """An order of `units` of a new article, shipped and delivered `days_ago` days ago."""
    article = add_product(ctx.sessions, price=PRICE)
    warehouse = add_warehouse(
        ctx.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={article: 10}
    )
    order_id = shipped_order(client, ctx, [(article, units)])
    at = utcnow() - timedelta(days=days_ago)
    with ctx.work() as session:
        for parcel in shipments(ctx.sessions, order_id):
            apply_tracking(session, parcel.tracking_number, "delivered", at=at, source="test")
    token = order_token(ctx.settings.order_token_secret.get_secret_value(), order_id)
    return Delivered(order_id, article, warehouse, {"Authorization": f"Bearer {token}"})


def staff(ctx: Context) -> dict[str, str]:
    """Headers of a staff member who may change orders."""
    token = issue_admin_token(ctx.settings, "returns-desk", roles=[STAFF_WRITE])
    return {"Authorization": f"Bearer {token}"}


def open_return(
    client: FlaskClient, order: Delivered, lines: list[tuple[int, int]], reason: str = "other"
) -> Any:
    """POST a return of (line_no, quantity) pairs; the response."""
    body = {"lines": [{"line_no": n, "quantity": q} for n, q in lines], "reason": reason}
    return client.post(f"/orders/{order.order_id}/returns", json=body, headers=order.headers)


def receive(
    client: FlaskClient, ctx: Context, order: Delivered, rma: str, counts: Any = None
) -> Any:
    """Staff receive the return, as counted ((line_no, received, accepted)) or in full."""
    body: dict[str, Any] = {}
    if counts is not None:
        body["lines"] = [{"line_no": n, "received": r, "accepted": a} for n, r, a in counts]
    return client.post(
        f"/orders/{order.order_id}/returns/{rma}/receive", json=body, headers=staff(ctx)
    )


def shelf(ctx: Context, order: Delivered) -> tuple[int, int, int]:
    """(on hand, reserved, quarantined) of the order's article in its warehouse."""
    with ctx.sessions() as session:
        row = session.get_one(Stock, (order.warehouse_id, order.article))
        return row.on_hand, row.reserved, row.quarantined


def refunds(ctx: Context, order_id: uuid.UUID) -> list[tuple[int, str, int | None]]:
    """(amount, status, return id) of the order's partial refunds."""
    with ctx.sessions() as session:
        rows = session.execute(
            select(Refund.amount, Refund.status, Refund.return_id)
            .where(Refund.order_id == order_id)
            .order_by(Refund.id)
        ).all()
        return [(a, s, r) for a, s, r in rows]


def refunded_total(ctx: Context, order_id: uuid.UUID) -> int:
    with ctx.sessions() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.order_id == order_id)
        )
        return int(total or 0)


def ledger_entry(ctx: Context, order_id: uuid.UUID) -> dict[str, Any]:
    """The sandbox's one charge of the order, with what was refunded of it."""
    url = ctx.settings.payment_api_base
    entries = requests.get(f"{url}/_sandbox/ledger", timeout=5).json()
    (mine,) = [e for e in entries if e["metadata"].get("order_id") == str(order_id)]
    return dict(mine)
