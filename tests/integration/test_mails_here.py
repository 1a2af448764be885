"""A worker sends a step's mails itself, once; a paused mail queue keeps them in the broker."""

from __future__ import annotations

import contextlib
import uuid

import pytest
import redis
from celery import Celery
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from bootstrap import Context
from models.domain.follow_ups import FollowUp
from models.store.follow_ups import later
from models.store.pauses import pause
from models.tables.operations import PausedQueue
from models.tables.outbox import Outbox
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.infra import Mailbox
from workers.celery_queues import queue_name
from workers.mails_here import MAIL_QUEUE, send_mails


@pytest.fixture
def celery(settings: Settings) -> Celery:
    from workers.app import app  # noqa: PLC0415 - needs the broker settings the run has set

    app.loader.import_default_modules()
    return app


def received_mail(client: FlaskClient, ctx: Context) -> tuple[uuid.UUID, FollowUp]:
    bed = add_product(ctx.sessions)
    add_warehouse(ctx.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    response = client.post("/orders", json=order_body([(bed, 1)]))
    order_id = uuid.UUID(response.get_json()["order_id"])
    with ctx.work() as session:
        row = later(session, "fulfillment.notify", str(order_id), "received", key=f"t:{order_id}")
    assert row is not None
    return order_id, row


def done(ctx: Context, row: FollowUp) -> bool:
    with ctx.sessions() as session:
        return session.scalar(select(Outbox.done_at).where(Outbox.id == row.id)) is not None


def waiting(settings: Settings) -> int:
    with contextlib.closing(redis.Redis.from_url(settings.require_redis_url())) as client:
        return int(client.llen(queue_name(settings.celery_queue_prefix, MAIL_QUEUE)))


def test_a_mail_sent_here_goes_out_once_and_ends_its_row(
    client: FlaskClient, context: Context, mailbox: Mailbox, celery: Celery, settings: Settings
) -> None:
    order_id, row = received_mail(client, context)
    before = waiting(settings)

    send_mails(celery, [row], here=True, by="test")
    send_mails(celery, [row], here=True, by="test")

    assert len(mailbox.for_order(str(order_id))) == 1
    assert done(context, row)
    assert waiting(settings) == before


def test_with_the_mail_queue_paused_the_mail_waits_in_the_broker(
    client: FlaskClient, context: Context, mailbox: Mailbox, celery: Celery, settings: Settings
) -> None:
    order_id, row = received_mail(client, context)
    with context.work() as session:
        assert pause(session, MAIL_QUEUE, by="test", reason="mail server migration")
    before = waiting(settings)
    try:
        send_mails(celery, [row], here=True, by="test")
    finally:
        with context.work() as session:
            session.execute(delete(PausedQueue).where(PausedQueue.queue == MAIL_QUEUE))

    assert mailbox.for_order(str(order_id)) == []
    assert not done(context, row)
    assert waiting(settings) == before + 1
