"""Orders with several lines taken to `paid` against the sandbox, and their line cancels,
for the line cancellation tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bootstrap import Context
from models.services.allocate import Allocated, allocate_order
from models.services.charge import Charged, charge_order
from models.tables.catalog import Stock
from models.tables.fulfilment import Payment
from models.tables.money import Refund, RefundLine
from models.tables.orders import OrderLine
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.keyed_client import sf_key


@dataclass(frozen=True)
class Placed:
    """An order, the token that opens it, its articles (by line number) and their warehouse."""

    order_id: uuid.UUID
    token: str
    articles: dict[int, str]
    warehouse_id: int

    @property
    def auth(self) -> dict[str, str]:
        """The guest's Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


def placed(
    client: FlaskClient, ctx: Context, lines: list[tuple[int, int]], stock: int = 20
) -> Placed:
    """An order of (price, units) lines from one warehouse in Newark, received."""
    articles = [add_product(ctx.sessions, price=price) for price, _ in lines]
    warehouse = add_warehouse(
        ctx.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock=dict.fromkeys(articles, stock)
    )
    body = order_body([(a, q) for a, (_, q) in zip(articles, lines, strict=True)])
    response = client.post("/orders", json=body)
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    numbered = {i + 1: a for i, a in enumerate(articles)}
    return Placed(uuid.UUID(answer["order_id"]), answer["order_token"], numbered, warehouse)


def paid(
    client: FlaskClient, ctx: Context, lines: list[tuple[int, int]], stock: int = 20
) -> Placed:
    """An order of (price, units) lines, allocated and charged at the sandbox."""
    order = placed(client, ctx, lines, stock)
    allocated = allocate_order(ctx.work, ctx.directory, ctx.settings, order.order_id)
    assert allocated.outcome is Allocated.ALLOCATED
    assert charge_order(ctx.work, ctx.gateway, order.order_id) is Charged.PAID
    return order


def cancel(
    client: FlaskClient,
    order: Placed,
    lines: dict[int, int],
    *,
    key: str | None = None,
    reason: str | None = None,
) -> Any:
    """POST the line cancel as the order's guest; the test client's response."""
    body: dict[str, Any] = {"lines": [{"line_no": n, "quantity": q} for n, q in lines.items()]}
    if reason is not None:
        body["reason"] = reason
    headers = order.auth | {"Idempotency-Key": sf_key(key)}
    return client.post(f"/orders/{order.order_id}/lines/cancel", json=body, headers=headers)


def ledger(ctx: Context, order_id: uuid.UUID) -> dict[str, Any]:
    """The sandbox's one charge of the order, with its refunds."""
    url = ctx.settings.payment_api_base
    entries = requests.get(f"{url}/_sandbox/ledger", timeout=5).json()
    mine = [e for e in entries if e["metadata"].get("order_id") == str(order_id)]
    assert len(mine) == 1, mine
    return dict(mine[0])


def reserved(ctx: Context, order: Placed) -> dict[int, int]:
    """Reserved units of each line's article in the order's warehouse."""
    with ctx.sessions() as session:
        return {
            n: int(session.get(Stock, (order.warehouse_id, a)).reserved)  # type: ignore[union-attr]
            for n, a in order.articles.items()
        }


@dataclass(frozen=True)
class Books:
    """What our records say of an order's money, in minor units."""

    charged: int
    refunded: int
    per_line: dict[int, int]
    line_value: dict[int, int]
    cancelled: dict[int, int]
    payment_status: str


def books(ctx: Context, order_id: uuid.UUID) -> Books:
    """Charged, refunded (partial succeeded, plus the whole-order rest), and per line."""
    with ctx.sessions() as session:
        payment = session.scalars(select(Payment).where(Payment.order_id == order_id)).one()
        partial = session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.order_id == order_id, Refund.status == "succeeded"
            )
        )
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)).all()
        shares = session.execute(
            select(OrderLine.line_no, func.sum(RefundLine.amount))
            .join(RefundLine, RefundLine.order_line_id == OrderLine.id)
            .join(Refund, Refund.id == RefundLine.refund_id)
            .where(OrderLine.order_id == order_id, Refund.status == "succeeded")
            .group_by(OrderLine.line_no)
        ).all()
        whole = 0
        if payment.status == "refunded":
            whole = payment.amount - int(partial or 0)
        return Books(
            charged=payment.amount,
            refunded=int(partial or 0) + whole,
            per_line={int(n): int(a) for n, a in shares},
            line_value={line.line_no: line.quantity * line.unit_price for line in lines},
            cancelled={line.line_no: line.cancelled_quantity for line in lines},
            payment_status=payment.status,
        )
