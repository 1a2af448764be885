"""What the intake holds for its lifetime: settings, sessions, the queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from models.db import session_factory
from models.unit_of_work import Work
from settings import Settings
from workers.adapters.sqs import OrdersQueue
from workers.follow_ups import MessagePublisher

EXTENSION = "fulfillment"


@dataclass
class Runtime:
    """The intake's long-lived collaborators."""

    settings: Settings
    sessions: sessionmaker[Session]
    queue: OrdersQueue
    # Units of work whose SQS messages are published right after commit.
    work: Work
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Real collaborators for the configured database and queue."""
        # One quick attempt: a slow SQS must not hold up the response; the relay catches up.
        queue = OrdersQueue.from_settings(
            settings, timeout=settings.sqs_publish_timeout, attempts=1
        )
        sessions = session_factory(settings.require_database_url())
        work = Work(
            sessions,
            MessagePublisher(queue, sessions),
            lease_seconds=settings.outbox_relay_grace_seconds,
        )
        return cls(settings, sessions, queue, work)


def runtime() -> Runtime:
    """The runtime of the current app."""
    return cast(Runtime, current_app.extensions[EXTENSION])


def install(app: Flask, rt: Runtime) -> None:
    """Attach the runtime to the app."""
    app.extensions[EXTENSION] = rt
