"""What the intake holds for its lifetime: settings, sessions, the queue."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import cast

from flask import Flask, current_app
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.db import session_factory
from models.infra import Outbox
from settings import Settings
from workers.adapters.sqs import OrdersQueue

log = logging.getLogger(__name__)

EXTENSION = "fulfillment"


@dataclass
class Runtime:
    """The intake's long-lived collaborators."""

    settings: Settings
    sessions: sessionmaker[Session]
    queue: OrdersQueue
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Real collaborators for the configured database and queue."""
        # One quick attempt: a slow SQS must not hold up the response; the relay catches up.
        queue = OrdersQueue.from_settings(
            settings, timeout=settings.sqs_publish_timeout, attempts=1
        )
        return cls(settings, session_factory(settings.require_database_url()), queue)

    def publish_after_commit(
        self, outbox_id: int, order_id: str, message: dict[str, object]
    ) -> bool:
        """Publish a committed order's message and mark it sent; False leaves it to the relay."""
        try:
            self.queue.publish(message)
        except Exception as exc:  # any failure is the relay's to retry, none is the client's
            log.warning(
                "publish failed, outbox relay will retry: %s", exc, extra={"order_id": order_id}
            )
            return False
        with self.sessions() as session, session.begin():
            session.execute(
                update(Outbox)
                .where(Outbox.id == outbox_id, Outbox.published_at.is_(None))
                .values(published_at=utcnow(), attempts=Outbox.attempts + 1)
            )
        return True


def runtime() -> Runtime:
    """The runtime of the current app."""
    return cast(Runtime, current_app.extensions[EXTENSION])


def install(app: Flask, rt: Runtime) -> None:
    """Attach the runtime to the app."""
    app.extensions[EXTENSION] = rt
