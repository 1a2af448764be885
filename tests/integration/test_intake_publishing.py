"""The intake answers once the order is committed; its SQS messages go out in the background."""

from __future__ import annotations

import contextlib
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import build_context
from devstack.processes import wait_until
from intake import create_app
from models.tables.outbox import Outbox
from settings import Settings
from tests.factories import order_body
from tests.integration.test_intake import drain, post
from tests.keyed_client import KeyedClient
from workers.adapters.sqs import OrdersQueue


class BlackHole:
    """An SQS endpoint that takes connections and requests and never answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.requests = threading.Semaphore(0)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.server.accept()
                self.held.append(connection)
                if connection.recv(65536):
                    self.requests.release()

    def close(self) -> None:
        self.server.close()
        for connection in self.held:
            connection.close()


def background_app(settings: Settings, **changes: Any) -> Flask:
    """The intake as it runs: its own context, publishing to SQS from a background thread."""
    changed = settings.model_copy(update=changes)
    app = create_app(changed, build_context(changed, publish_in_background=True))
    app.test_client_class = KeyedClient
    return app


def test_the_order_is_answered_without_waiting_for_sqs(
    settings: Settings, product: str, sessions: sessionmaker[Session]
) -> None:
    hole = BlackHole()
    # SQS would hold a request that waited on it for 60 s.
    app = background_app(settings, sqs_endpoint_url=hole.url, sqs_publish_timeout=60.0)
    answers: list[Any] = []
    request = threading.Thread(
        target=lambda: answers.append(post(app.test_client(), order_body([(product, 1)])))
    )
    try:
        request.start()
        request.join(timeout=15)
        assert not request.is_alive()
        assert answers[0].status_code == 202
        assert hole.requests.acquire(timeout=10)  # the publish was sent, and is still unanswered
    finally:
        hole.close()
    with sessions() as session:
        outbox = session.scalars(
            select(Outbox).where(Outbox.message_key == answers[0].get_json()["order_id"])
        ).one()
    assert outbox.done_at is None  # the relay publishes it once SQS answers


def test_orders_placed_at_once_all_reach_sqs_and_are_marked_sent(
    settings: Settings, product: str, sessions: sessionmaker[Session], queue: OrdersQueue
) -> None:
    app = background_app(settings)
    client = app.test_client()
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: post(client, order_body([(product, 1)])), range(24)))
    ids = {r.get_json()["order_id"] for r in responses}
    assert {r.status_code for r in responses} == {202}

    def sent() -> int:
        with sessions() as session:
            rows = select(func.count()).where(
                Outbox.message_key.in_(ids), Outbox.done_at.is_not(None)
            )
            return session.scalar(rows) or 0

    wait_until(lambda: sent() == len(ids), 15, "every message sent")
    assert ids <= set(drain(queue))
