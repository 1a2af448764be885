"""`ops receive-return`: staff record what came back, once, from the command line."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from bootstrap import Context
from tests.integration.returns_support import delivered, open_return, shelf


def test_receive_return_as_counted_receives_once_and_refuses_bad_counts(
    app: Flask, client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=3)
    before = shelf(context, order)
    rma = open_return(client, order, [(1, 3)]).get_json()["rma_number"]
    runner = app.test_cli_runner()

    bad = runner.invoke(args=["ops", "receive-return", rma, "1=2:3"])
    garbled = runner.invoke(args=["ops", "receive-return", rma, "one"])
    unknown = runner.invoke(args=["ops", "receive-return", "RMA-00000000"])
    first = runner.invoke(args=["ops", "receive-return", rma.lower(), "1=2:1", "--by", "kim"])
    again = runner.invoke(args=["ops", "receive-return", rma])

    assert bad.exit_code == 1
    assert "accepted more than the 2 received" in bad.output
    assert garbled.exit_code == 2
    assert "LINE=RECEIVED:ACCEPTED" in garbled.output
    assert unknown.exit_code == 1
    assert first.exit_code == 0, first.output
    assert f"return {rma} of order {order.order_id}: partially_received, refund 20.00 USD" in (
        first.output
    )
    assert again.exit_code == 0
    assert "received before (partially_received); nothing changed" in again.output
    assert shelf(context, order)[0] == before[0] + 1
