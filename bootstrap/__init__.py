"""The composition root: the one place that builds adapters and hands them to the services.

The intake, the dispatcher, every Celery worker and the tests build their collaborators here,
real ones from the settings unless a fake is given. Nothing else constructs an adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from models.ports import (
    Carrier,
    DeadLetters,
    Mailer,
    MessageQueue,
    PaymentGateway,
    Post,
    Publisher,
)
from models.services.dispatch import Dispatcher
from models.store.db import session_factory
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from settings import Settings, get_settings
from telemetry.instruments import messages_dispatched
from workers.adapters.background import BackgroundPublisher
from workers.adapters.carriers import choose_carrier
from workers.adapters.mail_templates import TemplateRenderer
from workers.adapters.publishers import MessagePublisher, Publishers, SendTask, TaskPublisher
from workers.adapters.ses import SesMailer
from workers.adapters.smtp import SmtpMailer
from workers.adapters.sqs import OrdersQueue
from workers.adapters.stripe import StripeGateway

if TYPE_CHECKING:
    from workers.adapters.celery_control import CeleryQueueControl


@dataclass
class Context:
    """Everything a service needs from the outside world, for one process."""

    settings: Settings
    # Units of work whose follow-ups this process publishes right after commit.
    work: Work
    gateway: PaymentGateway
    # How order emails are made and sent.
    post: Post
    # The carrier for a parcel from one country to another.
    carriers: Callable[..., Carrier]
    directory: WarehouseDirectory
    # Everything the relay publishes: tasks to the broker, messages to SQS.
    relay_publisher: Publishers
    queue: MessageQueue

    @property
    def mailer(self) -> Mailer:
        """What sends mail (order emails and operations' alerts alike)."""
        return self.post.mailer

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Plain sessions, for reading (a change goes through `work`, with its follow-ups)."""
        return self.work.sessions


def mailer_from_settings(settings: Settings) -> Mailer:
    """The mailer MAIL_TRANSPORT names."""
    if settings.mail_transport == "ses":
        return SesMailer(settings)
    return SmtpMailer(settings)


def build_context(
    settings: Settings,
    *,
    send_task: SendTask | None = None,
    gateway: PaymentGateway | None = None,
    mailer: Mailer | None = None,
    carriers: Callable[..., Carrier] | None = None,
    queue: MessageQueue | None = None,
    publish_in_background: bool = False,
) -> Context:
    """Real adapters for `settings`, unless given.

    With `send_task` (a Celery app's), task rows go to the broker right after commit; without
    it (the intake, which never imports Celery, and the tests) they wait for the relay or the
    test, and only SQS messages go out at once: from a background thread with
    `publish_in_background` (the intake, so no request waits on SQS), else before the unit
    of work returns.
    """
    sessions = session_factory(settings.require_database_url())
    # One quick attempt: a slow SQS must not hold anyone up; the relay catches up.
    queue = queue or OrdersQueue.from_settings(
        settings, timeout=settings.sqs_publish_timeout, attempts=1
    )
    messages = MessagePublisher(queue, sessions)
    work, relay_publisher = _publishing(
        settings, sessions, messages, send_task, background=publish_in_background
    )
    return Context(
        settings=settings,
        work=work,
        gateway=gateway or StripeGateway.from_settings(settings),
        post=Post(mailer or mailer_from_settings(settings), TemplateRenderer()),
        carriers=carriers or choose_carrier,
        directory=WarehouseDirectory(refresh=settings.warehouse_cache_seconds),
        relay_publisher=relay_publisher,
        queue=queue,
    )


def _publishing(
    settings: Settings,
    sessions: sessionmaker[Session],
    messages: MessagePublisher,
    send_task: SendTask | None,
    *,
    background: bool,
) -> tuple[Work, Publishers]:
    """Units of work publishing right after commit, and everything the relay publishes."""
    if send_task is None:
        grace = settings.outbox_relay_grace_seconds
        after_commit: Publisher = (
            BackgroundPublisher(messages, fresh_for=grace) if background else messages
        )
        work = Work(sessions, after_commit, lease_seconds=grace)
        return work, Publishers(messages)
    lease = settings.follow_up_lease_seconds
    work = Work(sessions, TaskPublisher(send_task, carry_mails=True), lease_seconds=lease)
    return work, Publishers(TaskPublisher(send_task), messages)


def build_dispatcher(context: Context) -> Dispatcher:
    """The SQS consumer, long-polling the orders queue and recording into `context`'s work."""
    settings = context.settings
    return Dispatcher(
        # Its reads wait out a long poll, so its timeout is longer than a publisher's.
        OrdersQueue.from_settings(settings, timeout=settings.sqs_wait_seconds + 10),
        context.work,
        wait_seconds=settings.sqs_wait_seconds,
        visibility_timeout=settings.sqs_visibility_timeout,
        observe=messages_dispatched,
    )


def build_dead_letters(settings: Settings) -> DeadLetters:
    """The dead-letter queue as operations read and replay it (a few seconds' patience)."""
    return OrdersQueue.from_settings(settings, timeout=10)


def build_queue_control(settings: Settings) -> CeleryQueueControl:
    """The workers' queue consumers, switched through the broker (Celery loaded only here)."""
    from workers.adapters.celery_control import CeleryQueueControl  # noqa: PLC0415

    return CeleryQueueControl(settings.require_redis_url(), settings.celery_queue_prefix)


_building = threading.Lock()
_installed: list[Context] = []


@lru_cache(maxsize=1)
def _worker_context() -> Context:
    from workers.app import app  # noqa: PLC0415 - the broker settings load only in workers

    return build_context(get_settings(), send_task=app.send_task)


def get_context() -> Context:
    """The worker process's context, built once on first use (after a prefork child forked).

    The lock keeps the threads of a thread-pool worker from each building one on their
    first task; lru_cache alone would let them race.
    """
    with _building:
        return _installed[-1] if _installed else _worker_context()


def install_context(context: Context | None) -> None:
    """Use `context` instead of the one built from the environment (None: stop doing so)."""
    with _building:
        _installed.clear()
        if context is not None:
            _installed.append(context)
