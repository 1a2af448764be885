"""A line cancelled while the allocate step waits for the order's lock: the allocation must
reserve only the units still ordered, not those it read before the cancel committed."""

from __future__ import annotations

import threading
import time

from flask.testing import FlaskClient

from bootstrap import Context
from models.domain.clock import utcnow
from models.services.allocate import Allocated, AllocationResult, allocate_order
from models.services.cancel_lines import cancel_lines
from tests.integration.line_cancel_support import placed, reserved


def test_an_allocation_waiting_on_a_line_cancel_reserves_only_what_is_left(
    client: FlaskClient, context: Context
) -> None:
    order = placed(client, context, [(1000, 3), (500, 2)])
    results: list[AllocationResult] = []
    with context.work() as session:
        cancel_lines(session, order.order_id, {1: 2}, reason="r", actor="a", now=utcnow())
        allocating = threading.Thread(
            target=lambda: results.append(
                allocate_order(context.work, context.directory, context.settings, order.order_id)
            )
        )
        allocating.start()
        time.sleep(1.0)  # the allocate step has read the lines and waits for the order's lock
    allocating.join(30)

    assert [r.outcome for r in results] == [Allocated.ALLOCATED]
    assert reserved(context, order) == {1: 1, 2: 2}
