"""`ops cancel-lines`: operations cancel units of an order's lines as the API does."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from bootstrap import Context
from tests.follow_up_support import run_follow_ups
from tests.integration.line_cancel_support import books, ledger, paid


def ops(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["ops", *args])
    return result.exit_code, result.output


def test_operations_cancel_units_and_the_money_goes_back(
    app: Flask, client: FlaskClient, context: Context
) -> None:
    order = paid(client, context, [(1000, 3), (400, 2)])

    code, said = ops(app, "cancel-lines", str(order.order_id), "1=2", "2=1", "--by", "kim")
    run_follow_ups(context, order.order_id)

    assert code == 0, said
    assert "cancelled 2 of line 1, 1 of line 2; 3 units back on the shelf" in said
    assert "refund 24.00 USD" in said
    assert books(context, order.order_id).cancelled == {1: 2, 2: 1}
    assert ledger(context, order.order_id)["refunded"] == 2400


def test_bad_lines_and_unknown_orders_exit_1_saying_why(
    app: Flask, client: FlaskClient, context: Context
) -> None:
    order = paid(client, context, [(1000, 1), (400, 1)])

    assert ops(app, "cancel-lines", str(order.order_id), "1=5")[0] == 1
    assert "at most 1 of line 1" in ops(app, "cancel-lines", str(order.order_id), "1=5")[1]
    assert "LINE_NO=UNITS" in ops(app, "cancel-lines", str(order.order_id), "1-5")[1]
    assert "named twice" in ops(app, "cancel-lines", str(order.order_id), "1=1", "1=1")[1]
    assert "no order nope" in ops(app, "cancel-lines", "nope", "1=1")[1]
    assert books(context, order.order_id).cancelled == {1: 0, 2: 0}
