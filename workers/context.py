"""The composition root: real adapters for the running process, fakes injected by tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from models.db import session_factory
from models.directory import WarehouseDirectory
from models.unit_of_work import Work
from settings import Settings, get_settings
from workers.adapters.carrier import Carrier, choose_carrier
from workers.adapters.email import Mailer, mailer_from_settings
from workers.adapters.payments import PaymentGateway, StripeGateway
from workers.adapters.sqs import OrdersQueue
from workers.follow_ups import MessagePublisher, Publishers, SendTask, TaskPublisher


@dataclass
class Context:
    """Everything a pipeline step needs from the outside world."""

    settings: Settings
    # Units of work whose follow-up tasks go to the broker right after commit.
    work: Work
    gateway: PaymentGateway
    mailer: Mailer
    # The carrier for a parcel from one country to another.
    carriers: Callable[..., Carrier]
    directory: WarehouseDirectory
    # Everything the relay publishes: tasks to the broker, messages to SQS.
    relay_publisher: Publishers

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Plain sessions, for reading (a change goes through `work`, with its follow-ups)."""
        return self.work.sessions


def build_context(settings: Settings, send_task: SendTask | None = None) -> Context:
    """Real adapters for `settings`; tasks go out through `send_task` (the Celery app's)."""
    if send_task is None:
        from workers.app import app  # noqa: PLC0415 - the broker settings load only when needed

        send_task = app.send_task
    sessions = session_factory(settings.require_database_url())
    tasks = TaskPublisher(send_task)
    queue = OrdersQueue.from_settings(settings, timeout=settings.sqs_publish_timeout)
    return Context(
        settings=settings,
        work=Work(sessions, tasks, lease_seconds=settings.follow_up_lease_seconds),
        gateway=StripeGateway.from_settings(settings),
        mailer=mailer_from_settings(settings),
        carriers=choose_carrier,
        directory=WarehouseDirectory(refresh=settings.warehouse_cache_seconds),
        relay_publisher=Publishers(tasks, MessagePublisher(queue, sessions)),
    )


_building = threading.Lock()
_installed: list[Context] = []


@lru_cache(maxsize=1)
def _context() -> Context:
    return build_context(get_settings())


def get_context() -> Context:
    """The process's context, built once on first use (after a prefork worker has forked).

    The lock keeps the threads of a thread-pool worker from each building one on their
    first task; lru_cache alone would let them race.
    """
    with _building:
        return _installed[-1] if _installed else _context()


def install_context(context: Context | None) -> None:
    """Use `context` instead of the one built from the environment (None: stop doing so)."""
    with _building:
        _installed.clear()
        if context is not None:
            _installed.append(context)
