"""order.allocated reaches the shop: allocation writes its timeline entry in a statement of its
own, and the shop must hear of it as of every other event it subscribed to."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.services.allocate import Allocated, AllocationResult
from tests.factories import order_body
from tests.integration.webhook_support import deliveries_of, run_deliveries, subscribed
from tests.webhook_receiver import receiver


def test_an_allocated_order_sends_order_allocated_after_order_placed(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    context: Context,
    product: str,
    allocate: Callable[..., AllocationResult],
) -> None:
    with receiver() as (url, script), subscribed(context, url):
        response = client.post("/orders", json=order_body([(product, 1)]))
        assert response.status_code == 202, response.get_json()
        order_id = uuid.UUID(response.get_json()["order_id"])
        assert allocate(order_id).outcome is Allocated.ALLOCATED

        deliveries = deliveries_of(sessions, order_id)
        run_deliveries(context, *(d.id for d in deliveries))

        events = [json.loads(r.body) for r in script.successes()]
        assert [e["type"] for e in events] == ["order.placed", "order.allocated"]
        allocated = events[1]["data"]
        assert (allocated["kind"], allocated["from_status"], allocated["status"]) == (
            "allocated",
            "received",
            "allocated",
        )
