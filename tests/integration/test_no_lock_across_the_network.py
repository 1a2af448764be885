"""No row lock and no open transaction across a network call, and what a sender's death costs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.allocation import Site
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.lifecycle import OrderStatus
from models.ports import Post
from models.services.alert import send_low_stock_alert
from models.services.allocate import fill_backorders
from models.services.notify import Notified, _claim, send_notification
from models.store import db
from models.store.warehouses import WarehouseDirectory
from models.tables.base import normalise_url
from models.tables.catalog import StockAlert
from models.tables.fulfilment import Notification
from models.tables.orders import Order
from tests.admin_support import new_shelf, open_alert
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.infra import Mailbox

WAIT = 10.0


class Held:
    """A mail server that holds each message until the test lets it through."""

    def __init__(self) -> None:
        self.talking = threading.Event()
        self.release = threading.Event()
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.talking.set()
        assert self.release.wait(WAIT)
        self.sent.append(message)


def in_background(action: Callable[[], Any]) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=action)
    thread.start()
    yield thread
    thread.join(WAIT)


def lockable(sessions: sessionmaker[Session], statement: Any) -> bool:
    """Whether the rows of `statement` can be locked at once (nobody holds them)."""
    with sessions() as session, session.begin():
        session.execute(text("SET LOCAL lock_timeout = '300ms'"))
        try:
            session.execute(statement.with_for_update(nowait=True)).all()
        except Exception:  # LockNotAvailable, wrapped by SQLAlchemy
            return False
        return True


class WatchingDirectory(WarehouseDirectory):
    """The warehouse directory, noting at each allocation how many other sessions sit idle
    inside an open transaction."""

    def __init__(self) -> None:
        super().__init__(refresh=0)
        self.idle_in_transaction: list[int] = []

    def sites(self, session: Session) -> Mapping[int, Site]:
        """The warehouses, after counting the idle transactions of every other session."""
        idle = session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
            )
        )
        self.idle_in_transaction.append(int(idle or 0))
        return super().sites(session)


def placed(client: FlaskClient, ctx: Context) -> uuid.UUID:
    bed = add_product(ctx.sessions)
    response = client.post("/orders", json=order_body([(bed, 1)]))
    assert response.status_code == 202
    return uuid.UUID(response.get_json()["order_id"])


def test_a_mail_is_sent_with_its_row_unlocked_and_no_transaction_open(
    client: FlaskClient, context: Context
) -> None:
    order_id = placed(client, context)
    server = Held()
    outcome: list[Notified] = []
    row = select(Notification).where(Notification.dedupe_key == f"{order_id}:received")

    for thread in in_background(
        lambda: outcome.append(
            send_notification(
                context.work,
                Post(server, context.post.renderer),
                context.settings,
                order_id,
                "received",
            )
        )
    ):
        assert server.talking.wait(WAIT)
        free_while_talking = lockable(context.sessions, row)
        with context.sessions() as session:
            idle = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                )
            )
        server.release.set()
        thread.join(WAIT)

    assert free_while_talking
    assert idle == 0
    assert outcome == [Notified.SENT]


def test_a_restock_never_waits_on_the_mail_server(context: Context) -> None:
    shelf = new_shelf(context.sessions, on_hand=2)
    alert_id = open_alert(context.sessions, shelf)
    server = Held()

    for thread in in_background(
        lambda: send_low_stock_alert(context.work, server, context.settings, alert_id)
    ):
        assert server.talking.wait(WAIT)
        # What a restock does to the alert: clear it, under a short lock timeout.
        with context.sessions() as session, session.begin():
            session.execute(text("SET LOCAL lock_timeout = '300ms'"))
            session.execute(
                update(StockAlert).where(StockAlert.id == alert_id).values(cleared_at=utcnow())
            )
        server.release.set()
        thread.join(WAIT)

    with context.sessions() as session:
        stored = session.get(StockAlert, alert_id)
        assert stored is not None
        assert stored.cleared_at is not None
        assert stored.notified_at is not None


def test_a_sender_that_died_after_the_server_took_the_mail_resends_it_only_after_its_claim(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id = placed(client, context)
    claimed = _claim(context.work, context.post.renderer, context.settings, order_id, "received")
    assert not isinstance(claimed, Notified)
    context.mailer.send(claimed[0])  # the server took it; the sender died before recording

    with pytest.raises(TryLater):
        send_notification(context.work, context.post, context.settings, order_id, "received")
    with context.work() as session:
        session.execute(
            update(Notification)
            .where(Notification.dedupe_key == f"{order_id}:received")
            .values(claimed_at=utcnow() - timedelta(hours=1))
        )
    resent = send_notification(context.work, context.post, context.settings, order_id, "received")

    assert resent is Notified.SENT
    copies = [str(m["Message-ID"]).strip() for m in mailbox.for_order(str(order_id))]
    assert copies == [f"<received.{order_id}@fulfillment.example>"] * 2
    with context.sessions() as session:
        note = session.scalars(
            select(Notification).where(Notification.dedupe_key == f"{order_id}:received")
        ).one()
    assert (note.status, note.attempts) == ("sent", 2)


def test_filling_backorders_keeps_no_transaction_open_across_the_orders(
    client: FlaskClient, context: Context
) -> None:
    bed = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 30})
    waiting = []
    for _ in range(30):
        response = client.post("/orders", json=order_body([(bed, 1)]))
        waiting.append(uuid.UUID(response.get_json()["order_id"]))
    with context.sessions() as session, session.begin():
        session.execute(
            update(Order).where(Order.id.in_(waiting)).values(status=OrderStatus.BACKORDERED)
        )
    watching = WatchingDirectory()

    filled = fill_backorders(context.work, watching, context.settings)

    mine = [result.outcome.value for order_id, result in filled if order_id in waiting]
    assert mine == ["allocated"] * 30
    # While each order was allocated, no other session sat inside an open transaction.
    assert len(watching.idle_in_transaction) >= 30
    assert set(watching.idle_in_transaction) == {0}


class CuttingServer:
    """A mail server that takes the mail while the database drops every pooled connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
        # A connection of its own, outside the pool whose connections it cuts.
        killer = create_engine(normalise_url(self.url))
        with killer.begin() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND application_name = 'fulfillment'"
                )
            )
        killer.dispose()


def test_a_mail_sent_while_the_database_dropped_its_connection_is_still_recorded_once(
    client: FlaskClient, context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = placed(client, context)
    server = CuttingServer(context.settings.require_database_url())
    args = (context.work, Post(server, context.post.renderer), context.settings, order_id)
    # Every connection counts as in steady use, so none is pinged: the record's checkout
    # gets a connection that died while the mail was being sent.
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)

    assert send_notification(*args, "received") is Notified.SENT
    assert send_notification(*args, "received") is Notified.ALREADY_SENT

    assert len(server.sent) == 1
    with context.sessions() as session:
        status = session.scalar(
            select(Notification.status).where(Notification.dedupe_key == f"{order_id}:received")
        )
    assert status == "sent"
