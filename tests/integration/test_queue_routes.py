"""Each step's tasks wait on a queue of the step's own, as Celery's router sends them."""

from __future__ import annotations

import pytest

from settings import Settings
from workers.celery_queues import QUEUES

# Every task the workers run, and the queue it must wait on.
EXPECTED = {
    "fulfillment.allocate": "allocation",
    "fulfillment.retry_backorders": "allocation",
    "fulfillment.charge": "payments",
    "fulfillment.charge_part": "payments",
    "fulfillment.refund": "payments",
    "fulfillment.refund_part": "payments",
    "fulfillment.settle_payment": "payments",
    "fulfillment.reconcile_payments": "payments",
    "fulfillment.renew_authorizations": "payments",
    "fulfillment.ship": "shipping",
    "fulfillment.ship_part": "shipping",
    "fulfillment.return_label": "shipping",
    "fulfillment.notify": "notifications",
    "fulfillment.alert_low_stock": "notifications",
    "fulfillment.deliver_webhook": "webhooks",
    "fulfillment.alert_webhook_disabled": "webhooks",
    "fulfillment.relay_outbox": "maintenance",
    "fulfillment.watchdog": "maintenance",
    "fulfillment.expire_idempotency_keys": "maintenance",
    "fulfillment.expire_pickups": "maintenance",
    "fulfillment.expire_reservations": "maintenance",
    "fulfillment.sweep_low_stock_alerts": "maintenance",
}


@pytest.mark.parametrize(("task", "queue"), EXPECTED.items())
def test_the_router_sends_each_task_to_its_steps_queue(
    settings: Settings, task: str, queue: str
) -> None:
    from workers.app import app  # noqa: PLC0415 - needs the broker settings the run has set

    routed = app.amqp.router.route({}, task)

    assert routed["queue"].name == f"{settings.celery_queue_prefix}{queue}"


def test_every_task_of_the_app_is_one_of_those_and_every_queue_has_tasks(
    settings: Settings,
) -> None:
    from workers.app import app  # noqa: PLC0415

    app.loader.import_default_modules()
    ours = {name for name in app.tasks if name.startswith("fulfillment.")}

    assert ours == set(EXPECTED)
    assert set(EXPECTED.values()) == set(QUEUES)
