"""The return label is booked with nothing locked and no transaction open: a carrier that
takes its time holds up no receipt, no other return and no order."""

from __future__ import annotations

import threading
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, text

from bootstrap import Context
from models.ports import Label
from models.services.return_label import Labelled, label_return
from models.tables.orders import Order
from models.tables.returns import OrderReturn
from tests.integration.returns_support import delivered, open_return
from tests.integration.test_no_lock_across_the_network import WAIT, in_background, lockable
from workers.adapters.fakes import FakeCarrier


class SlowCarrier(FakeCarrier):
    """A carrier that books a return label only once the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.talking = threading.Event()
        self.release = threading.Event()

    def create_return_label(self, *, order_id: str, warehouse_code: str) -> Label:
        self.talking.set()
        assert self.release.wait(WAIT)
        return super().create_return_label(order_id=order_id, warehouse_code=warehouse_code)


def _idle_in_transaction(context: Context) -> int:
    with context.sessions() as session:
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                )
            )
            or 0
        )


def test_the_return_label_is_booked_with_no_row_locked_and_no_transaction_open(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=1)
    rma = open_return(client, order, [(1, 1)]).get_json()["rma_number"]
    with context.sessions() as session:
        return_id = session.scalar(select(OrderReturn.id).where(OrderReturn.rma_number == rma))
    assert return_id is not None
    carrier = SlowCarrier()
    outcome: list[Any] = []

    for thread in in_background(
        lambda: outcome.append(label_return(context.work, carrier, order.order_id, return_id))
    ):
        assert carrier.talking.wait(WAIT)
        order_free = lockable(context.sessions, select(Order).where(Order.id == order.order_id))
        return_free = lockable(
            context.sessions, select(OrderReturn).where(OrderReturn.id == return_id)
        )
        idle = _idle_in_transaction(context)
        carrier.release.set()
        thread.join(WAIT)

    assert order_free
    assert return_free
    assert idle == 0
    assert outcome == [Labelled.LABELLED]
    with context.sessions() as session:
        number = session.scalar(
            select(OrderReturn.tracking_number).where(OrderReturn.id == return_id)
        )
    assert number == carrier.booked[0].tracking_number
