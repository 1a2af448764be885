"""The embedded SQS endpoint's cheaper clock and retention check keep moto's answers."""

from __future__ import annotations

import time
import uuid

from moto.sqs.models import SQSBackend

from devstack.sqs_server import patch


def backend_with_queue(retention_seconds: int = 345_600) -> tuple[SQSBackend, str]:
    patch()
    backend = SQSBackend("us-east-1", "123456789012")
    name = f"q-{uuid.uuid4().hex[:8]}"
    backend.create_queue(name, MessageRetentionPeriod=str(retention_seconds))
    return backend, name


def bodies(backend: SQSBackend, name: str, visibility_timeout: int = 30) -> list[str]:
    received = backend.receive_message(name, 10, 0, visibility_timeout)
    return sorted(message.body for message in received)


def test_a_message_past_the_retention_period_is_not_handed_out() -> None:
    backend, name = backend_with_queue(retention_seconds=60)
    old = backend.send_message(name, "old")
    backend.send_message(name, "new")
    old.sent_timestamp = int((time.time() - 61) * 1000)  # type: ignore[assignment]

    # moto stops a receive at the first expired message, so the kept one comes next time.
    handed_out = bodies(backend, name) + bodies(backend, name)

    assert handed_out == ["new"]


def test_a_received_message_is_hidden_until_its_visibility_timeout_ends() -> None:
    backend, name = backend_with_queue()
    sent = backend.send_message(name, "once")

    first, second = bodies(backend, name), bodies(backend, name)
    sent.visible_at = time.time() * 1000 - 1
    third = bodies(backend, name)

    assert (first, second, third) == (["once"], [], ["once"])


def test_a_delayed_message_waits_for_its_delay() -> None:
    backend, name = backend_with_queue()
    backend.send_message(name, "later", delay_seconds=60)
    backend.send_message(name, "now")

    assert bodies(backend, name) == ["now"]
