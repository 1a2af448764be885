"""Webhooks to the shop, delivered to a real HTTP receiver through the outbox's follow-ups."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.tasks import DELIVER_WEBHOOK
from models.domain.webhooks import SIGNATURE_HEADER
from models.services.webhooks import deliver_webhook
from models.store.orders import record_event
from models.tables.outbox import Outbox
from models.tables.webhooks import WebhookEvent
from models.tables.webhooks import WebhookSubscription as WebhookSubscriptionTable
from settings import Settings
from tests.follow_up_support import pending
from tests.integration.webhook_support import (
    SECRET,
    WEBHOOK_TASKS,
    attempts_of,
    deliveries_of,
    place,
    run_deliveries,
    subscribed,
)
from tests.webhook_receiver import receiver, verify_signature


def test_an_event_arrives_signed_by_the_documented_recipe(
    client: FlaskClient, sessions: sessionmaker[Session], context: Context
) -> None:
    with receiver() as (url, script), subscribed(context, url):
        order_id = place(client, sessions)
        (delivery,) = deliveries_of(sessions, order_id)
        run_deliveries(context, delivery.id)

        (arrived,) = script.received
        header = arrived.headers[SIGNATURE_HEADER]
        assert verify_signature(SECRET, header, arrived.body)
        assert not verify_signature("whsec_another", header, arrived.body)
        assert not verify_signature(SECRET, header, arrived.body + b" ")
        event = json.loads(arrived.body)
        assert event["type"] == "order.placed"
        assert event["data"]["order_id"] == str(order_id)
        assert arrived.headers["Webhook-Id"] == event["id"]


def test_a_500_then_a_200_is_one_success_after_two_attempts(
    client: FlaskClient, sessions: sessionmaker[Session], context: Context
) -> None:
    with receiver() as (url, script), subscribed(context, url):
        script.statuses = [500]
        order_id = place(client, sessions)
        (delivery,) = deliveries_of(sessions, order_id)
        run_deliveries(context, delivery.id)

        assert len(script.successes()) == 1
        assert [r.status for r in script.received] == [500, 200]
        log = attempts_of(sessions, delivery.id)
        assert [(a.attempt, a.status_code, a.outcome) for a in log] == [
            (1, 500, "retry"),
            (2, 200, "succeeded"),
        ]
        assert all(a.latency_ms >= 0 for a in log)
        (ended,) = deliveries_of(sessions, order_id)
        assert (ended.status, ended.attempts, ended.last_status_code) == ("succeeded", 2, 200)


def test_a_4xx_is_not_retried(
    client: FlaskClient, sessions: sessionmaker[Session], context: Context
) -> None:
    with receiver() as (url, script), subscribed(context, url):
        script.statuses = [400, 400]
        order_id = place(client, sessions)
        (delivery,) = deliveries_of(sessions, order_id)
        run_deliveries(context, delivery.id)

        assert [r.status for r in script.received] == [400]
        (ended,) = deliveries_of(sessions, order_id)
        assert (ended.status, ended.attempts) == ("failed", 1)
        assert pending(context, delivery.id, only=WEBHOOK_TASKS) == []


def test_a_timeout_is_tried_again(
    client: FlaskClient, sessions: sessionmaker[Session], context: Context, settings: Settings
) -> None:
    quick = settings.model_copy(update={"webhook_timeout_seconds": 0.2})
    with receiver() as (url, script), subscribed(context, url):
        order_id = place(client, sessions)
        (delivery,) = deliveries_of(sessions, order_id)
        script.delay_seconds = 1.0
        with pytest.raises(TryLater):
            deliver_webhook(context.work, quick, delivery.id)
        script.delay_seconds = 0.0
        assert deliver_webhook(context.work, quick, delivery.id) == "succeeded"
        # Its follow-up, run now, finds the delivery ended.
        assert run_deliveries(context, delivery.id)[0][2] == "ended"

        log = attempts_of(sessions, delivery.id)
        assert [(a.status_code, a.outcome) for a in log] == [(None, "retry"), (200, "succeeded")]
        assert "no answer within" in (log[0].error or "")


def test_an_orders_events_arrive_in_the_order_they_happened(
    client: FlaskClient, sessions: sessionmaker[Session], context: Context
) -> None:
    with receiver() as (url, script), subscribed(context, url):
        script.statuses = [503]
        order_id = place(client, sessions)
        with context.work() as session:
            record_event(session, order_id, "cancelled", detail={"reason": "test"})
        first, second = deliveries_of(sessions, order_id)

        # The later event is asked first: it waits for the earlier one, which asks for it.
        run_deliveries(context, second.id)
        assert script.received == []
        run_deliveries(context, first.id, second.id)

        types = [json.loads(r.body)["type"] for r in script.received]
        assert types == ["order.placed", "order.placed", "order.cancelled"]
        assert [r.status for r in script.received] == [503, 200, 200]


def test_a_subscription_failing_too_long_is_disabled_and_operations_told_once(
    client: FlaskClient, sessions: sessionmaker[Session], context: Context, mailbox: object
) -> None:
    with receiver() as (url, script), subscribed(context, url) as subscription_id:
        script.statuses = [500] * 5
        order_id = place(client, sessions)
        (delivery,) = deliveries_of(sessions, order_id)
        with context.work() as session:
            session.execute(
                update(WebhookSubscriptionTable)
                .where(WebhookSubscriptionTable.id == subscription_id)
                .values(failing_since=utcnow() - timedelta(hours=25))
            )
        run_deliveries(context, delivery.id, subscription_id)
        run_deliveries(context, subscription_id)

        with sessions() as session:
            subscription = session.get(WebhookSubscriptionTable, subscription_id)
            assert subscription is not None
            assert not subscription.active
            assert "failed since" in (subscription.disabled_reason or "")
        # Parked: the delivery waits, unsent, for the subscription to be enabled again.
        assert [r.status for r in script.received] == [500]
        (parked,) = deliveries_of(sessions, order_id)
        assert parked.status == "pending"
        told = [
            m
            for m in mailbox.messages  # type: ignore[attr-defined]
            if f"Webhook subscription {subscription_id} disabled" in str(m["Subject"])
        ]
        assert len(told) == 1
        assert SECRET not in told[0].as_string()


def test_no_subscription_writes_no_webhook_rows(
    client: FlaskClient, sessions: sessionmaker[Session], context: Context
) -> None:
    started = utcnow()
    order_id = place(client, sessions)
    with context.work() as session:
        record_event(session, order_id, "cancelled", detail={"reason": "test"})
    with sessions() as session:
        events = session.scalar(
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.order_id == order_id)
        )
        follow_ups = session.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.created_at >= started, Outbox.payload["task"].astext == DELIVER_WEBHOOK)
        )
    assert (events, deliveries_of(sessions, order_id), follow_ups) == (0, [], 0)


def test_a_subscription_gets_only_the_types_it_asked_for(
    client: FlaskClient, sessions: sessionmaker[Session], context: Context
) -> None:
    with receiver() as (url, _script), subscribed(context, url, "order.cancelled"):
        order_id = place(client, sessions)
        assert deliveries_of(sessions, order_id) == []
        with context.work() as session:
            record_event(session, order_id, "cancelled", detail={"reason": "test"})
            record_event(session, order_id, "dispatched")
        (delivery,) = deliveries_of(sessions, order_id)
    with sessions() as session:
        event = session.get(WebhookEvent, delivery.event_id)
        assert event is not None
        assert event.type == "order.cancelled"
