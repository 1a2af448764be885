"""The benchmark's side of the no-op chains: start them, then read when each one ended."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import redis
from celery import Celery

from bench.noop_chain import TASK, done_key, queue_name

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class ChainRun:
    """How long a batch of chains took from the first start to the last end, and each one."""

    seconds: float
    latencies: list[float]


class Chains:
    """Starts chains of `length` no-op tasks on the broker at `redis_url`."""

    def __init__(self, redis_url: str, prefix: str, length: int) -> None:
        """Chains on the queues and done list of the queue prefix `prefix`."""
        self._sender = Celery("noop_sender", broker=redis_url, set_as_current=False)
        self._redis = redis.Redis.from_url(redis_url)
        self._queue, self._done = queue_name(prefix), done_key(prefix)
        self.length = length

    def close(self) -> None:
        """Let go of the broker connections."""
        self._sender.close()
        self._redis.close()

    def burst(self, count: int, timeout: float) -> ChainRun:
        """Start `count` chains at once; wait for all of them."""
        self._redis.delete(self._done)
        started = time.time()
        for _ in range(count):
            self._start()
        return self._wait(count, started, timeout)

    def paced(self, count: int, rate: float, timeout: float) -> ChainRun:
        """Start `count` chains `1 / rate` seconds apart; wait for all of them."""
        self._redis.delete(self._done)
        started, clock = time.time(), time.monotonic()
        for index in range(count):
            delay = clock + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._start()
        return self._wait(count, started, timeout)

    def _start(self) -> None:
        args = [uuid.uuid4().hex, self.length, time.time()]
        self._sender.send_task(TASK, args=args, queue=self._queue)

    def _wait(self, count: int, started: float, timeout: float) -> ChainRun:
        deadline = time.monotonic() + timeout
        while int(self._redis.llen(self._done)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no-op chains: not all {count} done in {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        done = [json.loads(item) for item in self._redis.lrange(self._done, 0, -1)]
        ended = max(end for _, _, end in done)
        return ChainRun(ended - started, [end - began for _, began, end in done])
