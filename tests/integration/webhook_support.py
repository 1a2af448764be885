"""Subscriptions, orders and deliveries for the webhook tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.tasks import ALERT_WEBHOOK_DISABLED, DELIVER_WEBHOOK
from models.services.webhook_admin import create_subscription, delete_subscription
from models.tables.webhooks import WebhookAttempt, WebhookDelivery
from tests.factories import add_product, order_body
from tests.follow_up_support import run_follow_ups

SECRET = "whsec_test_secret"


@contextmanager
def subscribed(context: Context, url: str, *event_types: str) -> Iterator[int]:
    """An active subscription for the test's receiver, removed afterwards with its deliveries."""
    with context.work() as session:
        subscription_id = create_subscription(
            session, url=url, event_types=event_types, secret=SECRET
        ).id
    try:
        yield subscription_id
    finally:
        with context.work() as session:
            delete_subscription(session, subscription_id)


def place(client: FlaskClient, sessions: sessionmaker[Session]) -> uuid.UUID:
    """A placed order (not yet dispatched)."""
    response = client.post("/orders", json=order_body([(add_product(sessions), 1)]))
    assert response.status_code == 202, response.get_json()
    return uuid.UUID(response.get_json()["order_id"])


def deliveries_of(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[WebhookDelivery]:
    """The order's deliveries, in the order its events happened."""
    with sessions() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.order_id == order_id)
                .order_by(WebhookDelivery.id)
            )
        )


def attempts_of(sessions: sessionmaker[Session], delivery_id: int) -> list[WebhookAttempt]:
    """A delivery's log, oldest attempt first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == delivery_id)
                .order_by(WebhookAttempt.id)
            )
        )


# The webhooks queue's tasks: their rows carry a delivery's or a subscription's id.
WEBHOOK_TASKS = (DELIVER_WEBHOOK, ALERT_WEBHOOK_DISABLED)


def run_deliveries(context: Context, *delivery_ids: int) -> list[tuple[str, list[Any], Any]]:
    """Run the deliveries' follow-ups as a worker would, retries' waits passed at once: only
    theirs, though a low-stock alert's row may carry the same number."""
    from workers import webhook_tasks  # noqa: F401, PLC0415 - registers the tasks

    return run_follow_ups(context, *delivery_ids, only=WEBHOOK_TASKS)
