"""Money is conserved under concurrent line cancels: several clients cancel lines of one paid
order at once, a whole-order cancel races them, and afterwards the sandbox's refunds are what
our records say, never above the charge in all or per line, with the stock back where it
belongs. A refund step run twice, or a cancel sent twice under one key, refunds once."""

from __future__ import annotations

import random
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.messages import OrderCancelled
from models.services.dispatch import follow_message
from models.services.refund import Refunded
from models.services.refund_part import refund_part
from models.tables.catalog import Stock
from models.tables.money import Refund
from models.tables.orders import Order
from tests.concurrency import at_once
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox
from tests.integration.line_cancel_support import Placed, books, cancel, ledger, paid, reserved
from tests.keyed_client import sf_key

LINES = [(1000, 4), (2500, 3), (700, 5)]
STOCK = 20


def on_hand(ctx: Context, order: Placed) -> dict[int, int]:
    with ctx.sessions() as session:
        return {
            n: session.scalars(
                select(Stock.on_hand).where(
                    Stock.warehouse_id == order.warehouse_id, Stock.article_number == a
                )
            ).one()
            for n, a in order.articles.items()
        }


def _status(ctx: Context, order: Placed) -> str:
    with ctx.sessions() as session:
        return str(session.scalar(select(Order.status).where(Order.id == order.order_id)))


def _settle(ctx: Context, order: Placed) -> None:
    """What the dispatcher and workers do next: the cancel's message, then every task."""
    if _status(ctx, order) == "cancelled":
        with ctx.work() as session:
            follow_message(session, OrderCancelled(order.order_id, utcnow()))
    run_follow_ups(ctx, order.order_id)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_concurrent_line_cancels_and_a_racing_whole_cancel_conserve_money(
    app: Flask, context: Context, seed: int
) -> None:
    order = paid(app.test_client(), context, LINES)
    rng = random.Random(seed)
    asks = [{rng.randrange(1, 4): rng.randrange(1, 3)} for _ in range(7)]
    jobs: list[Any] = [lambda ask=ask: cancel(app.test_client(), order, ask) for ask in asks]
    if seed % 2:
        whole = f"/orders/{order.order_id}/cancel"
        jobs.insert(
            rng.randrange(len(jobs)), lambda: app.test_client().post(whole, headers=order.auth)
        )

    answers = at_once(*jobs)
    held = reserved(context, order)  # before the ship step, if it comes, takes them away
    _settle(context, order)

    assert all(a.status_code < 500 for a in answers), [a.get_json() for a in answers]
    assert {a.status_code for a in answers} <= {200, 202, 409, 422}
    entry, record = ledger(context, order.order_id), books(context, order.order_id)
    assert entry["amount"] == record.charged
    assert entry["refunded"] == sum(r["amount"] for r in entry["refunds"]) == record.refunded
    assert 0 <= record.refunded <= record.charged
    for line_no, value in record.line_value.items():
        assert 0 <= record.per_line.get(line_no, 0) <= value
    if _status(context, order) == "cancelled":
        assert record.refunded == record.charged
        assert held == {1: 0, 2: 0, 3: 0}
    else:
        expected = {n: record.cancelled[n] * price for n, (price, _) in enumerate(LINES, 1)}
        assert {n: record.per_line.get(n, 0) for n in expected} == expected
        assert record.refunded == sum(expected.values())
        left = {n: units - record.cancelled[n] for n, (_, units) in enumerate(LINES, 1)}
        assert held == left
        assert on_hand(context, order) == {n: STOCK - units for n, units in left.items()}


def test_one_cancel_sent_twice_at_once_under_one_key_cancels_and_refunds_once(
    app: Flask, context: Context
) -> None:
    order = paid(app.test_client(), context, LINES)
    key = sf_key()[1:-1]

    answers = at_once(*[lambda: cancel(app.test_client(), order, {2: 1}, key=key)] * 4)
    _settle(context, order)

    assert [a.status_code for a in answers] == [200] * 4
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 3
    assert books(context, order.order_id).cancelled == {1: 0, 2: 1, 3: 0}
    assert [r["amount"] for r in ledger(context, order.order_id)["refunds"]] == [2500]


def test_a_refund_step_run_again_after_a_crash_refunds_once(
    app: Flask, context: Context, mailbox: Mailbox
) -> None:
    order = paid(app.test_client(), context, LINES)
    assert cancel(app.test_client(), order, {1: 2}).status_code == 200
    with context.sessions() as session:
        refund_id = session.scalars(
            select(Refund.id).where(Refund.order_id == order.order_id)
        ).one()

    first = refund_part(context.work, context.gateway, order.order_id, refund_id)
    # As if the worker died after the gateway answered and before the answer was recorded.
    with context.work() as session:
        session.execute(update(Refund).where(Refund.id == refund_id).values(status="pending"))
    second = refund_part(context.work, context.gateway, order.order_id, refund_id)
    third = refund_part(context.work, context.gateway, order.order_id, refund_id)
    run_follow_ups(context, order.order_id)

    assert (first, second, third) == (
        Refunded.REFUNDED,
        Refunded.REFUNDED,
        Refunded.NOTHING_TO_REFUND,
    )
    assert [r["amount"] for r in ledger(context, order.order_id)["refunds"]] == [2000]
    issued = [m for m in mailbox.for_order(str(order.order_id)) if "refunded part" in m["Subject"]]
    assert len(issued) == 1
