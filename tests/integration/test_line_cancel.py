"""Cancelling units of an order's lines through the API: stock back, the money for them back
through the sandbox, once, and a mail saying what changed."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.mail import money
from models.domain.messages import OrderCancelled
from models.services.allocate import Allocated, allocate_order, fill_backorders
from models.services.charge import Charged, charge_order
from models.services.dispatch import follow_message
from models.services.refund_part import refund_part
from models.tables.orders import Order, OrderLine
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox, message_text
from tests.integration.line_cancel_support import (
    Placed,
    books,
    cancel,
    ledger,
    paid,
    placed,
    reserved,
)
from tests.keyed_client import sf_key


def settle(ctx: Context, order: Placed) -> None:
    """The cancel's message as the dispatcher takes it, then every task of the order."""
    with ctx.work() as session:
        follow_message(session, OrderCancelled(order.order_id, utcnow()))
    run_follow_ups(ctx, order.order_id)


def books_of_lines(ctx: Context, order: Placed) -> dict[int, int]:
    """Cancelled units per line number, of an order that may never have been charged."""
    with ctx.sessions() as session:
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.order_id))
        return {line.line_no: line.cancelled_quantity for line in lines}


def delivery_of(ctx: Context, order: Placed) -> int:
    with ctx.sessions() as session:
        cost = session.scalar(select(Order.delivery_cost).where(Order.id == order.order_id))
        return int(cost or 0)


def test_cancelling_units_of_a_paid_line_releases_them_and_refunds_them_once(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order = paid(client, context, [(1000, 3), (2500, 1)])
    assert reserved(context, order) == {1: 3, 2: 1}

    response = cancel(client, order, {1: 2}, reason="bought too many")

    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert [line["cancelled_quantity"] for line in document["lines"]] == [2, 0]
    assert [r["amount"] for r in document["refunds"]] == [2000]
    assert document["refunds"][0]["lines"] == [{"line_no": 1, "quantity": 2, "amount": 2000}]
    assert document["money"]["refunding"] == 2000
    assert reserved(context, order) == {1: 1, 2: 1}
    run_follow_ups(context, order.order_id)

    entry = ledger(context, order.order_id)
    assert entry["amount"] == 3000 + 2500 + document["costs"]["delivery"]
    assert [r["amount"] for r in entry["refunds"]] == [2000]
    assert books(context, order.order_id).refunded == 2000
    texts = [message_text(m) for m in mailbox.for_order(str(order.order_id))]
    cancelled = [t for t in texts if "we cancelled part of your order" in t]
    assert cancelled
    assert "2 x Test " in cancelled[0]
    assert "1 still on the order" in cancelled[0]
    assert "20.00 USD" in cancelled[0]
    # Its summary shows the order as it stands: one unit of the line, the total less two.
    assert f"1 x Test {order.articles[1]} ({order.articles[1]})  10.00 USD" in cancelled[0]
    assert f"Total: {money(document['costs']['total'] - 2000, 'USD')}" in cancelled[0]
    assert any("We refunded 20.00 USD" in t for t in texts)


def test_the_same_key_twice_cancels_once_and_answers_the_same(
    client: FlaskClient, context: Context
) -> None:
    order = paid(client, context, [(1000, 3)])
    first = cancel(client, order, {1: 1}, key="again-and-again")
    second = cancel(client, order, {1: 1}, key="again-and-again")

    assert first.status_code == second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json() == first.get_json()
    assert books(context, order.order_id).cancelled == {1: 1}
    run_follow_ups(context, order.order_id)
    assert [r["amount"] for r in ledger(context, order.order_id)["refunds"]] == [1000]


def test_a_line_cancelled_before_the_charge_is_never_charged(
    client: FlaskClient, context: Context
) -> None:
    order = placed(client, context, [(1000, 2), (4000, 1)])
    answer = cancel(client, order, {2: 1})
    assert answer.status_code == 200
    allocate_order(context.work, context.directory, context.settings, order.order_id)
    assert reserved(context, order) == {1: 2, 2: 0}
    assert charge_order(context.work, context.gateway, order.order_id) is Charged.PAID
    entry = ledger(context, order.order_id)
    assert entry["amount"] == books(context, order.order_id).charged
    assert entry["amount"] == answer.get_json()["costs"]["total"] - 4000


@pytest.mark.parametrize(
    ("lines", "field", "words"),
    [
        ([{"line_no": 9, "quantity": 1}], "lines[0].line_no", "no line 9"),
        ([{"line_no": 1, "quantity": 4}], "lines[0].quantity", "at most 3"),
        ([{"line_no": 1, "quantity": 0}], "lines[0].quantity", ""),
        ([{"line_no": 1, "quantity": -2}], "lines[0].quantity", ""),
        ([{"line_no": 1, "quantity": "1"}], "lines[0].quantity", ""),
        ([{"line_no": True, "quantity": 1}], "lines[0].line_no", ""),
        ([{"line_no": 1, "quantity": 1.5}], "lines[0].quantity", ""),
        (
            [{"line_no": 1, "quantity": 1}, {"line_no": 1, "quantity": 1}],
            "lines[1].line_no",
            "twice",
        ),
        ([], "lines", ""),
    ],
)
def test_bad_lines_are_refused_naming_field_and_reason(
    client: FlaskClient, context: Context, lines: list[dict[str, object]], field: str, words: str
) -> None:
    order = paid(client, context, [(1000, 3)])
    response = client.post(
        f"/orders/{order.order_id}/lines/cancel",
        json={"lines": lines},
        headers=order.auth | {"Idempotency-Key": sf_key()},
    )
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert any(e["field"] == field and words in e["reason"] for e in errors), errors
    assert books(context, order.order_id).cancelled == {1: 0}


def test_the_whole_order_refund_after_a_partial_one_mails_the_rest_it_gave_back(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order = paid(client, context, [(1000, 3), (2500, 1)])
    partial = cancel(client, order, {1: 2}).get_json()["refunds"][0]["refund_id"]
    # The partial refund goes out before the order is cancelled (and before it could ship).
    assert refund_part(context.work, context.gateway, order.order_id, partial).value == "refunded"
    whole = client.post(f"/orders/{order.order_id}/cancel", headers=order.auth)
    assert whole.status_code == 202
    settle(context, order)

    record = books(context, order.order_id)
    rest = money(record.charged - 2000, "USD")
    assert record.refunded == record.charged == ledger(context, order.order_id)["refunded"]
    texts = {m["Subject"]: message_text(m) for m in mailbox.for_order(str(order.order_id))}
    refunded = next(t for s, t in texts.items() if s.startswith("Your refund for order"))
    assert f"We refunded {rest} to your payment method: the rest of what you paid" in refunded
    assert "after the 20.00 USD refunded earlier" in refunded
    cancelled = next(t for s, t in texts.items() if "was cancelled" in s)
    assert f"A refund of {rest} is on its way" in cancelled


def test_cancelling_the_last_units_cancels_the_order_and_refunds_the_delivery_too(
    client: FlaskClient, context: Context
) -> None:
    order = paid(client, context, [(1000, 2), (2500, 1)])
    assert cancel(client, order, {1: 2}).status_code == 200

    last = cancel(client, order, {2: 1})
    settle(context, order)

    assert last.status_code == 200
    assert last.get_json()["status"] == "cancelled"
    assert [line["cancelled_quantity"] for line in last.get_json()["lines"]] == [2, 1]
    record = books(context, order.order_id)
    assert record.refunded == record.charged == ledger(context, order.order_id)["refunded"]
    assert record.per_line == {1: 2000}  # the rest went back with the order's own refund
    assert reserved(context, order) == {1: 0, 2: 0}


def test_while_the_charge_is_taken_a_cancel_is_asked_to_come_back_and_after_shipping_refused(
    client: FlaskClient, context: Context
) -> None:
    order = placed(client, context, [(1000, 2), (500, 1)])
    allocate_order(context.work, context.directory, context.settings, order.order_id)

    busy = cancel(client, order, {1: 1})

    assert busy.status_code == 409
    assert busy.headers["Retry-After"] == "5"
    assert "payment in progress" in busy.get_json()["detail"]
    charge_order(context.work, context.gateway, order.order_id)
    run_follow_ups(context, order.order_id)  # the ship step: it leaves
    late = cancel(client, order, {1: 1})
    assert late.status_code == 409
    assert "shipped" in late.get_json()["detail"]


def test_a_cancelled_line_shrinks_what_a_backorder_waits_for(
    client: FlaskClient, context: Context
) -> None:
    order = placed(client, context, [(1000, 3), (500, 1)], stock=1)
    wait = context.settings.model_copy(update={"shortage_policy": "backorder"})
    held = allocate_order(context.work, context.directory, wait, order.order_id)
    assert held.outcome is Allocated.BACKORDERED

    assert cancel(client, order, {1: 2}).status_code == 200
    filled = fill_backorders(context.work, context.directory, wait)

    assert (order.order_id, Allocated.ALLOCATED) in [(i, r.outcome) for i, r in filled]
    assert reserved(context, order) == {1: 1, 2: 1}
    assert charge_order(context.work, context.gateway, order.order_id) is Charged.PAID
    assert ledger(context, order.order_id)["amount"] == books(context, order.order_id).charged
    assert books(context, order.order_id).charged == 1000 + 500 + delivery_of(context, order)


def test_only_the_order_holder_may_cancel_its_lines(client: FlaskClient, context: Context) -> None:
    order = placed(client, context, [(1000, 2)])
    other = placed(client, context, [(1000, 2)])
    url = f"/orders/{order.order_id}/lines/cancel"
    body = {"lines": [{"line_no": 1, "quantity": 1}]}
    key = {"Idempotency-Key": sf_key()}

    foreign = client.post(url, json=body, headers=other.auth | key)
    nobody = client.post(url, json=body, headers=key)
    no_key = client.post(url, json=body, headers=order.auth)

    assert foreign.status_code == 404
    assert nobody.status_code == 401
    assert no_key.status_code == 400
    assert no_key.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert books_of_lines(context, order) == {1: 0}
