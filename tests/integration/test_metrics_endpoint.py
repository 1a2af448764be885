"""GET /metrics: the outbox's lag, SQS's depths (or its absence), and the intake's counters."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from devstack.processes import free_port
from intake.queue_depth import QueueCollector, depths_of
from models.domain.clock import utcnow
from models.tables.outbox import Outbox
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.keyed_client import sf_key
from workers.adapters.sqs import OrdersQueue

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: FlaskClient, settings: Settings) -> Samples:
    token = settings.metrics_token.get_secret_value()
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def old_message(sessions: sessionmaker[Session]) -> Iterator[None]:
    """A message recorded two minutes ago and not yet on SQS (due later, so no relay takes it)."""
    with sessions.begin() as session:
        row = session.execute(
            insert(Outbox)
            .values(
                topic="orders",
                message_key=str(uuid.uuid4()),
                payload={},
                created_at=utcnow() - timedelta(seconds=120),
                due_at=utcnow() + timedelta(hours=1),
            )
            .returning(Outbox.id)
        ).scalar_one()
    yield
    with sessions.begin() as session:
        session.execute(delete(Outbox).where(Outbox.id == row))


@pytest.mark.usefixtures("old_message")
def test_the_outbox_lag_is_the_age_of_its_oldest_pending_message(
    client: FlaskClient, settings: Settings
) -> None:
    samples = scrape(client, settings)

    lag = sample(samples, "fulfillment_outbox_oldest_pending_age_seconds", topic="orders")
    assert 120 <= lag < 600
    assert ("fulfillment_outbox_oldest_pending_age_seconds", (("topic", "task"),)) in samples
    assert sample(samples, "fulfillment_outbox_pending") >= 1


def test_the_scrape_shows_both_queues_depths_and_sqs_up(
    client: FlaskClient, settings: Settings, queue: OrdersQueue
) -> None:
    samples = scrape(client, settings)

    assert sample(samples, "fulfillment_sqs_up") == 1
    assert sample(samples, "fulfillment_sqs_messages", queue="orders") >= 0
    assert ("fulfillment_sqs_messages", (("queue", "dlq"),)) in samples


def test_with_sqs_away_the_depths_are_absent_within_a_few_seconds(settings: Settings) -> None:
    away = settings.model_copy(update={"sqs_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        QueueCollector(depths_of(OrdersQueue.from_settings(away, timeout=1.0, attempts=1)))
    )

    started = time.monotonic()
    up = registry.get_sample_value("fulfillment_sqs_up")
    depth = registry.get_sample_value("fulfillment_sqs_messages", {"queue": "orders"})

    assert (up, depth) == (0, None)
    assert time.monotonic() - started < 5


def test_accepted_orders_and_replays_are_counted_apart(
    client: FlaskClient, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    number = add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={number: 5})
    before = scrape(client, settings)
    key = sf_key()

    first = client.post("/orders", json=order_body([(number, 1)]), headers={"Idempotency-Key": key})
    again = client.post("/orders", json=order_body([(number, 1)]), headers={"Idempotency-Key": key})
    client.post("/orders", json=order_body([(number, 1)]))
    after = scrape(client, settings)

    assert (first.status_code, again.headers.get("Idempotent-Replayed")) == (202, "true")

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("fulfillment_orders_submitted_total", outcome="accepted") == 2
    assert moved("fulfillment_orders_submitted_total", outcome="replayed") == 1
    posts = {"route": "/orders", "method": "POST"}
    assert moved("fulfillment_http_requests_total", **posts, status="202") == 3
    assert moved("fulfillment_http_request_duration_seconds_count", **posts) == 3
    assert (
        moved("fulfillment_http_requests_total", route="/metrics", method="GET", status="200") == 1
    )
