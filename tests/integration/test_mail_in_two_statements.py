"""A mail costs two statements: one claims it and reads the order, one records it sent."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bootstrap import Context
from models.domain.follow_ups import CURRENT, Current
from models.domain.tasks import NOTIFY
from models.services.notify import Notified, send_notification
from models.store.follow_ups import later
from models.tables.fulfilment import Notification
from models.tables.orders import OrderEvent
from models.tables.outbox import Outbox
from tests.factories import add_product, order_body
from tests.infra import Mailbox


def placed(client: FlaskClient, context: Context) -> uuid.UUID:
    lamp, desk = add_product(context.sessions), add_product(context.sessions)
    response = client.post("/orders", json=order_body([(lamp, 1), (desk, 2)]))
    assert response.status_code == 202
    return uuid.UUID(response.get_json()["order_id"])


def test_a_mail_is_claimed_in_one_statement_and_recorded_in_another(
    client: FlaskClient, context: Context, mailbox: Mailbox, statements: list[str]
) -> None:
    order_id = placed(client, context)
    with context.work() as session:
        follow_up = later(session, NOTIFY, str(order_id), "paid")
    assert follow_up is not None
    current = Current(follow_up.id)
    token = CURRENT.set(current)
    statements.clear()
    try:
        notified = send_notification(context.work, context.post, context.settings, order_id, "paid")
    finally:
        CURRENT.reset(token)

    assert notified is Notified.SENT
    # No ORM load, no BEGIN and COMMIT: the claim with the order's view, then the record.
    assert [s.split()[:2] for s in statements] == [["WITH", "claimed"], ["WITH", "ended"]]
    assert current.finished
    with context.sessions() as session:
        note = session.scalars(
            select(Notification).where(Notification.dedupe_key == f"{order_id}:paid")
        ).one()
        events = session.scalars(
            select(OrderEvent.detail).where(
                OrderEvent.order_id == order_id, OrderEvent.kind == "notified"
            )
        ).all()
        row = session.get(Outbox, follow_up.id)
        assert row is not None
        assert row.done_at is not None
    assert (note.status, note.attempts, note.last_error) == ("sent", 1, None)
    assert note.sent_at is not None
    assert note.recipient == order_body([])["customer"]["email"]
    assert events == [{"kind": "paid"}]
    assert len(mailbox.for_order(str(order_id))) == 1


def test_a_mail_sent_before_is_neither_claimed_nor_sent_again(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id = placed(client, context)
    first = send_notification(context.work, context.post, context.settings, order_id, "received")
    again = send_notification(context.work, context.post, context.settings, order_id, "received")

    assert (first, again) == (Notified.SENT, Notified.ALREADY_SENT)
    assert len(mailbox.for_order(str(order_id))) == 1
    with context.sessions() as session:
        attempts = session.scalar(
            select(Notification.attempts).where(Notification.dedupe_key == f"{order_id}:received")
        )
    assert attempts == 1


def test_a_mail_about_no_order_is_a_lookup_error_and_writes_nothing(context: Context) -> None:
    order_id = uuid.uuid4()
    with pytest.raises(LookupError):
        send_notification(context.work, context.post, context.settings, order_id, "received")
    with context.sessions() as session:
        rows = session.scalars(select(Notification).where(Notification.order_id == order_id))
        assert rows.all() == []
