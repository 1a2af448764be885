"""The Redis broker transport, amended so that a broker restart never takes a worker down."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import kombu.transport
from kombu.transport import TRANSPORT_ALIASES, get_transport_cls
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

REDIS_SCHEMES = ("redis", "rediss")


class Channel(kombu_redis.Channel):
    """A Redis channel that can still reach the broker after its connection was torn down."""

    # Why: with kombu 5.7.0 (the newest release when this was written) a Redis restart can
    # make a worker of any pool exit with "AttributeError: 'NoneType' object has no attribute
    # 'hostname'". On a lost connection Celery calls Connection.collect(), then close().
    # Channel.close() first reads a pending BRPOP reply (since kombu 5.3.2, celery/kombu#1733),
    # which raises the connection error before the channel counts as closed; collect()
    # swallows that, stops closing the other channels at the first that raises too, and drops
    # the transport's client (kombu/connection.py: `self._transport.client = None`). close()
    # then closes the channel for real, which restores its unacked messages through a new
    # connection pool, and building one reads the dropped client (kombu/transport/redis.py,
    # Channel._connparams: `conninfo.hostname`). An AttributeError is no connection error to
    # Celery, so the worker shuts down. Acking a task that finishes after that takes the
    # same path.
    #
    # With the parameters this channel connected with remembered, that restore or ack is a
    # Redis command again: it works when Redis is back (or never went away, as when only the
    # connection dropped), and raises a Redis connection error, which Celery recovers from,
    # while Redis is down. Remove this module and its use in workers/app.py once
    # tests/integration/test_broker_transport.py says kombu no longer needs it.

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Open the channel; connecting reads the parameters this channel then keeps."""
        self._connected_with: dict[bool, dict[str, Any]] = {}
        super().__init__(*args, **kwargs)

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        """How to connect: asked of the transport while it knows, remembered after that."""
        transport = self.connection
        if transport is not None and transport.client is not None:
            # The stubs leave out this private method, which is the one being amended.
            params: dict[str, Any] = super()._connparams(asynchronous)  # type: ignore[misc]
            self._connected_with[asynchronous] = params
            return dict(params)
        remembered = self._connected_with.get(asynchronous)
        if remembered is None:
            raise RedisConnectionError("the broker connection was closed before it was used")
        return dict(remembered)

    # Why: kombu builds a new redis-py client for every message it publishes or acks outside
    # the event loop (Channel.conn_or_acquire), and redis-py 5+ builds its response-callback
    # table in each client's constructor: about a tenth of a charge's CPU in the payments
    # worker. A client is only a view of a connection pool and safe to share between
    # threads, so each channel keeps one per pool and builds a new one only with a new pool
    # (the pool is replaced after the connection is lost).
    _sync_client: Any = None

    @contextlib.contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        """The client given, else this channel's client of its current pool."""
        if client:
            yield client
            return
        kept = self._sync_client
        if kept is None or kept.connection_pool is not self.pool:
            # The stubs leave out this private method too.
            kept = self._sync_client = self._create_client()  # type: ignore[attr-defined]
        yield kept


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above."""

    Channel = Channel


def serve_redis_urls() -> None:
    """Make redis:// and rediss:// broker URLs use the transport above in this process."""
    # By the URL's own scheme rather than `broker_transport`: the URL then still reads
    # redis://, which Flower's broker page and the logs rely on.
    for scheme in REDIS_SCHEMES:
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
        # kombu caches a scheme's class once resolved (by a test, or a tool that imported
        # kombu first): forget it, so the next connection resolves the alias afresh.
        vars(kombu.transport)["_transport_cache"].pop(scheme, None)
        # The stubs call the class a str.
        chosen: object = get_transport_cls(scheme)
        if chosen is not Transport:
            raise RuntimeError(f"kombu chose its {scheme}:// transport before this was called")
