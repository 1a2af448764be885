"""Returns at the same time: one return received twice at once, many returns of one order
opened and received at once, and the money that comes out of it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bootstrap import Context
from models.domain.clock import utcnow
from models.services.return_receipt import Receipt, receive_return
from models.tables.orders import OrderLine
from tests.concurrency import at_once
from tests.follow_up_support import run_follow_ups
from tests.integration.returns_support import (
    PRICE,
    Delivered,
    delivered,
    ledger_entry,
    open_return,
    receive,
    refunds,
    shelf,
)


def _receive(context: Context, order: Delivered, rma: str) -> Receipt:
    with context.work() as session:
        return receive_return(session, order.order_id, rma, None, actor="test", now=utcnow())


def test_a_return_received_twice_at_once_restocks_once_and_refunds_once(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=2)
    before = shelf(context, order)
    rma = open_return(client, order, [(1, 2)]).get_json()["rma_number"]

    receipts = at_once(*[lambda: _receive(context, order, rma)] * 2)
    run_follow_ups(context, order.order_id)

    assert sorted(r.already for r in receipts) == [False, True]
    assert shelf(context, order)[0] == before[0] + 2
    assert [(a, s) for a, s, _ in refunds(context, order.order_id)] == [(2 * PRICE, "succeeded")]
    assert ledger_entry(context, order.order_id)["refunded"] == 2 * PRICE


def test_returns_opened_and_received_at_once_never_give_back_more_than_came_back(
    app: Flask, client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=5)
    before = shelf(context, order)

    opened = at_once(
        *[lambda i=i: open_return(app.test_client(), order, [(1, 1 + i % 2)]) for i in range(8)]
    )
    numbers = [r.get_json()["rma_number"] for r in opened if r.status_code == 201]
    # Each return received twice at once, half of them with one unit refused.
    counts = [None if i % 2 else [(1, 1, 1)] for i in range(len(numbers))]
    answers = at_once(
        *[
            lambda i=i: receive(app.test_client(), context, order, numbers[i // 2], counts[i // 2])
            for i in range(2 * len(numbers))
        ]
    )
    run_follow_ups(context, order.order_id)

    asked = sum(1 + i % 2 for i, r in enumerate(opened) if r.status_code == 201)
    assert asked <= 5
    assert {r.status_code for r in opened} <= {201, 422}
    assert sum(not a.get_json()["already_received"] for a in answers) == len(numbers)
    with context.sessions() as session:
        returned = session.scalar(
            select(OrderLine.returned_quantity).where(OrderLine.order_id == order.order_id)
        )
    given_back = refunds(context, order.order_id)
    assert sum(a for a, _, _ in given_back) == (returned or 0) * PRICE
    assert all(s == "succeeded" for _, s, _ in given_back)
    assert shelf(context, order)[0] == before[0] + (returned or 0)
    entry = ledger_entry(context, order.order_id)
    assert entry["refunded"] == (returned or 0) * PRICE <= entry["amount"]
