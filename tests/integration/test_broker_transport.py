"""The broker transport puts unacknowledged tasks back even when closed after a lost connection.

When Celery loses the broker it collects the connection, which drops the transport's client,
and then closes what is left; a channel whose first close the lost connection cut short is
closed only then. These tests take that last step directly, on a real Redis.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import cast

import pytest
import redis
from kombu import Connection, Producer, Queue
from kombu.transport import redis as kombu_redis

from devstack.services import start_redis
from tests.infra import running
from workers import broker


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    """A Redis of the module's own."""
    with running(start_redis()) as service:
        yield service.url


def close_after_collect(url: str, transport: type[kombu_redis.Transport], queue: str) -> None:
    """Take a task without acking it, lose the transport's client, then close the channel."""
    with Connection(url, transport=transport) as connection:
        channel = cast(kombu_redis.Channel, connection.channel())
        Producer(channel).publish({"order": "o-1"}, routing_key=queue, declare=[Queue(queue)])
        assert channel.basic_get(queue, no_ack=False) is not None
        # What Connection.collect() leaves behind: kombu/connection.py, _do_close_transport.
        connection.transport.client = None
        channel.close()


def waiting(url: str, queue: str) -> int:
    """How many tasks wait on `queue`."""
    with contextlib.closing(redis.Redis.from_url(url)) as client:
        return int(client.llen(queue))


def test_a_channel_closed_after_its_connection_was_collected_puts_its_task_back(
    broker_url: str,
) -> None:
    queue = f"q-{uuid.uuid4().hex[:8]}"

    close_after_collect(broker_url, broker.Transport, queue)

    assert waiting(broker_url, queue) == 1


def test_kombu_alone_still_fails_there_so_the_amended_transport_is_still_needed(
    broker_url: str,
) -> None:
    # When this stops raising, kombu restores by itself: remove workers/broker.py.
    with pytest.raises(AttributeError, match="hostname"):
        close_after_collect(broker_url, kombu_redis.Transport, f"q-{uuid.uuid4().hex[:8]}")


def clients_made_publishing(url: str, transport: type[kombu_redis.Transport], count: int) -> int:
    """How many redis-py clients publishing `count` messages on one channel constructs."""
    made = 0
    original = redis.Redis.__init__

    def counting(self: redis.Redis, *args: object, **kwargs: object) -> None:
        nonlocal made
        made += 1
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    queue = f"q-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as patch, Connection(url, transport=transport) as connection:
        channel = connection.channel()
        producer = Producer(channel)
        producer.publish({"n": 0}, routing_key=queue, declare=[Queue(queue)])
        patch.setattr(redis.Redis, "__init__", counting)
        for n in range(count):
            producer.publish({"n": n}, routing_key=queue)
    assert waiting(url, queue) == count + 1
    return made


def test_a_channel_publishes_through_one_client_not_one_per_message(broker_url: str) -> None:
    assert clients_made_publishing(broker_url, broker.Transport, 20) == 0
    # kombu alone builds one per message: the reason the channel keeps its own.
    assert clients_made_publishing(broker_url, kombu_redis.Transport, 20) >= 20
