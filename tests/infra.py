"""The real services the integration and end-to-end tests run against.

PostgreSQL and Redis at 127.0.0.1 are used when they answer, embedded ones are started when
they do not (or always, with TEST_EMBEDDED=1). Each test session gets its own database,
its own Celery queue names and its own SQS queues, so runs never see each other's data.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.processes import free_port
from devstack.services import (
    RunningService,
    postgres_answers,
    redis_answers,
    start_postgres,
    start_redis,
)
from settings import Settings


@dataclass
class Mailbox:
    """Messages an SMTP server received, and the replies it should give instead of 250."""

    messages: list[Message] = field(default_factory=list)
    refuse_with: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message, or answer with the next queued refusal."""
        with self.lock:
            if self.refuse_with:
                return self.refuse_with.pop(0)
            content = envelope.original_content or b""
            self.messages.append(message_from_bytes(content))
        return "250 OK"

    def for_order(self, order_id: str) -> list[Message]:
        """Messages whose text names the order."""
        with self.lock:
            return [m for m in self.messages if order_id in _text(m)]


def _body(part: Message) -> str:
    payload = part.get_payload(decode=True)
    return payload.decode(errors="replace") if isinstance(payload, bytes) else str(payload or "")


def _text(message: Message) -> str:
    # A multipart message (text with an HTML alternative) reads as all its parts in order.
    body = "\n".join(_body(part) for part in message.walk() if not part.is_multipart())
    return f"{message.get('Subject', '')}\n{body}"


def message_text(message: Message) -> str:
    """Subject and body of a received message."""
    return _text(message)


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on a free port, in this process."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


@contextlib.contextmanager
def postgres_server(settings: Settings) -> Iterator[str]:
    """The local PostgreSQL when it answers, an embedded one otherwise."""
    if not settings.test_embedded and postgres_answers(settings.test_database_url):
        yield settings.test_database_url
        return
    service = start_postgres()
    try:
        yield service.url
    finally:
        service.stop()


@contextlib.contextmanager
def redis_server(settings: Settings) -> Iterator[str]:
    """The local Redis when it answers, an embedded one otherwise."""
    if not settings.test_embedded and redis_answers(settings.test_redis_url):
        yield settings.test_redis_url
        return
    service = start_redis()
    try:
        yield service.url
    finally:
        service.stop()


@contextlib.contextmanager
def running(service: RunningService) -> Iterator[RunningService]:
    """Stop the service when the block ends."""
    try:
        yield service
    finally:
        service.stop()


def settings_for_tests(base: Settings, **overrides: Any) -> Settings:
    """Settings for this test session: unique queue names, short polls, fast retries."""
    run = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "environment": "test",
        "orders_queue": f"orders-{run}",
        "orders_dlq": f"orders-dlq-{run}",
        "celery_queue_prefix": f"t{run}-",
        "sqs_wait_seconds": 1,
        "sqs_visibility_timeout": 5,
        "sqs_max_receive_count": 3,
        "payment_timeout": 3.0,
        "outbox_relay_grace_seconds": 0.0,
        "public_base_url": "http://testserver",
        # Tests add warehouses as they go; workers must see them at once.
        "warehouse_cache_seconds": 0.0,
        "backorder_retry_interval": 1.0,
        "low_stock_sweep_interval": 1.0,
        # Every test client, and every load a test starts, comes from one address; the rate
        # limits' own tests switch them on (tests/integration/test_rate_limits.py).
        "rate_limits_enabled": False,
    }
    values.update(overrides)
    return base.model_copy(update=values)
